"""Who is on duty. Effective presence = the status a librarian chose AND a measured connection.

A librarian chooses available, away (on duty, not taking new chats) or offline. Whether they are
connected is measured: every dashboard socket beats (on hello and every heartbeat frame), and a
librarian counts as connected while any socket beat within PRESENCE_TIMEOUT. A closed laptop or a
crashed server process simply stops beating; the sweep then tells everyone, and after
REQUEUE_GRACE more seconds puts their chats back in the queue, so nobody has to act.
"""

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from reference import events, routing, waiting
from reference.errors import ServiceError
from reference.messaging import notice_language, store_notice
from reference.models import Conversation, LibrarianProfile
from reference.payloads import conversation_frame
from reference.presence_store import get_store, off_db_thread

STATUSES = ("available", "away", "offline")


def set_status(*, user, status):
    if status not in STATUSES:
        raise ServiceError("invalid_status")
    profile = LibrarianProfile.objects.get(user=user)
    if profile.status != status:
        profile.status = status
        profile.save(update_fields=["status"])
    announce(profile)
    if status == LibrarianProfile.Status.AVAILABLE:
        routing.assign_later(routing.member_queue_ids(user.pk))
    return profile


def set_capacity(*, user, max_chats):
    """The librarian chooses how many chats they hold at once. Lowering it below what they hold
    keeps their chats (they just get no new ones); raising it offers them waiting chats at once."""
    limit = settings.MAX_CHATS_CHOICE
    if isinstance(max_chats, bool) or not isinstance(max_chats, int) or not 1 <= max_chats <= limit:
        raise ServiceError("invalid_capacity", limit=limit)
    profile = LibrarianProfile.objects.get(user=user)
    raised = max_chats > profile.max_chats
    if max_chats != profile.max_chats:
        profile.max_chats = max_chats
        profile.save(update_fields=["max_chats"])
    announce(profile)
    if raised:
        routing.assign_later(routing.member_queue_ids(user.pk))
    return profile


async def socket_beat(*, user, socket_id):
    """A dashboard socket is alive. Tells colleagues when this makes the librarian connected.
    The beat itself stays off the database thread; only news of a change goes through it."""
    if await off_db_thread(get_store().beat)(user.pk, socket_id, settings.PRESENCE_TIMEOUT):
        await events.on_database_thread(came_online)(user=user, socket_id=socket_id)


def came_online(*, user, socket_id):
    # The beating socket knows (its welcome has the roster); everyone else is told.
    announce(LibrarianProfile.objects.get(user=user), origin=socket_id)
    routing.assign_later(routing.member_queue_ids(user.pk))


async def socket_gone(*, user, socket_id):
    """A dashboard socket closed cleanly; the librarian may still be here in another tab."""
    if not await off_db_thread(get_store().drop)(user.pk, socket_id):
        await events.on_database_thread(lambda: announce(LibrarianProfile.objects.get(user=user)))()


def sweep_lapsed(now):
    """Find librarians whose beats stopped: tell everyone once, then requeue their chats after the
    grace period (run by reference.sweeps)."""
    store = get_store()
    for user_id in map(int, store.lapsed(now)):
        if store.claim_announcement(user_id):
            profile = LibrarianProfile.objects.filter(user_id=user_id).first()
            if profile:
                announce(profile, now=now)
    for user_id in map(int, store.lapsed(now - settings.REQUEUE_GRACE)):
        if not store.connected([user_id], now=now):
            requeue_held(user_id, now=now)
            store.forget(user_id)


def requeue_held(user_id, now=None):
    """The librarian is gone: their active chats go back to their queue, the patron is told. They
    keep their place by age (the queue is oldest first), and nothing said so far is touched."""
    held = Conversation.objects.filter(librarian_id=user_id, status=Conversation.Status.ACTIVE)
    requeued = list(held.values_list("pk", flat=True))
    for conversation_id in requeued:
        with transaction.atomic():
            conversation = Conversation.objects.select_for_update(of=("self",)).select_related(
                "patron", "queue", "librarian__librarian_profile"
            ).get(pk=conversation_id)
            if conversation.status != Conversation.Status.ACTIVE or conversation.librarian_id != user_id:
                continue
            name = conversation.librarian.librarian_profile.display_name
            conversation.status = Conversation.Status.QUEUED
            conversation.librarian = None
            conversation.assigned_at = None
            conversation.queued_at = timezone.now()  # the fallback clock starts again; its place is by age
            conversation.save(update_fields=["status", "librarian", "assigned_at", "queued_at"])
            with notice_language(conversation):
                store_notice(conversation, _("%(name)s is no longer available. You are back in the queue, "
                                             "at the front; nothing you wrote is lost.") % {"name": name})
            events.publish(events.conversation_group(conversation.pk), conversation_frame(conversation))
            events.publish(events.librarian_group(user_id), {
                "type": "conversation.released", "conversation": conversation.pk, "reason": "offline"})
            events.publish_waiting(conversation)
    queue_ids = set(Conversation.objects.filter(pk__in=requeued).values_list("queue_id", flat=True))
    for queue_id in queue_ids:
        waiting.publish_positions(queue_id)
    routing.assign_later(queue_ids)
    profile = LibrarianProfile.objects.filter(user_id=user_id).first()
    if profile:
        announce(profile, now=now)


def presence_payload(profile, connected, held):
    effective = profile.status if connected else "offline"
    return {"id": profile.user_id, "name": profile.display_name, "status": profile.status,
            "connected": connected, "presence": effective, "held": held, "capacity": profile.max_chats}


def announce(profile, origin=None, now=None):
    """Tell every dashboard how this librarian stands now."""
    connected = bool(get_store().connected([profile.user_id], now=now))
    held = Conversation.objects.filter(librarian_id=profile.user_id, status=Conversation.Status.ACTIVE).count()
    events.publish(events.STAFF_GROUP, {"type": "presence",
                                        "librarian": presence_payload(profile, connected, held)}, origin=origin)


def roster():
    """Everyone with a librarian profile, with presence and load, for a dashboard's welcome."""
    from django.db.models import Count, Q

    profiles = list(LibrarianProfile.objects.filter(user__is_active=True, user__is_staff=True).annotate(
        held=Count("user__conversations", filter=Q(user__conversations__status=Conversation.Status.ACTIVE))
    ).order_by("display_name"))
    connected = get_store().connected([p.user_id for p in profiles])
    return [presence_payload(p, p.user_id in connected, p.held) for p in profiles]

