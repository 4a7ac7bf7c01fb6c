"""Property-based fuzzing of the three sockets ("Fuzzing" in docs/architecture.md).

Hypothesis throws generated frames at /ws/patron/, /ws/librarian/ and /ws/staff/ through Channels'
WebsocketCommunicator: frames of every documented client type with their fields of the right kind
and of every wrong one (tests/frame_strategies.py), a repeated hello, and garbage (any JSON value,
internal handler and event names, lone surrogates, NUL, deep nesting, binary and over-size frames).
Checked:

(a) after every frame, every answer is a documented frame (its type built by reference/frames.py; an `error` with a code
    of reference/errors.MESSAGES and a message) or a documented close (4400, 4401, 4403, 4408 after
    its error frame); `internal_error` and 1011 mean a crash and fail the example;
(b) at the end of each example, a socket that was not closed still answers `ping` (`pong`, or
    `hello_required` before a hello);
(c) once the socket has closed, no asyncio task of reference.consumers is left;
(d) the database holds only valid rows: the rows the example touched hold no NUL or lone surrogate,
    pass full_clean()'s field checks (lengths, choices, e-mail addresses), and each of its
    conversations has its messages numbered 1 … last_seq without a gap.

Size: the `ci` profile (the default: derandomized, so every run throws the same frames) runs
FUZZ_EXAMPLES_CI examples per endpoint; `FUZZ_EXAMPLES=2000` runs that many instead, and
`HYPOTHESIS_PROFILE=fuzz` draws new frames each run. The figures are printed at the end of the run;
FUZZ_TRACE=1 (with -s) prints every frame and what it was answered.
"""

import asyncio
import json
import os
import time
import uuid
from collections import Counter

import pytest
from channels.testing import WebsocketCommunicator
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import models
from django.db.models import Count, Max, Min, Q
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chatserver.asgi import application
from reference import attachments, dbthreads, frames, handoff, lifecycle, presence
from reference.errors import FATAL_CLOSE_CODES, MESSAGES
from reference.events import Outbox
from reference.models import (
    AssignmentOffer,
    Attachment,
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
from tests import files
from tests.frame_strategies import Binary, Raw, Ref, examples
from tests.wsclient import ORIGIN, login_cookie
from widgets.selectors import desk_settings

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

# Examples per endpoint in the `ci` profile: the three together stay within about a minute on either
# configuration (the figures printed at the end of a run say how long they took).
FUZZ_EXAMPLES_CI = {"patron": 120, "librarian": 120, "staff": 80}
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
ANSWERS = {endpoint: Counter() for endpoint in ("patron", "librarian", "staff")}  # by frame type, error code, close


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
        self.refused = False  # a staff socket without a login: refused at once (not_authenticated, 4403)

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
        if self.endpoint == "patron" and answer["type"] in ("ack", "conversation"):  # for Ref("conversation")
            value = answer["conversation"]
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
                if socket.refused:
                    assert socket.closed == 4403, f"a staff socket without a login was not refused: {got}"
                else:
                    assert socket.welcomed, f"a proper hello was not welcomed: {got}"
                    await socket.welcomed_hook()
            for frame in frames_:
                if socket.closed is not None:
                    break
                await socket.exchange(frame)
                RUN[endpoint + ":frames"] += 1
            await socket.still_answers()
            assert not socket.refused or socket.closed == 4403, "a staff socket without a login was not refused"
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
    """Where the example starts: each checked table's highest id, and the time (for Patron's UUIDs)."""
    return {"at": timezone.now(), **{model: model.objects.aggregate(top=Max("pk"))["top"] or 0
                                     for model in CHECKED_MODELS if model is not Patron}}


def touched_rows(before, conversation_ids):
    """The rows the example may have written: new ones, and those of the conversations it aimed at."""
    ids = set(conversation_ids) | set(Conversation.objects.filter(pk__gt=before[Conversation])
                                      .values_list("pk", flat=True))
    patrons = Patron.objects.filter(Q(conversations__in=ids) | Q(created_at__gte=before["at"])).distinct()
    rows = {
        Conversation: Conversation.objects.filter(pk__in=ids),
        Message: Message.objects.filter(Q(pk__gt=before[Message]) | Q(conversation__in=ids)),
        Patron: patrons,
        LibraryCard: LibraryCard.objects.filter(patron__in=patrons),
        SurveyAnswer: SurveyAnswer.objects.filter(Q(pk__gt=before[SurveyAnswer]) | Q(conversation__in=ids)),
        LibrarianProfile: LibrarianProfile.objects.all(),  # two librarians
    }
    for model in CHECKED_MODELS:
        if model not in rows:
            rows[model] = model.objects.filter(pk__gt=before[model])
    return ids, rows


def check_rows(before, conversation_ids):
    """(d), on the rows the example touched: what full_clean() checks of each field (foreign keys and
    unique constraints are the database's own), no NUL or lone surrogate in any text, and messages
    numbered 1 … last_seq without a gap."""
    ids, rows = touched_rows(before, conversation_ids)
    for model, queryset in rows.items():
        texts = [f for f in model._meta.concrete_fields if isinstance(f, models.CharField | models.TextField)]
        relations = [f.name for f in model._meta.concrete_fields if f.is_relation]
        for row in queryset:
            for f in texts:
                value = getattr(row, f.attname)
                if value:
                    assert "\x00" not in value, f"NUL in {model.__name__} {row.pk}.{f.name}: {value!r}"
                    value.encode("utf-8")  # a lone surrogate raises here
            row.full_clean(exclude=relations, validate_unique=False, validate_constraints=False)
    numbering = {c["conversation"]: c for c in Message.objects.filter(conversation__in=ids).values("conversation")
                 .annotate(n=Count("seq", distinct=True), lo=Min("seq"), hi=Max("seq"), rows=Count("pk"))}
    for conversation_id, last_seq in Conversation.objects.filter(pk__in=ids).values_list("pk", "last_seq"):
        seen = numbering.get(conversation_id, {"n": 0, "lo": None, "hi": None, "rows": 0})
        expected = {"n": last_seq, "lo": 1 if last_seq else None, "hi": last_seq or None, "rows": last_seq}
        assert {k: seen[k] for k in expected} == expected, f"conversation {conversation_id}: {seen}, {last_seq=}"


# ---- the three endpoints

@pytest.fixture
def scene(site, queue, other_queue, make_librarian, settings, tmp_path):
    """What the examples aim at: a site asking every pre-chat field with two queues and a survey of
    each kind, a librarian (siti) and a colleague (budi), a topic."""
    settings.MEDIA_ROOT = str(tmp_path)  # the files the examples upload
    site.card_field = site.age_group_field = "optional"
    site.save()
    site.queue_choices.set([queue, other_queue])
    questions = [SurveyQuestion.objects.create(site=site, position=n, kind=kind, text_id=kind, text_en=kind)
                 for n, kind in enumerate(["yes_partly_no", "scale", "text"], 1)]
    siti = make_librarian(max_chats=8, queues=[queue, other_queue])
    budi = make_librarian("budi", "Budi", max_chats=8, queues=[queue, other_queue])
    topic = Topic.objects.create(library=site.library, label_id="Keanggotaan", label_en="Membership")
    scene = {"site": site, "siti": siti, "budi": budi, "cookie": login_cookie(siti), "chats": {},
            "refs": {"queue": queue.pk, "other_queue": other_queue.pk, "topic": topic.pk,
                     "librarian": siti.pk, "colleague": budi.pk,
                     **{f"question{n}": q.pk for n, q in enumerate(questions)}}}
    scene["chats"].update(scene["refs"])  # the librarian's examples keep their chats from one to the next
    return scene


def start_chat(site_key, *, claim_by=None, close=False):
    """A patron's question (run on a database thread), claimed by `claim_by` and closed if asked:
    (identity, conversation id)."""
    identity = PatronIdentity(site_key=site_key, patron_id=uuid.uuid4())
    conversation, _message, _created = lifecycle.do_start(
        site=desk_settings(site_key), identity=identity, text="Apakah buka hari Minggu?", client_id="setup-1",
        outbox=Outbox())
    if claim_by is not None:
        make_room(claim_by)
        lifecycle.do_claim(user=claim_by, conversation_id=conversation.pk, outbox=Outbox())
    if close:
        lifecycle.do_close_by_patron(patron_id=identity.patron_id, outbox=Outbox())
    return identity, conversation.pk


def upload(conversation_id, *, patron_id=None, user=None):
    """A file uploaded into the chat, for a `message` to send (run on a database thread)."""
    uploaded = SimpleUploadedFile("scan.png", files.png(), content_type="image/png")
    if user is not None:
        return attachments.upload_for_librarian(user=user, conversation_id=conversation_id, uploaded=uploaded).pk
    patron = Patron.objects.get(pk=patron_id)
    return attachments.upload_for_patron(patron=patron, conversation_id=conversation_id, uploaded=uploaded).pk


def make_room(user):
    """`user` on duty with room for another chat, whatever status, capacity and chats the examples left."""
    profile = LibrarianProfile.objects.get(user=user)
    if profile.status != LibrarianProfile.Status.AVAILABLE:
        presence.do_set_status(user=user, status="available", outbox=Outbox())
    if profile.max_chats != 8:
        LibrarianProfile.objects.filter(user=user).update(max_chats=8)
    held = list(Conversation.objects.filter(librarian=user, status=Conversation.Status.ACTIVE)
                .values_list("patron_id", flat=True))
    if len(held) >= 6:
        for patron_id in held:
            lifecycle.do_close_by_patron(patron_id=patron_id, outbox=Outbox())


def end_chat(identity):
    """The example's patron's chat ends (the librarian never runs out of room)."""
    if Conversation.objects.filter(patron_id=identity.patron_id).exclude(status=Conversation.Status.CLOSED).exists():
        lifecycle.do_close_by_patron(patron_id=identity.patron_id, outbox=Outbox())


@given(example=examples("patron"), state=st.sampled_from(["new", "queued", "active", "closed"]))
@settings(max_examples=examples_for("patron"))
async def test_patron_socket(scene, example, state):
    """A patron with no chat yet, or with one waiting, held or ended, and anything they may send."""
    site_key = scene["site"].key
    socket = Example("/ws/patron/", refs=dict(scene["refs"]))

    def prepare():
        if state == "new":
            socket.identity = PatronIdentity(site_key=site_key, patron_id=uuid.uuid4())
        else:
            socket.identity, socket.refs["conversation"] = start_chat(
                site_key, claim_by=None if state == "queued" else scene["siti"], close=state == "closed")
            if state != "closed":
                socket.refs["attachment"] = upload(socket.refs["conversation"], patron_id=socket.identity.patron_id)
        socket.refs["token"] = issue_patron_token(site_key, socket.identity.patron_id)

    await run_example("patron", socket, example, {"type": "hello", "v": 1, "token": Ref("token"), "lang": "en"},
                      prepare=prepare, tidy=lambda: end_chat(socket.identity))


class LibrarianExample(Example):
    def __init__(self, scene, offer):
        super().__init__("/ws/librarian/", [(b"cookie", scene["cookie"].encode())], scene["chats"])
        self.scene, self.offer = scene, offer

    def prepare(self):
        """A chat waiting, one siti holds, one ended: made again only when an earlier example moved them on."""
        refs, siti, site_key = self.refs, self.scene["siti"], self.scene["site"].key
        make_room(siti)
        chats = Conversation.objects.in_bulk([refs[n] for n in ("queued", "active", "closed") if n in refs])
        queued, active = chats.get(refs.get("queued")), chats.get(refs.get("active"))
        if queued is None or queued.status != Conversation.Status.QUEUED:
            _identity, refs["queued"] = start_chat(site_key)
        if active is None or active.status != Conversation.Status.ACTIVE or active.librarian_id != siti.pk:
            _identity, refs["active"] = start_chat(site_key, claim_by=siti)
        unsent = Attachment.objects.filter(pk=refs.get("attachment"), message__isnull=True,
                                           conversation=refs["active"]).exists()
        if not unsent:
            refs["attachment"] = upload(refs["active"], user=siti)
        if "closed" not in refs:
            _identity, refs["closed"] = start_chat(site_key, claim_by=siti, close=True)

    async def welcomed_hook(self):
        """A colleague offers siti a chat (siti must be connected to be offered one)."""
        if self.offer:
            await dbthreads.run(self._offer)()

    def _offer(self):
        budi, refs = self.scene["budi"], self.refs
        offered = Transfer.objects.filter(pk=refs.get("transfer"), status=Transfer.Status.OFFERED).first()
        if offered is None:
            _identity, refs["offered"] = start_chat(self.scene["site"].key, claim_by=budi)
            refs["transfer"] = handoff.do_offer_transfer(
                user=budi, conversation_id=refs["offered"], to_user_id=self.scene["siti"].pk, note="Tolong",
                outbox=Outbox()).pk


@given(example=examples("librarian"), offer=st.booleans())
@settings(max_examples=examples_for("librarian"))
async def test_librarian_socket(scene, example, offer):
    """siti's dashboard, with a chat waiting, one she holds, one ended, and sometimes a transfer offered to her."""
    socket = LibrarianExample(scene, offer)
    await run_example("librarian", socket, example, {"type": "hello", "v": 1, "lang": "en"}, prepare=socket.prepare)


@given(example=examples("staff"), logged_in=st.sampled_from([False, True, True, True]))
@settings(max_examples=examples_for("staff"))
async def test_staff_page_socket(scene, example, logged_in):
    """A staff page's duty socket: hello, heartbeat and ping, and everything else it must refuse;
    now and then without a login."""
    cookie = [(b"cookie", scene["cookie"].encode())] if logged_in else []
    socket = Example("/ws/staff/", cookie, dict(scene["refs"]))
    socket.refused = not logged_in
    await run_example("staff", socket, example, {"type": "hello", "v": 1, "lang": "en"},
                      prepare=lambda: make_room(scene["siti"]))
