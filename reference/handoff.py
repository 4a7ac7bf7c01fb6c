"""Handing a chat to a colleague (who accepts or declines in time) or to another queue: who may
take it, and the offers. The change of hands itself is reference.lifecycle's (do_hand_over,
do_send_to_queue).

The note travels with the chat for librarians only. The patron sees a system message when the
chat changes hands, and the conversation, its numbering and everything said stay as they were.
Every transfer is a row in the transcript's history.
"""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from reference import frames, groups, lifecycle, selectors, tenancy
from reference.errors import ServiceError
from reference.events import outbox_or_direct
from reference.models import Conversation, LibrarianProfile, Queue, Transfer
from reference.presence_store import get_store

NOTE_MAX_LENGTH = 2000


def do_offer_transfer(*, user, conversation_id, to_user_id, note="", outbox=None):
    """Offer a held chat to an available colleague with room for it."""
    note = check_note(note)
    conversation = check_held(user, conversation_id)
    target = _colleague(to_user_id)
    check_may_hold(target.user, conversation)
    if target.user_id == user.pk:
        raise ServiceError("transfer_to_self")
    check_can_take(target)
    outbox = outbox_or_direct(outbox)
    with transaction.atomic():
        Conversation.objects.select_for_update(of=("self",)).get(pk=conversation.pk)
        if Transfer.objects.filter(conversation=conversation, status=Transfer.Status.OFFERED).exists():
            raise ServiceError("transfer_pending")
        transfer = Transfer.objects.create(
            conversation=conversation, from_user=user, to_user=target.user, note=note,
            status=Transfer.Status.OFFERED,
            expires_at=timezone.now() + timedelta(seconds=settings.TRANSFER_TIMEOUT),
        )
        _tell_both(transfer, outbox, conversation)
    return transfer


def do_accept_transfer(*, user, transfer_id, outbox=None):
    """The colleague takes the chat: from now on it is theirs, with its whole history and the note."""
    outbox = outbox_or_direct(outbox)
    with transaction.atomic():
        transfer = _open_offer_for(user, transfer_id)
        _record(transfer, Transfer.Status.ACCEPTED)  # before the change, so the history it sends says so
        conversation = lifecycle.do_hand_over(transfer=transfer, user=user, outbox=outbox)
        if conversation is None:  # the chat moved on since it was offered
            _record(transfer, Transfer.Status.EXPIRED)
        _tell_both(transfer, outbox)
    if conversation is None:
        raise ServiceError("offer_expired")
    return conversation


def do_decline_transfer(*, user, transfer_id, outbox=None):
    with transaction.atomic():
        transfer = _open_offer_for(user, transfer_id)
        _answer(transfer, Transfer.Status.DECLINED, outbox_or_direct(outbox))
    return transfer


def do_expire_transfers(now=None, outbox=None):
    """Offers nobody answered in time go back to the sender (who never stopped holding the chat)."""
    now = now or timezone.now()
    outbox = outbox_or_direct(outbox)
    for transfer_id in Transfer.objects.filter(status=Transfer.Status.OFFERED, expires_at__lt=now).values_list(
            "pk", flat=True):
        with transaction.atomic():
            transfer = Transfer.objects.select_for_update().filter(
                pk=transfer_id, status=Transfer.Status.OFFERED).first()
            if transfer:
                _answer(transfer, Transfer.Status.EXPIRED, outbox)


def do_transfer_to_queue(*, user, conversation_id, queue_id, note="", outbox=None):
    """Send a held chat to another queue: it waits there (by its age) for a member to claim it. An
    offer of it to a colleague still waiting for an answer expires, and both are told."""
    note = check_note(note)
    conversation = check_held(user, conversation_id)
    # Within the chat's own library: a covering librarian sends it back home this way.
    queue = Queue.objects.filter(pk=queue_id, is_active=True, library_id=conversation.queue.library_id).first()
    if queue is None:
        raise ServiceError("unknown_queue")
    outbox = outbox_or_direct(outbox)
    with transaction.atomic():
        _expire_open_offers(conversation_id, outbox)
        return lifecycle.do_send_to_queue(user=user, conversation_id=conversation_id, queue=queue, note=note,
                                          outbox=outbox)


def do_return_offline(*, user, conversation_id, note="", outbox=None):
    """A covering librarian (reference.cover) leaves a chat they hold for its home library to answer
    by email, with a note for the librarians there. The patron must have given an email address."""
    note = check_note(note)
    conversation = check_held(user, conversation_id)
    if conversation.cover_agreement_id is None:
        raise ServiceError("not_covered")
    if not conversation.patron.email:
        raise ServiceError("patron_email_missing")
    outbox = outbox_or_direct(outbox)
    with transaction.atomic():
        _expire_open_offers(conversation_id, outbox)
        return lifecycle.do_leave_for_email(user=user, conversation_id=conversation_id, note=note, outbox=outbox)


def _expire_open_offers(conversation_id, outbox):
    """Under the conversation's row lock: an offer of it to a colleague that still waits for an
    answer expires, and both are told (the chat is leaving its holder another way)."""
    Conversation.objects.select_for_update(of=("self",)).get(pk=conversation_id)
    for transfer in Transfer.objects.filter(conversation_id=conversation_id, status=Transfer.Status.OFFERED):
        _answer(transfer, Transfer.Status.EXPIRED, outbox)


# ---- rules

def check_note(note):
    note = (note or "").strip()
    if len(note) > NOTE_MAX_LENGTH:
        raise ServiceError("note_too_long", limit=NOTE_MAX_LENGTH)
    return note


def check_may_hold(user, conversation):
    """A chat goes only to a librarian of its library or, while covered, of the covering library;
    anyone else is "no such librarian" (another library's staff are not shown)."""
    libraries = {conversation.queue.library_id}
    if conversation.cover_agreement_id is not None:
        libraries.add(conversation.cover_agreement.covering_id)
    if not libraries & tenancy.library_ids(user):
        raise ServiceError("unknown_librarian")


def check_held(user, conversation_id):
    conversation = (Conversation.objects.select_related("patron", "queue", "cover_agreement")
                    .filter(pk=conversation_id).first())
    if conversation is None:
        raise ServiceError("not_found")
    if conversation.status != Conversation.Status.ACTIVE or conversation.librarian_id != user.pk:
        raise ServiceError("not_assigned")
    return conversation


def check_can_take(profile):
    """A colleague may be offered a chat when available, connected and not full."""
    connected = get_store().connected([profile.user_id])
    if profile.status != LibrarianProfile.Status.AVAILABLE or not connected:
        raise ServiceError("librarian_unavailable", name=profile.display_name)
    if selectors.held_count(profile.user_id) >= profile.max_chats:
        raise ServiceError("librarian_full", name=profile.display_name)


def _colleague(user_id):
    profile = LibrarianProfile.objects.select_related("user").filter(
        user_id=user_id, user__is_active=True, user__is_staff=True).first()
    if profile is None:
        raise ServiceError("unknown_librarian")
    return profile


def _open_offer_for(user, transfer_id):
    transfer = Transfer.objects.select_for_update(of=("self",)).select_related(
        "conversation__patron", "from_user__librarian_profile", "to_user__librarian_profile").filter(
        pk=transfer_id, to_user=user).first()
    if transfer is None:
        raise ServiceError("not_found")
    if transfer.status != Transfer.Status.OFFERED or transfer.expires_at < timezone.now():
        raise ServiceError("offer_expired")
    return transfer


def _answer(transfer, status, outbox):
    """Record the answer and tell both librarians' dashboards."""
    _record(transfer, status)
    _tell_both(transfer, outbox)


def _record(transfer, status):
    transfer.status = status
    transfer.answered_at = timezone.now()
    transfer.save(update_fields=["status", "answered_at"])


def _tell_both(transfer, outbox, conversation=None):
    frame = frames.transfer(transfer, conversation)
    outbox.publish(groups.librarian(transfer.to_user_id), frame)
    outbox.publish(groups.librarian(transfer.from_user_id), frame)
