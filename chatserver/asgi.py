"""ASGI entry point: HTTP through Django, WebSockets through Channels."""

import asyncio
import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatserver.settings")
django_http = get_asgi_application()  # sets Django up before the consumers are imported

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402

from chatserver import sqlite_wal  # noqa: E402
from chatserver.routing import websocket_urlpatterns  # noqa: E402
from chatserver.static_files import StaticFiles  # noqa: E402
from chatserver.websocket_origin import SameOriginValidator  # noqa: E402


class AtOnce:
    """At most `limit` HTTP requests inside Django at once (0: no limit); the others wait their turn
    on the event loop, holding nothing. Under ASGI each request runs on a thread of its own with a
    database connection of its own, so this bounds a process's connections for requests
    (docs/deployment.md#connections)."""

    def __init__(self, app, limit):
        self.app, self.limit, self.turns = app, limit, None

    async def __call__(self, scope, receive, send):
        if not self.limit:
            return await self.app(scope, receive, send)
        if self.turns is None:
            self.turns = asyncio.Semaphore(self.limit)
        async with self.turns:
            return await self.app(scope, receive, send)


application = ProtocolTypeRouter(
    {
        # Static files are few and small (the widget and the dashboard); Django serves them so
        # that one daphne process is the whole service. A CDN or proxy can take them over.
        "http": StaticFiles(AtOnce(django_http, settings.HTTP_REQUESTS_AT_ONCE)),
        # Both sockets are opened from pages on our own origin (the widget runs in our iframe): the
        # Origin must be ours, scheme and port included (chatserver.websocket_origin); only the
        # librarian's socket carries a session (chatserver.routing).
        "websocket": SameOriginValidator(URLRouter(websocket_urlpatterns)),
    }
)

sqlite_wal.start()  # the embedded default's log is written back off the message path

# Python's collector pauses the one event loop every sockets shares. What is loaded by now lives as
# long as the process: freeze it so no collection walks it again, and collect the young generation
# less often (most objects die by reference counting anyway). The collector's pauses were the event
# loop's tail latency under load (docs/performance.md).
gc.collect()
gc.freeze()
gc.set_threshold(20_000, 20, 100)
