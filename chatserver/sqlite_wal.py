"""The embedded default's SQLite: the write-ahead log is copied back into the database by a thread
of its own, not by whichever chat message happens to commit when the log is full.

SQLite checkpoints a WAL of 1,000 pages inside the committing transaction, and the checkpoint ends
with an fsync of the database file. Under load that is a commit every second or so that waits for
the disk (docs/performance.md), with every socket's message queued behind it on the one database
thread. In the server process the connections
therefore never checkpoint (`wal_autocheckpoint=0`), and a thread runs a PASSIVE checkpoint every
`SQLITE_CHECKPOINT_EVERY` seconds: it takes no lock writers wait for, and its fsync keeps only
itself waiting. Other processes (migrate, load_demo, the admin's shell) keep SQLite's default.
"""

import logging
import threading

from django.conf import settings
from django.db import connection
from django.db.backends.signals import connection_created

logger = logging.getLogger(__name__)


def start():
    """In the server process: move checkpoints to their own thread (no-op on PostgreSQL, or when
    SQLITE_CHECKPOINT_EVERY is 0). Returns the running Checkpointer, or None."""
    every = settings.SQLITE_CHECKPOINT_EVERY
    if connection.vendor != "sqlite" or every <= 0:
        return None
    connection_created.connect(_no_checkpoint_on_commit, dispatch_uid=__name__)
    connection.close()  # one opened before now would still checkpoint on commit; the next is set up
    checkpointer = Checkpointer(every)
    checkpointer.start()
    return checkpointer


def _no_checkpoint_on_commit(sender, connection, **kwargs):
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_autocheckpoint=0")


class Checkpointer(threading.Thread):
    def __init__(self, every):
        super().__init__(name="sqlite-checkpoint", daemon=True)
        self.every, self.stopped = every, threading.Event()

    def run(self):
        while not self.stopped.wait(self.every):
            checkpoint()
        connection.close()

    def stop(self):
        """Commits checkpoint again, as SQLite does by default (tests)."""
        connection_created.disconnect(dispatch_uid=__name__)
        self.stopped.set()
        self.join()


def checkpoint():
    """One PASSIVE checkpoint on this thread's connection: (busy, frames in the log, frames copied
    back into the database), or None when it failed."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
            return cursor.fetchone()
    except Exception:  # a locked or vanished file now is no reason to stop checkpointing later
        logger.exception("SQLite checkpoint failed; trying again in %s s", settings.SQLITE_CHECKPOINT_EVERY)
        return None
