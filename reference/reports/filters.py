"""Which conversations a report covers: a period of whole days in the library's time zone, and
optionally one queue, one librarian, one widget site. Shared by the report page, its CSV tables,
the transcript exports and the monthly summary.

A viewer without the manager permission (reference.view_desk_reports) always gets their own
figures: the librarian filter is theirs whatever they ask for.
"""

import datetime as dt
import zoneinfo
from dataclasses import dataclass, replace

from reference.models import Conversation, Library, Queue
from reference.presence import librarian_profile
from reference.reports.forms import ReportFilterForm
from widgets.models import Site

MANAGE_PERMISSION = "reference.view_desk_reports"


def can_see_whole_desk(user):
    return user.has_perm(MANAGE_PERMISSION)


@dataclass(frozen=True)
class ReportQuery:
    library: Library
    start: dt.date  # first day, inclusive, in the library's time zone
    end: dt.date  # last day, inclusive
    queue: Queue | None = None
    librarian: object = None  # a User
    site: Site | None = None
    own_figures_only: bool = False  # the viewer may not see colleagues' figures

    @property
    def tz(self):
        return zoneinfo.ZoneInfo(self.library.time_zone)

    @property
    def days(self):
        return (self.end - self.start).days + 1

    def bounds(self):
        """The period as aware datetimes: from the start day's midnight up to (not including) the
        midnight after the end day, in the library's zone, so DST days are as long as they are."""
        return (dt.datetime.combine(self.start, dt.time(), self.tz),
                dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time(), self.tz))

    def previous(self):
        """The period of the same length just before this one, with the same filters."""
        return replace(self, start=self.start - dt.timedelta(days=self.days),
                       end=self.start - dt.timedelta(days=1))

    def conversations(self):
        """The conversations started in the period at the library's sites, filtered."""
        since, until = self.bounds()
        conversations = Conversation.objects.filter(site__library=self.library, created_at__gte=since,
                                                    created_at__lt=until)
        if self.queue:
            conversations = conversations.filter(queue=self.queue)
        if self.site:
            conversations = conversations.filter(site=self.site)
        if self.librarian:
            conversations = conversations.filter(librarian=self.librarian)
        return conversations

    def params(self):
        """The query string that asks for this report again (for export links)."""
        values = {"start": self.start.isoformat(), "end": self.end.isoformat()}
        for name in ("queue", "librarian", "site"):
            chosen = getattr(self, name)
            if chosen is not None:
                values[name] = chosen.pk
        if self.own_figures_only:
            values.pop("librarian", None)
        return values


class ReportError(ValueError):
    """The request does not describe a report: its messages say why, for a person to read."""

    def __init__(self, messages):
        super().__init__("; ".join(messages))
        self.messages = messages


def report_query(user, data, library=None):
    """The ReportQuery the GET parameters ask for in `library` (the staff page's current library,
    reference.library_scope; by default the user's home library), as this user may see it. Returns
    (form, query); query is None when the form is invalid (form.errors says why)."""
    if library is None:
        library = librarian_profile(user).library
    whole_desk = can_see_whole_desk(user)
    form = ReportFilterForm(data, library=library, whole_desk=whole_desk)
    if not form.is_valid():
        return form, None
    cleaned = form.cleaned_data
    query = ReportQuery(
        library=library, start=cleaned["start"], end=cleaned["end"], queue=cleaned.get("queue"),
        site=cleaned.get("site"), librarian=cleaned.get("librarian") if whole_desk else user,
        own_figures_only=not whole_desk)
    return form, query


def report_query_or_error(user, data, library=None):
    """For exports, which have no form to show: the query, or ReportError with readable messages."""
    form, query = report_query(user, data, library)
    if query is None:
        raise ReportError([str(message) for messages in form.errors.values() for message in messages])
    return query
