"""Abuse limits (issue 19): per patron token, per client address and per staff account, counted in
process or in Redis, failing open when the counters cannot be reached (reference.limits)."""

import asyncio
import socket
import uuid

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings as django_settings
from django.core import mail
from django.test import Client

from chatserver.asgi import application
from reference import frames, lifecycle, limits
from reference.errors import ServiceError
from reference.tokens import issue_patron_token
from tests import files
from tests.starting import held_chat, start_chat
from tests.wsclient import ORIGIN, TIMEOUT, Socket, ask, librarian_socket, open_chat, patron_socket

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


async def patron_from(address, token, forwarded_for=None, **hello):
    """A patron's socket whose peer (ASGI scope["client"]) is `address`."""
    headers = [ORIGIN] + ([(b"x-forwarded-for", forwarded_for.encode())] if forwarded_for else [])

    async def app(scope, receive, send):
        return await application({**scope, "client": [address, 50000]}, receive, send)

    communicator = WebsocketCommunicator(app, "/ws/patron/", headers=headers)
    connected, _ = await communicator.connect(timeout=TIMEOUT)
    assert connected
    patron = Socket(communicator)
    await patron.hello(token=token, **hello)
    return patron


def new_token(make_identity):
    identity = make_identity()
    return issue_patron_token(identity.site_key, identity.patron_id)


# ---- addresses


@pytest.mark.parametrize(("peer", "forwarded", "trusted", "expected"), [
    ("203.0.113.5", "", [], "203.0.113.5"),
    ("203.0.113.5", "198.51.100.7", [], "203.0.113.5"),                     # an untrusted peer's header is ignored
    ("10.0.0.2", "198.51.100.7", ["10.0.0.0/8"], "198.51.100.7"),
    ("10.0.0.2", "6.6.6.6, 198.51.100.7", ["10.0.0.0/8"], "198.51.100.7"),  # what the client wrote is not believed
    ("10.0.0.2", "198.51.100.7, 10.0.0.9", ["10.0.0.0/8"], "198.51.100.7"),  # two proxies of ours
    ("10.0.0.2", "not-an-ip, 10.0.0.9", ["10.0.0.0/8"], "10.0.0.2"),
    ("10.0.0.2", "", ["10.0.0.2"], "10.0.0.2"),
    (None, "198.51.100.7", ["10.0.0.0/8"], None),
])
def test_the_client_address_believes_only_trusted_proxies(settings, peer, forwarded, trusted, expected):
    settings.TRUSTED_PROXIES = trusted
    assert limits.client_address(peer, forwarded) == expected


def test_an_address_is_kept_only_as_a_keyed_hash(settings):
    key = limits.address_key("203.0.113.5")
    assert len(key) == 64 and int(key, 16) and "203" not in key
    assert limits.address_key("203.0.113.5") == key != limits.address_key("203.0.113.6")
    # An IPv6 client has a whole /64: it counts as one address.
    assert limits.address_key("2001:db8::1") == limits.address_key("2001:db8::ffff:1")
    assert limits.address_key("2001:db8::1") != limits.address_key("2001:db8:0:1::1")
    assert limits.address_key("") == "" and limits.address_key(None) == ""
    settings.SECRET_KEY = "another key"
    assert limits.address_key("203.0.113.5") != key


# ---- patron messages


async def test_a_flood_of_messages_is_refused_with_when_to_retry(identity, token_for, librarian, settings):
    settings.RT_LIMIT_MESSAGES_PER_PATRON = "5/minute"
    patron, desk, conversation_id = await open_chat(librarian, token_for(identity), lang="en")
    for k in range(8):
        await patron.send({"type": "message", "client_id": f"f-{k}", "text": f"flood {k}"})
    answers = [await patron.receive_type("ack", "error") for _ in range(8)]
    assert [a["type"] for a in answers] == ["ack"] * 5 + ["error"] * 3
    refused = answers[-1]
    assert refused["code"] == "rate_limited" and refused["ref"] == "f-7"
    assert isinstance(refused["retry_after"], int) and 1 <= refused["retry_after"] <= 60
    assert f"wait {refused['retry_after']} seconds" in refused["message"]
    # The librarian got the five, no more.
    texts = [(await desk.receive_type("message"))["message"]["text"] for _ in range(5)]
    assert texts == [f"flood {k}" for k in range(5)]
    assert await desk.nothing_more()
    await patron.close()
    await desk.close()


async def test_the_default_message_limit_lets_a_fast_typist_through(chat):
    """A burst such as the outbox re-sending what was typed offline (40 at once) passes."""
    patron, desk, conversation_id = chat
    for k in range(40):
        await patron.send({"type": "message", "client_id": f"t-{k}", "text": f"ketik {k}"})
    answers = [await patron.receive_type("ack", "error") for _ in range(40)]
    assert {a["type"] for a in answers} == {"ack"}


async def test_messages_are_counted_per_address_across_tokens(make_identity, librarian, settings):
    settings.RT_LIMIT_MESSAGES_PER_ADDRESS = "3/minute"
    desk = await librarian_socket(librarian)
    first = await patron_from("198.51.100.20", new_token(make_identity), lang="en")
    second = await patron_from("198.51.100.20", new_token(make_identity), lang="en")
    elsewhere = await patron_from("198.51.100.21", new_token(make_identity), lang="en")
    await ask(first, client_id="a-1")        # `start` is not a message: it has its own limit
    await ask(second, client_id="b-1")
    await ask(elsewhere, client_id="c-1")
    for k in range(2):
        await first.send({"type": "message", "client_id": f"a-m{k}", "text": "satu"})
        await first.receive_type("ack")
    await second.send({"type": "message", "client_id": "b-m0", "text": "dua"})
    await second.receive_type("ack")
    await second.send({"type": "message", "client_id": "b-m1", "text": "tiga"})
    assert (await second.receive_type("error"))["code"] == "rate_limited"
    await elsewhere.send({"type": "message", "client_id": "c-m0", "text": "lain"})
    await elsewhere.receive_type("ack")
    for s in (first, second, elsewhere, desk):
        await s.close()


# ---- typing


async def test_excess_typing_is_dropped_without_fan_out_and_told_once(identity, token_for, librarian, settings):
    settings.RT_LIMIT_TYPING_PER_PATRON = "3/minute"
    patron, desk, conversation_id = await open_chat(librarian, token_for(identity))
    for k in range(30):
        await patron.send({"type": "typing", "active": k % 2 == 0})
    await patron.send({"type": "ping"})
    errors = []
    while (frame := await patron.receive_type("error", "pong"))["type"] != "pong":
        errors.append(frame)
    assert [(e["code"], e["ref"]) for e in errors] == [("rate_limited", "typing")]
    assert errors[0]["retry_after"] >= 1
    shown = []
    while not await desk.nothing_more():
        frame = await desk.receive()
        if frame["type"] == "typing":
            shown.append(frame)
    assert len(shown) == 3
    await patron.close()
    await desk.close()


# ---- new chats


async def test_new_chats_are_limited_per_token_and_per_address(make_identity, settings):
    settings.RT_LIMIT_CHATS_PER_ADDRESS = "3/minute"
    settings.RT_LIMIT_CHATS_PER_PATRON = "2/minute"
    one = await patron_from("198.51.100.30", new_token(make_identity), lang="en")
    await ask(one, client_id="x-1")
    await one.send({"type": "close"})
    await one.receive_type("conversation")
    await ask(one, client_id="x-2")
    await one.send({"type": "close"})
    await one.receive_type("conversation")
    await one.send({"type": "start", "client_id": "x-3", "text": "lagi"})
    error = await one.receive_type("error")
    assert (error["code"], error["ref"]) == ("rate_limited", "x-3")
    # The address has one start left (of three): a second token uses it, a third is refused.
    others = [await patron_from("198.51.100.30", new_token(make_identity)) for _ in range(2)]
    await ask(others[0], client_id="y-1")
    await others[1].send({"type": "start", "client_id": "z-1", "text": "halo"})
    assert (await others[1].receive_type("error"))["code"] == "rate_limited"
    fresh = await patron_from("198.51.100.31", new_token(make_identity))
    await ask(fresh, client_id="w-1")
    for s in (one, *others, fresh):
        await s.close()


async def test_a_school_lab_behind_one_address_can_all_ask_with_the_defaults(make_identity):
    """Thirty pupils behind one address (the default allows 40 new chats a minute from one address)."""
    pupils = [await patron_from("198.51.100.40", new_token(make_identity)) for _ in range(30)]
    for n, pupil in enumerate(pupils):
        await pupil.send({"type": "start", "client_id": f"pupil-{n}", "text": f"Buku tentang dinosaurus {n}?"})
    answers = [await pupil.receive_type("ack", "error") for pupil in pupils]
    assert {a["type"] for a in answers} == {"ack"}
    for pupil in pupils:
        await pupil.close()


async def test_behind_a_trusted_proxy_the_forwarded_address_counts(make_identity, settings):
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    settings.RT_LIMIT_CHATS_PER_ADDRESS = "1/minute"
    a = await patron_from("127.0.0.1", new_token(make_identity), forwarded_for="198.51.100.50")
    b = await patron_from("127.0.0.1", new_token(make_identity), forwarded_for="198.51.100.51")
    c = await patron_from("127.0.0.1", new_token(make_identity), forwarded_for="198.51.100.50")
    await ask(a, client_id="a")
    await ask(b, client_id="b")
    await c.send({"type": "start", "client_id": "c", "text": "halo"})
    assert (await c.receive_type("error"))["code"] == "rate_limited"
    for s in (a, b, c):
        await s.close()


# ---- librarians


async def test_librarian_messages_are_limited_per_staff_account(chat, settings):
    settings.RT_LIMIT_MESSAGES_PER_STAFF = "2/minute"
    patron, desk, conversation_id = chat
    for k in range(3):
        await desk.send({"type": "message", "conversation": conversation_id, "client_id": f"l-{k}", "text": "ok"})
    answers = [await desk.receive_type("ack", "error") for _ in range(3)]
    assert [a["type"] for a in answers] == ["ack", "ack", "error"]
    assert answers[2]["code"] == "rate_limited" and answers[2]["retry_after"] >= 1


# ---- uploads (HTTP)


@pytest.fixture
def uploading(db, identity):
    conversation, _message, _created = start_chat(identity=identity, text="Foto?", client_id="p-1")
    token = issue_patron_token(identity.site_key, identity.patron_id)
    return conversation, Client(headers={"authorization": f"Bearer {token}"})


def post_png(client, conversation, **extra):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post("/widget/attachments/", {"conversation": str(conversation.pk), "lang": "en",
                                                "file": SimpleUploadedFile("a.png", files.png(), "image/png")}, **extra)


def test_uploads_are_limited_in_number_with_a_429_and_retry_after(uploading, settings):
    settings.RT_LIMIT_UPLOADS_PER_PATRON = "2/minute"
    conversation, client = uploading
    assert [post_png(client, conversation).status_code for _ in range(2)] == [201, 201]
    refused = post_png(client, conversation)
    assert refused.status_code == 429
    body = refused.json()
    assert body["error"] == "rate_limited" and int(refused["Retry-After"]) == body["retry_after"] >= 1
    assert f"wait {body['retry_after']} seconds" in body["message"]


def test_uploads_are_limited_in_bytes_per_address(uploading, make_identity, settings):
    settings.RT_LIMIT_UPLOAD_BYTES_PER_ADDRESS = "1500/hour"  # a tiny PNG: a request of ~400 bytes
    settings.RT_LIMIT_UPLOADS_PER_PATRON = ""  # (no limit: here the address's bytes are what counts)
    conversation, client = uploading
    statuses = [post_png(client, conversation, REMOTE_ADDR="198.51.100.60").status_code for _ in range(8)]
    assert statuses[0] == 201 and statuses[-1] == 429 and set(statuses) == {201, 429}
    assert post_png(client, conversation, REMOTE_ADDR="198.51.100.61").status_code == 201


# ---- transcript e-mails


def closed_chat(identity, librarian, email="rina@example.id"):
    conversation = held_chat(identity=identity, librarian=librarian)
    lifecycle.do_close_by_librarian(user=librarian, conversation_id=conversation.pk)
    return conversation.pk


async def test_transcripts_to_one_recipient_are_limited_across_patrons(make_identity, librarian, settings):
    settings.RT_LIMIT_TRANSCRIPTS_PER_RECIPIENT = "2/hour"
    sent = []
    for n in range(3):
        identity = make_identity()
        conversation_id = await database_sync_to_async(closed_chat)(identity, librarian)
        patron = await patron_socket(issue_patron_token(identity.site_key, identity.patron_id), lang="en")
        await patron.send({"type": "transcript.email", "conversation": conversation_id, "email": "Victim@Example.org"})
        sent.append(await patron.receive_type("transcript.sent", "error"))
        if n == 2:  # another recipient is still fine
            await patron.send({"type": "transcript.email", "conversation": conversation_id,
                               "email": "rina@example.org"})
            assert (await patron.receive_type("transcript.sent"))["email"] == "rina@example.org"
        await patron.close()
    assert [s["type"] for s in sent] == ["transcript.sent", "transcript.sent", "error"]
    assert sent[2]["code"] == "rate_limited"
    assert [m.to for m in mail.outbox] == [["Victim@Example.org"], ["Victim@Example.org"], ["rina@example.org"]]


async def test_transcripts_are_limited_per_address(identity, librarian, settings):
    settings.RT_LIMIT_TRANSCRIPTS_PER_ADDRESS = "1/hour"
    conversation_id = await database_sync_to_async(closed_chat)(identity, librarian)
    patron = await patron_from("198.51.100.70", issue_patron_token(identity.site_key, identity.patron_id))
    await patron.send({"type": "transcript.email", "conversation": conversation_id, "email": "a@example.org"})
    await patron.receive_type("transcript.sent")
    await patron.send({"type": "transcript.email", "conversation": conversation_id, "email": "b@example.org"})
    assert (await patron.receive_type("error"))["code"] == "rate_limited"
    assert len(mail.outbox) == 1
    await patron.close()


async def test_no_transcript_for_a_question_left_offline(identity, token_for):
    patron = await patron_socket(token_for(identity), lang="en")
    await patron.send({"type": "start", "client_id": "q-1", "text": "Do you lend e-books?", "offline": True,
                       "email": "rina@example.org"})
    conversation_id = (await patron.receive_type("ack"))["conversation"]
    await patron.send({"type": "transcript.email", "conversation": conversation_id, "email": "x@example.org"})
    error = await patron.receive_type("error")
    assert error["code"] == "transcript_offline" and "by email" in error["message"]
    assert [m.to for m in mail.outbox] == []
    await patron.close()


# ---- FAQ searches (HTTP)


def test_faq_searches_are_limited_per_address(client, settings):
    settings.RT_LIMIT_FAQ_SEARCHES_PER_ADDRESS = "3/minute"
    answers = [client.get("/api/faq/search", {"q": "jam buka", "lang": "en"}, HTTP_ACCEPT_LANGUAGE="en")
               for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    body = answers[-1].json()
    assert body["code"] == "rate_limited" and int(answers[-1]["Retry-After"]) == body["retry_after"]
    assert "seconds" in body["error"]
    page = client.get("/faq/search", {"q": "jam buka"}, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 429 and "Please wait" in page.content.decode() and page["Retry-After"]
    other = client.get("/api/faq/search", {"q": "jam buka", "lang": "en"}, REMOTE_ADDR="198.51.100.80")
    assert other.status_code == 200


def test_staff_searches_count_per_account_not_per_address(client, librarian, settings):
    settings.RT_LIMIT_FAQ_SEARCHES_PER_ADDRESS = "1/minute"
    settings.RT_LIMIT_FAQ_SEARCHES_PER_STAFF = "3/minute"
    client.force_login(librarian)
    statuses = [client.get("/api/faq/search", {"q": "jam", "lang": "id", "log": "0"}).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert Client().get("/api/faq/search", {"q": "jam", "lang": "id"}).status_code == 200


# ---- the error frame


def test_the_error_frame_carries_retry_after_only_when_given():
    with_it = frames.error(ServiceError("rate_limited", retry_after=7))
    assert with_it["retry_after"] == 7
    assert "retry_after" not in frames.error(ServiceError("empty_message"))


# ---- the counters' storage: Redis for real, and failing open


def _redis_url():
    url = django_settings.REDIS_URL or "redis://127.0.0.1:6379/11"
    host, port = "127.0.0.1", 6379
    try:
        with socket.create_connection((host, port), 1):
            return url
    except OSError:
        return None


@pytest.fixture
def redis_counters(settings):
    url = _redis_url()
    if url is None or url.startswith("sentinel"):
        pytest.skip("no Redis at 127.0.0.1:6379 to count in")
    import redis

    settings.REDIS_URL = url
    settings.LIMITS_PREFIX = f"rt:test-limits:{uuid.uuid4().hex[:8]}"
    limits.reset()
    yield url
    limits.reset()
    client = redis.Redis.from_url(url)
    for key in client.scan_iter(settings.LIMITS_PREFIX + "*"):
        client.delete(key)
    client.close()


async def test_redis_counters_are_shared_by_the_loop_and_the_threads(redis_counters, settings):
    import redis

    settings.RT_LIMIT_MESSAGES_PER_PATRON = "3/minute"
    pair = (limits.MESSAGES_PER_PATRON, "patron-1")
    assert await limits.ahit(pair) == 0
    assert await asyncio.to_thread(limits.hit, pair) == 0  # the sync storage, on a thread
    assert await limits.ahit(pair) == 0
    with pytest.raises(ServiceError) as refused:
        await asyncio.to_thread(limits.check, pair)
    assert refused.value.code == "rate_limited" and refused.value.params["retry_after"] >= 1
    keys = redis.Redis.from_url(redis_counters).keys(settings.LIMITS_PREFIX + "*")
    assert keys  # really in Redis
    await limits.remember_address("patron-1", "abc")
    assert await asyncio.to_thread(limits.remembered_address, "patron-1") == "abc"


async def test_redis_limits_hold_for_a_patron_socket(redis_counters, identity, token_for, librarian, settings):
    settings.RT_LIMIT_MESSAGES_PER_PATRON = "2/minute"
    patron, desk, conversation_id = await open_chat(librarian, token_for(identity))
    for k in range(3):
        await patron.send({"type": "message", "client_id": f"r-{k}", "text": "x"})
    answers = [await patron.receive_type("ack", "error") for _ in range(3)]
    assert [a["type"] for a in answers] == ["ack", "ack", "error"]
    await patron.close()
    await desk.close()


def _closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens once the socket is closed


async def test_unreachable_counters_fail_open_with_a_warning(settings, caplog):
    settings.REDIS_URL = f"redis://127.0.0.1:{_closed_port()}/0"
    settings.RT_LIMIT_MESSAGES_PER_PATRON = "1/minute"
    limits.reset()
    pair = (limits.MESSAGES_PER_PATRON, "patron-2")
    with caplog.at_level("WARNING", logger="reference.limits"):
        for _ in range(5):
            await limits.acheck(pair)
            await asyncio.to_thread(limits.check, pair)
    assert "cannot be reached" in caplog.text
    await limits.remember_address("patron-2", "abc")
    assert await asyncio.to_thread(limits.remembered_address, "patron-2") == ""
    limits.reset()


def test_an_outage_stands_the_limits_aside_and_then_counts_again(settings):
    settings.REDIS_URL = f"redis://127.0.0.1:{_closed_port()}/0"
    settings.RT_LIMIT_MESSAGES_PER_PATRON = "1/minute"
    limits.reset()
    pair = (limits.MESSAGES_PER_PATRON, "patron-3")
    limits.check(pair)
    assert limits._in_outage()
    settings.REDIS_URL = ""  # the storage is back (here: in process)
    limits.reset()
    limits.check(pair)
    with pytest.raises(ServiceError):
        limits.check(pair)



def test_rt_limits_off_lets_everything_through(settings):
    settings.RT_LIMIT_MESSAGES_PER_PATRON = "1/minute"
    settings.RT_LIMITS = False
    for _ in range(5):
        limits.check((limits.MESSAGES_PER_PATRON, "bench-patron"))
    settings.RT_LIMITS = True
    limits.check((limits.MESSAGES_PER_PATRON, "bench-patron"))
    with pytest.raises(ServiceError):
        limits.check((limits.MESSAGES_PER_PATRON, "bench-patron"))
