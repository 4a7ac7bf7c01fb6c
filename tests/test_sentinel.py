"""Redis through Sentinel: `REDIS_URL=sentinel://…`, and a fail-over the service follows.

A private Redis master, its replica and one Sentinel (`redis-server --sentinel`). Two daphne
processes reach Redis only through the Sentinel: a patron on one and a librarian on the other talk
through the channel layer; then the Sentinel fails the master over to the replica, and they go on
talking without a restart.
"""

import asyncio
import os
import shutil
import time

import pytest
from channels.db import database_sync_to_async

from bench.client import Client
from bench.common import free_port
from chatserver.env import first_address, redis_from_url
from reference.tokens import issue_patron_token
from tests.test_chaos import Server
from tests.wsclient import login_cookie

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


@pytest.mark.parametrize("url, host", [
    ("redis://127.0.0.1:6379/2", "redis://127.0.0.1:6379/2"),
    ("sentinel://10.0.0.1:26379,10.0.0.2:26380/desk/3",
     {"sentinels": [("10.0.0.1", 26379), ("10.0.0.2", 26380)], "master_name": "desk", "db": 3}),
    ("sentinel://:rahasia@s1:26379/desk",
     {"sentinels": [("s1", 26379)], "master_name": "desk", "db": 0, "password": "rahasia"}),
])
def test_redis_url_becomes_the_layers_host(url, host):
    assert redis_from_url(url) == host
    assert first_address(url, 6379) == (("127.0.0.1", 6379) if url.startswith("redis") else host["sentinels"][0])


@pytest.mark.parametrize("url", ["sentinel://s1/desk", "sentinel://s1:26379", "sentinel://s1:26379/desk/x",
                                 "sentinel://:26379/desk"])
def test_a_bad_sentinel_url_is_refused_with_the_reason(url):
    with pytest.raises(ValueError, match="REDIS_URL"):
        redis_from_url(url)


def redis_cli(port, *args):
    import redis

    return redis.Redis(port=port, decode_responses=True).execute_command(*args)


def wait_until(test, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if test():
                return
        except Exception:  # noqa: BLE001 - a server still starting or failing over
            pass
        time.sleep(0.2)
    raise AssertionError(f"{what} within {timeout} s")


@pytest.fixture
def sentinel(tmp_path):
    """A master, its replica and a Sentinel watching them as `desk`; yields (sentinel port,
    master port, replica port)."""
    if not os.path.exists(REDIS_SERVER):
        pytest.skip(f"needs {REDIS_SERVER} for a private Redis master, replica and Sentinel")
    master_port, replica_port, sentinel_port = free_port(), free_port(), free_port()
    # No 5 s wait before the replica's first sync (Redis 7's default for diskless replication).
    # --dir: the replica writes the master's snapshot to disk while it syncs.
    common = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--repl-diskless-sync-delay", "0",
              "--dir", str(tmp_path)]
    config = tmp_path / "sentinel.conf"  # Sentinel rewrites its file: it must be its own
    config.write_text(f"port {sentinel_port}\nbind 127.0.0.1\n"
                      f"sentinel monitor desk 127.0.0.1 {master_port} 1\n"
                      "sentinel down-after-milliseconds desk 1000\nsentinel failover-timeout desk 10000\n")
    servers = [
        Server("sentinel-master", [REDIS_SERVER, "--port", str(master_port), *common], dict(os.environ), master_port),
        Server("sentinel-replica", [REDIS_SERVER, "--port", str(replica_port), *common,
                                    "--replicaof", "127.0.0.1", str(master_port)], dict(os.environ), replica_port),
        Server("sentinel", [REDIS_SERVER, str(config), "--sentinel"], dict(os.environ), sentinel_port),
    ]
    try:
        for server in servers:
            server.start()
        wait_until(lambda: redis_cli(replica_port, "INFO", "replication")["master_link_status"] == "up", 30,
                   "the replica did not sync with the master")
        wait_until(lambda: redis_cli(sentinel_port, "SENTINEL", "REPLICAS", "desk"), 30,
                   "the Sentinel found no replica to fail over to")
        yield sentinel_port, master_port, replica_port
    finally:
        for server in reversed(servers):
            server.stop()


def master_port_of(sentinel_port):
    return int(redis_cli(sentinel_port, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", "desk")[1])


@pytest.mark.django_db(transaction=True)
async def test_the_service_follows_a_sentinel_fail_over(sentinel, live_daphne, site, make_librarian):
    sentinel_port, master_port, replica_port = sentinel
    env = {"REDIS_URL": f"sentinel://127.0.0.1:{sentinel_port}/desk/0", "CHANNEL_LAYER_PREFIX": "rt:sentinel",
           "PRESENCE_PREFIX": "rt:sentinel:presence", "RT_HEARTBEAT_INTERVAL": "1"}
    first, second = live_daphne(env), live_daphne(env)
    siti = await database_sync_to_async(make_librarian)("siti", "Siti")
    desk = await Client.connect(first, "/ws/librarian/", await database_sync_to_async(login_cookie)(siti))
    await desk.hello()
    patron = await Client.connect(second, "/ws/patron/")
    await patron.hello(token=issue_patron_token(site.key))
    await patron.send(type="start", client_id="p-1", text="Ada koran Waspada 1998?")
    conversation_id = (await patron.wait_for(lambda f: f["type"] == "ack"))["conversation"]
    await desk.wait_for(lambda f: f["type"] == "queue.added" and f["conversation"]["id"] == conversation_id)
    await desk.send(type="claim", conversation=conversation_id)
    await patron.wait_for(lambda f: f["type"] == "conversation" and f["conversation"]["status"] == "active")
    assert redis_cli(master_port, "KEYS", "rt:sentinel:presence*"), "presence is kept on the master"

    await asyncio.to_thread(redis_cli, sentinel_port, "SENTINEL", "FAILOVER", "desk")
    await asyncio.to_thread(wait_until, lambda: master_port_of(sentinel_port) == replica_port, 30,
                            "the Sentinel did not promote the replica")
    await asyncio.to_thread(wait_until, lambda: redis_cli(replica_port, "ROLE")[0] == "master", 30,
                            "the replica did not become master")

    # Both processes reconnect to the new master by asking the Sentinel; new words go through live.
    await patron.send(type="message", client_id="p-2", text="Halo, masih di sana?")
    await patron.wait_for(lambda f: f["type"] == "ack" and f["client_id"] == "p-2")
    heard = await desk.wait_for(lambda f: f["type"] == "message" and f["message"]["client_id"] == "p-2", timeout=30)
    await desk.send(type="message", conversation=conversation_id, client_id="l-1", text="Ya, sebentar.")
    answered = await patron.wait_for(lambda f: f["type"] == "message" and f["message"]["client_id"] == "l-1",
                                     timeout=30)
    assert answered["message"]["seq"] == heard["message"]["seq"] + 1
    # The patron's widget beats every heartbeat: its presence comes back on the new master once
    # the Sentinel has turned the old master into a replica (it notices on its next INFO, up to
    # 10 s), which drops the old connections; until then the old master still takes writes.
    patrons = await asyncio.to_thread(redis_cli, replica_port, "KEYS", "rt:sentinel:presence:patrons*")
    await asyncio.to_thread(redis_cli, replica_port, "DEL", *patrons)
    await asyncio.to_thread(wait_until, lambda: redis_cli(replica_port, "KEYS", "rt:sentinel:presence:patrons*"),
                            30, "presence is not written to the new master")
    for client in (desk, patron):
        await client.close()
