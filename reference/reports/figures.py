"""The figures of a report, worked out from the conversations a ReportQuery covers.

Counting rules (docs/reports.md says them for librarians):
- A conversation belongs to the day and hour it started, in the library's time zone; a chat that
  runs past midnight or a month's end counts once, on the day it started.
- Chats started are live chats; questions left while nobody was on duty are counted apart.
- Answered: a librarian wrote in it. Abandoned while waiting: it ended before any librarian took it.
  Taken but unanswered: a librarian took it and it ended without a librarian message.
- Transferred: handed to a colleague at least once; counted once however often it moved. The
  librarian who finished a chat handled it; workload counts everyone who held it and passed it on.
- Waiting: from asking until a librarian first took it. First response: from asking until the first
  librarian message. Duration: from being taken until it ended. Percentiles are nearest-rank.

One pass over the period's conversations (a few columns each) gives volume, speed, ratings and
effort; topics, transfers, FAQ use and time on duty are grouped by the database. Measured on a year
of a busy library in bench/reports.py: see docs/reports.md for why no roll-up table is needed.
"""

import datetime as dt
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import cached_property

from django.db import connections
from django.db.models import Count, FloatField, Func, Q, Sum
from django.utils import timezone

from reference import surveys
from reference.models import (
    READ_SCALE,
    Conversation,
    DutySpell,
    FaqActivity,
    FaqEntry,
    LibrarianProfile,
    Library,
    QuestionType,
    Topic,
    Transfer,
)

COMMENTS_SHOWN = 50
TOP_ENTRIES = 10
TOP_TOPICS = 15



class Epoch(Func):
    """A datetime column as seconds since 1970, worked out by the database."""

    output_field = FloatField()

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="((julianday(%(expressions)s) - 2440587.5) * 86400.0)",
                           **extra)

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="EXTRACT(EPOCH FROM %(expressions)s)::float8", **extra)


class Seconds(Func):
    """Seconds from one datetime column to another (NULL when either is), worked out by the database."""

    output_field = FloatField()

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, arg_joiner=") - julianday(",
                           template="((julianday(%(expressions)s)) * 86400.0)", **extra)

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, arg_joiner=" - ",
                           template="EXTRACT(EPOCH FROM (%(expressions)s))::float8", **extra)


# Rows are plain tuples: a year is 100,000 of them, and the numbers arrive ready to use. The
# headline needs only the first seven columns, so the previous period reads just those.
_COLUMNS = {
    "wait": Seconds("first_assigned_at", "created_at"),
    "first_response": Seconds("first_response_at", "created_at"),
    "duration": Seconds("closed_at", "first_assigned_at"),
    "created": Epoch("created_at"),
}
_HEADLINE_FIELDS = ("wait", "first_response", "duration", "status", "is_offline", "rating", "pk")
_FIELDS = (*_HEADLINE_FIELDS, "created", "read_scale", "question_type", "librarian_id")
WAIT, FIRST_RESPONSE, DURATION, STATUS, OFFLINE, RATING, PK, CREATED, READ, QTYPE, LIBRARIAN = range(len(_FIELDS))
CLOSED = Conversation.Status.CLOSED


def _rows(conversations, fields=_FIELDS):
    """The conversations as tuples of `fields`, read by the cursor itself: Django's per-value
    converters would add half a second to a year's report and these columns need none."""
    columns = {name: expression for name, expression in _COLUMNS.items() if name in fields}
    sql, params = conversations.order_by().annotate(**columns).values_list(*fields).query.sql_with_params()
    with connections[conversations.db].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def percentile(ordered, share):
    """Nearest rank: the smallest value with at least `share` of the (sorted) values at or below it."""
    if not ordered:
        return None
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


@dataclass
class Headline:
    """The figures compared with the previous period."""

    started: int = 0
    answered: int = 0
    abandoned: int = 0
    unanswered: int = 0
    still_open: int = 0
    offline: int = 0
    offline_answered: int = 0
    transferred: int = 0
    wait: list = field(default_factory=list, repr=False)  # seconds, sorted
    first_response: list = field(default_factory=list, repr=False)
    duration: list = field(default_factory=list, repr=False)
    ratings: list = field(default_factory=list, repr=False)
    faq: dict = field(default_factory=dict)

    @property
    def rating_average(self):
        return round(sum(self.ratings) / len(self.ratings), 2) if self.ratings else None

    @property
    def answered_by_faq_share(self):
        """Of the questions that reached the desk or were solved by the FAQ in the widget, the share
        the FAQ solved: answered-in-widget / (that + chats started + offline questions)."""
        solved = self.faq.get(FaqActivity.Kind.ANSWERED, 0)
        total = solved + self.started + self.offline
        return round(100 * solved / total, 1) if total else None

    def speed(self, name, share):
        value = percentile(getattr(self, name), share)
        return None if value is None else round(value)


@dataclass
class LibrarianFigures:
    user_id: int
    name: str
    handled: int = 0
    handed_on: int = 0
    ratings: list = field(default_factory=list, repr=False)
    duty_seconds: float = 0
    held: set = field(default_factory=set, repr=False)  # ids of the chats they finished or passed on

    @property
    def workload(self):
        return len(self.held)

    @property
    def rating_average(self):
        return round(sum(self.ratings) / len(self.ratings), 2) if self.ratings else None

    @property
    def duty_hours(self):
        return round(self.duty_seconds / 3600, 1)


class Report:
    """The figures of one ReportQuery, each worked out when first read: the page reads them all, a
    table's CSV only what that table shows (most read the period's rows, fetched once)."""

    def __init__(self, query):
        self.query = query
        self.conversations = query.conversations()

    @cached_property
    def rows(self):
        return _rows(self.conversations)

    @cached_property
    def transfers(self):
        return _transfers(self.rows, self.query)

    @cached_property
    def hours(self):
        return _hours(self.rows, self.query)

    @cached_property
    def headline(self):
        return _headline(self.rows, self.transfers, self.query)

    @cached_property
    def previous(self):
        return headline_only(self.query.previous())

    @cached_property
    def by_day(self):
        """[(date, started, answered, abandoned, offline)] for every day of the period."""
        return _by_day(self.rows, self.hours, self.query)

    @cached_property
    def heatmap(self):
        """7 rows (Monday first) of 24 counts of questions asked."""
        return _heatmap(self.hours)

    @cached_property
    def rating_counts(self):
        return _rating_counts(self.rows)

    @cached_property
    def comments(self):
        """[(conversation id, rating, comment, rated at)], newest first."""
        return _comments(self.conversations)

    @cached_property
    def read_counts(self):
        return _read_counts(self.rows)

    @cached_property
    def question_types(self):
        return _question_types(self.rows)

    @cached_property
    def topics(self):
        return _topics(self.conversations)

    @cached_property
    def survey(self):
        return surveys.survey_results(self.conversations)

    @cached_property
    def faq_entries(self):
        return _faq_entries(self.query)

    @cached_property
    def librarians(self):
        return _librarians(self.rows, self.transfers, self.query)


def build_report(query):
    return Report(query)


def headline_only(query):
    """The headline figures of a period: the comparison, and the monthly summary."""
    rows = _rows(query.conversations(), _HEADLINE_FIELDS)
    return _headline(rows, _transfers(rows, query), query)


def _transfers(rows, query):
    """(conversation id, from user) of every accepted handoff to a colleague in the period's chats.
    A handoff comes after its chat started, so the few since the period began are read and kept
    when their chat is one of the rows: cheaper than joining the period's conversations again."""
    ids = {row[PK] for row in rows}
    since, _until = query.bounds()
    handoffs = (Transfer.objects.filter(status=Transfer.Status.ACCEPTED, created_at__gte=since)
                .values_list("conversation_id", "from_user_id").distinct())
    return [handoff for handoff in handoffs if handoff[0] in ids]


def _headline(rows, transfers, query):
    figures = Headline(transferred=len({conversation_id for conversation_id, _user in transfers}),
                       faq=_faq_counts(query))
    for wait, first_response, duration, status, offline, rating, *_rest in rows:
        if rating:  # a patron rates a live chat in the widget, an offline answer from its e-mail
            figures.ratings.append(rating)
        if offline:
            figures.offline += 1
            figures.offline_answered += first_response is not None
            continue
        figures.started += 1
        if wait is not None:
            figures.wait.append(wait)
        if first_response is not None:
            figures.answered += 1
            figures.first_response.append(first_response)
            if duration is not None:
                figures.duration.append(duration)
        elif status != CLOSED:
            figures.still_open += 1
        elif wait is None:
            figures.abandoned += 1
        else:
            figures.unanswered += 1
    for times in (figures.wait, figures.first_response, figures.duration):
        times.sort()  # once, for every percentile read from it
    return figures


def _local_hours(query):
    """For each hour of the period (counted in UTC from its first local midnight): its local date,
    weekday and hour. Rows then find their hour by arithmetic, not by converting each time; exact for
    time zones a whole number of hours from UTC, such as all of Indonesia's."""
    since, until = query.bounds()
    hours = int((until - since).total_seconds() // 3600)
    tz = query.tz
    local = [(since + dt.timedelta(hours=n)).astimezone(tz) for n in range(hours)]
    return since.timestamp(), [(t.date(), t.weekday(), t.hour) for t in local]


def _hours(rows, query):
    """The local (date, weekday, hour) each row started in; None outside the period."""
    start, hours = _local_hours(query)
    last = len(hours)
    # Rounded to the millisecond first: SQLite's julianday() arithmetic is a few microseconds off, and
    # a chat asked at 20:00:00 must not land in the hour before.
    return [hours[i] if 0 <= (i := int(round(row[CREATED] - start, 3) // 3600)) < last else None for row in rows]


def _by_day(rows, hours, query):
    days = {query.start + dt.timedelta(days=n): [0, 0, 0, 0] for n in range(query.days)}
    for row, hour in zip(rows, hours, strict=True):
        counts = days.get(hour[0]) if hour else None
        if counts is None:
            continue
        if row[OFFLINE]:
            counts[3] += 1
        else:
            counts[0] += 1
            if row[FIRST_RESPONSE] is not None:
                counts[1] += 1
            elif row[WAIT] is None and row[STATUS] == CLOSED:
                counts[2] += 1
    return [(day, *counts) for day, counts in days.items()]


def _heatmap(hours):
    """Questions asked (live and offline) per weekday and hour: when patrons want the desk."""
    grid = [[0] * 24 for _ in range(7)]
    for hour in hours:
        if hour:
            grid[hour[1]][hour[2]] += 1
    return grid


def _comments(conversations):
    return list(conversations.exclude(rating_comment="").order_by("-rated_at")
                .values_list("pk", "rating", "rating_comment", "rated_at")[:COMMENTS_SHOWN])


def _rating_counts(rows):
    counts = Counter({n: 0 for n in range(1, 6)})
    counts.update(row[RATING] for row in rows if row[RATING])
    return counts


def _read_counts(rows):
    counts = Counter({n: 0 for n in READ_SCALE})
    counts.update(row[READ] for row in rows if not row[OFFLINE] and row[FIRST_RESPONSE] is not None)
    return counts


def _question_types(rows):
    counts = Counter(row[QTYPE] for row in rows if row[QTYPE])
    return [(str(label), counts.get(value, 0)) for value, label in QuestionType.choices]


def _topics(conversations):
    through = Conversation.topics.through
    counts = (through.objects.filter(conversation__in=conversations.order_by().values("pk")).values("topic_id")
              .annotate(n=Count("conversation_id")).order_by("-n")[:TOP_TOPICS])
    labels = {t.pk: t for t in Topic.objects.filter(pk__in=[c["topic_id"] for c in counts])}
    return [(labels[c["topic_id"]], c["n"]) for c in counts if c["topic_id"] in labels]


def _faq_activity(query):
    """The library's FAQ use in the period: counted at its widget sites or on its entries. Counts
    tied to neither (a search on the public FAQ pages) are the first library's, whose FAQ /faq/ is."""
    since, until = query.bounds()
    library = query.library
    mine = Q(site__library=library) | Q(site__isnull=True, entry__library=library)
    if library.pk == Library.objects.order_by("pk").values_list("pk", flat=True).first():
        mine |= Q(site__isnull=True, entry__isnull=True)
    activity = FaqActivity.objects.filter(mine, hour__gte=since, hour__lt=until)
    if query.site:
        activity = activity.filter(site=query.site)
    return activity


def _faq_counts(query):
    totals = _faq_activity(query).values("kind").annotate(n=Sum("count"))
    counts = {kind: 0 for kind in FaqActivity.Kind.values}
    counts.update({t["kind"]: t["n"] for t in totals})
    return counts


def _faq_entries(query):
    """The entries patrons read most in the period, with how often each solved a question in the widget."""
    per_entry = defaultdict(lambda: [0, 0])
    kinds = [FaqActivity.Kind.VIEW, FaqActivity.Kind.ANSWERED]
    rows = (_faq_activity(query).filter(entry__isnull=False, kind__in=kinds)
            .values("entry_id", "kind").annotate(n=Sum("count")))
    for row in rows:
        per_entry[row["entry_id"]][row["kind"] == FaqActivity.Kind.ANSWERED] += row["n"]
    top = sorted(per_entry.items(), key=lambda item: (-sum(item[1]), item[0]))[:TOP_ENTRIES]
    entries = FaqEntry.objects.in_bulk([entry_id for entry_id, _counts in top])
    return [(entries[entry_id], views, answered) for entry_id, (views, answered) in top if entry_id in entries]


def _librarians(rows, transfers, query):
    profiles = (LibrarianProfile.objects.filter(Q(library=query.library) | Q(other_libraries=query.library),
                                                user__is_staff=True).distinct())
    if query.librarian:
        profiles = profiles.filter(user=query.librarian)
    figures = {p.user_id: LibrarianFigures(p.user_id, p.display_name) for p in profiles}
    for row in rows:
        mine = figures.get(row[LIBRARIAN])
        if mine and row[STATUS] == CLOSED:
            mine.handled += 1
            mine.held.add(row[PK])
            if row[RATING]:
                mine.ratings.append(row[RATING])
    for conversation_id, from_user_id in transfers:
        if from_user_id in figures:
            figures[from_user_id].handed_on += 1
            figures[from_user_id].held.add(conversation_id)
    for user_id, seconds in _duty_seconds(query, figures.keys()).items():
        figures[user_id].duty_seconds = seconds
    return sorted(figures.values(), key=lambda f: (-f.workload, f.name))


def _duty_seconds(query, user_ids):
    """Time on duty within the period: closed spells that overlap it, and spells still open now."""
    since, until = query.bounds()
    totals = defaultdict(float)

    def add(user_id, start, end):
        overlap = (min(end, until) - max(start, since)).total_seconds()
        if overlap > 0:
            totals[user_id] += overlap

    for user_id, start, end in DutySpell.objects.filter(
            user_id__in=user_ids, started_at__lt=until, ended_at__gt=since).values_list(
            "user_id", "started_at", "ended_at"):
        add(user_id, start, end)
    now = timezone.now()
    for user_id, start in LibrarianProfile.objects.filter(
            user_id__in=user_ids, on_duty_since__lt=until).values_list("user_id", "on_duty_since"):
        add(user_id, start, now)
    return totals
