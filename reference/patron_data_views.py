"""Staff pages for a patron's request: find every record of one person, then export or erase it
(reference.patron_data), in the current library (reference.tenancy). Only for staff with
reference.manage_patron_data."""

from django.contrib import messages as flash
from django.core.exceptions import PermissionDenied
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from reference import patron_data, tenancy
from reference.errors import ServiceError
from reference.views import staff_member_required

PERMISSION = "reference.manage_patron_data"


def _lookup_values(data):
    return {"email": data.get("email", ""), "card_number": data.get("card_number", ""),
            "conversation_id": data.get("conversation", "")}


def _may_manage(request):
    if not request.user.has_perm(PERMISSION):
        raise PermissionDenied


def _page(request, *, values, records=None, error=None, erase_error=None, status=200):
    return render(request, "reference/patron_data/page.html", {
        "values": values, "records": records, "error": error, "erase_error": erase_error,
        "notices": flash.get_messages(request)}, status=status)


@staff_member_required
@require_GET
def page(request):
    _may_manage(request)
    values = _lookup_values(request.GET)
    if not any(values.values()):
        return _page(request, values=values)
    try:
        records = patron_data.find(request.user, patron_data.clean_lookup(**values),
                                   tenancy.current_library(request))
    except ServiceError as refused:
        return _page(request, values=values, error=refused, status=400)
    patron_data.record_lookup(request.user, records)
    return _page(request, values=values, records=records)


def _records_or_page(request):
    """(records, None), or (None, the page saying why not) for a POST naming a patron."""
    values = _lookup_values(request.POST)
    try:
        records = patron_data.find(request.user, patron_data.clean_lookup(**values),
                                   tenancy.current_library(request))
    except ServiceError as refused:
        return None, _page(request, values=values, error=refused, status=400)
    if not records.found:
        return None, _page(request, values=values, records=records, status=404)
    return records, None


@staff_member_required
@require_POST
def export(request):
    _may_manage(request)
    records, refusal = _records_or_page(request)
    if refusal:
        return refusal
    archive = patron_data.export_zip(request.user, records)
    filename = f"patron-data-{timezone.localdate():%Y-%m-%d}.zip"
    return FileResponse(archive, as_attachment=True, filename=filename, content_type="application/zip")


@staff_member_required
@require_POST
def erase(request):
    _may_manage(request)
    records, refusal = _records_or_page(request)
    if refusal:
        return refusal
    values = _lookup_values(request.POST)
    if request.POST.get("confirm") != "yes":
        return _page(request, values=values, records=records, status=400,
                     erase_error=_("Tick the box to confirm that these are the records of the person who asked."))
    try:
        counts = patron_data.erase(request.user, records)
    except ServiceError as refused:
        return _page(request, values=values, records=records, erase_error=refused.message, status=409)
    flash.success(request, _(
        "Erased. Conversations anonymised: %(conversations)s; files deleted: %(files)s; notes deleted: %(notes)s; "
        "patron records removed: %(patrons)s. The figures in the reports stay.") % counts)
    return redirect("reference:patron_data")


urlpatterns = [
    path("", page, name="patron_data"),
    path("export/", export, name="patron_data_export"),
    path("erase/", erase, name="patron_data_erase"),
]
