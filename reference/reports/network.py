"""The network's cover figures: who answered whose patrons (reference.cover) over a period.

Per pair (home library, covering library): the chats a covering library's librarian took under a
cover agreement (Conversation.covering_library) that started in the period, how many of them got a
librarian's answer, and the median wait (from asking until a librarian first took the chat, as on
the desk report, nearest rank). Per covering librarian: the covered chats they wrote in.

Who reads what: `reference.view_network_reports` reads every pair; a manager of one desk
(`reference.view_desk_reports`) reads the pairs their current library is in, home or covering.
"""

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from types import SimpleNamespace

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import Count, F, Q
from django.utils.translation import gettext as _

from reference import tenancy
from reference.models import Conversation, Library, Message, Role
from reference.reports.figures import Seconds, percentile
from reference.reports.filters import MANAGE_PERMISSION
from reference.reports.forms import ReportFilterForm
from reference.reports.tables import Table

NETWORK_PERMISSION = "reference.view_network_reports"


class NetworkPeriodForm(ReportFilterForm):
    """The report page's period (its defaults and limits), without the desk's queue, librarian and
    site filters: days in `time_zone`."""

    def __init__(self, data, *, time_zone):
        super().__init__(data, library=None, whole_desk=False)
        self.library = SimpleNamespace(time_zone=time_zone)  # all its period check reads
        for name in ("queue", "site"):
            del self.fields[name]


@dataclass(frozen=True)
class NetworkQuery:
    start: dt.date
    end: dt.date
    time_zone: str
    library: Library | None = None  # None: the whole network; else only the pairs it is in

    def bounds(self):
        tz = zoneinfo.ZoneInfo(self.time_zone)
        return (dt.datetime.combine(self.start, dt.time(), tz),
                dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time(), tz))

    def params(self):
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}

    def covered(self):
        """The covered conversations that started in the period, as this reader may see them."""
        since, until = self.bounds()
        chats = Conversation.objects.filter(covering_library__isnull=False, created_at__gte=since,
                                            created_at__lt=until)
        if self.library is not None:
            chats = chats.filter(Q(site__library=self.library) | Q(covering_library=self.library))
        return chats


def viewer_library(user, request):
    """None for a reader of the whole network; else their current library (PermissionDenied for
    staff who may read neither)."""
    if user.has_perm(NETWORK_PERMISSION):
        return None
    if user.has_perm(MANAGE_PERMISSION):
        return tenancy.current_library(request)
    raise PermissionDenied


def network_query(request, data):
    """(form, query) for the GET parameters; query is None when the period is refused."""
    library = viewer_library(request.user, request)
    zone_library = library
    if zone_library is None and tenancy.library_ids(request.user):
        zone_library = tenancy.current_library(request)
    time_zone = zone_library.time_zone if zone_library is not None else settings.TIME_ZONE
    form = NetworkPeriodForm(data, time_zone=time_zone)
    if not form.is_valid():
        return form, None
    return form, NetworkQuery(start=form.cleaned_data["start"], end=form.cleaned_data["end"], time_zone=time_zone,
                              library=library)


@dataclass
class Pair:
    home: str
    covering: str
    covered: int = 0
    answered: int = 0
    median_wait: int | None = None  # seconds


def pairs(query):
    """Pair per (home, covering), ordered by home then covering library name."""
    rows = (query.covered().order_by()
            .annotate(wait=Seconds("first_assigned_at", "created_at"))
            .values_list("site__library__name", "covering_library__name", "first_response_at", "wait"))
    grouped = {}
    for home, covering, first_response_at, wait in rows:
        entry = grouped.setdefault((home, covering), (Pair(home, covering), []))
        entry[0].covered += 1
        entry[0].answered += first_response_at is not None
        if wait is not None:
            entry[1].append(wait)
    result = []
    for (_home, _covering), (pair, waits) in sorted(grouped.items()):
        waits.sort()
        median = percentile(waits, 0.5)
        pair.median_wait = None if median is None else round(median)
        result.append(pair)
    return result


def covering_librarians(query):
    """(covering library, librarian's display name, home library, chats answered): the covered chats
    each librarian of the covering library wrote in, most first."""
    member = (Q(author__librarian_profile__library=F("conversation__covering_library"))
              | Q(author__librarian_profile__other_libraries=F("conversation__covering_library")))
    rows = (Message.objects.filter(conversation__in=query.covered(), role=Role.LIBRARIAN, author__isnull=False)
            .filter(member).order_by()
            .values("conversation__covering_library__name", "author__librarian_profile__display_name",
                    "conversation__site__library__name")
            .annotate(answered=Count("conversation", distinct=True)))
    return sorted(((row["conversation__covering_library__name"], row["author__librarian_profile__display_name"],
                    row["conversation__site__library__name"], row["answered"]) for row in rows),
                  key=lambda row: (row[0], -row[3], row[1], row[2]))


def _minutes(seconds):
    return None if seconds is None else round(seconds / 60, 1)


def pairs_table(query):
    return Table("pairs", _("Chats answered for another library"),
                 [_("Home library"), _("Covering library"), _("Chats covered"), _("Answered"),
                  _("Median wait (minutes)")],
                 [[pair.home, pair.covering, pair.covered, pair.answered, _minutes(pair.median_wait)]
                  for pair in pairs(query)])


def librarians_table(query):
    return Table("librarians", _("Covering librarians"),
                 [_("Covering library"), _("Librarian"), _("For library"), _("Chats answered")],
                 [list(row) for row in covering_librarians(query)])


TABLES = {"pairs": pairs_table, "librarians": librarians_table}
