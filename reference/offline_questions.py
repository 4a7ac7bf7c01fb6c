"""When nobody is on duty: the desk says so, and a patron leaves a question answered by email.

The desk of a site is its default queue. It is *open* within the queue's opening hours when an
available librarian is connected in that queue or its fallback. Otherwise the widget offers to
leave a question: it is stored as a conversation like any other (so it is in the transcripts),
marked `is_offline` and closed at once; it waits in the dashboard's offline questions until a
librarian answers, and the answer goes to the patron by email, in their language.
"""

import time

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from reference import events, hours, mail
from reference.errors import ServiceError
from reference.messaging import append_message, notice_language
from reference.models import Conversation, LibrarianProfile, Role
from reference.payloads import conversation_frame, librarian_name
from reference.presence_store import get_store
from reference.validation import clean_text

_DESK_CACHE_SECONDS = 10  # idle patrons ask often; presence changes are felt within this time
_desk_cache = {}


def desk_state(queue):
    """{"open": bool, "reason": None | "closed" | "nobody", "hours": text} for a site's queue."""
    cached = _desk_cache.get(queue.pk)
    if cached and cached[0] > time.monotonic():
        return cached[1]
    if not hours.is_open(queue.opening_hours):
        state = {"open": False, "reason": "closed", "hours": queue.opening_hours}
    else:
        queue_ids = [queue.pk] + ([queue.fallback_queue_id] if queue.fallback_queue_id else [])
        members = list(LibrarianProfile.objects.filter(
            queues__in=queue_ids, status=LibrarianProfile.Status.AVAILABLE, user__is_active=True,
        ).values_list("user_id", flat=True).distinct())
        on_duty = bool(members) and bool(get_store().connected(members))
        state = {"open": on_duty, "reason": None if on_duty else "nobody", "hours": queue.opening_hours}
    _desk_cache[queue.pk] = (time.monotonic() + _DESK_CACHE_SECONDS, state)
    return state


def forget_desk_states():
    _desk_cache.clear()


def leave(conversation):
    """Called by queueing.start_conversation inside its transaction for an offline question."""
    now = timezone.now()
    conversation.is_offline = True
    conversation.status = Conversation.Status.CLOSED
    conversation.closed_at = now
    conversation.closed_by_role = Role.PATRON
    conversation.save(update_fields=["is_offline", "status", "closed_at", "closed_by_role"])
    with notice_language(conversation):
        text = _("Thank you. Nobody can answer live right now; a librarian will send the answer to %(email)s.") % {
            "email": conversation.patron.email}
    append_message(conversation, role=Role.SYSTEM, text=text)
    events.publish(events.patron_group(conversation.patron_id),
                   conversation_frame(conversation, messages=conversation.messages.order_by("seq")))
    events.publish(events.queue_group(conversation.queue_id),
                   {"type": "offline.added", "conversation": conversation.pk})


def waiting_questions():
    return (Conversation.objects.filter(is_offline=True, first_response_at__isnull=True)
            .select_related("patron", "queue", "site").prefetch_related("messages").order_by("created_at"))


def answer(*, user, conversation_id, text):
    """A librarian answers an offline question: kept in the transcript, sent by email."""
    text = clean_text(text)
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update(of=("self",)).select_related(
            "patron", "site").filter(pk=conversation_id).first()
        if conversation is None:
            raise ServiceError("not_found")
        if not conversation.is_offline:
            raise ServiceError("not_offline")
        if conversation.first_response_at is not None:
            raise ServiceError("already_answered")
        message = append_message(conversation, role=Role.LIBRARIAN, text=text, author=user,
                                 author_name=librarian_name(user))
        conversation.first_response_at = message.created_at
        conversation.librarian = user
        conversation.closed_by = user
        conversation.save(update_fields=["first_response_at", "librarian", "closed_by"])
        transaction.on_commit(lambda: send_answer(conversation, message))
    return message


def send_answer(conversation, message):
    question = conversation.messages.get(seq=1).text
    mail.send_to_patron(
        patron=conversation.patron, template="reference/email/offline_answer",
        subject=lambda: _("The answer to your question — %(library)s") % {"library": conversation.site.name},
        context={"site": conversation.site, "patron": conversation.patron, "question": question,
                 "answer": message.text, "librarian": message.author_name},
    )
