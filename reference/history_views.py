"""A returning patron's earlier chat, opened from the dashboard's chat pane (JSON over HTTP).

Included from reference/urls.py under staff/history/. Allowed when the librarian may see the
current chat (holds it, or held it last) and the earlier one is in its history (reference.history)
and among the transcripts they may read (selectors.visible_transcripts). Opening one is recorded
in the audit trail.
"""

from django.http import JsonResponse
from django.urls import path
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from reference import audit, frames, history, notes, selectors
from reference.errors import ServiceError

_STATUS = {"not_found": 404, "not_authenticated": 403}


@never_cache
@require_GET
def earlier_chat(request, conversation_id, earlier_id):
    try:
        if not (request.user.is_authenticated and request.user.is_active and request.user.is_staff):
            raise ServiceError("not_authenticated")
        current = selectors.librarian_conversation(request.user, conversation_id)
        earlier = history.earlier_conversation(current, earlier_id)
        if not selectors.visible_only(request.user, [earlier]):
            raise ServiceError("not_found")
    except ServiceError as refused:
        return JsonResponse({"error": refused.code, "message": refused.message}, status=_STATUS[refused.code])
    audit.record(audit.Action.VIEW_TRANSCRIPT, user=request.user, library_id=earlier.site.library_id,
                 conversation_id=earlier.pk, opened_from="history", current=current.pk)
    messages = earlier.messages.select_related("attachment").order_by("seq")
    return JsonResponse({
        "conversation": frames.earlier_payload(earlier),
        # A file deleted under the retention periods is said to be gone rather than left out.
        "messages": [{**frames.message_payload(m), "file_removed": m.attachment_removed} for m in messages],
        "notes": [frames.note_payload(n) for n in notes.conversation_notes(earlier)],
        "rating_comment": earlier.rating_comment,
    })


urlpatterns = [
    path("<id:conversation_id>/<id:earlier_id>/", earlier_chat, name="earlier_chat"),
]
