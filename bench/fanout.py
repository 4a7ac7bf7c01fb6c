#!/usr/bin/env python
"""Fan-out benchmark: time from a patron asking to EVERY on-duty dashboard showing the chat.

A measurement, not a test. Against a RUNNING server (one or several daphne processes) it connects
`--librarians` librarian dashboards (protocol v1, docs/protocol.md), all members of one bench
queue, and only then runs `--rounds` rounds at `--rate` rounds per second. Each round a new patron
connects, says `hello`, sends a normal (live, not offline) `start`; t0 is taken just before the
`start` is sent. Every dashboard notes when its `queue.added` frame for that conversation arrives.

* "all dashboards" latency of a round = the slowest dashboard (when EVERY dashboard shows it);
* per-dashboard latency = each dashboard's own delay (rounds x librarians samples).

It prints p50/p90/p99/max of both, missing deliveries (a dashboard that never got the chat within
`--timeout`), errors and unexpected closes, and exits 1 when a dashboard missed a chat.

Set-up happens in this process with Django against the SAME database as the server, the way
bench/relay.py does it (run from the repository root with the server's environment): a bench
queue and widget site, N staff librarians who are members of the queue, a Django session for each
(no HTTP login), a fresh patron token per round. Open conversations of the bench site left by an
earlier run are closed first. Each patron closes its chat at the end of its round.

`--url` may be given several times (several server processes sharing a channel layer): librarians
and patrons are spread round-robin over them; the Origin header is the URL's origin.

Embedded default (SQLite + in-memory channel layer, one process):

    SQLITE_PATH=/tmp/fanout.sqlite3 .venv/bin/python manage.py migrate
    SQLITE_PATH=/tmp/fanout.sqlite3 taskset -c 0 .venv/bin/daphne -p 8611 chatserver.asgi:application &
    SQLITE_PATH=/tmp/fanout.sqlite3 taskset -c 1 .venv/bin/python bench/fanout.py --url http://127.0.0.1:8611

Scale-out (PostgreSQL + Redis, two processes):

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/ruangtanya_fanout \\
        REDIS_URL=redis://127.0.0.1:6379/5 CHANNEL_LAYER_PREFIX=rt:fanout PRESENCE_PREFIX=rt:fanout:presence
    createdb -h 127.0.0.1 -U postgres ruangtanya_fanout; .venv/bin/python manage.py migrate
    .venv/bin/daphne -p 8612 chatserver.asgi:application & .venv/bin/daphne -p 8613 chatserver.asgi:application &
    .venv/bin/python bench/fanout.py --url http://127.0.0.1:8612 --url http://127.0.0.1:8613

Only standard library + websockets. Loopback targets only; every step has a timeout.
"""

import argparse
import asyncio
import json
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import websockets

if __package__ in (None, ""):  # run as `python bench/fanout.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import client  # noqa: E402
from bench.common import (  # noqa: E402
    bench_setup,
    check_local_urls,
    origin_of,
    percentiles_ms,
    raise_open_files,
)

BENCH_QUEUE_SLUG = "bench-fanout"
BENCH_SITE_KEY = "bench-fanout"
BENCH_USER_PREFIX = "bench-fan-"


def django_setup(origins, librarians, rounds):
    """Create the bench data idempotently; return sessions, tokens and the database used."""
    return bench_setup(
        BENCH_QUEUE_SLUG, tokens=rounds, site_key=BENCH_SITE_KEY, queue_name="Bench fan-out",
        site_name="Bench fan-out", origins=origins, librarians=librarians, max_chats=3,
        user_prefix=BENCH_USER_PREFIX, display_prefix="Fan")


class State:
    def __init__(self):
        self.t0 = {}  # conversation id -> perf time the start was sent
        self.arrived = {}  # conversation id -> {librarian index: perf time of queue.added}
        self.waiters = {}  # conversation id -> future, done when every dashboard has it
        self.librarians = 0
        self.errors = Counter()
        self.error_examples = {}
        self.closes = Counter()
        self.expect_close = False

    def error(self, side, frame):
        key = f"{side}:{frame.get('code')}"
        self.errors[key] += 1
        self.error_examples.setdefault(key, frame)


class Socket(client.Peer):
    """A bench socket whose figures go to the `State` (dashboards get big welcomes: 4 MiB frames)."""

    def __init__(self, state, url, origin, headers):
        super().__init__(state, url, headers, origin, max_size=2**22)

    @property
    def state(self):
        return self.report


class Librarian(Socket):
    side = "librarian"

    def __init__(self, state, url, origin, headers, index):
        super().__init__(state, url, origin, headers)
        self.index = index

    def on_frame(self, kind, frame, now):
        if kind != "queue.added":
            return
        cid = frame["conversation"]["id"]
        got = self.state.arrived.setdefault(cid, {})
        if self.index in got:
            self.state.errors["librarian:duplicate-queue.added"] += 1
            return
        got[self.index] = now
        waiter = self.state.waiters.get(cid)
        if waiter is not None and not waiter.done() and len(got) >= self.state.librarians:
            waiter.set_result(None)


class Patron(Socket):
    side = "patron"

    def __init__(self, state, url, origin, headers):
        super().__init__(state, url, origin, headers)
        self.ack = asyncio.get_running_loop().create_future()
        self.client_id = uuid.uuid4().hex
        self.done = False

    def closing(self):
        return self.done or self.state.expect_close

    def on_frame(self, kind, frame, now):
        if kind == "ack" and frame.get("client_id") == self.client_id and not self.ack.done():
            self.ack.set_result(frame.get("conversation"))


async def one_round(args, state, setup, number, url, origin, results):
    """One patron asks; wait until every dashboard has the chat (or the timeout)."""
    patron = Patron(state, f"{url}/ws/patron/", origin, {})
    result = {"round": number, "conversation": None, "t0": None, "failed": None}
    results.append(result)
    try:
        await patron.open(timeout=args.timeout)
        await patron.send({"type": "hello", "v": 1, "lang": "en", "token": setup["tokens"][number]})
        await asyncio.wait_for(patron.welcome, args.timeout)
        frame = {"type": "start", "client_id": patron.client_id, "text": f"Fan-out question {number}",
                 "name": f"Patron {number}"}
        t0 = time.perf_counter()
        await patron.send(frame)
        cid = await asyncio.wait_for(asyncio.shield(patron.ack), args.timeout)
        result["conversation"], result["t0"] = cid, t0
        state.t0[cid] = t0
        waiter = state.waiters[cid] = asyncio.get_running_loop().create_future()
        if len(state.arrived.get(cid, {})) >= state.librarians:
            waiter.set_result(None)
        remaining = max(0.1, args.timeout - (time.perf_counter() - t0))
        try:
            await asyncio.wait_for(asyncio.shield(waiter), remaining)
        except TimeoutError:
            pass  # counted as missing deliveries
        try:
            await patron.send({"type": "close"})
            await asyncio.sleep(0.05)
        except websockets.ConnectionClosed:
            pass
    except Exception as exc:  # noqa: BLE001
        result["failed"] = f"{type(exc).__name__}: {exc}"[:200]
        state.errors[f"patron:round-{type(exc).__name__}"] += 1
    finally:
        patron.done = True
        try:
            await asyncio.wait_for(patron.close(), 5)
        except Exception:  # noqa: BLE001
            pass


async def run(args, setup):
    state = State()
    targets = []
    for url in args.url:
        parts = urlsplit(url)
        targets.append((f"{'wss' if parts.scheme == 'https' else 'ws'}://{parts.netloc}",
                        f"{parts.scheme}://{parts.netloc}"))
    phases = {}
    t = time.perf_counter()
    librarians = []
    for i, (key, _name) in enumerate(setup["sessions"]):
        ws_base, origin = targets[i % len(targets)]
        librarians.append(Librarian(state, f"{ws_base}/ws/librarian/", origin,
                                    {"Cookie": f"{setup['cookie_name']}={key}"}, i))
    state.librarians = len(librarians)
    limit = asyncio.Semaphore(20)

    async def open_librarian(lib):
        async with limit:
            await lib.open(timeout=args.timeout)
            await lib.send({"type": "hello", "v": 1, "lang": "en"})
            welcome = await asyncio.wait_for(lib.welcome, args.timeout)
        if welcome.get("waiting"):
            state.errors["bench:librarian-welcome-waiting-not-empty"] += 1

    opened = await asyncio.gather(*(open_librarian(lib) for lib in librarians), return_exceptions=True)
    failed = [r for r in opened if isinstance(r, BaseException)]
    phases["librarians_connect_s"] = time.perf_counter() - t
    if failed:
        state.expect_close = True
        await asyncio.gather(*(lib.close() for lib in librarians), return_exceptions=True)
        raise SystemExit(f"{len(failed)} of {len(librarians)} librarians failed to connect: {failed[0]!r}")
    print(f"{len(librarians)} dashboards connected in {phases['librarians_connect_s']:.2f} s", flush=True)
    await asyncio.sleep(args.settle)

    results, tasks = [], []
    t = start = time.perf_counter()
    for n in range(args.rounds):
        due = start + n / args.rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        ws_base, origin = targets[n % len(targets)]
        tasks.append(asyncio.create_task(one_round(args, state, setup, n, ws_base, origin, results)))
    await asyncio.wait(tasks, timeout=args.timeout * 3 + 30)
    phases["rounds_s"] = time.perf_counter() - t
    await asyncio.sleep(0.5)
    state.expect_close = True
    await asyncio.gather(*(lib.close() for lib in librarians), return_exceptions=True)
    return state, results, phases


def summary(values):
    return percentiles_ms(sorted(values))


def report(args, setup, state, results, phases):
    all_dash, per_dash, missing, incomplete = [], [], 0, 0
    slowest = Counter()
    for r in results:
        cid = r["conversation"]
        if cid is None:
            continue
        got = state.arrived.get(cid, {})
        lat = {i: got[i] - r["t0"] for i in got}
        per_dash.extend(lat.values())
        miss = state.librarians - len(lat)
        if miss:
            missing += miss
            incomplete += 1
        elif lat:
            all_dash.append(max(lat.values()))
            slowest[max(lat, key=lat.get) % len(args.url)] += 1
    started = sum(1 for r in results if r["conversation"] is not None)
    failed = [r for r in results if r["failed"]]
    a, p = summary(all_dash), summary(per_dash)
    lines = [
        "",
        f"== fan-out bench: {' '.join(args.url)} ({setup['database']}, {setup['layer']})",
        f"rounds               {started} started of {args.rounds} at {args.rate:g}/s, "
        f"{len(failed)} failed before start",
        f"dashboards           {state.librarians} (round-robin over {len(args.url)} URL(s))",
        f"all dashboards (ms)  p50 {a['p50']}  p90 {a['p90']}  p99 {a['p99']}  max {a['max']}  "
        f"({len(all_dash)} complete rounds)",
        f"per dashboard (ms)   p50 {p['p50']}  p90 {p['p90']}  p99 {p['p99']}  max {p['max']}  "
        f"({len(per_dash)} deliveries)",
        f"missing deliveries   {missing} (in {incomplete} rounds, timeout {args.timeout:g} s)",
        f"slowest dashboard on URL index {dict(slowest)}",
        f"errors               {dict(state.errors) or 'none'}",
        f"unexpected closes    {dict(state.closes) or 'none'}",
        f"phases               { {k: round(v, 2) for k, v in phases.items()} }, "
        f"stale closed before {setup['closed_stale']}",
    ]
    for r in failed[:3]:
        lines.append(f"  round {r['round']} failed: {r['failed']}")
    for key, frame in state.error_examples.items():
        lines.append(f"  first {key}: {json.dumps(frame, ensure_ascii=False)[:300]}")
    print("\n".join(lines), flush=True)
    return missing == 0 and not failed and started == args.rounds


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", action="append", help="a running server (loopback only); repeatable")
    parser.add_argument("--librarians", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--rate", type=float, default=5.0, help="rounds (new patrons) per second")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds for any one step/delivery")
    parser.add_argument("--settle", type=float, default=1.0, help="seconds between connecting and round 1")
    args = parser.parse_args(argv)
    args.url = args.url or ["http://127.0.0.1:8000"]
    check_local_urls(parser, args.url)
    if not (1 <= args.librarians <= 1000) or not (1 <= args.rounds <= 10000):
        parser.error("--librarians 1..1000, --rounds 1..10000")
    if not (0 < args.rate <= 200) or not (0.5 <= args.timeout <= 120):
        parser.error("--rate in (0, 200], --timeout 0.5..120")
    return args


def main(argv=None):
    args = parse_args(argv)
    raise_open_files(args.librarians + int(args.rate * args.timeout) + 256)
    origins = list(dict.fromkeys(origin_of(u) for u in args.url))
    setup = django_setup(origins, args.librarians, args.rounds)
    overall = args.librarians / 20 * args.timeout + args.rounds / args.rate + args.timeout * 3 + 90
    try:
        state, results, phases = asyncio.run(asyncio.wait_for(run(args, setup), overall))
    except TimeoutError:
        raise SystemExit(f"bench did not finish within {overall:.0f} s; gave up") from None
    sys.exit(0 if report(args, setup, state, results, phases) else 1)


if __name__ == "__main__":
    main()
