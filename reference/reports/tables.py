"""A report as tables: what the page shows beside each chart and what each CSV export holds.

One definition serves both, so a figure on the page and in its spreadsheet never disagree. Cells
are plain values (numbers, dates, text); the page may link a row (`links`).
"""

from dataclasses import dataclass, field

from django.urls import reverse
from django.utils.dates import WEEKDAYS
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from reference import surveys
from reference.assessment import READ_LEVELS
from reference.models import SurveyAnswer


@dataclass
class Table:
    name: str  # the CSV's name: /staff/reports/export/<name>.csv
    title: str
    header: list
    rows: list
    links: list = field(default_factory=list)  # a URL per row for its first cell, or empty

    @property
    def rows_with_links(self):
        return zip(self.rows, self.links or [None] * len(self.rows), strict=True)


def change(now, before):
    """The change from the previous period in percent, or None when there is nothing to compare."""
    if now is None or before in (None, 0):
        return None
    return round(100 * (now - before) / before, 1)


def _local(moment, query):
    return moment.astimezone(query.tz).strftime("%Y-%m-%d %H:%M") if moment else ""


def _minutes(seconds):
    return None if seconds is None else round(seconds / 60, 1)


def summary_rows(report):
    """(label, this period, previous period, change %, lower_is_better) for the headline figures."""
    now, before = report.headline, report.previous

    def figure(label, getter, lower_is_better=False):
        this, last = getter(now), getter(before)
        return (label, this, last, change(this, last), lower_is_better)

    return [
        figure(_("Chats started"), lambda h: h.started),
        figure(_("Answered"), lambda h: h.answered),
        figure(_("Abandoned while waiting"), lambda h: h.abandoned, True),
        figure(_("Taken but not answered"), lambda h: h.unanswered, True),
        figure(_("Still open"), lambda h: h.still_open),
        figure(_("Offline questions"), lambda h: h.offline),
        figure(_("Offline questions answered"), lambda h: h.offline_answered),
        figure(_("Transferred"), lambda h: h.transferred),
        figure(_("Waiting, median (min)"), lambda h: _minutes(h.speed("wait", .5)), True),
        figure(_("Waiting, 90th percentile (min)"), lambda h: _minutes(h.speed("wait", .9)), True),
        figure(_("First response, median (min)"), lambda h: _minutes(h.speed("first_response", .5)), True),
        figure(_("First response, 90th percentile (min)"), lambda h: _minutes(h.speed("first_response", .9)), True),
        figure(_("Chat duration, median (min)"), lambda h: _minutes(h.speed("duration", .5))),
        figure(_("Chat duration, 90th percentile (min)"), lambda h: _minutes(h.speed("duration", .9))),
        figure(_("Ratings"), lambda h: len(h.ratings)),
        figure(_("Average rating (1–5)"), lambda h: h.rating_average),
        figure(_("FAQ searches"), lambda h: h.faq["search"]),
        figure(_("FAQ searches that found nothing"), lambda h: h.faq["miss"], True),
        figure(_("Questions the FAQ answered in the widget"), lambda h: h.faq["answered"]),
        figure(_("Share of questions the FAQ answered (%)"), lambda h: h.answered_by_faq_share),
    ]


def _summary(report):
    return Table("summary", _("Summary"), [_("Figure"), _("This period"), _("Previous period"), _("Change (%)")],
                 [row[:4] for row in summary_rows(report)])


def _daily(report):
    return Table("daily", _("Chats by day"),
                 [_("Day"), _("Chats started"), _("Answered"), _("Abandoned while waiting"), _("Offline questions")],
                 [list(row) for row in report.by_day])


def _hours(report):
    return Table("hours", _("Questions by weekday and hour"), [_("Weekday"), *[f"{h:02d}" for h in range(24)]],
                 [[str(WEEKDAYS[n]), *report.heatmap[n]] for n in range(7)])


def _ratings(report):
    return Table("ratings", _("Ratings"), [_("Rating"), _("Chats")],
                 [[n, report.rating_counts[n]] for n in range(5, 0, -1)])


def _comments(report):
    return Table("comments", _("Comments"), [_("Transcript"), _("Rating"), _("Comment"), _("Rated")],
                 [[f"#{pk}", rating, comment, _local(rated_at, report.query)]
                  for pk, rating, comment, rated_at in report.comments],
                 links=[reverse("reference:transcript", args=[pk]) for pk, *_rest in report.comments])


def _survey(report):
    return Table("survey", _("Survey answers"), [_("Question"), _("Answer"), _("Answers")],
                 _survey_rows(report.survey))


def _survey_words(report):
    return Table("survey_texts", _("Survey answers in the patrons' words"),
                 [_("Transcript"), _("Question"), _("Answer"), _("Answered")],
                 *_survey_texts(report.survey, report.query))


def _read_scale(report):
    return Table("read_scale", _("Effort (READ scale)"), [_("READ level"), _("Chats")],
                 [*([f"{level} · {name}", report.read_counts[level]] for level, name, _help in READ_LEVELS),
                  [_("Not assessed"), report.read_counts.get(None, 0)]])


def _question_types(report):
    return Table("question_types", _("Question types"), [_("Question type"), _("Chats")],
                 [list(row) for row in report.question_types])


def _topics(report):
    return Table("topics", _("Top topics"), [_("Topic"), _("Chats")], [[str(topic), n] for topic, n in report.topics])


def _faq(report):
    return Table("faq", _("FAQ use"), [_("Figure"), _("This period")], _faq_rows(report))


def _faq_entries(report):
    return Table("faq_entries", _("Most read FAQ entries"), [_("Entry"), _("Views"), _("Answered in the widget")],
                 [[entry.question, views, answered] for entry, views, answered in report.faq_entries],
                 links=[reverse("faq:detail", args=[entry.slug]) for entry, *_rest in report.faq_entries])


def _librarians(report):
    return Table("librarians", _("Librarians"),
                 [_("Librarian"), _("Chats finished"), _("Workload"), _("Handed on"), _("Average rating"),
                  _("Hours on duty")],
                 [[f.name, f.handled, f.workload, f.handed_on, f.rating_average, f.duty_hours]
                  for f in report.librarians])


# In the order the page shows them; the key is the table's CSV name.
TABLES = {"summary": _summary, "daily": _daily, "hours": _hours, "ratings": _ratings, "comments": _comments,
          "survey": _survey, "survey_texts": _survey_words, "read_scale": _read_scale,
          "question_types": _question_types, "topics": _topics, "faq": _faq, "faq_entries": _faq_entries,
          "librarians": _librarians}


def build_tables(report):
    """Every table of the report, in the order the page shows them."""
    return [make(report) for make in TABLES.values()]


def build_table(report, name):
    """One table, working out only the figures it shows. KeyError for a name that is no table."""
    return TABLES[name](report)


def _faq_rows(report):
    faq = report.headline.faq
    return [
        [_("Searches"), faq["search"]],
        [_("Searches that found nothing"), faq["miss"]],
        [_("Entry views"), faq["view"]],
        [_("Marked helpful"), faq["helpful"]],
        [_("Marked not helpful"), faq["not_helpful"]],
        [_("Questions the FAQ answered in the widget"), faq["answered"]],
        [_("Chats started"), report.headline.started],
        [_("Share of questions the FAQ answered (%)"), report.headline.answered_by_faq_share],
    ]


def _survey_rows(results):
    """A row per possible answer of each yes / partly / no and 1–5 question, and its average."""
    choices = dict(SurveyAnswer.Choice.choices)
    several = _several_sites(results)
    rows = []
    for result in results:
        text = _question(result, several)
        rows += [[text, str(choices.get(value, value)), count] for value, count in result.counts.items()]
        if result.average is not None:
            rows.append([text, _("Average (1–5)"), result.average])
    return rows


def _survey_texts(results, query):
    answers = [(result, answer) for result in results for answer in result.texts]
    several = _several_sites(results)
    return ([[f"#{answer.conversation_id}", _question(result, several), answer.text, _local(answer.answered_at, query)]
             for result, answer in answers],
            [reverse("reference:transcript", args=[answer.conversation_id]) for _result, answer in answers])


def _several_sites(results):
    return len({result.question.site_id for result in results}) > 1


def _question(result, several_sites):
    """The question in the page's language, with its site's name when the report covers several."""
    text = surveys.question_text(result.question, (get_language() or "id")[:2])
    return f"{text} ({result.question.site.name})" if several_sites else text
