"""Admin for FAQ entries, topics, synonyms, informal spellings and searches that found nothing
(imported by reference/admin.py)."""

from django import forms
from django.contrib import admin
from django.utils import timezone

from reference.admin import LibraryScopedAdmin, is_service_admin
from reference.errors import ServiceError
from reference.faq.answers import check_source, render_markdown, source_for_editing
from reference.faq.defaults import ensure_topics
from reference.faq.sanitize import html_to_text
from reference.faq.search import reindex_entry
from reference.faq.services import _snapshot
from reference.models import FaqEntry, FaqRevision, FaqSearchMiss, FaqSpelling, FaqSynonym, FaqTopic


class FaqRevisionInline(admin.TabularInline):
    model = FaqRevision
    fields = ["created_at", "editor", "action", "status", "question"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class FaqEntryForm(forms.ModelForm):
    """The answer is edited as Markdown (answer_source); the HTML answer is rendered from it."""

    class Meta:
        model = FaqEntry
        fields = ["library", "slug", "language", "question", "answer_source", "topics", "status", "translation_of",
                  "source_conversations"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "library" in self.fields:  # left empty: the entry stays where it is (a new one: the first library)
            self.fields["library"].required = False

    def clean_library(self):
        return self.cleaned_data.get("library") or self.instance.library

    def clean_answer_source(self):
        source = self.cleaned_data["answer_source"]
        try:
            check_source(source)
        except ServiceError as refused:
            raise forms.ValidationError(refused.message) from None
        if not html_to_text(render_markdown(source)).strip():
            raise forms.ValidationError(ServiceError("faq_answer_empty").message)
        return source


@admin.register(FaqEntry)
class FaqEntryAdmin(LibraryScopedAdmin, admin.ModelAdmin):
    form = FaqEntryForm
    list_display = ["question", "library", "slug", "language", "status", "view_count", "helpful_yes",
                    "answered_in_widget"]
    list_filter = ["library", "status", "language"]
    search_fields = ["question", "slug"]
    raw_id_fields = ["translation_of", "source_conversations"]
    readonly_fields = ["author", "published_by", "published_at", "view_count", "helpful_yes", "helpful_no",
                       "answered_in_widget"]
    inlines = [FaqRevisionInline]

    def get_object(self, request, object_id, from_field=None):
        entry = super().get_object(request, object_id, from_field)
        if entry is not None:  # an answer written as HTML before opens as Markdown
            entry.answer_source = source_for_editing(entry)
        return entry

    def save_model(self, request, obj, form, change):
        obj.answer = render_markdown(obj.answer_source)
        if not change:
            obj.author = request.user
        if obj.status == FaqEntry.Status.PUBLISHED and not obj.published_at:
            obj.published_by, obj.published_at = request.user, timezone.now()
        super().save_model(request, obj, form, change)
        ensure_topics(FaqTopic, FaqEntry, obj.topics)
        _snapshot(obj, request.user, "admin")
        reindex_entry(obj)

    def delete_model(self, request, obj):
        obj.status = FaqEntry.Status.ARCHIVED
        reindex_entry(obj)
        super().delete_model(request, obj)


class NetworkListAdmin(admin.ModelAdmin):
    """The word lists and topic labels every library's FAQ search shares: a library's own
    administrator reads them; the service's administrator (a superuser) changes them."""

    def has_add_permission(self, request):
        return is_service_admin(request.user)

    def has_change_permission(self, request, obj=None):
        return is_service_admin(request.user)

    def has_delete_permission(self, request, obj=None):
        return is_service_admin(request.user)


@admin.register(FaqSynonym)
class FaqSynonymAdmin(NetworkListAdmin):
    list_display = ["words", "is_active", "updated_at"]
    list_filter = ["is_active"]
    search_fields = ["words"]


@admin.register(FaqSearchMiss)
class FaqSearchMissAdmin(LibraryScopedAdmin, admin.ModelAdmin):
    list_display = ["query", "library", "count", "language", "last_seen", "resolved"]
    list_filter = ["library", "resolved", "language"]
    search_fields = ["query"]


@admin.register(FaqTopic)
class FaqTopicAdmin(NetworkListAdmin):
    list_display = ["slug", "label_id", "label_en"]
    list_editable = ["label_id", "label_en"]
    search_fields = ["slug", "label_id", "label_en"]


@admin.register(FaqSpelling)
class FaqSpellingAdmin(NetworkListAdmin):
    list_display = ["informal", "standard", "is_active", "updated_at"]
    list_editable = ["standard", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["informal", "standard"]
