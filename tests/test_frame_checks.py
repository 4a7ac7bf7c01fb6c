"""Every bad frame is answered with an error frame, changes nothing, and leaves the socket usable;
only the documented client frames reach a handler; a logout closes the session's staff sockets."""

import json
import re
from pathlib import Path

import pytest
from channels.db import database_sync_to_async
from django.test import Client

from reference.consumers import LibrarianConsumer, PatronConsumer
from reference.consumers.staff_page import StaffPageConsumer
from reference.models import Conversation, Message, Patron
from tests.wsclient import ask, connect, librarian_socket, patron_socket, session_cookie

pytestmark = pytest.mark.django_db(transaction=True)  # asyncio_mode = auto runs the async ones

PROTOCOL = Path(__file__).resolve().parent.parent / "docs" / "protocol.md"


def documented_client_frames(heading):
    """The `type`s of the client → server table in the section of docs/protocol.md under `heading`."""
    section = PROTOCOL.read_text(encoding="utf-8").split(heading, 1)[1].split("\n## ", 1)[0]
    table = section.split("| type | fields | answer |", 1)[1].split("\n\n", 1)[0]
    return set(re.findall(r"^\| `([a-z.]+)` \|", table, flags=re.M))


@pytest.mark.parametrize("heading, consumer", [
    ("## Patron endpoint `/ws/patron/`", PatronConsumer),
    ("## Librarian endpoint `/ws/librarian/`", LibrarianConsumer),
    ("## Staff page endpoint `/ws/staff/`", StaffPageConsumer),
])
def test_each_endpoint_answers_exactly_the_frames_its_table_documents(heading, consumer):
    documented = documented_client_frames(heading)
    assert documented, f"docs/protocol.md has no client frame table under {heading}"
    assert consumer.frame_types == documented
    for kind in documented - {"hello"}:
        assert callable(getattr(consumer, "on_" + kind.replace(".", "_"), None)), f"{kind} has no handler"


def with_raw(frame, raw):
    """`frame` as JSON text, with the value "@RAW@" replaced by the JSON text `raw` as it is."""
    return json.dumps(frame).replace('"@RAW@"', raw)


async def answer(socket, frame):
    await socket.send(frame if isinstance(frame, str) else json.dumps(frame, ensure_ascii=True))
    return await socket.receive()


async def still_answers(socket):
    await socket.send({"type": "ping"})
    assert (await socket.receive_type("pong"))["type"] == "pong"


# Names of methods of the consumers, the channel layer's events and ASGI's messages: none is a frame.
INTERNAL_NAMES = ["group.frame", "group_frame", "frame.out", "frame_out", "session.ended", "websocket.disconnect",
                  "websocket.receive", "send.frame", "fail", "beat", "disconnect", "dispatch.frame", "hello_timeout",
                  "__init__", "on.ping", ""]


@pytest.mark.parametrize("kind", INTERNAL_NAMES)
async def test_a_type_that_names_an_internal_method_is_unknown(identity, token_for, kind):
    patron = await patron_socket(token_for(identity))
    error = await answer(patron, {"type": kind})
    assert (error["type"], error["code"]) == ("error", "unknown_type")
    await still_answers(patron)
    await patron.close()


async def test_the_librarian_socket_refuses_internal_names_too(librarian):
    desk = await librarian_socket(librarian)
    for kind in ("group.frame", "session.ended", "frame.out"):
        error = await answer(desk, {"type": kind, "frame": {"type": "message"}, "group": "staff"})
        assert error["code"] == "unknown_type"
    await still_answers(desk)
    await desk.close()


# Lone surrogates and NUL, written as JSON escapes (what a client can send in valid UTF-8).
BAD_TEXT = ['"a\\ud800b"', '"\\udfff"', '"x\\u0000y"', '"\\u0000"']


@pytest.mark.parametrize("bad", BAD_TEXT)
async def test_not_text_in_the_type_client_id_or_text_is_refused_and_nothing_is_stored(chat, bad):
    patron, desk, conversation_id = chat
    count = database_sync_to_async(Message.objects.filter(conversation_id=conversation_id).count)
    before = await count()
    for raw, field in [
        (with_raw({"type": "@RAW@"}, bad), "type"),
        (with_raw({"type": "message", "client_id": "@RAW@", "text": "halo"}, bad), "client_id"),
        (with_raw({"type": "message", "client_id": "p-9", "text": "@RAW@"}, bad), "text"),
    ]:
        error = await answer(patron, raw)
        assert (error["code"], error["field"]) == ("invalid_text", field), raw
        assert error["message"]
    await still_answers(patron)
    assert await count() == before


@pytest.mark.parametrize("bad", BAD_TEXT)
async def test_not_text_in_a_question_name_or_e_mail_is_refused(identity, token_for, bad):
    patron = await patron_socket(token_for(identity))
    for field in ("text", "name", "email", "card"):
        values = {"text": "Buka hari Minggu?", "name": "Rina", "email": "rina@example.id", "card": "TT-1234"}
        error = await answer(patron, with_raw({"type": "start", "client_id": "p-1", **values, field: "@RAW@"}, bad))
        assert (error["code"], error["field"]) == ("invalid_text", field)
    await still_answers(patron)
    assert not await database_sync_to_async(Conversation.objects.exists)()
    await patron.close()


async def test_not_text_in_a_rating_comment_or_a_note_is_refused(chat):
    patron, desk, conversation_id = chat
    error = await answer(desk, with_raw({"type": "note", "conversation": conversation_id, "text": "@RAW@"},
                                        '"ok\\u0000"'))
    assert (error["code"], error["field"]) == ("invalid_text", "text")
    await still_answers(desk)
    error = await answer(patron, with_raw({"type": "rate", "conversation": conversation_id, "rating": 5,
                                          "comment": "@RAW@"}, '"\\ud83d"'))
    assert (error["code"], error["field"]) == ("invalid_text", "comment")
    await still_answers(patron)


async def test_a_key_that_is_not_text_is_refused(identity, token_for):
    patron = await patron_socket(token_for(identity))
    error = await answer(patron, '{"type": "ping", "\\ud800": 1}')
    assert error["code"] == "invalid_text"
    await still_answers(patron)
    await patron.close()


@pytest.mark.parametrize("depth", [9, 50, 20_000, 32_000])
async def test_deep_nesting_under_the_size_limit_is_refused(identity, token_for, depth):
    patron = await patron_socket(token_for(identity))
    raw = '{"type": "survey", "conversation": 1, "answers": %s}' % ("[" * depth + "]" * depth)
    assert len(raw) < 65_536
    error = await answer(patron, raw)
    assert error["code"] in {"frame_too_deep", "bad_json"}
    await still_answers(patron)
    await patron.close()


async def test_documented_nesting_still_passes(chat):
    patron, desk, conversation_id = chat
    await desk.send({"type": "close", "conversation": conversation_id})
    await patron.receive_type("conversation")
    error = await answer(patron, {"type": "survey", "conversation": conversation_id,
                                  "answers": [{"question": 99999, "answer": "yes"}]})
    assert error["code"] == "unknown_survey_question"  # got past parsing to the rules


@pytest.mark.parametrize("value", [10**30, -(10**30), 2**63, 1.5, "12", True, [1]])
async def test_ids_out_of_range_or_of_another_kind_are_invalid(chat, value):
    patron, desk, conversation_id = chat
    for socket, frame in [
        (desk, {"type": "claim", "conversation": value}),
        (desk, {"type": "fetch", "conversation": value, "after": 0}),
        (desk, {"type": "fetch", "conversation": conversation_id, "after": value}),
        (patron, {"type": "read", "conversation": value, "seq": 1}),
        (patron, {"type": "rate", "conversation": value, "rating": 5}),
        (desk, {"type": "transfer", "conversation": conversation_id, "to_queue": value}),
        (desk, {"type": "assess", "conversation": conversation_id, "topics": [value]}),
    ]:
        error = await answer(socket, frame)
        assert error["code"] == "invalid_frame", (frame, error)
    await still_answers(patron)
    await still_answers(desk)


@pytest.mark.parametrize("since", [{"1" * 30: 0}, {"²": 0}, {"-1": 0}, {"1": 10**30}, {"1": -1}, {"1": "x"}])
async def test_a_resume_point_out_of_range_is_invalid(librarian, since):
    desk = await librarian_socket(librarian, hello=False)
    error = await answer(desk, {"type": "hello", "v": 1, "since": since})
    assert (error["code"], error["field"]) == ("invalid_frame", "since")
    await desk.hello()  # and a good hello after it works
    await desk.close()


@pytest.mark.parametrize("length", [255, 300, 320])
async def test_an_e_mail_longer_than_its_column_is_invalid(identity, token_for, length):
    address = "a" * 60 + "@" + ".".join(["b" * 60] * 5)
    address = address[:length - 3] + ".id"
    assert len(address) == length
    patron = await patron_socket(token_for(identity))
    error = await answer(patron, {"type": "start", "client_id": "p-1", "text": "Buka?", "email": address,
                                  "offline": True})
    assert error["code"] == "invalid_email"
    assert not await database_sync_to_async(Patron.objects.filter(email=address).exists)()
    await patron.close()


async def test_a_question_with_an_e_mail_of_254_characters_is_kept(identity, token_for):
    address = ("a" * 60 + "@" + ".".join(["b" * 60] * 4))[:251] + ".id"
    assert len(address) == 254
    patron = await patron_socket(token_for(identity))
    await ask(patron, email=address, offline=True)
    assert await database_sync_to_async(Patron.objects.filter(email=address).exists)()
    await patron.close()


async def test_binary_frames_and_non_objects_are_bad_json(identity, token_for):
    patron = await patron_socket(token_for(identity))
    await patron.communicator.send_to(bytes_data=b"\x00\xff")
    assert (await patron.receive())["code"] == "bad_json"
    for raw in ["[]", "1", "null", '"hello"', "{", "NaN"]:
        assert (await answer(patron, raw))["code"] in {"bad_json", "unknown_type"}, raw
    await still_answers(patron)
    await patron.close()


async def test_a_frame_over_the_size_limit_is_refused(identity, token_for):
    patron = await patron_socket(token_for(identity))
    error = await answer(patron, json.dumps({"type": "message", "client_id": "p-2", "text": "x" * 70_000}))
    assert error["code"] == "frame_too_large"
    await still_answers(patron)
    await patron.close()


def log_out(cookie_header):
    """Log the session of `cookie_header` out, as the dashboard's logout button does."""
    name, _eq, value = cookie_header.decode().partition("=")
    client = Client()
    client.cookies[name] = value
    response = client.post("/logout/")
    assert response.status_code == 302


async def test_a_logout_closes_that_sessions_staff_sockets_and_no_others(librarian):
    cookie = await session_cookie(librarian)
    other_cookie = await session_cookie(librarian)  # the same librarian, logged in elsewhere
    desk = await connect("/ws/librarian/", [cookie])
    await desk.hello()
    page = await connect("/ws/staff/", [cookie])
    await page.hello()
    elsewhere = await connect("/ws/librarian/", [other_cookie])
    await elsewhere.hello()

    await database_sync_to_async(log_out)(cookie[1])

    for socket in (desk, page):
        error = await socket.receive_type("error")
        assert error["code"] == "logged_out" and error["message"]
        assert await socket.closed_with() == 4403
    await still_answers(elsewhere)
    await elsewhere.close()


def raw_websocket(base_url, path):
    """A WebSocket opened by hand, so a test can send what no client library would."""
    import base64
    import os
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(base_url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=10)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall((f"GET {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nOrigin: {base_url}\r\n\r\n").encode())
    answer = b""
    while b"\r\n\r\n" not in answer:
        answer += sock.recv(4096)
    assert b" 101 " in answer.split(b"\r\n", 1)[0], answer
    return sock


def send_text_frame(sock, payload):
    import os
    import struct

    mask = os.urandom(4)
    length = len(payload)
    header = b"\x81" + (bytes([0x80 | length]) if length < 126 else
                        b"\xfe" + struct.pack(">H", length) if length < 65536 else b"\xff" + struct.pack(">Q", length))
    sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))


def read_frame(sock):
    """(opcode, payload) of the next frame the server sends, or None when it dropped the connection."""
    import struct

    def read(n):
        data = b""
        while len(data) < n:
            try:
                chunk = sock.recv(n - len(data))
            except ConnectionResetError:
                return None
            if not chunk:
                return None
            data += chunk
        return data

    head = read(2)
    if head is None:
        return None
    length = head[1] & 0x7F
    if length == 126:
        length = struct.unpack(">H", read(2))[0]
    elif length == 127:
        length = struct.unpack(">Q", read(8))[0]
    return head[0] & 0x0F, read(length)


def test_a_hand_made_frame_is_answered(live_daphne):
    """The framing below is right: a good frame gets its answer."""
    sock = raw_websocket(live_daphne(), "/ws/patron/")
    try:
        send_text_frame(sock, b'{"type": "ping"}')
        opcode, payload = read_frame(sock)
        assert opcode == 0x1 and json.loads(payload)["code"] == "hello_required"
    finally:
        sock.close()


@pytest.mark.parametrize("payload", [
    b'{"type": "ping", "x": "\xff\xfe"}',
    b'{"type": "ping", "x": "\xed\xa0\x80"}',  # a surrogate encoded as if it were UTF-8 is not UTF-8 either
    b'{"type": "message", "text": "' + b"x" * (1024 * 1024 + 10) + b'"}',  # over daphne's 1 MiB
], ids=["not-utf-8", "utf-8-encoded-surrogate", "over-1-MiB"])
def test_what_the_websocket_layer_drops_before_the_server_sees_it(live_daphne, payload):
    """docs/protocol.md, "Frames the server cannot take": the WebSocket layer drops the connection
    (no frame, no close frame: browsers report 1006) and the client reconnects."""
    sock = raw_websocket(live_daphne(), "/ws/patron/")
    try:
        send_text_frame(sock, payload)
        assert read_frame(sock) is None
    finally:
        sock.close()
