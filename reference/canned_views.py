"""The dashboard's canned replies over HTTP JSON (session + CSRF token, like staff_upload). Thin:
parse, one call into reference.canned, answer; a refusal is {"error", "message"[, "field"]} with 4xx.

    GET    /staff/canned/[?q=…][&conversation=id]   the replies (with `preview` for a chat one holds)
    POST   /staff/canned/                           create        {title, text_id, text_en, scope, queue}
    PUT    /staff/canned/<id>/                      update        (the same fields)
    DELETE /staff/canned/<id>/                      delete
    POST   /staff/canned/<id>/use                   {conversation}: the text to put in the reply box
"""

import functools
import json

from django.http import JsonResponse
from django.urls import path
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from reference import canned, presence, tenancy
from reference.errors import ServiceError
from reference.protocol import id_from_text

_STATUS = {"not_authenticated": 403, "canned_forbidden": 403, "not_assigned": 403,
           "canned_not_found": 404, "not_found": 404}


def _json_view(view):
    """Staff only (JSON 403 instead of a login redirect); a ServiceError becomes its JSON answer."""
    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            presence.librarian_profile(request.user)  # staff, active, logged in
            return view(request, *args, **kwargs)
        except ServiceError as refused:
            body = {"error": refused.code, "message": refused.message}
            if refused.params.get("field"):
                body["field"] = refused.params["field"]
            return JsonResponse(body, status=_STATUS.get(refused.code, 400))
    return never_cache(wrapped)


def _body(request):
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        body = None
    if not isinstance(body, dict):
        raise ServiceError("canned_bad_request")
    return body


def _fields(body):
    return {"title": body.get("title"), "text_id": body.get("text_id"), "text_en": body.get("text_en"),
            "scope": body.get("scope", canned.Scope.PERSONAL), "queue_id": body.get("queue")}


def _library_id(request):
    """The shared replies listed and changed here are the current library's (reference.tenancy)."""
    return tenancy.current_library(request).pk


@require_http_methods(["GET", "POST"])
@_json_view
def replies(request):
    if request.method == "POST":
        reply = canned.do_create_reply(user=request.user, library_id=_library_id(request),
                                       **_fields(_body(request)))
        return JsonResponse({"reply": canned.payload(reply, editable=True)}, status=201)
    query = request.GET.get("q", "")[:200]
    if "conversation" in request.GET:
        found = canned.replies_for_conversation(
            request.user, conversation_id=id_from_text(request.GET["conversation"], "conversation"), query=query)
        listed = [canned.payload(reply, preview=preview) for reply, preview in found]
    else:
        listed = [canned.payload(reply, editable=editable) for reply, editable in canned.listed_replies(
            request.user, query=query, library_id=_library_id(request))]
    return JsonResponse({
        "replies": listed,
        "variables": list(canned.PLACEHOLDERS),
        "can_manage_shared": canned.can_manage_shared(request.user),
        "queues": [{"id": queue.pk, "name": queue.name}
                   for queue in canned.share_queues(request.user, _library_id(request))],
    })


@require_http_methods(["PUT", "DELETE"])
@_json_view
def reply(request, pk):
    if request.method == "DELETE":
        canned.do_delete_reply(user=request.user, reply_id=pk, library_id=_library_id(request))
        return JsonResponse({"deleted": pk})
    changed = canned.do_update_reply(user=request.user, reply_id=pk, library_id=_library_id(request),
                                     **_fields(_body(request)))
    return JsonResponse({"reply": canned.payload(changed, editable=True)})


@require_POST
@_json_view
def use(request, pk):
    conversation_id = id_from_text(_body(request).get("conversation"), "conversation")
    text = canned.do_use_reply(user=request.user, reply_id=pk, conversation_id=conversation_id)
    return JsonResponse({"text": text})


urlpatterns = [
    path("", replies, name="canned_replies"),
    path("<id:pk>/", reply, name="canned_reply"),
    path("<id:pk>/use", use, name="canned_use"),
]
