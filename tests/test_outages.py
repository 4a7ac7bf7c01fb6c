"""Redis or PostgreSQL away for a few seconds: the service gets slower, it never drops a socket.

A daphne runs on the test's PostgreSQL database with a PRIVATE redis-server (killed and started
again) or with its database reached through a TCP relay of the test's own (cut and restored), so no
other test is disturbed. Real servers, real outages: nothing is mocked.
"""

import asyncio
import os
import uuid

import pytest
from channels.db import database_sync_to_async
from django.conf import settings

from bench.client import Client
from bench.common import daphne_command, free_port
from reference.models import Message
from reference.tokens import issue_patron_token
from tests.test_chaos import REDIS_SERVER, Server, private_redis  # noqa: F401 (a fixture)
from tests.wsclient import login_cookie

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not (settings.REDIS_URL and settings.DATABASE_URL),
                       reason="needs REDIS_URL and DATABASE_URL (the scale-out run of `make test`): a daphne on "
                              "PostgreSQL with a private Redis"),
    pytest.mark.skipif(not os.path.exists(REDIS_SERVER), reason=f"needs {REDIS_SERVER} for a private Redis"),
]

HEARTBEAT = 1


def daphne_env(redis_port, database_port=None):
    from django.db import connection

    s = connection.settings_dict
    prefix = f"rt:outage:{uuid.uuid4().hex[:8]}"
    return {**os.environ, "DJANGO_SETTINGS_MODULE": "chatserver.settings",
            "DATABASE_URL": f"postgres://{s['USER']}@{s['HOST']}:{database_port or s['PORT'] or 5432}/{s['NAME']}",
            "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0", "DB_CONN_MAX_AGE": "0",
            "CHANNEL_LAYER_PREFIX": prefix, "PRESENCE_PREFIX": prefix + ":presence",
            "RT_HEARTBEAT_INTERVAL": str(HEARTBEAT)}


@pytest.fixture
def start_daphne():
    servers = []

    def start(env):
        port = free_port()
        server = Server(f"daphne-outage-{len(servers)}", daphne_command(port), env, port)
        servers.append(server)
        server.start()
        return f"http://127.0.0.1:{port}"

    yield start
    for server in servers:
        server.stop()


async def open_chat(base_url, site, librarian):
    cookie = await database_sync_to_async(login_cookie)(librarian)
    desk = await Client.connect(base_url, "/ws/librarian/", cookie=cookie)
    await desk.hello()
    patron = await Client.connect(base_url, "/ws/patron/")
    await patron.hello(token=issue_patron_token(site.key))
    await patron.send(type="start", client_id="q", text="Apakah buka hari Minggu?")
    conversation_id = (await patron.wait_for(lambda f: f["type"] == "ack"))["conversation"]
    await desk.wait_for(lambda f: f["type"] == "queue.added")
    await desk.send(type="claim", conversation=conversation_id)
    await desk.wait_for(lambda f: f["type"] == "conversation" and f["conversation"]["status"] == "active")
    return patron, desk, conversation_id


async def answered(client, client_id, timeout=30):
    """The `ack` or `error` that answers the frame sent with `client_id`."""
    return await client.wait_for(lambda f: f.get("client_id") == client_id and f["type"] == "ack"
                                 or f["type"] == "error" and f.get("ref") == client_id, timeout)


async def still_open(client):
    await client.send(type="ping")
    before = sum(f["type"] == "pong" for f in client.frames)
    await client.wait_for(lambda f: f["type"] == "pong" and sum(g["type"] == "pong" for g in client.frames) > before)
    assert client.ws.close_code is None


def stored_texts(conversation_id):
    return list(Message.objects.filter(conversation_id=conversation_id).order_by("seq").values_list("text", flat=True))


async def test_a_redis_outage_acknowledges_every_stored_message_and_drops_no_socket(
        private_redis, start_daphne, site, librarian):  # noqa: F811
    base_url = start_daphne(daphne_env(private_redis.port))
    patron, desk, conversation_id = await open_chat(base_url, site, librarian)

    private_redis.kill()
    for n in range(5):
        await patron.send(type="message", client_id=f"p-{n}", text=f"selama Redis mati {n}")
        assert (await answered(patron, f"p-{n}"))["type"] == "ack"
    await desk.send(type="message", conversation=conversation_id, client_id="d-0", text="Saya masih di sini")
    assert (await answered(desk, "d-0"))["type"] == "ack"
    await asyncio.sleep(3 * HEARTBEAT)  # heartbeats that cannot reach Redis's presence store fail quietly
    await still_open(patron)
    await still_open(desk)
    private_redis.start()

    # Nothing was lost: the heartbeat's last_seq tells the desk how far the chat got, and a fetch reads it.
    last = (await database_sync_to_async(Message.objects.filter(conversation_id=conversation_id).count)())
    await desk.wait_for(lambda f: f["type"] == "heartbeat" and f["last_seq"].get(str(conversation_id)) == last, 30)
    await desk.send(type="fetch", conversation=conversation_id, after=0)
    fetched = await desk.wait_for(lambda f: f["type"] == "messages")
    assert [m["text"] for m in fetched["messages"]] == await database_sync_to_async(stored_texts)(conversation_id)
    assert not [f for f in patron.frames + desk.frames if f["type"] == "error"]
    # And live fan-out comes back with Redis (a message published before this process has
    # subscribed again is repaired by the heartbeat, as above: so send until one arrives live).
    for n in range(30):
        await patron.send(type="message", client_id=f"p-after-{n}", text=f"Redis kembali {n}")
        assert (await answered(patron, f"p-after-{n}"))["type"] == "ack"
        try:
            await desk.wait_for(lambda f: f["type"] == "message" and f["message"]["client_id"].startswith("p-after"),
                                1)
            break
        except AssertionError:
            continue
    else:
        raise AssertionError("no live `message` frame in 30 s after Redis came back")
    await patron.close()
    await desk.close()


class DatabaseRelay:
    """A TCP relay to PostgreSQL that the test can cut (every connection dropped, new ones refused)
    and restore: to the server behind it, that is the database going away."""

    def __init__(self, target_port):
        self.target_port, self.port, self.server, self.pipes = target_port, free_port(), None, set()

    async def start(self):
        self.server = await asyncio.start_server(self.relay, "127.0.0.1", self.port)

    async def relay(self, client_reader, client_writer):
        try:
            server_reader, server_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            client_writer.close()
            return
        for reader, writer in ((client_reader, server_writer), (server_reader, client_writer)):
            self.pipes.add(asyncio.ensure_future(self.pipe(reader, writer)))

    async def pipe(self, reader, writer):
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def cut(self):
        self.server.close()
        await self.server.wait_closed()
        for pipe in self.pipes:
            pipe.cancel()
        await asyncio.gather(*self.pipes, return_exceptions=True)
        self.pipes.clear()

    async def restore(self):
        await self.start()


async def test_a_database_outage_is_answered_unavailable_and_drops_no_socket(
        private_redis, start_daphne, site, librarian):  # noqa: F811
    from django.db import connection

    relay = DatabaseRelay(int(connection.settings_dict["PORT"] or 5432))
    await relay.start()
    base_url = start_daphne(daphne_env(private_redis.port, database_port=relay.port))
    patron, desk, conversation_id = await open_chat(base_url, site, librarian)

    await relay.cut()
    await patron.send(type="message", client_id="p-down", text="selama basis data mati")
    error = await answered(patron, "p-down")
    assert error["type"] == "error" and error["code"] == "unavailable" and error["message"]
    assert error["retry_after"] > 0
    await asyncio.sleep(3 * HEARTBEAT)
    await still_open(patron)
    await still_open(desk)
    await relay.restore()

    # The patron's widget sends it again, as it does after `unavailable`: stored once, acknowledged.
    await patron.send(type="message", client_id="p-down", text="selama basis data mati")
    await patron.wait_for(lambda f: f["type"] == "ack" and f["client_id"] == "p-down", 30)
    await desk.wait_for(lambda f: f["type"] == "message" and f["message"]["client_id"] == "p-down", 30)
    assert (await database_sync_to_async(stored_texts)(conversation_id)).count("selama basis data mati") == 1
    await patron.close()
    await desk.close()
    await relay.cut()
