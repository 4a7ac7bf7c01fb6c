"""The audit trail page (/staff/audit/): who opened, searched, exported or erased patrons' data.
Readable with reference.view_audit_trail only, for the current library (reference.tenancy);
reading it is itself recorded (docs/audit.md)."""

import datetime as dt
import zoneinfo

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_GET

from reference import audit, frames, library_scope, tenancy
from reference.forms import AuditFilterForm
from reference.models import Conversation
from reference.views import staff_member_required

PER_PAGE = 50


def _time_zone(library):
    return zoneinfo.ZoneInfo(library.time_zone if library is not None else settings.TIME_ZONE)


def _filters(cleaned, tz):
    """The form's values as audit.trail's arguments, days as their bounds in the library's zone."""
    start, end = cleaned.get("date_from"), cleaned.get("date_to")
    return {
        "since": dt.datetime.combine(start, dt.time(), tz) if start else None,
        "until": dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tz) if end else None,
        "user": cleaned.get("user"), "action": cleaned.get("action", ""),
        "conversation_id": cleaned.get("conversation"),
    }


def _readable(cleaned):
    """The filters as the trail keeps its own reading: only those given, as text."""
    shown = {}
    for name, value in cleaned.items():
        if value in (None, ""):
            continue
        shown[name] = (value.isoformat() if isinstance(value, dt.date) else frames.librarian_name(value)
                       if name == "user" else value)
    return shown


@staff_member_required
@require_GET
def audit_trail(request):
    if not audit.may_read(request.user):
        raise PermissionDenied
    library = tenancy.current_library(request)
    library_id = library.pk
    tz = _time_zone(library)
    form = AuditFilterForm(request.GET or None)
    form.fields["user"].queryset = library_scope.staff_of(library)
    context = {"form": form, "library": library, "time_zone": str(tz), "page": None, "rows": []}
    if form.is_bound and not form.is_valid():
        return render(request, "reference/audit.html", context, status=400)
    cleaned = form.cleaned_data if form.is_bound else {}
    audit.record(audit.Action.VIEW_AUDIT, user=request.user, library_id=library_id, filters=_readable(cleaned))
    page = Paginator(audit.trail(library_id=library_id, **_filters(cleaned, tz)), PER_PAGE).get_page(
        request.GET.get("page"))
    ids = {event.conversation_id for event in page.object_list} - {None}
    existing = set(Conversation.objects.filter(pk__in=ids).values_list("pk", flat=True))
    query = request.GET.copy()
    query.pop("page", None)
    context.update(page=page, query=query.urlencode(), rows=[
        {"event": event, "detail": audit.describe(event.detail),
         "conversation_exists": event.conversation_id in existing} for event in page.object_list])
    return render(request, "reference/audit.html", context)
