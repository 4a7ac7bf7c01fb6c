"""The staff report page and its tables as CSV. The figures come from reference.reports.figures;
these views only read the filters, check who is asking and draw."""

from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from reference import audit, dbthreads, tenancy
from reference.presence import librarian_profile
from reference.reports import charts, exports, figures, filters, streaming, summary, tables
from reference.views import staff_member_required


def _chart(table, report):
    if table.name == "daily":
        return charts.daily_columns(report.by_day, title=table.title)
    if table.name == "hours":
        return charts.heatmap(report.heatmap, [str(day) for day in WEEKDAYS.values()], title=table.title)
    if table.name == "survey" and table.rows:
        short = lambda text: text if len(text) <= 26 else text[:25] + "…"  # noqa: E731 (the answer must show)
        return charts.horizontal_bars([(f"{short(question)}: {answer}", count) for question, answer, count in table.rows
                                       if isinstance(count, int)], title=table.title)
    if table.name in {"ratings", "read_scale", "question_types", "topics", "faq_entries"} and table.rows:
        return charts.horizontal_bars([(row[0], row[1]) for row in table.rows], title=table.title)
    if table.name == "librarians" and len(table.rows) > 1:
        return charts.horizontal_bars([(row[0], row[2]) for row in table.rows], title=_("Workload by librarian"))
    return None


def _headline_cards(report):
    """The summary figures with their change drawn as better or worse: for waiting times and
    abandoned chats a fall is the good news."""
    cards = []
    for label, this, last, change, lower_is_better in tables.summary_rows(report):
        tone = "" if not change else "better" if (change < 0) == lower_is_better else "worse"
        cards.append({"label": label, "value": this, "previous": last, "change": change, "tone": tone})
    return cards


@staff_member_required
@require_GET
async def report_page(request):
    return await dbthreads.apart(_report_page)(request)


def _report_page(request):
    library = tenancy.current_library(request)
    form, query = filters.report_query(request.user, request.GET, library)
    context = {"form": form, "whole_desk": filters.can_see_whole_desk(request.user),
               "profile": librarian_profile(request.user), "library": library}
    if query is None:
        return render(request, "reports/report.html", context, status=400)
    report = figures.build_report(query)
    sections = [(table, _chart(table, report)) for table in tables.build_tables(report)]
    context.update(report=report, query=query, sections=sections, summary=_headline_cards(report),
                   may_export_personal_data=exports.may_export_personal_data(request.user),
                   querystring=urlencode(query.params()))
    return render(request, "reports/report.html", context)


@staff_member_required
@require_POST
def monthly_summary(request):
    wanted = request.POST.get("monthly_summary") == "on"
    summary.do_set_monthly_summary(user=request.user, wanted=wanted)
    if wanted and not request.user.email:
        messages.warning(request, _("You will get the monthly summary once your account has an e-mail address: "
                                    "ask an administrator to add it."))
    elif wanted:
        messages.success(request, _("The monthly summary will go to %(email)s on the 1st of each month.")
                         % {"email": request.user.email})
    else:
        messages.success(request, _("You will no longer get the monthly summary."))
    # Back to the period the person was reading; only our own query string, never a foreign URL.
    query = urlencode(QueryDict(request.POST.get("query", "")[:500]).dict())
    return redirect(f"{reverse('reports:page')}?{query}#summary-subscription")


@staff_member_required
@require_GET
async def export_table(request, name):
    return await dbthreads.apart(_export_table)(request, name)


def _export_table(request, name):
    if name not in tables.TABLES:
        raise Http404(_("There is no report table called “%(name)s”.") % {"name": name})
    try:
        query = filters.report_query_or_error(request.user, request.GET, tenancy.current_library(request))
    except filters.ReportError as error:
        return HttpResponse("\n".join(error.messages), status=400, content_type="text/plain; charset=utf-8")
    table = tables.build_table(figures.build_report(query), name)
    audit.record(audit.Action.EXPORT, user=request.user, library_id=query.library.pk, table=name, format="csv",
                 filters={key: str(value) for key, value in query.params().items()})
    filename = f"ruang-tanya-{name}-{query.start:%Y%m%d}-{query.end:%Y%m%d}.csv"
    return streaming.csv_response(filename, table.header, table.rows)
