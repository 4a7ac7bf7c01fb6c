"""The embedded default's channel layer: Channels' in-memory layer, cleaning up less often.

Channels' layer walks every channel and every group membership of the process for expired messages
on each `receive` and `group_send`. With a thousand sockets that walk was a quarter of the busy
server's time (docs/performance.md, profile). Expiry is 60 s and group expiry a day, so doing it
at most once a second changes nothing anyone can see.
"""

import time

from channels.layers import InMemoryChannelLayer

CLEAN_EVERY = 1.0  # seconds


class ThrottledInMemoryChannelLayer(InMemoryChannelLayer):
    _cleaned_at = 0.0

    def _clean_expired(self):
        now = time.monotonic()
        if now - self._cleaned_at >= CLEAN_EVERY:
            self._cleaned_at = now
            super()._clean_expired()
