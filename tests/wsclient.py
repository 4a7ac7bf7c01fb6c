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
