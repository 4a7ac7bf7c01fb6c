#!/usr/bin/env python
"""Churn benchmark: N conversations under random disconnects; is every message still delivered once?

A measurement against a RUNNING server (or several behind no load balancer: `--url` may be given
more than once, and every (re)connect picks one of them at random). Each conversation is a patron
and a librarian client from `bench/resilient.py`, which keep the delivery promise the way the
browser clients do (outbox re-sent after reconnects, resume with last_seq/since, gap fetches,
heartbeats, backoff). Both sides send `--rate` messages per second each, for `--duration`
seconds, while every socket is cut without a close frame at random, on average every
`--drop-every` seconds (exponential intervals). Then sending stops, the clients get up to
`--grace` seconds to settle (outboxes empty, both sides holding the same last seq), and the
figures are compared with the database and across both sides:

* sent / acknowledged / delivered (an acked message held by the other side at its acked seq);
* duplicated: a client_id stored or held more than once (must be 0);
* lost: an acked message missing from the database, from either side, or at another seq (must be 0);
* unacknowledged (still in an outbox at the end), refused (an error frame for it);
* lists differing from the database (either side, by seq and client_id);
* drops, reconnects, watchdog reconnects, gap fetches;
* send→delivery latency p50/p90/p99/max, overall and for the messages that went through a
  reconnect (queued while disconnected, acked on another connection than it was queued on, or
  received by the other side through resume/fetch instead of live).

Exit status 1 if anything was lost or duplicated, or a list differs from the database.

Set-up happens here, through Django, against the SAME database as the server (run from the
repository root with the server's SQLITE_PATH / DATABASE_URL and SECRET_KEY): queue and site
`bench-churn`, one librarian `bench-churn-NNN` per `--per-librarian` conversations (max_chats to
match) with a session each, a patron token per conversation. Open conversations of an earlier run
are closed first. Loopback URLs only; every phase is bounded in time.

Start servers with a short heartbeat so that a lost last message is repaired within the grace:

    export SQLITE_PATH=/tmp/churn.sqlite3 RT_HEARTBEAT_INTERVAL=2
    .venv/bin/python manage.py migrate -v0
    .venv/bin/daphne -p 8411 chatserver.asgi:application &
    .venv/bin/python bench/churn.py --url http://127.0.0.1:8411 \
        --conversations 200 --rate 0.2 --duration 60 --drop-every 20
"""

import argparse
import asyncio
import json
import math
import random
import sys
import time
from collections import Counter
from pathlib import Path

if __package__ in (None, ""):  # run as `python bench/churn.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    bench_setup,
    check_local_urls,
    latency_summary,
    origin_of,
    raise_open_files,
    say,
)
from bench.resilient import ResilientLibrarian, ResilientPatron  # noqa: E402

BENCH_SLUG = "bench-churn"


# ------------------------------------------------------------------------------------------------
# The conversations
# ------------------------------------------------------------------------------------------------


class Fleet:
    """Patrons and librarians of N conversations, driven in phases. Also used by tests/test_chaos.py."""

    def __init__(self, urls, tokens, cookies, *, per_librarian, seed=None, backoff_cap=3.0, heartbeat=20.0):
        self.rng = random.Random(seed)
        kw = {"backoff_cap": backoff_cap, "heartbeat": heartbeat}
        self.librarians = [ResilientLibrarian(urls, cookie, name=f"lib{i}", rng=random.Random(self.rng.random()),
                                              **kw) for i, cookie in enumerate(cookies)]
        self.patrons = [ResilientPatron(urls, token, name=f"pat{i}", rng=random.Random(self.rng.random()), **kw)
                        for i, token in enumerate(tokens)]
        self.per_librarian = per_librarian
        self.pairs = []  # (patron, librarian, conversation id)
        self.load_ids = set()  # client_ids sent during the load
        self.drops = 0

    @property
    def clients(self):
        return self.librarians + self.patrons

    async def open(self, timeout, wave=20, progress=None):
        """Librarians connect; then, `wave` conversations at a time, patrons ask and each conversation
        is claimed by its librarian (waves: every start and claim re-announces the place in the queue
        of every waiting patron, so 200 waiting at once would cost 200² frames)."""
        deadline = time.monotonic() + timeout

        def left():
            if time.monotonic() > deadline:
                missing = sum(c not in lib.held for _p, lib, c in self.pairs)
                raise TimeoutError(f"set-up over {timeout} s: {len(self.pairs)} of {len(self.patrons)} "
                                   f"conversations started, {missing} of them not claimed")
            return deadline - time.monotonic()

        for librarian in self.librarians:
            librarian.start()
        await asyncio.wait_for(asyncio.gather(*(lib.wait_ready(timeout) for lib in self.librarians)), left())
        for librarian in self.librarians:
            if librarian.fatal:
                raise RuntimeError(f"librarian refused: {librarian.fatal}")
        for first in range(0, len(self.patrons), wave):
            batch = list(enumerate(self.patrons))[first:first + wave]
            for _index, patron in batch:
                patron.start()
                patron.ask("Pertanyaan churn: apakah perpustakaan buka hari Minggu?", name=patron.name)
            for index, patron in batch:
                try:
                    await asyncio.wait_for(patron.started.wait(), left())
                except TimeoutError:
                    left()
                    raise
                librarian = self.librarians[index // self.per_librarian]
                librarian.expect(patron.conversation_id)
                self.pairs.append((patron, librarian, patron.conversation_id))
            while not all(c in lib.held for _p, lib, c in self.pairs):
                left()
                await asyncio.sleep(0.05)
            if progress:
                progress(f"{len(self.pairs)} conversations claimed")

    async def load(self, duration, rate, drop_every=None, during=None):
        """Both sides send `rate` msg/s per conversation; sockets dropped at random. `during`: an
        awaitable run alongside (the chaos test kills servers there)."""
        stop = time.monotonic() + duration
        tasks = []
        for index, (patron, librarian, conversation_id) in enumerate(self.pairs):
            tasks.append(asyncio.create_task(self._send_loop(stop, rate, lambda p=patron, i=index: p.say(
                f"patron {i}: pesan {time.time():.3f}"))))
            tasks.append(asyncio.create_task(self._send_loop(stop, rate, lambda lib=librarian, c=conversation_id:
                                                             lib.say(c, f"librarian: jawaban {time.time():.3f}"))))
        if drop_every:
            tasks += [asyncio.create_task(self._drop_loop(stop, client, drop_every)) for client in self.clients]
        if during is not None:
            tasks.append(asyncio.create_task(during))
        await asyncio.gather(*tasks)

    async def _send_loop(self, stop, rate, send):
        period = 1 / rate
        next_at = time.monotonic() + self.rng.uniform(0, period)
        while next_at < stop:
            await asyncio.sleep(max(0, next_at - time.monotonic()))
            self.load_ids.add(send())
            next_at += period

    async def _drop_loop(self, stop, client, mean):
        while True:
            wait = self.rng.expovariate(1 / mean)
            if time.monotonic() + wait >= stop:
                return
            await asyncio.sleep(wait)
            if client.drop():
                self.drops += 1

    def settled(self):
        if any(client.outbox for client in self.clients):
            return False
        for patron, librarian, conversation_id in self.pairs:
            mine, theirs = patron.log(conversation_id), librarian.log(conversation_id)
            if not (mine.contiguous == mine.highest == theirs.contiguous == theirs.highest):
                return False
        return True

    async def settle(self, grace):
        """Wait (at most `grace` s) until every outbox is empty and both sides hold the same messages."""
        started = time.monotonic()
        while time.monotonic() - started < grace:
            if self.settled():
                return time.monotonic() - started
            await asyncio.sleep(0.2)
        return None

    async def close(self):
        await asyncio.gather(*(client.close() for client in self.clients))

    # -------------------------------------------------------------------------- the verdict

    def report(self, stored):
        """Compare with the database: `stored` = {conversation id: [(seq, client_id), …]} in seq order."""
        sent = acked = delivered = refused = unacked = lost = undelivered = duplicated = 0
        lost_examples, mismatched, problems = [], [], []
        latencies, latencies_reconnect = [], []
        for patron, librarian, conversation_id in self.pairs:
            rows = stored.get(conversation_id, [])
            db_ids = Counter(cid for _seq, cid in rows if cid)
            db_seq = {cid: seq for seq, cid in rows}
            duplicated += sum(n - 1 for n in db_ids.values() if n > 1)
            if [seq for seq, _cid in rows] != list(range(1, len(rows) + 1)):
                problems.append(f"conversation {conversation_id}: stored seqs not 1..n")
            expected = [(seq, cid) for seq, cid in rows]
            for side in (patron, librarian):
                held = [(m["seq"], m.get("client_id") or "") for m in side.log(conversation_id).ordered()]
                if held != expected:
                    mismatched.append(f"{side.name} conversation {conversation_id}: holds {len(held)}, "
                                      f"database {len(expected)}")
                held_ids = Counter(cid for _seq, cid in held if cid)
                duplicated += sum(n - 1 for n in held_ids.values() if n > 1)
            for sender, receiver in ((patron, librarian), (librarian, patron)):
                for client_id, queued in sender.queued_at.items():
                    if sender.sent_frames[client_id].get("conversation", conversation_id) != conversation_id:
                        continue  # another conversation of this librarian
                    sent += 1
                    if client_id in sender.failed:
                        refused += 1
                        continue
                    if client_id not in sender.acked:
                        unacked += 1
                        continue
                    acked += 1
                    _c, seq, _t = sender.acked[client_id]
                    own = sender.log(conversation_id).messages.get(seq)
                    other = receiver.log(conversation_id).messages.get(seq)
                    ok_db = db_ids.get(client_id) and db_seq.get(client_id) == seq
                    ok_own = own is not None and own.get("client_id") == client_id
                    ok_other = other is not None and other.get("client_id") == client_id
                    if ok_other:
                        delivered += 1
                        latency = receiver.log(conversation_id).received_at[seq] - queued
                        latencies.append(latency)
                        if sender.went_through_reconnect(client_id) or \
                                receiver.log(conversation_id).via[seq] != "live":
                            latencies_reconnect.append(latency)
                    if not ok_db:
                        lost += 1  # acknowledged, yet not stored (at that seq): the promise broken
                    elif not (ok_own and ok_other):
                        undelivered += 1  # stored, but a side does not hold it at the end
                    if not (ok_db and ok_own and ok_other) and len(lost_examples) < 10:
                        lost_examples.append({"client_id": client_id, "conversation": conversation_id,
                                              "seq": seq, "in_db": bool(ok_db), "sender_holds": ok_own,
                                              "receiver_holds": ok_other})
        clients = self.clients
        errors = Counter()
        for client in clients:
            errors.update({f"{client.role}:{k}": v for k, v in client.errors.items()})
        return {
            "conversations": len(self.pairs),
            "sent": sent, "acknowledged": acked, "delivered": delivered, "duplicated": duplicated,
            "lost": lost, "undelivered": undelivered, "unacknowledged": unacked, "refused": refused,
            "lists_differing_from_db": len(mismatched), "mismatch_examples": mismatched[:10],
            "lost_examples": lost_examples, "problems": problems,
            "drops": self.drops, "reconnects": sum(max(0, c.connects - 1) for c in clients),
            "connect_attempts": sum(c.attempts for c in clients),
            "watchdog_reconnects": sum(c.watchdog_fired for c in clients),
            "gap_fetches": sum(c.fetches for c in clients),
            "copies_dropped": sum(log.copies for c in clients for log in c.conversations.values()),
            "errors": dict(errors),
            "latency_ms": _ms(latency_summary(latencies)),
            "latency_through_reconnect_ms": _ms(latency_summary(latencies_reconnect)),
        }


def _ms(summary):
    return {k: (round(v * 1000, 1) if isinstance(v, float) else v) for k, v in summary.items()}


def print_report(report, out=sys.stdout):
    lat, rec = report["latency_ms"], report["latency_through_reconnect_ms"]
    lines = [
        f"conversations          {report['conversations']}",
        f"messages sent          {report['sent']}",
        f"acknowledged           {report['acknowledged']}",
        f"delivered              {report['delivered']}",
        f"duplicated             {report['duplicated']}",
        f"lost (acked, not stored) {report['lost']}",
        f"undelivered at the end {report['undelivered']} (stored, missing on a side)",
        f"unacknowledged         {report['unacknowledged']}",
        f"refused (error frame)  {report['refused']}",
        f"lists != database      {report['lists_differing_from_db']}",
        f"drops                  {report['drops']}",
        f"reconnects             {report['reconnects']} (attempts {report['connect_attempts']}, "
        f"watchdog {report['watchdog_reconnects']})",
        f"gap fetches            {report['gap_fetches']} (copies dropped by seq: {report['copies_dropped']})",
        f"latency all (ms)       n={lat['n']} p50={lat['p50']} p90={lat['p90']} p99={lat['p99']} max={lat['max']}",
        f"latency reconnect (ms) n={rec['n']} p50={rec['p50']} p90={rec['p90']} p99={rec['p99']} max={rec['max']}",
        f"error frames           {report['errors'] or 'none'}",
    ]
    for key in ("settled_after_s", "servers"):
        if key in report:
            lines.append(f"{key:<23}{report[key]}")
    for example in report["lost_examples"] + report["mismatch_examples"] + report["problems"]:
        lines.append(f"  ! {example}")
    print("\n".join(lines), file=out, flush=True)


def verdict(report):
    return (report["lost"] == 0 and report["undelivered"] == 0 and report["duplicated"] == 0
            and report["lists_differing_from_db"] == 0 and not report["problems"])


# ------------------------------------------------------------------------------------------------
# Set-up and database reads through Django (this process, the server's database)
# ------------------------------------------------------------------------------------------------


def django_setup(origins, conversations, per_librarian):
    setup = bench_setup(
        BENCH_SLUG, tokens=conversations, queue_name="Churn", site_name="Bench churn", origins=origins,
        librarians=math.ceil(conversations / per_librarian), max_chats=per_librarian,
        user_prefix=f"{BENCH_SLUG}-", display_prefix="Churn")
    return {"cookies": [f"{setup['cookie_name']}={key}" for key, _name in setup["sessions"]],
            "tokens": setup["tokens"], "closed_stale": setup["closed_stale"]}


def stored_messages(conversation_ids):
    """{conversation id: [(seq, client_id), …]} from the database, in seq order (sync, Django set up)."""
    from reference.models import Message

    stored = {c: [] for c in conversation_ids}
    rows = Message.objects.filter(conversation_id__in=list(conversation_ids)).order_by("conversation_id", "seq")
    for conversation_id, seq, client_id in rows.values_list("conversation_id", "seq", "client_id"):
        stored[conversation_id].append((seq, client_id or ""))
    return stored


# ------------------------------------------------------------------------------------------------
# Command line
# ------------------------------------------------------------------------------------------------


async def run(args, setup):
    fleet = Fleet(args.url, setup["tokens"], setup["cookies"], per_librarian=args.per_librarian, seed=args.seed,
                  backoff_cap=args.backoff_cap)
    try:
        started = time.monotonic()
        await fleet.open(args.setup_timeout, args.wave, progress=say)
        say(f"{len(fleet.pairs)} conversations claimed in {time.monotonic() - started:.1f} s; "
            f"load {args.duration} s at {args.rate} msg/s per side, a drop per socket every ~{args.drop_every} s")
        await fleet.load(args.duration, args.rate, args.drop_every)
        say(f"load over ({fleet.drops} drops); settling (≤ {args.grace} s)")
        settled = await fleet.settle(args.grace)
        say("settled" if settled is not None else "NOT settled within the grace")
    finally:
        await fleet.close()
    return fleet, settled


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", action="append", help="a running server (repeat for several); loopback only")
    parser.add_argument("--conversations", type=int, default=200)
    parser.add_argument("--per-librarian", type=int, default=5, help="conversations per librarian (= max_chats)")
    parser.add_argument("--rate", type=float, default=0.2, help="messages per second per side per conversation")
    parser.add_argument("--duration", type=float, default=60, help="seconds of load")
    parser.add_argument("--drop-every", type=float, default=20,
                        help="mean seconds between drops of each socket (0: no drops)")
    parser.add_argument("--grace", type=float, default=30, help="seconds allowed to settle after the load")
    parser.add_argument("--setup-timeout", type=float, default=300)
    parser.add_argument("--wave", type=int, default=20, help="conversations started and claimed at a time")
    parser.add_argument("--backoff-cap", type=float, default=3.0, help="reconnect backoff cap, seconds")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--json", metavar="FILE", help="also write the report as JSON")
    args = parser.parse_args(argv)
    args.url = args.url or ["http://127.0.0.1:8000"]
    check_local_urls(parser, args.url)
    if not (1 <= args.conversations <= 5000 and 1 <= args.per_librarian <= 1000):
        parser.error("--conversations 1..5000, --per-librarian 1..1000")
    if not (0 < args.rate <= 50 and 0 < args.duration <= 1800 and 0 <= args.grace <= 300):
        parser.error("--rate (0, 50], --duration (0, 1800], --grace [0, 300]")
    return args


def main(argv=None):
    args = parse_args(argv)
    raise_open_files(2 * args.conversations + 256)
    origins = sorted({origin_of(u) for u in args.url})
    setup = django_setup(origins, args.conversations, args.per_librarian)
    from django.db import connections

    connections.close_all()
    overall = args.setup_timeout + args.duration + args.grace + 60
    try:
        fleet, settled = asyncio.run(asyncio.wait_for(run(args, setup), overall))
    except TimeoutError as exc:
        raise SystemExit(f"churn bench did not finish: {exc or f'over {overall:.0f} s'}") from None
    report = fleet.report(stored_messages([c for _p, _l, c in fleet.pairs]))
    report["settled_after_s"] = round(settled, 1) if settled is not None else f"not within {args.grace} s"
    report["servers"] = ", ".join(args.url)
    print_report(report)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2, ensure_ascii=False))
    sys.exit(0 if verdict(report) else 1)


if __name__ == "__main__":
    main()
