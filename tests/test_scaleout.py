"""Scale-out for real: several daphne processes on PostgreSQL and the Redis channel layer."""

import asyncio
import json

import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.test import Client

from reference.tokens import issue_patron_token

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.asyncio,
    pytest.mark.skipif(not (settings.REDIS_URL and settings.DATABASE_URL),
                       reason="needs REDIS_URL and DATABASE_URL (the scale-out run of `make test`)"),
]


async def open_socket(base_url, path, cookie=None):
    import websockets

    headers = {"Origin": base_url}
    if cookie:
        headers["Cookie"] = cookie
    return await websockets.connect(base_url.replace("http", "ws", 1) + path, additional_headers=headers)


async def receive_type(socket, kind, timeout=10):
    while True:
        frame = json.loads(await asyncio.wait_for(socket.recv(), timeout))
        if frame["type"] == kind:
            return frame


def login_cookie(user):
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}"


async def test_patron_and_librarian_on_different_processes(live_daphne, site, librarian):
    first, second = live_daphne(), live_daphne()
    cookie = await database_sync_to_async(login_cookie)(librarian)
    desk = await open_socket(second, "/ws/librarian/", cookie)
    await desk.send(json.dumps({"type": "hello", "v": 1}))
    await receive_type(desk, "welcome")
    patron = await open_socket(first, "/ws/patron/")
    await patron.send(json.dumps({"type": "hello", "v": 1, "token": issue_patron_token(site.key)}))
    await receive_type(patron, "welcome")

    await patron.send(json.dumps({"type": "start", "client_id": "p-1", "text": "Jam buka?"}))
    conversation_id = (await receive_type(desk, "queue.added"))["conversation"]["id"]
    await desk.send(json.dumps({"type": "claim", "conversation": conversation_id}))
    state = await receive_type(patron, "conversation")
    while state["conversation"]["status"] != "active":
        state = await receive_type(patron, "conversation")
    assert state["conversation"]["librarian"] == {"name": "Siti"}

    # Idle past redis-py 8's 5-second socket timeout, then use both sockets again.
    await asyncio.sleep(6)
    await desk.send(json.dumps({"type": "message", "conversation": conversation_id,
                                "client_id": "l-1", "text": "Pukul 08.00–16.00."}))
    reply = await receive_type(patron, "message")
    while reply["message"]["role"] != "librarian":
        reply = await receive_type(patron, "message")
    assert reply["message"]["text"] == "Pukul 08.00–16.00."
    await patron.send(json.dumps({"type": "message", "client_id": "p-2", "text": "Terima kasih"}))
    heard = await receive_type(desk, "message")
    while heard["message"]["role"] != "patron":
        heard = await receive_type(desk, "message")
    assert heard["message"]["seq"] == 4
    await patron.close()
    await desk.close()


async def test_the_redis_layer_is_in_use():
    from channels.layers import get_channel_layer

    assert type(get_channel_layer()).__name__ == "RedisPubSubChannelLayer"
