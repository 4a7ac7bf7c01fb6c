"""The admin as a tenant console (docs/network-admin-reports.md).

A superuser is the service's administrator: they see and add every library and everything in it.
Any other member of staff with admin rights is one library's own administrator: every ModelAdmin
here (and in widgets.admin, reference.faq.admin) mixes in LibraryScopedAdmin, so they see only the
objects of the libraries they belong to (reference.tenancy.library_ids), choose only those
libraries' objects in a form, and cannot save an object into another library. Another library's
object is a missing one: its change page redirects to the admin index like any unknown id.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import Group
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from reference import assessment, audit, blocking, patron_data, tenancy
from reference.forms import STAFF_STATUS_HINT
from reference.models import (
    AuditEvent,
    CannedReply,
    Conversation,
    CoverAgreement,
    InternalNote,
    LibrarianProfile,
    Library,
    Message,
    Patron,
    PatronBlock,
    Queue,
    Topic,
)

User = get_user_model()

# How each model reaches its library: one path, or several (any of them in the user's libraries).
# The one place the admin learns where an object belongs; choices in forms are limited with it too.
LIBRARY_PATHS = {
    "reference.library": "pk",
    "reference.queue": "library",
    "reference.topic": "library",
    "reference.cannedreply": "library",
    "reference.librarianprofile": ("library", "other_libraries"),
    "reference.patron": "site__library",
    "reference.conversation": "site__library",
    "reference.internalnote": "patron__site__library",
    "reference.message": "conversation__site__library",
    "reference.patronblock": "patron__site__library",
    "reference.auditevent": "library",
    "reference.surveyquestion": "site__library",
    "reference.coveragreement": ("home", "covering"),
    "reference.faqentry": "library",
    "reference.faqsearchmiss": "library",
    "widgets.site": "library",
    User._meta.label_lower: ("librarian_profile__library", "librarian_profile__other_libraries"),
}


def _paths(model):
    paths = LIBRARY_PATHS.get(model._meta.label_lower)
    return (paths,) if isinstance(paths, str) else paths


def is_service_admin(user):
    return user.is_active and user.is_superuser


def in_libraries(model, user, queryset=None, paths=None):
    """`queryset` (all of `model` by default) limited to `user`'s libraries; unchanged for a
    superuser or a model that belongs to no library (such as the network-wide FAQ word lists)."""
    queryset = model._default_manager.all() if queryset is None else queryset
    paths = paths or _paths(model)
    if is_service_admin(user) or paths is None:
        return queryset
    ids = tenancy.library_ids(user)
    if len(paths) == 1 and "other_libraries" not in paths[0]:  # a chain of foreign keys: one row each
        return queryset.filter(**{f"{paths[0]}__in": ids})
    wanted = Q()
    for path in paths:
        wanted |= Q(**{f"{path}__in": ids})
    # A subquery rather than distinct(): the admin's bulk delete refuses a distinct queryset.
    return queryset.filter(pk__in=model._default_manager.filter(wanted).values("pk"))


def library_id_of(obj, path):
    """The library id an object is in along a path of foreign keys ("site__library"); None when a
    link is empty."""
    *links, last = path.split("__")
    for link in links:
        obj = getattr(obj, link, None)
        if obj is None:
            return None
    return obj.pk if last == "pk" else getattr(obj, f"{last}_id", None)


NOT_YOUR_LIBRARY = _("You can only save this into one of your own libraries.")


class LibraryScopedAdmin:
    """Mixed into every ModelAdmin before admin.ModelAdmin. `library_field` (default: from
    LIBRARY_PATHS) is the path from the model to its library; for a form, the first path is the one
    the saved object must be in."""

    library_field = None
    check_saved_library = True  # False where saving settles the library itself (a new user)

    def library_paths(self):
        if self.library_field is not None:
            return (self.library_field,) if isinstance(self.library_field, str) else self.library_field
        return _paths(self.model)

    def get_queryset(self, request):
        return in_libraries(self.model, request.user, super().get_queryset(request), self.library_paths())

    def get_changeform_initial_data(self, request):
        """A library's administrator adds into the library their staff pages work in."""
        initial = super().get_changeform_initial_data(request)
        if not is_service_admin(request.user) and tenancy.library_ids(request.user):
            for field in self.model._meta.fields:
                if field.is_relation and field.related_model is Library and field.name not in initial:
                    initial[field.name] = tenancy.current_library_id(request)
                    break
        return initial

    def get_list_filter(self, request):
        """Filters by a related object list only the ones in the rows shown, not every library's."""
        filters = super().get_list_filter(request)
        if is_service_admin(request.user):
            return filters
        return [(name, admin.RelatedOnlyFieldListFilter) if isinstance(name, str) and "__" not in name
                and self.model._meta.get_field(name).is_relation else name for name in filters]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "queryset" not in kwargs and not is_service_admin(request.user):
            related = db_field.remote_field.model
            if _paths(related) is not None:
                kwargs["queryset"] = in_libraries(related, request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if "queryset" not in kwargs and not is_service_admin(request.user):
            related = db_field.remote_field.model
            if _paths(related) is not None:
                kwargs["queryset"] = in_libraries(related, request.user)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if is_service_admin(request.user):
            return form
        return type(form.__name__, (ScopedFormMixin, form), {"scoped_admin": self, "scoped_user": request.user})

    def save_related(self, request, form, formsets, change):
        """Many-to-many links to another library's objects (a shared librarian's queues there, say)
        are not offered in the form; saving keeps them as they were."""
        kept = {}
        if change and not is_service_admin(request.user):
            for name, field in form.fields.items():
                if isinstance(field, forms.ModelMultipleChoiceField) and name in form.cleaned_data:
                    manager = getattr(form.instance, name)
                    kept[name] = list(manager.exclude(pk__in=field.queryset.values("pk")))
        super().save_related(request, form, formsets, change)
        for name, objects in kept.items():
            if objects:
                getattr(form.instance, name).add(*objects)


class ScopedFormMixin:
    """A library administrator's admin form: a foreign key keeps its current value even when it is
    another library's (a covering librarian, say), and the object must end up in their library."""

    scoped_admin = None
    scoped_user = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is None:
            return
        for name, field in self.fields.items():
            if isinstance(field, forms.ModelChoiceField) and not isinstance(field, forms.ModelMultipleChoiceField):
                current = getattr(self.instance, f"{name}_id", None)
                model = field.queryset.model
                if current is not None and not field.queryset.filter(pk=current).exists():
                    field.queryset = field.queryset | model._default_manager.filter(pk=current)

    def _post_clean(self):
        super()._post_clean()
        paths = self.scoped_admin.library_paths()
        if not paths or not self.scoped_admin.check_saved_library:
            return
        path = paths[0]
        if path == "pk" or "other_libraries" in path:
            return  # a library itself: only their own are listed at all
        library_id = library_id_of(self.instance, path)
        if library_id is not None and tenancy.belongs(self.scoped_user, library_id):
            return
        field = path.split("__")[0]
        if field in self.fields and field not in self.errors:
            self.add_error(field, NOT_YOUR_LIBRARY)
        elif not self.errors:
            self.add_error(None, NOT_YOUR_LIBRARY)


class DeskUserAdmin(LibraryScopedAdmin, UserAdmin):
    """Django's user admin, saying which box makes someone a librarian. A library's administrator
    sees the users whose librarian profile is in their libraries (never a superuser), changes those
    whose home library is theirs, cannot hand out superuser status or single permissions, and a user
    they add becomes a librarian of their home library."""

    check_saved_library = False

    def get_queryset(self, request):
        users = super().get_queryset(request)
        return users if is_service_admin(request.user) else users.filter(is_superuser=False)

    def has_change_permission(self, request, obj=None):
        if obj is not None and not is_service_admin(request.user):
            home = tenancy.home_library_id(obj)
            if home is None or not tenancy.belongs(request.user, home):
                return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self.has_change_permission(request, obj) and super().has_delete_permission(request, obj)

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if is_service_admin(request.user):
            return fieldsets
        hidden = {"is_superuser", "user_permissions"}
        return [(title, {**options, "fields": [name for name in options["fields"] if name not in hidden]})
                for title, options in fieldsets]

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "groups" and not is_service_admin(request.user):
            kwargs["queryset"] = Group.objects.filter(pk__in=request.user.groups.values("pk"))
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if "is_staff" in form.base_fields:
            form.base_fields["is_staff"].help_text = STAFF_STATUS_HINT
        return form

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        home = tenancy.home_library_id(request.user)
        if not change and not is_service_admin(request.user) and home is not None:
            LibrarianProfile.objects.get_or_create(user=obj, defaults={"library_id": home,
                                                                       "display_name": obj.username[:60]})


if admin.site.is_registered(User):
    admin.site.unregister(User)
admin.site.register(User, DeskUserAdmin)


@admin.register(Library)
class LibraryAdmin(LibraryScopedAdmin, admin.ModelAdmin):
    """The service's administrator adds and removes libraries; a library's own administrator
    changes their library's settings."""

    list_display = ["name", "slug", "public_host", "assessment", "retention_days"]

    def has_add_permission(self, request):
        return is_service_admin(request.user)

    def has_delete_permission(self, request, obj=None):
        return is_service_admin(request.user)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        assessment.announce_setup(obj)  # open dashboards learn whether it is now required


@admin.register(Topic)
class TopicAdmin(LibraryScopedAdmin, admin.ModelAdmin):
    list_display = ["label_id", "label_en", "library", "is_active"]
    list_filter = ["library", "is_active"]
    search_fields = ["label_id", "label_en"]


@admin.register(CannedReply)
class CannedReplyAdmin(LibraryScopedAdmin, admin.ModelAdmin):
    list_display = ["title", "scope", "owner", "queue", "library", "usage_count", "last_used_at"]
    list_filter = ["scope", "library", "queue"]
    search_fields = ["title", "text_id", "text_en"]
    readonly_fields = ["usage_count", "last_used_at"]


@admin.register(Queue)
class QueueAdmin(LibraryScopedAdmin, admin.ModelAdmin):
    list_display = ["name", "library", "slug", "routing", "fallback_queue", "is_active"]
    list_filter = ["library", "is_active"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(LibrarianProfile)
class LibrarianProfileAdmin(LibraryScopedAdmin, admin.ModelAdmin):
    list_display = ["display_name", "user", "library", "also_works_for", "max_chats"]
    list_filter = ["library"]
    exclude = ["requeued_while_away"]
    filter_horizontal = ["queues", "other_libraries"]
    search_fields = ["display_name", "user__username"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user", "library").prefetch_related("other_libraries")

    @admin.display(description=_("also works for"))
    def also_works_for(self, profile):
        return ", ".join(library.name for library in profile.other_libraries.all())

    def has_change_permission(self, request, obj=None):
        """A visiting librarian's profile is their home library's to change."""
        if obj is not None and not tenancy.belongs(request.user, obj.library_id) and not is_service_admin(request.user):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and not tenancy.belongs(request.user, obj.library_id) and not is_service_admin(request.user):
            return False
        return super().has_delete_permission(request, obj)


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
class ConversationAdmin(LibraryScopedAdmin, admin.ModelAdmin):
    list_display = ["pk", "subject", "queue", "status", "librarian", "rating", "created_at"]
    list_filter = ["status", "queue", "rating"]
    search_fields = ["subject"]
    readonly_fields = ["patron", "site", "last_seq", "created_at", "assigned_at",
                       "first_response_at", "closed_at", "closed_by_role", "closed_by",
                       "rating", "rating_comment", "rated_at", "transcript_emails_sent"]
    filter_horizontal = ["topics"]
    inlines = [MessageInline, NoteInline]


@admin.register(Patron)
class PatronAdmin(LibraryScopedAdmin, admin.ModelAdmin):
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
class PatronBlockAdmin(LibraryScopedAdmin, admin.ModelAdmin):
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
class AuditEventAdmin(LibraryScopedAdmin, admin.ModelAdmin):
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


class CoverAgreementForm(forms.ModelForm):
    class Meta:
        model = CoverAgreement
        fields = ["home", "covering", "queues", "when", "wait_minutes", "hours", "starts_on", "ends_on",
                  "policy_notes", "is_active"]

    def clean(self):
        cleaned = super().clean()
        home, covering = cleaned.get("home"), cleaned.get("covering")
        if home is not None and covering is not None and home == covering:
            self.add_error("covering", _("A library cannot cover itself."))
        queues = cleaned.get("queues")
        if home is not None and queues:
            foreign = [queue.name for queue in queues if queue.library_id != home.pk]
            if foreign:
                self.add_error("queues", _("Only the home library's queues can be covered, not: %(queues)s")
                               % {"queues": ", ".join(foreign)})
        if cleaned.get("when") == CoverAgreement.When.WAITING and not cleaned.get("wait_minutes"):
            self.add_error("wait_minutes", _("Say after how many minutes of waiting the covering library sees a chat."))
        starts_on, ends_on = cleaned.get("starts_on"), cleaned.get("ends_on")
        if starts_on and ends_on and ends_on < starts_on:
            self.add_error("ends_on", _("The agreement ends before it starts."))
        return cleaned


@admin.register(CoverAgreement)
class CoverAgreementAdmin(LibraryScopedAdmin, admin.ModelAdmin):
    """Which library answers for which (reference.cover). A library's administrator sees the
    agreements their library is in: as the home library they change them, as the covering one they
    read them."""

    form = CoverAgreementForm
    list_display = ["__str__", "home", "covering", "when", "queue_names", "in_force", "is_active"]
    list_filter = ["is_active", "when", "home", "covering"]
    filter_horizontal = ["queues"]
    readonly_fields = ["created_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("home", "covering").prefetch_related("queues")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "covering":
            kwargs["queryset"] = Library.objects.all()  # any library of the network may be asked to cover
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_change_permission(self, request, obj=None):
        if obj is not None and not is_service_admin(request.user) and not tenancy.belongs(request.user, obj.home_id):
            return False  # the covering library reads the agreement; the home library changes it
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and not is_service_admin(request.user) and not tenancy.belongs(request.user, obj.home_id):
            return False
        return super().has_delete_permission(request, obj)

    @admin.display(description=_("queues covered"))
    def queue_names(self, agreement):
        return ", ".join(queue.name for queue in agreement.queues.all())

    @admin.display(description=_("in force"))
    def in_force(self, agreement):
        if agreement.starts_on and agreement.ends_on:
            return _("%(start)s to %(end)s") % {"start": agreement.starts_on, "end": agreement.ends_on}
        if agreement.starts_on:
            return _("from %(start)s") % {"start": agreement.starts_on}
        if agreement.ends_on:
            return _("until %(end)s") % {"end": agreement.ends_on}
        return _("no end date")


from reference.faq import admin as faq_admin  # noqa: E402, F401  (FAQ entries, synonyms, nothing-found list)
