#!/usr/bin/env python
"""Flood benchmark (issue 19, "Abuse"): the floods an attacker tried, against a live daphne with the
default limits (docs/limits.md), while one normal patron chats with a librarian.

A measurement, not a test. It makes a fresh SQLite database (or uses DATABASE_URL / REDIS_URL from
the environment, as the server will), starts daphne itself on a free loopback port with
TRUSTED_PROXIES=127.0.0.1 (so each simulated client can come from its own address through
X-Forwarded-For, as behind a proxy), and then, one flood after the other:

1. messages: one patron sends 1,000 messages in 10 s into a chat the librarian holds;
2. typing: the same patron sends 500 typing frames in 5 s;
3. new chats: 300 `start`s within a minute (30 s here) from one address, with 30 tokens (each
   closes its chat and asks again);
4. FAQ searches: 1,000 `GET /api/faq/search` in 10 s from one address;
5. uploads: 20 files of 1 MB into the flooder's chat, 4 at a time;
6. transcript e-mails: every chat of flood 3 that got through asks three times for its transcript
   to one address, and an offline question asks for one.

Meanwhile the normal patron (its own address) sends a message every 0.5 s; its round trip (send →
ack) and delivery (send → the librarian's `message`) are reported per flood: p50, p95, max.
For each flood it prints what was sent, what got through and what was refused (by error code or
HTTP status). Every loop is bounded in count and time; targets are loopback only.

    .venv/bin/python bench/flood.py                    # the embedded default
    .venv/bin/python bench/flood.py --json /tmp/flood.json
"""

import argparse
import asyncio
import http.client
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

if __package__ in (None, ""):  # run as `python bench/flood.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.client import open_socket  # noqa: E402
from bench.common import REPO, daphne_command, free_port, percentile, say, stop, wait_for_port  # noqa: E402

NORMAL_ADDRESS = "198.51.100.10"
FLOOD_ADDRESS = "203.0.113.66"
CHATS_ADDRESS = "203.0.113.67"
SEARCH_ADDRESS = "203.0.113.68"


class Sock:
    """A protocol socket that keeps (time, frame) of everything it reads and wakes waiters."""

    def __init__(self, ws, name):
        self.ws, self.name, self.frames = ws, name, []
        self.more = asyncio.Event()
        self.listeners = []
        self.reader = asyncio.create_task(self.read())

    @classmethod
    async def open(cls, base, path, name, address=None, cookie=None):
        headers = {}
        if address:
            headers["X-Forwarded-For"] = address
        if cookie:
            headers["Cookie"] = cookie
        return cls(await open_socket(base + path, base, headers, timeout=10), name)

    async def read(self):
        try:
            async for raw in self.ws:
                now = time.perf_counter()
                frame = json.loads(raw)
                self.frames.append((now, frame))
                for listener in self.listeners:
                    listener(now, frame)
                self.more.set()
        except Exception:  # noqa: BLE001 - closed: what was read stays
            pass
        finally:
            self.more.set()

    async def send(self, **frame):
        await self.ws.send(json.dumps(frame))

    async def wait_for(self, test, timeout=15.0, after=0):
        """The first frame from the `after`-th one read on for which `test(frame)` is true."""
        deadline = time.monotonic() + timeout
        seen = after
        while True:
            for _t, frame in self.frames[seen:]:
                if test(frame):
                    return frame
            seen = len(self.frames)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"{self.name}: no matching frame in {timeout} s")
            self.more.clear()
            try:
                await asyncio.wait_for(self.more.wait(), remaining)
            except TimeoutError:
                pass

    async def hello(self, **fields):
        await self.send(type="hello", v=1, **fields)
        return await self.wait_for(lambda f: f["type"] in ("welcome",))

    async def close(self):
        self.reader.cancel()
        try:
            await self.ws.close()
        except Exception:  # noqa: BLE001
            pass


# ------------------------------------------------------------------------------------------------
# The normal patron: a message every 0.5 s, timed
# ------------------------------------------------------------------------------------------------


class NormalChat:
    def __init__(self, patron, desk, conversation_id):
        self.patron, self.desk, self.conversation_id = patron, desk, conversation_id
        self.sent, self.acked, self.delivered = {}, {}, {}  # client id -> perf time
        self.phase_of = {}
        self.phase = "before"
        self.refused = Counter()
        patron.listeners.append(self.on_patron)
        desk.listeners.append(self.on_desk)

    def on_patron(self, now, frame):
        if frame["type"] == "ack" and frame.get("client_id") in self.sent:
            self.acked.setdefault(frame["client_id"], now)
        elif frame["type"] == "error" and frame.get("ref") in self.sent:
            self.refused[frame["code"]] += 1

    def on_desk(self, now, frame):
        if frame["type"] == "message":
            client_id = frame["message"].get("client_id")
            if client_id in self.sent:
                self.delivered.setdefault(client_id, now)

    async def run(self, stop_event):
        k = 0
        while not stop_event.is_set() and k < 2000:
            client_id = f"normal-{k}"
            self.phase_of[client_id] = self.phase
            self.sent[client_id] = time.perf_counter()
            await self.patron.send(type="message", client_id=client_id, text=f"Pertanyaan biasa {k}")
            k += 1
            try:
                await asyncio.wait_for(stop_event.wait(), 0.5)
            except TimeoutError:
                pass

    def figures(self, phase):
        ids = [c for c, p in self.phase_of.items() if p == phase]

        def summary(arrived):
            values = sorted(arrived[c] - self.sent[c] for c in ids if c in arrived)
            return {"n": len(values), **{f"p{p}": _ms(percentile(values, p)) for p in (50, 95)},
                    "max": _ms(values[-1] if values else None)}

        return {"sent": len(ids), "ack": summary(self.acked), "delivered": summary(self.delivered)}


def _ms(seconds):
    return None if seconds is None else round(seconds * 1000, 1)


# ------------------------------------------------------------------------------------------------
# The floods
# ------------------------------------------------------------------------------------------------


async def paced(count, seconds, send):
    """Call `send(k)` `count` times spread evenly over `seconds` (absolute schedule)."""
    start = time.perf_counter()
    for k in range(count):
        await asyncio.sleep(max(0, start + k * seconds / count - time.perf_counter()))
        await send(k)


async def settle(sock, test, expected, timeout=15.0):
    """Wait until `expected` frames matching `test` have arrived (or `timeout`)."""
    deadline = time.monotonic() + timeout
    while sum(1 for _t, f in sock.frames if test(f)) < expected and time.monotonic() < deadline:
        await asyncio.sleep(0.1)


async def flood_messages(flooder, desk, conversation_id, count, seconds):
    ids = {f"flood-{k}" for k in range(count)}
    await paced(count, seconds, lambda k: flooder.send(type="message", client_id=f"flood-{k}", text=f"spam {k}"))
    answered = lambda f: f["type"] in ("ack", "error") and f.get("client_id", f.get("ref")) in ids  # noqa: E731
    await settle(flooder, answered, count)
    acks = sum(1 for _t, f in flooder.frames if f["type"] == "ack" and f.get("client_id") in ids)
    refused = Counter(f["code"] for _t, f in flooder.frames if f["type"] == "error" and f.get("ref") in ids)
    await asyncio.sleep(1)
    seen = sum(1 for _t, f in desk.frames if f["type"] == "message" and f["message"].get("client_id") in ids)
    return {"sent": count, "stored (ack)": acks, "reached the librarian": seen, "refused": dict(refused)}


async def flood_typing(flooder, desk, conversation_id, count, seconds):
    before_errors = sum(1 for _t, f in flooder.frames if f["type"] == "error" and f.get("ref") == "typing")
    before_seen = sum(1 for _t, f in desk.frames if f["type"] == "typing" and f.get("conversation") == conversation_id)
    await paced(count, seconds, lambda k: flooder.send(type="typing", active=k % 2 == 0))
    await flooder.send(type="ping")
    await flooder.wait_for(lambda f: f["type"] == "pong")
    await asyncio.sleep(1)
    errors = [f for _t, f in flooder.frames if f["type"] == "error" and f.get("ref") == "typing"][before_errors:]
    seen = sum(1 for _t, f in desk.frames if f["type"] == "typing" and f.get("conversation") == conversation_id)
    return {"sent": count, "reached the librarian": seen - before_seen,
            "error frames back": len(errors), "refused": dict(Counter(f["code"] for f in errors))}


async def flood_chats(base, tokens, total, seconds):
    """`total` starts from one address, spread over the tokens; an accepted chat is closed at once
    and its token asks again."""
    socks = [await Sock.open(base, "/ws/patron/", f"chats-{i}", CHATS_ADDRESS) for i in range(len(tokens))]
    for sock, token in zip(socks, tokens, strict=True):
        await sock.hello(token=token, lang="en")
    accepted, refused, conversations = 0, Counter(), []

    async def start(k):
        nonlocal accepted
        sock = socks[k % len(socks)]
        client_id = f"chat-{k}"
        await sock.send(type="start", client_id=client_id, text=f"Pertanyaan palsu {k}")
        frame = await sock.wait_for(lambda f: f.get("client_id") == client_id and f["type"] == "ack"
                                    or f["type"] == "error" and f.get("ref") == client_id)
        if frame["type"] == "ack":
            accepted += 1
            conversations.append((sock, frame["conversation"]))
            await sock.send(type="close")
        else:
            refused[frame["code"]] += 1

    # One start at a time per token, all tokens in parallel, paced over `seconds`.
    per_token = [[k for k in range(total) if k % len(socks) == i] for i in range(len(socks))]

    async def token_run(ks):
        start_at = time.perf_counter()
        for n, k in enumerate(ks):
            await asyncio.sleep(max(0, start_at + n * seconds / len(ks) - time.perf_counter()))
            await start(k)

    await asyncio.gather(*(token_run(ks) for ks in per_token))
    return socks, conversations, {"sent": total, "tokens": len(socks), "accepted": accepted, "refused": dict(refused)}


def http_request(base, method, path, *, headers=None, body=None, timeout=30):
    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


async def flood_searches(base, count, seconds, threads=8):
    statuses = Counter()
    pool = ThreadPoolExecutor(threads)
    loop = asyncio.get_running_loop()
    pending = []

    async def one(k):
        query = urlencode({"q": f"jam buka perpustakaan {k % 50}", "lang": "id"})
        pending.append(loop.run_in_executor(pool, lambda: http_request(
            base, "GET", f"/api/faq/search?{query}", headers={"X-Forwarded-For": SEARCH_ADDRESS})))

    await paced(count, seconds, one)
    for status in await asyncio.gather(*pending, return_exceptions=True):
        statuses[status if isinstance(status, int) else type(status).__name__] += 1
    pool.shutdown()
    return {"sent": count, "answered 200": statuses.get(200, 0), "refused 429": statuses.get(429, 0),
            "other": {str(k): v for k, v in statuses.items() if k not in (200, 429)}}


def multipart(fields, file_name, content, content_type):
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{file_name}"\r\n'
                 f"Content-Type: {content_type}\r\n\r\n".encode() + content + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


async def flood_uploads(base, token, conversation_id, count, size):
    content = b"%PDF-1.4\n" + b"0" * (size - 9)
    body, content_type = multipart({"conversation": conversation_id, "lang": "en"}, "big.pdf", content,
                                   "application/pdf")
    headers = {"Authorization": f"Bearer {token}", "Content-Type": content_type, "X-Forwarded-For": FLOOD_ADDRESS}
    started = time.perf_counter()
    with ThreadPoolExecutor(4) as pool:
        statuses = Counter(await asyncio.gather(*(
            asyncio.get_running_loop().run_in_executor(pool, lambda: http_request(
                base, "POST", "/widget/attachments/", headers=headers, body=body)) for _ in range(count))))
    return {"sent": count, "bytes each": size, "stored 201": statuses.get(201, 0), "refused 429": statuses.get(429, 0),
            "other": {str(k): v for k, v in statuses.items() if k not in (201, 429)},
            "seconds": round(time.perf_counter() - started, 2)}


async def flood_transcripts(conversations, base, offline_token, victim="victim@example.org"):
    sent, refused = 0, Counter()
    for sock, conversation_id in conversations:
        for _ in range(3):
            before = len(sock.frames)
            await sock.send(type="transcript.email", conversation=conversation_id, email=victim)
            frame = await sock.wait_for(lambda f: f["type"] == "transcript.sent" or f["type"] == "error"
                                        and f.get("ref") == "transcript.email", after=before)
            if frame["type"] == "transcript.sent":
                sent += 1
            else:
                refused[frame["code"]] += 1
    # An offline question: its answer goes by e-mail; no transcript on top.
    offline = await Sock.open(base, "/ws/patron/", "offline", FLOOD_ADDRESS)
    await offline.hello(token=offline_token, lang="en")
    await offline.send(type="start", client_id="offline-1", text="Kapan buka?", offline=True, email=victim)
    ack = await offline.wait_for(lambda f: f["type"] in ("ack", "error"))
    offline_answer = None
    if ack["type"] == "ack":
        await offline.send(type="transcript.email", conversation=ack["conversation"], email=victim)
        answer = await offline.wait_for(lambda f: f["type"] == "transcript.sent" or f["type"] == "error"
                                        and f.get("ref") == "transcript.email")
        offline_answer = answer.get("code", answer["type"])
    else:
        offline_answer = f"start refused: {ack.get('code')}"
    await offline.close()
    return {"asked": 3 * len(conversations), "sent": sent, "refused": dict(refused),
            "offline question": offline_answer}


# ------------------------------------------------------------------------------------------------
# Set-up and run
# ------------------------------------------------------------------------------------------------


def prepare(env, base):
    """Migrate (a fresh SQLite file unless DATABASE_URL is set) and make the desk, in this process."""
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=REPO, env=env, check=True)
    os.environ.update({k: v for k, v in env.items() if k in ("SQLITE_PATH", "DATABASE_URL", "REDIS_URL")})
    from bench.common import bench_setup

    return bench_setup("bench-flood", tokens=40, queue_name="Flood", site_name="Flood bench", origins=[base],
                       librarians=1, max_chats=8, user_prefix="bench-flood-", display_prefix="Flood")


async def main(args):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "TRUSTED_PROXIES": "127.0.0.1", "DJANGO_SETTINGS_MODULE": "chatserver.settings",
           "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
    workdir = tempfile.mkdtemp(prefix="rt-flood-")
    if not env.get("DATABASE_URL"):
        env["SQLITE_PATH"] = os.path.join(workdir, "flood.sqlite3")
    env["MEDIA_ROOT"] = os.path.join(workdir, "media")
    setup = await asyncio.to_thread(prepare, env, base)
    log = open(os.path.join(workdir, "daphne.log"), "w")
    server = subprocess.Popen(daphne_command(port), cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    results = {"database": setup["database"], "layer": setup["layer"], "floods": {}, "normal patron": {}}
    try:
        wait_for_port(port, server, "daphne")
        say(f"daphne on {base} (pid {server.pid}); log {log.name}")
        cookie = f"{setup['cookie_name']}={setup['sessions'][0][0]}"
        tokens = setup["tokens"]
        desk = await Sock.open(base, "/ws/librarian/", "desk", cookie=cookie)
        await desk.hello(lang="en")

        async def asked_and_claimed(sock, token, client_id, text):
            await sock.hello(token=token, lang="en")
            await sock.send(type="start", client_id=client_id, text=text)
            conversation_id = (await sock.wait_for(lambda f: f["type"] == "ack"))["conversation"]
            await desk.send(type="claim", conversation=conversation_id)
            await sock.wait_for(lambda f: f["type"] == "conversation" and f["conversation"]["status"] == "active")
            return conversation_id

        normal = await Sock.open(base, "/ws/patron/", "normal", NORMAL_ADDRESS)
        normal_id = await asked_and_claimed(normal, tokens[0], "n-start", "Ada buku sejarah Tebing Tinggi?")
        flooder = await Sock.open(base, "/ws/patron/", "flooder", FLOOD_ADDRESS)
        flood_id = await asked_and_claimed(flooder, tokens[1], "f-start", "Halo")

        chat = NormalChat(normal, desk, normal_id)
        stop_normal = asyncio.Event()
        normal_task = asyncio.create_task(chat.run(stop_normal))
        await asyncio.sleep(3)  # a baseline

        async def phase(name, coroutine):
            chat.phase = name
            say(f"flood: {name}")
            started = time.perf_counter()
            results["floods"][name] = await asyncio.wait_for(coroutine, args.step_timeout)
            results["floods"][name]["took s"] = round(time.perf_counter() - started, 1)
            chat.phase = "between"
            await asyncio.sleep(1)

        await phase("messages", flood_messages(flooder, desk, flood_id, args.messages, 10))
        await phase("typing", flood_typing(flooder, desk, flood_id, args.typing, 5))
        chat_socks, conversations = None, []

        async def chats_phase():
            nonlocal chat_socks, conversations
            chat_socks, conversations, figures = await flood_chats(base, tokens[2:32], args.chats, args.chats_seconds)
            return figures

        await phase("new chats", chats_phase())
        await phase("FAQ searches", flood_searches(base, args.searches, 10))
        await phase("uploads", flood_uploads(base, tokens[1], flood_id, args.uploads, 1024 * 1024))
        await phase("transcript e-mails", flood_transcripts(conversations, base, tokens[35]))
        stop_normal.set()
        await normal_task
        await asyncio.sleep(1)
        for name in ["before", *results["floods"].keys()]:
            results["normal patron"][name] = chat.figures(name)
        results["normal patron refused"] = dict(chat.refused)
        for sock in [*(chat_socks or []), normal, flooder, desk]:
            await sock.close()
    finally:
        stop(server)
        log.close()
    return results


def report(results):
    print(f"flood bench: {results['database']}, {results['layer']}, default limits (docs/limits.md)")
    print()
    print("flood                 what was sent / what got through / what was refused")
    for name, figures in results["floods"].items():
        print(f"  {name:20s}  {json.dumps(figures, ensure_ascii=False)}")
    print()
    print("normal patron (a message every 0.5 s): round trip send → ack, and send → librarian, ms")
    print(f"  {'during':20s} {'sent':>5s}  {'ack p50':>8s} {'p95':>7s} {'max':>7s}   "
          f"{'deliv p50':>9s} {'p95':>7s} {'max':>7s}")
    for name, f in results["normal patron"].items():
        a, d = f["ack"], f["delivered"]
        print(f"  {name:20s} {f['sent']:5d}  {a['p50']!s:>8s} {a['p95']!s:>7s} {a['max']!s:>7s}   "
              f"{d['p50']!s:>9s} {d['p95']!s:>7s} {d['max']!s:>7s}")
    print(f"  the normal patron's messages refused: {results['normal patron refused'] or 'none'}")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=1000, help="messages in the message flood (10 s)")
    parser.add_argument("--typing", type=int, default=500, help="typing frames (5 s)")
    parser.add_argument("--chats", type=int, default=300, help="new chats from one address")
    parser.add_argument("--chats-seconds", type=float, default=30, help="over how many seconds (≤ 60)")
    parser.add_argument("--searches", type=int, default=1000, help="FAQ searches (10 s)")
    parser.add_argument("--uploads", type=int, default=20, help="1 MB uploads")
    parser.add_argument("--step-timeout", type=float, default=120, help="the longest one flood may take")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    for name in ("messages", "typing", "chats", "searches", "uploads"):
        if not 0 < getattr(args, name) <= 5000:
            parser.error(f"--{name} must be 1 … 5000")
    if not 0 < args.chats_seconds <= 60:
        parser.error("--chats-seconds must be within a minute")
    return args


if __name__ == "__main__":
    arguments = parse_args()
    figures = asyncio.run(asyncio.wait_for(main(arguments), 900))
    report(figures)
    if arguments.json:
        Path(arguments.json).write_text(json.dumps(figures, indent=1, ensure_ascii=False))
