from django.contrib import admin

from reference.models import Conversation, LibrarianProfile, Message, Patron, Queue


@admin.register(Queue)
class QueueAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "routing", "fallback_queue", "is_active"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(LibrarianProfile)
class LibrarianProfileAdmin(admin.ModelAdmin):
    list_display = ["display_name", "user", "max_chats"]
    filter_horizontal = ["queues"]
    search_fields = ["display_name", "user__username"]


class MessageInline(admin.TabularInline):
    model = Message
    fields = ["seq", "role", "author_name", "text", "attachment", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ["pk", "subject", "queue", "status", "librarian", "rating", "created_at"]
    list_filter = ["status", "queue", "rating"]
    search_fields = ["subject"]
    readonly_fields = ["patron", "site", "last_seq", "created_at", "assigned_at",
                       "first_response_at", "closed_at", "closed_by_role", "closed_by",
                       "rating", "rating_comment", "rated_at", "transcript_emails_sent"]
    inlines = [MessageInline]


@admin.register(Patron)
class PatronAdmin(admin.ModelAdmin):
    list_display = ["pk", "name", "email", "site", "created_at"]
    search_fields = ["name", "email"]

from reference.faq import admin as faq_admin  # noqa: E402, F401  (FAQ entries, synonyms, nothing-found list)
