"""Protocol v1 (docs/protocol.md) over a live server's WebSockets, for the bench scripts and the
tests that talk to real daphne processes. Only the standard library and `websockets`.

* `open_socket()` opens a connection the way every bench does: the server pings, we add no
  traffic, compression or back-pressure of our own, and never go through an environment proxy.
* `Peer` is the bench side: a reader task hands the `welcome` to a future, `error` frames to the
  book-keeping object's `error(side, frame)`, and every other frame to `on_frame()`, with the
  `perf_counter()` time it was read. Subclasses (bench/relay.py, bench/fanout.py,
  bench/tutorial_load.py) keep their figures there.
* `Protocol` is the protocol on top of any transport: `hello()` (with `last_seq` / `since` to
  resume) returns the `welcome`; `receive_type()` and `receive_message()` wait for frames of a
  type. tests/wsclient.py puts it on Channels' in-process communicator.
* `Client` is `Protocol` on a live socket for tests: it keeps every frame it reads, so a test can
  take them in order (`receive()`, `receive_type()`) or wait for any that matches (`wait_for()`).

The resilient, reconnecting clients (outbox, resume, gap fetches) are in bench/resilient.py and
open their sockets with `open_socket()` too.
"""

import asyncio
import json
import time

import websockets
from websockets.asyncio.client import connect

# Error codes that refuse a `hello`: the socket will never be welcomed.
FATAL_CODES = {"not_authenticated", "token_invalid", "token_expired", "unsupported_version"}


def ws_url(base_url, path=""):
    """http://host:port + /ws/patron/ → ws://host:port/ws/patron/ (https → wss)."""
    return base_url.replace("http", "ws", 1) + path


async def open_socket(url, origin, headers=None, *, timeout=10, close_timeout=2, max_size=2**20, max_queue=None):
    """A connection to `url` (ws:// or http://, which is turned into ws://) sending `Origin: origin`."""
    return await connect(
        ws_url(url) if url.startswith("http") else url,
        origin=origin,
        additional_headers=headers or {},
        open_timeout=timeout,
        close_timeout=close_timeout,
        ping_interval=None,  # the server pings; a client adds no traffic of its own
        compression=None,  # measure the relay, not zlib in the client process
        max_size=max_size,
        max_queue=max_queue,  # None: never apply back-pressure from the client side
        proxy=None,  # loopback only, never through an environment proxy
    )


class Peer:
    """One bench socket. `report` keeps the figures: `errors` and `closes` (Counters), `error(side,
    frame)`, `expect_close`, and optionally `frames` (a Counter of "side:type")."""

    side = "?"

    def __init__(self, report, url, headers=None, origin=None, max_size=2**20):
        self.report = report
        self.url, self.headers, self.origin, self.max_size = url, headers or {}, origin, max_size
        self.ws = None
        self.reader = None
        self.welcome = asyncio.get_running_loop().create_future()

    async def open(self, origin=None, timeout=10):
        self.ws = await open_socket(self.url, origin or self.origin, self.headers, timeout=timeout,
                                    max_size=self.max_size)
        self.reader = asyncio.create_task(self.read())

    async def send(self, frame):
        await self.ws.send(json.dumps(frame))

    async def read(self):
        frames = getattr(self.report, "frames", None)
        try:
            async for raw in self.ws:
                now = time.perf_counter()
                frame = json.loads(raw)
                kind = frame.get("type")
                if frames is not None:
                    frames[f"{self.side}:{kind}"] += 1
                if kind == "welcome" and not self.welcome.done():
                    self.welcome.set_result(frame)
                elif kind == "error":
                    self.report.error(self.side, frame)
                    if not self.welcome.done() and frame.get("code") in FATAL_CODES:
                        self.welcome.set_exception(RuntimeError(f"{self.side} refused: {frame}"))
                else:
                    self.on_frame(kind, frame, now)
        except websockets.ConnectionClosed:
            pass
        except Exception as exc:  # noqa: BLE001 - a measurement reports, it does not crash
            self.report.errors[f"{self.side}:bench-reader-{type(exc).__name__}"] += 1
        finally:
            if not self.closing():
                self.report.closes[f"{self.side}:{self.ws.close_code if self.ws else None}"] += 1
            if not self.welcome.done():
                self.welcome.set_exception(RuntimeError(f"{self.side} socket closed before welcome"))

    def closing(self):
        """Whether a close now is expected (not counted as an unexpected close)."""
        return self.report.expect_close

    def on_frame(self, kind, frame, now):
        pass

    async def close(self):
        if self.ws is not None:
            await self.ws.close()
        if self.reader is not None:
            await asyncio.wait([self.reader], timeout=3)


class Protocol:
    """Protocol v1 on top of a transport's `send(frame)` and `receive()` (the next frame): shared by
    `Client` (a live server) and tests/wsclient.py (Channels' in-process communicator)."""

    welcome_first = False  # whether `hello()` insists that the welcome is the very next frame

    async def hello(self, **fields):
        """Say hello (v1) with `fields` (`token`, `last_seq` / `since` to resume, `lang`…); returns
        the welcome, also kept as `self.welcome`."""
        await self.send({"type": "hello", "v": 1, **fields})
        welcome = await self.receive_type("welcome", "error")
        assert welcome["type"] == "welcome", welcome
        if self.welcome_first:
            assert not welcome["_skipped"], welcome["_skipped"]
        del welcome["_skipped"]
        self.welcome = welcome
        return welcome

    async def receive_type(self, *types):
        """The next frame of one of `types`, skipping others (returned as well, for checks)."""
        skipped = []
        while True:
            frame = await self.receive()
            if frame["type"] in types:
                frame["_skipped"] = skipped
                return frame
            skipped.append(frame)

    async def receive_message(self, **expected):
        """The next `message` frame whose fields match `expected` (others are skipped)."""
        while True:
            message = (await self.receive_type("message"))["message"]
            if all(message[key] == value for key, value in expected.items()):
                return message


class Client(Protocol):
    """A socket to a live server that keeps every frame it reads: a test takes them in order
    (`receive()`, `receive_type()`) or waits for any that matches (`wait_for()`)."""

    def __init__(self, ws, timeout=20):
        self.ws, self.frames, self.taken, self.timeout = ws, [], 0, timeout
        self._more = asyncio.Event()
        self.reader = asyncio.create_task(self._read())

    @classmethod
    async def connect(cls, base_url, path, cookie=None, origin=None, timeout=20):
        """Open `path` on the server at `base_url` (Origin: `origin`, by default the server's own)."""
        headers = {"Cookie": cookie} if cookie else {}
        return cls(await open_socket(ws_url(base_url, path), origin or base_url, headers, timeout=timeout), timeout)

    async def _read(self):
        try:
            async for text in self.ws:
                self.frames.append(json.loads(text))
                self._more.set()
        except Exception:  # noqa: BLE001 - closed or cut: what was read stays in `frames`
            pass
        finally:
            self._more.set()

    async def send(self, frame=None, **fields):
        """Send a frame given as a dict or as keyword arguments."""
        await self.ws.send(json.dumps({**(frame or {}), **fields}))

    async def receive(self, timeout=None):
        """The next frame after the last one taken in order."""
        def find():
            if self.taken < len(self.frames):
                self.taken += 1
                return self.frames[self.taken - 1]
            return None

        return await self._wait(find, timeout or self.timeout, "no frame")

    async def wait_for(self, test, timeout=20):
        """The first frame read so far or from now on for which `test(frame)` is true."""
        return await self._wait(lambda: next((frame for frame in self.frames if test(frame)), None), timeout,
                                "no matching frame")

    async def _wait(self, find, timeout, what):
        deadline = time.monotonic() + timeout
        while True:
            found = find()
            if found is not None:
                return found
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"{what} in {timeout} s; got {[f.get('type') for f in self.frames]}")
            self._more.clear()
            try:
                await asyncio.wait_for(self._more.wait(), remaining)
            except TimeoutError:
                pass

    async def close(self):
        self.reader.cancel()
        try:
            await self.ws.close()
        except Exception:  # noqa: BLE001 - already gone
            pass
