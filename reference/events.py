"""Fan-out of frames through the channel layer, after the data is committed.

The database is the source of truth; the channel layer only tells connected sockets that something
changed. Every publish waits for the surrounding transaction to commit, so no socket ever hears of
a message that could still be rolled back.
"""

import functools
import threading
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import async_to_sync
from channels.db import DatabaseSyncToAsync, database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import transaction

from reference.payloads import conversation_payload

EVENT_TYPE = "frame.out"  # handled by ProtocolConsumer.frame_out
STAFF_GROUP = "staff"  # every dashboard socket: colleagues' presence and load


def conversation_group(conversation_id):
    return f"conv.{conversation_id}"


def conversation_of_group(group):
    """The conversation id of a `conversation_group` name, else None."""
    prefix, _dot, conversation_id = group.partition(".")
    return int(conversation_id) if prefix == "conv" else None


def queue_group(queue_id):
    return f"queue.{queue_id}"


def librarian_group(user_id):
    return f"librarian.{user_id}"


def patron_group(patron_id):
    return f"patron.{patron_id.hex if hasattr(patron_id, 'hex') else patron_id}"


def publish(group, frame, *, origin=None):
    """Send `frame` to every socket in `group` once the current transaction commits.

    `origin` is the sending socket's channel name; it does not get its own transient frames back.
    """
    event = {"type": EVENT_TYPE, "group": group, "frame": frame, "origin": origin}
    transaction.on_commit(lambda: _group_send(group, event))


_collecting = threading.local()  # .events: frames committed during an on_database_thread call


def _group_send(group, event):
    collected = getattr(_collecting, "events", None)
    if collected is not None:
        collected.append((group, event))
    else:
        async_to_sync(get_channel_layer().group_send)(group, event)


@functools.cache
def _database_threads():
    return ThreadPoolExecutor(settings.DATABASE_THREADS, thread_name_prefix="database")


def on_database_thread(fn, *, parallel=False):
    """Channels' database_sync_to_async, for the consumers: the frames `fn` publishes are sent from
    the event loop once it returns (or raises), instead of the database thread stopping after each
    commit until the busy loop has sent them (bench: a third of the server's time at 1,000 msg/s).

    Calls run one at a time on Channels' database thread, so their frames leave in commit order
    (presence, queues, status carry no number to be put back in order by). `parallel=True` is for
    chat messages: on PostgreSQL they run on DATABASE_THREADS threads, each waiting for the server
    side by side; the conversation's row lock numbers them, and clients order them by that seq."""
    def collecting(*args, **kwargs):
        outer, collected = getattr(_collecting, "events", None), []
        _collecting.events = collected
        try:
            return fn(*args, **kwargs), collected, None
        except Exception as error:  # what committed before the error is still sent
            return None, collected, error
        finally:
            _collecting.events = outer

    if parallel and settings.DATABASE_THREADS > 1:
        in_thread = DatabaseSyncToAsync(collecting, thread_sensitive=False, executor=_database_threads())
    else:
        in_thread = database_sync_to_async(collecting)

    async def call(*args, **kwargs):
        result, collected, error = await in_thread(*args, **kwargs)
        layer = get_channel_layer()
        for group, event in collected:
            await layer.group_send(group, event)
        if error is not None:
            raise error
        return result

    return call


def publish_waiting(conversation, **extra):
    """Tell the members of a conversation's queue that it waits there (new, put back, sent on)."""
    payload = {**conversation_payload(conversation, for_librarian=True), **extra}
    publish(queue_group(conversation.queue_id), {"type": "queue.added", "conversation": payload})


async def publish_now(group, frame, *, origin=None):
    """For transient frames that store nothing (typing): straight to the layer."""
    event = {"type": EVENT_TYPE, "group": group, "frame": frame, "origin": origin}
    await get_channel_layer().group_send(group, event)
