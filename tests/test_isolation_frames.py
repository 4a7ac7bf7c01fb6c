"""Every frame a librarian's socket takes, sent by a librarian of library B at library A's chats,
queues, offers and colleagues: each is refused with an error frame and changes nothing of A's, or
(for the frames that only ever act on the sender) acts on the sender alone. Without a cover agreement
nothing of A reaches B's dashboard either.

SCENARIOS must name every frame type of LibrarianConsumer and StaffPageConsumer: a new frame type
fails test_every_frame_type_has_an_isolation_scenario until it has one here. Runs on SQLite and, in
`make test`'s second pass, on PostgreSQL with Redis.
"""

import json
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from reference import lifecycle
from reference.consumers.librarian import LibrarianConsumer
from reference.consumers.staff_page import StaffPageConsumer
from reference.models import (
    AssignmentOffer,
    Conversation,
    LibrarianProfile,
    Library,
    Message,
    Patron,
    Queue,
    Transfer,
)
from tests.wsclient import connect, librarian_socket, session_cookie

# What library A's data looks like: none of these may appear in anything B's sockets receive.
A_SECRETS = ("Rahasia-A", "Rina Anggrek", "Antrean Umum A", "Siti Aminah", "Adi Arsip", "rina@anggrek.example")

REFUSED = object()  # an error frame, A unchanged
SELF_ONLY = object()  # acts on the sender only: A unchanged, nothing of A in the answer


@pytest.fixture
def two_libraries(transactional_db, site, queue, make_librarian):
    """Library A: Siti holds chat `held` (with an offer of it to Adi pending), chat `waiting`
    waits with an automatic-routing offer to Adi. Library B: Bima holds B's own chat `own`."""
    Queue.objects.filter(pk=queue.pk).update(name="Antrean Umum A")
    library_b = Library.objects.create(name="Perpustakaan B")
    queue_b = Queue.objects.create(name="Antrean B", slug="antrean-b", library=library_b)
    from widgets.models import Site

    site_b = Site.objects.create(name="Situs B", key="site-b", default_queue=queue_b, library=library_b)
    siti = make_librarian("siti", "Siti Aminah")
    adi = make_librarian("adi", "Adi Arsip")
    bima = make_librarian("bima", "Bima", queues=[queue_b])
    LibrarianProfile.objects.filter(user=bima).update(library=library_b)

    def chat(on_site, on_queue, subject, holder=None):
        patron = (Patron.objects.create(site=on_site, name="Rina Anggrek", email="rina@anggrek.example")
                  if on_site == site else Patron.objects.create(site=on_site, name="Bunga", email="bunga@b.example"))
        conversation = Conversation.objects.create(patron=patron, site=on_site, queue=on_queue, subject=subject)
        Message.objects.create(conversation=conversation, seq=1, role="patron", text=subject)
        Conversation.objects.filter(pk=conversation.pk).update(last_seq=1)
        if holder is not None:
            lifecycle.do_claim(user=holder, conversation_id=conversation.pk)
        return conversation

    held = chat(site, queue, "Rahasia-A: arsip keluarga", holder=siti)
    waiting = chat(site, queue, "Rahasia-A: menunggu")
    own = chat(site_b, queue_b, "Pertanyaan B", holder=bima)
    offer = Transfer.objects.create(conversation=held, from_user=siti, to_user=adi, status=Transfer.Status.OFFERED,
                                    expires_at=timezone.now() + timedelta(minutes=5))
    assignment = AssignmentOffer.objects.create(conversation=waiting, user=adi,
                                                expires_at=timezone.now() + timedelta(minutes=5))
    LibrarianProfile.objects.filter(user=siti).update(
        requeued_while_away=[{"id": held.pk, "subject": "Rahasia-A", "at": timezone.now().isoformat()}])
    return {"held": held.pk, "waiting": waiting.pk, "own": own.pk, "queue_a": queue.pk, "siti": siti, "adi": adi,
            "bima": bima, "offer": offer.pk, "assignment": assignment.pk}


# frame type -> [(frame built from the fixture's ids, REFUSED or SELF_ONLY)]
SCENARIOS = {
    "hello": [],  # every socket below says hello first: test_welcome_shows_nothing_of_another_library
    "ping": [(lambda ids: {"type": "ping"}, SELF_ONLY)],
    "heartbeat": [(lambda ids: {"type": "heartbeat"}, SELF_ONLY)],
    "status": [(lambda ids: {"type": "status", "status": "away"}, SELF_ONLY)],
    "capacity": [(lambda ids: {"type": "capacity", "max_chats": 2}, SELF_ONLY)],
    "duty.dismiss": [(lambda ids: {"type": "duty.dismiss", "conversations": [ids["held"]]}, SELF_ONLY)],
    "fetch": [(lambda ids: {"type": "fetch", "conversation": ids["held"], "after": 0}, REFUSED)],
    "read": [(lambda ids: {"type": "read", "conversation": ids["held"], "seq": 1}, REFUSED)],
    "claim": [(lambda ids: {"type": "claim", "conversation": ids["waiting"]}, REFUSED)],
    "message": [(lambda ids: {"type": "message", "conversation": ids["held"], "text": "halo", "client_id": "b-1"},
                 REFUSED)],
    "typing": [(lambda ids: {"type": "typing", "conversation": ids["held"], "active": True}, REFUSED)],
    "close": [(lambda ids: {"type": "close", "conversation": ids["held"]}, REFUSED)],
    "transfer": [
        (lambda ids: {"type": "transfer", "conversation": ids["held"], "to_queue": ids["queue_a"]}, REFUSED),
        # B's own chat, into A's queue or to A's librarian
        (lambda ids: {"type": "transfer", "conversation": ids["own"], "to_queue": ids["queue_a"]}, REFUSED),
        (lambda ids: {"type": "transfer", "conversation": ids["own"], "to_librarian": ids["siti"].pk}, REFUSED),
    ],
    "transfer.accept": [(lambda ids: {"type": "transfer.accept", "transfer": ids["offer"]}, REFUSED)],
    "transfer.decline": [(lambda ids: {"type": "transfer.decline", "transfer": ids["offer"]}, REFUSED)],
    "assignment.decline": [(lambda ids: {"type": "assignment.decline", "offer": ids["assignment"]}, REFUSED)],
    "assess": [(lambda ids: {"type": "assess", "conversation": ids["held"], "read_scale": 2}, REFUSED)],
    "note": [(lambda ids: {"type": "note", "conversation": ids["held"], "text": "catatan"}, REFUSED)],
    "block": [(lambda ids: {"type": "block", "conversation": ids["held"], "minutes": 60}, REFUSED)],
    "return.offline": [(lambda ids: {"type": "return.offline", "conversation": ids["held"]}, REFUSED)],
}

def test_every_frame_type_has_an_isolation_scenario():
    assert set(SCENARIOS) == LibrarianConsumer.frame_types | StaffPageConsumer.frame_types


@database_sync_to_async
def library_a_as_it_stands(ids):
    """Everything of A a frame from B could change."""
    chats = list(Conversation.objects.filter(pk__in=[ids["held"], ids["waiting"]]).order_by("pk").values_list(
        "status", "librarian_id", "queue_id", "last_seq", "patron_read_seq", "librarian_read_seq", "read_scale"))
    notes = list(Conversation.objects.get(pk=ids["held"]).notes.values_list("pk", flat=True))
    return (chats, notes,
            list(Transfer.objects.filter(conversation_id=ids["held"]).values_list("status", "to_user_id")),
            list(AssignmentOffer.objects.filter(pk=ids["assignment"]).values_list("status", flat=True)),
            list(LibrarianProfile.objects.filter(user__in=[ids["siti"], ids["adi"]]).order_by("pk").values_list(
                "status", "max_chats", "requeued_while_away")))


def assert_nothing_of_a(frame):
    assert not _leaks(frame), frame


async def test_a_frame_from_another_library_is_refused_or_acts_on_the_sender_alone(two_libraries):
    """One pair of sockets for every scenario, in turn (a fresh database per scenario costs ten
    seconds on PostgreSQL): after each, A is as it was and Siti heard nothing of it."""
    ids = two_libraries
    siti = await librarian_socket(ids["siti"])
    bima = await librarian_socket(ids["bima"])
    failures = []
    for scenarios in SCENARIOS.values():
        for build, expected in scenarios:
            frame = build(ids)
            problem = await _try(siti, bima, ids, frame, expected)
            if problem:
                failures.append((frame, problem))
    await bima.close()
    await siti.close()
    assert not failures, failures


async def _try(siti, bima, ids, frame, expected):
    """What went wrong with `frame` from Bima, or None."""
    before = await library_a_as_it_stands(ids)
    await bima.send(frame)
    answers = []
    while not await bima.nothing_more():
        answers.append(await bima.receive())
    for answer in answers:
        leaked = _leaks(answer)
        if leaked:
            return f"leaked {leaked} in {answer}"
    errors = [a for a in answers if a["type"] == "error"]
    if expected is REFUSED and not (errors and errors[0]["code"] != "internal_error" and errors[0]["message"]):
        return f"not refused: {answers}"
    if expected is SELF_ONLY and errors:
        return f"refused: {errors}"
    if await library_a_as_it_stands(ids) != before:
        return "changed library A"
    # Siti's dashboard heard nothing of it, not even Bima's presence (presence stays within a library).
    while not await siti.nothing_more():
        heard = await siti.receive()
        if heard["type"] != "heartbeat" and (heard["type"] != "presence" or heard["librarian"]["id"] == ids["bima"].pk):
            return f"Siti heard {heard}"
    return None


def _leaks(frame):
    text = json.dumps(frame, ensure_ascii=False)
    return [secret for secret in A_SECRETS if secret in text]


async def test_welcome_shows_nothing_of_another_library(two_libraries):
    bima = await librarian_socket(two_libraries["bima"])
    assert_nothing_of_a(bima.welcome)
    assert [c["id"] for c in bima.welcome["conversations"]] == [two_libraries["own"]]
    assert bima.welcome["waiting"] == []
    page = await connect("/ws/staff/", [await session_cookie(two_libraries["bima"])])
    assert_nothing_of_a(await page.hello())
    await bima.close()
    await page.close()
