"""Helpers for talking to the consumers through Channels' WebsocketCommunicator. The protocol side
(hello, frames of a type, messages) is bench/client.py's, shared with the live-server sockets."""

import json

from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from bench.client import Protocol
from chatserver.asgi import application

ORIGIN = (b"origin", b"http://127.0.0.1")
TIMEOUT = 5


class Socket(Protocol):
    welcome_first = True

    def __init__(self, communicator):
        self.communicator = communicator

    async def send(self, frame):
        await self.communicator.send_to(text_data=json.dumps(frame) if isinstance(frame, dict) else frame)

    async def receive(self):
        return await self.communicator.receive_json_from(timeout=TIMEOUT)

    async def nothing_more(self):
        return await self.communicator.receive_nothing(timeout=0.3)

    async def closed_with(self):
        output = await self.communicator.receive_output(timeout=TIMEOUT)
        assert output["type"] == "websocket.close", output
        return output.get("code")

    async def close(self):
        await self.communicator.disconnect()


async def connect(path, headers=()):
    communicator = WebsocketCommunicator(application, path, headers=[ORIGIN, *headers])
    connected, _subprotocol = await communicator.connect(timeout=TIMEOUT)
    assert connected
    return Socket(communicator)


async def patron_socket(token, **hello):
    socket = await connect("/ws/patron/")
    await socket.hello(token=token, **hello)
    return socket


def login_cookie(user):
    """The Cookie header value of a fresh logged-in session of `user` (sync: call it off the loop)."""
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


@database_sync_to_async
def session_cookie(user):
    return (b"cookie", login_cookie(user).encode())


async def librarian_socket(user, hello=True):
    socket = await connect("/ws/librarian/", [await session_cookie(user)])
    if hello:
        await socket.hello()
    return socket


async def ask(patron, text="Apakah buka hari Minggu?", client_id="p-1", **fields):
    """The patron asks (`start`); returns the conversation id from the ack."""
    await patron.send({"type": "start", "client_id": client_id, "text": text, **fields})
    ack = await patron.receive_type("ack")
    return ack["conversation"]


async def active_chat(patron, desk, drain=True):
    """The patron asks (seq 1), the librarian claims (seq 2, the join notice)."""
    await patron.send({"type": "start", "client_id": "p-1", "text": "Apakah buka hari Minggu?", "name": "Rina"})
    conversation_id = (await patron.receive_type("ack"))["conversation"]
    await desk.send({"type": "claim", "conversation": conversation_id})
    await desk.receive_type("conversation")
    while (await patron.receive_type("conversation"))["conversation"]["status"] != "active":
        pass
    for socket in (patron, desk) if drain else ():  # the claim's notices: not what these tests are about
        while not await socket.nothing_more():
            await socket.receive()
    return conversation_id


async def open_chat(user, token, drain=True, **hello):
    """A librarian's dashboard socket, a patron's socket (hello with `token` and `hello`), and the
    patron's question claimed by the librarian: (patron, desk, conversation id)."""
    desk = await librarian_socket(user)
    patron = await patron_socket(token, **hello)
    return patron, desk, await active_chat(patron, desk, drain)
