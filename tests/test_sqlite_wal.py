"""The embedded default's server checkpoints SQLite's write-ahead log on a thread of its own."""

import time

import pytest
from django.db import connection

from chatserver import sqlite_wal
from reference.models import Patron

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sqlite():
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only: the embedded default (DATABASE_URL unset)")


def pragma(name):
    with connection.cursor() as cursor:
        cursor.execute(f"PRAGMA {name}")
        return cursor.fetchone()[0]


def test_commits_leave_the_log_to_the_checkpoint_thread(sqlite, settings, site):
    settings.SQLITE_CHECKPOINT_EVERY = 0.2
    checkpointer = sqlite_wal.start()
    try:
        assert pragma("wal_autocheckpoint") == 0  # a connection opened in the server process
        for _ in range(50):
            Patron.objects.create(site=site)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # the thread has copied every frame back
            busy, frames, copied = sqlite_wal.checkpoint()
            if frames == copied:
                break
            time.sleep(0.1)
        assert (busy, frames == copied) == (0, True)
        assert checkpointer.is_alive()
    finally:
        checkpointer.stop()
    connection.close()
    assert pragma("wal_autocheckpoint") == 1000  # stopped: SQLite's default again


def test_nothing_changes_when_switched_off_or_on_postgresql(settings):
    settings.SQLITE_CHECKPOINT_EVERY = 0
    assert sqlite_wal.start() is None
    settings.SQLITE_CHECKPOINT_EVERY = 1
    if connection.vendor != "sqlite":
        assert sqlite_wal.start() is None


def test_a_failed_checkpoint_is_logged_and_tried_again(sqlite, settings, caplog, monkeypatch):
    settings.SQLITE_CHECKPOINT_EVERY = 0.05
    calls = []

    class Gone:
        vendor = "sqlite"

        def cursor(self):
            calls.append(1)
            raise OSError("disk gone")

    checkpointer = sqlite_wal.start()
    try:
        monkeypatch.setattr(sqlite_wal, "connection", Gone())
        deadline = time.monotonic() + 5
        while len(calls) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        monkeypatch.undo()
        assert len(calls) >= 2 and checkpointer.is_alive()
        assert "SQLite checkpoint failed" in caplog.text
    finally:
        checkpointer.stop()
