#!/usr/bin/env python
"""Relay benchmark: how fast and how reliably patron messages reach librarians.

A measurement, not a test. It opens N conversations against a RUNNING server, each a patron
socket and a librarian socket speaking protocol v1 (docs/protocol.md), has every patron send
`--rate` messages per second for `--duration` seconds after a `--warmup`, and prints:

* messages sent, acknowledged, delivered to the librarian, delivered per second;
* patron→librarian latency (patron sends the frame → librarian socket receives the `message`
  frame) p50/p90/p99/max, and ack latency (send → `ack`) p50/p99;
* lost (acked, never delivered within `--grace`), duplicated (same seq twice at the librarian),
  unacked, and every error frame or unexpected close.

Set-up happens in this process, with Django, against the SAME database as the server (run it
from the repository root with the server's environment: SQLITE_PATH / DATABASE_URL, SECRET_KEY):
a bench queue and widget site, one staff librarian per `--per-librarian` conversations with
`max_chats` to match, a Django session for each (no HTTP login) and a fresh patron token per
conversation. Open conversations left by an earlier run of the bench site are closed first.

Only standard library + websockets. Only 127.0.0.1 / localhost / [::1] are accepted as targets;
every phase is bounded in time, so the run always ends by itself.

    SQLITE_PATH=/tmp/bench.sqlite3 .venv/bin/python bench/relay.py \
        --url http://127.0.0.1:8401 --conversations 100 --rate 1 --duration 30
"""

import argparse
import asyncio
import json
import math
import secrets
import sys
import time
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path

import websockets

if __package__ in (None, ""):  # run as `python bench/relay.py`: import the bench package from the repository
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import client  # noqa: E402
from bench.common import (  # noqa: E402
    bench_setup,
    check_local_urls,
    measured_window,
    origin_of,
    percentile,
    percentiles_ms,
    raise_open_files,
    window_figures,
)

BENCH_QUEUE_SLUG = "bench-relay"
BENCH_SITE_KEY = "bench-relay"
BENCH_USER_PREFIX = "bench-lib-"


# --------------------------------------------------------------------------------------------
# Set-up through Django (synchronous, before any socket is opened)
# --------------------------------------------------------------------------------------------


def django_setup(origin, conversations, per_librarian):
    """Create the bench data idempotently; return (site_key, [session keys], [tokens])."""
    return bench_setup(
        BENCH_QUEUE_SLUG, tokens=conversations, site_key=BENCH_SITE_KEY, queue_name="Bench", site_name="Bench relay",
        origins=[origin], librarians=math.ceil(conversations / per_librarian), max_chats=per_librarian,
        user_prefix=BENCH_USER_PREFIX, display_prefix="Bench")


# --------------------------------------------------------------------------------------------
# Book-keeping
# --------------------------------------------------------------------------------------------


class BenchAbort(Exception):
    """The run cannot go on; the message says why."""


class Waiters:
    """Keys that have happened, and futures waiting for a key to happen."""

    def __init__(self):
        self.seen = set()
        self.waiting = {}

    def mark(self, key):
        self.seen.add(key)
        future = self.waiting.pop(key, None)
        if future is not None and not future.done():
            future.set_result(None)

    async def wait(self, key, timeout):
        if key in self.seen:
            return
        future = self.waiting.get(key)
        if future is None:
            future = self.waiting[key] = asyncio.get_running_loop().create_future()
        await asyncio.wait_for(asyncio.shield(future), timeout)


class Stats:
    def __init__(self):
        self.sent = {}  # client_id -> (conversation index, perf time sent, measured?)
        self.acked = {}  # client_id -> perf time of the ack
        self.ack_seq = {}  # client_id -> seq in the ack
        self.delivered = {}  # client_id -> perf time the librarian socket got the message
        self.duplicates = 0  # same (conversation, seq) twice at the librarian
        self.reordered = 0  # a seq lower than one already seen, at the librarian
        self.delivered_seq = {}  # client_id -> seq the librarian got it with
        self.ack_conversation = {}  # client_id -> conversation id in the ack
        self.stored = {}  # client_id -> server's sent_at (wall clock) as the librarian got it
        self.own_copies = 0  # `message` frames of its own that a patron socket got (its ack carries it)
        self.delivered_to = {}  # client_id -> librarian username
        # perf_counter -> wall clock, to compare with the server's sent_at (same machine clock)
        self.wall_offset = time.time() - time.perf_counter()
        self.late_deliveries = 0  # delivered after the grace period (during close)
        self.seqs = {}  # conversation id -> set of patron seqs seen by the librarian
        self.max_seq = {}
        self.errors = Counter()  # "side:code" -> count
        self.error_examples = {}
        self.closes = Counter()  # "side:code" -> count of unexpected closes
        self.frames = Counter()  # "side:type" -> count
        self.send_lag = []  # how late the bench sent against its schedule (s)
        self.loop_lag = []  # event-loop overshoot of a 50 ms ticker (s)
        self.expect_close = False
        self.sample_from = self.sample_until = None  # the load window, for loop_lag

    def error(self, side, frame):
        key = f"{side}:{frame.get('code')}"
        self.errors[key] += 1
        self.error_examples.setdefault(key, frame)


# --------------------------------------------------------------------------------------------
# Sockets
# --------------------------------------------------------------------------------------------


class Peer(client.Peer):
    """A bench socket whose figures go to a `Stats`."""

    @property
    def stats(self):
        return self.report


class Librarian(Peer):
    side = "librarian"

    def __init__(self, stats, url, headers, username):
        super().__init__(stats, url, headers)
        self.username = username
        self.added = Waiters()
        self.claimed = Waiters()
        self.closed = Waiters()
        self.held = set()

    def on_frame(self, kind, frame, now):
        stats = self.stats
        if kind == "message":
            message = frame["message"]
            if message.get("role") != "patron":
                return
            conversation, seq = message["conversation"], message["seq"]
            seen = stats.seqs.setdefault(conversation, set())
            if seq in seen:
                stats.duplicates += 1
                return
            seen.add(seq)
            if seq < stats.max_seq.get(conversation, 0):
                stats.reordered += 1
            stats.max_seq[conversation] = max(seq, stats.max_seq.get(conversation, 0))
            client_id = message.get("client_id")
            if client_id in stats.sent and client_id not in stats.delivered:
                stats.delivered[client_id] = now
                stats.delivered_seq[client_id] = seq
                stats.delivered_to[client_id] = self.username
                try:
                    stats.stored[client_id] = datetime.fromisoformat(message["sent_at"]).timestamp()
                except (KeyError, TypeError, ValueError):
                    pass
                if stats.expect_close:
                    stats.late_deliveries += 1
        elif kind == "queue.added":
            self.added.mark(frame["conversation"]["id"])
        elif kind == "conversation":
            conversation = frame["conversation"]
            if conversation["status"] == "active":
                self.held.add(conversation["id"])
                self.claimed.mark(conversation["id"])
            elif conversation["status"] == "closed":
                self.held.discard(conversation["id"])
                self.closed.mark(conversation["id"])


class Patron(Peer):
    side = "patron"

    def __init__(self, stats, url, headers, index, token):
        super().__init__(stats, url, headers)
        self.index = index
        self.token = token
        self.conversation = None
        self.started = asyncio.get_running_loop().create_future()
        self.start_client_id = None

    def on_frame(self, kind, frame, now):
        stats = self.stats
        if kind == "ack":
            client_id = frame.get("client_id")
            if client_id in stats.sent and client_id not in stats.acked:
                stats.acked[client_id] = now
                stats.ack_seq[client_id] = frame.get("seq")
                stats.ack_conversation[client_id] = frame.get("conversation")
            elif client_id == self.start_client_id and not self.started.done():
                self.started.set_result(frame.get("conversation"))
        elif kind == "message":
            if frame["message"].get("client_id") in stats.sent:
                stats.own_copies += 1
        elif kind == "conversation":
            conversation = frame["conversation"]
            if self.conversation is None and conversation.get("status") == "queued":
                self.conversation = conversation["id"]


# --------------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------------


async def ticker(stats, stop):
    """Measures how late the bench's own event loop is (a saturated bench inflates latencies)."""
    interval = 0.05
    while not stop.is_set():
        before = time.perf_counter()
        await asyncio.sleep(interval)
        if stats.sample_from is not None and stats.sample_from <= before <= stats.sample_until:
            stats.loop_lag.append(time.perf_counter() - before - interval)


async def scheduled_sends(stats, ws, index, prefix, window, interval, offset, frame):
    """Send `frame(client_id, k)` on `ws` at load_start + offset + k × interval until load_end, on an
    absolute schedule (no drift); `window` = (load_start, measure_start, load_end). Each send is
    noted in `stats.sent` under `<prefix>-<k>` (measured when due from measure_start on), with how
    late it went in `stats.send_lag`."""
    load_start, measure_start, load_end = window
    k = 0
    while (due := load_start + offset + k * interval) < load_end:
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        client_id = f"{prefix}-{k}"
        now = time.perf_counter()
        stats.send_lag.append(now - due)
        stats.sent[client_id] = (index, now, due >= measure_start)
        try:
            await ws.send(json.dumps(frame(client_id, k)))
        except websockets.ConnectionClosed:
            stats.errors["patron:send-on-closed-socket"] += 1
            return
        k += 1


async def run(args, setup):
    stats = Stats()
    origin = origin_of(args.url)
    ws_base = client.ws_url(origin)
    run_id = secrets.token_hex(3)
    limit = asyncio.Semaphore(args.connect_concurrency)
    phases = {}
    log = (
        (lambda *a: print(*a, file=sys.stderr, flush=True))
        if args.json == "-"
        else (lambda *a: print(*a, flush=True))
    )

    stop_ticker = asyncio.Event()
    tick = asyncio.create_task(ticker(stats, stop_ticker))

    # --- librarians --------------------------------------------------------------------------
    t = time.perf_counter()
    librarians = [
        Librarian(
            stats, f"{ws_base}/ws/librarian/", {"Cookie": f"{setup['cookie_name']}={key}"}, name
        )
        for key, name in setup["sessions"]
    ]

    async def open_librarian(lib):
        async with limit:
            await lib.open(origin, args.step_timeout)
            await lib.send({"type": "hello", "v": 1, "lang": "en"})
            welcome = await asyncio.wait_for(lib.welcome, args.step_timeout)
        if welcome["conversations"] or welcome["waiting"]:
            stats.errors["bench:librarian-welcome-not-empty"] += 1

    results = await asyncio.gather(
        *(open_librarian(lib) for lib in librarians), return_exceptions=True
    )
    failed = [r for r in results if isinstance(r, BaseException)]
    if failed:
        for lib in librarians:
            await lib.close()
        stop_ticker.set()
        await tick
        raise BenchAbort(
            f"{len(failed)} of {len(librarians)} librarian sockets failed: {failed[0]!r}\n"
            f"(is the server running at {args.url}, and is the bench run with the server's "
            "environment: same database and SECRET_KEY?)"
        )
    phases["librarians_connected_s"] = time.perf_counter() - t
    log(f"librarians connected: {len(librarians)} in {phases['librarians_connected_s']:.1f} s")

    # --- patrons: connect, start, claimed by their librarian ---------------------------------
    t = time.perf_counter()
    patrons = [
        Patron(stats, f"{ws_base}/ws/patron/", {}, i, token)
        for i, token in enumerate(setup["tokens"])
    ]
    claim_times = []
    owner = {}

    async def open_conversation(patron):
        lib = librarians[patron.index % len(librarians)]  # round-robin, decided by the bench
        async with limit:
            await patron.open(origin, args.step_timeout)
            await patron.send({"type": "hello", "v": 1, "token": patron.token, "lang": "en"})
            await asyncio.wait_for(patron.welcome, args.step_timeout)
            patron.start_client_id = f"{run_id}-q{patron.index}"
            await patron.send(
                {
                    "type": "start",
                    "client_id": patron.start_client_id,
                    "text": f"Bench question {patron.index}: is the library open on Sunday?",
                    "name": f"Bench patron {patron.index}",
                }
            )
            conversation = await asyncio.wait_for(patron.started, args.step_timeout)
        owner[conversation] = lib
        await lib.added.wait(conversation, args.step_timeout)
        before = time.perf_counter()
        await lib.send({"type": "claim", "conversation": conversation})
        await lib.claimed.wait(conversation, args.step_timeout)
        claim_times.append(time.perf_counter() - before)
        patron.conversation = conversation
        return patron

    # At most --wave conversations between `start` and claimed at once: every start and claim
    # re-announces the queue to every dashboard and every waiting patron (N² frames at once).
    wave = asyncio.Semaphore(args.wave)

    async def in_wave(patron):
        async with wave:
            return await open_conversation(patron)

    tasks = [asyncio.create_task(in_wave(p)) for p in patrons]
    _done, pending = await asyncio.wait(tasks, timeout=args.setup_timeout)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    ready, setup_failures = [], Counter()
    for task in tasks:
        if task.cancelled():
            setup_failures["setup-timeout"] += 1
        elif task.exception() is not None:
            exc = task.exception()
            text = str(exc) if str(exc) and not isinstance(exc, TimeoutError) else ""
            setup_failures[type(exc).__name__ + (f": {text[:200]}" if text else "")] += 1
        else:
            ready.append(task.result())
    phases["conversations_claimed_s"] = time.perf_counter() - t
    claim_times.sort()
    log(
        f"conversations claimed: {len(ready)} of {len(patrons)} in "
        f"{phases['conversations_claimed_s']:.1f} s (claim p50 "
        f"{fmt_ms(percentile(claim_times, 50))}, "
        f"max {fmt_ms(claim_times[-1] if claim_times else None)})"
    )
    for reason, count in setup_failures.items():
        log(f"  set-up failure x{count}: {reason}")

    # --- load ----------------------------------------------------------------------------------
    cpu_bench_0 = time.process_time()
    text_pad = "x" * max(0, args.text_length - 40)
    load_start = time.perf_counter() + 0.5
    measure_start = load_start + args.warmup
    load_end = measure_start + args.duration
    interval = 1.0 / args.rate
    server_cpu = {}
    stats.sample_from, stats.sample_until = load_start, load_end

    async def patron_load(patron, slot):
        await scheduled_sends(
            stats, patron.ws, patron.index, f"{run_id}-{patron.index}", (load_start, measure_start, load_end),
            interval, interval * slot / max(1, len(ready)),  # spread the conversations over one interval
            lambda client_id, k: {"type": "message", "client_id": client_id,
                                  "text": f"bench {patron.index}/{k} {text_pad}"})

    log(
        f"load: {len(ready)} conversations x {args.rate:g} msg/s, warm-up {args.warmup:g} s, "
        f"measured {args.duration:g} s"
    )
    window = asyncio.create_task(measured_window(server_cpu, args.server_pid, measure_start, load_end))
    await asyncio.gather(*(patron_load(p, slot) for slot, p in enumerate(ready)))
    await window
    cpu_bench = time.process_time() - cpu_bench_0

    # --- grace: wait for the stragglers ----------------------------------------------------------
    grace_end = time.perf_counter() + args.grace
    while time.perf_counter() < grace_end:
        if len(stats.acked) >= len(stats.sent) and len(stats.delivered) >= len(stats.sent):
            break
        await asyncio.sleep(0.05)
    grace_used = args.grace - max(0.0, grace_end - time.perf_counter())

    # Snapshot before closing: anything later counts as lost.
    acked = dict(stats.acked)
    delivered = dict(stats.delivered)
    stats.expect_close = True

    # --- close the conversations, then the sockets --------------------------------------------
    t = time.perf_counter()

    async def close_conversation(patron):
        lib = owner[patron.conversation]
        try:
            await lib.send({"type": "close", "conversation": patron.conversation})
            await lib.closed.wait(patron.conversation, args.step_timeout)
            return True
        except (TimeoutError, websockets.ConnectionClosed):
            return False

    closed = await asyncio.gather(*(close_conversation(p) for p in ready))
    phases["close_s"] = time.perf_counter() - t
    await asyncio.gather(
        *(p.close() for p in patrons), *(lib.close() for lib in librarians), return_exceptions=True
    )
    stop_ticker.set()
    await tick

    if args.dump:
        dump_messages(args.dump, stats, load_start)
    return build_report(
        args,
        setup,
        stats,
        acked,
        delivered,
        ready,
        patrons,
        librarians,
        phases,
        claim_times,
        setup_failures,
        closed,
        grace_used,
        cpu_bench,
        server_cpu,
    )


def dump_messages(path, stats, origin):
    import csv

    def rel(value):
        return "" if value is None else f"{value - origin:.4f}"

    with open(path, "w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(
            [
                "client_id",
                "conversation_index",
                "measured",
                "sent",
                "acked",
                "stored",
                "delivered",
                "librarian",
                "seq",
            ]
        )
        for cid, (index, sent, measured) in stats.sent.items():
            stored = stats.stored.get(cid)
            writer.writerow(
                [
                    cid,
                    index,
                    int(measured),
                    rel(sent),
                    rel(stats.acked.get(cid)),
                    rel(stored - stats.wall_offset if stored is not None else None),
                    rel(stats.delivered.get(cid)),
                    stats.delivered_to.get(cid, ""),
                    stats.delivered_seq.get(cid, ""),
                ]
            )


def fmt_ms(seconds):
    return "-" if seconds is None else f"{seconds * 1000:.1f}"


def build_report(
    args,
    setup,
    stats,
    acked,
    delivered,
    ready,
    patrons,
    librarians,
    phases,
    claim_times,
    setup_failures,
    closed,
    grace_used,
    cpu_bench,
    server_cpu,
):
    measured = {cid: v for cid, v in stats.sent.items() if v[2]}
    latencies = sorted(
        delivered[cid] - sent for cid, (_i, sent, _m) in measured.items() if cid in delivered
    )
    ack_latencies = sorted(
        acked[cid] - sent for cid, (_i, sent, _m) in measured.items() if cid in acked
    )
    # Split of the patron→librarian latency at the server's sent_at (the row's created_at, taken
    # inside the storing transaction): before = waiting for and doing the store, after = commit,
    # fan-out through the channel layer, the librarian's consumer and the socket.
    offset = stats.wall_offset
    to_store = sorted(
        stats.stored[cid] - (sent + offset)
        for cid, (_i, sent, _m) in measured.items()
        if cid in delivered and cid in stats.stored
    )
    after_store = sorted(
        delivered[cid] + offset - stats.stored[cid]
        for cid in measured
        if cid in delivered and cid in stats.stored
    )
    per_librarian = defaultdict(list)
    for cid, (_i, sent, _m) in measured.items():
        if cid in delivered:
            per_librarian[stats.delivered_to[cid]].append(delivered[cid] - sent)
    librarian_p50s = sorted(percentile(sorted(v), 50) for v in per_librarian.values())
    lost = [cid for cid in stats.sent if cid in acked and cid not in delivered]
    # Lost for certain, not merely late: a later message of the same conversation reached the
    # librarian but this one never did (one socket's frames arrive in order).
    skipped = sum(
        1
        for cid in stats.sent
        if cid in stats.ack_seq
        and cid not in stats.delivered
        and stats.ack_seq[cid] < stats.max_seq.get(stats.ack_conversation[cid], 0)
    )
    unacked = [cid for cid in stats.sent if cid not in acked]
    send_lag = sorted(stats.send_lag)
    loop_lag = sorted(stats.loop_lag)

    def pcts(values, ps):
        return percentiles_ms(values, ps, with_max=False)

    report = {
        "url": args.url,
        "database": setup["database"],
        "conversations_requested": args.conversations,
        "conversations": len(ready),
        "librarians": len(librarians),
        "rate_per_conversation": args.rate,
        "warmup_s": args.warmup,
        "duration_s": args.duration,
        "offered_msgs_per_s": round(len(ready) * args.rate, 1),
        "measured": {
            "sent": len(measured),
            "acked": sum(1 for cid in measured if cid in acked),
            "delivered": sum(1 for cid in measured if cid in delivered),
            "delivered_per_s": round(
                sum(1 for cid in measured if cid in delivered) / args.duration, 1
            ),
            "latency_ms": {
                **pcts(latencies, (50, 90, 99)),
                "max": round(latencies[-1] * 1000, 2) if latencies else None,
            },
            "send_to_stored_ms": pcts(to_store, (50, 99)),
            "stored_to_librarian_ms": pcts(after_store, (50, 99)),
            "per_librarian_p50_ms": {
                "lowest": round(librarian_p50s[0] * 1000, 2) if librarian_p50s else None,
                "highest": round(librarian_p50s[-1] * 1000, 2) if librarian_p50s else None,
            },
            "ack_latency_ms": {
                **pcts(ack_latencies, (50, 99)),
                "max": round(ack_latencies[-1] * 1000, 2) if ack_latencies else None,
            },
        },
        "all_load_messages": {  # warm-up + measured
            "sent": len(stats.sent),
            "acked": len(acked),
            "delivered": len(delivered),
            "lost": len(lost),
            "skipped": skipped,
            "unacked": len(unacked),
            "duplicated": stats.duplicates,
            "reordered": stats.reordered,
            "ack_seq_mismatch": sum(
                1
                for cid, seq in stats.delivered_seq.items()
                if cid in stats.ack_seq and stats.ack_seq[cid] != seq
            ),
            "delivered_after_grace": stats.late_deliveries,
            "own_copies": stats.own_copies,
        },
        "grace_s": round(grace_used, 2),
        "errors": dict(stats.errors),
        "error_examples": stats.error_examples,
        "unexpected_closes": dict(stats.closes),
        "setup_failures": dict(setup_failures),
        "conversations_closed_at_end": sum(closed),
        "phases_s": {k: round(v, 2) for k, v in phases.items()},
        "claim_ms": {
            **pcts(claim_times, (50, 99)),
            "max": round(claim_times[-1] * 1000, 2) if claim_times else None,
        },
        "bench": {
            "send_lag_ms": {
                **pcts(send_lag, (50, 99)),
                "max": round(send_lag[-1] * 1000, 2) if send_lag else None,
            },
            "loop_lag_ms": {
                **pcts(loop_lag, (50, 99)),
                "max": round(loop_lag[-1] * 1000, 2) if loop_lag else None,
            },
            "cpu_pct_during_load": round(100 * cpu_bench / (args.warmup + args.duration), 1),
        },
        **window_figures(server_cpu, args.duration),
        "frames": dict(stats.frames),
        "stale_conversations_closed_before": setup["closed_stale"],
    }
    return report


def print_report(r):
    m, a = r["measured"], r["all_load_messages"]
    lat, ack = m["latency_ms"], m["ack_latency_ms"]
    lines = [
        "",
        f"== relay bench: {r['url']} ({r['database']})",
        f"conversations        {r['conversations']} of {r['conversations_requested']} "
        f"({r['librarians']} librarians), {r['rate_per_conversation']:g} msg/s each "
        f"= {r['offered_msgs_per_s']:g} msg/s offered",
        f"window               warm-up {r['warmup_s']:g} s + measured {r['duration_s']:g} s, "
        f"grace used {r['grace_s']:g} s",
        f"measured messages    sent {m['sent']}, acked {m['acked']}, delivered {m['delivered']}",
        f"delivered            {m['delivered_per_s']:g} msg/s",
        f"latency p→l (ms)     p50 {lat['p50']}  p90 {lat['p90']}  p99 {lat['p99']}  "
        f"max {lat['max']}",
        f"ack latency (ms)     p50 {ack['p50']}  p99 {ack['p99']}  max {ack['max']}",
        f"latency split (ms)   send→stored p50/p99 {m['send_to_stored_ms']['p50']}/"
        f"{m['send_to_stored_ms']['p99']}, stored→librarian {m['stored_to_librarian_ms']['p50']}/"
        f"{m['stored_to_librarian_ms']['p99']}, per-librarian p50 {m['per_librarian_p50_ms']['lowest']}"
        f"..{m['per_librarian_p50_ms']['highest']}",
        f"all load messages    sent {a['sent']}, acked {a['acked']}, delivered {a['delivered']}",
        f"problems             lost {a['lost']} (of which skipped {a['skipped']}), "
        f"duplicated {a['duplicated']}, unacked {a['unacked']}, "
        f"reordered {a['reordered']}, ack/seq mismatch {a['ack_seq_mismatch']}, "
        f"delivered after grace {a['delivered_after_grace']}, own copies {a['own_copies']}",
        f"errors               {r['errors'] or 'none'}",
        f"unexpected closes    {r['unexpected_closes'] or 'none'}",
    ]
    if r["setup_failures"]:
        lines.append(f"set-up failures      {r['setup_failures']}")
    lines += [
        f"set-up               {r['phases_s']}, claim ms {r['claim_ms']}, "
        f"closed at end {r['conversations_closed_at_end']}",
        f"bench itself         send lag ms {r['bench']['send_lag_ms']}, loop lag ms "
        f"{r['bench']['loop_lag_ms']}, cpu {r['bench']['cpu_pct_during_load']}%",
    ]
    if r["server_cpu_pct"] is not None:
        lines.append(
            f"server cpu           {r['server_cpu_pct']}% of one core during the measured window "
            f"(per pid {r['server_cpu_pct_by_pid']}), RSS KiB at its end {r['server_rss_kib_by_pid']}"
        )
    lines.append(
        f"machine              cores busy {r['machine']['cores_busy_pct']} (all processes), "
        f"load average {r['machine']['loadavg_1min'][0]} → {r['machine']['loadavg_1min'][1]}"
    )
    for key, frame in r["error_examples"].items():
        lines.append(f"  first {key}: {json.dumps(frame, ensure_ascii=False)[:300]}")
    print("\n".join(lines), flush=True)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description="Relay benchmark for Ruang Tanya (patron → librarian over WebSockets). "
        "Run from the repository root with the SAME environment as the server "
        "(SQLITE_PATH or DATABASE_URL, SECRET_KEY): it creates its data with Django in-process.",
    )
    parser.add_argument(
        "--url", default="http://127.0.0.1:8000", help="the running server (loopback only)"
    )
    parser.add_argument("--conversations", type=int, default=100)
    parser.add_argument(
        "--rate", type=float, default=1.0, help="messages per second per conversation"
    )
    parser.add_argument("--duration", type=float, default=30.0, help="measured seconds")
    parser.add_argument(
        "--warmup", type=float, default=5.0, help="seconds of load before measuring"
    )
    parser.add_argument(
        "--grace",
        type=float,
        default=10.0,
        help="seconds after the last send to wait for acks and deliveries",
    )
    parser.add_argument(
        "--per-librarian",
        type=int,
        default=50,
        help="conversations per librarian (their max_chats)",
    )
    parser.add_argument("--text-length", type=int, default=80, help="characters per message")
    parser.add_argument(
        "--connect-concurrency", type=int, default=50, help="sockets being opened/set up at once"
    )
    parser.add_argument(
        "--wave",
        type=int,
        default=20,
        help="conversations being started and claimed at once (waiting at the same time)",
    )
    parser.add_argument(
        "--step-timeout",
        type=float,
        default=30.0,
        help="seconds allowed for any one set-up step (connect, welcome, claim)",
    )
    parser.add_argument(
        "--setup-timeout",
        type=float,
        default=300.0,
        help="seconds allowed for setting up all the conversations",
    )
    parser.add_argument(
        "--server-pid",
        type=int,
        action="append",
        default=[],
        help="pid of a server process, to report its CPU use and RSS (from /proc); repeatable",
    )
    parser.add_argument(
        "--dump",
        metavar="FILE",
        help="write one CSV row per load message (times in s from the load start)",
    )
    parser.add_argument(
        "--json",
        nargs="?",
        const="-",
        metavar="FILE",
        help="write the report as JSON to FILE, or alone: JSON on stdout (progress goes to stderr)",
    )
    args = parser.parse_args(argv)
    check_local_urls(parser, [args.url],
                     message="--url must be http(s)://127.0.0.1, localhost or [::1] (this bench is local only)")
    if not (1 <= args.conversations <= 5000):
        parser.error("--conversations must be 1..5000")
    if not (0 < args.rate <= 100):
        parser.error("--rate must be in (0, 100]")
    if (
        not (0 < args.duration <= 600)
        or not (0 <= args.warmup <= 120)
        or not (0 <= args.grace <= 120)
    ):
        parser.error("--duration ≤ 600 s, --warmup ≤ 120 s, --grace ≤ 120 s")
    if not (1 <= args.per_librarian <= 32767):
        parser.error("--per-librarian must be 1..32767 (max_chats is a PositiveSmallIntegerField)")
    if not (40 <= args.text_length <= 4000):
        parser.error("--text-length must be 40..4000")
    return args


def main(argv=None):
    args = parse_args(argv)
    # Two sockets per conversation, plus some slack.
    raise_open_files(2 * args.conversations + 256)
    setup = django_setup(origin_of(args.url), args.conversations, args.per_librarian)
    overall = (
        args.setup_timeout + args.warmup + args.duration + args.grace + 4 * args.step_timeout + 60
    )
    try:
        report = asyncio.run(asyncio.wait_for(run(args, setup), overall))
    except BenchAbort as abort:
        raise SystemExit(str(abort)) from None
    except TimeoutError:
        raise SystemExit(f"bench did not finish within {overall:.0f} s; gave up") from None
    if args.json == "-":
        print(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        print_report(report)
        if args.json:
            Path(args.json).write_text(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
