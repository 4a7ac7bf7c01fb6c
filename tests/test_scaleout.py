"""Scale-out for real: several daphne processes on PostgreSQL and the Redis channel layer."""

import asyncio

import pytest
from channels.db import database_sync_to_async
from django.conf import settings

from bench.client import Client
from reference.tokens import issue_patron_token
from tests.wsclient import login_cookie

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.asyncio,
    pytest.mark.skipif(not (settings.REDIS_URL and settings.DATABASE_URL),
                       reason="needs REDIS_URL and DATABASE_URL (the scale-out run of `make test`)"),
]


async def test_patron_and_librarian_on_different_processes(live_daphne, site, librarian):
    first, second = live_daphne(), live_daphne()
    cookie = await database_sync_to_async(login_cookie)(librarian)
    desk = await Client.connect(second, "/ws/librarian/", cookie)
    await desk.hello()
    patron = await Client.connect(first, "/ws/patron/")
    await patron.hello(token=issue_patron_token(site.key))

    await patron.send({"type": "start", "client_id": "p-1", "text": "Jam buka?"})
    conversation_id = (await desk.receive_type("queue.added"))["conversation"]["id"]
    await desk.send({"type": "claim", "conversation": conversation_id})
    state = await patron.receive_type("conversation")
    while state["conversation"]["status"] != "active":
        state = await patron.receive_type("conversation")
    assert state["conversation"]["librarian"] == {"name": "Siti"}

    # Idle past redis-py 8's 5-second socket timeout, then use both sockets again.
    await asyncio.sleep(6)
    await desk.send({"type": "message", "conversation": conversation_id,
                     "client_id": "l-1", "text": "Pukul 08.00–16.00."})
    reply = await patron.receive_type("message")
    while reply["message"]["role"] != "librarian":
        reply = await patron.receive_type("message")
    assert reply["message"]["text"] == "Pukul 08.00–16.00."
    await patron.send({"type": "message", "client_id": "p-2", "text": "Terima kasih"})
    heard = await desk.receive_type("message")
    while heard["message"]["role"] != "patron":
        heard = await desk.receive_type("message")
    assert heard["message"]["seq"] == 4
    await patron.close()
    await desk.close()


async def test_the_redis_layer_is_in_use():
    from channels.layers import get_channel_layer

    assert type(get_channel_layer()).__name__ == "RedisPubSubChannelLayer"
