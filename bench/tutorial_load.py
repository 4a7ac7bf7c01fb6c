#!/usr/bin/env python
"""Load generator for the baseline tutorial chat (bench/tutorial/): the same load shape as relay.py.

A measurement, not a test. It opens N rooms on a RUNNING tutorial chat, each with a "patron" and a
"librarian" socket (`/ws/chat/<room>/`). Every patron sends `{"message": <id>}` at `--rate` per
second on an absolute schedule, for `--warmup` + `--duration` seconds; the librarian notes when
each id arrives. It reports delivered messages/s, patron→librarian latency p50/p90/p99/max, lost
(never reached the librarian within `--grace`) and duplicated, with the same figures and JSON keys
as relay.py (whose book-keeping, percentiles and /proc readings it reuses), so bench/compare.py can
put both in one table. The tutorial stores nothing and acknowledges nothing: there is no ack.

    taskset -c 1 .venv/bin/python bench/tutorial_load.py --url http://127.0.0.1:8431 \\
        --conversations 500 --rate 2 --duration 20 --server-pid <daphne pid>
"""

import argparse
import asyncio
import json
import secrets
import sys
import time
from collections import Counter
from pathlib import Path

if __package__ in (None, ""):  # run as `python bench/tutorial_load.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.client import ws_url  # noqa: E402
from bench.common import (  # noqa: E402
    check_local_urls,
    measured_window,
    origin_of,
    percentiles_ms,
    raise_open_files,
    window_figures,
)
from bench.relay import Peer, Stats, scheduled_sends, ticker  # noqa: E402


class RoomPeer(Peer):
    """One socket of a room; the tutorial's frames are `{"message": …}` with no type or welcome."""

    def __init__(self, stats, url, listening):
        super().__init__(stats, url, {})
        self.listening = listening

    async def open(self, origin, timeout):
        await super().open(origin, timeout)
        self.welcome.set_result(None)  # the tutorial says nothing on connect

    def on_frame(self, kind, frame, now):
        if not self.listening:
            return  # the patron's own echo
        client_id = str(frame.get("message", "")).split(" ", 1)[0]
        stats = self.stats
        if client_id not in stats.sent:
            return
        if client_id in stats.delivered:
            stats.duplicates += 1
        else:
            stats.delivered[client_id] = now
            if stats.expect_close:
                stats.late_deliveries += 1


async def run(args):
    stats = Stats()
    origin = origin_of(args.url)
    ws_base = ws_url(origin)
    run_id = secrets.token_hex(3)
    limit = asyncio.Semaphore(args.connect_concurrency)
    log = (lambda *a: print(*a, file=sys.stderr, flush=True)) if args.json == "-" else print
    stop_ticker = asyncio.Event()
    tick = asyncio.create_task(ticker(stats, stop_ticker))

    rooms = []
    for i in range(args.conversations):
        url = f"{ws_base}/ws/chat/r{run_id}x{i}/"
        rooms.append((RoomPeer(stats, url, listening=False), RoomPeer(stats, url, listening=True)))

    async def open_room(patron, librarian):
        async with limit:
            await librarian.open(origin, args.step_timeout)
            await patron.open(origin, args.step_timeout)

    t = time.perf_counter()
    results = await asyncio.gather(*(open_room(*room) for room in rooms), return_exceptions=True)
    failures = Counter(type(r).__name__ for r in results if isinstance(r, BaseException))
    ready = [room for room, result in zip(rooms, results, strict=True) if not isinstance(result, BaseException)]
    setup_s = time.perf_counter() - t
    log(f"rooms connected: {len(ready)} of {len(rooms)} in {setup_s:.1f} s {dict(failures) or ''}")

    load_start = time.perf_counter() + 0.5
    measure_start = load_start + args.warmup
    load_end = measure_start + args.duration
    interval = 1.0 / args.rate
    window = {}
    stats.sample_from, stats.sample_until = load_start, load_end
    cpu_bench_0 = time.process_time()
    pad = "x" * max(0, args.text_length - 20)

    async def patron_load(index, patron):
        # The id leads the text, padded to --text-length like relay.py's messages.
        await scheduled_sends(stats, patron.ws, index, f"{run_id}-{index}", (load_start, measure_start, load_end),
                              interval, interval * index / max(1, len(ready)),
                              lambda client_id, _k: {"message": f"{client_id} {pad}"})

    log(f"load: {len(ready)} rooms x {args.rate:g} msg/s, warm-up {args.warmup:g} s, measured {args.duration:g} s")
    marker = asyncio.create_task(measured_window(window, args.server_pid, measure_start, load_end))
    await asyncio.gather(*(patron_load(i, patron) for i, (patron, _lib) in enumerate(ready)))
    await marker
    cpu_bench = time.process_time() - cpu_bench_0

    grace_end = time.perf_counter() + args.grace
    while time.perf_counter() < grace_end and len(stats.delivered) < len(stats.sent):
        await asyncio.sleep(0.05)
    delivered = dict(stats.delivered)
    stats.expect_close = True
    await asyncio.gather(*(peer.close() for room in rooms for peer in room), return_exceptions=True)
    stop_ticker.set()
    await tick

    measured = {cid: sent for cid, (_i, sent, is_measured) in stats.sent.items() if is_measured}
    latencies = sorted(delivered[cid] - sent for cid, sent in measured.items() if cid in delivered)
    measured_delivered = sum(1 for cid in measured if cid in delivered)
    return {
        "url": args.url,
        "server": "tutorial chat",
        "conversations_requested": args.conversations,
        "conversations": len(ready),
        "rate_per_conversation": args.rate,
        "warmup_s": args.warmup,
        "duration_s": args.duration,
        "offered_msgs_per_s": round(len(ready) * args.rate, 1),
        "measured": {
            "sent": len(measured),
            "delivered": measured_delivered,
            "delivered_per_s": round(measured_delivered / args.duration, 1),
            "latency_ms": percentiles_ms(latencies),
        },
        "all_load_messages": {
            "sent": len(stats.sent),
            "delivered": len(delivered),
            "lost": len(stats.sent) - len(delivered),
            "duplicated": stats.duplicates,
            "delivered_after_grace": stats.late_deliveries,
        },
        "errors": dict(stats.errors),
        "unexpected_closes": dict(stats.closes),
        "setup_failures": dict(failures),
        "phases_s": {"rooms_connected_s": round(setup_s, 2)},
        "bench": {
            "send_lag_ms": percentiles_ms(sorted(stats.send_lag), (50, 99)),
            "loop_lag_ms": percentiles_ms(sorted(stats.loop_lag), (50, 99)),
            "cpu_pct_during_load": round(100 * cpu_bench / (args.warmup + args.duration), 1),
        },
        **window_figures(window, args.duration),
    }


def print_report(r):
    m, a, lat = r["measured"], r["all_load_messages"], r["measured"]["latency_ms"]
    print(
        "\n".join(
            [
                f"== tutorial chat bench: {r['url']}",
                f"rooms                {r['conversations']} of {r['conversations_requested']}, "
                f"{r['rate_per_conversation']:g} msg/s each = {r['offered_msgs_per_s']:g} msg/s offered",
                f"measured messages    sent {m['sent']}, delivered {m['delivered']} ({m['delivered_per_s']:g} msg/s)",
                f"latency p→l (ms)     p50 {lat['p50']}  p90 {lat['p90']}  p99 {lat['p99']}  max {lat['max']}",
                f"all load messages    sent {a['sent']}, delivered {a['delivered']}, lost {a['lost']}, "
                f"duplicated {a['duplicated']}",
                f"errors / closes      {r['errors'] or 'none'} / {r['unexpected_closes'] or 'none'}",
                f"bench itself         send lag ms {r['bench']['send_lag_ms']}, loop lag ms "
                f"{r['bench']['loop_lag_ms']}, cpu {r['bench']['cpu_pct_during_load']}%",
                f"server               cpu {r['server_cpu_pct']}% of one core, RSS KiB {r['server_rss_kib_by_pid']}",
                f"machine              cores busy {r['machine']['cores_busy_pct']}, "
                f"load average {r['machine']['loadavg_1min']}",
            ]
        ),
        flush=True,
    )


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8431", help="the running tutorial chat (loopback only)")
    parser.add_argument("--conversations", type=int, default=100, help="rooms (a patron and a librarian each)")
    parser.add_argument("--rate", type=float, default=1.0, help="messages per second per room")
    parser.add_argument("--duration", type=float, default=20.0, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--grace", type=float, default=10.0)
    parser.add_argument("--text-length", type=int, default=80, help="characters per message (about)")
    parser.add_argument("--connect-concurrency", type=int, default=50)
    parser.add_argument("--step-timeout", type=float, default=30.0)
    parser.add_argument("--server-pid", type=int, action="append", default=[], help="server pid (repeatable)")
    parser.add_argument("--json", nargs="?", const="-", metavar="FILE", help="as in relay.py")
    args = parser.parse_args(argv)
    check_local_urls(parser, [args.url])
    if not (1 <= args.conversations <= 10000) or not (0 < args.rate <= 100):
        parser.error("--conversations 1..10000, --rate in (0, 100]")
    if not (0 < args.duration <= 600) or not (0 <= args.warmup <= 120) or not (0 <= args.grace <= 120):
        parser.error("--duration ≤ 600 s, --warmup ≤ 120 s, --grace ≤ 120 s")
    return args


def main(argv=None):
    args = parse_args(argv)
    raise_open_files(2 * args.conversations + 256)
    overall = args.conversations / 10 + args.warmup + args.duration + args.grace + 120
    try:
        report = asyncio.run(asyncio.wait_for(run(args), overall))
    except TimeoutError:
        raise SystemExit(f"bench did not finish within {overall:.0f} s; gave up") from None
    if args.json == "-":
        print(json.dumps(report, indent=2))
    else:
        print_report(report)
        if args.json:
            Path(args.json).write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
