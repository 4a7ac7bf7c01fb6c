"""Automatic routing (offers to the least busy, longest idle available member) and fallback."""

from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from reference import presence, routing, sweeps
from reference.errors import ServiceError
from reference.lifecycle import do_claim
from reference.models import AssignmentOffer, Conversation, LibrarianProfile, Patron, Queue
from reference.presence_store import get_store
from tests.threads import at_once
from tests.wsclient import librarian_socket, patron_socket


@pytest.fixture
def auto_queue(queue):
    Queue.objects.filter(pk=queue.pk).update(routing=Queue.Routing.AUTO, offer_timeout=30)
    queue.refresh_from_db()
    return queue


@pytest.fixture
def member(make_librarian):
    def make(username, *, connected=True, status="available", max_chats=3):
        user = make_librarian(username, username.title(), max_chats=max_chats)
        LibrarianProfile.objects.filter(user=user).update(status=status)
        if connected:
            get_store().beat(user.pk, f"tab-{user.pk}", 60)
        return user
    return make


def ask(site, queue, subject="?"):
    return Conversation.objects.create(patron=Patron.objects.create(site=site), site=site, queue=queue,
                                       subject=subject)


def give(user, site, queue, assigned_minutes_ago=1):
    conversation = ask(site, queue)
    Conversation.objects.filter(pk=conversation.pk).update(
        status="active", librarian=user, assigned_at=timezone.now() - timedelta(minutes=assigned_minutes_ago))
    return conversation


def offered_to(conversation):
    offer = conversation.offers.filter(status="offered").first()
    return offer.user.username if offer else None


def test_the_least_busy_available_member_gets_the_offer(site, auto_queue, member):
    siti, budi = member("siti"), member("budi")
    give(siti, site, auto_queue)
    chat = ask(site, auto_queue)
    routing.do_assign(auto_queue.pk)
    assert offered_to(chat) == "budi"
    assert budi  # (Budi holds nothing)


def test_on_equal_load_the_longest_idle_member_comes_first(site, auto_queue, member):
    siti, budi, dewi = member("siti"), member("budi"), member("dewi")
    give(siti, site, auto_queue, assigned_minutes_ago=5)
    give(budi, site, auto_queue, assigned_minutes_ago=50)
    give(dewi, site, auto_queue, assigned_minutes_ago=20)
    chat = ask(site, auto_queue)
    routing.do_assign(auto_queue.pk)
    assert offered_to(chat) == "budi"


@pytest.mark.parametrize("who", ["away", "offline", "not connected", "full", "not a member"])
def test_nobody_who_cannot_take_it_is_offered_a_chat(site, auto_queue, other_queue, member, who):
    if who == "away":
        member("siti", status="away")
    elif who == "offline":
        member("siti", status="offline")
    elif who == "not connected":
        member("siti", connected=False)
    elif who == "full":
        give(member("siti", max_chats=1), site, auto_queue)
    else:
        LibrarianProfile.objects.get(user=member("siti")).queues.set([other_queue])
    chat = ask(site, auto_queue)
    assert routing.do_assign(auto_queue.pk) == []
    assert offered_to(chat) is None


def test_a_declined_or_expired_offer_goes_to_the_next_member(site, auto_queue, member):
    siti, budi = member("siti"), member("budi")
    give(budi, site, auto_queue)  # Siti first (less busy), then Budi
    chat = ask(site, auto_queue)
    routing.do_assign(auto_queue.pk)
    assert offered_to(chat) == "siti"
    routing.do_decline_assignment(user=siti, offer_id=chat.offers.get().pk)
    routing.do_assign(auto_queue.pk)
    assert offered_to(chat) == "budi"
    routing.do_expire_assignments(now=timezone.now() + timedelta(minutes=1))
    routing.do_assign(auto_queue.pk)
    assert offered_to(chat) is None  # both had their turn: it waits for a claim or a new member
    assert list(chat.offers.values_list("status", flat=True)) == ["declined", "expired"]


def test_offers_count_toward_capacity_and_older_chats_go_first(site, auto_queue, member):
    member("siti", max_chats=1)
    first, second = ask(site, auto_queue), ask(site, auto_queue)
    routing.do_assign(auto_queue.pk)
    assert (offered_to(first), offered_to(second)) == ("siti", None)


def test_accepting_is_claiming_and_someone_elses_claim_ends_the_offer(site, auto_queue, member):
    siti, budi = member("siti"), member("budi")
    give(budi, site, auto_queue)
    mine, theirs = ask(site, auto_queue), ask(site, auto_queue)
    routing.do_assign(auto_queue.pk)
    do_claim(user=siti, conversation_id=mine.pk)
    assert mine.offers.get().status == "accepted"
    offered = theirs.offers.get(status="offered")
    other = budi if offered.user_id == siti.pk else siti
    do_claim(user=other, conversation_id=theirs.pk)
    offered.refresh_from_db()
    assert offered.status == "expired"


def test_bad_declines_are_refused(site, auto_queue, member):
    siti, budi = member("siti"), member("budi")
    chat = ask(site, auto_queue)
    routing.do_assign(auto_queue.pk)
    offer = chat.offers.get()
    not_hers = budi if offer.user_id == siti.pk else siti
    for user, offer_id, code in ((not_hers, offer.pk, "not_found"), (siti, 999999, "not_found")):
        with pytest.raises(ServiceError) as error:
            routing.do_decline_assignment(user=user, offer_id=offer_id)
        assert error.value.code == code
    owner = siti if offer.user_id == siti.pk else budi
    routing.do_decline_assignment(user=owner, offer_id=offer.pk)
    with pytest.raises(ServiceError) as error:
        routing.do_decline_assignment(user=owner, offer_id=offer.pk)
    assert error.value.code == "offer_expired"


def test_manual_queues_are_left_to_their_members(site, queue, member):
    member("siti")
    chat = ask(site, queue)
    assert routing.do_assign(queue.pk) == [] and offered_to(chat) is None


def test_assignment_runs_again_when_a_librarian_becomes_available(
        site, auto_queue, member, django_capture_on_commit_callbacks):
    siti = member("siti", status="away")
    chat = ask(site, auto_queue)
    routing.do_assign(auto_queue.pk)
    assert offered_to(chat) is None
    with django_capture_on_commit_callbacks(execute=True):
        presence.do_set_status(user=siti, status="available")
    assert offered_to(chat) == "siti"


def test_assignment_runs_again_when_a_librarian_raises_their_capacity(
        site, auto_queue, member, django_capture_on_commit_callbacks):
    siti = member("siti", max_chats=1)
    give(siti, site, auto_queue)
    chat = ask(site, auto_queue)
    routing.do_assign(auto_queue.pk)
    assert offered_to(chat) is None
    with django_capture_on_commit_callbacks(execute=True):
        presence.do_set_capacity(user=siti, max_chats=2)
    assert offered_to(chat) == "siti"


def test_lowering_capacity_keeps_the_chats_held(site, auto_queue, member):
    siti = member("siti", max_chats=3)
    held = [give(siti, site, auto_queue) for _ in range(2)]
    presence.do_set_capacity(user=siti, max_chats=1)
    assert LibrarianProfile.objects.get(user=siti).max_chats == 1
    assert Conversation.objects.filter(pk__in=[c.pk for c in held], librarian=siti, status="active").count() == 2


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("max_chats", [0, -1, 9, "2", True, None])
async def test_a_capacity_out_of_range_is_refused_and_changes_nothing(librarian, max_chats, settings):
    settings.MAX_CHATS_CHOICE = 8
    desk = await librarian_socket(librarian)
    await desk.send({"type": "capacity", "max_chats": max_chats})
    error = await desk.receive_type("error")
    assert error["code"] in {"invalid_capacity", "invalid_frame"} and error["message"]
    assert await database_sync_to_async(lambda: LibrarianProfile.objects.get(user=librarian).max_chats)() == 3
    await desk.close()


@pytest.mark.django_db(transaction=True)
async def test_a_new_capacity_reaches_every_dashboard(librarian, make_librarian):
    budi = await database_sync_to_async(make_librarian)("budi", "Budi")
    desk, colleague = await librarian_socket(librarian), await librarian_socket(budi)
    await desk.send({"type": "capacity", "max_chats": 5})
    for socket in (desk, colleague):
        # Earlier frames about Siti (her coming online, announced once her socket has beaten) may
        # come first, in order; the new capacity must follow them (receive times out otherwise).
        while (frame := await socket.receive_type("presence"))["librarian"]["id"] != librarian.pk or (
                frame["librarian"]["capacity"] != 5):
            assert frame["librarian"]["capacity"] == 3
    await desk.close()
    await colleague.close()


def test_a_chat_nobody_picks_up_rolls_over_to_the_fallback_queue(site, auto_queue, other_queue):
    Queue.objects.filter(pk=auto_queue.pk).update(fallback_queue=other_queue, fallback_after=120)
    late, fresh = ask(site, auto_queue), ask(site, auto_queue)
    Conversation.objects.filter(pk=late.pk).update(queued_at=timezone.now() - timedelta(minutes=5))
    assert sweeps.roll_over() == [late.pk]
    late.refresh_from_db()
    assert late.queue_id == other_queue.pk and late.queued_at > timezone.now() - timedelta(minutes=1)
    assert "Anak-anak" in late.messages.get().text
    assert Conversation.objects.get(pk=fresh.pk).queue_id == auto_queue.pk


@pytest.mark.django_db(transaction=True)
def test_concurrent_assignment_never_offers_twice_or_over_capacity(site, auto_queue, member):
    for name in ("siti", "budi"):
        member(name, max_chats=2)
    chats = [ask(site, auto_queue) for _ in range(6)]
    at_once(*[lambda: routing.do_assign(auto_queue.pk)] * 4)
    open_offers = AssignmentOffer.objects.filter(status="offered")
    assert open_offers.count() == 4  # two each: capacity 2, nothing held
    assert len({o.conversation_id for o in open_offers}) == 4
    assert {o.conversation_id for o in open_offers} == {c.pk for c in chats[:4]}  # oldest first


@pytest.mark.django_db(transaction=True)
async def test_the_dashboard_is_offered_a_chat_and_accepts_by_claiming(auto_queue, librarian, identity, token_for):
    desk = await librarian_socket(librarian)  # hello beats: Siti is connected and available
    patron = await patron_socket(token_for(identity))
    await patron.send({"type": "start", "client_id": "p-1", "text": "Jam buka?"})
    conversation_id = (await patron.receive_type("ack"))["conversation"]
    offer = (await desk.receive_type("assignment"))["offer"]
    assert (offer["status"], offer["conversation"]["id"]) == ("offered", conversation_id)
    await desk.send({"type": "claim", "conversation": conversation_id})
    accepted = (await desk.receive_type("assignment"))["offer"]
    assert (accepted["id"], accepted["status"]) == (offer["id"], "accepted")
    await desk.send({"type": "assignment.decline", "offer": offer["id"]})
    assert (await desk.receive_type("error"))["code"] == "offer_expired"
    await patron.close()
    await desk.close()
