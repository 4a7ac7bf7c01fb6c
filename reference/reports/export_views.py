"""Transcript exports as downloads (reference.reports.exports makes them): the report's filters in
the query string; bad filters or a period over the limit get a 400 saying why, and nothing else."""

from django.http import HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from reference import audit, tenancy
from reference.reports import exports
from reference.reports.filters import ReportError, report_query_or_error
from reference.reports.streaming import download
from reference.views import staff_member_required


def _export_or_refusal(request, extension):
    """(export, None) for a good request, recorded in the audit trail, or (None, the 400 response)."""
    try:
        query = report_query_or_error(request.user, request.GET, tenancy.current_library(request))
        personal = exports.may_export_personal_data(request.user)
        export = exports.check_transcript_export(query, personal=personal, viewer=request.user)
        audit.record(audit.Action.EXPORT, user=request.user, library_id=query.library.pk,
                     **exports.audit_detail(export, extension))
        return export, None
    except ReportError as refused:
        text = "\n".join([_("The export could not be made:"), *(f"- {message}" for message in refused.messages)])
        return None, HttpResponse(text + "\n", status=400, content_type="text/plain; charset=utf-8")


@staff_member_required
@require_GET
def transcripts_csv(request):
    export, refusal = _export_or_refusal(request, "csv")
    if refusal:
        return refusal
    return download(exports.csv_file_chunks(export), filename=export.filename("csv"),
                    content_type="text/csv; charset=utf-8")


@staff_member_required
@require_GET
def transcripts_json(request):
    export, refusal = _export_or_refusal(request, "json")
    if refusal:
        return refusal
    return download(exports.json_chunks(export), filename=export.filename("json"),
                    content_type="application/json; charset=utf-8")
