"""Database connections stay within the per-process budget (docs/deployment.md#connections).

A live daphne on PostgreSQL, named by its own `application_name`, serves HTTP requests of several
kinds (some at once) and a few WebSocket chats; pg_stat_activity counts its connections all along.
Under ASGI each HTTP request runs on a thread of its own: a connection it kept would stay open after
the thread ended (40 requests made 41 connections before the budget was kept).
"""

import asyncio
import threading
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.db import connection

from bench.client import Client
from reference.tokens import issue_patron_token
from tests.wsclient import login_cookie

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.asyncio,
    pytest.mark.skipif(not settings.DATABASE_URL,
                       reason="needs PostgreSQL (DATABASE_URL): connections are counted in pg_stat_activity"),
]

LONG_LIVED = settings.DATABASE_THREADS + 2  # Channels' database thread, DB_THREADS, the long-read thread
REQUESTS_AT_ONCE = 4  # the daphne's HTTP_REQUESTS_AT_ONCE
SENT_AT_ONCE = 12  # HTTP requests the test has in flight together: more than the daphne lets in


def _server_connection():
    s = connection.settings_dict
    return psycopg.connect(host=s["HOST"], port=s["PORT"] or 5432, user=s["USER"], password=s["PASSWORD"],
                           dbname=s["NAME"], autocommit=True)


class ConnectionCounter:
    """Counts the connections of one application_name every 20 ms on a thread: `peak`, and `now()`."""

    def __init__(self, name):
        self.name, self.peak, self.samples = name, 0, 0
        self._db = _server_connection()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def now(self):
        with _server_connection() as db:
            return self._count(db)

    def _count(self, db):
        return db.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
                          [self.name]).fetchone()[0]

    def _run(self):
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, self._count(self._db))
            self.samples += 1

    def stop(self):
        self._stop.set()
        self._thread.join(5)
        self._db.close()


def _get(url, headers=None):
    request = urllib.request.Request(url, headers={"Accept-Language": "en", **(headers or {})})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback, never a proxy
    with opener.open(request, timeout=30) as response:
        response.read()
        return response.status


async def _chat(base, site_key, desk, n):
    patron = await Client.connect(base, "/ws/patron/")
    await patron.hello(token=issue_patron_token(site_key), lang="en")
    await patron.send({"type": "start", "client_id": f"p-{n}", "text": f"Question {n}"})
    conversation_id = (await patron.wait_for(lambda f: f["type"] == "conversation"))["conversation"]["id"]
    await desk.wait_for(lambda f: f["type"] == "queue.added" and f["conversation"]["id"] == conversation_id)
    await desk.send({"type": "claim", "conversation": conversation_id})
    await patron.wait_for(lambda f: f["type"] == "conversation" and f["conversation"]["status"] == "active")
    await desk.send({"type": "message", "conversation": conversation_id, "client_id": f"l-{n}", "text": "Hello"})
    await patron.wait_for(lambda f: f["type"] == "message" and f["message"]["role"] == "librarian")
    await patron.send({"type": "message", "client_id": f"p-{n}-2", "text": "Thanks"})
    await desk.wait_for(lambda f: f["type"] == "ack" and f.get("client_id") == f"l-{n}")
    await desk.send({"type": "close", "conversation": conversation_id})
    await patron.close()


@pytest.mark.parametrize("pool_size", ["0", "10"], ids=["default", "pool"])
async def test_requests_and_chats_keep_the_connection_budget(live_daphne, site, make_librarian, pool_size):
    """The default: DB_THREADS + 2 + HTTP_REQUESTS_AT_ONCE per process. With DB_POOL_SIZE: that."""
    name = f"rt-budget-{uuid.uuid4().hex[:8]}"
    s = connection.settings_dict
    base = live_daphne({
        "DATABASE_URL": f"postgres://{s['USER']}@{s['HOST']}:{s['PORT'] or 5432}/{s['NAME']}?application_name={name}",
        "DB_CONN_MAX_AGE": "60",  # the production default: long-lived threads keep theirs
        "DB_POOL_SIZE": pool_size,
        "HTTP_REQUESTS_AT_ONCE": str(REQUESTS_AT_ONCE),
    })
    librarian = await database_sync_to_async(make_librarian)(max_chats=8)
    await database_sync_to_async(type(librarian).objects.filter(pk=librarian.pk).update)(is_superuser=True)
    cookie = await database_sync_to_async(login_cookie)(librarian)
    origin = "https://perpustakaan.example"
    kinds = [
        (f"/widget/sites/{site.key}/config", {"Origin": origin}),
        (f"/widget/sites/{site.key}/chat/", {}),
        ("/dashboard/", {"Cookie": cookie}),
        ("/faq/", {}),
        ("/api/faq/search?q=jam+buka", {}),
        ("/staff/transcripts/", {"Cookie": cookie}),
        ("/staff/reports/", {"Cookie": cookie}),
        ("/login/", {}),
    ]
    requests = [kinds[i % len(kinds)] for i in range(48)]
    counter = ConnectionCounter(name)
    try:
        desk = await Client.connect(base, "/ws/librarian/", cookie)
        await desk.hello(lang="en")
        with ThreadPoolExecutor(SENT_AT_ONCE) as http:
            loop = asyncio.get_running_loop()
            statuses = asyncio.gather(*[loop.run_in_executor(http, _get, base + path, headers)
                                        for path, headers in requests])
            await asyncio.gather(*[_chat(base, site.key, desk, n) for n in range(4)])
            statuses = await statuses
        assert statuses == [200] * len(requests)
        await desk.close()
        settled = counter.now()
        for _ in range(100):  # a request's connection goes just after its response
            if settled <= (LONG_LIVED if pool_size == "0" else int(pool_size)):
                break
            await asyncio.sleep(0.05)
            settled = counter.now()
    finally:
        counter.stop()
    assert counter.samples > 10, "pg_stat_activity was sampled during the load"
    budget = int(pool_size) if pool_size != "0" else LONG_LIVED + REQUESTS_AT_ONCE
    assert counter.peak <= budget, f"{counter.peak} connections at the peak, budget {budget}"
    if pool_size == "0":
        # Nothing left behind by the requests: at most the long-lived threads' own. (A pool keeps
        # what it opened for the next requests; a request that kept its connection would have
        # emptied it, and the requests after it would have failed.)
        assert settled <= LONG_LIVED, f"{settled} connections left after {len(requests)} requests"
