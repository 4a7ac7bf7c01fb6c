#!/usr/bin/env python
"""Fan-out benchmark: time from a patron asking to EVERY on-duty dashboard showing the chat.

Two modes. Without `--url`, the NETWORK MODE (issue 22, docs/network-bench.md): it makes its own
database (a throwaway SQLite file, or DATABASE_URL / REDIS_URL from the environment), starts its own
daphne(s) on core 0 (itself on core 1), and runs two scenarios with the same number of dashboards:

* `network`: `--libraries` (20) libraries, each with its own queue, widget site and `--per-library`
  (5) librarians (home library, members of its queue);
* `single`: one library, one queue, all 100 librarians in it.

Every dashboard connects and says `hello`; then `--chats` patrons (300 per scenario), chat n on
library n mod L's site, send `start` at `--rate` a second. For each chat it times `start` → each
dashboard's `queue.added`, and checks which dashboards got it: exactly those of its library
(`leaks`: others that got it; `misses`: its own that did not within `--timeout`). It prints per
scenario chats, dashboards, deliveries, leaks, misses, p50/p95/p99/max (ms) and the ratio of the
two p99s, and exits 1 on any leak, miss or failed chat. It also counts presence frames and welcome
roster entries about other libraries' librarians, and other frames naming another library's chat.
With `--cover K`, library i covers library i + 1 (an `always` agreement on its queue) for i < K, and
those chats must reach both libraries' dashboards and still no other.

    .venv/bin/python bench/fanout.py                                  # both scenarios, SQLite
    .venv/bin/python bench/fanout.py --chats 600 --repeat 2 --json /tmp/fanout.json
    .venv/bin/python bench/fanout.py --scenarios network --cover 19   # library i covers i + 1 (always)
    DATABASE_URL=postgres://… REDIS_URL=redis://127.0.0.1:6379/15 .venv/bin/python bench/fanout.py --servers 2

With `--url`, the ONE-QUEUE MODE (bench/compare.py and bench/before_after.sh use it): against a
RUNNING server (one or several daphne processes) it connects
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
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path
from urllib.parse import urlsplit

import websockets

if __package__ in (None, ""):  # run as `python bench/fanout.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import client  # noqa: E402
from bench.common import (  # noqa: E402
    REPO,
    bench_librarian,
    bench_setup,
    check_local_urls,
    daphne_command,
    database_description,
    django_ready,
    free_port,
    login_sessions,
    origin_of,
    patron_tokens,
    percentiles_ms,
    raise_open_files,
    say,
    stop,
    wait_for_port,
    window_end,
    window_figures,
    window_start,
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
        self.expected = {}  # conversation id -> the dashboards that must get it (network mode; else all)
        self.other_frames = defaultdict(lambda: defaultdict(list))  # cid -> dashboard -> other frame types
        self.presence = defaultdict(Counter)  # dashboard -> {librarian user id: presence frames}
        self.colleagues = {}  # dashboard -> the librarian user ids of its welcome's roster

    def complete(self, cid):
        """Whether every dashboard that must show the chat has it."""
        got = self.arrived.get(cid, {})
        expected = self.expected.get(cid)
        return len(got) >= self.librarians if expected is None else expected <= got.keys()

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
        if kind == "presence":
            self.state.presence[self.index][(frame.get("librarian") or {}).get("id")] += 1
        if kind != "queue.added":
            for cid in conversations_named(frame):
                self.state.other_frames[cid][self.index].append(kind)
            return
        cid = frame["conversation"]["id"]
        got = self.state.arrived.setdefault(cid, {})
        if self.index in got:
            self.state.errors["librarian:duplicate-queue.added"] += 1
            return
        got[self.index] = now
        waiter = self.state.waiters.get(cid)
        if waiter is not None and not waiter.done() and self.state.complete(cid):
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


async def one_round(args, state, token, number, url, origin, results, expected=None, library=None):
    """One patron asks; wait until every dashboard (or each of `expected`) has the chat, or the timeout."""
    patron = Patron(state, f"{url}/ws/patron/", origin, {})
    result = {"round": number, "conversation": None, "t0": None, "failed": None, "library": library}
    results.append(result)
    try:
        await patron.open(timeout=args.timeout)
        await patron.send({"type": "hello", "v": 1, "lang": "en", "token": token})
        await asyncio.wait_for(patron.welcome, args.timeout)
        frame = {"type": "start", "client_id": patron.client_id, "text": f"Fan-out question {number}",
                 "name": f"Patron {number}"}
        t0 = time.perf_counter()
        await patron.send(frame)
        cid = await asyncio.wait_for(asyncio.shield(patron.ack), args.timeout)
        result["conversation"], result["t0"] = cid, t0
        state.t0[cid] = t0
        if expected is not None:
            state.expected[cid] = expected
        waiter = state.waiters[cid] = asyncio.get_running_loop().create_future()
        if state.complete(cid):
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


class ConnectFailed(RuntimeError):
    """Dashboards that could not connect: the bench stops with this message."""


def targets_of(urls):
    """(ws base, Origin) of each server URL."""
    targets = []
    for url in urls:
        parts = urlsplit(url)
        targets.append((f"{'wss' if parts.scheme == 'https' else 'ws'}://{parts.netloc}",
                        f"{parts.scheme}://{parts.netloc}"))
    return targets


async def run(args, setup, urls=None, log=print, window_pids=()):
    """Connect every dashboard, then ask the chats at `args.rate` a second. The old mode asks
    `args.rounds` chats that every dashboard must show; with `setup["chats"]` (the network mode),
    each chat is (token, library, the dashboards that must show it)."""
    state = State()
    targets = targets_of(urls or args.url)
    phases = {}
    t = time.perf_counter()
    librarians = []
    for i, (key, _name) in enumerate(setup["sessions"]):
        ws_base, origin = targets[i % len(targets)]
        librarians.append(Librarian(state, f"{ws_base}/ws/librarian/", origin,
                                    {"Cookie": f"{setup['cookie_name']}={key}"}, i))
    state.librarians = len(librarians)
    limit = asyncio.Semaphore(getattr(args, "connect_at_once", 20))

    connect_timeout = getattr(args, "connect_timeout", args.timeout)

    async def open_librarian(lib):
        async with limit:
            await lib.open(timeout=connect_timeout)
            await lib.send({"type": "hello", "v": 1, "lang": "en"})
            welcome = await asyncio.wait_for(lib.welcome, connect_timeout)
        if welcome.get("waiting"):
            state.errors["bench:librarian-welcome-waiting-not-empty"] += 1
        state.colleagues[lib.index] = [c.get("id") for c in welcome.get("colleagues") or []]

    opened = await asyncio.gather(*(open_librarian(lib) for lib in librarians), return_exceptions=True)
    failed = [r for r in opened if isinstance(r, BaseException)]
    phases["librarians_connect_s"] = time.perf_counter() - t
    if failed:
        state.expect_close = True
        await asyncio.gather(*(lib.close() for lib in librarians), return_exceptions=True)
        raise ConnectFailed(f"{len(failed)} of {len(librarians)} librarians failed to connect: {failed[0]!r}")
    log(f"{len(librarians)} dashboards connected in {phases['librarians_connect_s']:.2f} s", flush=True)
    await asyncio.sleep(args.settle)

    chats = setup.get("chats")
    rounds = len(chats) if chats is not None else args.rounds
    results, tasks = [], []
    window = window_start(window_pids)
    t = start = time.perf_counter()
    for n in range(rounds):
        due = start + n / args.rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        ws_base, origin = targets[n % len(targets)]
        if chats is None:
            work = one_round(args, state, setup["tokens"][n], n, ws_base, origin, results)
        else:
            token, library, expected = chats[n]
            work = one_round(args, state, token, n, ws_base, origin, results, expected=expected, library=library)
        tasks.append(asyncio.create_task(work))
    await asyncio.wait(tasks, timeout=args.timeout * 3 + 30)
    phases["rounds_s"] = time.perf_counter() - t
    window_end(window, window_pids)
    state.window = window_figures(window, phases["rounds_s"])
    await asyncio.sleep(getattr(args, "grace", 0.5))  # late copies (leaks) still count
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


# ------------------------------------------------------------------------------------------------
# The network mode (no --url): libraries as tenants, in a database and on daphnes of its own
# ------------------------------------------------------------------------------------------------

SCENARIOS = ("network", "single")


def conversations_named(frame):
    """The conversation ids a frame is about: `conversation` (an id or a conversation object) and
    `conversations` (a list of either)."""
    named = [frame.get("conversation"), *(frame.get("conversations") or [])]
    ids = [c.get("id") if isinstance(c, dict) else c for c in named]
    return [c for c in ids if isinstance(c, int)]


def network_desk(scenario, libraries, per_library, chats, origins, cover=0):
    """Idempotently, through Django in this process: `libraries` libraries, each with a queue, a
    widget site (allowing `origins`) and `per_library` staff librarians (home library, member of its
    queue); `cover` agreements (library i covers library i + 1, `always`). Returns the run's plan:
    {"sessions", "cookie_name", "dashboard_library", "libraries", "chats" [(token, library,
    {dashboards that must show it})], "database", "layer"}. Chat n is library n mod `libraries`'s."""
    django_ready()
    from django.conf import settings
    from django.db import connections, transaction
    from django.utils import timezone

    from reference.models import Conversation, Library, Queue, Role
    from widgets.models import Site

    desks, users, dashboard_library = [], [], []
    with transaction.atomic():
        for i in range(libraries):
            slug = f"fan-{scenario}-{i:02d}"
            library, _ = Library.objects.update_or_create(slug=slug, defaults={"name": f"Fan-out {scenario} {i:02d}"})
            queue, _ = Queue.objects.update_or_create(slug=slug, defaults={
                "name": f"Fan-out {scenario} {i:02d}", "library": library, "is_active": True})
            site, _ = Site.objects.update_or_create(key=slug, defaults={
                "name": f"Fan-out {scenario} {i:02d}", "library": library, "allowed_origins": "\n".join(origins),
                "default_queue": queue, "greeting": "Bench", "is_active": True})
            Conversation.objects.filter(site=site).exclude(status=Conversation.Status.CLOSED).update(
                status=Conversation.Status.CLOSED, closed_at=timezone.now(), closed_by_role=Role.SYSTEM)
            dashboards = []
            for j in range(per_library):
                user = bench_librarian(f"{slug}-{j:02d}", f"Fan {scenario} {i:02d}-{j:02d}", queue, library=library)
                dashboards.append(len(users))
                users.append(user)
                dashboard_library.append(i)
            desks.append({"library": library, "queue": queue, "site_key": site.key, "dashboards": dashboards})
        covered_by = add_cover(desks, cover)
    sessions = login_sessions(users)
    plan = []
    for n in range(chats):
        i = n % libraries
        expected = set(desks[i]["dashboards"])
        if i in covered_by:
            expected |= set(desks[covered_by[i]]["dashboards"])
        plan.append((patron_tokens(desks[i]["site_key"], 1)[0], i, frozenset(expected)))
    setup = {
        "scenario": scenario,
        "sessions": sessions,
        "cookie_name": settings.SESSION_COOKIE_NAME,
        "dashboard_library": dashboard_library,
        "user_ids": [user.pk for user in users],
        "libraries": [{"id": d["library"].pk, "queue": d["queue"].pk, "dashboards": d["dashboards"]} for d in desks],
        "covered_by": covered_by,
        "chats": plan,
        "database": database_description(),
        "layer": settings.CHANNEL_LAYERS["default"]["BACKEND"].rsplit(".", 1)[-1],
    }
    connections.close_all()
    return setup


def add_cover(desks, cover):
    """Library i covers library i + 1 (`always`, its queue) for i < `cover`; earlier agreements
    between the bench's libraries are removed. Returns {covered library index: covering index}."""
    from reference.models import CoverAgreement

    libraries = [d["library"] for d in desks]
    CoverAgreement.objects.filter(home__in=libraries).delete()
    covered_by = {}
    for i in range(min(cover, len(desks) - 1)):
        agreement = CoverAgreement.objects.create(
            home=libraries[i + 1], covering=libraries[i], when=CoverAgreement.When.ALWAYS)
        agreement.queues.set([desks[i + 1]["queue"]])
        covered_by[i + 1] = i
    return covered_by


def network_figures(setup, state, results, phases):
    """Per scenario: chats, dashboards, deliveries, leaks, misses, latencies (ms)."""
    per_delivery, per_chat, leaks, misses, foreign = [], [], 0, 0, Counter()
    leak_examples = []
    allowed_of = {}
    started = [r for r in results if r["conversation"] is not None]
    for r in started:
        cid = r["conversation"]
        expected = state.expected.get(cid, frozenset())
        allowed_of[cid] = expected
        got = state.arrived.get(cid, {})
        lat = [got[i] - r["t0"] for i in expected if i in got]
        per_delivery.extend(lat)
        misses += len(expected) - len(lat)
        if len(lat) == len(expected) and lat:
            per_chat.append(max(lat))
        strays = sorted(set(got) - expected)
        leaks += len(strays)
        if strays and len(leak_examples) < 3:
            leak_examples.append({"chat": r["round"], "library": r["library"],
                                  "to_libraries": sorted({setup["dashboard_library"][i] for i in strays})})
        for i, kinds in state.other_frames.get(cid, {}).items():
            if i not in expected:
                foreign.update(kinds)
    # Presence and the welcome's roster: about librarians of the dashboard's own library only?
    library_of_user = dict(zip(setup["user_ids"], setup["dashboard_library"], strict=True))
    own = setup["dashboard_library"]
    foreign_presence = sum(n for i, seen in state.presence.items() for uid, n in seen.items()
                           if library_of_user.get(uid) != own[i])
    foreign_colleagues = sum(1 for i, ids in state.colleagues.items() for uid in ids
                             if library_of_user.get(uid) != own[i])
    # A chat of the bench the patron never got an ack for cannot be checked against its library.
    unknown = sum(1 for cid in state.arrived if cid not in allowed_of)
    failed = [r for r in results if r["failed"]]
    delivery, chat = percentiles_ms(sorted(per_delivery), (50, 95, 99)), percentiles_ms(sorted(per_chat), (50, 95, 99))
    return {
        "scenario": setup["scenario"],
        "_samples": {"delivery": per_delivery, "chat": per_chat},
        "libraries": len(setup["libraries"]),
        "dashboards": len(setup["sessions"]),
        "covered_libraries": len(setup["covered_by"]),
        "chats": len(started),
        "chats_asked": len(results),
        "chats_failed": len(failed),
        "failed_examples": [r["failed"] for r in failed[:3]],
        "deliveries": len(per_delivery),
        "expected_deliveries": sum(len(e) for e in allowed_of.values()),
        "leaks": leaks,
        "leak_examples": leak_examples,
        "foreign_frames": dict(foreign),
        "foreign_presence_frames": foreign_presence,
        "foreign_colleagues_in_welcomes": foreign_colleagues,
        "unattributed_chats": unknown,
        "misses": misses,
        "delivery_ms": delivery,
        "chat_all_dashboards_ms": chat,
        "errors": dict(state.errors),
        "unexpected_closes": dict(state.closes),
        "phases_s": {k: round(v, 2) for k, v in phases.items()},
        "server": state.window,
        "database": setup["database"],
        "layer": setup["layer"],
    }


SUMMED = ("chats", "chats_asked", "chats_failed", "deliveries", "expected_deliveries", "leaks", "misses",
          "foreign_presence_frames", "foreign_colleagues_in_welcomes", "unattributed_chats")


def pool(figures):
    """The figures of several runs of one scenario as one: counts summed, percentiles of all the
    samples, the servers' CPU averaged."""
    if len(figures) == 1:
        return figures[0]
    out = {**figures[0], "run": "all"}
    for key in SUMMED:
        out[key] = sum(f[key] for f in figures)
    for key in ("failed_examples", "leak_examples"):
        out[key] = [x for f in figures for x in f[key]][:3]
    for key in ("foreign_frames", "errors", "unexpected_closes"):
        out[key] = dict(sum((Counter(f[key]) for f in figures), Counter()))
    samples = {kind: sorted(x for f in figures for x in f["_samples"][kind]) for kind in ("delivery", "chat")}
    out["_samples"] = samples
    out["delivery_ms"] = percentiles_ms(samples["delivery"], (50, 95, 99))
    out["chat_all_dashboards_ms"] = percentiles_ms(samples["chat"], (50, 95, 99))
    cpus = [(f.get("server") or {}).get("server_cpu_pct") for f in figures]
    cpus = [c for c in cpus if c is not None]
    out["server"] = {"server_cpu_pct": round(sum(cpus) / len(cpus), 1) if cpus else None, "machine": {}}
    out["phases_s"] = {}
    return out


def network_env(args, workdir):
    """The servers' environment: the caller's, a throwaway SQLite file unless DATABASE_URL is set,
    and the abuse limits off (every bench patron comes from 127.0.0.1)."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "chatserver.settings", "RT_LIMITS": "0"}
    if not env.get("DATABASE_URL"):
        env["SQLITE_PATH"] = os.path.join(workdir, "fanout.sqlite3")
    if args.servers > 1 and not env.get("REDIS_URL"):
        raise SystemExit("--servers > 1 needs REDIS_URL (a channel layer the processes share)")
    return env


def start_servers(env, ports, pin, workdir, label):
    processes = []
    for port in ports:
        log = open(os.path.join(workdir, f"daphne-{label}-{port}.log"), "w")
        argv = (["taskset", "-c", "0"] if pin else []) + daphne_command(port)
        process = subprocess.Popen(argv, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
        processes.append(process)
        wait_for_port(port, process, f"daphne (log {log.name})")
    return processes


def one_scenario(args, setup, env, ports, pin, workdir, label):
    """Fresh daphne(s), the dashboards and the chats of `setup`; its figures."""
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    processes = start_servers(env, ports, pin, workdir, f"{setup['scenario']}-{label}")
    try:
        overall = (len(setup["sessions"]) / args.connect_at_once * args.connect_timeout
                   + len(setup["chats"]) / args.rate + args.timeout * 3 + 90)
        state, results, phases = asyncio.run(asyncio.wait_for(
            run(args, setup, urls, log=lambda *a, **_: say(*a), window_pids=[p.pid for p in processes]), overall))
    except ConnectFailed as failed:
        raise SystemExit(f"{setup['scenario']} run {label}: {failed}; daphne logs in {workdir}") from None
    finally:
        for process in processes:
            stop(process)
    return network_figures(setup, state, results, phases)


def network_main(args):
    cores = os.cpu_count() or 1
    pin = cores >= 2 and not args.no_pin
    workdir = tempfile.mkdtemp(prefix="rt-fanout-")
    env = network_env(args, workdir)
    ports = [free_port() for _ in range(args.servers)]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    say(f"work dir {workdir}; migrating {env.get('DATABASE_URL') or env['SQLITE_PATH']}")
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=REPO, env=env, check=True)
    os.environ.update({k: env[k] for k in ("SQLITE_PATH", "DATABASE_URL", "REDIS_URL") if env.get(k)})
    if pin:
        os.sched_setaffinity(0, {1})  # the servers on core 0, the bench on core 1
    total = args.libraries * args.per_library
    shapes = {"network": (args.libraries, args.per_library), "single": (1, total)}
    figures = []
    for run_number in range(1, args.repeat + 1):  # alternating the order: the machine's load drifts
        for scenario in args.scenarios if run_number % 2 else args.scenarios[::-1]:
            libraries, per_library = shapes[scenario]
            say(f"run {run_number}, {scenario}: {libraries} libraries x {per_library} librarians, "
                f"{args.chats} chats at {args.rate:g}/s")
            setup = network_desk(scenario, libraries, per_library, args.chats, urls,
                                 cover=args.cover if scenario == "network" else 0)
            figures.append({"run": run_number, **one_scenario(args, setup, env, ports, pin, workdir, run_number)})
    pooled = [pool([f for f in figures if f["scenario"] == scenario]) for scenario in args.scenarios]
    report = {"machine": {"cores": cores, "pinned": pin, "loadavg": os.getloadavg()[0]},
              "servers": args.servers, "chats": args.chats, "rate": args.rate, "cover": args.cover,
              "repeat": args.repeat, "scenarios": pooled, "runs": figures if args.repeat > 1 else []}
    by = {f["scenario"]: f for f in pooled}
    if "network" in by and "single" in by:
        net, one = by["network"]["delivery_ms"]["p99"], by["single"]["delivery_ms"]["p99"]
        report["p99_ratio_network_single"] = round(net / one, 2) if net and one else None
    print(network_report(report), flush=True)
    if args.json:
        for f in [*report["scenarios"], *report["runs"]]:
            f.pop("_samples", None)
        Path(args.json).write_text(json.dumps(report, indent=2, default=str))
    clean = all(f["leaks"] == 0 and f["misses"] == 0 and not f["chats_failed"] for f in figures)
    if args.keep or not clean:
        say(f"kept {workdir} (database unless DATABASE_URL, daphne logs)")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0 if clean else 1


def network_report(report):
    m = report["machine"]
    lines = ["", f"== fan-out over a network of libraries: {report['chats']} chats per scenario and run at "
                 f"{report['rate']:g}/s, {report['repeat']} run(s), {report['servers']} daphne(s); {m['cores']} cores"
                 f"{', servers on core 0, bench on core 1' if m['pinned'] else ', not pinned'}"]
    head = ("scenario", "libraries", "dashboards", "chats", "deliveries", "leaks", "misses",
            "p50", "p95", "p99", "max", "chat p99", "server cpu")
    lines.append(f"{head[0]:>14}  " + "  ".join(f"{h:>10}" for h in head[1:]) + "   (ms: start -> queue.added)")

    def row(f, label):
        d, c = f["delivery_ms"], f["chat_all_dashboards_ms"]
        cpu = (f.get("server") or {}).get("server_cpu_pct")
        values = (label + (f"+cover{f['covered_libraries']}" if f["covered_libraries"] else ""),
                  f["libraries"], f["dashboards"], f"{f['chats']}/{f['chats_asked']}",
                  f"{f['deliveries']}/{f['expected_deliveries']}", f["leaks"], f["misses"],
                  d["p50"], d["p95"], d["p99"], d["max"], c["p99"], f"{cpu}%")
        return f"{values[0]:>14}  " + "  ".join(f"{str(v):>10}" for v in values[1:])

    for f in report["runs"]:
        lines.append(row(f, f"{f['scenario']} #{f['run']}"))
    for f in report["scenarios"]:
        lines.append(row(f, f["scenario"] + (" (all)" if report["runs"] else "")))
    if "p99_ratio_network_single" in report:
        lines.append(f"p99 ratio network / single: {report['p99_ratio_network_single']}")
    lines.append("other libraries' librarians shown to a dashboard (presence frames / welcome roster entries): "
                 + ", ".join(f"{f['scenario']} {f['foreign_presence_frames']} / {f['foreign_colleagues_in_welcomes']}"
                             for f in report["scenarios"]))
    for f in report["runs"] or report["scenarios"]:
        extra = {k: f[k] for k in ("errors", "unexpected_closes", "foreign_frames", "leak_examples",
                                   "failed_examples", "unattributed_chats") if f[k]}
        machine = (f.get("server") or {}).get("machine", {})
        lines.append(f"{f['scenario']} #{f['run']}: {f['database']}, {f['layer']}, phases {f['phases_s']}, "
                     f"cores busy (all processes) {machine.get('cores_busy_pct')}, "
                     f"load {machine.get('loadavg_1min')}" + (f", {extra}" if extra else ""))
    return "\n".join(lines)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", action="append",
                        help="a running server (loopback only), repeatable: the one-queue mode. Without it, "
                             "the network mode starts its own database and daphne(s)")
    one = parser.add_argument_group("one queue, against --url")
    one.add_argument("--librarians", type=int)
    one.add_argument("--rounds", type=int)
    net = parser.add_argument_group("network of libraries, its own servers (no --url)")
    net.add_argument("--scenarios", default=",".join(SCENARIOS),
                     help="network (LIBRARIES x PER-LIBRARY) and/or single (1 x the same number); default both")
    net.add_argument("--libraries", type=int, default=20)
    net.add_argument("--per-library", type=int, default=5, help="librarians (dashboards) per library")
    net.add_argument("--chats", type=int, default=300, help="new chats per scenario, spread over the libraries")
    net.add_argument("--cover", type=int, default=0, metavar="K",
                     help="network scenario: library i covers library i + 1 for i < K (an `always` cover "
                          "agreement on its queue), so those chats must reach both libraries' dashboards")
    net.add_argument("--repeat", type=int, default=1,
                     help="run the scenarios this many times, in alternating order (figures pooled)")
    net.add_argument("--servers", type=int, default=1, help="daphne processes (more than 1 needs REDIS_URL)")
    net.add_argument("--grace", type=float, default=1.0, help="seconds after the last chat for late (leaked) copies")
    net.add_argument("--no-pin", action="store_true", help="do not pin servers to core 0 and the bench to core 1")
    net.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    net.add_argument("--keep", action="store_true", help="keep the work dir (SQLite database, daphne logs)")
    parser.add_argument("--rate", type=float, default=5.0, help="new chats (patrons) per second")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds for any one step/delivery")
    net.add_argument("--connect-timeout", type=float, default=60.0,
                     help="seconds for a dashboard's handshake and welcome")
    net.add_argument("--connect-at-once", type=int, default=5,
                     help="dashboards connecting at once (daphne drops a handshake the app has not accepted in 5 s)")
    parser.add_argument("--settle", type=float, default=1.0, help="seconds between connecting and round 1")
    args = parser.parse_args(argv)
    if not (0 < args.rate <= 200) or not (0.5 <= args.timeout <= 120):
        parser.error("--rate in (0, 200], --timeout 0.5..120")
    if args.url:
        check_local_urls(parser, args.url)
        args.librarians = 50 if args.librarians is None else args.librarians
        args.rounds = 200 if args.rounds is None else args.rounds
        if not (1 <= args.librarians <= 1000) or not (1 <= args.rounds <= 10000):
            parser.error("--librarians 1..1000, --rounds 1..10000")
        return args
    if args.librarians is not None or args.rounds is not None:
        parser.error("--librarians and --rounds go with --url; the network mode takes --libraries, "
                     "--per-library and --chats")
    args.scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    if not args.scenarios or set(args.scenarios) - set(SCENARIOS):
        parser.error(f"--scenarios: one or both of {', '.join(SCENARIOS)}")
    if not (1 <= args.libraries <= 100) or not (1 <= args.per_library <= 100):
        parser.error("--libraries 1..100, --per-library 1..100")
    if not (0 <= args.cover < args.libraries):
        parser.error("--cover 0..LIBRARIES - 1")
    if args.libraries * args.per_library > 1000 or not (1 <= args.chats <= 10000):
        parser.error("at most 1000 dashboards; --chats 1..10000")
    if not (1 <= args.servers <= 4) or not (1 <= args.repeat <= 20) or not (1 <= args.connect_at_once <= 50):
        parser.error("--servers 1..4, --repeat 1..20, --connect-at-once 1..50")
    return args


def main(argv=None):
    args = parse_args(argv)
    if not args.url:
        raise_open_files(args.libraries * args.per_library + int(args.rate * args.timeout) + 256)
        sys.exit(network_main(args))
    raise_open_files(args.librarians + int(args.rate * args.timeout) + 256)
    origins = list(dict.fromkeys(origin_of(u) for u in args.url))
    setup = django_setup(origins, args.librarians, args.rounds)
    overall = args.librarians / 20 * args.timeout + args.rounds / args.rate + args.timeout * 3 + 90
    try:
        state, results, phases = asyncio.run(asyncio.wait_for(run(args, setup), overall))
    except TimeoutError:
        raise SystemExit(f"bench did not finish within {overall:.0f} s; gave up") from None
    except ConnectFailed as failed:
        raise SystemExit(str(failed)) from None
    sys.exit(0 if report(args, setup, state, results, phases) else 1)


if __name__ == "__main__":
    main()
