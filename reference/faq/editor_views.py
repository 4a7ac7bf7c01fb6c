"""The staff FAQ editor's preview: Markdown in, the answer's HTML out, through the same render and
sanitize path as a save (reference/faq/answers.py). Used by reference/static/reference/faq/editor.js."""

from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from reference.errors import ServiceError
from reference.faq.answers import check_source, render_markdown
from reference.views import staff_member_required


@staff_member_required
@require_POST
def staff_preview(request):
    source = request.POST.get("source")
    if source is None:
        return JsonResponse({"error": _("The field “source” is required.")}, status=400)
    try:
        check_source(source)
    except ServiceError as refused:
        return JsonResponse({"error": refused.message}, status=413)
    return JsonResponse({"html": render_markdown(source)})
