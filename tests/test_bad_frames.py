"""Frames the fuzz (tests/test_fuzz_sockets.py) found to crash a socket or store what it must not,
each as a plain test: the frame, and the answer docs/protocol.md promises."""

import pytest

from tests.wsclient import patron_socket

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
