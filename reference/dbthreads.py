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

These threads live as long as the process, so they keep their PostgreSQL connection
(`DB_CONN_MAX_AGE` seconds, `keep_connection`). Every other thread closes its own at the end of
its call or request (`CONN_MAX_AGE` 0): under ASGI each HTTP request runs on a thread of its own,
and a connection kept there would stay open after its thread ended (docs/deployment.md#connections).
"""

import functools
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from channels.db import DatabaseSyncToAsync
from django.conf import settings

from reference.events import Outbox

_thread = threading.local()  # .long_lived: this thread runs only calls made through this module


class _OnLongLivedThread(DatabaseSyncToAsync):
    def thread_handler(self, loop, *args, **kwargs):
        _thread.long_lived = True
        return super().thread_handler(loop, *args, **kwargs)


def keep_connection(sender, connection, **kwargs):
    """`connection_created`: a connection made on one of this module's threads is kept for
    DB_CONN_MAX_AGE seconds (CONN_MAX_AGE, 0, would close it after each call). Channels' database
    thread also runs calls made elsewhere (channels.auth); it counts once one of ours has run there."""
    if getattr(_thread, "long_lived", False) and connection.vendor == "postgresql":
        connection.close_at = time.monotonic() + settings.DB_CONN_MAX_AGE


@functools.cache
def parallel_threads():
    return ThreadPoolExecutor(settings.DATABASE_THREADS, thread_name_prefix="database")


@functools.cache
def long_read_thread():
    return ThreadPoolExecutor(1, thread_name_prefix="long-read")


def apart(fn):
    """`fn` as a coroutine function run on the long-read thread, not the consumers' database thread."""
    return _OnLongLivedThread(fn, thread_sensitive=False, executor=long_read_thread())


def _on_thread(fn, parallel):
    if parallel and settings.DATABASE_THREADS > 1:
        return _OnLongLivedThread(fn, thread_sensitive=False, executor=parallel_threads())
    return _OnLongLivedThread(fn)  # Channels' database thread


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
