"""Frames the fuzz (tests/test_fuzz_sockets.py) found to crash a socket or store what it must not,
each as a plain test: the frame, and the answer docs/protocol.md promises."""

import pytest

from tests.wsclient import open_chat, patron_socket

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


async def test_a_retried_start_is_answered_with_the_conversation_and_the_ack(identity, token_for):
    """The fuzz's {"type": "start", "client_id": "0", …} twice: the retry's `conversation` frame was
    built on the event loop from lazy relations (PostgreSQL: SynchronousOnlyOperation, close 1011)."""
    patron = await patron_socket(token_for(identity), lang="en")
    start = {"type": "start", "client_id": "0", "text": "Apakah buka hari Minggu?"}
    await patron.send(start)
    first = await patron.receive_type("ack")
    await patron.send(start)
    again = await patron.receive_type("conversation")
    assert again["conversation"]["id"] == first["conversation"]
    assert again["conversation"]["queue"]["name"] == "Umum"
    assert [m["seq"] for m in again["conversation"]["messages"]] == [1]
    ack = await patron.receive_type("ack")
    assert (ack["conversation"], ack["seq"]) == (first["conversation"], 1)
    await patron.send({"type": "ping"})
    await patron.receive_type("pong")
    await patron.close()


async def test_a_refused_second_hello_leaves_the_socket_as_it_was(identity, token_for, librarian):
    """A second hello that is refused (here `last_seq` of the wrong kind) changes nothing: the socket
    still follows its conversation. It used to leave every group first, then fail: the socket stayed
    open, said `pong`, and heard nothing more of its chat, not even in heartbeats."""
    token = token_for(identity)
    patron, desk, conversation_id = await open_chat(librarian, token)
    await patron.send({"type": "hello", "v": 1, "token": token, "last_seq": "x"})
    error = await patron.receive_type("error")
    assert (error["code"], error["field"]) == ("invalid_frame", "last_seq")
    await desk.send({"type": "message", "conversation": conversation_id, "client_id": "l-1", "text": "Masih di sini?"})
    heard = (await patron.receive_type("message"))["message"]
    assert (heard["seq"], heard["text"]) == (3, "Masih di sini?")
    await patron.close()
    await desk.close()
