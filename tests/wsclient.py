"""Helpers for talking to the consumers through Channels' WebsocketCommunicator."""

import json

from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from chatserver.asgi import application

ORIGIN = (b"origin", b"http://127.0.0.1")
TIMEOUT = 5


class Socket:
    def __init__(self, communicator):
        self.communicator = communicator

    async def send(self, frame):
        await self.communicator.send_to(text_data=json.dumps(frame) if isinstance(frame, dict) else frame)

    async def receive(self):
        return await self.communicator.receive_json_from(timeout=TIMEOUT)

    async def receive_type(self, *types):
        """The next frame of one of `types`, skipping others (returned as well, for checks)."""
        skipped = []
        while True:
            frame = await self.receive()
            if frame["type"] in types:
                frame["_skipped"] = skipped
                return frame
            skipped.append(frame)

    async def receive_message(self, **expected):
        """The next `message` frame whose fields match `expected` (others are skipped)."""
        while True:
            message = (await self.receive_type("message"))["message"]
            if all(message[key] == value for key, value in expected.items()):
                return message

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
    await socket.send({"type": "hello", "v": 1, "token": token, **hello})
    welcome = await socket.receive()
    assert welcome["type"] == "welcome", welcome
    socket.welcome = welcome
    return socket


@database_sync_to_async
def session_cookie(user):
    client = Client()
    client.force_login(user)
    return (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())


async def librarian_socket(user, hello=True):
    socket = await connect("/ws/librarian/", [await session_cookie(user)])
    if hello:
        await socket.send({"type": "hello", "v": 1})
        welcome = await socket.receive()
        assert welcome["type"] == "welcome", welcome
        socket.welcome = welcome
    return socket
