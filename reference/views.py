from django.conf import settings
from django.contrib import messages as flash
from django.contrib.admin.views.decorators import staff_member_required as admin_staff_required
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from reference import (
    assessment,
    attachments,
    audit,
    frames,
    library_scope,
    lifecycle,
    limits,
    offline_questions,
    presence,
    selectors,
    tenancy,
)
from reference.errors import ServiceError
from reference.forms import OfflineAnswerForm, TranscriptFilterForm
from reference.models import Attachment, Conversation, Patron
from reference.protocol import id_from_text, is_int
from reference.tokens import read_patron_token


def staff_member_required(view):
    return admin_staff_required(view, login_url="login")


@staff_member_required
def dashboard(request):
    profile = presence.librarian_profile(request.user)
    return render(request, "reference/dashboard.html", {
        "profile": profile,
        "queues": profile.queues.filter(is_active=True),
        "capacity_choices": range(1, max(settings.MAX_CHATS_CHOICE, profile.max_chats) + 1),
        "attachment_max_bytes": settings.ATTACHMENT_MAX_BYTES,
    })


@staff_member_required
@require_POST
def choose_library(request):
    """The staff bar's library switch: the staff pages work in the chosen library from now on.
    404 for a library the person does not belong to (or none), and nothing changes."""
    chosen = request.POST.get("library", "")
    if not (chosen.isdigit() and is_int(int(chosen))):
        raise Http404
    tenancy.current_library(request)  # a new colleague's profile first
    tenancy.choose_library(request, int(chosen))
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        back = reverse("reference:dashboard")
    return redirect(back)


@staff_member_required
def transcript_list(request):
    """The current library's closed chats, and those its librarians answered for another library
    under a cover agreement (of these, only the ones the reader may see: selectors.visible_transcripts)."""
    library = tenancy.current_library(request)
    form = library_scope.limit_choices(TranscriptFilterForm(request.GET or None), library)
    filters = form.cleaned_data if form.is_valid() else {}
    conversations = selectors.transcripts(
        user=request.user,
        date_from=filters.get("date_from"),
        date_to=filters.get("date_to"),
        queue=filters.get("queue"),
        librarian=filters.get("librarian"),
        text=filters.get("text", ""),
        topic=filters.get("topic"),
    ).filter(Q(site__library=library) | Q(covering_library=library))
    page = Paginator(conversations, 25).get_page(request.GET.get("page"))
    searched = {name: value for name, value in filters.items() if value not in (None, "")}
    if searched:  # a search over patrons' words or a filtered list, once per request
        audit.record(audit.Action.SEARCH_TRANSCRIPTS, user=request.user, library_id=library.pk,
                     text=searched.pop("text", ""), filters=_readable_filters(searched),
                     conversations=page.paginator.count)
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "reference/transcript_list.html", {
        "form": form, "page": page, "query": query.urlencode(),
    })


def _readable_filters(filters):
    """A filter form's cleaned values as the audit trail keeps them: dates, names, labels."""
    return {name: value.isoformat() if hasattr(value, "isoformat")
            else frames.librarian_name(value) if name == "librarian" else str(value)
            for name, value in filters.items()}


@staff_member_required
@require_http_methods(["GET", "POST"])
def transcript_detail(request, pk):
    conversation = selectors.visible_transcript(
        request.user, pk,
        Conversation.objects.select_related("patron", "queue", "site", "librarian__librarian_profile"))
    if conversation is None:  # missing, or not this librarian's to read: the same answer
        raise Http404
    assess_error = None
    if request.method == "POST":
        try:
            assessment.do_assess(user=request.user, conversation_id=conversation.pk, **_assessment_fields(request.POST))
        except ServiceError as refused:
            if refused.code == "not_assigned":  # only who held the chat assesses it
                raise PermissionDenied from None
            assess_error = refused.message
        else:
            flash.success(request, _("Assessment saved."))
            return redirect("reference:transcript", pk=conversation.pk)
    audit.record(audit.Action.VIEW_TRANSCRIPT, user=request.user, library_id=conversation.site.library_id,
                 conversation_id=conversation.pk)
    messages = list(conversation.messages.select_related("author", "attachment").order_by("seq"))
    for message in messages:
        message.attachment_url = attachments.signed_url(message.attachment) if message.attachment_id else None
    return render(request, "reference/transcript_detail.html", {
        "conversation": conversation,
        "messages": messages,
        "transfers": conversation.transfers.select_related(
            "from_user__librarian_profile", "to_user__librarian_profile", "to_queue"),
        **selectors.holder_workbench(conversation, viewer=request.user),
        **_assessment_form(request.user, conversation, assess_error),
        "notices": flash.get_messages(request),  # `messages` here are the chat's
    }, status=400 if assess_error else 200)


def _assessment_fields(post):
    """The transcript page's assessment form as do_assess's arguments; a value that is not a
    number is passed on as it is, for the service to refuse."""
    def number(value):
        return int(value) if value.isdigit() and is_int(int(value)) else value

    return {"topic_ids": [number(value) for value in post.getlist("topics")],
            "read_scale": number(post.get("read_scale", "")) if post.get("read_scale") else None,
            "question_type": post.get("question_type", "")}


def _assessment_form(user, conversation, error):
    """The librarian who held a closed chat may still assess it here (the dashboard no longer shows it)."""
    try:
        assessment.check_may_assess(user, conversation)
    except ServiceError:
        return {"may_assess": False}
    chosen = set(conversation.topics.values_list("pk", flat=True))
    topics = conversation.site.library.topics.filter(Q(is_active=True) | Q(pk__in=chosen))
    return {"may_assess": True, "assess_error": error, "assess_topics": topics, "assess_chosen": chosen}


@staff_member_required
@require_http_methods(["GET", "POST"])
def offline_question_list(request):
    """Questions left while nobody was on duty, oldest first; an answer goes out by email."""
    library = tenancy.current_library(request)
    failed_id, error, draft = None, None, ""
    if request.method == "POST":
        form = OfflineAnswerForm(request.POST)
        if form.is_valid():
            if not Conversation.objects.filter(pk=form.cleaned_data["conversation"], site__library=library).exists():
                raise Http404  # another library's question is not told apart from a missing one
            try:
                lifecycle.do_answer_offline_question(
                    user=request.user, conversation_id=form.cleaned_data["conversation"],
                    text=form.cleaned_data["text"])
            except ServiceError as refused:
                error = refused.message
            else:
                flash.success(request, _("Answer sent by email and kept in the transcript."))
                return redirect("reference:offline_questions")
        else:
            error = _("Write an answer first.")
        failed_id, draft = form.data.get("conversation"), form.data.get("text", "")
    rows = [{"conversation": c, "question": c.messages.all()[0].text,
             "error": error if str(c.pk) == failed_id else None,
             "draft": draft if str(c.pk) == failed_id else ""}
            for c in offline_questions.waiting_questions(library)]
    status = 400 if error else 200
    return render(request, "reference/offline_questions.html", {"rows": rows, "error": error}, status=status)


# ---- attachments: upload (patron by token, librarian by session), download by expiring link

# Room for the multipart envelope around a file of the largest size allowed.
_UPLOAD_OVERHEAD = 64 * 1024


def limited_response(refused, body):
    """429 for a ServiceError("rate_limited") (or "blocked"): `body` as JSON, with Retry-After."""
    response = JsonResponse(body, status=429)
    response["Retry-After"] = str(refused.params["retry_after"])
    return response


def _upload_response(request, upload, limit=None):
    """Run `limit()` (before the body is read), then `upload(file, conversation id)`; 201 with the
    attachment, or 400/403/404/413/429 with a message."""
    too_big = int(request.META.get("CONTENT_LENGTH") or 0) > settings.ATTACHMENT_MAX_BYTES + _UPLOAD_OVERHEAD
    try:
        if limit is not None:
            limit()
        if too_big:
            raise ServiceError("attachment_too_large",
                               limit=f"{settings.ATTACHMENT_MAX_BYTES / (1024 * 1024):g} MB")
        conversation_id = id_from_text(request.POST.get("conversation", ""), "conversation")
        attachment = upload(request.FILES.get("file"), conversation_id)
    except ServiceError as refused:
        if refused.code == "rate_limited":
            return limited_response(refused, {"error": refused.code, "message": refused.message,
                                              "retry_after": refused.params["retry_after"]})
        status = {"not_found": 404, "not_assigned": 403, "token_invalid": 401, "token_expired": 401,
                  "not_authenticated": 403, "attachment_too_large": 413}.get(refused.code, 400)
        return JsonResponse({"error": refused.code, "message": refused.message}, status=status)
    return JsonResponse({"attachment": attachments.payload(attachment)}, status=201)


def _patron_language(request):
    lang = request.POST.get("lang") or request.GET.get("lang")
    return lang if lang in dict(settings.LANGUAGES) else translation.get_language()


@csrf_exempt  # authenticated by the patron token in a header, which a foreign page cannot send
@require_POST
def patron_upload(request):
    """The widget uploads a file into the patron's conversation: `Authorization: Bearer <token>`."""
    with translation.override(_patron_language(request)):
        def identity():
            return read_patron_token(request.headers.get("Authorization", "").removeprefix("Bearer ").strip())

        def limit():
            """Counted per patron and per address, in files and in bytes, before the file is looked at."""
            patron_id, address = identity().patron_id, limits.address_key(limits.request_address(request))
            limits.check((limits.UPLOADS_PER_PATRON, patron_id), (limits.UPLOADS_PER_ADDRESS, address))
            limits.check((limits.UPLOAD_BYTES_PER_PATRON, patron_id), (limits.UPLOAD_BYTES_PER_ADDRESS, address),
                         cost=max(1, int(request.META.get("CONTENT_LENGTH") or 0)))

        def upload(uploaded, conversation_id):
            identity_ = identity()
            patron = Patron.objects.filter(pk=identity_.patron_id, site__key=identity_.site_key).first()
            if patron is None:
                raise ServiceError("not_found")
            return attachments.upload_for_patron(patron=patron, conversation_id=conversation_id, uploaded=uploaded)

        return _upload_response(request, upload, limit)


@require_POST
def staff_upload(request):
    """The dashboard uploads a file into a chat the librarian holds (session + CSRF token)."""
    def upload(uploaded, conversation_id):
        if not (request.user.is_authenticated and request.user.is_active and request.user.is_staff):
            raise ServiceError("not_authenticated")
        held = Conversation.objects.filter(pk=conversation_id).values("librarian_id", "site__library_id").first()
        if held and held["librarian_id"] != request.user.pk and not tenancy.belongs(request.user,
                                                                                   held["site__library_id"]):
            raise ServiceError("not_found")  # another library's chat is not told apart from a missing one
        return attachments.upload_for_librarian(user=request.user, conversation_id=conversation_id,
                                                uploaded=uploaded)

    return _upload_response(request, upload)


@never_cache
@require_GET
def attachment_download(request, token):
    """A file, for whoever holds a link that is still valid; the link is the permission. Staff read
    only the files of their libraries' chats and of those they held."""
    try:
        attachment = attachments.from_signed(token)
    except signing.SignatureExpired:
        return render(request, "reference/attachment_link.html", {"expired": True}, status=410)
    except (signing.BadSignature, ValueError, Attachment.DoesNotExist):
        return render(request, "reference/attachment_link.html", {"expired": False}, status=403)
    if request.user.is_authenticated and request.user.is_staff:  # staff reading a chat's file
        conversation = attachment.conversation
        if not (tenancy.belongs(request.user, conversation.site.library_id)
                or selectors.visible_only(request.user, [conversation])):
            raise Http404  # a file of another library's chat, whatever link they were given
        audit.record(audit.Action.VIEW_TRANSCRIPT, user=request.user,
                     library_id=attachment.conversation.site.library_id, conversation_id=attachment.conversation_id,
                     file=attachment.name)
    response = FileResponse(attachment.file.open("rb"), content_type=attachment.content_type,
                            as_attachment=not attachment.is_image, filename=attachment.name)
    response["X-Content-Type-Options"] = "nosniff"
    # Even a file that fooled the checks cannot run script on our origin.
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    return response
