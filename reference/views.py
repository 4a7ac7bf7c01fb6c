from django.conf import settings
from django.contrib import messages as flash
from django.contrib.admin.views.decorators import staff_member_required as admin_staff_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from reference import offline_questions, queueing, selectors
from reference.errors import ServiceError
from reference.forms import OfflineAnswerForm, TranscriptFilterForm
from reference.models import Conversation


def staff_member_required(view):
    return admin_staff_required(view, login_url="login")


@staff_member_required
def dashboard(request):
    profile = queueing.librarian_profile(request.user)
    return render(request, "reference/dashboard.html", {
        "profile": profile,
        "queues": profile.queues.filter(is_active=True),
        "capacity_choices": range(1, max(settings.MAX_CHATS_CHOICE, profile.max_chats) + 1),
    })


@staff_member_required
def transcript_list(request):
    form = TranscriptFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    conversations = selectors.transcripts(
        date_from=filters.get("date_from"),
        date_to=filters.get("date_to"),
        queue=filters.get("queue"),
        librarian=filters.get("librarian"),
        text=filters.get("text", ""),
    )
    page = Paginator(conversations, 25).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "reference/transcript_list.html", {
        "form": form, "page": page, "query": query.urlencode(),
    })


@staff_member_required
def transcript_detail(request, pk):
    conversation = get_object_or_404(
        Conversation.objects.select_related("patron", "queue", "site", "librarian__librarian_profile"),
        pk=pk,
    )
    return render(request, "reference/transcript_detail.html", {
        "conversation": conversation,
        "messages": conversation.messages.select_related("author").order_by("seq"),
        "transfers": conversation.transfers.select_related(
            "from_user__librarian_profile", "to_user__librarian_profile", "to_queue"),
    })


@staff_member_required
@require_http_methods(["GET", "POST"])
def offline_question_list(request):
    """Questions left while nobody was on duty, oldest first; an answer goes out by email."""
    failed_id, error, draft = None, None, ""
    if request.method == "POST":
        form = OfflineAnswerForm(request.POST)
        if form.is_valid():
            try:
                offline_questions.answer(user=request.user, conversation_id=form.cleaned_data["conversation"],
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
            for c in offline_questions.waiting_questions()]
    status = 400 if error else 200
    return render(request, "reference/offline_questions.html", {"rows": rows, "error": error}, status=status)
