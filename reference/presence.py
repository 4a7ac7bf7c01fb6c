"""Who is on duty, and which patrons are still here.

A librarian's effective presence = the status they chose AND a measured connection. They choose
available, away (on duty, not taking new chats) or offline. Whether they are connected is measured:
the socket of every staff page (the dashboard, transcripts, the FAQ, the admin…) beats on hello and
every heartbeat frame, and a librarian counts as connected while any socket beat within
PRESENCE_TIMEOUT, and (scaled out) while the process holding that socket keeps its lease
(reference.leases). A closed laptop simply stops beating, a killed server process stops renewing
its lease; the sweep (reference.sweeps) then tells everyone, and after
REQUEUE_GRACE more seconds puts their chats back in the queue (lifecycle.do_requeue), so nobody has
to act. Patrons' widgets beat the same way into their own store: a waiting patron whose widgets are
all gone for ABANDON_GRACE has left (lifecycle.do_abandon).
"""

from datetime import UTC, datetime

from django.conf import settings
from django.db.models import Count, Q

from reference import dbthreads, duty, frames, groups, leases
from reference.errors import ServiceError
from reference.events import outbox_or_direct
from reference.models import Conversation, LibrarianProfile
from reference.presence_store import get_store, off_db_thread
from reference.routing import assign_later, member_queue_ids

STATUSES = ("available", "away", "offline")


def librarian_profile(user):
    """The profile of a staff user, made on first use so a new colleague can log straight in."""
    if not (user and user.is_authenticated and user.is_active and user.is_staff):
        raise ServiceError("not_authenticated")
    profile, _created = LibrarianProfile.objects.get_or_create(
        user=user, defaults={"display_name": user.get_short_name() or user.get_username()}
    )
    return profile


def do_set_status(*, user, status, outbox=None):
    if status not in STATUSES:
        raise ServiceError("invalid_status")
    profile = LibrarianProfile.objects.get(user=user)
    if profile.status != status:
        profile.status = status
        profile.save(update_fields=["status"])
    announce(profile, outbox=outbox)
    if status == LibrarianProfile.Status.AVAILABLE:
        assign_later(member_queue_ids(user.pk), outbox)
    return profile


def do_set_capacity(*, user, max_chats, outbox=None):
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
    announce(profile, outbox=outbox)
    if raised:
        assign_later(member_queue_ids(user.pk), outbox)
    return profile


async def socket_beat(*, user, socket_id):
    """A staff page's socket (the dashboard's or another's) is alive. Tells colleagues when this
    makes the librarian connected. The beat itself stays off the database thread; only news of a
    change goes through it."""
    store = get_store()
    await leases.hold(store)  # scaled out, the socket counts while this process's lease lives
    if await off_db_thread(store.beat)(user.pk, socket_id, settings.PRESENCE_TIMEOUT):
        await dbthreads.change(came_online)(user=user, socket_id=socket_id)


def came_online(*, user, socket_id, outbox=None):
    # The beating socket knows (its welcome has the roster); everyone else is told.
    announce(LibrarianProfile.objects.get(user=user), origin=socket_id, outbox=outbox)
    assign_later(member_queue_ids(user.pk), outbox)


async def socket_gone(*, user, socket_id):
    """A staff page's socket closed cleanly; the librarian may still be here in another tab."""
    if not await off_db_thread(get_store().drop)(user.pk, socket_id):
        await dbthreads.change(_announce_user)(user_id=user.pk)


def _announce_user(*, user_id, outbox=None):
    announce(LibrarianProfile.objects.get(user_id=user_id), outbox=outbox)


def lapsed_librarians(now, outbox=None):
    """Librarians whose beats stopped: everyone is told once. Returns the ids of those gone past
    the grace period, whose chats go back to the queue (reference.sweeps), and forgets them."""
    store = get_store()
    for user_id in map(int, store.lapsed(now)):
        if store.claim_announcement(user_id):
            profile = LibrarianProfile.objects.filter(user_id=user_id).first()
            if profile:
                announce(profile, now=now, outbox=outbox)
    gone = [user_id for user_id in map(int, store.lapsed(now - settings.REQUEUE_GRACE))
            if not store.connected([user_id], now=now)]
    return gone


def forget_librarian(user_id, now, outbox=None):
    """Their chats are back in the queue: announce them once more as they now stand, and forget them."""
    profile = LibrarianProfile.objects.filter(user_id=user_id).first()
    if profile:
        announce(profile, now=now, outbox=outbox)
    get_store().forget(user_id)


def announce(profile, *, origin=None, now=None, outbox=None):
    """Tell every dashboard how this librarian stands now."""
    connected = bool(get_store().connected([profile.user_id], now=now))
    # `now` is the stores' clock (seconds); a duty spell ends at that moment as a datetime.
    at = None if now is None else datetime.fromtimestamp(now, tz=UTC)
    duty.record_duty(profile, connected and profile.status != LibrarianProfile.Status.OFFLINE, at)
    held = Conversation.objects.filter(librarian_id=profile.user_id, status=Conversation.Status.ACTIVE).count()
    outbox = outbox_or_direct(outbox)
    frame = frames.presence(profile, connected, held)
    for library_id in profile_library_ids(profile):
        outbox.publish(groups.staff(library_id), frame, origin=origin)


def profile_library_ids(profile):
    return {profile.library_id, *profile.other_libraries.values_list("pk", flat=True)}


def roster(library_ids):
    """The librarians of these libraries, with presence and load, for a dashboard's welcome."""
    colleagues = LibrarianProfile.objects.filter(Q(library_id__in=library_ids) | Q(other_libraries__in=library_ids))
    profiles = list(LibrarianProfile.objects.filter(
        pk__in=colleagues.values("pk"), user__is_active=True, user__is_staff=True).annotate(
        held=Count("user__conversations", filter=Q(user__conversations__status=Conversation.Status.ACTIVE))
    ).order_by("display_name"))
    connected = get_store().connected([p.user_id for p in profiles])
    return [frames.presence_payload(p, p.user_id in connected, p.held) for p in profiles]


# ---- patrons' widgets

async def patron_beat(*, patron_id, socket_id):
    """This widget is alive: a waiting patron keeps their place."""
    await off_db_thread(get_store("patrons").beat)(patron_id.hex, socket_id, settings.PRESENCE_TIMEOUT)


async def patron_gone(*, patron_id, socket_id):
    await off_db_thread(get_store("patrons").drop)(patron_id.hex, socket_id)


def abandoned_chats(now):
    """Waiting chats whose patron left (no widget alive for ABANDON_GRACE); a patron who came back
    within the grace period has kept their place. Their patrons are forgotten."""
    store = get_store("patrons")
    abandoned = []
    for patron_id in store.lapsed(now - settings.ABANDON_GRACE):
        if store.connected([patron_id], now=now):
            continue
        waiting_chat = (Conversation.objects.filter(patron_id=patron_id, status=Conversation.Status.QUEUED)
                        .values_list("pk", flat=True).first())
        if waiting_chat is not None:
            abandoned.append(waiting_chat)
        store.forget(patron_id)
    return abandoned
