"""Handing a chat to a colleague (who accepts or declines in time) or to another queue.

The note travels with the chat for librarians only. The patron sees a system message when the
chat changes hands, and the conversation, its numbering and everything said stay as they were.
Every transfer is a row in the transcript's history.
"""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import prefetch_related_objects
from django.utils import timezone
from django.utils.translation import gettext as _

from reference import events, presence, routing, selectors, waiting
from reference.errors import ServiceError
from reference.messaging import notice_language, store_notice
from reference.models import Conversation, LibrarianProfile, Queue, Transfer
from reference.payloads import conversation_frame, librarian_name
from reference.presence_store import get_store

NOTE_MAX_LENGTH = 2000


def offer_to_colleague(*, user, conversation_id, to_user_id, note=""):
    """Offer a held chat to an available colleague with room for it."""
    note = _clean_note(note)
    conversation = _held(user, conversation_id)
    target = _colleague(to_user_id)
    if target.user_id == user.pk:
        raise ServiceError("transfer_to_self")
    _check_can_take(target)
    with transaction.atomic():
        Conversation.objects.select_for_update(of=("self",)).get(pk=conversation.pk)
        if Transfer.objects.filter(conversation=conversation, status=Transfer.Status.OFFERED).exists():
            raise ServiceError("transfer_pending")
        transfer = Transfer.objects.create(
            conversation=conversation, from_user=user, to_user=target.user, note=note,
            status=Transfer.Status.OFFERED,
            expires_at=timezone.now() + timedelta(seconds=settings.TRANSFER_TIMEOUT),
        )
        frame = {"type": "transfer", "transfer": transfer_payload(transfer, conversation)}
        events.publish(events.librarian_group(target.user_id), frame)
        events.publish(events.librarian_group(user.pk), frame)
    return transfer


def accept(*, user, transfer_id):
    """The colleague takes the chat: from now on it is theirs, with its whole history and the note."""
    with transaction.atomic():
        transfer = _open_offer_for(user, transfer_id)
        conversation = Conversation.objects.select_for_update(of=("self",)).select_related(
            "patron", "queue").get(pk=transfer.conversation_id)
        if conversation.status != Conversation.Status.ACTIVE or conversation.librarian_id != transfer.from_user_id:
            _answer(transfer, Transfer.Status.EXPIRED)
            raise ServiceError("offer_expired")
        profile = LibrarianProfile.objects.select_for_update().get(user=user)
        held = Conversation.objects.filter(librarian=user, status=Conversation.Status.ACTIVE).count()
        if held >= profile.max_chats:
            raise ServiceError("at_capacity", limit=profile.max_chats)
        conversation.librarian = user
        conversation.assigned_at = timezone.now()
        conversation.save(update_fields=["librarian", "assigned_at"])
        _answer(transfer, Transfer.Status.ACCEPTED)
        with notice_language(conversation):
            store_notice(conversation, _("%(name)s has taken over the chat.") % {"name": profile.display_name})
        conversation = Conversation.objects.select_related("patron", "queue", "librarian__librarian_profile").get(
            pk=conversation.pk)
        events.publish(events.librarian_group(transfer.from_user_id), {
            "type": "conversation.released", "conversation": conversation.pk, "reason": "transferred",
            "to": profile.display_name})
        events.publish(events.librarian_group(user.pk), librarian_conversation_frame(conversation))
        events.publish(events.conversation_group(conversation.pk), conversation_frame(conversation))
        presence.announce(profile)
        presence.announce(LibrarianProfile.objects.get(user_id=transfer.from_user_id))
    return conversation


def decline(*, user, transfer_id):
    with transaction.atomic():
        transfer = _open_offer_for(user, transfer_id)
        _answer(transfer, Transfer.Status.DECLINED)
    return transfer


def expire_offers(now=None):
    """Offers nobody answered in time go back to the sender (who never stopped holding the chat)."""
    now = now or timezone.now()
    for transfer_id in Transfer.objects.filter(status=Transfer.Status.OFFERED, expires_at__lt=now).values_list(
            "pk", flat=True):
        with transaction.atomic():
            transfer = Transfer.objects.select_for_update().filter(
                pk=transfer_id, status=Transfer.Status.OFFERED).first()
            if transfer:
                _answer(transfer, Transfer.Status.EXPIRED)


def to_queue(*, user, conversation_id, queue_id, note=""):
    """Send a held chat to another queue: it waits there (by its age) for a member to claim it."""
    note = _clean_note(note)
    conversation = _held(user, conversation_id)
    queue = Queue.objects.filter(pk=queue_id, is_active=True).first()
    if queue is None:
        raise ServiceError("unknown_queue")
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update(of=("self",)).select_related(
            "patron", "queue").get(pk=conversation.pk)
        if conversation.status != Conversation.Status.ACTIVE or conversation.librarian_id != user.pk:
            raise ServiceError("not_assigned")
        Transfer.objects.filter(conversation=conversation, status=Transfer.Status.OFFERED).update(
            status=Transfer.Status.EXPIRED, answered_at=timezone.now())
        Transfer.objects.create(conversation=conversation, from_user=user, to_queue=queue, note=note,
                                status=Transfer.Status.REQUEUED, answered_at=timezone.now())
        old_queue_id = conversation.queue_id
        conversation.status = Conversation.Status.QUEUED
        conversation.queue = queue
        conversation.queued_at = timezone.now()
        conversation.librarian = None
        conversation.assigned_at = None
        conversation.save(update_fields=["status", "queue", "queued_at", "librarian", "assigned_at"])
        with notice_language(conversation):
            store_notice(conversation, _("You are being passed on to %(queue)s; a librarian there will be with "
                                         "you shortly. Everything you wrote stays here.") % {"queue": queue.name})
        events.publish(events.librarian_group(user.pk), {
            "type": "conversation.released", "conversation": conversation.pk, "reason": "transferred",
            "to": queue.name})
        events.publish(events.conversation_group(conversation.pk), conversation_frame(conversation))
        events.publish_waiting(conversation, transfers=transfer_history(conversation))
        waiting.publish_positions(queue.pk)
        routing.assign_later([queue.pk])
        if old_queue_id != queue.pk:
            waiting.publish_positions(old_queue_id)
        presence.announce(LibrarianProfile.objects.get(user=user))
    return conversation


# ---- payloads

def transfer_payload(transfer, conversation=None):
    conversation = conversation or transfer.conversation
    return {
        "id": transfer.pk, "conversation": transfer.conversation_id, "status": transfer.status,
        "from_id": transfer.from_user_id, "to_id": transfer.to_user_id,
        "from": librarian_name(transfer.from_user),
        "to": librarian_name(transfer.to_user) if transfer.to_user_id else None,
        "to_queue": transfer.to_queue.name if transfer.to_queue_id else None,
        "note": transfer.note, "patron": conversation.patron.name, "question": conversation.subject,
        "created_at": transfer.created_at.isoformat(),
        "expires_at": transfer.expires_at.isoformat() if transfer.expires_at else None,
    }


def transfer_history(conversation):
    prefetch_related_objects([conversation], selectors.transfers_prefetch())  # no query when already fetched
    return [transfer_payload(t, conversation) for t in conversation.transfers.all()]


def librarian_conversation_frame(conversation):
    frame = conversation_frame(conversation, for_librarian=True, messages=conversation.messages.all())
    frame["conversation"]["transfers"] = transfer_history(conversation)
    return frame


# ---- rules

def _clean_note(note):
    note = (note or "").strip()
    if len(note) > NOTE_MAX_LENGTH:
        raise ServiceError("note_too_long", limit=NOTE_MAX_LENGTH)
    return note


def _held(user, conversation_id):
    conversation = Conversation.objects.select_related("patron").filter(pk=conversation_id).first()
    if conversation is None:
        raise ServiceError("not_found")
    if conversation.status != Conversation.Status.ACTIVE or conversation.librarian_id != user.pk:
        raise ServiceError("not_assigned")
    return conversation


def _colleague(user_id):
    profile = LibrarianProfile.objects.select_related("user").filter(
        user_id=user_id, user__is_active=True, user__is_staff=True).first()
    if profile is None:
        raise ServiceError("unknown_librarian")
    return profile


def _check_can_take(profile):
    connected = get_store().connected([profile.user_id])
    if profile.status != LibrarianProfile.Status.AVAILABLE or not connected:
        raise ServiceError("librarian_unavailable", name=profile.display_name)
    held = Conversation.objects.filter(librarian_id=profile.user_id, status=Conversation.Status.ACTIVE).count()
    if held >= profile.max_chats:
        raise ServiceError("librarian_full", name=profile.display_name)


def _open_offer_for(user, transfer_id):
    transfer = Transfer.objects.select_for_update(of=("self",)).select_related(
        "conversation__patron", "from_user__librarian_profile", "to_user__librarian_profile").filter(
        pk=transfer_id, to_user=user).first()
    if transfer is None:
        raise ServiceError("not_found")
    if transfer.status != Transfer.Status.OFFERED or transfer.expires_at < timezone.now():
        raise ServiceError("offer_expired")
    return transfer


def _answer(transfer, status):
    """Record the answer and tell both librarians' dashboards."""
    transfer.status = status
    transfer.answered_at = timezone.now()
    transfer.save(update_fields=["status", "answered_at"])
    frame = {"type": "transfer", "transfer": transfer_payload(transfer)}
    events.publish(events.librarian_group(transfer.from_user_id), frame)
    events.publish(events.librarian_group(transfer.to_user_id), frame)
