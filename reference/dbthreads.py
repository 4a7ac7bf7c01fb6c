"""The threads the consumers' database work runs on.

`run(fn)` runs a call that publishes nothing; `change(fn)` runs a service, handing it an `outbox`
(reference.events), and sends what it published from the event loop once it returns (or raises:
what committed before the error is still sent). The database thread then never waits after a
commit for a busy event loop to send the frames (docs/delivery.md).

Calls run one at a time on Channels' database thread, so their frames leave in commit order
(presence, queues and statuses carry no number to be put back in order by). `parallel=True` is for
chat messages: on PostgreSQL they run on DATABASE_THREADS threads, each waiting for the server side
by side; the conversation's row lock numbers them, and clients order them by that seq.

`apart(fn)` is for long reads that a person waits for (reports, exports): Django runs a sync view
on that same database thread, so a report taking a second would hold up every claim, status and
(on SQLite) chat message for that second. They run on a thread of their own instead, one at a
time, while the consumers' work goes on.
"""

import functools
from concurrent.futures import ThreadPoolExecutor

from channels.db import DatabaseSyncToAsync, database_sync_to_async
from django.conf import settings

from reference.events import Outbox


@functools.cache
def parallel_threads():
    return ThreadPoolExecutor(settings.DATABASE_THREADS, thread_name_prefix="database")


@functools.cache
def long_read_thread():
    return ThreadPoolExecutor(1, thread_name_prefix="long-read")


def apart(fn):
    """`fn` as a coroutine function run on the long-read thread, not the consumers' database thread."""
    return DatabaseSyncToAsync(fn, thread_sensitive=False, executor=long_read_thread())


def _on_thread(fn, parallel):
    if parallel and settings.DATABASE_THREADS > 1:
        return DatabaseSyncToAsync(fn, thread_sensitive=False, executor=parallel_threads())
    return database_sync_to_async(fn)


def run(fn, *, parallel=False):
    """`fn` (which publishes nothing) as a coroutine function run on a database thread."""
    return _on_thread(fn, parallel)


def change(fn, *, parallel=False):
    """`fn(..., outbox=)` as a coroutine function: run on a database thread, then its frames sent."""
    def with_outbox(outbox, args, kwargs):
        try:
            return fn(*args, outbox=outbox, **kwargs), None
        except Exception as error:
            return None, error

    in_thread = _on_thread(with_outbox, parallel)

    async def call(*args, **kwargs):
        outbox = Outbox()
        result, error = await in_thread(outbox, args, kwargs)
        await outbox.flush()
        if error is not None:
            raise error
        return result

    return call
