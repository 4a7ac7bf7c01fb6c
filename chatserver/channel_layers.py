"""The embedded default's channel layer: Channels' in-memory layer, cleaning up less often and
fanning out without a task per member.

Channels' layer walks every channel and every group membership of the process for expired messages
on each `receive` and `group_send`; with a thousand sockets that walk dominated a busy server's
profile (docs/performance.md). Expiry is 60 s and group expiry a day, so doing it
at most once a second changes nothing anyone can see.
"""

import asyncio
import logging
import time
from copy import deepcopy

from channels.layers import InMemoryChannelLayer

logger = logging.getLogger(__name__)

CLEAN_EVERY = 1.0  # seconds


class ThrottledInMemoryChannelLayer(InMemoryChannelLayer):
    _cleaned_at = 0.0

    def _clean_expired(self):
        now = time.monotonic()
        if now - self._cleaned_at >= CLEAN_EVERY:
            self._cleaned_at = now
            super()._clean_expired()

    async def group_send(self, group, message):
        """Put `message` on every member's queue, in one pass.

        Channels' version starts a task per member and deep-copies the message for each, and drops
        it without a word for a member whose queue is full. Here the members share one copy (a
        consumer reads events, never changes them), a full queue is logged (the database still
        holds what the frame told of, and the client's heartbeat shows it the gap), and a message
        naming its `origin` channel (reference.events: the socket that sent it) skips that one.
        """
        assert isinstance(message, dict), "Message is not a dict"
        self.require_valid_group_name(group)
        self._clean_expired()
        members = [channel for channel in self.groups.get(group, ()) if channel != message.get("origin")]
        if not members:
            return
        shared = deepcopy(message)
        expires = time.time() + self.expiry
        for channel in members:
            try:
                self._queue(channel).put_nowait((expires, shared))
            except asyncio.QueueFull:
                logger.warning("channel %s is full: a frame of group %s was not queued for it", channel, group)

    def _queue(self, channel):
        queue = self.channels.get(channel)
        if queue is None:
            queue = self.channels[channel] = asyncio.Queue(maxsize=self.get_capacity(channel))
        return queue
