"""The report filter form: the period and the queue, librarian and site (reference.reports.filters
turns it into a ReportQuery)."""

import datetime as dt
import zoneinfo

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from reference import library_scope
from reference.forms import LibrarianChoiceField
from reference.models import Queue
from widgets.models import Site

MAX_DAYS = 731  # two years: a year and the year before it to compare with
DEFAULT_DAYS = 30


class ReportFilterForm(forms.Form):
    start = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    queue = forms.ModelChoiceField(
        label=_("Queue"), queryset=Queue.objects.none(), required=False, empty_label=_("All queues"),
        error_messages={"invalid_choice": _("There is no such queue.")})
    librarian = LibrarianChoiceField(
        label=_("Librarian"), queryset=get_user_model().objects.none(), required=False,
        empty_label=_("All librarians"), error_messages={"invalid_choice": _("There is no such librarian.")})
    site = forms.ModelChoiceField(
        label=_("Widget site"), queryset=Site.objects.none(), required=False, empty_label=_("All sites"),
        error_messages={"invalid_choice": _("There is no such widget site.")})

    def __init__(self, data, *, library, whole_desk):
        super().__init__(data)
        self.library = library
        # The library's own queues, sites and librarians (home or other): another's is "no such".
        self.fields["queue"].queryset = Queue.objects.filter(library=library)
        self.fields["site"].queryset = Site.objects.filter(library=library)
        if whole_desk:
            self.fields["librarian"].queryset = library_scope.staff_of(library)
        else:
            del self.fields["librarian"]

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        today = timezone.now().astimezone(zoneinfo.ZoneInfo(self.library.time_zone)).date()
        end = cleaned.get("end") or today
        start = cleaned.get("start") or end - dt.timedelta(days=DEFAULT_DAYS - 1)
        if start > end:
            raise forms.ValidationError(_("“From” must not be after “To”."), code="reversed")
        if (end - start).days + 1 > MAX_DAYS:
            raise forms.ValidationError(
                _("A report covers at most %(days)d days; choose a shorter period.") % {"days": MAX_DAYS},
                code="too_long")
        if start > today:
            raise forms.ValidationError(_("The period starts in the future."), code="future")
        cleaned["start"], cleaned["end"] = start, end
        return cleaned
