"""Chaos: the delivery promise holds through dropped sockets, a killed server process and a Redis restart.

Two daphne processes on the test's PostgreSQL database and a PRIVATE redis-server (so restarting it
disturbs no other test). Conversations run at a steady rate on both sides, with the clients of
`bench/resilient.py` (outbox, resume, gap fetches, heartbeats, backoff: what the browser clients
do), while sockets are cut at random, one daphne is SIGKILLed and restarted on the same port, and
Redis is restarted (empty: groups and presence are gone). At the end every message a client sent
was acknowledged, and every acknowledged message is stored exactly once and held, in order, by
both sides. Run with -s to see what it survived.
"""

import asyncio
import os
import shutil
import signal
import subprocess
import time
import uuid

import pytest
from channels.db import database_sync_to_async
from django.conf import settings

from bench.churn import Fleet, print_report, stored_messages
from bench.common import daphne_command, free_port, wait_for_port
from reference.tokens import issue_patron_token
from tests.wsclient import login_cookie

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.asyncio,
    pytest.mark.skipif(not (settings.REDIS_URL and settings.DATABASE_URL),
                       reason="needs REDIS_URL and DATABASE_URL (the scale-out run of `make test`): "
                              "two daphne processes on PostgreSQL and a private Redis"),
    pytest.mark.skipif(not os.path.exists(REDIS_SERVER), reason=f"needs {REDIS_SERVER} for a private Redis"),
]

CONVERSATIONS = 9
PER_LIBRARIAN = 3
RATE = 0.5  # messages per second per side per conversation
LOAD_SECONDS = 20
DROP_EVERY = 5  # mean seconds between drops of each socket
HEARTBEAT = 2
GRACE = 25
ARTIFACTS = os.environ.get("TEST_ARTIFACTS", "/tmp")


class Server:
    """One process we can SIGKILL and start again on the same port."""

    def __init__(self, name, argv, env, port):
        self.name, self.argv, self.env, self.port = name, argv, env, port
        self.process = None
        self.starts = 0
        self.logs = []

    def start(self):
        self.starts += 1
        path = os.path.join(ARTIFACTS, f"chaos-{self.name}-{self.port}-{self.starts}.log")
        self.logs.append(path)
        log = open(path, "w")
        self.process = subprocess.Popen(self.argv, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        wait_for_port(self.port, self.process, self.name)

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)

    def tail(self, lines=40):
        out = []
        for path in self.logs:
            with open(path, errors="replace") as log:
                out.append(f"--- {path}\n" + "".join(log.readlines()[-lines:]))
        return "\n".join(out)


@pytest.fixture
def private_redis():
    port = free_port()
    redis = Server("redis", [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no"], dict(os.environ), port)
    redis.start()
    yield redis
    redis.stop()


@pytest.fixture
def daphnes(private_redis):
    from django.db import connection

    s = connection.settings_dict
    prefix = f"rt:chaos:{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "chatserver.settings",
           "DATABASE_URL": f"postgres://{s['USER']}@{s['HOST']}:{s['PORT'] or 5432}/{s['NAME']}",
           "REDIS_URL": f"redis://127.0.0.1:{private_redis.port}/0",
           "CHANNEL_LAYER_PREFIX": prefix, "PRESENCE_PREFIX": prefix + ":presence",
           "RT_HEARTBEAT_INTERVAL": str(HEARTBEAT)}
    servers = []
    for index in range(2):
        port = free_port()
        servers.append(Server(f"daphne{index}", daphne_command(port), env, port))
    try:
        for server in servers:
            server.start()
        yield servers
    finally:
        for server in servers:
            server.stop()


@pytest.fixture
def people(site, make_librarian):
    """A session cookie per librarian (each holds PER_LIBRARIAN chats) and a token per patron."""
    librarians = [make_librarian(username=f"chaos{i}", display_name=f"Chaos {i}", max_chats=PER_LIBRARIAN)
                  for i in range(CONVERSATIONS // PER_LIBRARIAN)]
    return [login_cookie(user) for user in librarians], [issue_patron_token(site.key) for _ in range(CONVERSATIONS)]


async def test_nothing_is_lost_through_drops_a_killed_server_and_a_redis_restart(people, private_redis, daphnes):
    cookies, tokens = people
    urls = [f"http://127.0.0.1:{server.port}" for server in daphnes]
    fleet = Fleet(urls, tokens, cookies, per_librarian=PER_LIBRARIAN, seed=4, backoff_cap=2.0)
    events = []

    async def chaos():
        start = time.monotonic()

        def note(what):
            events.append(f"{time.monotonic() - start:5.1f} s  {what}")

        await asyncio.sleep(4)
        victim = daphnes[0]
        await asyncio.to_thread(victim.kill)
        note(f"SIGKILL daphne on :{victim.port}")
        await asyncio.sleep(3)
        await asyncio.to_thread(victim.start)
        note(f"daphne on :{victim.port} restarted")
        await asyncio.sleep(4)
        await asyncio.to_thread(private_redis.kill)
        note(f"SIGKILL redis on :{private_redis.port}")
        await asyncio.sleep(1.5)
        await asyncio.to_thread(private_redis.start)
        note("redis restarted (empty)")

    async def scenario():
        await fleet.open(30)
        await fleet.load(LOAD_SECONDS, RATE, DROP_EVERY, during=chaos())
        return await fleet.settle(GRACE)

    try:
        settled = await asyncio.wait_for(scenario(), 30 + LOAD_SECONDS + GRACE + 15)
    finally:
        await fleet.close()
    stored = await database_sync_to_async(stored_messages)([c for _p, _l, c in fleet.pairs])
    report = fleet.report(stored)
    report["settled_after_s"] = round(settled, 1) if settled is not None else f"NOT within {GRACE} s"
    print("\n== chaos: what it survived ==")
    print("\n".join(events))
    print_report(report)
    print(f"survived: {report['sent']} messages ({report['acknowledged']} acknowledged), {report['drops']} drops, "
          f"{report['reconnects']} reconnects, 1 daphne SIGKILL + restart, 1 Redis restart")
    logs = "\n".join(server.tail() for server in daphnes)

    assert report["sent"] >= CONVERSATIONS * (1 + LOAD_SECONDS * RATE), report
    assert report["unacknowledged"] == 0 and report["refused"] == 0, (report, logs)
    assert report["lost"] == 0 and report["undelivered"] == 0 and report["duplicated"] == 0, (report, logs)
    assert report["lists_differing_from_db"] == 0 and not report["problems"], (report, logs)
    assert settled is not None, (report, logs)
    for patron, librarian, conversation_id in fleet.pairs:
        rows = stored[conversation_id]
        assert rows and [seq for seq, _cid in rows] == list(range(1, len(rows) + 1))
        for side in (patron, librarian):
            assert [(m["seq"], m.get("client_id") or "") for m in side.log(conversation_id).ordered()] == rows
        for sender in (patron, librarian):
            for client_id, (acked_conversation, seq, _t) in sender.acked.items():
                if acked_conversation == conversation_id:
                    assert [cid for _seq, cid in rows].count(client_id) == 1
                    assert (seq, client_id) in rows
