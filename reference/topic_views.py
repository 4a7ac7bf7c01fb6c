"""/staff/topics/: the current library's topics librarians tag chats with (reference.assessment).

Every staff member sees the list; changing it takes the `reference.add_topic` /
`reference.change_topic` permissions (superusers have them). Parse → one service call → answer.
"""

from django import forms
from django.contrib import messages as flash
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods

from reference import assessment, tenancy
from reference.errors import ServiceError
from reference.models import Library, Topic
from reference.views import staff_member_required


class TopicForm(forms.Form):
    label_id = forms.CharField(label=gettext_lazy("Indonesian label"), max_length=assessment.LABEL_MAX_LENGTH)
    label_en = forms.CharField(label=gettext_lazy("English label"), max_length=assessment.LABEL_MAX_LENGTH)


def _may_change(user):
    return {"add": user.has_perm("reference.add_topic"), "change": user.has_perm("reference.change_topic")}


def _save(form, library, topic=None):
    """The form's labels through the service; a refused label becomes the field's error. Returns the topic or None."""
    if not form.is_valid():
        return None
    try:
        return assessment.do_save_topic(library=library, topic=topic, **form.cleaned_data)
    except ServiceError as refused:
        form.add_error(refused.params.get("field"), refused.message)
        return None


@staff_member_required
@require_http_methods(["GET", "POST"])
def topic_list(request):
    library = tenancy.current_library(request)
    may = _may_change(request.user)
    form = TopicForm(prefix="new")
    if request.method == "POST":
        action = request.POST.get("action")
        if not may["add" if action in ("add", "faq") else "change"]:
            raise PermissionDenied
        if action == "add":
            form = TopicForm(request.POST, prefix="new")
            topic = _save(form, library)
            if topic is not None:
                flash.success(request, _("Topic “%(label)s” added.") % {"label": topic.label_id})
                return redirect("reference:topics")
        elif action == "faq":
            added = assessment.do_add_faq_topics(library=library)
            text = ngettext("%(count)s topic added from the FAQ.", "%(count)s topics added from the FAQ.", added)
            flash.success(request, text % {"count": added} if added else _("Every FAQ topic is already listed."))
            return redirect("reference:topics")
        elif action in ("deactivate", "reactivate"):
            topic = get_object_or_404(Topic, pk=request.POST.get("topic"), library=library)
            assessment.do_set_topic_active(topic=topic, active=action == "reactivate")
            flash.success(request, (_("“%(label)s” is offered to librarians again.") if topic.is_active
                                    else _("“%(label)s” is no longer offered; chats tagged with it keep it."))
                          % {"label": topic.label_id})
            return redirect("reference:topics")
    topics = library.topics.annotate(chats=Count("conversations")).order_by("-is_active", "label_id")
    return render(request, "reference/topics.html", {
        "library": library, "topics": topics, "form": form, "may": may,
        "required": library.assessment == Library.Assessment.REQUIRED,
        "faq_missing": len(assessment.faq_topics_missing(library)) if may["add"] else 0,
    }, status=400 if form.errors else 200)


@staff_member_required
@require_http_methods(["GET", "POST"])
def topic_edit(request, pk):
    library = tenancy.current_library(request)
    topic = get_object_or_404(Topic, pk=pk, library=library)
    if not request.user.has_perm("reference.change_topic"):
        raise PermissionDenied
    form = TopicForm(request.POST if request.method == "POST" else None,
                     initial={"label_id": topic.label_id, "label_en": topic.label_en})
    if request.method == "POST" and _save(form, library, topic) is not None:
        flash.success(request, _("Topic “%(label)s” saved.") % {"label": topic.label_id})
        return redirect("reference:topics")
    return render(request, "reference/topic_edit.html", {"topic": topic, "form": form},
                  status=400 if form.errors else 200)


# Included by reference/urls.py under staff/topics/.
urlpatterns = [
    path("", topic_list, name="topics"),
    path("<id:pk>/", topic_edit, name="topic_edit"),
]
