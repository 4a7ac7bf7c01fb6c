#!/usr/bin/env python
"""PostgreSQL connections per daphne process under 500 chats, and what HTTP requests add.

Scaled out: PostgreSQL (DATABASE_URL) and Redis (REDIS_URL), in the same environment for the bench
and the servers it starts (set SECRET_KEY too). The bench starts `--processes` daphnes, each with its
own `application_name` (rt-conn-<run>-<n>) so that pg_stat_activity tells their connections apart,
and samples it every 50 ms. Then, phase by phase:

1. idle: the processes just started;
2. chats open: `--conversations` patrons (spread over the processes) start a chat each, and
   `--librarians` librarians (spread too) claim them;
3. chats: every patron sends `--rate` messages a second, and their librarian answers each one;
4. chats + HTTP: the same, while `--requests` HTTP requests go out `--at-once` at a time (widget
   config, chat panel, dashboard, FAQ page and search, transcripts, reports), spread over the processes;
5. after: the chats are closed and the sockets gone.

Prints the peak number of connections of each process in each phase, and the budget the settings
give (DB_THREADS + 2 + HTTP_REQUESTS_AT_ONCE, or DB_POOL_SIZE with a pool; docs/deployment.md#connections).

    export DATABASE_URL=postgres://… REDIS_URL=redis://127.0.0.1:6379/5 SECRET_KEY=bench-key
    .venv/bin/python bench/connections.py                      # the defaults
    DB_POOL_SIZE=10 .venv/bin/python bench/connections.py      # one psycopg pool of 10 instead
    .venv/bin/python bench/connections.py --repo /work/old     # servers run from another checkout
"""

import argparse
import asyncio
import math
import os
import random
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

if __package__ in (None, ""):  # run as `python bench/connections.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.client import Client  # noqa: E402
from bench.common import (  # noqa: E402
    REPO,
    bench_setup,
    daphne_command,
    django_ready,
    free_port,
    percentiles_ms,
    raise_open_files,
    say,
    stop,
    wait_for_port,
)

PHASES = ("idle", "chats open", "chats", "chats + HTTP", "after")
LIBRARY = "https://library.example"


def prepare(args):
    django_ready()
    from django.conf import settings

    if not (settings.DATABASE_URL and settings.REDIS_URL):
        sys.exit("set DATABASE_URL (PostgreSQL) and REDIS_URL: this bench counts PostgreSQL connections of processes")
    setup = bench_setup("bench-conn", tokens=args.conversations, queue_name="Bench connections",
                        site_name="Bench connections", origins=[LIBRARY], librarians=args.librarians,
                        max_chats=math.ceil(args.conversations / args.librarians), user_prefix="bench-conn-",
                        display_prefix="Bench conn")
    setup.update(database_url=settings.DATABASE_URL, threads=settings.DATABASE_THREADS,
                 pool=settings.DB_POOL_SIZE, at_once=settings.HTTP_REQUESTS_AT_ONCE, db=settings.DATABASES["default"])
    return setup


def with_application_name(url, name):
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query["application_name"] = name
    return urlunsplit(parts._replace(query=urlencode(query)))


class Sampler(threading.Thread):
    """pg_stat_activity every 50 ms: the peak per application_name in the current phase."""

    def __init__(self, db, names):
        super().__init__(daemon=True)
        import psycopg

        self.db = psycopg.connect(host=db["HOST"], port=db["PORT"] or 5432, user=db["USER"],
                                  password=db["PASSWORD"], dbname=db["NAME"], autocommit=True)
        self.names, self.phase, self.halt = names, PHASES[0], threading.Event()
        self.peaks = {phase: dict.fromkeys(names, 0) for phase in PHASES}

    def run(self):
        while not self.halt.wait(0.05):
            rows = self.db.execute("SELECT application_name, count(*) FROM pg_stat_activity "
                                   "WHERE application_name = ANY(%s) GROUP BY 1", [self.names]).fetchall()
            peaks = self.peaks[self.phase]
            for name, count in rows:
                peaks[name] = max(peaks[name], count)

    def stop(self):
        self.halt.set()
        self.join(5)
        self.db.close()


def start_daphnes(args, setup, run):
    servers = []
    for n in range(1, args.processes + 1):
        name = f"rt-conn-{run}-{n}"
        port = free_port()
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "chatserver.settings",
               "DATABASE_URL": with_application_name(setup["database_url"], name)}
        log = open(Path(args.logs) / f"connections-{port}.log", "w")  # noqa: SIM115 (the process's log)
        process = subprocess.Popen(daphne_command(port), cwd=args.repo, env=env, stdout=log, stderr=subprocess.STDOUT)
        wait_for_port(port, process, "daphne")
        servers.append((f"http://127.0.0.1:{port}", name, process))
    return servers


def http_get(url, headers):
    """(status, seconds) of one GET."""
    request = urllib.request.Request(url, headers={"Accept-Language": "en", **headers})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    began = time.perf_counter()
    try:
        with opener.open(request, timeout=60) as response:
            response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    except OSError as error:
        status = type(error).__name__
    return status, time.perf_counter() - began


async def chats(args, setup, urls, sampler):
    cookie = setup["cookie_name"]
    desks = []
    for i, (key, _name) in enumerate(setup["sessions"]):
        desk = await Client.connect(urls[i % len(urls)], "/ws/librarian/", f"{cookie}={key}", timeout=60)
        await desk.hello(lang="en")
        desks.append(desk)
    sampler.phase = "chats open"
    gate = asyncio.Semaphore(args.wave)

    async def open_chat(n, token):
        async with gate:
            for attempt in range(3):  # a server busy opening hundreds of chats may time a hello out
                patron = await Client.connect(urls[n % len(urls)], "/ws/patron/", timeout=60)
                try:
                    await patron.hello(token=token, lang="en")
                    break
                except AssertionError:
                    await patron.close()
                    if attempt == 2:
                        raise
            await patron.send({"type": "start", "client_id": f"s-{n}", "text": f"Question {n}"})
            conversation = (await patron.wait_for(lambda f: f["type"] == "conversation", 60))["conversation"]["id"]
            desk = desks[n % len(desks)]
            await desk.wait_for(lambda f: f["type"] == "queue.added" and f["conversation"]["id"] == conversation, 60)
            await desk.send({"type": "claim", "conversation": conversation})
            await patron.wait_for(lambda f: f["type"] == "conversation"
                                  and f["conversation"]["status"] == "active", 60)
            return patron, desk, conversation

    opened = await asyncio.gather(*[open_chat(n, token) for n, token in enumerate(setup["tokens"])])
    say(f"{len(opened)} chats open")
    sampler.phase = "chats"
    stop_at = time.monotonic() + args.duration
    sent = [0]

    async def talk(n, patron, desk, conversation):
        await asyncio.sleep(random.uniform(0, 1 / args.rate))
        k = 0
        while time.monotonic() < stop_at:
            k += 1
            await patron.send({"type": "message", "client_id": f"m-{n}-{k}", "text": f"Message {k}"})
            await desk.send({"type": "message", "conversation": conversation, "client_id": f"r-{n}-{k}",
                             "text": f"Answer {k}"})
            sent[0] += 2
            await asyncio.sleep(1 / args.rate)

    talking = asyncio.gather(*[talk(n, *chat) for n, chat in enumerate(opened)])
    await asyncio.sleep(args.duration / 3)
    sampler.phase = "chats + HTTP"
    statuses = await asyncio.get_running_loop().run_in_executor(None, http_burst, args, setup, urls)
    say(f"HTTP: {statuses}")
    await talking
    say(f"{sent[0]} chat messages sent")
    sampler.phase = "after"
    for _patron, desk, conversation in opened:
        await desk.send({"type": "close", "conversation": conversation})
    await asyncio.sleep(2)
    for patron, _desk, _conversation in opened:
        await patron.close()
    for desk in desks:
        await desk.close()
    await asyncio.sleep(args.settle)
    return statuses, sent[0]


def http_burst(args, setup, urls):
    cookie = {"Cookie": f"{setup['cookie_name']}={setup['sessions'][0][0]}"}
    site = setup["site_key"]
    kinds = [(f"/widget/sites/{site}/config", {"Origin": LIBRARY}), (f"/widget/sites/{site}/chat/", {}),
             ("/dashboard/", cookie), ("/faq/", {}), ("/api/faq/search?q=jam+buka", {}),
             ("/staff/transcripts/", cookie), ("/staff/reports/", cookie)]
    jobs = [(urls[i % len(urls)] + kinds[i % len(kinds)][0], kinds[i % len(kinds)][1]) for i in range(args.requests)]
    with ThreadPoolExecutor(args.at_once) as pool:
        answers = list(pool.map(lambda job: http_get(*job), jobs))
    statuses = [status for status, _seconds in answers]
    times = percentiles_ms(sorted(seconds for _status, seconds in answers))
    return {**{status: statuses.count(status) for status in set(statuses)}, "ms": times}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--conversations", type=int, default=500)
    parser.add_argument("--librarians", type=int, default=10)
    parser.add_argument("--wave", type=int, default=20, help="chats being opened at once")
    parser.add_argument("--rate", type=float, default=0.5, help="patron messages per second per chat (each answered)")
    parser.add_argument("--duration", type=float, default=30, help="seconds of chatting")
    parser.add_argument("--requests", type=int, default=400, help="HTTP requests during the chats")
    parser.add_argument("--at-once", type=int, default=20, help="HTTP requests in flight together")
    parser.add_argument("--settle", type=float, default=3, help="seconds sampled after the chats end")
    parser.add_argument("--repo", default=str(REPO), help="run the servers from this checkout")
    parser.add_argument("--logs", default=os.environ.get("TMPDIR", "/tmp"))
    args = parser.parse_args()
    raise_open_files(4 * args.conversations + 256)
    setup = prepare(args)
    run = uuid.uuid4().hex[:6]
    servers = start_daphnes(args, setup, run)
    sampler = Sampler(setup["db"], [name for _url, name, _process in servers])
    sampler.start()
    try:
        time.sleep(2)
        statuses, sent = asyncio.run(chats(args, setup, [url for url, _name, _process in servers], sampler))
    finally:
        sampler.stop()
        for _url, _name, process in servers:
            stop(process, log=None)
    budget = setup["pool"] or setup["threads"] + 2 + setup["at_once"]
    if Path(args.repo).resolve() != REPO:
        budget = "the other checkout's own settings"
    print(f"{args.processes} daphnes from {args.repo}, DB_THREADS {setup['threads']}, DB_POOL_SIZE {setup['pool']}, "
          f"HTTP_REQUESTS_AT_ONCE {setup['at_once']} "
          f"(budget per process: {budget}); {args.conversations} chats × {args.rate:g} msg/s answered "
          f"({sent} messages), {args.requests} HTTP requests {args.at_once} at once: {statuses}")
    print("peak connections per process: " + "; ".join(
        f"{phase}: " + " / ".join(str(sampler.peaks[phase][name]) for _url, name, _process in servers)
        for phase in PHASES))


if __name__ == "__main__":
    main()
