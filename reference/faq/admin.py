"""Admin for FAQ entries, synonyms and searches that found nothing (imported by reference/admin.py)."""

from django.contrib import admin
from django.utils import timezone

from reference.faq.sanitize import sanitize_html
from reference.faq.search import reindex_entry
from reference.faq.services import _snapshot
from reference.models import FaqEntry, FaqRevision, FaqSearchMiss, FaqSynonym


class FaqRevisionInline(admin.TabularInline):
    model = FaqRevision
    fields = ["created_at", "editor", "action", "status", "question"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(FaqEntry)
class FaqEntryAdmin(admin.ModelAdmin):
    list_display = ["question", "slug", "language", "status", "view_count", "helpful_yes", "answered_in_widget"]
    list_filter = ["status", "language"]
    search_fields = ["question", "slug"]
    raw_id_fields = ["translation_of", "source_conversations"]
    readonly_fields = ["author", "published_by", "published_at", "view_count", "helpful_yes", "helpful_no",
                       "answered_in_widget"]
    inlines = [FaqRevisionInline]

    def save_model(self, request, obj, form, change):
        obj.answer = sanitize_html(obj.answer)
        if not change:
            obj.author = request.user
        if obj.status == FaqEntry.Status.PUBLISHED and not obj.published_at:
            obj.published_by, obj.published_at = request.user, timezone.now()
        super().save_model(request, obj, form, change)
        _snapshot(obj, request.user, "admin")
        reindex_entry(obj)

    def delete_model(self, request, obj):
        obj.status = FaqEntry.Status.ARCHIVED
        reindex_entry(obj)
        super().delete_model(request, obj)


@admin.register(FaqSynonym)
class FaqSynonymAdmin(admin.ModelAdmin):
    list_display = ["words", "is_active", "updated_at"]
    list_filter = ["is_active"]
    search_fields = ["words"]


@admin.register(FaqSearchMiss)
class FaqSearchMissAdmin(admin.ModelAdmin):
    list_display = ["query", "count", "language", "last_seen", "resolved"]
    list_filter = ["resolved", "language"]
    search_fields = ["query"]
