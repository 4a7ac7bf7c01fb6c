"""Property-based fuzzing of the three sockets (docs/protocol.md, "Fuzzing" in docs/architecture.md).

Hypothesis throws generated frames at /ws/patron/, /ws/librarian/ and /ws/staff/ through Channels'
WebsocketCommunicator: frames of every documented client type with their fields of the right kind
and of every wrong one (tests/frame_strategies.py), a repeated hello, and garbage (any JSON value,
internal handler and event names, lone surrogates, NUL, deep nesting, binary and over-size frames).
After every example:

(a) every answer is a documented frame (its type built by reference/frames.py; an `error` with a code
    of reference/errors.MESSAGES and a message) or a documented close (4400, 4401, 4403, 4408 after
    its error frame); `internal_error` and 1011 mean a crash and fail the example;
(b) a socket that was not closed still answers `ping` (`pong`, or `hello_required` before a hello);
(c) once the socket has closed, no asyncio task of reference.consumers is left;
(d) the database holds only valid rows: no NUL or lone surrogate in any text, lengths within their
    columns, the example's new rows and conversations pass full_clean(), and every conversation's
    messages are numbered 1 … last_seq without a gap.

Size: the `ci` profile (the default: derandomized, so every run throws the same frames) runs
FUZZ_EXAMPLES_CI examples per endpoint; `FUZZ_EXAMPLES=2000` runs that many instead, and
`HYPOTHESIS_PROFILE=fuzz` draws new frames each run. The figures are printed at the end of the run.
"""

import asyncio
import json
import os
import time
import uuid
from collections import Counter

import pytest
from channels.testing import WebsocketCommunicator
from django.db import models
from django.db.models import Count, Max, Min
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chatserver.asgi import application
from reference import dbthreads, frames, handoff, lifecycle, presence
from reference.errors import FATAL_CLOSE_CODES, MESSAGES
from reference.events import Outbox
from reference.models import (
    AssignmentOffer,
    AuditEvent,
    Conversation,
    InternalNote,
    LibrarianProfile,
    LibraryCard,
    Message,
    Patron,
    SurveyAnswer,
    SurveyQuestion,
    Topic,
    Transfer,
)
from reference.tokens import PatronIdentity, issue_patron_token
from tests.frame_strategies import Binary, Raw, Ref, examples
from tests.wsclient import ORIGIN, login_cookie
from widgets.selectors import desk_settings

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

# Examples per endpoint in the `ci` profile: the three together stay within about a minute on either
# configuration (the figures printed at the end of a run say how long they took).
FUZZ_EXAMPLES_CI = {"patron": 150, "librarian": 150, "staff": 60}
CHECKS = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large,
          HealthCheck.large_base_example, HealthCheck.filter_too_much]
settings.register_profile("ci", deadline=None, derandomize=True, database=None, suppress_health_check=CHECKS,
                          print_blob=True)
settings.register_profile("fuzz", deadline=None, derandomize=False, suppress_health_check=CHECKS, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def examples_for(endpoint):
    return int(os.environ.get("FUZZ_EXAMPLES") or FUZZ_EXAMPLES_CI[endpoint])


TIMEOUT = 10  # seconds for one answer: far beyond any answer here; reaching it fails the example
DOCUMENTED_CLOSES = {code for name, code in FATAL_CLOSE_CODES.items() if name != "internal_error"}
RUN = Counter()  # examples and frames per endpoint, printed at the end of the module
SPENT = Counter()
ANSWERS = {endpoint: Counter() for endpoint in ("patron", "librarian", "staff")}  # "error:<code>" or the type


@pytest.fixture(scope="module", autouse=True)
def _say_the_size(request):
    """The run's size, and what the answers were (so a run that only ever met one error shows it)."""
    yield
    lines = []
    for endpoint in ("patron", "librarian", "staff"):
        if RUN[endpoint]:
            answers = ANSWERS[endpoint].most_common()
            lines.append(f"fuzz {endpoint}: {RUN[endpoint]} examples, {RUN[endpoint + ':frames']} frames, "
                         f"{SPENT[endpoint]:.1f} s ({SPENT[endpoint + ':prepare']:.1f} s preparing, "
                         f"{SPENT[endpoint + ':tidy']:.1f} s tidying, "
                         f"{SPENT[endpoint + ':checks']:.1f} s checking rows); "
                         "answers: " + ", ".join(f"{k} {n}" for k, n in answers))
    capture = request.config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():
        for line in lines:
            print(line)


# ---- one socket, one example

class Crash(AssertionError):
    pass


class Example:
    """One socket: sends frames (resolving Ref ids from `refs`), reads every answer, checks each."""

    def __init__(self, path, headers=(), refs=None):
        self.path = path
        self.endpoint = path.split("/")[2]
        self.headers = list(headers)
        self.refs = refs or {}
        self.markers = 0
        self.welcomed = False
        self.closed = None  # the close code, once closed
        self.answers = []  # every frame the server sent

    async def welcomed_hook(self):
        """After the example's hello was welcomed: set up what needs this socket connected."""

    def conversations(self):
        """The conversations the example may have touched (full_clean()ed afterwards)."""
        return [self.refs[name] for name in ("conversation", "queued", "active", "closed", "offered")
                if isinstance(self.refs.get(name), int)]

    async def open(self):
        self.communicator = WebsocketCommunicator(application, self.path, headers=[ORIGIN, *self.headers])
        connected, _ = await self.communicator.connect(timeout=TIMEOUT)
        assert connected, self.path
        assert consumer_tasks(), "the task detector sees no task of an open socket"

    def resolve(self, value):
        if isinstance(value, Ref):
            return self.refs.get(value.name, 1)
        if isinstance(value, dict):
            return {str(self.resolve(key)) if isinstance(key, Ref) else key: self.resolve(item)
                    for key, item in value.items()}
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        return value

    async def send(self, frame):
        if isinstance(frame, Binary):
            message = {"type": "websocket.receive", "bytes": frame.data}
        else:
            text = frame.text if isinstance(frame, Raw) else json.dumps(self.resolve(frame))
            message = {"type": "websocket.receive", "text": text}
        await self.communicator.send_input(message)

    async def exchange(self, frame):
        got = await self._exchange(frame)
        if os.environ.get("FUZZ_TRACE"):
            print(self.endpoint, repr(frame)[:200], "->", [a.get("code", a["type"]) for a in got])
        return got

    async def _exchange(self, frame):
        """Send `frame`, then a marker frame whose answer is known (unknown_type, with its client id as
        `ref`), and read every answer up to the marker's or up to a close."""
        await self.send(frame)
        self.markers += 1
        marker = f"fuzz-marker-{self.markers}"
        await self.send({"type": "fuzz.marker", "client_id": marker})
        got = []
        while True:
            output = await self.communicator.receive_output(timeout=TIMEOUT)
            if output["type"] == "websocket.close":
                self.check_close(output.get("code"), got)
                ANSWERS[self.endpoint][f"close {self.closed}"] += 1
                return got
            answer = self.check_frame(output)
            if answer.get("type") == "error" and answer.get("ref") == marker:
                assert answer["code"] == "unknown_type", answer
                return got
            got.append(answer)
            ANSWERS[self.endpoint][answer["type"] if answer["type"] != "error" else answer["code"]] += 1

    def check_frame(self, output):
        assert output["type"] == "websocket.send", output
        assert "bytes" not in output, f"a binary frame: {output}"
        answer = json.loads(output["text"])
        self.answers.append(answer)
        assert isinstance(answer, dict) and answer.get("type") in frames.BUILDERS, f"undocumented frame {answer}"
        if answer["type"] == "error":
            if answer.get("code") == "internal_error":
                raise Crash(f"the socket crashed: {answer}")
            assert answer.get("code") in MESSAGES, f"undocumented error code {answer}"
            assert isinstance(answer.get("message"), str) and answer["message"].strip(), answer
            assert isinstance(answer.get("ref"), str | None), answer
        if answer["type"] == "welcome":
            self.welcomed = True
        for key in ("conversation",):  # the patron's conversation, for Ref("conversation")
            if answer["type"] in ("ack", "conversation") and self.path == "/ws/patron/":
                value = answer[key]
                self.refs["conversation"] = value["id"] if isinstance(value, dict) else value
        return answer

    def check_close(self, code, got):
        assert code in DOCUMENTED_CLOSES, f"closed with {code} after {got}"
        errors = [a for a in got if a["type"] == "error"]
        assert errors and FATAL_CLOSE_CODES.get(errors[-1]["code"]) == code, f"closed {code} without saying why: {got}"
        self.closed = code

    async def still_answers(self):
        """(b): a socket that was not closed answers `ping`."""
        if self.closed is not None:
            return
        got = await self.exchange({"type": "ping"})
        if self.closed is not None:  # a fatal error frame was in flight (a hello refused)
            return
        if self.welcomed:
            assert any(a["type"] == "pong" for a in got), f"no pong after {self.answers}"
        else:
            assert any(a.get("code") == "hello_required" and a.get("ref") == "ping" for a in got), got

    async def finish(self):
        """(c): close the socket; nothing of its consumer may go on running."""
        await self.communicator.disconnect(timeout=TIMEOUT)
        for _ in range(5):  # cancelled tasks end on their next turn of the loop
            await asyncio.sleep(0)
        left = consumer_tasks()
        assert not left, f"tasks outlived their socket: {left}"


def consumer_tasks():
    left = []
    for task in asyncio.all_tasks():
        code = getattr(task.get_coro(), "cr_code", None)
        if task is not asyncio.current_task() and code and "/reference/consumers/" in code.co_filename:
            left.append(f"{code.co_qualname} ({code.co_filename})")
    return left


async def run_example(endpoint, socket, example, hello, *, prepare=None, tidy=None):
    """Open `socket` (after `prepare()`, on a database thread), say `hello` if the example does, send
    its frames, check (a)–(d), and `tidy()` (on a database thread) whatever happened."""
    start = time.perf_counter()
    say_hello, frames_ = example
    socket.before = await dbthreads.run(high_water)()
    try:
        if prepare is not None:
            await dbthreads.run(prepare)()
        SPENT[endpoint + ":prepare"] += time.perf_counter() - start
        await socket.open()
        try:
            if say_hello:
                got = await socket.exchange(hello)
                assert socket.welcomed, f"a proper hello was not welcomed: {got}"
                await socket.welcomed_hook()
            for frame in frames_:
                if socket.closed is not None:
                    break
                await socket.exchange(frame)
                RUN[endpoint + ":frames"] += 1
            await socket.still_answers()
        finally:
            await socket.finish()
    finally:
        if tidy is not None:
            tidying = time.perf_counter()
            await dbthreads.run(tidy)()
            SPENT[endpoint + ":tidy"] += time.perf_counter() - tidying
    checking = time.perf_counter()
    await dbthreads.run(check_rows)(socket.before, socket.conversations())
    SPENT[endpoint + ":checks"] += time.perf_counter() - checking
    RUN[endpoint] += 1
    SPENT[endpoint] += time.perf_counter() - start


# ---- (d) the database holds only valid rows

CHECKED_MODELS = [Patron, LibraryCard, Conversation, Message, Transfer, InternalNote, SurveyAnswer, AuditEvent,
                  LibrarianProfile, AssignmentOffer]


def high_water():
    """What each checked table held before the example: its highest id (or its ids, for Patron's UUIDs)."""
    return {model: (set(model.objects.values_list("pk", flat=True)) if model is Patron
                    else model.objects.aggregate(top=Max("pk"))["top"] or 0) for model in CHECKED_MODELS}


def check_rows(before, conversation_ids):
    for model in CHECKED_MODELS:
        texts = [f for f in model._meta.concrete_fields if isinstance(f, models.CharField | models.TextField)]
        for row in model.objects.values("pk", *(f.attname for f in texts)):
            for f in texts:
                value = row[f.attname]
                if value is None:
                    continue
                assert "\x00" not in value, f"NUL in {model.__name__} {row['pk']}.{f.name}: {value!r}"
                value.encode("utf-8")  # a lone surrogate raises here
                assert f.max_length is None or len(value) <= f.max_length, (model.__name__, row["pk"], f.name)
        if model is Patron:
            touched = model.objects.exclude(pk__in=before[model])
        elif model is Conversation:
            touched = model.objects.filter(pk__gt=before[model]) | model.objects.filter(pk__in=conversation_ids)
        else:
            touched = model.objects.filter(pk__gt=before[model])
        for obj in touched:
            obj.full_clean()
    numbering = {c["conversation"]: c for c in Message.objects.values("conversation").annotate(
        n=Count("seq", distinct=True), lo=Min("seq"), hi=Max("seq"), rows=Count("pk"))}
    for conversation_id, last_seq in Conversation.objects.values_list("pk", "last_seq"):
        seen = numbering.get(conversation_id, {"n": 0, "lo": None, "hi": None, "rows": 0})
        expected = {"n": last_seq, "lo": 1 if last_seq else None, "hi": last_seq or None, "rows": last_seq}
        assert {k: seen[k] for k in expected} == expected, f"conversation {conversation_id}: {seen}, {last_seq=}"


# ---- the three endpoints

@pytest.fixture
def scene(site, queue, other_queue, make_librarian):
    """What the examples aim at: a site asking every pre-chat field with two queues and a survey of
    each kind, a librarian (siti) and a colleague (budi), a topic."""
    site.card_field = site.age_group_field = "optional"
    site.save()
    site.queue_choices.set([queue, other_queue])
    questions = [SurveyQuestion.objects.create(site=site, position=n, kind=kind, text_id=kind, text_en=kind)
                 for n, kind in enumerate(["yes_partly_no", "scale", "text"], 1)]
    siti = make_librarian(max_chats=8, queues=[queue, other_queue])
    budi = make_librarian("budi", "Budi", max_chats=8, queues=[queue, other_queue])
    topic = Topic.objects.create(library=site.library, label_id="Keanggotaan", label_en="Membership")
    return {"site": site, "siti": siti, "budi": budi, "cookie": login_cookie(siti),
            "refs": {"queue": queue.pk, "other_queue": other_queue.pk, "topic": topic.pk,
                     "librarian": siti.pk, "colleague": budi.pk,
                     **{f"question{n}": q.pk for n, q in enumerate(questions)}}}


def start_chat(site_key, *, claim_by=None, close=False):
    """A patron's question (run on a database thread), claimed by `claim_by` and closed if asked:
    (identity, conversation id)."""
    identity = PatronIdentity(site_key=site_key, patron_id=uuid.uuid4())
    conversation, _message, _created = lifecycle.do_start(
        site=desk_settings(site_key), identity=identity, text="Apakah buka hari Minggu?", client_id="setup-1",
        outbox=Outbox())
    if claim_by is not None:
        presence.do_set_status(user=claim_by, status="available", outbox=Outbox())
        lifecycle.do_claim(user=claim_by, conversation_id=conversation.pk, outbox=Outbox())
    if close:
        lifecycle.do_close_by_patron(patron_id=identity.patron_id, outbox=Outbox())
    return identity, conversation.pk


def end_chats(*users):
    """Every chat still open ends: the next example starts with room to claim."""
    for conversation in Conversation.objects.exclude(status=Conversation.Status.CLOSED):
        lifecycle.do_close_by_patron(patron_id=conversation.patron_id, outbox=Outbox())
    for user in users:  # whatever status and capacity the example left
        presence.do_set_status(user=user, status="available", outbox=Outbox())
        LibrarianProfile.objects.filter(user=user).update(max_chats=8)


@given(example=examples("patron"), state=st.sampled_from(["new", "queued", "active", "closed"]))
@settings(max_examples=examples_for("patron"))
async def test_patron_socket(scene, example, state):
    """A patron with no chat yet, or with one waiting, held or ended, and anything they may send."""
    site_key = scene["site"].key
    socket = Example("/ws/patron/", refs=dict(scene["refs"]))

    def prepare():
        if state == "new":
            identity = PatronIdentity(site_key=site_key, patron_id=uuid.uuid4())
        else:
            identity, socket.refs["conversation"] = start_chat(
                site_key, claim_by=None if state == "queued" else scene["siti"], close=state == "closed")
        socket.refs["token"] = issue_patron_token(site_key, identity.patron_id)

    await run_example("patron", socket, example, {"type": "hello", "v": 1, "token": Ref("token"), "lang": "en"},
                      prepare=prepare, tidy=lambda: end_chats(scene["siti"]))


class LibrarianExample(Example):
    def __init__(self, scene, offer):
        super().__init__("/ws/librarian/", [(b"cookie", scene["cookie"].encode())], dict(scene["refs"]))
        self.scene, self.offer = scene, offer

    async def welcomed_hook(self):
        """A colleague offers siti a chat (siti must be connected to be offered one)."""
        if self.offer:
            self.refs["transfer"] = await dbthreads.run(self._offer)()

    def _offer(self):
        budi, site_key = self.scene["budi"], self.scene["site"].key
        _identity, self.refs["offered"] = start_chat(site_key, claim_by=budi)
        return handoff.do_offer_transfer(user=budi, conversation_id=self.refs["offered"],
                                         to_user_id=self.scene["siti"].pk, note="Tolong", outbox=Outbox()).pk


@given(example=examples("librarian"), offer=st.booleans())
@settings(max_examples=examples_for("librarian"))
async def test_librarian_socket(scene, example, offer):
    """siti's dashboard, with a chat waiting, one she holds, one ended, and sometimes a transfer offered to her."""
    site_key, siti = scene["site"].key, scene["siti"]
    socket = LibrarianExample(scene, offer)

    def prepare():
        _identity, socket.refs["queued"] = start_chat(site_key)
        _identity, socket.refs["active"] = start_chat(site_key, claim_by=siti)
        _identity, socket.refs["closed"] = start_chat(site_key, claim_by=siti, close=True)

    await run_example("librarian", socket, example, {"type": "hello", "v": 1, "lang": "en"},
                      prepare=prepare, tidy=lambda: end_chats(siti, scene["budi"]))


@given(example=examples("staff"))
@settings(max_examples=examples_for("staff"))
async def test_staff_page_socket(scene, example):
    """A staff page's duty socket: hello, heartbeat and ping, and everything else it must refuse."""
    socket = Example("/ws/staff/", [(b"cookie", scene["cookie"].encode())], dict(scene["refs"]))
    await run_example("staff", socket, example, {"type": "hello", "v": 1, "lang": "en"},
                      tidy=lambda: end_chats(scene["siti"]))
