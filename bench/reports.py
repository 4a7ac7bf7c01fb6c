#!/usr/bin/env python
"""Reports benchmark (issue 17, "Speed"): how fast report pages and exports start answering on a
year of data, how much memory the server takes while it streams them, and whether they slow chat
messages down.

A measurement, not a test. Against a database filled by bench/year_of_data.py, it starts daphne
itself (pinned to core 0, itself on core 1, like bench/compare.py) or attaches to a running one
(`--url`, with `--server-pid` for the memory figures), logs in through the login form as the
manager (`--username` / `--password`, year_of_data.py's by default), then:

1. For each report URL, for the whole year and for the last full month, without and with filters
   (`queue`, `librarian`, `site`: the busiest of each): time to the response headers, to the first
   byte of the body (TTFB), total time, bytes, status, and the server's peak RSS while it answered.
   The URLs: `/staff/reports/?start=…&end=…`, every CSV export the report page links to
   (`/staff/reports/export/<table>.csv`), and `/staff/reports/export/transcripts.csv` / `.json`.
   `--paths` measures other URLs instead (the same query is added to each).
2. Chat message latency with bench/relay.py (a subprocess, same environment): first with no
   report traffic, then while report pages and exports are requested in a loop, so the slowdown
   shows in the same run.

Run from the repository root with the server's environment (SQLITE_PATH or DATABASE_URL, SECRET_KEY):

    SQLITE_PATH=/tmp/year.sqlite3 .venv/bin/python bench/reports.py
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/rt_bench_year REDIS_URL=redis://127.0.0.1:6379/12 \\
        .venv/bin/python bench/reports.py --json /tmp/reports-pg.json
    SQLITE_PATH=/tmp/year.sqlite3 .venv/bin/python bench/reports.py --paths /staff/transcripts/ --no-relay
"""

import argparse
import http.client
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo

if __package__ in (None, ""):  # run as `python bench/reports.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    REPO,
    check_local_urls,
    daphne_command,
    django_ready,
    free_port,
    read_rss_kib,
    say,
    stop,
    wait_for_port,
)
from bench.year_of_data import MANAGER_PASSWORD, MANAGER_USERNAME  # noqa: E402

REPORT_PAGE = "/staff/reports/"
EXPORT_PREFIX = "/staff/reports/export/"
TRANSCRIPTS = ("/staff/reports/export/transcripts.csv", "/staff/reports/export/transcripts.json")
CHUNK = 64 * 1024


# ------------------------------------------------------------------------------------------------
# What to ask for: periods and filters, from the database
# ------------------------------------------------------------------------------------------------


def periods(today):
    """{"year": (start, end), "month": (start, end)}: the last 365 days and the last full month."""
    first_of_month = today.replace(day=1)
    last_month_end = first_of_month - timedelta(days=1)
    return {"year": (today - timedelta(days=364), today), "month": (last_month_end.replace(day=1), last_month_end)}


def desk_facts():
    """The library's today, and the busiest queue, librarian and site (for the filtered variants)."""
    django_ready()
    from django.db import connections
    from django.db.models import Count
    from django.utils import timezone

    from bench.common import database_description
    from reference.models import Conversation, Library

    library = Library.objects.order_by("pk").first()
    tz = ZoneInfo(library.time_zone if library else "Asia/Jakarta")

    def busiest(field):
        row = (Conversation.objects.exclude(**{f"{field}__isnull": True}).values(field)
               .annotate(n=Count("id")).order_by("-n").first())
        return row[field] if row else None

    facts = {
        "today": timezone.now().astimezone(tz).date(),
        "filters": {"queue": busiest("queue"), "librarian": busiest("librarian"), "site": busiest("site")},
        "conversations": Conversation.objects.count(),
        "database": database_description(),
    }
    connections.close_all()
    return facts


def variants(facts):
    """[(name, query string)]: year and month, each without and with all three filters."""
    out = []
    for name, (start, end) in periods(facts["today"]).items():
        base = {"start": start.isoformat(), "end": end.isoformat()}
        out.append((name, urlencode(base)))
        filters = {k: v for k, v in facts["filters"].items() if v is not None}
        out.append((f"{name}+filters", urlencode({**base, **filters})))
    return out


# ------------------------------------------------------------------------------------------------
# HTTP: one request at a time on a fresh connection, timed by phase
# ------------------------------------------------------------------------------------------------


class Http:
    """A logged-in staff browser, reduced to cookies and GETs."""

    def __init__(self, base_url, timeout):
        parts = urlsplit(base_url)
        self.host, self.port, self.timeout = parts.hostname, parts.port or 80, timeout
        self.cookies = {}

    def _connection(self):
        return http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)

    def _headers(self, extra=None):
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return {**({"Cookie": cookie} if cookie else {}), **(extra or {})}

    def _keep_cookies(self, response):
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _eq, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]

    def get_text(self, path):
        connection = self._connection()
        try:
            connection.request("GET", path, headers=self._headers())
            response = connection.getresponse()
            self._keep_cookies(response)
            return response.status, response.read().decode("utf-8", "replace")
        finally:
            connection.close()

    def login(self, username, password):
        """Through the login form, as a person would. Raises if it did not take."""
        status, page = self.get_text("/login/")
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        if status != 200 or not match:
            raise SystemExit(f"no login form at /login/ (status {status})")
        body = urlencode({"csrfmiddlewaretoken": match.group(1), "username": username, "password": password})
        connection = self._connection()
        try:
            connection.request("POST", "/login/", body=body, headers=self._headers(
                {"Content-Type": "application/x-www-form-urlencoded"}))
            response = connection.getresponse()
            response.read()
            self._keep_cookies(response)
        finally:
            connection.close()
        if response.status != 302 or "sessionid" not in self.cookies:
            raise SystemExit(f"login as {username} failed (status {response.status}): is the database filled by "
                             "bench/year_of_data.py, and is this the server's environment?")

    def measure(self, path, cap_seconds, stop_event=None):
        """GET `path`, reading the whole body (up to `cap_seconds`): phase times in seconds, bytes."""
        connection = self._connection()
        started = time.perf_counter()
        result = {"path": path, "status": None, "headers_s": None, "ttfb_s": None, "total_s": None, "bytes": 0,
                  "cut_off": False, "error": None}
        try:
            connection.request("GET", path, headers=self._headers())
            response = connection.getresponse()
            result["headers_s"] = time.perf_counter() - started
            result["status"] = response.status
            result["content_type"] = response.headers.get("Content-Type", "")
            while True:
                chunk = response.read1(CHUNK)
                if not chunk:
                    break
                if result["ttfb_s"] is None:
                    result["ttfb_s"] = time.perf_counter() - started
                result["bytes"] += len(chunk)
                if time.perf_counter() - started > cap_seconds or (stop_event and stop_event.is_set()):
                    result["cut_off"] = True
                    break
        except (OSError, http.client.HTTPException) as exc:
            result["error"] = f"{type(exc).__name__}: {exc}"
        finally:
            connection.close()
        result["total_s"] = time.perf_counter() - started
        return result


class LinkParser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.hrefs += [value for name, value in attrs if name == "href" and value]


def export_paths(page_html):
    """The CSV exports a report page links to, without their query, in page order."""
    parser = LinkParser()
    parser.feed(page_html)
    found = []
    for href in parser.hrefs:
        path = urlsplit(href).path
        if path.startswith(EXPORT_PREFIX) and path not in found:
            found.append(path)
    return found


def report_paths(client, query):
    """The report page, every export it links to, and the transcripts (CSV and JSON)."""
    status, page = client.get_text(f"{REPORT_PAGE}?{query}")
    exports = export_paths(page) if status == 200 else []
    say(f"report page: status {status}, {len(exports)} export links")
    return [REPORT_PAGE] + exports + [p for p in TRANSCRIPTS if p not in exports], status


def with_query(path, query):
    return f"{path}{'&' if '?' in path else '?'}{query}"


# ------------------------------------------------------------------------------------------------
# The server's memory, sampled while requests run
# ------------------------------------------------------------------------------------------------


class RssSampler(threading.Thread):
    """VmRSS of a pid every `interval` s: the peak within any stretch of time afterwards."""

    def __init__(self, pid, interval=0.02):
        super().__init__(daemon=True)
        self.pid, self.interval, self.samples, self.done = pid, interval, [], threading.Event()

    def run(self):
        while not self.done.is_set():
            kib = read_rss_kib(self.pid)
            if kib is not None:
                self.samples.append((time.perf_counter(), kib))
            time.sleep(self.interval)

    def peak_kib(self, start, end):
        """The highest sample taken from `start` to `end`, and a reading now (short requests fall between samples)."""
        inside = [kib for at, kib in self.samples if start <= at <= end]
        return max(inside + [read_rss_kib(self.pid) or 0]) or None


def peak_rss_kib(pid):
    """VmHWM: the most the process ever had resident."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


# ------------------------------------------------------------------------------------------------
# The two measurements
# ------------------------------------------------------------------------------------------------


def measure_reports(client, paths, variant_list, args, sampler):
    rows = []
    for path in paths:
        for name, query in variant_list:
            start = time.perf_counter()
            row = client.measure(with_query(path, query), args.cap_seconds)
            row.update(variant=name, base=path,
                       peak_rss_kib=sampler.peak_kib(start, time.perf_counter()) if sampler else None)
            rows.append(row)
            say(f"  {path} [{name}] {row['status']} ttfb {fmt_s(row['ttfb_s'])} total {fmt_s(row['total_s'])} "
                f"{row['bytes']:,} B{' (cut off)' if row['cut_off'] else ''}")
    return rows


def report_loop(client, urls, args, stop_event, done):
    """Request `urls` one after another, round and round, until told to stop."""
    while not stop_event.is_set():
        for url in urls:
            if stop_event.is_set():
                break
            done.append(client.measure(url, args.cap_seconds, stop_event))


def run_relay(args, url, server_pid, label, workdir):
    """bench/relay.py in a subprocess on core 1; its JSON report."""
    out = Path(workdir) / f"relay-{label}.json"
    command = [sys.executable, str(REPO / "bench" / "relay.py"), "--url", url,
               "--conversations", str(args.relay_conversations), "--rate", str(args.relay_rate),
               "--duration", str(args.relay_duration), "--per-librarian", str(args.relay_per_librarian),
               "--json", str(out)]
    if server_pid:
        command += ["--server-pid", str(server_pid)]
    say(f"relay ({label}): {args.relay_conversations} conversations x {args.relay_rate:g} msg/s, "
        f"{args.relay_duration:g} s measured")
    finished = subprocess.run(pinned(command, 1), cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              text=True)
    if finished.returncode != 0 or not out.exists():
        say(f"relay ({label}) failed: {finished.stderr[-2000:]}")
        return None
    return json.loads(out.read_text())


def relay_figures(report):
    if not report:
        return None
    m, a = report["measured"], report["all_load_messages"]
    return {"delivered": m["delivered"], "sent": m["sent"], "p50_ms": m["latency_ms"]["p50"],
            "p90_ms": m["latency_ms"]["p90"], "p99_ms": m["latency_ms"]["p99"], "max_ms": m["latency_ms"]["max"],
            "ack_p99_ms": m["ack_latency_ms"]["p99"], "lost": a["lost"], "unacked": a["unacked"],
            "server_cpu_pct": report.get("server_cpu_pct")}


def pinned(command, core):
    """`command` under taskset on `core`, when there are two cores or more and taskset exists."""
    if (os.cpu_count() or 1) > 1 and subprocess.run(["which", "taskset"], capture_output=True).returncode == 0:
        return ["taskset", "-c", str(core), *command]
    return command


def start_daphne(workdir, server_dir):
    port = free_port()
    log = open(Path(workdir) / "daphne.log", "w")  # noqa: SIM115 - closed with the process
    *options, application = daphne_command(port)
    command = [*options, "-v", "0", "--ping-interval", "20", "--ping-timeout", "30", application]  # as the Procfile
    # `python -m daphne` puts the working directory first on sys.path: the server runs that checkout's code,
    # with this checkout's key, or the sessions relay.py makes would not be the server's.
    from django.conf import settings

    env = {**os.environ, "SECRET_KEY": settings.SECRET_KEY, "RT_LIMITS": "0"}  # loopback load: no abuse limits
    process = subprocess.Popen(pinned(command, 0), cwd=server_dir, env=env, stdout=log, stderr=subprocess.STDOUT)
    wait_for_port(port, process, "daphne", timeout=60)
    return process, f"http://127.0.0.1:{port}"


# ------------------------------------------------------------------------------------------------
# Output
# ------------------------------------------------------------------------------------------------


def fmt_s(seconds):
    return "-" if seconds is None else f"{seconds:.3f}"


def print_report(r):
    print(f"\n== reports bench: {r['url']} ({r['database']}, {r['conversations']:,} conversations)")
    print(f"periods {r['periods']}; filters {r['filters']}; report page status {r['report_page_status']}")
    header = f"{'url':58} {'variant':14} {'status':>6} {'headers s':>9} {'ttfb s':>8} {'total s':>8} " \
             f"{'bytes':>12} {'MB/s':>6} {'peak RSS MiB':>12}"
    print(header)
    print("-" * len(header))
    for row in r["requests"]:
        rss = f"{row['peak_rss_kib'] / 1024:.0f}" if row.get("peak_rss_kib") else "-"
        rate = f"{row['bytes'] / row['total_s'] / 1e6:.1f}" if row["total_s"] else "-"
        note = " cut off" if row["cut_off"] else f" {row['error']}" if row["error"] else ""
        print(f"{row['base'][:58]:58} {row['variant']:14} {row['status'] or '-':>6} {fmt_s(row['headers_s']):>9} "
              f"{fmt_s(row['ttfb_s']):>8} {fmt_s(row['total_s']):>8} {row['bytes']:>12,} {rate:>6} {rss:>12}{note}")
    ok = [row for row in r["requests"] if row["status"] == 200 and row["ttfb_s"] is not None]
    if ok:
        slowest = max(ok, key=lambda row: row["ttfb_s"])
        print(f"slowest first byte (status 200): {slowest['ttfb_s']:.3f} s, {slowest['base']} [{slowest['variant']}]; "
              f"{sum(row['ttfb_s'] < 2 for row in ok)} of {len(ok)} under 2 s")
    missing = sorted({row["base"] for row in r["requests"] if row["status"] == 404})
    if missing:
        print(f"not there yet (404): {', '.join(missing)}")
    print(f"server RSS: {r['rss_kib']}")
    if r.get("chat"):
        print("\nchat messages patron→librarian (bench/relay.py), same server, same run:")
        print(f"{'':26} {'delivered':>11} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'max ms':>8} {'ack p99':>8} "
              f"{'lost':>5} {'cpu %':>6}")
        for label, f in r["chat"].items():
            if f is None:
                print(f"{label:26} failed")
                continue
            print(f"{label:26} {f['delivered']:>5}/{f['sent']:<5} {f['p50_ms']:>8} {f['p90_ms']:>8} {f['p99_ms']:>8} "
                  f"{f['max_ms']:>8} {f['ack_p99_ms']:>8} {f['lost']:>5} {f['server_cpu_pct'] or '-':>6}")
        loop = r.get("report_traffic")
        if loop:
            print(f"report traffic during the second run: {loop['requests']} requests "
                  f"({loop['statuses']}), {loop['bytes']:,} B, first byte p50/max {loop['ttfb_p50_s']}/"
                  f"{loop['ttfb_max_s']} s")


# ------------------------------------------------------------------------------------------------
# Command line
# ------------------------------------------------------------------------------------------------


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="a running server (loopback only); default: start daphne on core 0")
    parser.add_argument("--server-pid", type=int, help="with --url: the server's pid, for its memory")
    parser.add_argument("--server-dir", default=str(REPO),
                        help="the checkout whose code the started daphne runs (default: this one), e.g. another "
                             "branch's `git archive`; this virtualenv's packages")
    parser.add_argument("--username", default=MANAGER_USERNAME)
    parser.add_argument("--password", default=MANAGER_PASSWORD)
    parser.add_argument("--paths", help="comma-separated paths to measure instead of the report URLs")
    parser.add_argument("--cap-seconds", type=float, default=120.0,
                        help="stop reading one response after this long (default 120)")
    parser.add_argument("--no-relay", action="store_true", help="skip the chat latency part")
    parser.add_argument("--relay-conversations", type=int, default=50)
    parser.add_argument("--relay-rate", type=float, default=1.0, help="messages per second per conversation")
    parser.add_argument("--relay-duration", type=float, default=30.0)
    parser.add_argument("--relay-per-librarian", type=int, default=5)
    parser.add_argument("--loop-variants", default="year,month",
                        help="which variants the report loop requests during the second relay run")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON to FILE ('-': stdout)")
    args = parser.parse_args(argv)
    if args.url:
        check_local_urls(parser, [args.url])
    if args.cap_seconds <= 0:
        parser.error("--cap-seconds must be positive")
    return args


def main(argv=None):
    args = parse_args(argv)
    facts = desk_facts()
    variant_list = variants(facts)
    workdir = tempfile.mkdtemp(prefix="rt-bench-reports-")
    server, url, pid = None, args.url, args.server_pid
    if url is None:
        server, url = start_daphne(workdir, args.server_dir)
        pid = server.pid
        if (os.cpu_count() or 1) > 1:
            os.sched_setaffinity(0, {1})
        say(f"daphne pid {pid} at {url} (log {workdir}/daphne.log)")
    sampler = RssSampler(pid) if pid else None
    if sampler:
        sampler.start()
    try:
        report = run(args, url, pid, facts, variant_list, sampler, workdir)
    finally:
        if sampler:
            sampler.done.set()
        if server:
            stop(server)
    if args.json == "-":
        print(json.dumps(report, indent=2, default=str))
        return
    print_report(report)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2, default=str))
    print(json.dumps({"reports_bench": {
        "database": report["database"], "slowest_ttfb_s": max((row["ttfb_s"] or 0) for row in report["requests"]),
        "chat": report.get("chat")}}, default=str))


def run(args, url, pid, facts, variant_list, sampler, workdir):
    client = Http(url, timeout=args.cap_seconds + 30)
    client.login(args.username, args.password)
    rss_before = read_rss_kib(pid) if pid else None
    if args.paths:
        paths, page_status = [p.strip() for p in args.paths.split(",") if p.strip()], None
    else:
        paths, page_status = report_paths(client, variant_list[0][1])
    say(f"measuring {len(paths)} URLs x {len(variant_list)} variants")
    requests = measure_reports(client, paths, variant_list, args, sampler)
    report = {
        "url": url, "database": facts["database"], "conversations": facts["conversations"],
        "periods": {k: [str(d) for d in v] for k, v in periods(facts["today"]).items()},
        "filters": facts["filters"], "report_page_status": page_status, "requests": requests,
        "rss_kib": {"before": rss_before, "after_reports": read_rss_kib(pid) if pid else None,
                    "peak_ever": peak_rss_kib(pid) if pid else None},
    }
    if args.no_relay:
        return report
    quiet = run_relay(args, url, pid, "quiet", workdir)
    wanted = {v.strip() for v in args.loop_variants.split(",")}
    loop_urls = [with_query(path, query) for path in paths for name, query in variant_list if name in wanted]
    stop_event, done = threading.Event(), []
    loop_client = Http(url, args.cap_seconds + 30)
    loop_client.cookies = dict(client.cookies)  # the same logged-in manager
    loop = threading.Thread(target=report_loop, args=(loop_client, loop_urls, args, stop_event, done), daemon=True)
    loop.start()
    try:
        busy = run_relay(args, url, pid, "during reports", workdir)
    finally:
        stop_event.set()
        loop.join(args.cap_seconds + 60)
    ttfbs = sorted(row["ttfb_s"] for row in done if row["ttfb_s"] is not None)
    statuses = Counter(f"{urlsplit(row['path']).path} {row['status']}" for row in done)
    report["chat"] = {"without report traffic": relay_figures(quiet), "during report traffic": relay_figures(busy)}
    report["report_traffic"] = {
        "requests": len(done), "statuses": dict(statuses), "bytes": sum(row["bytes"] for row in done),
        "ttfb_p50_s": round(ttfbs[len(ttfbs) // 2], 3) if ttfbs else None,
        "ttfb_max_s": round(ttfbs[-1], 3) if ttfbs else None, "each": done}
    report["rss_kib"]["peak_ever"] = peak_rss_kib(pid) if pid else None
    return report


if __name__ == "__main__":
    main()
