from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from reference import assessment, audit, blocking, patron_data
from reference.forms import STAFF_STATUS_HINT
from reference.models import (
    AuditEvent,
    CannedReply,
    Conversation,
    InternalNote,
    LibrarianProfile,
    Library,
    Message,
    Patron,
    PatronBlock,
    Queue,
    Topic,
)


class DeskUserAdmin(UserAdmin):
    """Django's user admin, saying which box makes someone a librarian."""

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if "is_staff" in form.base_fields:
            form.base_fields["is_staff"].help_text = STAFF_STATUS_HINT
        return form


User = get_user_model()
if admin.site.is_registered(User):
    admin.site.unregister(User)
admin.site.register(User, DeskUserAdmin)


@admin.register(Library)
class LibraryAdmin(admin.ModelAdmin):
    list_display = ["name", "assessment", "retention_days"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        assessment.announce_setup(obj)  # open dashboards learn whether it is now required


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    list_display = ["label_id", "label_en", "library", "is_active"]
    list_filter = ["library", "is_active"]
    search_fields = ["label_id", "label_en"]


@admin.register(CannedReply)
class CannedReplyAdmin(admin.ModelAdmin):
    list_display = ["title", "scope", "owner", "queue", "library", "usage_count", "last_used_at"]
    list_filter = ["scope", "library", "queue"]
    search_fields = ["title", "text_id", "text_en"]
    readonly_fields = ["usage_count", "last_used_at"]


@admin.register(Queue)
class QueueAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "routing", "fallback_queue", "is_active"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(LibrarianProfile)
class LibrarianProfileAdmin(admin.ModelAdmin):
    list_display = ["display_name", "user", "library", "max_chats"]
    exclude = ["requeued_while_away"]
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


class NoteInline(admin.TabularInline):
    model = InternalNote
    fields = ["author_name", "text", "created_at"]
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
    filter_horizontal = ["topics"]
    inlines = [MessageInline, NoteInline]


@admin.register(Patron)
class PatronAdmin(admin.ModelAdmin):
    list_display = ["pk", "name", "email", "site", "created_at"]
    search_fields = ["name", "email"]

    # Deleting a patron here is an erasure: their chats are anonymised first (the figures stay),
    # their files leave the storage, and the audit trail records it (reference.patron_data).
    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.conversations.exclude(status=Conversation.Status.CLOSED).exists():
            return False  # not while they are chatting
        return super().has_delete_permission(request, obj)

    def delete_model(self, request, obj):
        patron_data.erase_identities(request.user, Patron.objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset):
        patron_data.erase_identities(request.user, queryset)


@admin.register(PatronBlock)
class PatronBlockAdmin(admin.ModelAdmin):
    """Blocks librarians set from a chat (reference.blocking). The address is only a keyed hash; a
    block ends by itself at `until`, or here with "Lift block"."""

    list_display = ["pk", "patron", "conversation", "created_by", "created_at", "until", "lifted_at", "in_force",
                    "reason"]
    list_filter = ["lifted_at", "created_by"]
    date_hierarchy = "created_at"
    readonly_fields = ["patron", "conversation", "address_key", "until", "reason", "created_by", "created_at",
                       "lifted_at"]
    actions = ["lift_blocks"]

    def has_add_permission(self, request):
        return False  # a block is set from the chat, by its holder

    @admin.display(boolean=True, description=_("in force"))
    def in_force(self, obj):
        return obj.lifted_at is None and obj.until > timezone.now()

    @admin.action(description=_("Lift block"), permissions=["change"])
    def lift_blocks(self, request, queryset):
        lifted = blocking.do_lift_blocks(user=request.user, blocks=queryset)
        self.message_user(request, ngettext("%(count)d block lifted.", "%(count)d blocks lifted.", lifted)
                          % {"count": lifted}, messages.SUCCESS)


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """The audit trail, to read only: nobody adds, changes or deletes an entry by hand (the
    retention command removes old ones). Staff with reference.view_audit_trail read it here too."""

    list_display = ["at", "actor", "action", "conversation_id", "library"]
    list_filter = ["action", "library"]
    search_fields = ["actor", "conversation_id"]
    date_hierarchy = "at"
    fields = ["at", "library", "user", "actor", "action", "conversation_id", "detail"]
    readonly_fields = fields

    def has_view_permission(self, request, obj=None):
        return audit.may_read(request.user) or super().has_view_permission(request, obj)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


from reference.faq import admin as faq_admin  # noqa: E402, F401  (FAQ entries, synonyms, nothing-found list)
