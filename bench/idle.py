#!/usr/bin/env python
"""Idle-socket memory: how much a RUNNING daphne's RSS grows per idle socket.

A measurement, not a test. `--kind patron` (Ruang Tanya): each socket opens `/ws/patron/`, sends
`hello` with a fresh patron token and waits for `welcome`, then stays silent (tokens come from
bench/relay.py's Django set-up, so run it with the server's environment, from the repository root).
`--kind tutorial` (bench/tutorial): each socket joins its own room `/ws/chat/<room>/`.

It opens 50 sockets and closes them (so lazy imports and caches are paid for), reads the server's
RSS, opens `--sockets` sockets `--connect-concurrency` at a time, waits `--settle` seconds, reads
RSS again and prints the growth per socket. Raises its own open-file limit as needed; the server
needs one file descriptor per socket as well (check `ulimit -n` where it was started).

    SQLITE_PATH=/tmp/idle.sqlite3 .venv/bin/python bench/idle.py --url http://127.0.0.1:8441 \\
        --sockets 5000 --kind patron --server-pid <daphne pid>
"""

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

if __package__ in (None, ""):  # run as `python bench/idle.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.client import open_socket as open_ws  # noqa: E402
from bench.common import check_local_urls, origin_of, raise_open_files, read_rss_kib  # noqa: E402
from bench.relay import django_setup  # noqa: E402

WARM_UP_SOCKETS = 50


async def open_socket(args, ws_base, origin, index, token):
    path = f"/ws/chat/idle{index}/" if args.kind == "tutorial" else "/ws/patron/"
    # websockets' default close timeout and receive queue, as before (idle sockets read nothing)
    ws = await open_ws(ws_base + path, origin, timeout=30, close_timeout=10, max_queue=16)
    if args.kind == "patron":
        await ws.send(json.dumps({"type": "hello", "v": 1, "token": token, "lang": "en"}))
        while True:
            frame = json.loads(await asyncio.wait_for(ws.recv(), 30))
            if frame.get("type") == "welcome":
                break
            if frame.get("type") == "error":
                raise RuntimeError(f"hello refused: {frame}")
    return ws


async def open_many(args, ws_base, origin, tokens, offset):
    """One socket per token (None for the tutorial); returns the open sockets and the errors."""
    limit = asyncio.Semaphore(args.connect_concurrency)

    async def one(i):
        async with limit:
            return await open_socket(args, ws_base, origin, offset + i, tokens[i])

    results = await asyncio.gather(*(one(i) for i in range(len(tokens))), return_exceptions=True)
    sockets = [r for r in results if not isinstance(r, BaseException)]
    errors = [repr(r) for r in results if isinstance(r, BaseException)]
    return sockets, errors


async def run(args, tokens):
    parts = urlsplit(args.url)
    origin = f"{parts.scheme}://{parts.netloc}"
    ws_base = f"ws://{parts.netloc}"
    warm, _ = await open_many(args, ws_base, origin, tokens[:WARM_UP_SOCKETS], 0)
    await asyncio.gather(*(ws.close() for ws in warm))
    await asyncio.sleep(args.settle)
    before = read_rss_kib(args.server_pid)
    t = time.perf_counter()
    sockets, errors = await open_many(args, ws_base, origin, tokens[WARM_UP_SOCKETS:], WARM_UP_SOCKETS)
    connect_s = time.perf_counter() - t
    await asyncio.sleep(args.settle)
    alive = sum(1 for ws in sockets if ws.close_code is None)
    after = read_rss_kib(args.server_pid)
    await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
    return {
        "url": args.url,
        "kind": args.kind,
        "sockets": args.sockets,
        "sockets_open": alive,
        "errors": errors[:5],
        "error_count": len(errors),
        "connect_s": round(connect_s, 2),
        "rss_before_kib": before,
        "rss_after_kib": after,
        "bytes_per_socket": (after - before) * 1024 / max(1, alive),
    }


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="the running server (loopback only)")
    parser.add_argument("--kind", choices=["patron", "tutorial"], default="patron")
    parser.add_argument("--sockets", type=int, default=5000)
    parser.add_argument("--server-pid", type=int, required=True)
    parser.add_argument("--settle", type=float, default=5.0, help="seconds of quiet before each RSS reading")
    parser.add_argument("--connect-concurrency", type=int, default=100)
    parser.add_argument("--json", nargs="?", const="-", metavar="FILE")
    args = parser.parse_args(argv)
    check_local_urls(parser, [args.url], schemes=("http",),
                     message="--url must be http://127.0.0.1, localhost or [::1]")
    if not (1 <= args.sockets <= 15000):
        parser.error("--sockets 1..15000")
    return args


def main(argv=None):
    args = parse_args(argv)
    raise_open_files(args.sockets + WARM_UP_SOCKETS + 256)
    tokens = [None] * (args.sockets + WARM_UP_SOCKETS)
    if args.kind == "patron":
        sockets = args.sockets + WARM_UP_SOCKETS
        setup = django_setup(origin_of(args.url), sockets, per_librarian=sockets)
        tokens = setup["tokens"]
    report = asyncio.run(asyncio.wait_for(run(args, tokens), args.sockets * 0.1 + 120))
    text = json.dumps(report, indent=2)
    if args.json and args.json != "-":
        Path(args.json).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
