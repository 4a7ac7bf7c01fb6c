"""The reference desk's data. Workflows live in the service modules, not here."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Queue(models.Model):
    """A department of the reference desk (General, Children, Local history…)."""

    name = models.CharField(_("name"), max_length=100)
    slug = models.SlugField(_("slug"), unique=True)
    description = models.TextField(_("description"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("queue")
        verbose_name_plural = _("queues")

    def __str__(self):
        return self.name


class LibrarianProfile(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="librarian_profile"
    )
    display_name = models.CharField(
        _("display name"), max_length=60, help_text=_("The only name patrons see.")
    )
    queues = models.ManyToManyField(Queue, related_name="members", blank=True, verbose_name=_("queues"))
    max_chats = models.PositiveSmallIntegerField(
        _("chats at once"), default=3, help_text=_("How many conversations this librarian holds at once.")
    )

    class Meta:
        verbose_name = _("librarian profile")
        verbose_name_plural = _("librarian profiles")
        constraints = [models.CheckConstraint(condition=Q(max_chats__gte=1), name="max_chats_at_least_one")]

    def __str__(self):
        return self.display_name


class Patron(models.Model):
    """An anonymous visitor; the id is the one inside their signed token."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    site = models.ForeignKey("widgets.Site", on_delete=models.PROTECT, related_name="patrons")
    name = models.CharField(_("name"), max_length=100, blank=True)
    email = models.EmailField(_("email"), blank=True)
    # The language the widget spoke to them in; notices in their conversations use it.
    language = models.CharField(_("language"), max_length=8, default="id")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("patron")
        verbose_name_plural = _("patrons")

    def __str__(self):
        return self.name or str(_("Anonymous patron"))


class Role(models.TextChoices):
    PATRON = "patron", _("Patron")
    LIBRARIAN = "librarian", _("Librarian")
    SYSTEM = "system", _("System")


class Conversation(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting")
        ACTIVE = "active", _("Active")
        CLOSED = "closed", _("Closed")

    patron = models.ForeignKey(Patron, on_delete=models.PROTECT, related_name="conversations")
    site = models.ForeignKey("widgets.Site", on_delete=models.PROTECT, related_name="conversations")
    queue = models.ForeignKey(Queue, on_delete=models.PROTECT, related_name="conversations")
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.QUEUED)
    # The opening question, kept short for queue lists and transcript lists.
    subject = models.CharField(_("question"), max_length=280)
    librarian = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="conversations",
        verbose_name=_("librarian"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    assigned_at = models.DateTimeField(_("assigned"), null=True, blank=True)
    first_response_at = models.DateTimeField(_("first response"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    closed_by_role = models.CharField(_("closed by"), max_length=10, choices=Role, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # The seq of the newest message; the next message takes last_seq + 1 under a row lock.
    last_seq = models.PositiveIntegerField(default=0)
    # The patron asked that this conversation never feed FAQ drafts or candidates.
    faq_opt_out = models.BooleanField(_("no FAQ reuse"), default=False)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")
        indexes = [
            models.Index(fields=["status", "queue", "created_at"], name="conv_waiting_idx"),
            models.Index(fields=["librarian", "status"], name="conv_librarian_idx"),
        ]
        constraints = [
            # A patron has at most one conversation that is not closed.
            models.UniqueConstraint(
                fields=["patron"], condition=~Q(status="closed"), name="one_open_conversation_per_patron"
            ),
            models.CheckConstraint(
                condition=Q(status="queued") | Q(librarian__isnull=False) | Q(status="closed"),
                name="active_conversation_has_librarian",
            ),
        ]

    def __str__(self):
        return f"#{self.pk} {self.patron} ({self.get_status_display()})"

    @property
    def is_closed(self):
        return self.status == self.Status.CLOSED


class Message(models.Model):
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    seq = models.PositiveIntegerField(_("number"))
    role = models.CharField(_("role"), max_length=10, choices=Role)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Snapshot of the name shown at the time, so the transcript survives renames.
    author_name = models.CharField(_("author"), max_length=100, blank=True)
    text = models.TextField(_("text"))
    client_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(_("sent"), auto_now_add=True)

    class Meta:
        ordering = ["conversation", "seq"]
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        constraints = [
            models.UniqueConstraint(fields=["conversation", "seq"], name="message_seq_unique"),
            models.UniqueConstraint(
                fields=["conversation", "client_id"],
                condition=~Q(client_id=""),
                name="message_client_id_unique",
            ),
        ]

    def __str__(self):
        return f"#{self.conversation_id}/{self.seq} {self.role}"


from reference.faq.models import FaqEntry, FaqRevision, FaqSearchMiss, FaqSynonym, FaqTerm  # noqa: E402, F401
