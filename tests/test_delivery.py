"""Nothing said is lost: retries, resume, gap requests, heartbeats and read receipts (issue 4)."""

import pytest
from channels.db import database_sync_to_async
from django.test import override_settings

from reference import selectors
from reference.events import Outbox
from reference.messaging import NewMessage, store
from reference.models import Conversation, Message, Role
from tests.wsclient import librarian_socket, open_chat, patron_socket

pytestmark = pytest.mark.django_db(transaction=True)


async def say(socket, text, client_id, conversation_id=None):
    frame = {"type": "message", "client_id": client_id, "text": text}
    if conversation_id is not None:
        frame["conversation"] = conversation_id
    await socket.send(frame)
    return (await socket.receive_type("ack"))["seq"]


@database_sync_to_async
def stored_seqs(conversation_id):
    return list(Message.objects.filter(conversation_id=conversation_id).order_by("seq").values_list("seq", flat=True))


@database_sync_to_async
def store_without_fan_out(conversation_id, text):
    """A librarian message the channel layer loses on the way (stored, never delivered)."""
    conversation = Conversation.objects.select_related("librarian").get(pk=conversation_id)
    lost = Outbox()  # collects the message's frame; nobody ever sends it
    message, _ = store(NewMessage(conversation_id=conversation_id, role=Role.LIBRARIAN, text=text, client_id="lost-1",
                                  author=conversation.librarian, author_name="Siti"), outbox=lost)
    assert [event["frame"]["type"] for _group, event in lost.committed] == ["message"]
    return message.seq


async def test_a_librarian_retry_after_a_lost_ack_is_stored_once(chat, librarian):
    patron, desk, conversation_id = chat
    assert await say(desk, "Buka pukul 09.00.", "l-1", conversation_id) == 3
    await desk.close()  # the ack may have been lost with the connection: the new tab retries
    again = await librarian_socket(librarian)
    assert await say(again, "Buka pukul 09.00.", "l-1", conversation_id) == 3
    assert await stored_seqs(conversation_id) == [1, 2, 3]
    await again.close()


async def test_resume_after_a_gap_sends_exactly_what_was_missed(chat, identity, token_for):
    patron, desk, conversation_id = chat
    await patron.close()  # the patron's network drops
    await say(desk, "Masih di sana?", "l-1", conversation_id)
    await say(desk, "Buka pukul 09.00.", "l-2", conversation_id)
    back = await patron_socket(token_for(identity), last_seq=2)
    assert [m["seq"] for m in back.welcome["messages"]] == [3, 4]
    assert back.welcome["conversation"]["last_seq"] == 4
    await back.close()


async def test_resume_from_zero_sends_the_whole_conversation(chat, identity, token_for):
    patron, desk, conversation_id = chat
    await say(patron, "Dan hari Sabtu?", "p-2")
    fresh = await patron_socket(token_for(identity), last_seq=0)
    assert [(m["seq"], m["role"]) for m in fresh.welcome["messages"]] == [
        (1, "patron"), (2, "system"), (3, "patron")]
    await fresh.close()


async def test_a_librarian_resumes_each_chat_from_its_own_seq(chat, librarian):
    patron, desk, conversation_id = chat
    await say(patron, "Dan hari Sabtu?", "p-2")
    second = await librarian_socket(librarian, hello=False)
    await second.send({"type": "hello", "v": 1, "since": {str(conversation_id): 2}})
    welcome = await second.receive_type("welcome")
    (held,) = welcome["conversations"]
    assert [m["seq"] for m in held["messages"]] == [3]
    await second.close()


@pytest.mark.parametrize("since", [{"x": 1}, {"1": -1}, {"1": "2"}, {"1": True}, [1]])
async def test_a_malformed_since_is_refused(librarian, since):
    desk = await librarian_socket(librarian, hello=False)
    await desk.send({"type": "hello", "v": 1, "since": since})
    error = await desk.receive()
    assert (error["type"], error["code"]) == ("error", "invalid_frame") and "since" in error["message"]
    await desk.send({"type": "ping"})
    assert (await desk.receive())["code"] == "hello_required"  # the failed hello changed nothing
    await desk.close()


async def test_a_gap_request_returns_the_missing_range(chat):
    patron, desk, conversation_id = chat
    for n in range(3):
        await say(desk, f"Baris {n}", f"l-{n}", conversation_id)
    await patron.send({"type": "fetch", "conversation": conversation_id, "after": 1, "before": 5})
    answer = await patron.receive_type("messages")
    assert answer["conversation"] == conversation_id and answer["more"] is False
    assert [m["seq"] for m in answer["messages"]] == [2, 3, 4]
    await desk.send({"type": "fetch", "conversation": conversation_id, "after": 3})
    assert [m["seq"] for m in (await desk.receive_type("messages"))["messages"]] == [4, 5]


async def test_a_fan_out_lost_on_purpose_is_repaired(chat, identity, token_for, monkeypatch):
    patron, desk, conversation_id = chat
    lost = await store_without_fan_out(conversation_id, "Pesan yang hilang di jalan")
    assert lost == 3
    assert await patron.nothing_more()
    # The next message shows the patron a gap (2 → 4); its gap request brings back 3.
    await say(desk, "Pesan berikutnya", "l-2", conversation_id)
    assert (await patron.receive_message(role="librarian"))["seq"] == 4
    await patron.send({"type": "fetch", "conversation": conversation_id, "after": 2, "before": 4})
    (repaired,) = (await patron.receive_type("messages"))["messages"]
    assert (repaired["seq"], repaired["text"]) == (3, "Pesan yang hilang di jalan")
    # A reconnect repairs it too.
    again = await patron_socket(token_for(identity), last_seq=2)
    assert [m["seq"] for m in again.welcome["messages"]] == [3, 4]
    await again.close()


@override_settings(HEARTBEAT_INTERVAL=0.2)
async def test_heartbeats_tell_each_side_how_far_its_chats_have_got(identity, token_for, librarian, monkeypatch):
    patron, desk, conversation_id = await open_chat(librarian, token_for(identity), drain=False)
    # A lost last message shows no gap until something else arrives: the heartbeat shows it.
    await store_without_fan_out(conversation_id, "Yang terakhir, hilang")
    for socket in (patron, desk):
        beat = await socket.receive_type("heartbeat")
        while beat["last_seq"].get(str(conversation_id)) != 3:
            beat = await socket.receive_type("heartbeat")
        assert beat["server_time"]
    await patron.close()
    await desk.close()


@override_settings(HEARTBEAT_INTERVAL=0.2)
async def test_a_heartbeat_that_fails_is_tried_again_next_interval(identity, token_for, monkeypatch):
    """Redis failing over or the database restarting must not end a socket's heartbeats for good
    (the client would take the silence for a dead server)."""
    from reference import sweeps

    failures = []

    async def redis_away():
        if not failures:
            failures.append(1)
            raise ConnectionError("Redis is failing over")

    monkeypatch.setattr(sweeps, "run", redis_away)
    patron = await patron_socket(token_for(identity))
    assert (await patron.receive_type("heartbeat"))["server_time"]
    assert failures == [1]
    await patron.close()


async def test_fetching_someone_elses_conversation_is_refused(chat, make_identity, token_for, make_librarian):
    patron, desk, conversation_id = chat
    stranger = await patron_socket(token_for(make_identity()))
    await stranger.send({"type": "fetch", "conversation": conversation_id, "after": 0})
    assert (await stranger.receive())["code"] == "not_found"
    budi = await database_sync_to_async(make_librarian)("budi", "Budi")
    other_desk = await librarian_socket(budi)
    await other_desk.send({"type": "fetch", "conversation": conversation_id, "after": 0})
    assert (await other_desk.receive())["code"] == "not_found"
    await stranger.close()
    await other_desk.close()


@pytest.mark.parametrize("frame, field", [
    ({"after": 0}, "conversation"),
    ({"conversation": 1}, "after"),
    ({"conversation": 1, "after": -1}, "after"),
    ({"conversation": 1, "after": "0"}, "after"),
    ({"conversation": 1, "after": 0, "before": "9"}, "before"),
])
async def test_a_malformed_fetch_is_refused(identity, token_for, frame, field):
    patron = await patron_socket(token_for(identity))
    await patron.send({"type": "fetch", **frame})
    error = await patron.receive()
    assert error["code"] == "invalid_frame" and field in error["message"]
    await patron.close()


async def test_the_ack_carries_the_stored_message_and_only_the_senders_other_tabs_get_a_copy(
        chat, identity, token_for, librarian):
    patron, desk, conversation_id = chat
    other_tab = await patron_socket(token_for(identity))
    second_desk = await librarian_socket(librarian)
    await patron.send({"type": "message", "client_id": "p-2", "text": "Terima kasih!"})
    ack = await patron.receive_type("ack")
    message = ack["message"]
    assert (ack["seq"], message["conversation"], message["seq"], message["role"], message["text"],
            message["client_id"], message["attachment"]) == (3, conversation_id, 3, "patron", "Terima kasih!",
                                                             "p-2", None)
    assert message["sent_at"]
    assert await desk.receive_message(seq=3) == ack["message"]
    assert await other_tab.receive_message(seq=3) == ack["message"]
    assert await patron.nothing_more()  # no second copy for the socket that sent it
    await desk.send({"type": "message", "client_id": "l-3", "text": "Sama-sama.", "conversation": conversation_id})
    ack = await desk.receive_type("ack")
    assert (ack["seq"], ack["message"]["role"], ack["message"]["text"]) == (4, "librarian", "Sama-sama.")
    assert await patron.receive_message(seq=4) == ack["message"]
    assert await second_desk.receive_message(seq=4) == ack["message"]
    assert await desk.nothing_more()
    await other_tab.close()
    await second_desk.close()


async def test_read_receipts_reach_the_other_side_and_only_move_forward(chat, identity, token_for):
    patron, desk, conversation_id = chat
    await say(desk, "Buka pukul 09.00.", "l-1", conversation_id)
    await patron.receive_message(seq=3)
    await patron.send({"type": "read", "conversation": conversation_id, "seq": 3})
    receipt = await desk.receive_type("read")
    assert (receipt["conversation"], receipt["role"], receipt["seq"]) == (conversation_id, "patron", 3)
    await patron.send({"type": "read", "conversation": conversation_id, "seq": 2})  # an older tab
    assert await desk.nothing_more()
    await desk.send({"type": "read", "conversation": conversation_id, "seq": 3})
    reads = [await patron.receive_type("read"), await patron.receive_type("read")]
    assert [(r["role"], r["seq"]) for r in reads] == [("patron", 3), ("librarian", 3)]  # own tabs hear too
    again = await patron_socket(token_for(identity))
    assert again.welcome["conversation"]["read"] == {"patron": 3, "librarian": 3}
    await again.close()


async def test_a_read_beyond_the_last_message_is_refused_and_changes_nothing(chat):
    patron, desk, conversation_id = chat
    await patron.send({"type": "read", "conversation": conversation_id, "seq": 99})
    error = await patron.receive()
    assert (error["code"], error["ref"]) == ("bad_seq", "read")
    conversation = await database_sync_to_async(Conversation.objects.get)(pk=conversation_id)
    assert conversation.patron_read_seq == 0
    assert await desk.nothing_more()


def test_fetch_answers_are_bounded(db, queue, site):
    from reference.models import Patron
    from widgets.models import Site

    patron = Patron.objects.create(site=Site.objects.get(pk=site.pk))
    conversation = Conversation.objects.create(patron=patron, site=site, queue=queue, subject="?")
    for _ in range(5):
        store(NewMessage(conversation_id=conversation.pk, role=Role.PATRON, text="x"))
    conversation.refresh_from_db()
    first, more = selectors.messages_between(conversation, 0, limit=3)
    assert [m.seq for m in first] == [1, 2, 3] and more is True
    rest, more = selectors.messages_between(conversation, 3, limit=3)
    assert [m.seq for m in rest] == [4, 5] and more is False


async def test_a_frame_racing_the_close_of_its_socket_is_dropped_quietly():
    """daphne raises when a fan-out frame reaches a socket that closed before its disconnect event
    was handled; the consumer must not crash on it, and sends nothing more once it knows."""
    from reference.consumers.base import ProtocolConsumer, SocketGone

    sent = []

    async def closed_transport(message):
        sent.append(message)
        raise SocketGone("Attempt to send on a closed protocol")

    consumer = ProtocolConsumer()
    consumer.base_send = closed_transport
    await consumer.send_frame({"type": "presence"})
    assert consumer.gone and len(sent) == 1
    await consumer.send_frame({"type": "presence"})
    assert len(sent) == 1


async def test_a_burst_reaches_the_other_side_in_sequence_order(chat):
    """Stored one after another by the database thread, handed to the loop in commit order: the
    librarian sees a burst the patron sent without waiting for acks exactly in sequence."""
    patron, desk, conversation_id = chat
    for k in range(40):
        await patron.send({"type": "message", "client_id": f"burst-{k}", "text": f"pesan {k}"})
    seqs = []
    while len(seqs) < 40:
        frame = await desk.receive_type("message")
        seqs.append(frame["message"]["seq"])
    assert seqs == list(range(seqs[0], seqs[0] + 40))
    assert seqs == (await stored_seqs(conversation_id))[-40:]
