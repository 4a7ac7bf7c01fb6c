"""reference.lifecycle: every change of a conversation is one do_* call, and the one step they all
end in tells exactly the people it concerns, in the order their screens need."""

import re
from pathlib import Path

import pytest
from channels.db import database_sync_to_async

from reference import lifecycle
from reference.models import Queue
from tests.wsclient import librarian_socket, patron_socket

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parent.parent


async def frames_until_quiet(socket):
    """Every frame the socket gets until it has been quiet for a moment."""
    seen = []
    while not await socket.nothing_more():
        seen.append(await socket.receive())
    return seen


def about(conversation_id, frames):
    """The frames that carry the conversation itself: its state or its messages."""
    return [f["type"] for f in frames
            if (f["type"] == "conversation" and f["conversation"]["id"] == conversation_id)
            or (f["type"] == "message" and f["message"]["conversation"] == conversation_id)]


async def held_chat(identity, token_for, make_librarian):
    siti = await database_sync_to_async(make_librarian)("siti", "Siti")
    budi = await database_sync_to_async(make_librarian)("budi", "Budi")
    sender, receiver = await librarian_socket(siti), await librarian_socket(budi)
    patron = await patron_socket(token_for(identity))
    await patron.send({"type": "start", "client_id": "p-1", "text": "Arsip koran 1970?"})
    conversation_id = (await patron.receive_type("ack"))["conversation"]
    await sender.send({"type": "claim", "conversation": conversation_id})
    await sender.receive_type("conversation")
    await frames_until_quiet(sender)
    return siti, budi, sender, receiver, patron, conversation_id


async def test_a_chat_handed_to_a_colleague_leaves_the_senders_dashboard_before_its_notice(
        identity, token_for, make_librarian):
    siti, budi, sender, receiver, patron, conversation_id = await held_chat(identity, token_for, make_librarian)
    await sender.send({"type": "transfer", "conversation": conversation_id, "to_librarian": budi.pk})
    offer = (await receiver.receive_type("transfer"))["transfer"]
    await frames_until_quiet(sender)
    await receiver.send({"type": "transfer.accept", "transfer": offer["id"]})

    after = await frames_until_quiet(sender)
    kinds = [f["type"] for f in after]
    assert "conversation.released" in kinds
    assert about(conversation_id, after) == []  # neither the takeover notice nor the new state
    own = [f["librarian"] for f in after if f["type"] == "presence" and f["librarian"]["id"] == siti.pk]
    assert own and own[-1]["held"] == 0  # the capacity count drops at once
    taken = [f for f in await frames_until_quiet(receiver) if f["type"] == "conversation"]
    assert taken and taken[0]["conversation"]["status"] == "active" and "messages" in taken[0]["conversation"]
    notice = await patron.receive_message(role="system", seq=3)
    assert "Budi" in notice["text"]
    await sender.send({"type": "typing", "conversation": conversation_id, "active": True})
    assert (await sender.receive_type("error"))["code"] == "not_assigned"
    for socket in (sender, receiver, patron):
        await socket.close()


async def test_a_chat_sent_to_another_queue_shows_the_sender_no_patron_notice(
        identity, token_for, make_librarian, other_queue):
    siti, budi, sender, receiver, patron, conversation_id = await held_chat(identity, token_for, make_librarian)
    await database_sync_to_async(lambda: budi.librarian_profile.queues.add(other_queue))()
    there = await librarian_socket(budi)  # a socket of Budi's that follows the other queue now
    await sender.send({"type": "transfer", "conversation": conversation_id, "to_queue": other_queue.pk,
                       "note": "Untuk anak-anak"})

    after = await frames_until_quiet(sender)
    released = [f for f in after if f["type"] == "conversation.released"]
    assert [(f["reason"], f["to"]) for f in released] == [("transferred", "Anak-anak")]
    assert about(conversation_id, after) == []  # not the patron's "Anda dialihkan ke…"
    added = (await there.receive_type("queue.added"))["conversation"]
    assert (added["id"], added["queue"]["name"], added["transfers"][0]["note"]) == (
        conversation_id, "Anak-anak", "Untuk anak-anak")
    notice = await patron.receive_message(role="system", seq=3)
    assert "Anak-anak" in notice["text"]
    assert (await patron.receive_type("queue.position"))["position"] == 1
    for socket in (sender, receiver, there, patron):
        await socket.close()


async def test_a_chat_that_rolls_over_withdraws_its_open_offer(identity, token_for, make_librarian, queue, other_queue):
    def auto_with_fallback():
        Queue.objects.filter(pk=queue.pk).update(routing=Queue.Routing.AUTO, fallback_queue=other_queue,
                                                 fallback_after=0)

    await database_sync_to_async(auto_with_fallback)()
    siti = await database_sync_to_async(make_librarian)("siti", "Siti")
    desk = await librarian_socket(siti)
    patron = await patron_socket(token_for(identity))
    await patron.send({"type": "start", "client_id": "p-1", "text": "Arsip koran?"})
    conversation_id = (await patron.receive_type("ack"))["conversation"]
    offer = (await desk.receive_type("assignment"))["offer"]
    assert (offer["status"], offer["conversation"]["id"]) == ("offered", conversation_id)

    from reference import sweeps

    assert await database_sync_to_async(sweeps.roll_over)() == [conversation_id]
    after = await frames_until_quiet(desk)
    assert [(f["offer"]["id"], f["offer"]["status"]) for f in after if f["type"] == "assignment"] == [
        (offer["id"], "expired")]
    assert [(f["conversation"], f["reason"]) for f in after if f["type"] == "queue.removed"] == [
        (conversation_id, "rolled_over")]
    assert "Anak-anak" in (await patron.receive_message(role="system"))["text"]
    for socket in (desk, patron):
        await socket.close()


async def test_a_patron_who_leaves_a_waiting_chat_is_told_to_nobody_but_the_queue(
        identity, token_for, make_librarian, settings):
    siti = await database_sync_to_async(make_librarian)("siti", "Siti")
    desk = await librarian_socket(siti)
    patron = await patron_socket(token_for(identity))
    await patron.send({"type": "start", "client_id": "p-1", "text": "Jam buka?"})
    conversation_id = (await patron.receive_type("ack"))["conversation"]
    await desk.receive_type("queue.added")
    assert await database_sync_to_async(lifecycle.do_abandon)(conversation_id=conversation_id) is True
    removed = await desk.receive_type("queue.removed")
    assert (removed["conversation"], removed["reason"]) == (conversation_id, "closed")
    closed = (await patron.receive_type("conversation"))["conversation"]
    while closed["status"] == "queued":  # the widget's copy of the start comes first
        closed = (await patron.receive_type("conversation"))["conversation"]
    assert (closed["status"], closed["closed_by"]) == ("closed", "system")
    # Abandoning again, or a chat a librarian holds, changes nothing.
    assert await database_sync_to_async(lifecycle.do_abandon)(conversation_id=conversation_id) is False
    for socket in (desk, patron):
        await socket.close()


def test_only_lifecycle_sets_a_conversations_status_queue_or_librarian():
    pattern = re.compile(r"\.status\s*=\s*Conversation\.Status|update\([^)]*\b(status|queue|librarian)=|"
                         r"conversation\.(status|queue|queue_id|librarian|librarian_id)\s*=[^=]")
    offenders = []
    for package in ("reference", "chatserver", "widgets"):
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts or path.name == "lifecycle.py":
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if pattern.search(line):
                    offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []
