"""Transcript exports: the conversations a ReportQuery covers, with their messages, as CSV or JSON
(docs/exports.md).

Both are made while they are sent: conversations are read REPORT_EXPORT_MAX_CONVERSATIONS at most,
CHUNK_SIZE at a time in primary-key order (keyset pagination between the period's first and last
key), each chunk's messages, topics, survey answers and notes in one query each, so memory stays
flat whatever the period. Patrons' personal data and internal notes are exported only for staff
with reference.export_personal_data; otherwise a patron is a stable pseudonym.
"""

import datetime as dt
import json
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, IntegerField, Max, Min, OuterRef, Prefetch, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import formats, timezone, translation
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from reference.frames import librarian_name
from reference.models import Conversation, InternalNote, Message, QuestionType, Role, SurveyAnswer, Transfer
from reference.reports.filters import ReportError
from reference.reports.streaming import csv_chunks

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
    count: int
    first_pk: int | None
    last_pk: int | None

    def filename(self, extension):
        return f"transcripts-{self.query.start.isoformat()}-{self.query.end.isoformat()}.{extension}"


def check_transcript_export(query, *, personal):
    """The export of `query`'s conversations, or ExportTooLarge past REPORT_EXPORT_MAX_CONVERSATIONS.
    One aggregate query over the period (its count and first and last key), nothing over messages."""
    span = query.conversations().aggregate(count=Count("pk"), first_pk=Min("pk"), last_pk=Max("pk"))
    limit = settings.REPORT_EXPORT_MAX_CONVERSATIONS
    if span["count"] > limit:
        raise ExportTooLarge(span["count"], limit)
    return TranscriptExport(query=query, personal=personal, **span)


# ---- reading, a chunk at a time

def _handoff_count():
    handoffs = (Transfer.objects.filter(conversation=OuterRef("pk"), status__in=HANDOFFS)
                .values("conversation").annotate(n=Count("pk")).values("n"))
    return Coalesce(Subquery(handoffs, output_field=IntegerField()), 0)


def _conversations(export):
    related = ["queue", "site", "librarian__librarian_profile", "closed_by__librarian_profile"]
    if export.personal:
        related.append("patron__library_card")
    return (export.query.conversations()
            .filter(pk__lte=export.last_pk)
            .select_related(*related)
            .annotate(handoffs=_handoff_count())
            .prefetch_related("topics", Prefetch("survey_answers",
                                                 SurveyAnswer.objects.select_related("question")))
            .order_by("pk"))


def _chunks(export):
    """Lists of at most CHUNK_SIZE conversations, each with `.lines` (messages, then notes when
    personal data is exported) attached, in primary-key order."""
    if not export.count:
        return
    conversations = _conversations(export)
    after = export.first_pk - 1
    while chunk := list(conversations.filter(pk__gt=after)[:CHUNK_SIZE]):
        _attach_messages(chunk)
        if export.personal:
            _attach_notes(chunk)
        yield chunk
        after = chunk[-1].pk


def _attach_messages(chunk):
    by_id = {conversation.pk: conversation for conversation in chunk}
    for conversation in chunk:
        conversation.lines, conversation.notes_found = [], []
    rows = (Message.objects.filter(conversation_id__in=by_id).order_by("conversation_id", "seq")
            .values_list("conversation_id", "seq", "created_at", "role", "author_name", "text", "attachment__name"))
    for conversation_id, seq, at, role, author, text, attachment in rows:
        by_id[conversation_id].lines.append(
            {"seq": seq, "at": at, "role": role, "author": author, "text": text, "attachment": attachment})


def _attach_notes(chunk):
    """The notes written on each conversation, and those about its patron (its widget identity)."""
    by_patron = {}
    for conversation in chunk:
        by_patron.setdefault(conversation.patron_id, []).append(conversation)
    notes = (InternalNote.objects
             .filter(Q(conversation__in=chunk) | Q(conversation__isnull=True, patron_id__in=by_patron))
             .order_by("created_at", "pk"))
    by_id = {conversation.pk: conversation for conversation in chunk}
    for note in notes:
        about = [by_id[note.conversation_id]] if note.conversation_id else by_patron[note.patron_id]
        for conversation in about:
            conversation.notes_found.append({
                "at": note.created_at, "author": note.author_name, "text": note.text,
                "about": "conversation" if note.conversation_id else "patron"})


# ---- one conversation as data

def patron_pseudonym(patron_id):
    """Stable across exports, and not the patron's database id: a file handed on cannot be joined back
    to the patron's record (it changes only if SECRET_KEY does)."""
    return "patron-" + salted_hmac("reference.reports.exports.patron", str(patron_id)).hexdigest()[:16]


def _time(value, tz):
    return value.astimezone(tz).isoformat(timespec="seconds") if value else None


def _closed_by(conversation):
    if conversation.closed_by_id:
        return librarian_name(conversation.closed_by)
    return str(Role(conversation.closed_by_role).label) if conversation.closed_by_role else ""


def _in_language(english, indonesian):
    return english if translation.get_language() == "en" else indonesian


def _survey(conversation):
    answers = []
    for answer in conversation.survey_answers.all():
        if answer.choice:
            value = str(answer.get_choice_display())
        elif answer.score is not None:
            value = answer.score
        else:
            value = answer.text
        answers.append({"question": _in_language(answer.question.text_en, answer.question.text_id), "answer": value})
    return answers


def _patron(conversation, personal):
    patron = {"id": patron_pseudonym(conversation.patron_id)}
    if personal:
        card = getattr(conversation.patron, "library_card", None)
        patron.update(name=conversation.patron.name, email=conversation.patron.email,
                      library_card=card.number if card else "")
    return patron


def conversation_record(conversation, *, tz, personal):
    """A conversation as the JSON export holds it: codes for status, role and question type, times
    in the library's zone (ISO 8601), labels in the viewer's language."""
    record = {
        "id": conversation.pk,
        "created_at": _time(conversation.created_at, tz),
        "first_assigned_at": _time(conversation.first_assigned_at, tz),
        "first_response_at": _time(conversation.first_response_at, tz),
        "closed_at": _time(conversation.closed_at, tz),
        "status": conversation.status,
        "is_offline": conversation.is_offline,
        "queue": conversation.queue.name,
        "site": conversation.site.name,
        "librarian": librarian_name(conversation.librarian) if conversation.librarian_id else "",
        "closed_by_role": conversation.closed_by_role,
        "closed_by": _closed_by(conversation),
        "transfers": conversation.handoffs,
        "rating": conversation.rating,
        "rating_comment": conversation.rating_comment,
        "read_scale": conversation.read_scale,
        "question_type": conversation.question_type,
        "topics": [_in_language(topic.label_en, topic.label_id) for topic in conversation.topics.all()],
        "survey": _survey(conversation),
        "patron": _patron(conversation, personal),
        "messages": [{**line, "at": _time(line["at"], tz)} for line in conversation.lines],
    }
    if personal:
        record["notes"] = [{**note, "at": _time(note["at"], tz)} for note in conversation.notes_found]
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
    for chunk in _chunks(export):
        for conversation in chunk:
            yield conversation_record(conversation, tz=export.query.tz, personal=export.personal)


# ---- JSON

def json_chunks(export):
    """{"query": {...}, "conversations": [...]} as UTF-8 pieces, one per chunk of conversations."""
    head = json.dumps({"query": _query_record(export)}, ensure_ascii=False)
    yield (head[:-1] + ', "conversations": [\n').encode()
    separator = ""
    for chunk in _chunks(export):
        pieces = []
        for conversation in chunk:
            record = conversation_record(conversation, tz=export.query.tz, personal=export.personal)
            pieces.append(separator + json.dumps(record, ensure_ascii=False))
            separator = ",\n"
        yield "".join(pieces).encode()
    yield b"\n]}\n"


# ---- CSV: one row per message (and per note), the conversation's columns repeated on each

def _yes_no(value):
    return _("Yes") if value else _("No")


def _label(choices, value):
    return choices(value).label if value else ""


def _conversation_columns(personal):
    columns = [
        (_("Conversation"), lambda r: r["id"]),
        (_("Started"), lambda r: r["created_at"]),
        (_("First taken"), lambda r: r["first_assigned_at"]),
        (_("First response"), lambda r: r["first_response_at"]),
        (_("Closed"), lambda r: r["closed_at"]),
        (_("Status"), lambda r: _label(Conversation.Status, r["status"])),
        (_("Left offline"), lambda r: _yes_no(r["is_offline"])),
        (_("Queue"), lambda r: r["queue"]),
        (_("Widget site"), lambda r: r["site"]),
        (_("Librarian"), lambda r: r["librarian"]),
        (_("Closed by"), lambda r: r["closed_by"]),
        (_("Transfers"), lambda r: r["transfers"]),
        (_("Rating"), lambda r: r["rating"]),
        (_("Rating comment"), lambda r: r["rating_comment"]),
        (_("READ scale"), lambda r: r["read_scale"]),
        (_("Question type"), lambda r: _label(QuestionType, r["question_type"])),
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
    return [
        (_("Message number"), lambda line: line.get("seq")),
        (_("Time"), lambda line: line["at"]),
        (_("From"), _line_kind),
        (_("Author"), lambda line: line["author"]),
        (_("Text"), lambda line: line["text"]),
        (_("Attachment"), lambda line: line.get("attachment") or ""),
    ]


def _line_kind(line):
    if "about" not in line:
        return Role(line["role"]).label
    return _("Note on this chat") if line["about"] == "conversation" else _("Note about the patron")


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
