"""The network's cover report (reference.reports.network) and its tables as CSV: these views only
read the period, check who is asking and draw."""

from urllib.parse import urlencode

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from reference import audit, dbthreads
from reference.reports import network, streaming
from reference.views import staff_member_required


@staff_member_required
@require_GET
async def network_page(request):
    return await dbthreads.apart(_network_page)(request)


def _network_page(request):
    form, query = network.network_query(request, request.GET)
    context = {"form": form, "query": query}
    if query is None:
        return render(request, "reports/network.html", context, status=400)
    context.update(tables=[make(query) for make in network.TABLES.values()], querystring=urlencode(query.params()))
    return render(request, "reports/network.html", context)


@staff_member_required
@require_GET
async def network_csv(request, name):
    return await dbthreads.apart(_network_csv)(request, name)


def _network_csv(request, name):
    if name not in network.TABLES:
        raise Http404
    form, query = network.network_query(request, request.GET)
    if query is None:
        return HttpResponse("\n".join(str(message) for messages in form.errors.values() for message in messages),
                            status=400, content_type="text/plain; charset=utf-8")
    table = network.TABLES[name](query)
    audit.record(audit.Action.EXPORT, user=request.user, library_id=query.library.pk if query.library else None,
                 table=f"network_{name}", format="csv", filters=query.params())
    filename = f"ruang-tanya-network-{name}-{query.start:%Y%m%d}-{query.end:%Y%m%d}.csv"
    return streaming.csv_response(filename, table.header, table.rows)
