"""What both WebSocket endpoints share: parsing, the hello gate, errors as frames, fan-out."""

import asyncio
import functools
import json
import logging
import random

from channels.consumer import get_handler_name
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import InterfaceError, OperationalError
from django.utils import translation
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from reference import dbthreads, frames, groups, protocol, receipts, selectors, sweeps
from reference.errors import ServiceError
from reference.models import Role
from reference.protocol import field

logger = logging.getLogger(__name__)

# The database or Redis is away for a moment (a restart, a fail-over, "too many clients"): the frame
# is answered `unavailable`, nothing changed, and the socket stays open.
UNAVAILABLE_RETRY_AFTER = 5  # seconds
OUTAGES = (OperationalError, InterfaceError, RedisConnectionError, RedisTimeoutError, ConnectionError, TimeoutError)

try:  # daphne's transport raises this when a fan-out frame races the socket's close
    from autobahn.exception import Disconnected as SocketGone
except ImportError:  # another ASGI server
    class SocketGone(Exception):
        pass


class ProtocolConsumer(AsyncWebsocketConsumer):
    """Subclasses define `role`, `hello(frame)`, `visible_conversation(id)` (sync, raises
    ServiceError("not_found")) and `on_<type>(frame)` handlers (dots become underscores)."""

    role = None
    # The client frames this endpoint answers, as docs/protocol.md lists them (tests/test_frame_checks.py
    # holds the two to each other): nothing else reaches a handler, whatever methods the class has.
    frame_types = frozenset()
    hello_timeout = protocol.HELLO_TIMEOUT
    heartbeat = None
    hello_watch = None

    accepted = False
    gone = False  # the socket has closed: frames still queued for it go nowhere
    cleaned_up = False  # disconnect() has run: its groups are left and its tasks stopped

    async def __call__(self, scope, receive, send):
        """Channels' AsyncConsumer.__call__ with a cheaper loop. Channels waits for the socket and
        the channel layer with an `asyncio.wait(FIRST_COMPLETED)` and a new task for every message
        (python/cpython#74741; docs/performance.md). Here one reader per
        source hands its messages over one at a time, and each is dispatched in the order it came."""
        self.scope = scope
        self.channel_layer = get_channel_layer(self.channel_layer_alias)
        self.channel_name = await self.channel_layer.new_channel()
        self.channel_receive = functools.partial(self.channel_layer.receive, self.channel_name)
        self.base_send = send
        inbox = asyncio.Queue(maxsize=1)  # a reader waits while a message is being dispatched
        readers = [asyncio.create_task(_read_into(inbox, source)) for source in (receive, self.channel_receive)]
        try:
            while True:
                message, error = await inbox.get()
                if error is not None:
                    raise error
                await self.dispatch(message)
        except StopConsumer:
            pass
        except Exception:
            logger.exception("socket %s failed", self.channel_name)
            await self.fail()
        finally:
            for reader in readers:
                reader.cancel()
            await asyncio.gather(*readers, return_exceptions=True)
            if not self.cleaned_up:  # it failed before its disconnect: no task may outlive it
                try:
                    await self.disconnect(1011)
                except Exception:
                    logger.exception("socket %s: cleaning up after a failure failed", self.channel_name)

    async def fail(self):
        """Whatever went wrong that no rule foresaw: say so in a frame, then close (1011). The client
        reconnects and resumes; everything acknowledged before is stored."""
        if self.gone:
            return
        try:
            if not self.accepted:  # refused before it opened: there is no frame to send yet
                await self.close(code=1011)
                return
            with translation.override(getattr(self, "language", settings.LANGUAGE_CODE)):
                await self.send_error(ServiceError("internal_error"))
        except Exception:
            logger.exception("could not close socket %s with an error frame", self.channel_name)

    async def connect(self):
        self.ready = False
        self.language = protocol.choose_language(None, self.scope.get("headers", []))
        self.joined = set()
        self.unjoined = set()  # joined, but the channel layer was away: retried on the heartbeat
        await self.accept()
        self.accepted = True
        self.hello_watch = asyncio.create_task(self.expect_hello())

    async def expect_hello(self):
        """A socket that never says hello holds a slot for nothing: close it, saying why."""
        await asyncio.sleep(self.hello_timeout)
        if not self.ready:
            with translation.override(self.language):
                await self.send_error(ServiceError("hello_timeout"))

    async def disconnect(self, code):
        self.gone = True
        self.cleaned_up = True
        for task in (self.hello_watch, self.heartbeat):
            if task is not None:
                task.cancel()
        for group in list(getattr(self, "joined", ())):
            await self.leave(group)

    async def dispatch(self, message):
        """As Channels does, without its trip to the database thread before every event to close
        stale connections (docs/performance.md): every database call here goes
        through reference.dbthreads (Channels' database_sync_to_async), which closes them on either
        side of itself."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def receive(self, text_data=None, bytes_data=None):
        ref = None
        with translation.override(self.language):
            try:
                frame = protocol.parse_frame(text_data)
                ref = frame.get("client_id") if isinstance(frame.get("client_id"), str) else frame["type"]
                await self.dispatch_frame(frame)
            except ServiceError as error:
                await self.send_error(error, ref)
            except OUTAGES:
                logger.warning("socket %s: %s answered `unavailable`", self.channel_name, ref, exc_info=True)
                await self.send_error(ServiceError("unavailable", retry_after=UNAVAILABLE_RETRY_AFTER), ref)

    async def dispatch_frame(self, frame):
        kind = frame["type"]
        if kind not in self.frame_types:
            raise ServiceError("unknown_type")
        if kind == "hello":
            protocol.check_version(frame)
            # A repeated hello starts afresh: the groups it does not join again are left once it has
            # succeeded. One that is refused changes nothing: the socket still follows what it followed.
            previous, self.joined = self.joined, set()
            language, self.language = self.language, protocol.choose_language(frame.get("lang"),
                                                                               self.scope.get("headers", []))
            try:
                with translation.override(self.language):
                    await self.hello(frame)
            except BaseException:
                self.joined |= previous
                self.language = language
                raise
            for group in previous - self.joined:
                self.joined.add(group)
                await self.leave(group)
            self.ready = True
            if self.heartbeat is None:
                self.heartbeat = asyncio.create_task(self.beat())
            return
        handler = getattr(self, "on_" + kind.replace(".", "_"))
        if not self.ready:
            raise ServiceError("hello_required")
        await handler(frame)

    async def on_ping(self, frame):
        await self.send_frame(frames.pong())

    async def on_fetch(self, frame):
        """A client that saw a gap (or a heartbeat ahead of it) reads the missing range again."""
        conversation_id = field(frame, "conversation", int)
        after = field(frame, "after", int)
        before = field(frame, "before", int, required=False)
        if after < 0:
            raise ServiceError("invalid_frame", field="after")
        found, more = await dbthreads.run(self._fetch)(conversation_id, after, before)
        await self.send_frame(frames.messages(conversation_id, found, more))

    def _fetch(self, conversation_id, after, before):
        return selectors.messages_between(self.visible_conversation(conversation_id), after, before)

    async def on_read(self, frame):
        conversation_id = field(frame, "conversation", int)
        seq = field(frame, "seq", int)
        await dbthreads.change(self._read)(conversation_id, seq)

    def _read(self, conversation_id, seq, outbox):
        conversation = self.visible_conversation(conversation_id)
        receipts.do_mark_read(conversation=conversation, role=self.role, seq=seq, outbox=outbox)

    def visible_conversation(self, conversation_id):
        raise NotImplementedError

    async def heartbeat_extra(self):
        return {}

    def followed_conversations(self):
        return [c for c in map(groups.conversation_of, self.joined) if c is not None]

    async def beat(self):
        """Tell the client we are alive, and how far each of its conversations has got: a fan-out
        frame the channel layer lost is then fetched within one interval, even when no later
        message would have shown the gap. Daphne's own WebSocket pings find dead clients."""
        interval = settings.HEARTBEAT_INTERVAL
        await asyncio.sleep(interval * random.uniform(0.5, 1))  # spread the beats of many sockets
        while True:
            try:
                await self.beat_once()
            except Exception:  # Redis failing over, the database restarting: beat again next time
                logger.exception("heartbeat of %s failed", self.channel_name)
            await asyncio.sleep(interval)

    async def beat_once(self):
        await self.rejoin()
        await sweeps.run()
        followed = self.followed_conversations()
        last = await dbthreads.run(selectors.last_seqs)(followed) if followed else {}
        await self.send_frame(frames.heartbeat(last, **await self.heartbeat_extra()))

    async def send_error(self, error, ref=None):
        await self.send_frame(frames.error(error, ref))
        if error.fatal_close_code:
            await self.close(code=error.fatal_close_code)

    async def send_frame(self, frame):
        if self.gone:
            return
        try:
            await self.send(text_data=json.dumps(frame, cls=DjangoJSONEncoder, ensure_ascii=False))
        except SocketGone:
            # Closed before its disconnect event reached us; the database keeps the frame's content
            # and the client's resume fetches it.
            self.gone = True

    async def join(self, group):
        """Listen to `group`. With Redis away the subscription is retried on every heartbeat; until
        then the heartbeat's last_seq shows the client what it missed (docs/delivery.md)."""
        if group not in self.joined:
            self.joined.add(group)
            try:
                await self.channel_layer.group_add(group, self.channel_name)
            except Exception:
                logger.warning("socket %s could not join %s; retrying on its heartbeat", self.channel_name, group,
                               exc_info=True)
                self.unjoined.add(group)

    async def leave(self, group):
        if group in self.joined:
            self.joined.discard(group)
            self.unjoined.discard(group)
            try:
                await self.channel_layer.group_discard(group, self.channel_name)
            except Exception:  # Redis away: its subscription ends with the connection anyway
                logger.warning("socket %s could not leave %s", self.channel_name, group, exc_info=True)

    async def rejoin(self):
        for group in list(self.unjoined):
            await self.channel_layer.group_add(group, self.channel_name)
            self.unjoined.discard(group)

    async def frame_out(self, event):
        """A frame published to one of our groups (see reference.events)."""
        if event.get("origin") == self.channel_name:
            return
        await self.on_group_frame(event["frame"], event["group"])

    async def on_group_frame(self, frame, group):
        await self.send_frame(frame)


async def _read_into(inbox, source):
    """Put what `source` (the socket's receive, or the channel layer's) yields into `inbox`; its
    error too, for the consumer's loop to raise as Channels' would."""
    while True:
        try:
            message = await source()
        except Exception as error:
            await inbox.put((None, error))
            return
        await inbox.put((message, None))


class StaffConsumer(ProtocolConsumer):
    """A socket of a staff page (the dashboard or another): only an active staff user may use it."""

    role = Role.LIBRARIAN

    session_group = None

    async def connect(self):
        await super().connect()
        user = self.scope.get("user")
        if not (user and user.is_authenticated and user.is_active and user.is_staff):
            await self.send_error(ServiceError("not_authenticated"))
            return
        # Outside `joined` (which a repeated hello empties): the socket lives as long as its login.
        self.session_group = groups.session(self.scope["session"].session_key)
        try:
            await self.channel_layer.group_add(self.session_group, self.channel_name)
        except Exception:
            logger.warning("socket %s will not hear of its session's logout", self.channel_name, exc_info=True)

    async def disconnect(self, code):
        await super().disconnect(code)
        if self.session_group:
            try:
                await self.channel_layer.group_discard(self.session_group, self.channel_name)
            except Exception:
                logger.warning("socket %s could not leave its session's group", self.channel_name, exc_info=True)

    async def session_ended(self, event):
        """Its login session logged out (reference.events.end_session): no more staff work here."""
        with translation.override(self.language):
            await self.send_error(ServiceError("logged_out"))

    @property
    def user(self):
        return self.scope["user"]
