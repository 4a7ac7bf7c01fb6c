"""When nobody is on duty: the desk says so, and a patron leaves a question answered by email.

The desk of a site is its default queue. It is *open* within the queue's opening hours when an
available librarian is connected in that queue or its fallback. Otherwise the widget offers to
leave a question: it is stored as a conversation like any other (so it is in the transcripts),
marked `is_offline` and closed at once; it waits in the dashboard's offline questions until a
librarian answers (reference.lifecycle.do_answer_offline_question), and the answer goes to the
patron by email, in their language; the site's share of those e-mails invites the patron to
its survey (reference.surveys.offline_survey_url).
"""

import time
import zoneinfo

from django.db.models import Q
from django.utils.translation import gettext as _

from reference import hours, mail, surveys
from reference.models import Conversation, LibrarianProfile, Queue
from reference.presence_store import get_store

_DESK_CACHE_SECONDS = 10  # idle patrons ask often; presence changes are felt within this time
_desk_cache = {}


def desk_state(queue_id):
    """{"open": bool, "reason": None | "closed" | "nobody", "hours": text} for a site's queue."""
    cached = _desk_cache.get(queue_id)
    if cached and cached[0] > time.monotonic():
        return cached[1]
    queue = Queue.objects.select_related("library").get(pk=queue_id)
    if not hours.is_open(queue.opening_hours, tz=zoneinfo.ZoneInfo(queue.library.time_zone)):
        state = {"open": False, "reason": "closed", "hours": queue.opening_hours}
    else:
        queue_ids = [queue.pk] + ([queue.fallback_queue_id] if queue.fallback_queue_id else [])
        on_duty = _anyone_on_duty(LibrarianProfile.objects.filter(queues__in=queue_ids))
        state = {"open": on_duty, "reason": None if on_duty else "nobody", "hours": queue.opening_hours}
    if not state["open"] and _covered_now(queue):
        state = {"open": True, "reason": None, "hours": queue.opening_hours}
    _desk_cache[queue.pk] = (time.monotonic() + _DESK_CACHE_SECONDS, state)
    return state


def _anyone_on_duty(profiles):
    members = list(profiles.filter(status=LibrarianProfile.Status.AVAILABLE, user__is_active=True)
                   .values_list("user_id", flat=True).distinct())
    return bool(members) and bool(get_store().connected(members))


def _covered_now(queue):
    """A partner library covers the queue now (reference.cover) and one of its librarians is on
    duty: a new chat will be answered live. (An agreement for chats that wait counts too: the
    patron waits, then the partner sees it.)"""
    from reference import cover

    libraries = cover.covering_now(queue)
    return bool(libraries) and _anyone_on_duty(LibrarianProfile.objects.filter(
        Q(library_id__in=libraries) | Q(other_libraries__in=libraries)))


def forget_desk_states():
    _desk_cache.clear()


def waiting_questions(library):
    """The questions left offline at `library`'s sites that nobody has answered yet, oldest first."""
    return (Conversation.objects.filter(is_offline=True, first_response_at__isnull=True, anonymised_at=None,
                                        site__library=library)
            .select_related("patron", "queue", "site").prefetch_related("messages").order_by("created_at"))


def send_answer(conversation, message):
    question = conversation.messages.get(seq=1).text
    mail.send_to_patron(
        patron=conversation.patron, template="reference/email/offline_answer",
        subject=lambda: _("The answer to your question — %(library)s") % {"library": conversation.site.name},
        context={"site": conversation.site, "patron": conversation.patron, "question": question,
                 "answer": message.text, "librarian": message.author_name,
                 "survey_url": surveys.offline_survey_url(conversation)},
    )
