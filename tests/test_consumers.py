"""WebSocket conversations through Channels' WebsocketCommunicator, as the protocol doc says."""

import pytest
from channels.db import database_sync_to_async
from django.test import override_settings

from reference.models import Conversation, Message
from tests.wsclient import ask, connect, librarian_socket, patron_socket

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


@database_sync_to_async
def stored(conversation_id):
    return list(Message.objects.filter(conversation_id=conversation_id).order_by("seq")
                .values_list("seq", "role", "text"))


@database_sync_to_async
def conversation_status(conversation_id):
    return Conversation.objects.get(pk=conversation_id).status


async def test_the_whole_loop(identity, token_for, librarian):
    desk = await librarian_socket(librarian)
    assert desk.welcome["librarian"]["name"] == "Siti" and desk.welcome["waiting"] == []
    patron = await patron_socket(token_for(identity))
    assert patron.welcome["conversation"] is None

    await patron.send({"type": "start", "client_id": "p-1", "text": "Apakah buka hari Minggu?",
                       "name": "Rina"})
    frames = [await patron.receive_type("ack", "conversation")]
    frames.append(await patron.receive_type("conversation" if frames[0]["type"] == "ack" else "ack"))
    ack = next(f for f in frames if f["type"] == "ack")
    queued = next(f for f in frames if f["type"] == "conversation")["conversation"]
    conversation_id = ack["conversation"]
    assert (ack["client_id"], ack["seq"]) == ("p-1", 1)
    assert queued["status"] == "queued" and queued["librarian"] is None

    waiting = await desk.receive_type("queue.added")
    assert waiting["conversation"]["id"] == conversation_id
    assert waiting["conversation"]["question"] == "Apakah buka hari Minggu?"
    assert waiting["conversation"]["patron"]["name"] == "Rina"

    await desk.send({"type": "claim", "conversation": conversation_id})
    claimed = (await desk.receive_type("conversation"))["conversation"]
    assert claimed["status"] == "active"
    assert [m["seq"] for m in claimed["messages"]] == [1, 2]
    removed = await desk.receive_type("queue.removed")
    assert removed == {"type": "queue.removed", "conversation": conversation_id, "reason": "claimed",
                       "_skipped": removed["_skipped"]}

    seen = await patron.receive_type("conversation")
    assert seen["conversation"]["librarian"] == {"name": "Siti"}
    assert "email" not in seen["conversation"]["patron"]
    notice = next(f["message"] for f in seen["_skipped"] if f["type"] == "message")
    assert (notice["seq"], notice["role"]) == (2, "system")

    await patron.send({"type": "typing", "active": True})
    typing = await desk.receive_type("typing")
    assert (typing["role"], typing["author"], typing["active"]) == ("patron", "Rina", True)
    await desk.send({"type": "typing", "conversation": conversation_id, "active": True})
    assert (await patron.receive_type("typing"))["author"] == "Siti"

    await desk.send({"type": "message", "conversation": conversation_id, "client_id": "l-1",
                     "text": "Buka, pukul 09.00–15.00. Lihat https://perpustakaan.example/jam"})
    assert (await desk.receive_type("ack"))["seq"] == 3
    reply = (await patron.receive_type("message"))["message"]
    assert (reply["seq"], reply["role"], reply["author"]) == (3, "librarian", "Siti")

    await patron.send({"type": "message", "client_id": "p-2", "text": "Terima kasih, Kak!"})
    assert (await patron.receive_type("ack"))["seq"] == 4
    heard = await desk.receive_message(role="patron")
    assert (heard["seq"], heard["text"]) == (4, "Terima kasih, Kak!")

    await desk.send({"type": "close", "conversation": conversation_id})
    assert (await desk.receive_type("conversation"))["conversation"]["closed_by"] == "librarian"
    ended = (await patron.receive_type("conversation"))["conversation"]
    assert ended["status"] == "closed"

    await patron.send({"type": "message", "client_id": "p-3", "text": "Halo?"})
    error = await patron.receive_type("error")
    assert (error["code"], error["ref"]) == ("conversation_closed", "p-3")
    assert [seq for seq, _r, _t in await stored(conversation_id)] == [1, 2, 3, 4, 5]
    await patron.close()
    await desk.close()


async def test_a_reload_resumes_the_conversation(identity, token_for, librarian):
    patron = await patron_socket(token_for(identity))
    conversation_id = await ask(patron)
    await patron.close()
    again = await patron_socket(token_for(identity))
    assert again.welcome["conversation"]["id"] == conversation_id
    assert [m["seq"] for m in again.welcome["messages"]] == [1]
    later = await patron_socket(token_for(identity), last_seq=1)
    assert later.welcome["messages"] == []
    await again.close()
    await later.close()


async def test_a_librarian_holds_several_chats_and_a_second_tab_follows(
    make_identity, token_for, librarian
):
    desk = await librarian_socket(librarian)
    patrons = [await patron_socket(token_for(make_identity())) for _ in range(2)]
    ids = [await ask(p, text=f"Pertanyaan {i}", client_id=f"p{i}") for i, p in enumerate(patrons)]
    for conversation_id in ids:
        await desk.send({"type": "claim", "conversation": conversation_id})
        await desk.receive_type("conversation")
    second_tab = await librarian_socket(librarian)
    assert sorted(c["id"] for c in second_tab.welcome["conversations"]) == sorted(ids)
    await patrons[1].send({"type": "message", "client_id": "x", "text": "Untuk tab kedua"})
    for socket in (desk, second_tab):
        assert (await socket.receive_message(role="patron"))["text"] == "Untuk tab kedua"
    for socket in (*patrons, desk, second_tab):
        await socket.close()


async def test_a_claim_of_a_chat_someone_else_holds(identity, token_for, make_librarian):
    siti = await database_sync_to_async(make_librarian)("siti", "Siti")
    budi = await database_sync_to_async(make_librarian)("budi", "Budi")
    patron = await patron_socket(token_for(identity))
    conversation_id = await ask(patron)
    first, second = await librarian_socket(siti), await librarian_socket(budi)
    await first.send({"type": "claim", "conversation": conversation_id})
    await first.receive_type("conversation")
    await second.send({"type": "claim", "conversation": conversation_id})
    error = await second.receive_type("error")
    assert error["code"] == "already_claimed" and error["message"]
    # Budi hears nothing of Siti's conversation, and his socket still works.
    await patron.send({"type": "message", "client_id": "p-2", "text": "Halo Siti"})
    await first.receive_type("message")
    await second.send({"type": "ping"})
    pong = await second.receive_type("pong")
    # Only colleagues' presence (Siti's load went up) reached him: nothing of the conversation.
    assert {frame["type"] for frame in pong["_skipped"]} <= {"presence"}
    for socket in (patron, first, second):
        await socket.close()


class TestBadInput:
    """Each gets an error frame with a code and a readable message, and changes nothing."""

    @pytest.mark.parametrize(("raw", "code"), [
        ("{not json", "bad_json"),
        ("[1, 2]", "bad_json"),
        ('{"no": "type"}', "unknown_type"),
        ('{"type": "launch_rockets"}', "unknown_type"),
        ('{"type": "start", "text": "Halo"}', "invalid_frame"),
        ('{"type": "start", "client_id": 7, "text": "Halo"}', "invalid_frame"),
        ('{"type": "typing"}', "invalid_frame"),
        ('{"type": "typing", "active": true}', "no_conversation"),
        ('{"type": "message", "client_id": "m", "text": "Halo"}', "no_conversation"),
        ('{"type": "close"}', "no_conversation"),
        ('{"type": "start", "client_id": "c", "text": "   "}', "empty_message"),
        ('{"type": "start", "client_id": "c", "text": "Halo", "email": "x@"}', "invalid_email"),
    ])
    async def test_patron_frames(self, identity, token_for, raw, code):
        patron = await patron_socket(token_for(identity))
        await patron.send(raw)
        error = await patron.receive()
        assert error["type"] == "error" and error["code"] == code and error["message"]
        assert not await database_sync_to_async(Conversation.objects.exists)()
        await patron.send({"type": "ping"})  # still usable
        assert (await patron.receive())["type"] == "pong"
        await patron.close()

    async def test_a_message_over_4000_characters(self, identity, token_for):
        patron = await patron_socket(token_for(identity))
        conversation_id = await ask(patron)
        await patron.send({"type": "message", "client_id": "long", "text": "a" * 4001})
        error = await patron.receive_type("error")
        assert (error["code"], error["ref"]) == ("message_too_long", "long")
        assert "4000" in error["message"]
        assert len(await stored(conversation_id)) == 1
        await patron.close()

    async def test_an_oversized_frame(self, identity, token_for):
        patron = await patron_socket(token_for(identity))
        await patron.send('{"type": "message", "text": "' + "a" * 70000 + '"}')
        assert (await patron.receive())["code"] == "frame_too_large"
        await patron.close()

    async def test_frames_before_hello(self, identity, token_for):
        socket = await connect("/ws/patron/")
        await socket.send({"type": "start", "client_id": "c", "text": "Halo"})
        assert (await socket.receive())["code"] == "hello_required"
        await socket.send({"type": "hello", "v": 1, "token": token_for(identity)})
        assert (await socket.receive())["type"] == "welcome"
        await socket.close()

    @pytest.mark.parametrize(("hello", "code", "close_code"), [
        ({"v": 2, "token": "x"}, "unsupported_version", 4400),
        ({"v": 1, "token": "forged.token.value"}, "token_invalid", 4401),
        ({"v": 1}, "invalid_frame", None),
    ])
    async def test_bad_hellos(self, hello, code, close_code):
        socket = await connect("/ws/patron/")
        await socket.send({"type": "hello", **hello})
        error = await socket.receive()
        assert (error["type"], error["code"]) == ("error", code)
        if close_code:
            assert await socket.closed_with() == close_code
        else:
            assert await socket.nothing_more()
            await socket.close()

    async def test_a_token_signed_for_another_purpose_is_forged(self, identity):
        from django.core import signing

        socket = await connect("/ws/patron/")
        forged = signing.dumps({"s": identity.site_key, "p": str(identity.patron_id)})
        await socket.send({"type": "hello", "v": 1, "token": forged})
        assert (await socket.receive())["code"] == "token_invalid"
        assert await socket.closed_with() == 4401

    async def test_an_expired_token(self, identity, token_for):
        token = token_for(identity)
        with override_settings(PATRON_TOKEN_MAX_AGE=-1):
            socket = await connect("/ws/patron/")
            await socket.send({"type": "hello", "v": 1, "token": token})
            error = await socket.receive()
        assert error["code"] == "token_expired" and error["message"]
        assert await socket.closed_with() == 4401

    async def test_a_librarian_socket_without_a_staff_user(self, make_librarian):
        anonymous = await connect("/ws/librarian/")
        error = await anonymous.receive()
        assert (error["type"], error["code"]) == ("error", "not_authenticated")
        assert await anonymous.closed_with() == 4403
        patron_user = await database_sync_to_async(make_librarian)("tamu", "Tamu", is_staff=False)
        not_staff = await librarian_socket(patron_user, hello=False)
        assert (await not_staff.receive())["code"] == "not_authenticated"
        assert await not_staff.closed_with() == 4403

    async def test_a_foreign_origin_is_refused(self):
        from channels.testing import WebsocketCommunicator

        from chatserver.asgi import application

        communicator = WebsocketCommunicator(application, "/ws/patron/",
                                             headers=[(b"origin", b"https://evil.example")])
        connected, _ = await communicator.connect()
        assert not connected

    @pytest.mark.parametrize(("frame", "code"), [
        ({"type": "claim"}, "invalid_frame"),
        ({"type": "claim", "conversation": "12"}, "invalid_frame"),
        ({"type": "claim", "conversation": 999999}, "not_found"),
        ({"type": "message", "conversation": 999999, "client_id": "l", "text": "Hi"}, "not_found"),
        ({"type": "typing", "conversation": 999999, "active": True}, "not_assigned"),
        ({"type": "close", "conversation": 999999}, "not_found"),
    ])
    async def test_librarian_frames(self, librarian, frame, code):
        desk = await librarian_socket(librarian)
        await desk.send(frame)
        error = await desk.receive()
        assert (error["type"], error["code"]) == ("error", code) and error["message"]
        await desk.send({"type": "ping"})
        assert (await desk.receive())["type"] == "pong"
        await desk.close()

    async def test_a_librarian_writing_to_a_chat_they_do_not_hold(
        self, identity, token_for, make_librarian
    ):
        siti = await database_sync_to_async(make_librarian)("siti", "Siti")
        budi = await database_sync_to_async(make_librarian)("budi", "Budi")
        patron = await patron_socket(token_for(identity))
        conversation_id = await ask(patron)
        desk = await librarian_socket(siti)
        await desk.send({"type": "claim", "conversation": conversation_id})
        await desk.receive_type("conversation")
        intruder = await librarian_socket(budi)
        await intruder.send({"type": "message", "conversation": conversation_id, "client_id": "b",
                             "text": "Saya ambil alih"})
        assert (await intruder.receive_type("error"))["code"] == "not_assigned"
        await intruder.send({"type": "close", "conversation": conversation_id})
        assert (await intruder.receive_type("error"))["code"] == "not_assigned"
        assert await conversation_status(conversation_id) == "active"
        assert len(await stored(conversation_id)) == 2
        for socket in (patron, desk, intruder):
            await socket.close()

    async def test_a_retried_message_is_acknowledged_again_not_stored_twice(
        self, identity, token_for
    ):
        patron = await patron_socket(token_for(identity))
        conversation_id = await ask(patron)
        acks = []
        for _attempt in range(2):
            await patron.send({"type": "message", "client_id": "same", "text": "Halo"})
            acks.append(await patron.receive_type("ack"))
        assert [ack["seq"] for ack in acks] == [2, 2]
        assert acks[1]["message"] == acks[0]["message"]  # the stored one, with its first sent_at
        assert acks[0]["message"]["text"] == "Halo"
        assert len(await stored(conversation_id)) == 2
        await patron.close()

    async def test_errors_speak_the_patrons_language(self, identity, token_for):
        english = await patron_socket(token_for(identity), lang="en")
        await english.send({"type": "close"})
        assert (await english.receive())["message"].startswith("There is no conversation")
        await english.close()


async def test_a_socket_that_never_says_hello_is_told_and_closed(monkeypatch):
    from reference.consumers.base import ProtocolConsumer

    monkeypatch.setattr(ProtocolConsumer, "hello_timeout", 0.2)
    socket = await connect("/ws/patron/")
    error = await socket.receive()
    assert (error["code"], error["type"]) == ("hello_timeout", "error")
    assert await socket.closed_with() == 4408


async def test_a_channel_layer_that_fails_ends_the_socket_with_an_error_frame_and_stops_its_tasks(
        monkeypatch, identity, token_for):
    """Whatever no rule foresaw (here the layer's receive dies under a live socket): the client is told
    in an `error` frame, the socket closes with 1011, and none of its tasks (the heartbeat above all)
    outlives it."""
    import asyncio

    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    breaking = asyncio.Event()
    real_receive = layer.receive

    async def breaks_on_cue(channel):
        receiving = asyncio.ensure_future(real_receive(channel))
        cue = asyncio.ensure_future(breaking.wait())
        done, _pending = await asyncio.wait({receiving, cue}, return_when=asyncio.FIRST_COMPLETED)
        if cue in done:
            receiving.cancel()
            raise RuntimeError("channel layer down")
        cue.cancel()
        return receiving.result()

    monkeypatch.setattr(layer, "receive", breaks_on_cue)
    socket = await patron_socket(token_for(identity))
    beats = [t for t in asyncio.all_tasks() if t.get_coro().__qualname__ == "ProtocolConsumer.beat"]
    assert beats, "the socket's heartbeat runs once it said hello"
    breaking.set()
    error = await socket.receive_type("error")
    assert error["code"] == "internal_error" and error["message"]
    assert await socket.closed_with() == 1011
    await asyncio.sleep(0.05)
    assert all(task.done() for task in beats), "the heartbeat of a failed socket must stop with it"
