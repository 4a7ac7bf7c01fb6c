"""Where live connections are counted: in this process (embedded default) or in Redis (scale-out).

A librarian is *connected* while any of their sockets has beaten within the timeout. Each store
keeps, per librarian, their sockets with the time each stops counting, and the time the librarian
as a whole stops (or stopped) counting, so the sweep can find who lapsed and since when. Keys are
kept apart from the channel layer's (`PRESENCE_PREFIX`).

Scaled out, a process can die without closing its sockets. Each process then holds a *lease* (a Redis
key with a short TTL that reference.leases renews), librarians' sockets are recorded with the process
that holds them, and a socket counts only while its process's lease is alive. `reap` drops the
sockets of processes whose lease ran out, as if each had closed (docs/presence.md#dead-processes).
In one process (the in-process store) the lease is trivially alive: nothing of this applies.
"""

import os
import secrets
import socket
import threading
import time

from django.conf import settings

from chatserver.env import redis_client


class MemoryPresenceStore:
    leases = False  # one process: its sockets live exactly as long as it does

    def __init__(self):
        self._lock = threading.Lock()
        self._sockets = {}   # user id -> {socket id: expires at}
        self._until = {}     # user id -> connected until (or disconnected since)
        self._announced = set()

    def beat(self, user_id, socket_id, ttl, now=None):
        """Record a beat; True when the librarian was not connected before it."""
        now = time.time() if now is None else now
        with self._lock:
            sockets = self._sockets.setdefault(user_id, {})
            was = any(expires > now for expires in sockets.values())
            sockets[socket_id] = now + ttl
            self._until[user_id] = max(self._until.get(user_id, 0), now + ttl)
            self._announced.discard(user_id)
            return not was

    def drop(self, user_id, socket_id, now=None):
        """A socket closed; True when the librarian is still connected through another."""
        now = time.time() if now is None else now
        with self._lock:
            sockets = self._sockets.get(user_id, {})
            sockets.pop(socket_id, None)
            live = [expires for expires in sockets.values() if expires > now]
            self._until[user_id] = max(live) if live else now
            return bool(live)

    def connected(self, user_ids, now=None):
        now = time.time() if now is None else now
        with self._lock:
            return {u for u in user_ids if any(e > now for e in self._sockets.get(u, {}).values())}

    def lapsed(self, before):
        """Ids (as str, like Redis gives them) not connected since before `before`, oldest first."""
        with self._lock:
            return [str(u) for u, until in sorted(self._until.items(), key=lambda item: item[1]) if until < before]

    def claim_announcement(self, user_id):
        """True exactly once per lapse: the caller tells everyone this librarian is gone."""
        with self._lock:
            if user_id in self._announced:
                return False
            self._announced.add(user_id)
            return True

    def forget(self, user_id):
        with self._lock:
            self._sockets.pop(user_id, None)
            self._until.pop(user_id, None)
            self._announced.discard(user_id)

    def take_sweep_turn(self, seconds):
        with self._lock:
            now = time.time()
            if now < getattr(self, "_next_sweep", 0):
                return False
            self._next_sweep = now + seconds
            return True


# This process, as named in its lease and in the sockets it holds.
PROCESS_ID = f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"


class RedisPresenceStore:
    """The same, shared by every process: a sorted set of sockets per librarian (score = expiry)
    and one sorted set of librarians (score = connected until / disconnected since).

    With `leases` (the librarians' store), a socket is the member `<process> <socket id>`, each
    process's sockets are listed under its name, and a socket counts only while its process's lease
    key exists."""

    def __init__(self, url, prefix, *, leases=False, process=PROCESS_ID):
        self.redis = redis_client(url, socket_timeout=5, socket_connect_timeout=5, health_check_interval=30)
        self.prefix = prefix
        self.leases, self.process = leases, process

    def _member(self, socket_id):
        return f"{self.process} {socket_id}" if self.leases else socket_id

    def _lease(self, process):
        return f"{self.prefix}:lease:{process}"

    @property
    def _processes(self):
        return f"{self.prefix}:processes"

    def _process_sockets(self, process):
        return f"{self.prefix}:process-sockets:{process}"

    def _alive(self, processes):
        """The processes (bytes, as Redis gives them) among `processes` whose lease is alive."""
        processes = list(processes)
        if not processes:
            return set()
        pipe = self.redis.pipeline()
        for process in processes:
            pipe.exists(self._lease(process.decode()))
        return {process for process, alive in zip(processes, pipe.execute(), strict=True) if alive}

    def _counting(self, members_by_user):
        """{user: [(member, score)]} → the users with a socket that counts (its process alive)."""
        if not self.leases:
            return {user for user, members in members_by_user.items() if members}
        processes = {member.partition(b" ")[0] for members in members_by_user.values() for member, _ in members}
        alive = self._alive(processes)
        return {user for user, members in members_by_user.items()
                if any(member.partition(b" ")[0] in alive for member, _ in members)}

    def _sockets(self, user_id):
        return f"{self.prefix}:sockets:{user_id}"

    @property
    def _users(self):
        return f"{self.prefix}:users"

    @property
    def _announced(self):
        return f"{self.prefix}:announced"

    def beat(self, user_id, socket_id, ttl, now=None):
        now = time.time() if now is None else now
        key = self._sockets(user_id)
        pipe = self.redis.pipeline()
        pipe.zcount(key, f"({now}", "+inf")
        pipe.zadd(key, {self._member(socket_id): now + ttl})
        pipe.expire(key, int(ttl * 2) + 1)
        pipe.zadd(self._users, {str(user_id): now + ttl}, gt=True)  # GT still adds new members
        pipe.srem(self._announced, str(user_id))
        if self.leases:  # a process that beats is alive: its lease runs from now (reference.leases renews it)
            pipe.set(self._lease(self.process), "1", px=int(settings.PRESENCE_LEASE * 1000))
            pipe.sadd(self._processes, self.process)
            pipe.sadd(self._process_sockets(self.process), f"{user_id} {socket_id}")
            pipe.expire(self._process_sockets(self.process), int(ttl * 2) + 1)
        was = pipe.execute()[0]
        return not was

    def drop(self, user_id, socket_id, now=None):
        now = time.time() if now is None else now
        key = self._sockets(user_id)
        pipe = self.redis.pipeline()
        pipe.zrem(key, self._member(socket_id))
        pipe.zrangebyscore(key, f"({now}", "+inf", withscores=True)
        if self.leases:
            pipe.srem(self._process_sockets(self.process), f"{user_id} {socket_id}")
        live = pipe.execute()[1]
        return self._settle(user_id, live, now)

    def _settle(self, user_id, live, now):
        """Record until when the librarian counts, from their live sockets [(member, score)]."""
        if self.leases and live:
            alive = self._alive({member.partition(b" ")[0] for member, _ in live})
            live = [(member, score) for member, score in live if member.partition(b" ")[0] in alive]
        until = max((score for _member, score in live), default=now)
        self.redis.zadd(self._users, {str(user_id): until})
        return bool(live)

    def connected(self, user_ids, now=None):
        now = time.time() if now is None else now
        user_ids = list(user_ids)
        pipe = self.redis.pipeline()
        for user_id in user_ids:
            pipe.zrangebyscore(self._sockets(user_id), f"({now}", "+inf", withscores=True)
        return self._counting(dict(zip(user_ids, pipe.execute(), strict=True)))

    def lapsed(self, before):
        return [u.decode() for u in self.redis.zrangebyscore(self._users, "-inf", f"({before}")]

    def claim_announcement(self, user_id):
        return bool(self.redis.sadd(self._announced, str(user_id)))

    def forget(self, user_id):
        pipe = self.redis.pipeline()
        pipe.delete(self._sockets(user_id))
        pipe.zrem(self._users, str(user_id))
        pipe.srem(self._announced, str(user_id))
        pipe.execute()

    def take_sweep_turn(self, seconds):
        """One sweep per period across all processes."""
        return bool(self.redis.set(f"{self.prefix}:sweep", "1", nx=True, ex=max(1, int(seconds))))

    # ---- process leases (reference.leases)

    def renew_lease(self, ttl):
        """This process is alive for `ttl` more seconds."""
        self.redis.set(self._lease(self.process), "1", px=int(ttl * 1000))

    def reap(self, now=None):
        """Drop the sockets of every other process whose lease ran out, as if each had closed;
        one process reaps each (SREM decides). Returns the ids (str) of the librarians touched."""
        now = time.time() if now is None else now
        processes = self.redis.smembers(self._processes)
        touched = set()
        for process in processes - self._alive(processes):
            name = process.decode()
            if name == self.process or not self.redis.srem(self._processes, name):
                continue
            pipe = self.redis.pipeline()
            pipe.smembers(self._process_sockets(name))
            pipe.delete(self._process_sockets(name))
            sockets = pipe.execute()[0]
            pipe = self.redis.pipeline()
            for entry in sockets:
                user_id, _space, socket_id = entry.decode().partition(" ")
                pipe.zrem(self._sockets(user_id), f"{name} {socket_id}")
                touched.add(user_id)
            pipe.execute()
        for user_id in touched:
            self._settle(user_id, self.redis.zrangebyscore(self._sockets(user_id), f"({now}", "+inf",
                                                           withscores=True), now)
        return touched


def off_db_thread(function):
    """Run a store call in the thread pool, not in Channels' one database thread: beats must not
    wait behind a busy database, or librarians who are there would be taken for gone."""
    from asgiref.sync import sync_to_async

    return sync_to_async(function, thread_sensitive=False)


_stores = {}


def get_store(kind="librarians"):
    """The store the settings ask for: librarians' dashboards, or patrons' widgets (keys by id as
    str in Redis). Rebuilt when tests change the settings."""
    key = (kind, settings.REDIS_URL, settings.PRESENCE_PREFIX)
    if key not in _stores:
        prefix = settings.PRESENCE_PREFIX + ("" if kind == "librarians" else ":" + kind)
        _stores[key] = (RedisPresenceStore(settings.REDIS_URL, prefix, leases=kind == "librarians")
                        if settings.REDIS_URL else MemoryPresenceStore())
    return _stores[key]


def reset_store():
    _stores.clear()
