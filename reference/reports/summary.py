"""The monthly summary by e-mail: the month's headline figures and the change from the month
before, for each member of staff who asked for it (LibrarianProfile.monthly_summary).

A scheduler runs `manage.py send_monthly_summary` early on the 1st (docs/reports.md has the cron
line and the Procfile entry). Each profile records the month it was last sent, so a scheduler
that runs the command twice sends it once. Managers get the whole desk; everyone else their own
figures, as on the report page.
"""

import datetime as dt
import zoneinfo
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from reference.models import LibrarianProfile
from reference.presence import librarian_profile
from reference.reports.figures import headline_only
from reference.reports.filters import ReportQuery, can_see_whole_desk
from reference.reports.tables import summary_rows


@dataclass
class Comparison:
    """What summary_rows() reads from a report: this month's headline and the month before's."""

    headline: object
    previous: object


def last_month(library, now=None):
    """The first day of the month before this one, in the library's time zone."""
    today = (now or timezone.now()).astimezone(zoneinfo.ZoneInfo(library.time_zone)).date()
    return (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def month_query(library, first_day, user):
    """The whole calendar month starting on first_day, as `user` may see it."""
    next_month = (first_day + dt.timedelta(days=32)).replace(day=1)
    whole_desk = can_see_whole_desk(user)
    return ReportQuery(library=library, start=first_day, end=next_month - dt.timedelta(days=1),
                       librarian=None if whole_desk else user, own_figures_only=not whole_desk)


def compose_summary(profile, first_day):
    """The e-mail for one member of staff, in the site's language, not sent yet."""
    user, library = profile.user, profile.library
    query = month_query(library, first_day, user)
    before = month_query(library, (first_day - dt.timedelta(days=1)).replace(day=1), user)
    rows = summary_rows(Comparison(headline_only(query), headline_only(before)))
    link = settings.PUBLIC_URL.rstrip("/") + reverse("reports:page") + f"?start={query.start}&end={query.end}"
    with translation.override(settings.LANGUAGE_CODE):
        month = formats.date_format(first_day, "F Y")
        context = {"profile": profile, "library": library, "month": month, "rows": rows, "link": link,
                   "own_figures_only": query.own_figures_only}
        subject = _("Ruang Tanya: %(library)s in %(month)s") % {"library": library.name, "month": month}
        email = EmailMultiAlternatives(subject, render_to_string("reports/email/monthly_summary.txt", context),
                                       to=[user.email])
        email.attach_alternative(render_to_string("reports/email/monthly_summary.html", context), "text/html")
    return email


def do_set_monthly_summary(*, user, wanted):
    """Staff ask for the summary, or stop it, from the report page."""
    profile = librarian_profile(user)
    if profile.monthly_summary != wanted:
        profile.monthly_summary = wanted
        profile.save(update_fields=["monthly_summary"])
    return profile


def recipients():
    return (LibrarianProfile.objects.filter(monthly_summary=True, user__is_active=True, user__is_staff=True)
            .exclude(user__email="").select_related("user", "library"))


def do_send_monthly_summaries(*, first_day=None, now=None, force=False):
    """Send last month's summary (or first_day's month) to everyone who asked and has not had it.
    Returns how many were sent."""
    sent = 0
    for profile in recipients():
        month = first_day or last_month(profile.library, now)
        key = f"{month:%Y-%m}"
        if profile.monthly_summary_sent == key and not force:
            continue
        compose_summary(profile, month).send()
        LibrarianProfile.objects.filter(pk=profile.pk).update(monthly_summary_sent=key)
        sent += 1
    return sent
