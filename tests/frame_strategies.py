"""Hypothesis strategies for tests/test_fuzz_sockets.py: client frames of every type docs/protocol.md
lists for each endpoint, with fields of the right kind and of every wrong one, and garbage.

A frame is drawn as a Python value; `Ref("name")` inside it stands for an id the example knows only
once it runs (the patron's conversation, a chat the librarian holds, a transfer offered…), resolved
by the test just before the frame is sent. `Raw(text)` / `Binary(data)` are sent as they are.
"""

import json
from dataclasses import dataclass

from hypothesis import strategies as st


@dataclass(frozen=True)
class Ref:
    """An id known when the example runs (test_fuzz_sockets.Example.resolve)."""

    name: str


@dataclass(frozen=True)
class Raw:
    """A text frame sent as it is (not JSON-encoded here)."""

    text: str


@dataclass(frozen=True)
class Binary:
    data: bytes


# ---- values

# Characters a database or UTF-8 refuses (NUL, lone surrogates), and some that are legal but awkward.
NASTY_CHARACTERS = ["\x00", "\ud800", "\udfff", "\udc80", "\ufffe", "\u202e", "\u200b", "\t", "\n", " ", "a", "é",
                    "😀", "\U0010ffff", "\x7f", "\x1b", "<", '"', "\\", "%", "{"]

nasty_text = st.text(alphabet=st.sampled_from(NASTY_CHARACTERS), max_size=12)

texts = st.one_of(
    st.text(max_size=40),  # any Unicode text except surrogates
    nasty_text,
    st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=12),  # surrogates included
    st.sampled_from([
        "", " ", "\x00", "\ud800", "a\x00b", "Apakah buka hari Minggu?", "x" * 4000, "x" * 4001, "y" * 2001,
        "z" * 1001, "w" * 101, "%(limit)s", "{patron_name}", "<script>alert(1)</script>", "\u0000\u0000",
        "a" * 64 + "@" + "b" * 190 + ".id", "a@" + "b" * 250 + ".id", "rina@example.org", "rina@\x00.org",
        "r\ud800@example.org", "1234-AB", "child", "adult", "available", "away", "offline", "conversation",
        "patron", "ready_reference", "policy", "yes", "partly", "no",
    ]),
)

# Integers of every size, the edges of a 64-bit column and past them.
HUGE_INTEGERS = [0, -1, 2**31 - 1, 2**31, 2**32, 2**53 + 1, 2**63 - 1, 2**63, -(2**63), -(2**63) - 1, 2**64, 10**30,
                 -(10**30), 10**400]
integers = st.one_of(st.integers(min_value=-3, max_value=12), st.sampled_from(HUGE_INTEGERS), st.integers())

json_scalars = st.one_of(
    st.none(), st.booleans(), integers,
    st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([1.0, 1.5, -0.0, 1e308, 2.0**63]),
    texts,
)

# Any JSON value (lists and objects nested a little), keys included.
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=10,
)


# A value of the wrong kind, or of the right kind at its worst (NUL, surrogates, huge numbers…).
wild = st.one_of(json_values, texts, integers)


def ids(*refs):
    """An id the example knows (refs, the first of them likelier) or a small one that may or may not exist."""
    known = [Ref(name) for name in refs]
    return st.sampled_from(known[:1] * 3 + known[1:] + [0, 1, 2, 3, 5, 8, 13, 20])


good_texts = st.one_of(
    st.sampled_from(["Apakah buka hari Minggu?", "Terima kasih, Kak!", "  Buka jam berapa?  ", "x" * 4000,
                     "Lihat https://perpustakaan.example/jam", "é" * 100, "😀"]),
    st.text(min_size=1, max_size=40),
)
names = st.one_of(st.sampled_from(["Rina", "", "  Siti   Rahma ", "n" * 100, "n" * 101]), st.text(max_size=30))
emails = st.one_of(st.sampled_from(["rina@example.org", "", "not an address", "a" * 64 + "@" + "b" * 185 + ".id"]),
                   st.emails())
client_ids = st.one_of(st.uuids().map(str), st.text(min_size=1, max_size=10), st.sampled_from(["", "x" * 65]))


# Chances are drawn from lists whose first item is the likelier one: Hypothesis leans to the first.
ONE_IN_TEN = st.sampled_from([False] * 9 + [True])


def frame(type_, required=None, optional=None):
    """A frame of `type_`. Two in three are well formed: their required fields and some optional ones,
    each of its kind (`required`, `optional`: field → strategy). The others leave a required field out
    now and then, and give a third of the fields a wild value (`wild`); now and then a field nobody
    knows comes along."""
    required = required or {}
    optional = optional or {}

    @st.composite
    def build(draw):
        well_formed = draw(st.sampled_from([True, True, False]))
        frame = {"type": type_}
        for name, values in [*required.items(), *optional.items()]:
            if name in optional and not draw(st.sampled_from([True, False])):
                continue
            if name in required and not well_formed and draw(ONE_IN_TEN):
                continue  # one time in ten a required field of a malformed frame is missing
            frame[name] = draw(values if well_formed or draw(st.sampled_from([True, True, False])) else wild)
        if draw(ONE_IN_TEN):
            frame[draw(texts)] = draw(json_values)
        return frame

    return build()


# ---- the frames of each endpoint (docs/protocol.md, "Client → server")

def hello(*, patron):
    fields = {"v": st.just(1)}
    optional = {"lang": st.sampled_from(["id", "en", "fr", "", "id-ID"])}
    if patron:
        fields["token"] = st.just(Ref("token")) | st.sampled_from(["", "forged", "a.b.c"])
        optional["last_seq"] = st.integers(0, 5)
    else:
        optional["since"] = st.dictionaries(st.just(Ref("active")) | st.sampled_from(["1", "x", "-1", "1" * 20]),
                                            st.integers(0, 5), max_size=2)
    return frame("hello", fields, optional)


def common(conversation):
    return [
        frame("ping"),
        frame("fetch", {"conversation": ids(conversation), "after": st.integers(0, 5)},
              {"before": st.integers(0, 8)}),
        frame("read", {"conversation": ids(conversation), "seq": st.integers(0, 6)}),
    ]


def survey_answer(question):
    return st.fixed_dictionaries({"question": st.just(Ref(question)) | ids(),
                                  "answer": st.sampled_from(["yes", "partly", "no", 1, 5, 6, "", " "]) | good_texts})


def patron_frames():
    conversation = "conversation"
    answers = st.lists(st.one_of(*(survey_answer(f"question{n}") for n in range(3))), max_size=6)
    return st.one_of(
        *common(conversation),
        frame("start", {"client_id": client_ids, "text": good_texts},
              {"name": names, "email": emails, "card": st.from_regex(r"[A-Za-z0-9 -]{0,34}", fullmatch=True),
               "age_group": st.sampled_from(["child", "adult", "", "old"]), "offline": st.booleans(),
               "queue": ids("queue", "other_queue"), "faq_opt_out": st.booleans()}),
        frame("start", {"client_id": client_ids, "text": good_texts}),
        frame("message", {"client_id": client_ids, "text": good_texts}, {"attachment": ids("attachment")}),
        frame("message", {"client_id": client_ids, "text": good_texts}),
        frame("typing", {"active": st.booleans()}),
        frame("rate", {"conversation": ids(conversation), "rating": st.integers(0, 6)},
              {"comment": good_texts | st.just("c" * 1001)}),
        frame("survey", {"conversation": ids(conversation), "answers": answers}),
        frame("transcript.email", {"conversation": ids(conversation), "email": emails}),
        frame("close"),
    )


def librarian_frames():
    chat = ids("active", "queued", "closed", "offered")
    return st.one_of(
        *common("active"),
        frame("claim", {"conversation": chat}),
        frame("message", {"conversation": chat, "client_id": client_ids, "text": good_texts},
              {"attachment": ids("attachment")}),
        frame("typing", {"conversation": chat, "active": st.booleans()}),
        frame("close", {"conversation": chat}),
        frame("status", {"status": st.sampled_from(["available", "away", "offline", "busy"])}),
        frame("capacity", {"max_chats": st.integers(0, 9)}),
        frame("heartbeat"),
        frame("transfer", {"conversation": chat, "to_librarian": ids("colleague", "librarian")},
              {"note": good_texts | st.just("n" * 2001)}),
        frame("transfer", {"conversation": chat, "to_queue": ids("queue", "other_queue")}, {"note": good_texts}),
        frame("transfer.accept", {"transfer": ids("transfer")}),
        frame("transfer.decline", {"transfer": ids("transfer")}),
        frame("assignment.decline", {"offer": ids()}),
        frame("assess", {"conversation": chat},
              {"topics": st.lists(ids("topic"), max_size=4), "read_scale": st.integers(0, 7),
               "question_type": st.sampled_from(["", "directional", "research", "policy", "other"])}),
        frame("note", {"conversation": chat, "text": good_texts | st.just("n" * 2001)},
              {"about": st.sampled_from(["conversation", "patron", "queue"]), "client_id": client_ids}),
        frame("duty.dismiss", {"conversations": st.lists(chat, max_size=22)}),
    )


def staff_page_frames():
    return st.one_of(frame("ping"), frame("heartbeat"))


# ---- garbage: what no client of ours sends

# Names of methods and of Channels' internal events: none may reach a handler.
INTERNAL_TYPES = ["group.frame", "frame_out", "frame.out", "session.ended", "session_ended", "websocket.disconnect",
                  "websocket.receive", "websocket.connect", "websocket.close", "dispatch", "dispatch_frame", "hello_",
                  "on_ping", "on.ping", "send_frame", "fail", "__init__", "__call__", "disconnect", "receive",
                  "beat", "join", "leave", "group_frame", "on_group_frame", "heartbeat_extra", "", "PING", "ping ",
                  "fetch\x00", "\ud800", "conversation", "welcome", "error", "pong", "ack", "queue.added"]


def deep(depth, inside="{}"):
    return "[" * depth + inside + "]" * depth


garbage = st.one_of(
    st.builds(lambda t: {"type": t}, st.sampled_from(INTERNAL_TYPES) | texts),
    st.builds(lambda t, extra: {"type": t, **extra}, st.sampled_from(INTERNAL_TYPES),
              st.dictionaries(texts, json_values, max_size=3)),
    json_values.map(lambda value: Raw(json.dumps(value))),  # any JSON value, objects without a type included
    st.dictionaries(texts, json_values, max_size=4),
    st.text(max_size=30).map(Raw),  # mostly not JSON
    st.sampled_from([
        Raw("{"), Raw("}"), Raw("null"), Raw("[]"), Raw('"ping"'), Raw("1e999"), Raw("NaN"), Raw('{"type": NaN}'),
        Raw('{"type": "ping", "type": "hello"}'), Raw('{"type": "\\ud800"}'), Raw('{"type": "ping", "x": "\\u0000"}'),
        Raw('{"type": "ping"}\x00'), Raw("\ufeff{\"type\": \"ping\"}"), Raw('{"type": "ping", "\\ud800": 1}'),
        Raw('{"type":"ping","a":' + deep(8) + "}"), Raw('{"type":"ping","a":' + deep(9) + "}"),
        Raw(deep(50)), Raw(deep(32000, "")), Raw('{"a":' * 5000 + "1" + "}" * 5000),
        Raw('{"type": "ping", "pad": "' + "x" * (64 * 1024) + '"}'), Raw("x" * (64 * 1024 + 1)),
        Raw('{"type": "ping", "pad": "' + "é" * 30000 + '"}'),
        Raw('{"type": "ping", "n": ' + "9" * 5000 + "}"),  # past int()'s digit limit
        Raw('{"type": "fetch", "conversation": ' + "9" * 40 + ', "after": 0}'),
        Raw('{"type": "read", "conversation": 1e30, "seq": 1}'),
        Raw("\ud800"), Raw('{"type": "ping", "t": "\ud800"}'),  # lone surrogates in the text itself
        Binary(b""), Binary(b'{"type": "ping"}'), Binary(b"\xff\xfe\x00"), Binary(bytes(70000)),
    ]),
    st.binary(max_size=20).map(Binary),
)


def frames_for(endpoint):
    documented = {"patron": patron_frames, "librarian": librarian_frames, "staff": staff_page_frames}[endpoint]()
    hellos = hello(patron=endpoint == "patron")
    # Documented frames most of the time, a hello now and then (a second one starts afresh), garbage often.
    return st.one_of(documented, documented, documented, documented, hellos, garbage)


def examples(endpoint):
    """One example: whether it opens with a proper hello (nine in ten do), then 1 … 8 frames, some of
    them sent twice in a row (a client re-sends what was not acknowledged, with the same client id)."""
    resent = st.tuples(frames_for(endpoint), ONE_IN_TEN).map(lambda pair: [pair[0]] * (1 + pair[1]))
    return st.tuples(ONE_IN_TEN.map(lambda no_hello: not no_hello),
                     st.lists(resent, min_size=1, max_size=6).map(lambda runs: [f for run in runs for f in run]))
