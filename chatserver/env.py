"""Reading settings from the environment, with the embedded defaults in one place."""

import os
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit


def env_str(name, default=""):
    return os.environ.get(name, default)


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default=()):
    value = os.environ.get(name)
    if value is None:
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


def local_secret_key(path):
    """The key kept in `path` (made on first use), readable by its owner only: the file is created
    0600, and one an older version wrote world-readable is narrowed to 0600."""
    import secrets

    path = Path(path)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        if path.stat().st_mode & 0o077:
            os.chmod(path, 0o600)
    else:
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


def database_from_url(url, pool=None):
    """Turn `postgres://user:pass@host:port/name?opt=val` into a DATABASES entry.

    `CONN_MAX_AGE` is 0: a connection made for one HTTP request goes at the end of the request (under
    ASGI each request runs on a thread of its own, so a kept connection would outlive its thread).
    The long-lived database threads keep theirs (reference.dbthreads). `pool` (psycopg_pool
    options: min_size, max_size, timeout) puts every connection of the process in one bounded pool.
    """
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql", "pgsql"}:
        raise ValueError(f"DATABASE_URL: unsupported scheme {parts.scheme!r} (use postgres://)")
    options = dict(parse_qsl(parts.query))
    if pool:
        options["pool"] = pool
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(parts.path.lstrip("/")),
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": str(parts.port or ""),
        "OPTIONS": options,
        "CONN_MAX_AGE": 0,
        # A kept connection the server dropped is replaced instead of failing a call (with a pool:
        # checked as it leaves the pool).
        "CONN_HEALTH_CHECKS": True,
    }


def redis_from_url(url):
    """What the channel layer's `hosts` takes for REDIS_URL: the URL itself, or for
    `sentinel://[:password@]host:port[,host:port…]/master_name[/db]` a Sentinel description, so the
    service follows the master Sentinel names through a fail-over."""
    parts = urlsplit(url)
    if parts.scheme != "sentinel":
        return url
    sentinels = []
    for address in parts.netloc.rpartition("@")[2].split(","):
        host, _colon, port = address.strip().rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"REDIS_URL: a sentinel address must be host:port, not {address!r}")
        sentinels.append((host, int(port)))
    master_name, _slash, db = parts.path.strip("/").partition("/")
    if not master_name or not (db or "0").isdigit():
        raise ValueError("REDIS_URL: a sentinel URL ends in /master_name or /master_name/db")
    host = {"sentinels": sentinels, "master_name": master_name, "db": int(db or 0)}
    if parts.password:
        host["password"] = unquote(parts.password)
    return host


def redis_client(url, **options):
    """A redis-py client for REDIS_URL (plain or sentinel://, see redis_from_url)."""
    import redis
    from redis.sentinel import Sentinel

    host = redis_from_url(url)
    if isinstance(host, str):
        return redis.Redis.from_url(host, **options)
    sentinel = Sentinel(host["sentinels"], socket_timeout=options.get("socket_timeout"))
    return sentinel.master_for(host["master_name"], db=host["db"], password=host.get("password"), **options)


def first_address(url, default_port):
    """(host, port) of a plain URL, or of the first Sentinel of a sentinel:// one."""
    host = redis_from_url(url)
    if isinstance(host, dict):
        return host["sentinels"][0]
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or default_port
