#!/usr/bin/env python
"""Ruang Tanya side by side with the plain Channels tutorial chat: one script, servers included.

A measurement, not a test. For every configuration it starts the server itself (daphne pinned
with taskset to core 0; the load generator on core 1; PostgreSQL and Redis already running),
runs the load generator (bench/relay.py for Ruang Tanya, bench/tutorial_load.py for the tutorial
chat), stops the server and writes a markdown table into a marked section of docs/performance.md
(the text around the markers is left alone). Configurations:

* tutorial-pubsub: bench/tutorial on channels-redis RedisPubSubChannelLayer
* tutorial-core:   bench/tutorial on channels-redis core RedisChannelLayer
* rt-embedded:     Ruang Tanya's embedded default (SQLite + in-memory layer), a fresh database
* rt-scaleout:     Ruang Tanya on PostgreSQL + Redis (--database-url, --redis-url)

Modes (one per run; each writes its own section):

    compare.py                     every configuration at --conversations × --rate
    compare.py --find-max          every rate of --rates: the highest at which Ruang Tanya on one
                                   daphne loses and duplicates nothing with p99 ≤ 3 × the
                                   tutorial (pub/sub) p99 measured at the same step
    compare.py --idle 5000         RSS growth per idle socket (bench/idle.py)
    compare.py --fanout 100        bench/fanout.py with 100 dashboards on both Ruang Tanya configs
    compare.py --scale-out         rt-scaleout on one daphne vs two behind HAProxy, stepping
                                   --rates, p99 ≤ --p99-bound-ms

Run from the repository root with the project's virtualenv:
    .venv/bin/python bench/compare.py --conversations 500 --rate 2 --duration 20
"""

import argparse
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

if __package__ in (None, ""):  # run as `python bench/compare.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common  # noqa: E402
from bench.common import free_port, wait_for_port  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "bench"
PYTHON = sys.executable
DAPHNE = str(Path(sys.executable).with_name("daphne"))
CONFIGS = ["tutorial-pubsub", "tutorial-core", "rt-embedded", "rt-scaleout"]
# Variables of the server environment that this script sets itself per configuration.
SERVER_ENV = {
    "DATABASE_URL",
    "REDIS_URL",
    "SQLITE_PATH",
    "CHANNEL_LAYER_PREFIX",
    "PRESENCE_PREFIX",
    "TUTORIAL_LAYER",
    "TUTORIAL_REDIS_URL",
    "TUTORIAL_LAYER_PREFIX",
    "DJANGO_SETTINGS_MODULE",
}


def log(*parts):
    print(f"[{datetime.now(UTC):%H:%M:%S}]", *parts, file=sys.stderr, flush=True)


def redis_pid(url):
    import redis

    client = redis.Redis.from_url(url)
    try:
        return int(client.info("server")["process_id"])
    finally:
        client.close()


def flush_redis(url):
    import redis

    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()


def fresh_database(url):
    """Drop and create the benchmark's PostgreSQL database: every run starts from the same empty
    tables (and a new machine has no such database yet)."""
    from urllib.parse import urlsplit, urlunsplit

    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')


def loadavg():
    return "/".join(f"{v:.2f}" for v in os.getloadavg())


class Stack:
    """One configuration's servers: `daphnes` daphne processes (and HAProxy in front of two)."""

    def __init__(self, config, args, daphnes=1):
        self.config, self.args, self.daphnes = config, args, daphnes
        self.procs, self.pids, self.url, self.env = [], [], None, None
        self.tmp = Path(tempfile.mkdtemp(prefix=f"rt-perf-{config}-"))

    def environment(self):
        env = {k: v for k, v in os.environ.items() if k not in SERVER_ENV}
        env["RT_LIMITS"] = "0"  # every bench patron comes from 127.0.0.1: no abuse limits (docs/limits.md)
        args = self.args
        if self.config.startswith("tutorial-"):
            env.update(
                TUTORIAL_LAYER=self.config.removeprefix("tutorial-"),
                TUTORIAL_REDIS_URL=args.tutorial_redis_url,
                TUTORIAL_LAYER_PREFIX=f"{args.prefix}:tutorial",
            )
        elif self.config == "rt-embedded":
            env["SQLITE_PATH"] = str(self.tmp / "bench.sqlite3")
        else:
            env.update(
                DATABASE_URL=args.database_url,
                REDIS_URL=args.redis_url,
                CHANNEL_LAYER_PREFIX=f"{args.prefix}:layer",
                PRESENCE_PREFIX=f"{args.prefix}:presence",
            )
        return env

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.__exit__()
            raise

    def start(self):
        self.env = self.environment()
        tutorial = self.config.startswith("tutorial-")
        if tutorial:
            flush_redis(self.args.tutorial_redis_url)
        else:
            if self.config == "rt-scaleout":
                flush_redis(self.args.redis_url)
                fresh_database(self.args.database_url)
            subprocess.run(
                [PYTHON, "manage.py", "migrate", "-v0", "--noinput"], cwd=REPO, env=self.env, check=True
            )
        app = "tutorial_chat.asgi:application" if tutorial else "chatserver.asgi:application"
        cwd = BENCH / "tutorial" if tutorial else REPO
        ports = []
        for index in range(self.daphnes):
            port = free_port()
            core = self.args.daphne_cores[index % len(self.args.daphne_cores)]
            command = [
                "taskset", "-c", str(core), DAPHNE, "-b", "127.0.0.1", "-p", str(port),
                "-v", "0", "--ping-interval", "20", "--ping-timeout", "30", app,
            ]  # fmt: skip
            out = open(self.tmp / f"daphne-{index}.log", "w")  # noqa: SIM115 - closed with the process
            proc = subprocess.Popen(command, cwd=cwd, env=self.env, stdout=out, stderr=subprocess.STDOUT)
            self.procs.append(proc)
            self.pids.append(proc.pid)
            ports.append(port)
        for proc, port in zip(self.procs, ports, strict=True):
            wait_for_port(port, proc)
        if self.daphnes > 1:
            port = self.start_haproxy(ports)
        else:
            port = ports[0]
        self.url = f"http://127.0.0.1:{port}"
        log(f"{self.config}: {self.daphnes} daphne(s) pid {self.pids} at {self.url}")
        return self

    def start_haproxy(self, ports):
        port = free_port()
        servers = "\n".join(f"    server d{i} 127.0.0.1:{p}" for i, p in enumerate(ports))
        config = self.tmp / "haproxy.cfg"
        # Two file descriptors per proxied socket; HAProxy refuses a maxconn above the fd limit.
        maxconn = resource.getrlimit(resource.RLIMIT_NOFILE)[0] // 2 - 100
        config.write_text(HAPROXY_CONFIG.format(port=port, servers=servers, maxconn=maxconn))
        haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
        out = open(self.tmp / "haproxy.log", "w")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen([haproxy, "-f", str(config), "-db"], stdout=out, stderr=subprocess.STDOUT)
        self.procs.append(proc)
        self.haproxy_pid = proc.pid
        wait_for_port(port, proc)
        return port

    def __exit__(self, *exc):
        for proc in reversed(self.procs):
            common.stop(proc, log=log)
        if not self.args.keep:
            shutil.rmtree(self.tmp, ignore_errors=True)


# HAProxy in front of several daphnes. Round robin, no stickiness: any process can serve any
# socket, because the channel layer (Redis) and the database hold all shared state.
HAPROXY_CONFIG = """\
global
    maxconn {maxconn}
defaults
    mode http
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    timeout tunnel 1h
frontend chat
    bind 127.0.0.1:{port}
    default_backend daphnes
backend daphnes
    balance roundrobin
{servers}
"""


def run_json(command, env, timeout, cwd=REPO):
    """Run a bench script on core 1 that writes JSON to a file; return the parsed report."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as out:
        path = Path(out.name)
    full = ["taskset", "-c", "1", PYTHON, *command, "--json", str(path)]
    log("  $", " ".join(str(c) for c in command))
    try:
        done = subprocess.run(full, cwd=cwd, env=env, timeout=timeout, capture_output=True, text=True)
        if done.returncode != 0 or not path.stat().st_size:
            raise RuntimeError(f"{command[0]} failed ({done.returncode}): {done.stderr[-2000:]}")
        return json.loads(path.read_text())
    finally:
        path.unlink(missing_ok=True)


def load_run(stack, conversations, rate, args):
    """One load run against a started stack; the report gains the configuration and pids."""
    script = "tutorial_load.py" if stack.config.startswith("tutorial-") else "relay.py"
    redis = redis_pid(args.redis_url)
    command = [
        str(BENCH / script), "--url", stack.url, "--conversations", str(conversations), "--rate", f"{rate:g}",
        "--duration", f"{args.duration:g}", "--warmup", f"{args.warmup:g}", "--grace", f"{args.grace:g}",
    ]  # fmt: skip
    if script == "relay.py":
        command += ["--per-librarian", str(args.per_librarian)]
    for pid in [*stack.pids, redis]:
        command += ["--server-pid", str(pid)]
    loads = loadavg()
    timeout = args.warmup + args.duration + args.grace + conversations * 0.2 + 300
    report = run_json(command, stack.env, timeout)
    report.update(
        configuration=stack.config, daphnes=len(stack.pids), daphne_pids=stack.pids, redis_pid=redis,
        loadavg_before=loads,
    )  # fmt: skip
    name = f"{datetime.now(UTC):%H%M%S}-{stack.config}-x{len(stack.pids)}-{conversations}x{rate:g}.json"
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / name).write_text(json.dumps(report, indent=2))
    row = summarise(report)
    log(
        f"  {stack.config} x{len(stack.pids)} {conversations}x{rate:g}: {row['delivered_per_s']} msg/s, "
        f"p99 {row['p99']} ms, lost {row['lost']}, dup {row['duplicated']}, unacked {row['unacked']}"
    )
    return report


def summarise(report):
    measured, everything = report["measured"], report["all_load_messages"]
    cpu, rss = report.get("server_cpu_pct_by_pid", {}), report.get("server_rss_kib_by_pid", {})
    daphnes = [str(p) for p in report.get("daphne_pids", [])]
    redis = str(report.get("redis_pid"))
    return {
        "delivered_per_s": measured["delivered_per_s"],
        "acked_per_s": round(measured["acked"] / report["duration_s"], 1) if "acked" in measured else "–",
        "sent": measured["sent"],
        "delivered": measured["delivered"],
        **{k: measured["latency_ms"][k] for k in ("p50", "p90", "p99", "max")},
        "lost": everything["lost"],
        "duplicated": everything["duplicated"],
        "unacked": everything.get("unacked"),  # the tutorial has no acks
        "daphne_cpu": "+".join(f"{cpu.get(p, '?')}" for p in daphnes),
        "daphne_rss_mib": "+".join(f"{rss[p] / 1024:.0f}" if rss.get(p) else "?" for p in daphnes),
        "redis_cpu": cpu.get(redis),
        "bench_cpu": report["bench"]["cpu_pct_during_load"],
    }


def clean(report, p99_bound_ms):
    """Nothing lost, duplicated or unacknowledged, everything measured delivered, p99 in bound."""
    row = summarise(report)
    return (
        row["lost"] == 0
        and row["duplicated"] == 0
        and not row["unacked"]
        and row["delivered"] == row["sent"] > 0
        and not report.get("setup_failures")
        and row["p99"] is not None
        and row["p99"] <= p99_bound_ms
    )


# --------------------------------------------------------------------------------------------
# Markdown
# --------------------------------------------------------------------------------------------

TABLE_HEAD = (
    "| configuration | daphnes | conv × rate | offered msg/s | acked msg/s | delivered msg/s | p50 | p90 | p99 "
    "| max (ms) | lost | dup | unacked | daphne CPU % | daphne RSS MiB | redis CPU % | bench CPU % "
    "| load avg before | cores busy % (window) |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
)


def table_row(report):
    row = summarise(report)
    cores = report["machine"]["cores_busy_pct"]
    unacked = "–" if row["unacked"] is None else row["unacked"]
    return (
        f"| {report['configuration']} | {report['daphnes']} | {report['conversations']} × "
        f"{report['rate_per_conversation']:g} | {report['offered_msgs_per_s']:g} | {row['acked_per_s']} "
        f"| {row['delivered_per_s']:g} "
        f"| {row['p50']} | {row['p90']} | {row['p99']} | {row['max']} | {row['lost']} | {row['duplicated']} "
        f"| {unacked} | {row['daphne_cpu']} | {row['daphne_rss_mib']} | {row['redis_cpu']} | {row['bench_cpu']} "
        f"| {report['loadavg_before']} | {' / '.join(f'{v:g}' for v in cores.values())} |"
    )


def write_section(path, name, body):
    """Replace the text between <!-- compare:NAME --> markers (append the section if new)."""
    begin, end = f"<!-- compare:{name} -->", f"<!-- /compare:{name} -->"
    text = path.read_text() if path.exists() else "# Performance\n"
    block = f"{begin}\n{body.rstrip()}\n{end}"
    pattern = re.compile(re.escape(begin) + ".*?" + re.escape(end), re.S)
    text = pattern.sub(lambda _m: block, text) if pattern.search(text) else f"{text.rstrip()}\n\n{block}\n"
    path.write_text(text)
    log(f"wrote section {name!r} of {path}")


def header(args, extra=""):
    return (
        f"Generated by `bench/compare.py {' '.join(sys.argv[1:])}` at {datetime.now(UTC):%Y-%m-%d %H:%M} UTC. "
        f"Warm-up {args.warmup:g} s, measured {args.duration:g} s, grace {args.grace:g} s. {extra}\n"
    )


# --------------------------------------------------------------------------------------------
# Modes
# --------------------------------------------------------------------------------------------


def mode_compare(args):
    reports = []
    for config in args.configs:
        with Stack(config, args) as stack:
            reports.append(load_run(stack, args.conversations, args.rate, args))
    body = header(args) + "\n" + TABLE_HEAD + "\n" + "\n".join(table_row(r) for r in reports)
    write_section(args.output, f"compare-{args.conversations}x{args.rate:g}", body)


def mode_find_max(args):
    candidates = [c for c in args.configs if c.startswith("rt-")]
    # Every step is run, also after a failure: the bound moves with the tutorial's own p99, so a
    # configuration can fail at a low rate and hold at a higher one (both are reported).
    held, rows, notes = {c: [] for c in candidates}, [], []
    for rate in args.rates:
        with Stack("tutorial-pubsub", args) as stack:
            baseline = load_run(stack, args.conversations, rate, args)
        rows.append(baseline)
        tutorial_p99 = summarise(baseline)["p99"]
        bound = 3 * tutorial_p99 if tutorial_p99 is not None else 0
        for config in candidates:
            with Stack(config, args) as stack:
                report = load_run(stack, args.conversations, rate, args)
            rows.append(report)
            ok = clean(report, bound)
            notes.append(
                f"* {config} at {args.conversations} × {rate:g} = {args.conversations * rate:g} msg/s: "
                f"p99 {summarise(report)['p99']} ms against a bound of 3 × {tutorial_p99} = {bound:.2f} ms: "
                f"**{'holds' if ok else 'fails'}**"
            )
            if ok:
                held[config].append(rate)
    summary = [
        f"* **{c}**: highest rate that held: "
        + (f"{args.conversations} × {max(held[c]):g} = **{args.conversations * max(held[c]):g} msg/s**"
           if held[c] else "none")
        + f" (held at {', '.join(f'{args.conversations * r:g}' for r in held[c]) or 'no step'} of "
        + f"{', '.join(f'{args.conversations * r:g}' for r in args.rates)} msg/s)"
        for c in candidates
    ]
    body = "\n".join(
        [header(args, "Rule: nothing lost/duplicated/unacked, p99 ≤ 3 × tutorial-pubsub p99 at the same step."),
         *summary, "", *notes, "", TABLE_HEAD, *(table_row(r) for r in rows)]
    )  # fmt: skip
    write_section(args.output, f"find-max-{args.conversations}", body)


def mode_scale_out(args):
    best, top, rows, notes = {1: None, 2: None}, {1: None, 2: None}, [], []
    for daphnes in (1, 2):
        for rate in args.rates:
            with Stack("rt-scaleout", args, daphnes=daphnes) as stack:
                report = load_run(stack, args.conversations, rate, args)
            rows.append(report)
            ok = clean(report, args.p99_bound_ms)
            notes.append(
                f"* {daphnes} daphne(s) at {args.conversations} × {rate:g}: p99 {summarise(report)['p99']} ms, "
                f"lost {summarise(report)['lost']}: **{'holds' if ok else 'fails'}**"
            )
            if ok:  # every step runs: on a shared machine one noisy step must not end the search
                best[daphnes] = max(best[daphnes] or 0, args.conversations * rate)
            top[daphnes] = summarise(report)["acked_per_s"]
    ratio = f"{best[2] / best[1]:.2f}" if best[1] and best[2] else "n/a"
    top_ratio = f"{top[2] / top[1]:.2f}" if top[1] and top[2] else "n/a"
    body = "\n".join(
        [header(args, f"Bound: nothing lost/duplicated/unacked, p99 ≤ {args.p99_bound_ms:g} ms. "
                      f"Two daphnes on cores {args.daphne_cores[:2]} behind HAProxy (round robin, no "
                      "stickiness); the load generator is on core 1."),
         f"* one daphne: highest clean rate **{best[1]} msg/s**; two daphnes: **{best[2]} msg/s**; "
         f"ratio **{ratio}**",
         f"* stored and acknowledged at the last (highest) step: one daphne {top[1]} msg/s, two {top[2]} msg/s, "
         f"ratio **{top_ratio}**", "", *notes, "", TABLE_HEAD, *(table_row(r) for r in rows)]
    )  # fmt: skip
    cores = "" if args.daphne_cores == [0, 1] else "-cores" + "".join(map(str, args.daphne_cores))
    write_section(args.output, f"scale-out-{args.conversations}x{'-'.join(f'{r:g}' for r in args.rates)}{cores}", body)


def mode_idle(args):
    rows = []
    for config in args.configs:
        with Stack(config, args) as stack:
            kind = "tutorial" if config.startswith("tutorial-") else "patron"
            command = [str(BENCH / "idle.py"), "--url", stack.url, "--sockets", str(args.idle), "--kind", kind]
            command += ["--server-pid", str(stack.pids[0]), "--settle", f"{args.idle_settle:g}"]
            loads = loadavg()
            report = run_json(command, stack.env, timeout=args.idle * 0.1 + 300)
            log(f"  {config}: {report['bytes_per_socket']:.0f} bytes/socket")
            rows.append(
                f"| {config} | {report['sockets_open']} of {report['sockets']} | {report['rss_before_kib'] / 1024:.1f} "
                f"| {report['rss_after_kib'] / 1024:.1f} | **{report['bytes_per_socket'] / 1024:.1f}** "
                f"| {report['connect_s']:.1f} | {loads} |"
            )
    body = "\n".join(
        [header(args, "Idle sockets: patrons after `hello`/`welcome` (Ruang Tanya) or connected room sockets "
                      "(tutorial); RSS of the one daphne after a 50-socket warm-up, then after all are open "
                      f"and {args.idle_settle:g} s of quiet."),
         "| configuration | sockets open | RSS before (MiB) | RSS after (MiB) | KiB per socket | connect time (s) "
         "| load avg before |",
         "|---|---|---|---|---|---|---|", *rows]
    )  # fmt: skip
    settle = f"-settle{args.idle_settle:g}" if args.idle_settle != 5 else ""
    write_section(args.output, f"idle-{args.idle}{settle}", body)


FANOUT_LINE = re.compile(
    r"^(all dashboards|per dashboard) \(ms\)\s+p50 (\S+)\s+p90 (\S+)\s+p99 (\S+)\s+max (\S+)", re.M
)


def mode_fanout(args):
    rows = []
    for config in [c for c in args.configs if c.startswith("rt-")]:
        with Stack(config, args) as stack:
            command = [
                "taskset", "-c", "1", PYTHON, str(BENCH / "fanout.py"), "--url", stack.url,
                "--librarians", str(args.fanout), "--rounds", str(args.fanout_rounds), "--rate", "5",
            ]  # fmt: skip
            loads = loadavg()
            log("  $", " ".join(command[3:]))
            done = subprocess.run(command, cwd=REPO, env=stack.env, capture_output=True, text=True, timeout=900)
            found = {m[0]: m[1:] for m in FANOUT_LINE.findall(done.stdout)}
            missing = re.search(r"missing deliveries\s+(\d+)", done.stdout)
            log(done.stdout.strip().splitlines()[-8:] if done.stdout else done.stderr[-1000:])
            every, each = found.get("all dashboards", ("?",) * 4), found.get("per dashboard", ("?",) * 4)
            rows.append(
                f"| {config} | {args.fanout} | {args.fanout_rounds} | {' / '.join(every)} | {' / '.join(each)} "
                f"| {missing[1] if missing else '?'} | {loads} |"
            )
    body = "\n".join(
        [header(args, "Fan-out: time from a patron's `start` until EVERY dashboard shows `queue.added`, "
                      "5 new chats per second."),
         "| configuration | dashboards | rounds | all dashboards p50 / p90 / p99 / max (ms) "
         "| per dashboard p50 / p90 / p99 / max (ms) | missing | load avg before |",
         "|---|---|---|---|---|---|---|", *rows]
    )  # fmt: skip
    write_section(args.output, f"fanout-{args.fanout}x{args.fanout_rounds}", body)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--configs", default=",".join(CONFIGS), help=f"comma-separated, of {CONFIGS}")
    parser.add_argument("--conversations", type=int, default=500)
    parser.add_argument("--rate", type=float, default=2.0, help="messages/s per conversation")
    parser.add_argument(
        "--per-librarian", type=int, default=25, help="Ruang Tanya conversations per librarian socket"
    )
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--grace", type=float, default=10.0)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--find-max", action="store_true")
    mode.add_argument("--scale-out", action="store_true")
    mode.add_argument("--idle", type=int, metavar="SOCKETS")
    mode.add_argument("--fanout", type=int, metavar="DASHBOARDS")
    parser.add_argument("--fanout-rounds", type=int, default=100)
    parser.add_argument("--idle-settle", type=float, default=5.0, help="seconds of quiet before reading RSS")
    parser.add_argument("--rates", default="0.1,0.2,0.4,0.6,0.8,1,1.5,2", help="steps of --find-max/--scale-out")
    parser.add_argument("--p99-bound-ms", type=float, default=100.0, help="latency bound of --scale-out")
    parser.add_argument(
        "--daphne-cores", default="0,1", help="core of the 1st, 2nd… daphne (--scale-out; '0,0': both on core 0)"
    )
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/rt_perf_bench")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/12", help="Ruang Tanya's (flushed!)")
    parser.add_argument("--tutorial-redis-url", default="redis://127.0.0.1:6379/13", help="flushed!")
    parser.add_argument("--prefix", default="rt:perf")
    parser.add_argument("--output", type=Path, default=REPO / "docs" / "performance.md")
    parser.add_argument("--results", type=Path, default=Path("/tmp/rt-perf-results"), help="every JSON report")
    parser.add_argument("--keep", action="store_true", help="keep the temp dirs (server logs)")
    args = parser.parse_args(argv)
    args.configs = [c.strip() for c in args.configs.split(",") if c.strip()]
    unknown = set(args.configs) - set(CONFIGS)
    if unknown:
        parser.error(f"unknown configurations {sorted(unknown)}")
    args.rates = [float(r) for r in args.rates.split(",")]
    args.daphne_cores = [int(c) for c in args.daphne_cores.split(",")]
    if os.cpu_count() < 2:
        parser.error("needs two cores (server on core 0, load generator on core 1)")
    return args


def main(argv=None):
    args = parse_args(argv)
    # SIGTERM unwinds like Ctrl-C, so every started server and load generator is stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    os.sched_setaffinity(0, {1})  # this script and its children stay off the server's core
    if args.find_max:
        mode_find_max(args)
    elif args.scale_out:
        mode_scale_out(args)
    elif args.idle:
        mode_idle(args)
    elif args.fanout:
        mode_fanout(args)
    else:
        mode_compare(args)


if __name__ == "__main__":
    main()
