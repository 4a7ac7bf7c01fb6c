"""Transcript exports: the conversations a ReportQuery covers, with their messages, as CSV or JSON
(docs/exports.md).

Both are made while they are sent. One aggregate query first (the period's count, checked against
REPORT_EXPORT_MAX_CONVERSATIONS, and its first and last key); then conversations are read
CHUNK_SIZE at a time in primary-key order (keyset pagination), each chunk's topics, survey answers,
messages and notes in one query each, as plain values, so memory stays flat whatever the period.
Patrons' personal data and internal notes are exported only for staff with
reference.export_personal_data; otherwise a patron is a stable pseudonym. Only the transcripts the
person exporting may read are exported (selectors.visible_transcripts).
"""

import datetime as dt
import json
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Count, IntegerField, Max, Min, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import formats, timezone, translation
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from reference import selectors
from reference.frames import librarian_name
from reference.models import (
    Conversation,
    InternalNote,
    Message,
    QuestionType,
    Queue,
    Role,
    SurveyAnswer,
    Transfer,
)
from reference.reports.filters import ReportError
from reference.reports.streaming import csv_chunks
from widgets.models import Site

PERSONAL_DATA_PERMISSION = "reference.export_personal_data"
CHUNK_SIZE = 500
HANDOFFS = (Transfer.Status.ACCEPTED, Transfer.Status.REQUEUED)  # transfers that moved the chat


class ExportTooLarge(ReportError):
    def __init__(self, count, limit):
        super().__init__([_(
            "This period has %(count)s conversations; an export holds at most %(limit)s. Choose a shorter "
            "period, or a queue, librarian or widget site.") % {
                "count": formats.number_format(count, force_grouping=True),
                "limit": formats.number_format(limit, force_grouping=True)}])
        self.count, self.limit = count, limit


def may_export_personal_data(user):
    return user.has_perm(PERSONAL_DATA_PERMISSION)


@dataclass(frozen=True)
class TranscriptExport:
    """What one export covers, checked against the limit before anything is sent."""

    query: object  # a ReportQuery
    personal: bool  # patrons' names, e-mail addresses, card numbers and internal notes included
    visible: Q  # the conversations the person exporting may read (selectors.visible_transcripts)
    count: int
    first_pk: int | None
    last_pk: int | None

    def filename(self, extension):
        return f"transcripts-{self.query.start.isoformat()}-{self.query.end.isoformat()}.{extension}"


def check_transcript_export(query, *, personal, viewer):
    """The export of `query`'s conversations that `viewer` may read, or ExportTooLarge past
    REPORT_EXPORT_MAX_CONVERSATIONS. One aggregate query over the period (its count and first and
    last key), nothing over messages."""
    visible = selectors.visible_transcripts(viewer)
    span = query.conversations().filter(visible).aggregate(count=Count("pk"), first_pk=Min("pk"), last_pk=Max("pk"))
    limit = settings.REPORT_EXPORT_MAX_CONVERSATIONS
    if span["count"] > limit:
        raise ExportTooLarge(span["count"], limit)
    return TranscriptExport(query=query, personal=personal, visible=visible, **span)


def audit_detail(export, extension):
    """What the audit trail keeps of an export: its filters, format, size and personal data."""
    query = export.query
    filters = {"start": query.start.isoformat(), "end": query.end.isoformat()}
    if query.queue:
        filters["queue"] = query.queue.name
    if query.librarian:
        filters["librarian"] = librarian_name(query.librarian)
    if query.site:
        filters["site"] = query.site.name
    return {"filters": filters, "format": extension, "personal_data": export.personal,
            "conversations": export.count}


# ---- reading, a chunk at a time (plain values, not model instances: a year is a million messages)

CONVERSATION_FIELDS = (
    "id", "patron_id", "site_id", "queue_id", "librarian_id", "closed_by_id", "closed_by_role", "status",
    "is_offline", "created_at", "first_assigned_at", "first_response_at", "closed_at", "rating",
    "rating_comment", "read_scale", "question_type", "handoffs")
PATRON_FIELDS = ("patron__name", "patron__email", "patron__library_card__number")


def _handoff_count():
    handoffs = (Transfer.objects.filter(conversation=OuterRef("pk"), status__in=HANDOFFS)
                .values("conversation").annotate(n=Count("pk")).values("n"))
    return Coalesce(Subquery(handoffs, output_field=IntegerField()), 0)


def _conversations(export):
    fields = CONVERSATION_FIELDS + (PATRON_FIELDS if export.personal else ())
    return (export.query.conversations().filter(export.visible, pk__lte=export.last_pk)
            .annotate(handoffs=_handoff_count()).order_by("pk").values(*fields))


def _chunks(export):
    """Lists of at most CHUNK_SIZE conversations (dicts of CONVERSATION_FIELDS) in primary-key order,
    each with its topics, survey answers, messages and (personal data only) notes."""
    if not export.count:
        return
    conversations = _conversations(export)
    after = export.first_pk - 1
    while chunk := list(conversations.filter(pk__gt=after)[:CHUNK_SIZE]):
        by_id = {row["id"]: {**row, "topics": [], "survey": [], "messages": [], "notes": []} for row in chunk}
        _attach_assessment(by_id)
        _attach_messages(by_id)
        if export.personal:
            _attach_notes(by_id)
        yield list(by_id.values())
        after = chunk[-1]["id"]


def _attach_assessment(by_id):
    english = translation.get_language() == "en"
    topics = (Conversation.topics.through.objects.filter(conversation_id__in=by_id)
              .order_by("topic__label_id").values_list("conversation_id", "topic__label_id", "topic__label_en"))
    for conversation_id, label_id, label_en in topics:
        by_id[conversation_id]["topics"].append(label_en if english else label_id)
    answers = (SurveyAnswer.objects.filter(conversation_id__in=by_id).order_by("question__position", "pk")
               .values_list("conversation_id", "question__text_id", "question__text_en", "choice", "score", "text"))
    for conversation_id, question_id, question_en, choice, score, text in answers:
        answer = str(SurveyAnswer.Choice(choice).label) if choice else score if score is not None else text
        by_id[conversation_id]["survey"].append(
            {"question": question_en if english else question_id, "answer": answer})


def _attach_messages(by_id):
    rows = (Message.objects.filter(conversation_id__in=by_id).order_by("conversation_id", "seq")
            .values_list("conversation_id", "seq", "created_at", "role", "author_name", "text", "attachment__name"))
    for conversation_id, seq, at, role, author, text, attachment in rows:
        by_id[conversation_id]["messages"].append(
            {"seq": seq, "at": at, "role": role, "author": author, "text": text, "attachment": attachment})


def _attach_notes(by_id):
    """The notes written on each conversation, and those about its patron (its widget identity)."""
    by_patron = {}
    for row in by_id.values():
        by_patron.setdefault(row["patron_id"], []).append(row)
    notes = (InternalNote.objects
             .filter(Q(conversation_id__in=by_id) | Q(conversation__isnull=True, patron_id__in=by_patron))
             .order_by("created_at", "pk")
             .values_list("conversation_id", "patron_id", "created_at", "author_name", "text"))
    for conversation_id, patron_id, at, author, text in notes:
        about = [by_id[conversation_id]] if conversation_id else by_patron[patron_id]
        for row in about:
            row["notes"].append({"at": at, "author": author, "text": text,
                                 "about": "conversation" if conversation_id else "patron"})


class _Names:
    """Names looked up once per export: queues, the library's sites, and librarians as they come."""

    def __init__(self, library):
        self.queues = dict(Queue.objects.values_list("pk", "name"))
        self.sites = dict(Site.objects.filter(library=library).values_list("pk", "name"))
        self.closers = _labels(Role)
        self.users = {None: ""}

    def learn_librarians(self, chunk):
        unknown = {row[key] for row in chunk for key in ("librarian_id", "closed_by_id")} - self.users.keys()
        for user in get_user_model().objects.filter(pk__in=unknown).select_related("librarian_profile"):
            self.users[user.pk] = librarian_name(user)

    def closed_by(self, row):
        if row["closed_by_id"]:
            return self.users[row["closed_by_id"]]
        return self.closers[row["closed_by_role"]]


# ---- one conversation as data

def patron_pseudonym(patron_id):
    """Stable across exports, and not the patron's database id: a file handed on cannot be joined back
    to the patron's record (it changes only if SECRET_KEY does)."""
    return "patron-" + salted_hmac("reference.reports.exports.patron", str(patron_id)).hexdigest()[:16]


def _time(value, tz):
    return value.astimezone(tz).isoformat(timespec="seconds") if value else None


def _patron(row, personal):
    if row["patron_id"] is None:  # erased, the chat anonymised: nobody to name
        return {"id": "", "anonymised": True}
    patron = {"id": patron_pseudonym(row["patron_id"])}
    if personal:
        patron.update(name=row["patron__name"], email=row["patron__email"],
                      library_card=row["patron__library_card__number"] or "")
    return patron


def _message(line, tz, pseudonym):
    """A message; `pseudonym` (when personal data is left out) signs the patron's messages."""
    author = pseudonym if pseudonym and line["role"] == Role.PATRON else line["author"]
    return {**line, "at": _time(line["at"], tz), "author": author}


def conversation_record(row, *, names, tz, personal):
    """A conversation as the JSON export holds it: codes for status, role and question type, times
    in the library's zone (ISO 8601), names and labels in the viewer's language. Without personal
    data the patron's messages are signed with their pseudonym instead of the name they gave."""
    patron = _patron(row, personal)
    pseudonym = None if personal else patron["id"]
    record = {
        "id": row["id"],
        "created_at": _time(row["created_at"], tz),
        "first_assigned_at": _time(row["first_assigned_at"], tz),
        "first_response_at": _time(row["first_response_at"], tz),
        "closed_at": _time(row["closed_at"], tz),
        "status": row["status"],
        "is_offline": row["is_offline"],
        "queue": names.queues[row["queue_id"]],
        "site": names.sites[row["site_id"]],
        "librarian": names.users[row["librarian_id"]],
        "closed_by_role": row["closed_by_role"],
        "closed_by": names.closed_by(row),
        "transfers": row["handoffs"],
        "rating": row["rating"],
        "rating_comment": row["rating_comment"],
        "read_scale": row["read_scale"],
        "question_type": row["question_type"],
        "topics": row["topics"],
        "survey": row["survey"],
        "patron": patron,
        "messages": [_message(line, tz, pseudonym) for line in row["messages"]],
    }
    if personal:
        record["notes"] = [{**note, "at": _time(note["at"], tz)} for note in row["notes"]]
    return record


def _query_record(export):
    query = export.query
    return {
        "library": query.library.name,
        "time_zone": query.library.time_zone,
        "start": query.start.isoformat(),
        "end": query.end.isoformat(),
        "queue": query.queue.name if query.queue else None,
        "librarian": librarian_name(query.librarian) if query.librarian else None,
        "site": query.site.name if query.site else None,
        "own_conversations_only": query.own_figures_only,
        "personal_data": export.personal,
        "conversations": export.count,
        "exported_at": _time(timezone.now(), query.tz),
    }


def records(export):
    """Every conversation's record, a chunk read at a time."""
    names = _Names(export.query.library)
    for chunk in _chunks(export):
        names.learn_librarians(chunk)
        for row in chunk:
            yield conversation_record(row, names=names, tz=export.query.tz, personal=export.personal)


# ---- JSON

def json_chunks(export):
    """{"query": {...}, "conversations": [...]} as UTF-8 pieces, one per chunk of conversations."""
    head = json.dumps({"query": _query_record(export)}, ensure_ascii=False)
    yield (head[:-1] + ', "conversations": [\n').encode()  # the object left open for the list
    pieces, separator = [], ""
    for record in records(export):
        pieces.append(separator + json.dumps(record, ensure_ascii=False))
        separator = ",\n"
        if len(pieces) == CHUNK_SIZE:
            yield "".join(pieces).encode()
            pieces = []
    yield ("".join(pieces) + "\n]}\n").encode()


# ---- CSV: one row per message (and per note), the conversation's columns repeated on each

def _labels(choices):
    """{code: label} in the active language, made once per export rather than once per cell."""
    return {"": "", **{value: str(label) for value, label in choices.choices}}


def _conversation_columns(personal):
    statuses, question_types, yes_no = _labels(Conversation.Status), _labels(QuestionType), {True: _("Yes"),
                                                                                            False: _("No")}
    columns = [
        (_("Conversation"), lambda r: r["id"]),
        (_("Started"), lambda r: r["created_at"]),
        (_("First taken"), lambda r: r["first_assigned_at"]),
        (_("First response"), lambda r: r["first_response_at"]),
        (_("Closed at"), lambda r: r["closed_at"]),
        (_("Status"), lambda r: statuses[r["status"]]),
        (_("Left offline"), lambda r: yes_no[r["is_offline"]]),
        (_("Queue"), lambda r: r["queue"]),
        (_("Widget site"), lambda r: r["site"]),
        (_("Librarian"), lambda r: r["librarian"]),
        (_("Closed by"), lambda r: r["closed_by"]),
        (_("Transfers"), lambda r: r["transfers"]),
        (_("Rating"), lambda r: r["rating"]),
        (_("Rating comment"), lambda r: r["rating_comment"]),
        (_("READ scale"), lambda r: r["read_scale"]),
        (_("Question type"), lambda r: question_types[r["question_type"]]),
        (_("Topics"), lambda r: "; ".join(r["topics"])),
        (_("Survey answers"), lambda r: "\n".join(f"{a['question']}: {a['answer']}" for a in r["survey"])),
        (_("Patron"), lambda r: r["patron"]["id"]),
    ]
    if personal:
        columns += [
            (_("Patron's name"), lambda r: r["patron"]["name"]),
            (_("Patron's e-mail"), lambda r: r["patron"]["email"]),
            (_("Library card number"), lambda r: r["patron"]["library_card"]),
        ]
    return columns


def _line_columns():
    roles, notes = _labels(Role), {"conversation": _("Note on this chat"), "patron": _("Note about the patron")}
    return [
        (_("Message number"), lambda line: line.get("seq")),
        (_("Time"), lambda line: line["at"]),
        (_("From"), lambda line: notes[line["about"]] if "about" in line else roles[line["role"]]),
        (_("Author"), lambda line: line["author"]),
        (_("Text"), lambda line: line["text"]),
        (_("Attachment"), lambda line: line.get("attachment") or ""),
    ]


def _lines(record):
    """Messages in order, each note placed at its time among them (the times are ISO 8601 text)."""
    if not record.get("notes"):
        return record["messages"]
    return sorted(record["messages"] + record["notes"], key=lambda line: dt.datetime.fromisoformat(line["at"]))


def _csv_rows(export, conversation_columns, line_columns):
    for record in records(export):
        conversation = [value(record) for _title, value in conversation_columns]
        lines = _lines(record)
        if not lines:  # a conversation with no message is still listed
            yield conversation + [None] * len(line_columns)
        for line in lines:
            yield conversation + [value(line) for _title, value in line_columns]


def csv_file_chunks(export):
    conversation_columns, line_columns = _conversation_columns(export.personal), _line_columns()
    header = [title for title, _value in conversation_columns + line_columns]
    return csv_chunks(header, _csv_rows(export, conversation_columns, line_columns))
