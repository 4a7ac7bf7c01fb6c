"""Fan-out of frames through the channel layer, after the data is committed.

The database is the source of truth; the channel layer only tells connected sockets that something
changed. A service publishes into an `Outbox` it is given; each frame is kept back until the
transaction around it commits, so no socket ever hears of a change that could still be rolled back.

Who sends what the outbox holds depends on where the service ran:
* `Outbox` (what reference.dbthreads.change passes to a consumer's call): the frames are collected
  and the event loop sends them once the call returns, in commit order, so the database thread
  never waits for a busy loop;
* `DirectOutbox` (views, management commands, tests that call a service directly): each frame goes
  to the layer as its transaction commits.
"""

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

EVENT_TYPE = "frame.out"  # handled by ProtocolConsumer.frame_out
SESSION_ENDED = "session.ended"  # handled by StaffConsumer.session_ended

logger = logging.getLogger(__name__)


def _event(group, frame, origin):
    # `origin`: the sending socket's channel name; it does not get its own frame back.
    return {"type": EVENT_TYPE, "group": group, "frame": frame, "origin": origin}


class Outbox:
    """Frames for the event loop to send, gathered from one call on a database thread."""

    def __init__(self):
        self.committed = []  # (group, event), in commit order

    def publish(self, group, frame, *, origin=None):
        """Send `frame` to every socket in `group` once the current transaction commits."""
        event = _event(group, frame, origin)
        transaction.on_commit(lambda: self.on_commit(group, event))

    def on_commit(self, group, event):
        self.committed.append((group, event))

    async def flush(self):
        """Send what committed. A frame the layer cannot take (Redis away) is logged and left: the
        data is stored, and the heartbeat's last_seq and the clients' resume bring it to every socket
        (docs/delivery.md). The caller's answer, an `ack` above all, never waits on the layer."""
        layer = get_channel_layer()
        committed, self.committed = self.committed, []
        for group, event in committed:
            await _send(layer, group, event)


class DirectOutbox(Outbox):
    """For callers outside the event loop: each frame is sent as its transaction commits."""

    def on_commit(self, group, event):
        async_to_sync(_send)(get_channel_layer(), group, event)


def end_session(session_key):
    """Close every staff socket of a login session that has just logged out (reference.apps)."""
    from reference import groups

    try:
        async_to_sync(get_channel_layer().group_send)(groups.session(session_key), {"type": SESSION_ENDED})
    except Exception:  # the session is gone all the same: its sockets fail their next check
        logger.warning("could not close the sockets of a session that logged out", exc_info=True)


def outbox_or_direct(outbox):
    """The outbox a service publishes into: the one it was given, else one of its own."""
    return outbox if outbox is not None else DirectOutbox()


async def publish_now(group, frame, *, origin=None):
    """For transient frames that store nothing (typing): straight to the layer."""
    await _send(get_channel_layer(), group, _event(group, frame, origin))


async def _send(layer, group, event):
    try:
        await layer.group_send(group, event)
    except Exception:
        logger.warning("fan-out of %s to %s failed; clients repair it from the database", event["frame"]["type"],
                       group, exc_info=True)
