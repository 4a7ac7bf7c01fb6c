"""Protocol v1 clients that keep the delivery promise the way the browser clients do.

Only the standard library, `websockets` and bench/client.py. Used by `bench/churn.py` and `tests/test_chaos.py`.

A client (`ResilientPatron`, `ResilientLibrarian`):

* connects to one of `urls` chosen at random on every (re)connect (a load balancer without sticky
  sessions), with `Origin` = that base URL;
* says `hello` with what it holds (`last_seq` for a patron, `since` for a librarian);
* keeps an outbox of unacknowledged frames and re-sends them, same `client_id`, after every
  `welcome` (and the patron's `start` too: the server acknowledges a retried question again);
* keeps per conversation the messages it holds, by `seq` (copies are dropped), fetches a gap
  (`seq` > contiguous + 1) and what a `heartbeat` says it is behind on;
* reconnects with exponential backoff and jitter, and after 2.5 heartbeat intervals of silence;
* records times (`time.monotonic()`): when each own message was first queued (by client_id), when
  it was acknowledged, and when each seq of each conversation first arrived, and how (`live`,
  `welcome`, `fetch`, `claim`, `own`);
* `drop()` cuts the TCP connection without a close frame (a network drop).

Call `start()` to run it in the background and `close()` at the end. Nothing here raises into the
caller: errors are counted in `errors` (by code) and kept in `error_log`.
"""

import asyncio
import json
import random
import time
import uuid
from collections import Counter, OrderedDict

import websockets

if __package__ in (None, ""):  # read as `python bench/resilient.py`
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.client import FATAL_CODES, open_socket, ws_url  # noqa: E402


class ConversationLog:
    """What one client holds of one conversation."""

    def __init__(self, conversation_id):
        self.id = conversation_id
        self.messages = {}  # seq -> message dict
        self.received_at = {}  # seq -> monotonic time it first arrived
        self.via = {}  # seq -> "live" | "welcome" | "fetch" | "claim" | "own"
        self.contiguous = 0  # every seq up to this one is held
        self.copies = 0  # frames for a seq already held (expected after a resume; dropped)
        self.status = None

    def add(self, message, how, now):
        seq = message["seq"]
        if seq in self.messages:
            self.copies += 1
            return False
        self.messages[seq] = message
        self.received_at[seq] = now
        self.via[seq] = how
        while self.contiguous + 1 in self.messages:
            self.contiguous += 1
        return True

    @property
    def highest(self):
        return max(self.messages, default=0)

    def ordered(self):
        return [self.messages[seq] for seq in sorted(self.messages)]


class ResilientClient:
    role = None
    path = None

    def __init__(self, urls, *, name="", headers=None, heartbeat=20.0, backoff_base=0.25, backoff_cap=3.0,
                 open_timeout=5.0, rng=None):
        if isinstance(urls, str):
            urls = [urls]
        self.urls = list(urls)
        self.name = name
        self.headers = dict(headers or {})
        self.heartbeat = heartbeat  # replaced by the interval `welcome` announces
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.open_timeout = open_timeout
        self.rng = rng or random.Random()
        self.conversations = {}  # id -> ConversationLog
        self.outbox = OrderedDict()  # client_id -> frame, until acknowledged
        self.queued_at = {}  # client_id -> monotonic time the app handed it over
        self.send_count = Counter()  # client_id -> how many times it went on a wire
        self.send_sockets = {}  # client_id -> set of connection numbers it went out on
        self.sent_frames = {}  # client_id -> the frame (kept after the ack)
        self.queued_on = {}  # client_id -> connection number it was queued on (None: while disconnected)
        self.acked_on = {}  # client_id -> connection number its ack came on
        self.acked = {}  # client_id -> (conversation id, seq, monotonic time)
        self.failed = {}  # client_id -> error frame (refused for good, e.g. conversation_closed)
        self.errors = Counter()
        self.error_log = []
        self.connects = 0  # successful welcomes
        self.attempts = 0  # connection attempts
        self.drops = 0  # drop() calls that cut a live socket
        self.disconnects = 0  # connections lost for any reason after welcome
        self.watchdog_fired = 0
        self.fetches = 0
        self.frames = Counter()
        self.ws = None
        self.ready = False
        self.url = None
        self.connection_no = 0
        self.welcomed = asyncio.Event()
        self._fetching = {}  # conversation id -> `after` of the fetch in flight
        self._last_frame = time.monotonic()
        self._stopping = False
        self._task = None
        self.fatal = None

    # ---------------------------------------------------------------- public

    def start(self):
        self._task = asyncio.create_task(self._run(), name=f"resilient-{self.name}")
        return self

    async def close(self):
        self._stopping = True
        ws = self.ws
        if ws is not None:
            try:
                await asyncio.wait_for(ws.close(), 2)
            except Exception:  # noqa: BLE001 - closing anyway
                ws.transport.abort()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def drop(self):
        """Cut the connection abruptly (no close frame), like a network drop. True if one was cut."""
        ws = self.ws
        if ws is None or ws.transport is None or ws.transport.is_closing():
            return False
        self.drops += 1
        ws.transport.abort()
        return True

    async def wait_ready(self, timeout):
        await asyncio.wait_for(self.welcomed.wait(), timeout)

    def log(self, conversation_id):
        log = self.conversations.get(conversation_id)
        if log is None:
            log = self.conversations[conversation_id] = ConversationLog(conversation_id)
        return log

    def unacked(self):
        return list(self.outbox)

    def went_through_reconnect(self, client_id):
        """Queued while disconnected, or acknowledged on another connection than it was queued on."""
        queued_on = self.queued_on.get(client_id)
        return queued_on is None or queued_on != self.acked_on.get(client_id)

    # ---------------------------------------------------------------- sending

    def _queue(self, frame):
        client_id = frame["client_id"]
        self.outbox[client_id] = frame
        self.sent_frames[client_id] = frame
        self.queued_at[client_id] = time.monotonic()
        self.queued_on[client_id] = self.connection_no if self.ready else None
        if self.ready:
            asyncio.create_task(self._send_out(client_id, self.ws, self.connection_no))
        return client_id

    async def _send_out(self, client_id, ws, number):
        frame = self.outbox.get(client_id)
        if frame is None or ws is None:
            return
        self.send_count[client_id] += 1
        self.send_sockets.setdefault(client_id, set()).add(number)
        await self._send(frame, ws)

    async def _send(self, frame, ws=None):
        ws = ws or self.ws
        if ws is None:
            return False
        try:
            await ws.send(json.dumps(frame))
            return True
        except (websockets.ConnectionClosed, OSError, RuntimeError):
            return False  # the reader notices and reconnects; the outbox keeps the frame

    def fetch(self, conversation_id, after):
        if self._fetching.get(conversation_id) == after or not self.ready:
            return
        self._fetching[conversation_id] = after
        self.fetches += 1
        asyncio.create_task(self._send({"type": "fetch", "conversation": conversation_id, "after": after}))

    # ---------------------------------------------------------------- connection loop

    async def _run(self):
        failures = 0
        while not self._stopping:
            url = self.rng.choice(self.urls)
            self.attempts += 1
            try:
                ws = await open_socket(ws_url(url, self.path), url, self.headers, timeout=self.open_timeout,
                                       close_timeout=1, max_size=2**22)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - refused, reset, timed out: try again later
                self.errors[f"connect:{type(exc).__name__}"] += 1
                failures += 1
                await self._backoff(failures)
                continue
            self.ws, self.url, self.ready = ws, url, False
            self.connection_no += 1
            self._fetching.clear()
            self._last_frame = time.monotonic()
            helpers = [asyncio.create_task(self._watchdog(ws))]
            welcomed = False
            try:
                await ws.send(json.dumps(self.hello_frame()))
                async for raw in ws:
                    self._last_frame = time.monotonic()
                    frame = json.loads(raw)
                    kind = frame.get("type")
                    self.frames[kind] += 1
                    if kind == "welcome":
                        welcomed = True
                        failures = 0
                        self.connects += 1
                        await self._on_welcome(frame, ws)
                        helpers.extend(self.extra_tasks(ws))
                    else:
                        await self._on_frame(kind, frame)
            except asyncio.CancelledError:
                raise
            except (websockets.ConnectionClosed, OSError):
                pass
            except Exception as exc:  # noqa: BLE001 - count it, reconnect
                self.errors[f"client:{type(exc).__name__}"] += 1
                self.error_log.append(repr(exc))
            finally:
                for helper in helpers:
                    helper.cancel()
                self.ready = False
                self.welcomed.clear()
                if self.ws is ws:
                    self.ws = None
                ws.transport.abort()
            if welcomed:
                self.disconnects += 1
            if self.fatal:
                return
            failures += 1
            await self._backoff(failures)

    async def _backoff(self, failures):
        if self._stopping:
            return
        delay = min(self.backoff_cap, self.backoff_base * 2 ** (failures - 1))
        await asyncio.sleep(delay * self.rng.uniform(0.5, 1.0))

    async def _watchdog(self, ws):
        """Nothing heard for 2.5 heartbeat intervals: the socket is dead, whatever TCP says."""
        while True:
            await asyncio.sleep(min(1.0, self.heartbeat / 4))
            if time.monotonic() - self._last_frame > 2.5 * self.heartbeat:
                self.watchdog_fired += 1
                ws.transport.abort()
                return

    def extra_tasks(self, ws):
        return []

    async def _on_welcome(self, frame, ws):
        if frame.get("heartbeat"):
            self.heartbeat = float(frame["heartbeat"])
        self.on_welcome(frame)
        self.ready = True
        self.welcomed.set()
        for client_id in list(self.outbox):
            await self._send_out(client_id, ws, self.connection_no)
        for log in self.conversations.values():
            if log.highest > log.contiguous:
                self.fetch(log.id, log.contiguous)

    async def _on_frame(self, kind, frame):
        now = time.monotonic()
        if kind == "ack":
            client_id = frame.get("client_id")
            if client_id in self.outbox:
                frame_out = self.outbox.pop(client_id)
                self.acked[client_id] = (frame["conversation"], frame["seq"], now)
                self.acked_on[client_id] = self.connection_no
                self.on_ack(frame, frame_out)
                self.ingest(frame["message"], "own")  # the sending socket gets no copy of its own
        elif kind == "message":
            self.ingest(frame["message"], "live")
        elif kind == "messages":
            conversation_id = frame["conversation"]
            self._fetching.pop(conversation_id, None)
            for message in frame["messages"]:
                self.ingest(message, "fetch")
            log = self.log(conversation_id)
            if frame.get("more") or log.highest > log.contiguous:
                self.fetch(conversation_id, log.contiguous)
        elif kind == "heartbeat":
            for key, seq in (frame.get("last_seq") or {}).items():
                log = self.log(int(key))
                if seq > log.contiguous:
                    self.fetch(log.id, log.contiguous)
        elif kind == "error":
            code = frame.get("code")
            self.errors[code] += 1
            if len(self.error_log) < 200:
                self.error_log.append(frame)
            ref = frame.get("ref")
            if code in FATAL_CODES:
                self.fatal = frame
            elif ref in self.outbox and code not in {"bad_json", "frame_too_large"}:
                self.failed[ref] = frame  # refused for good (e.g. conversation_closed): not retried
                self.outbox.pop(ref)
            elif ref == "fetch":
                self._fetching.clear()
        else:
            self.on_frame(kind, frame)

    def ingest(self, message, how):
        """Hold a message once, by seq; a seq beyond contiguous + 1 reveals a gap: fetch it."""
        log = self.log(message["conversation"])
        log.add(message, how, time.monotonic())
        if log.highest > log.contiguous and how not in {"fetch", "own"}:
            self.fetch(log.id, log.contiguous)

    # ---------------------------------------------------------------- per role

    def hello_frame(self):
        raise NotImplementedError

    def on_welcome(self, frame):
        pass

    def on_ack(self, ack, frame):
        pass

    def on_frame(self, kind, frame):
        pass


class ResilientPatron(ResilientClient):
    role = "patron"
    path = "/ws/patron/"

    def __init__(self, urls, token, **kwargs):
        super().__init__(urls, **kwargs)
        self.token = token
        self.conversation_id = None
        self.started = asyncio.Event()

    def hello_frame(self):
        last = self.conversations[self.conversation_id].contiguous if self.conversation_id else 0
        return {"type": "hello", "v": 1, "token": self.token, "last_seq": last}

    def on_welcome(self, frame):
        conversation = frame.get("conversation")
        if conversation:
            self._adopt(conversation["id"])
            self.log(conversation["id"]).status = conversation["status"]
        for message in frame.get("messages") or []:
            self.ingest(message, "welcome")

    def _adopt(self, conversation_id):
        if self.conversation_id is None:
            self.conversation_id = conversation_id
            self.log(conversation_id)
        self.started.set()

    def ask(self, text, name=""):
        """The question that starts the conversation (seq 1)."""
        frame = {"type": "start", "client_id": new_client_id("q"), "text": text}
        if name:
            frame["name"] = name
        return self._queue(frame)

    def say(self, text):
        return self._queue({"type": "message", "client_id": new_client_id("p"), "text": text})

    def on_ack(self, ack, frame):
        if frame["type"] == "start":
            self._adopt(ack["conversation"])

    def on_frame(self, kind, frame):
        if kind == "conversation":
            conversation = frame["conversation"]
            self._adopt(conversation["id"])
            self.log(conversation["id"]).status = conversation["status"]
            for message in conversation.get("messages") or []:
                self.ingest(message, "live")


class ResilientLibrarian(ResilientClient):
    """Claims the conversations it is told to `want` whenever it sees them waiting."""

    role = "librarian"
    path = "/ws/librarian/"

    def __init__(self, urls, cookie, **kwargs):
        headers = dict(kwargs.pop("headers", None) or {})
        headers["Cookie"] = cookie
        super().__init__(urls, headers=headers, **kwargs)
        self.want = set()
        self.held = set()
        self.waiting = set()
        self.claims = 0
        self.presence_beat = 10.0

    def hello_frame(self):
        since = {str(c): log.contiguous for c, log in self.conversations.items() if c in self.held}
        return {"type": "hello", "v": 1, "since": since}

    def extra_tasks(self, ws):
        return [asyncio.create_task(self._presence(ws))]

    async def _presence(self, ws):
        """What the dashboard does: prove every few seconds that this librarian is here."""
        while True:
            await asyncio.sleep(min(self.presence_beat, self.heartbeat))
            await self._send({"type": "heartbeat"}, ws)

    def expect(self, conversation_id):
        """This conversation is ours: claim it now and whenever it is seen waiting."""
        self.want.add(conversation_id)
        if conversation_id not in self.held:
            self.claim(conversation_id)

    def claim(self, conversation_id):
        if self.ready:
            self.claims += 1
            asyncio.create_task(self._send({"type": "claim", "conversation": conversation_id}))

    def say(self, conversation_id, text):
        return self._queue({"type": "message", "conversation": conversation_id,
                            "client_id": new_client_id("l"), "text": text})

    def _hold(self, conversation, how):
        self.held.add(conversation["id"])
        self.waiting.discard(conversation["id"])
        log = self.log(conversation["id"])
        log.status = conversation["status"]
        for message in conversation.get("messages") or []:
            self.ingest(message, how)

    def on_welcome(self, frame):
        self.held = set()
        for conversation in frame.get("conversations") or []:
            self._hold(conversation, "welcome")
        self.waiting = {c["id"] for c in frame.get("waiting") or []}

    async def _on_welcome(self, frame, ws):
        await super()._on_welcome(frame, ws)
        for conversation_id in sorted(self.want - self.held):
            self.claim(conversation_id)

    def on_frame(self, kind, frame):
        if kind == "queue.added":
            conversation_id = frame["conversation"]["id"]
            self.waiting.add(conversation_id)
            if conversation_id in self.want:
                self.claim(conversation_id)
        elif kind == "queue.removed":
            self.waiting.discard(frame["conversation"])
        elif kind == "conversation":
            conversation = frame["conversation"]
            if conversation["status"] == "active" and conversation["id"] in self.want:
                self._hold(conversation, "claim")
            elif conversation["status"] == "closed":
                self.held.discard(conversation["id"])
                self.log(conversation["id"]).status = "closed"
        elif kind == "conversation.released":
            self.held.discard(frame["conversation"])
            if frame["conversation"] in self.want:
                self.claim(frame["conversation"])


def new_client_id(prefix):
    return f"{prefix}-{uuid.uuid4().hex}"
