#!/usr/bin/env python
"""How long a colleague sees a librarian online after the librarian's server process died.

Scaled out only (REDIS_URL; PostgreSQL or SQLite as DATABASE_URL / SQLITE_PATH say, the same
environment for the bench and the servers it starts). The bench starts a *survivor* daphne and, for
each run, a *doomed* one: librarian A's dashboard socket is on the doomed process, colleague B's on
the survivor. Once B sees A online, the bench waits a random part of a lease renewal period (so the
kill lands anywhere in it), sends the doomed process SIGKILL, and times how long until B's socket
reads the `presence` frame that says A is offline. Prints one line per run and min / median / max.

    export DATABASE_URL=postgres://… REDIS_URL=redis://127.0.0.1:6379/5 PRESENCE_PREFIX=rt:bench-dead
    .venv/bin/python bench/dead_process.py --runs 5

`RT_PRESENCE_LEASE=100000` in the environment turns the lease off in effect: the figure is then the
old one, beats running out after RT_PRESENCE_TIMEOUT (60 s) and the next sweep.
"""

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as `python bench/dead_process.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.client import Client  # noqa: E402
from bench.common import (  # noqa: E402
    bench_setup,
    daphne_command,
    django_ready,
    free_port,
    say,
    stop,
    wait_for_port,
)


def start_daphne(logs):
    port = free_port()
    log = open(Path(logs) / f"dead-process-{port}.log", "w")  # noqa: SIM115 (kept open for the process)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "chatserver.settings"}
    process = subprocess.Popen(daphne_command(port), env=env,
                               stdout=log, stderr=subprocess.STDOUT)
    wait_for_port(port, process, "daphne")
    return f"http://127.0.0.1:{port}", process


async def presence_of(client, librarian_id, connected, after, timeout):
    """perf_counter() when `client` read a presence frame of `librarian_id` with `connected`, among
    the frames from index `after` on."""
    deadline = time.perf_counter() + timeout
    seen = after
    while time.perf_counter() < deadline:
        for frame in client.frames[seen:]:
            if (frame.get("type") == "presence" and frame["librarian"]["id"] == librarian_id
                    and frame["librarian"]["connected"] is connected):
                return time.perf_counter()
        seen = len(client.frames)
        await asyncio.sleep(0.01)
    raise TimeoutError(f"no presence frame (connected={connected}) for librarian {librarian_id} in {timeout} s")


def prepare():
    """Two librarians with a session each (Django, before any socket opens)."""
    django_ready()
    from django.conf import settings

    if not settings.REDIS_URL:
        sys.exit("REDIS_URL is not set: in one process, a dead process takes its colleagues with it")
    setup = bench_setup("bench-dead", tokens=0, queue_name="Bench dead process", site_name="Bench dead process",
                        origins=["http://127.0.0.1"], librarians=2, max_chats=3, user_prefix="bench-dead-",
                        display_prefix="Bench dead")
    from django.contrib.auth import get_user_model

    setup["a_id"] = get_user_model().objects.get(username="bench-dead-000").pk
    setup["lease"], setup["timeout"] = settings.PRESENCE_LEASE, settings.PRESENCE_TIMEOUT
    setup["heartbeat"] = settings.HEARTBEAT_INTERVAL
    return setup


async def beat(client, every):
    """What a dashboard does: a `heartbeat` frame every interval (the librarian's proof of presence)."""
    try:
        while True:
            await asyncio.sleep(every)
            await client.send({"type": "heartbeat"})
    except Exception:  # noqa: BLE001 - the socket is gone (killed with its server)
        pass


async def main(args, setup):
    lease, a_id, cookie = setup["lease"], setup["a_id"], setup["cookie_name"]
    (key_a, _name_a), (key_b, _name_b) = setup["sessions"]
    survivor_url, survivor = start_daphne(args.logs)
    processes = [survivor]
    times = []
    try:
        colleague = await Client.connect(survivor_url, "/ws/librarian/", f"{cookie}={key_b}")
        await colleague.hello(lang="en")
        beats = [asyncio.create_task(beat(colleague, setup["heartbeat"]))]
        started = time.perf_counter()
        for run in range(1, args.runs + 1):
            doomed_url, doomed = start_daphne(args.logs)
            processes.append(doomed)
            mark = len(colleague.frames)
            desk = await Client.connect(doomed_url, "/ws/librarian/", f"{cookie}={key_a}")
            await desk.hello(lang="en")
            beats.append(asyncio.create_task(beat(desk, setup["heartbeat"])))
            await presence_of(colleague, a_id, True, mark, 60)
            # The survivor reaps only once it has renewed its own lease for a whole lease period.
            # (A lease longer than a minute stands for "no lease": no wait for it.)
            await asyncio.sleep(max(0.0, min(lease, 60) + 1 - (time.perf_counter() - started)))
            await asyncio.sleep(random.uniform(0, min(lease, 60) / 3))
            mark = len(colleague.frames)
            killed = time.perf_counter()
            doomed.kill()
            doomed.wait()
            seen = await presence_of(colleague, a_id, False, mark, args.timeout)
            times.append(seen - killed)
            say(f"run {run}: offline for colleagues {seen - killed:.2f} s after SIGKILL")
            print(f"run {run}: {seen - killed:.2f} s", flush=True)
            await desk.close()
            await asyncio.sleep(1)
        for task in beats:
            task.cancel()
        await colleague.close()
    finally:
        for process in processes:
            stop(process, log=None)
    print(f"SIGKILL → presence offline at a colleague, {len(times)} runs (lease {lease:g} s, "
          f"presence timeout {setup['timeout']:g} s): min {min(times):.2f} s, "
          f"median {statistics.median(times):.2f} s, max {max(times):.2f} s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=150, help="give up on one run after this many seconds")
    parser.add_argument("--logs", default=os.environ.get("TMPDIR", "/tmp"), help="where the daphnes' logs go")
    arguments = parser.parse_args()
    asyncio.run(main(arguments, prepare()))
