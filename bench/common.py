"""What the bench scripts share: the loopback check, percentiles, the open-file limit, the Django
set-up of a bench desk (queue, site, librarians, sessions, tokens), /proc readings, and starting
and stopping server processes on free ports.

Importable as `bench.common` from the repository root (the tests do) and from `python bench/x.py`
(each script puts the repository root on `sys.path` first). Django is imported only by the set-up
functions, so the socket side of a bench runs without it.
"""

import asyncio
import math
import os
import resource
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parent.parent
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


def say(*parts):
    """Progress, on stderr (stdout is for the report)."""
    print(*parts, file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------------------------
# Command line
# ------------------------------------------------------------------------------------------------


def check_local_urls(parser, urls, schemes=("http", "https"), message=None):
    """Refuse (through argparse) any target that is not loopback: these benches are local only."""
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme not in schemes or parts.hostname not in LOCAL_HOSTS:
            parser.error(message or "--url must be http(s)://127.0.0.1, localhost or [::1]")


def origin_of(url):
    """`scheme://host:port` of a URL: the Origin header a browser on that page sends."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def raise_open_files(want):
    """Raise this process's soft limit of open files to `want` (at most the hard limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))


# ------------------------------------------------------------------------------------------------
# Figures
# ------------------------------------------------------------------------------------------------


def percentile(sorted_values, p):
    """Nearest-rank percentile of an already sorted list (None when empty)."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def latency_summary(values):
    """{"n", "p50", "p90", "p99", "max"} of a list of seconds, in seconds (None when empty)."""
    values = sorted(values)
    return {"n": len(values), "p50": percentile(values, 50), "p90": percentile(values, 90),
            "p99": percentile(values, 99), "max": values[-1] if values else None}


def percentiles_ms(values, ps=(50, 90, 99), with_max=True):
    """{"p50": ms, …, "max": ms} of an already sorted list of seconds (None when empty)."""
    figures = {
        f"p{p}": None if percentile(values, p) is None else round(percentile(values, p) * 1000, 2)
        for p in ps
    }
    if with_max:
        figures["max"] = round(values[-1] * 1000, 2) if values else None
    return figures


# ------------------------------------------------------------------------------------------------
# /proc readings: the server's CPU and memory, and what else used the cores
# ------------------------------------------------------------------------------------------------


def read_cpu(pid):
    """utime + stime of a process in seconds, or None."""
    if not pid:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def read_cores():
    """Per-core (busy, total) jiffies from /proc/stat, to see what else used the cores."""
    cores = {}
    try:
        for line in Path("/proc/stat").read_text().splitlines():
            name, *values = line.split()
            if name.startswith("cpu") and name != "cpu":
                numbers = [int(v) for v in values[:8]]
                idle = numbers[3] + numbers[4]
                cores[name] = (sum(numbers) - idle, sum(numbers))
    except (OSError, ValueError):
        pass
    return cores


def read_loadavg():
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return None


def read_rss_kib(pid):
    """Resident set size of a process in KiB, or None."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


def window_start(pids):
    """What to read at the start of a measured window: CPU of each pid, every core, load."""
    return {
        "start": {pid: read_cpu(pid) for pid in pids},
        "cores_start": read_cores(),
        "loadavg_start": read_loadavg(),
    }


def window_end(window, pids):
    window.update(
        end={pid: read_cpu(pid) for pid in pids},
        rss_kib={pid: read_rss_kib(pid) for pid in pids},
        cores_end=read_cores(),
        loadavg_end=read_loadavg(),
    )


async def measured_window(window, pids, start, end):
    """Take `window_start` at perf_counter time `start` and `window_end` at `end`, into `window`."""
    await asyncio.sleep(max(0, start - time.perf_counter()))
    window.update(window_start(pids))
    await asyncio.sleep(max(0, end - time.perf_counter()))
    window_end(window, pids)


def window_figures(window, duration):
    """Server CPU (% of one core, per pid and summed), RSS per pid, core use and load average."""
    by_pid = {}
    for pid, start in window.get("start", {}).items():
        end = window.get("end", {}).get(pid)
        if start is not None and end is not None:
            by_pid[str(pid)] = round(100 * (end - start) / duration, 1)
    cores = {}
    for name, (busy, total) in window.get("cores_end", {}).items():
        busy0, total0 = window.get("cores_start", {}).get(name, (busy, total))
        if total > total0:
            cores[name] = round(100 * (busy - busy0) / (total - total0), 1)
    return {
        "server_cpu_pct": round(sum(by_pid.values()), 1) if by_pid else None,
        "server_cpu_pct_by_pid": by_pid,
        "server_rss_kib_by_pid": {str(pid): kib for pid, kib in window.get("rss_kib", {}).items()},
        "machine": {
            "cores_busy_pct": cores,  # every process on each core, during the measured window
            "loadavg_1min": [window.get("loadavg_start"), window.get("loadavg_end")],
        },
    }


# ------------------------------------------------------------------------------------------------
# Server processes
# ------------------------------------------------------------------------------------------------


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port, process, what="server", timeout=30.0):
    """Return once something listens on 127.0.0.1:`port`; raise if `process` exits or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode} before listening on {port}")
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen on {port} within {timeout:g} s")


def daphne_command(port, application="chatserver.asgi:application", python=None):
    """The argv of a daphne on 127.0.0.1:`port` run by this Python (or `python`)."""
    return [python or sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), application]


def stop(process, grace=10.0, log=say):
    """SIGTERM, then SIGKILL: daphne sometimes hangs after an overload (bench/README.md)."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        if log:
            log(f"pid {process.pid} ignored SIGTERM for {grace:g} s; SIGKILL")
        process.kill()
        process.wait()


# ------------------------------------------------------------------------------------------------
# Set-up through Django, in this process, against the server's database
# ------------------------------------------------------------------------------------------------


def django_ready():
    """Set Django up with the server's settings (same environment as the server: SQLITE_PATH or
    DATABASE_URL, SECRET_KEY)."""
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatserver.settings")
    import django

    django.setup()


def bench_desk(slug, *, queue_name, site_name, origins, librarians, max_chats, user_prefix, display_prefix,
               site_key=None):
    """Idempotently: the queue `slug`, the widget site `site_key` (default `slug`) allowing `origins`,
    and `librarians` staff users `<user_prefix>NNN` (unusable passwords) whose profiles hold
    `max_chats` chats of that queue only. Conversations of the site left open by an earlier run are
    closed first (they would count against max_chats and show in every welcome).
    Returns (site, users, how many stale conversations were closed)."""
    django_ready()
    from django.db import transaction
    from django.utils import timezone

    from reference.models import Conversation, Queue, Role
    from widgets.models import Site

    with transaction.atomic():
        queue, _ = Queue.objects.update_or_create(slug=slug, defaults={"name": queue_name, "is_active": True})
        site, _ = Site.objects.update_or_create(key=site_key or slug, defaults={
            "name": site_name, "allowed_origins": "\n".join(origins), "default_queue": queue,
            "greeting": "Bench", "is_active": True})
        stale = Conversation.objects.filter(site=site).exclude(status=Conversation.Status.CLOSED)
        closed_stale = stale.update(
            status=Conversation.Status.CLOSED, closed_at=timezone.now(), closed_by_role=Role.SYSTEM)
        users = [bench_librarian(f"{user_prefix}{i:03d}", f"{display_prefix} {i:03d}", queue, max_chats=max_chats)
                 for i in range(librarians)]
    return site, users, closed_stale


def bench_librarian(username, display_name, queue, *, max_chats=3, library=None):
    """Idempotently: a staff user (unusable password) whose librarian profile holds `max_chats`
    chats of `queue` only, at home in `library` (default: the profile's, or the first library)."""
    from django.contrib.auth import get_user_model

    from reference.models import LibrarianProfile

    user, created = get_user_model().objects.get_or_create(
        username=username, defaults={"is_staff": True, "is_active": True})
    if created or not (user.is_staff and user.is_active):
        user.is_staff = user.is_active = True
        user.set_unusable_password()
        user.save()
    defaults = {"display_name": display_name, "max_chats": max_chats}
    if library is not None:
        defaults["library"] = library
    profile, _ = LibrarianProfile.objects.update_or_create(user=user, defaults=defaults)
    profile.queues.set([queue])
    profile.other_libraries.clear()
    return user


def login_sessions(users):
    """A logged-in Django session per staff user, made directly in the session store (no HTTP
    login): [(session key, username)]. Django must be set up, on the server's database. The backend
    recorded is the first that can load a user (axes' cannot)."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, load_backend

    engine = import_module(settings.SESSION_ENGINE)
    backend = next(path for path in settings.AUTHENTICATION_BACKENDS if hasattr(load_backend(path), "get_user"))
    sessions = []
    for user in users:
        store = engine.SessionStore()
        store[SESSION_KEY] = user._meta.pk.value_to_string(user)
        store[BACKEND_SESSION_KEY] = backend
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.save()
        sessions.append((store.session_key, user.get_username()))
    return sessions


def patron_tokens(site_key, count):
    """`count` fresh patron tokens of the site."""
    from reference.tokens import issue_patron_token

    return [issue_patron_token(site_key) for _ in range(count)]


def bench_setup(slug, *, tokens, **desk):
    """`bench_desk(slug, **desk)`, a session per librarian and `tokens` patron tokens, for a bench
    run: {"site_key", "sessions" [(key, username)], "cookie_name", "tokens", "closed_stale",
    "database", "layer"}. Closes this process's database connections afterwards."""
    site, users, closed_stale = bench_desk(slug, **desk)
    from django.conf import settings
    from django.db import connections

    setup = {
        "site_key": site.key,
        "sessions": login_sessions(users),
        "cookie_name": settings.SESSION_COOKIE_NAME,
        "tokens": patron_tokens(site.key, tokens),
        "closed_stale": closed_stale,
        "database": database_description(),
        "layer": settings.CHANNEL_LAYERS["default"]["BACKEND"].rsplit(".", 1)[-1],
    }
    connections.close_all()
    return setup


def database_description():
    """`engine:name` of the default database, for the report."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    return f"{db['ENGINE'].rsplit('.', 1)[-1]}:{db.get('NAME')}"
