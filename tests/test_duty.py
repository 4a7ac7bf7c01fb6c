"""Staying on duty: a staff page keeps the librarian's chats; what went back to the queue while
they were away is recorded for their return and dismissed from every tab (reference/duty.py,
reference/consumers/staff_page.py)."""

import asyncio
import time

import pytest
from channels.db import database_sync_to_async

from reference import duty, handoff, sweeps
from reference.errors import ServiceError
from reference.models import Conversation, LibrarianProfile
from reference.presence_store import get_store
from tests.starting import held_chat
from tests.wsclient import connect, librarian_socket, session_cookie

# A socket counts this long after its beat; chats go back this long after the librarian lapsed.
TIMEOUT, GRACE = 1.0, 0.5


@pytest.fixture
def short_presence(settings):
    settings.PRESENCE_TIMEOUT = TIMEOUT
    settings.REQUEUE_GRACE = GRACE


async def staff_page_socket(user, hello=True):
    socket = await connect("/ws/staff/", [await session_cookie(user)])
    if hello:
        await socket.hello()
    return socket


@database_sync_to_async
def two_held_chats(make_identity, librarian):
    return [held_chat(identity=make_identity(), librarian=librarian, text=text).pk
            for text in ("Apakah buka hari Minggu?", "Bagaimana cara memperpanjang pinjaman?")]


@database_sync_to_async
def statuses(ids):
    return sorted(Conversation.objects.filter(pk__in=ids).values_list("status", flat=True))


@database_sync_to_async
def record_of(user):
    return LibrarianProfile.objects.get(user=user).requeued_while_away


async def sweep_for(seconds, beating=()):
    """Run the requeue sweep at real time for `seconds`, each socket in `beating` sending its
    heartbeat frame meanwhile (as a page does every heartbeat interval)."""
    until = time.time() + seconds
    while time.time() < until:
        for socket in beating:
            await socket.send({"type": "heartbeat"})
        await asyncio.sleep(0.2)
        await database_sync_to_async(sweeps.requeue_lapsed)(time.time())


# ---- the staff page's socket

@pytest.mark.django_db(transaction=True)
async def test_a_staff_page_alone_keeps_the_chats_past_the_grace(short_presence, librarian, make_identity):
    desk = await librarian_socket(librarian)
    held = await two_held_chats(make_identity, librarian)
    await desk.close()  # the librarian clicked "Transcripts": the dashboard is gone…
    page = await staff_page_socket(librarian)  # …and the transcripts page keeps them on duty
    assert page.welcome["librarian"]["held"] == 2 and page.welcome["librarian"]["presence"] == "available"

    await sweep_for(TIMEOUT + GRACE + 1, beating=[page])
    assert await statuses(held) == ["active", "active"]
    assert await record_of(librarian) == []
    await page.close()


@pytest.mark.django_db(transaction=True)
async def test_without_any_staff_page_the_chats_are_requeued_and_recorded(short_presence, librarian, make_identity):
    page = await staff_page_socket(librarian)
    held = await two_held_chats(make_identity, librarian)
    await page.close()

    await sweep_for(TIMEOUT + GRACE + 1)
    assert await statuses(held) == ["queued", "queued"]
    record = await record_of(librarian)
    assert sorted((e["id"], e["subject"]) for e in record) == [
        (held[0], "Apakah buka hari Minggu?"), (held[1], "Bagaimana cara memperpanjang pinjaman?")]
    assert all(e["at"] for e in record)

    desk = await librarian_socket(librarian)  # back on the dashboard: its welcome says so
    assert sorted(e["id"] for e in desk.welcome["requeued_while_away"]) == held
    await desk.close()


@pytest.mark.django_db(transaction=True)
async def test_the_staff_page_hears_its_librarians_load_and_nobody_elses(librarian, make_librarian, make_identity):
    budi = await database_sync_to_async(make_librarian)("budi", "Budi")
    page = await staff_page_socket(librarian)
    assert page.welcome["librarian"]["held"] == 0

    await two_held_chats(make_identity, budi)  # a colleague's load is not this page's business
    conversation_id = (await two_held_chats(make_identity, librarian))[0]
    while (frame := await page.receive_type("presence"))["librarian"]["held"] != 2:
        assert frame["librarian"]["id"] == librarian.pk
    from reference.lifecycle import do_close_by_librarian
    await database_sync_to_async(do_close_by_librarian)(user=librarian, conversation_id=conversation_id)
    frame = await page.receive_type("presence")
    assert (frame["librarian"]["id"], frame["librarian"]["held"]) == (librarian.pk, 1)
    assert await page.nothing_more()
    await page.close()


@pytest.mark.django_db(transaction=True)
async def test_the_staff_page_hears_of_chats_offered_to_its_librarian(librarian, make_librarian, make_identity):
    budi = await database_sync_to_async(make_librarian)("budi", "Budi")
    budis_page = await staff_page_socket(budi)
    page = await staff_page_socket(librarian)  # Siti is on duty on the transcripts page only
    conversation_id = (await two_held_chats(make_identity, budi))[0]
    offer = await database_sync_to_async(handoff.do_offer_transfer)(
        user=budi, conversation_id=conversation_id, to_user_id=librarian.pk)
    seen = (await page.receive_type("transfer"))["transfer"]
    assert (seen["id"], seen["status"], seen["to_id"]) == (offer.pk, "offered", librarian.pk)
    later = await staff_page_socket(librarian)  # a page opened meanwhile knows from its welcome
    assert later.welcome["offers"] == [offer.pk] and later.welcome["assignments"] == []

    await database_sync_to_async(handoff.do_decline_transfer)(user=librarian, transfer_id=offer.pk)
    assert (await page.receive_type("transfer"))["transfer"]["status"] == "declined"
    while not await budis_page.nothing_more():  # the offer was Siti's: Budi's page heard only his load
        assert (await budis_page.receive())["type"] in ("presence", "heartbeat")
    for socket in (page, later, budis_page):
        await socket.close()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("staff", [False, None], ids=["not staff", "anonymous"])
async def test_only_staff_may_open_a_staff_page_socket(make_librarian, staff):
    if staff is None:
        socket = await connect("/ws/staff/")
    else:
        visitor = await database_sync_to_async(make_librarian)("tamu", "Tamu", is_staff=False)
        socket = await connect("/ws/staff/", [await session_cookie(visitor)])
    assert (await socket.receive())["code"] == "not_authenticated"
    assert await socket.closed_with() == 4403


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("frame, code", [
    ({"type": "fetch", "conversation": 1, "after": 0}, "unknown_type"),  # it follows no conversation
    ({"type": "read", "conversation": 1, "seq": 1}, "unknown_type"),
    ({"type": "claim", "conversation": 1}, "unknown_type"),
    ({"type": "duty.dismiss", "conversations": [1]}, "unknown_type"),  # the dashboard's business
    ("not json", "bad_json"),
])
async def test_a_staff_page_refuses_what_it_does_not_speak(librarian, frame, code):
    page = await staff_page_socket(librarian)
    await page.send(frame)
    error = await page.receive_type("error")
    assert error["code"] == code and error["message"]
    await page.send({"type": "ping"})  # still open and usable
    await page.receive_type("pong")
    await page.close()


@pytest.mark.django_db(transaction=True)
async def test_a_staff_page_must_say_hello_before_beating(librarian):
    page = await staff_page_socket(librarian, hello=False)
    await page.send({"type": "heartbeat"})
    assert (await page.receive_type("error"))["code"] == "hello_required"
    assert await database_sync_to_async(get_store().connected)([librarian.pk]) == set()
    await page.close()


# ---- the record, and dismissing it

@pytest.mark.django_db(transaction=True)
def test_the_record_keeps_the_newest_entries_once_each(librarian, make_identity):
    first = held_chat(identity=make_identity(), librarian=librarian, text="Satu\n  dua   tiga " + "x" * 300)
    duty.do_record_requeued(user_id=librarian.pk, conversation_id=first.pk)
    duty.do_record_requeued(user_id=librarian.pk, conversation_id=first.pk)  # requeued again: one entry
    record = LibrarianProfile.objects.get(user=librarian).requeued_while_away
    assert len(record) == 1 and record[0]["subject"].startswith("Satu dua tiga xx")
    assert len(record[0]["subject"]) == duty.SUBJECT_LENGTH and record[0]["subject"].endswith("…")

    LibrarianProfile.objects.filter(user=librarian).update(
        requeued_while_away=[{"id": 1000 + n, "subject": str(n), "at": ""} for n in range(duty.KEEP)])
    duty.do_record_requeued(user_id=librarian.pk, conversation_id=first.pk)
    record = LibrarianProfile.objects.get(user=librarian).requeued_while_away
    assert len(record) == duty.KEEP and record[0]["id"] == 1001 and record[-1]["id"] == first.pk


@pytest.mark.django_db(transaction=True)
async def test_dismissing_clears_what_was_seen_in_every_tab(librarian, make_identity):
    held = await two_held_chats(make_identity, librarian)
    await database_sync_to_async(get_store().beat)(librarian.pk, "laptop", 60, now=time.time() - 100)
    await database_sync_to_async(sweeps.requeue_lapsed)(time.time())
    assert len(await record_of(librarian)) == 2

    tab, other_tab = await librarian_socket(librarian), await librarian_socket(librarian)
    assert sorted(e["id"] for e in other_tab.welcome["requeued_while_away"]) == held
    await tab.send({"type": "duty.dismiss", "conversations": [held[0]]})
    for socket in (tab, other_tab):
        assert [e["id"] for e in (await socket.receive_type("duty.requeued"))["requeued"]] == [held[1]]
    await other_tab.send({"type": "duty.dismiss", "conversations": held})  # one of them is gone already
    for socket in (tab, other_tab):
        assert (await socket.receive_type("duty.requeued"))["requeued"] == []
    assert await record_of(librarian) == []
    for socket in (tab, other_tab):
        await socket.close()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("conversations", [None, "12", [], ["12"], [True], [0], list(range(1, duty.KEEP + 2))])
async def test_a_bad_dismissal_is_refused_and_changes_nothing(librarian, conversations):
    entry = {"id": 12, "subject": "Jam buka?", "at": "2026-12-03T10:00:00+00:00"}
    await database_sync_to_async(LibrarianProfile.objects.filter(user=librarian).update)(requeued_while_away=[entry])
    desk = await librarian_socket(librarian)
    frame = {"type": "duty.dismiss"}
    await desk.send(frame if conversations is None else {**frame, "conversations": conversations})
    error = await desk.receive_type("error")
    assert (error["code"], error["field"], error["ref"]) == ("invalid_frame", "conversations", "duty.dismiss")
    assert await record_of(librarian) == [entry]
    await desk.close()


def test_the_dismissal_check_names_the_field():
    with pytest.raises(ServiceError) as refused:
        duty.check_dismissed_ids([1, "2"])
    assert (refused.value.code, refused.value.params["field"]) == ("invalid_frame", "conversations")
    assert duty.check_dismissed_ids([3, 3, 4]) == {3, 4}


# ---- which pages carry the duty bar

@pytest.mark.parametrize("path, bar", [
    ("/staff/transcripts/", True), ("/staff/offline/", True), ("/admin/", True), ("/dashboard/", False)])
def test_every_staff_page_but_the_dashboard_carries_the_duty_bar(client, librarian, path, bar):
    client.force_login(librarian)
    page = client.get(path).content.decode()
    assert ('id="duty-bar"' in page and 'data-ws-path="/ws/staff/"' in page) is bar
    assert ('id="duty-away"' in page) is (path == "/dashboard/")  # the dashboard has its own socket and banner


def test_nobody_but_staff_gets_the_duty_bar(client, make_librarian):
    assert 'id="duty-bar"' not in client.get("/login/").content.decode()
    client.force_login(make_librarian("tamu", "Tamu", is_staff=False))
    assert 'id="duty-bar"' not in client.get("/login/").content.decode()
