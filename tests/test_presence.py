"""Presence: chosen status AND measured connection, on this run's store (memory or Redis)."""

import time

import pytest
from channels.db import database_sync_to_async

from reference import presence, sweeps
from reference.errors import ServiceError
from reference.models import Conversation, LibrarianProfile
from reference.presence_store import get_store
from tests.wsclient import ask, librarian_socket, patron_socket


def test_a_librarian_is_connected_while_any_socket_beats(db):
    store, now = get_store(), time.time()
    assert store.beat(7, "tab-1", 60, now=now) is True  # newly connected
    assert store.beat(7, "tab-2", 60, now=now) is False
    assert store.drop(7, "tab-1", now=now) is True  # the tablet is still open
    assert store.connected([7, 8], now=now) == {7}
    assert store.drop(7, "tab-2", now=now) is False
    assert store.connected([7], now=now) == set()
    assert store.lapsed(now + 1) == ["7"]


def test_a_socket_that_stops_beating_lapses_without_anyone_acting(db):
    store, now = get_store(), time.time()
    store.beat(7, "laptop", 60, now=now)
    assert store.connected([7], now=now + 59) == {7}
    assert store.connected([7], now=now + 61) == set()
    assert store.lapsed(now + 30) == [] and store.lapsed(now + 61) == ["7"]
    assert store.claim_announcement(7) is True and store.claim_announcement(7) is False
    store.forget(7)
    assert store.lapsed(now + 1000) == []


def test_only_the_three_statuses_are_accepted(librarian):
    with pytest.raises(ServiceError) as error:
        presence.do_set_status(user=librarian, status="busy")
    assert error.value.code == "invalid_status"
    assert LibrarianProfile.objects.get(user=librarian).status == "available"
    presence.do_set_status(user=librarian, status="away")
    assert LibrarianProfile.objects.get(user=librarian).status == "away"


async def presence_of(socket, name):
    """The next presence frame about `name`; those about colleagues (Siti's own coming online may
    be announced late, once her socket has beaten) are skipped."""
    while (frame := await socket.receive_type("presence"))["librarian"]["name"] != name:
        pass
    return frame["librarian"]


@pytest.mark.django_db(transaction=True)
async def test_colleagues_see_status_connection_and_load_live(make_librarian, identity, token_for):
    siti = await database_sync_to_async(make_librarian)("siti", "Siti")
    budi = await database_sync_to_async(make_librarian)("budi", "Budi", max_chats=2)
    desk = await librarian_socket(siti)
    roster = {c["name"]: c for c in desk.welcome["colleagues"]}
    assert roster["Siti"]["presence"] == "available" and roster["Budi"]["presence"] == "offline"
    assert desk.welcome["librarian"]["status"] == "available"

    other = await librarian_socket(budi)
    seen = (await desk.receive_type("presence"))["librarian"]
    assert (seen["name"], seen["connected"], seen["presence"], seen["held"], seen["capacity"]) == (
        "Budi", True, "available", 0, 2)

    await other.send({"type": "status", "status": "away"})
    assert (await presence_of(desk, "Budi"))["presence"] == "away"
    assert (await presence_of(other, "Budi"))["status"] == "away"  # all his tabs

    patron = await patron_socket(token_for(identity))
    conversation_id = await ask(patron, "Jam buka?", "p-1")
    await other.send({"type": "claim", "conversation": conversation_id})
    load = (await desk.receive_type("presence"))["librarian"]
    assert (load["name"], load["held"]) == ("Budi", 1)

    await other.close()
    gone = (await desk.receive_type("presence"))["librarian"]
    assert (gone["name"], gone["connected"], gone["presence"], gone["status"]) == ("Budi", False, "offline", "away")
    for socket in (desk, patron):
        await socket.close()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("status", ["busy", "", 3, None])
async def test_a_bad_status_is_refused_and_changes_nothing(librarian, status):
    desk = await librarian_socket(librarian)
    await desk.send({"type": "status", "status": status})
    error = await desk.receive_type("error")
    assert error["code"] in ({"invalid_status"} if isinstance(status, str) else {"invalid_frame"})
    profile = await database_sync_to_async(LibrarianProfile.objects.get)(user=librarian)
    assert profile.status == "available"
    await desk.close()


@pytest.mark.django_db(transaction=True)
async def test_chats_of_a_librarian_who_vanished_go_back_to_the_queue(make_librarian, identity, token_for, settings):
    siti = await database_sync_to_async(make_librarian)("siti", "Siti")
    budi = await database_sync_to_async(make_librarian)("budi", "Budi")
    colleague = await librarian_socket(budi)
    patron = await patron_socket(token_for(identity))
    conversation_id = await ask(patron, "Jam buka?", "p-1")
    # Siti's laptop beat last a timeout ago, then went silent (no close: the lid shut).
    lid_shut = time.time() - settings.PRESENCE_TIMEOUT - 1
    await database_sync_to_async(get_store().beat)(siti.pk, "laptop", settings.PRESENCE_TIMEOUT, now=lid_shut)
    from reference.lifecycle import do_claim
    await database_sync_to_async(do_claim)(user=siti, conversation_id=conversation_id)
    await colleague.receive_type("queue.removed")
    assert (await colleague.receive_type("presence"))["librarian"]["held"] == 1

    now = time.time()
    await database_sync_to_async(sweeps.requeue_lapsed)(now)  # lapsed: told, not yet requeued
    gone = (await colleague.receive_type("presence"))["librarian"]
    assert (gone["name"], gone["presence"], gone["held"]) == ("Siti", "offline", 1)
    status = await database_sync_to_async(lambda: Conversation.objects.get(pk=conversation_id).status)()
    assert status == "active"

    await database_sync_to_async(sweeps.requeue_lapsed)(now + settings.REQUEUE_GRACE)
    back = (await colleague.receive_type("queue.added"))["conversation"]
    assert (back["id"], back["status"], back["librarian"]) == (conversation_id, "queued", None)
    notice = await patron.receive_message(role="system", seq=3)
    assert "Siti" in notice["text"]
    state = (await patron.receive_type("conversation"))["conversation"]
    assert state["status"] == "queued"
    assert [m["seq"] for m in (await patron_socket(token_for(identity))).welcome["messages"]] == [1, 2, 3]
    for socket in (colleague, patron):
        await socket.close()
