from django.contrib.admin.views.decorators import staff_member_required as admin_staff_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render

from reference import queueing, selectors
from reference.forms import TranscriptFilterForm
from reference.models import Conversation


def staff_member_required(view):
    return admin_staff_required(view, login_url="login")


@staff_member_required
def dashboard(request):
    profile = queueing.librarian_profile(request.user)
    return render(request, "reference/dashboard.html", {
        "profile": profile,
        "queues": profile.queues.filter(is_active=True),
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
