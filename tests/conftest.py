"""Shared fixtures. The same suite runs on the embedded default and on PostgreSQL + Redis."""

import socket
import threading
import uuid
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.db import connections

from bench.common import daphne_command, free_port, wait_for_port
from chatserver.env import first_address
from reference.models import LibrarianProfile, Queue
from reference.tokens import PatronIdentity, issue_patron_token
from tests.browser import (  # noqa: F401 (fixtures)
    _playwright,
    browser,
    host_page,
    library_page,
    logged_in_dashboard,
    new_page,
)
from widgets.models import Site

# The suite imports chatserver.asgi in this process; its SQLite checkpoint thread is the server's
# (live_daphne runs it; tests/test_sqlite_wal.py starts one on purpose), not this process's.
settings.SQLITE_CHECKPOINT_EVERY = 0


def _reachable(url, default_port):
    try:
        with socket.create_connection(first_address(url, default_port), 2):
            return True
    except OSError:
        return False


def pytest_collection_modifyitems(config, items):
    """With DATABASE_URL/REDIS_URL set, every test needs that server: skip, saying so, if absent."""
    missing = []
    if settings.DATABASE_URL and not _reachable(settings.DATABASE_URL, 5432):
        missing.append(f"PostgreSQL at {urlsplit(settings.DATABASE_URL).netloc} is not reachable")
    if settings.REDIS_URL and not _reachable(settings.REDIS_URL, 6379):
        missing.append(f"Redis at {urlsplit(settings.REDIS_URL).netloc} is not reachable")
    if missing:
        skip = pytest.mark.skip(reason="; ".join(missing))
        for item in items:
            item.add_marker(skip)


@pytest.fixture(scope="session", autouse=True)
def _database_threads_let_go(django_db_setup):
    """Chat messages run on reference.dbthreads' own database threads. A call still running when its
    test ends cannot close its connection (pytest-django blocks the database by then), and
    PostgreSQL refuses to drop the test database while a connection is open: close each thread's
    connections before the database goes."""
    yield
    from reference import dbthreads

    if not dbthreads.parallel_threads.cache_info().currsize:
        return
    pool = dbthreads.parallel_threads()
    everyone = threading.Barrier(pool._max_workers)  # one task per thread: each waits for the others

    def let_go():
        everyone.wait(timeout=10)
        connections.close_all()

    for done in [pool.submit(let_go) for _ in range(pool._max_workers)]:
        done.result()


@pytest.fixture(autouse=True)
def _faq_lists_as_migrate_left_them(request):
    """Every database test starts with the synonyms, spellings and topic labels that migrate
    installs (0018), even after a transactional test's flush removed them, and no process cache
    remembers the flushed state."""
    marker = request.node.get_closest_marker("django_db")
    transactional = "transactional_db" in request.fixturenames or "live_daphne" in request.fixturenames or (
        marker is not None and marker.kwargs.get("transaction"))
    if marker is None and not {"db", "transactional_db"} & set(request.fixturenames):
        return
    request.getfixturevalue("transactional_db" if transactional else "db")
    from reference.faq import defaults
    from reference.faq.search import expansion
    from reference.models import FaqEntry, FaqSpelling, FaqSynonym, FaqTopic

    if not FaqSpelling.objects.exists():
        defaults.install(FaqSynonym, FaqSpelling, FaqTopic, FaqEntry)
    expansion.forget_synonyms()
    expansion.forget_spellings()


@pytest.fixture(autouse=True)
def _fresh_channel_layer():
    """Each test starts with an empty layer, presence store, rate-limit counters and cover lists sent
    (in-process) or its own key prefixes (Redis)."""
    from channels.layers import channel_layers

    from reference import cover, limits
    from reference.offline_questions import forget_desk_states
    from reference.presence_store import reset_store

    channel_layers.backends.clear()
    reset_store()
    forget_desk_states()
    cover.forget_sent()
    if settings.REDIS_URL:
        prefix = f"rt:test:{uuid.uuid4().hex[:8]}"
        settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = prefix
        settings.PRESENCE_PREFIX = prefix + ":presence"
        settings.LIMITS_PREFIX = prefix + ":limits"
    limits.reset()
    yield
    channel_layers.backends.clear()
    reset_store()
    limits.reset()


@pytest.fixture
def queue(db):
    return Queue.objects.create(name="Umum", slug="umum")


@pytest.fixture
def other_queue(db):
    return Queue.objects.create(name="Anak-anak", slug="anak")


@pytest.fixture
def site(queue):
    return Site.objects.create(
        name="Perpustakaan Kota", key="test-site", default_queue=queue,
        allowed_origins="https://perpustakaan.example", greeting="Halo!",
    )


@pytest.fixture
def make_librarian(django_user_model, queue):
    def make(username="siti", display_name="Siti", max_chats=3, queues=None, is_staff=True):
        user = django_user_model.objects.create_user(username=username, password="pw-" + username,
                                                     is_staff=is_staff)
        profile = LibrarianProfile.objects.create(user=user, display_name=display_name, max_chats=max_chats)
        profile.queues.set([queue] if queues is None else queues)
        return user

    return make


@pytest.fixture
def librarian(make_librarian):
    return make_librarian()


@pytest.fixture
def make_identity(site):
    def make(site_key=None):
        return PatronIdentity(site_key=site_key or site.key, patron_id=uuid.uuid4())

    return make


@pytest.fixture
def identity(make_identity):
    return make_identity()


@pytest.fixture
def token_for():
    def make(identity):
        return issue_patron_token(identity.site_key, identity.patron_id)

    return make


@pytest.fixture
async def chat(identity, token_for, librarian):
    """A patron who asked and the librarian holding the chat, each on a socket (Channels'
    communicator), the claim's notices drained: yields (patron, desk, conversation id)."""
    from tests.wsclient import open_chat

    patron, desk, conversation_id = await open_chat(librarian, token_for(identity))
    yield patron, desk, conversation_id
    await patron.close()
    await desk.close()


@pytest.fixture
def live_daphne(transactional_db):
    """Start real daphne processes on the test database; returns a function giving base URLs.

    Use with `django_db(transaction=True)`: what the test writes is committed, so the servers
    see it. With REDIS_URL set they share the Redis channel layer, like a scaled-out service.
    """
    import os
    import subprocess

    from django.db import connection

    processes = []
    by_url = {}

    def start(env_extra=None, port=None):
        port = port or free_port()
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "chatserver.settings"}
        if connection.vendor == "sqlite":
            env["SQLITE_PATH"] = connection.settings_dict["NAME"]
        else:
            s = connection.settings_dict
            env["DATABASE_URL"] = f"postgres://{s['USER']}@{s['HOST']}:{s['PORT'] or 5432}/{s['NAME']}"
        if settings.REDIS_URL:
            env["CHANNEL_LAYER_PREFIX"] = settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"]
            env["PRESENCE_PREFIX"] = settings.PRESENCE_PREFIX
            env["LIMITS_PREFIX"] = settings.LIMITS_PREFIX
        env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set for the browser tests' own code (tests/browser.py)
        env.update(env_extra or {})  # a test's own settings win (its own Redis, say)
        log = open(os.path.join(os.environ.get("TEST_ARTIFACTS", "/tmp"), f"daphne-{port}.log"), "w")
        process = subprocess.Popen(daphne_command(port), env=env, stdout=log, stderr=subprocess.STDOUT)
        processes.append(process)
        try:
            wait_for_port(port, process, "daphne")
        except RuntimeError as failed:
            raise RuntimeError(f"{failed}; see {log.name}") from None
        by_url[f"http://127.0.0.1:{port}"] = process
        return f"http://127.0.0.1:{port}"

    def kill(url):
        """SIGKILL: no clean shutdown, no disconnect handlers, like a crashed server."""
        by_url[url].kill()
        by_url[url].wait(10)

    start.kill = kill
    yield start
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(10)
        except Exception:
            process.kill()

