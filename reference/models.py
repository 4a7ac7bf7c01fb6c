"""The reference desk's data. Workflows live in the service modules, not here."""

import uuid
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from reference.prechat import CARD_NUMBER_MAX_LENGTH


def default_time_zone():
    return settings.TIME_ZONE


def validate_time_zone(value):
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError(_("“%(value)s” is not a time zone such as Asia/Jakarta.") % {"value": value}) from None


class Library(models.Model):
    """A library that runs the desk: its widget sites, librarians, topics and shared canned replies
    belong to it, and a patron's history never crosses from one library to another."""

    class Assessment(models.TextChoices):
        OPTIONAL = "optional", _("Optional")
        REQUIRED = "required", _("Required before closing")

    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(
        _("address name"), max_length=60, unique=True, blank=True,
        help_text=_("Short name in the library's addresses, such as /l/tebing-tinggi/faq/ for its public FAQ. "
                    "Empty: made from the name."))
    public_host = models.CharField(
        _("public FAQ host"), max_length=255, blank=True,
        help_text=_("Optional: a host name of the library's own (faq.example.org) that serves its FAQ at /faq/."))
    assessment = models.CharField(
        _("topics and READ scale"), max_length=10, choices=Assessment, default=Assessment.OPTIONAL,
        help_text=_("Required: a librarian picks a READ scale value and at least one topic before closing a chat."))
    # How long patrons' data is kept (reference.retention; docs/privacy.md says why these defaults).
    # Empty: kept until deleted by hand, which UU PDP 27/2022 does not favour.
    retention_days = models.PositiveIntegerField(
        _("keep transcripts for (days)"), null=True, blank=True, default=365,
        help_text=_("Then the chat is anonymised: the patron's details and every text are removed, the figures "
                    "stay. Librarians see a returning patron's earlier chats only from this period."))
    offline_retention_days = models.PositiveIntegerField(
        _("keep offline questions for (days)"), null=True, blank=True, default=365,
        help_text=_("Questions left while nobody was on duty, and the answers sent by e-mail."))
    attachment_retention_days = models.PositiveIntegerField(
        _("keep files for (days)"), null=True, blank=True, default=90,
        help_text=_("Files sent in chats are deleted from storage after this many days."))
    feedback_retention_days = models.PositiveIntegerField(
        _("keep rating comments and survey texts for (days)"), null=True, blank=True, default=365,
        help_text=_("The comments are removed; the ratings and scores stay for the reports."))
    search_log_retention_days = models.PositiveIntegerField(
        _("keep searches that found nothing for (days)"), null=True, blank=True, default=180)
    faq_source_retention_days = models.PositiveIntegerField(
        _("keep FAQ revision sources for (days)"), null=True, blank=True, default=365,
        help_text=_("Older revisions of FAQ entries and their links to the chats they were drafted from."))
    child_retention_days = models.PositiveIntegerField(
        _("keep children's chats for (days)"), null=True, blank=True, default=30,
        help_text=_("Chats a patron marked as a child's are anonymised after this many days, sooner than others."))
    audit_retention_days = models.PositiveIntegerField(
        _("keep the audit trail for (days)"), null=True, blank=True, default=730)
    public_contacts = models.TextField(
        _("the library's public contacts"), blank=True,
        help_text=_("Phone numbers, e-mail addresses and links the library publishes, one per line: redaction "
                    "leaves them in FAQ answers."))
    transcripts_by_queue = models.BooleanField(
        _("transcripts only for the queues a librarian belongs to"), default=False,
        help_text=_("Staff without “Can read every transcript” then see only their own queues' transcripts."))
    time_zone = models.CharField(
        _("time zone"), max_length=64, default=default_time_zone, validators=[validate_time_zone],
        help_text=_("Reports count days and hours in this zone, such as Asia/Jakarta."))

    class Meta:
        ordering = ["pk"]
        verbose_name = _("library")
        verbose_name_plural = _("libraries")
        permissions = [
            ("view_desk_reports", _("Can see the whole desk's reports and every librarian's figures")),
            ("export_personal_data", _("Can export patrons' personal data and internal notes")),
            ("view_all_transcripts", _("Can read every transcript")),
            ("manage_patron_data", _("Can find, export and erase one patron's data")),
            ("view_audit_trail", _("Can read the audit trail")),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = self._free_slug()
        super().save(*args, **kwargs)

    def _free_slug(self):
        from django.utils.text import slugify

        base = slugify(self.name)[:50] or "library"
        slug, number = base, 1
        while Library.objects.filter(slug=slug).exclude(pk=self.pk).exists():
            number += 1
            slug = f"{base}-{number}"
        return slug

    @property
    def contact_list(self):
        """The public contacts, one per line, as a list."""
        return [line.strip() for line in self.public_contacts.splitlines() if line.strip()]


def default_library():
    """The library a new site or librarian belongs to unless chosen: the first one, made if none."""
    pk = Library.objects.order_by("pk").values_list("pk", flat=True).first()
    return pk if pk is not None else Library.objects.create(name=str(_("The library"))).pk


class Queue(models.Model):
    """A department of the reference desk (General, Children, Local history…)."""

    library = models.ForeignKey(Library, on_delete=models.PROTECT, related_name="queues",
                                default=default_library, verbose_name=_("library"))
    name = models.CharField(_("name"), max_length=100)
    slug = models.SlugField(_("slug"), unique=True)
    description = models.TextField(_("description"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Routing(models.TextChoices):
        MANUAL = "manual", _("Manual: members see the waiting list and claim")
        AUTO = "auto", _("Automatic: offer each chat to the least busy available member")

    routing = models.CharField(_("routing"), max_length=10, choices=Routing, default=Routing.MANUAL)
    offer_timeout = models.PositiveSmallIntegerField(
        _("offer timeout (seconds)"), default=30,
        help_text=_("Automatic routing: an offer not accepted in this time goes to the next librarian."))
    fallback_queue = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("fallback queue"),
        help_text=_("A chat nobody here picks up in time rolls over to this queue of the same library. (Partner "
                    "libraries answer each other's chats under cover agreements.)"))
    opening_hours = models.TextField(
        _("opening hours"), blank=True,
        help_text=_("One line per rule, in the library's time zone, e.g. “mon-fri 08:00-16:00” and "
                    "“sat 08:00-12:00”. Empty: always open."))
    fallback_after = models.PositiveIntegerField(
        _("roll over after (seconds)"), default=180,
        help_text=_("How long a chat waits here before it rolls over to the fallback queue."))

    class Meta:
        ordering = ["name"]
        verbose_name = _("queue")
        verbose_name_plural = _("queues")

    def __str__(self):
        return self.name

    def clean(self):
        from reference import hours

        hours.parse(self.opening_hours)
        if self.fallback_queue is not None and self.fallback_queue.library_id != self.library_id:
            raise ValidationError({"fallback_queue": _("The fallback queue must be one of the same library's.")})


class LibrarianProfile(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="librarian_profile"
    )
    library = models.ForeignKey(Library, on_delete=models.PROTECT, related_name="librarians",
                                default=default_library, verbose_name=_("home library"))
    # A librarian may work for more libraries than their home one (reference.tenancy).
    other_libraries = models.ManyToManyField(
        Library, blank=True, related_name="visiting_librarians", verbose_name=_("also works for"),
        help_text=_("Other libraries of the network this librarian belongs to, with the same rights as at home."))
    display_name = models.CharField(
        _("display name"), max_length=60, help_text=_("The only name patrons see.")
    )
    queues = models.ManyToManyField(Queue, related_name="members", blank=True, verbose_name=_("queues"))
    max_chats = models.PositiveSmallIntegerField(
        _("chats at once"), default=3, help_text=_("How many conversations this librarian holds at once.")
    )

    class Status(models.TextChoices):
        AVAILABLE = "available", _("Available")
        AWAY = "away", _("Away")
        OFFLINE = "offline", _("Offline")

    # What the librarian chose; whether they are connected is measured (reference.presence).
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.AVAILABLE)
    # Chats the sweep put back in the queue while none of this librarian's staff pages was open:
    # [{"id", "subject", "at"}], shown by the dashboard on return until the librarian dismisses it.
    requeued_while_away = models.JSONField(default=list, blank=True)
    # Since when they have been on duty (connected, available or away); None while off duty.
    # reference.duty closes it into a DutySpell when they go.
    on_duty_since = models.DateTimeField(null=True, blank=True, editable=False)
    monthly_summary = models.BooleanField(
        _("monthly summary by e-mail"), default=False,
        help_text=_("Send me the desk's figures for each month when it ends."))
    # The last month ("2026-11") whose summary went to them: a scheduler that runs twice sends once.
    monthly_summary_sent = models.CharField(max_length=7, blank=True, editable=False)

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


class LibraryCard(models.Model):
    """The library card number a patron gave in the pre-chat form, for the librarians to see."""

    patron = models.OneToOneField(Patron, on_delete=models.CASCADE, related_name="library_card")
    number = models.CharField(_("library card number"), max_length=CARD_NUMBER_MAX_LENGTH)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("library card")
        verbose_name_plural = _("library cards")

    def __str__(self):
        return self.number


class Role(models.TextChoices):
    PATRON = "patron", _("Patron")
    LIBRARIAN = "librarian", _("Librarian")
    SYSTEM = "system", _("System")


class Topic(models.Model):
    """A subject a librarian tags a chat with, kept by staff in both languages."""

    library = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="topics", verbose_name=_("library"))
    label_id = models.CharField(_("Indonesian label"), max_length=80)
    label_en = models.CharField(_("English label"), max_length=80)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["label_id"]
        verbose_name = _("topic")
        verbose_name_plural = _("topics")
        constraints = [models.UniqueConstraint(fields=["library", "label_id"], name="topic_label_unique")]

    def __str__(self):
        return self.label_id


class AgeGroup(models.TextChoices):
    CHILD = "child", _("Under 18")
    ADULT = "adult", _("18 or older")


class QuestionType(models.TextChoices):
    DIRECTIONAL = "directional", _("Directional")
    READY_REFERENCE = "ready_reference", _("Ready reference")
    RESEARCH = "research", _("Research")
    TECHNICAL = "technical", _("Technical")
    POLICY = "policy", _("Policy")


READ_SCALE = range(1, 7)  # Gerlich's Reference Effort Assessment Data scale


class Conversation(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting")
        ACTIVE = "active", _("Active")
        CLOSED = "closed", _("Closed")

    # Empty once the patron was erased (reference.patron_data): the anonymised chat stays for the figures.
    patron = models.ForeignKey(Patron, on_delete=models.SET_NULL, null=True, related_name="conversations")
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
    # A question left while nobody was on duty, answered by email instead of live.
    is_offline = models.BooleanField(_("left offline"), default=False)
    # When it entered its current queue (asked, sent on, rolled over): the fallback clock.
    queued_at = models.DateTimeField(_("queued"), default=timezone.now)
    assigned_at = models.DateTimeField(_("assigned"), null=True, blank=True)
    # When a librarian first took it: the end of the patron's wait, kept through handoffs and requeues.
    first_assigned_at = models.DateTimeField(_("first taken"), null=True, blank=True)
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
    # Read receipts: the highest seq each side has reported as displayed (only ever grows).
    patron_read_seq = models.PositiveIntegerField(default=0)
    librarian_read_seq = models.PositiveIntegerField(default=0)
    # The patron asked that this conversation never feed FAQ drafts or candidates.
    faq_opt_out = models.BooleanField(_("no FAQ reuse"), default=False)
    # The pre-chat form's age group: a child's chat gets the parent's notice and a shorter retention.
    age_group = models.CharField(_("age group"), max_length=8, choices=AgeGroup, blank=True)
    # When its personal data and texts were removed (retention or a patron's request); figures stay.
    anonymised_at = models.DateTimeField(_("anonymised"), null=True, blank=True, db_index=True)
    # The patron's rating once the chat has ended (reference.feedback); re-rating replaces it.
    rating = models.PositiveSmallIntegerField(_("rating"), null=True, blank=True)
    rating_comment = models.TextField(_("rating comment"), blank=True)
    rated_at = models.DateTimeField(_("rated"), null=True, blank=True)
    # Transcripts sent by email on the patron's request; capped per conversation.
    transcript_emails_sent = models.PositiveSmallIntegerField(default=0)
    # The librarian's assessment (reference.assessment): topics, READ scale effort, question type.
    topics = models.ManyToManyField(Topic, blank=True, related_name="conversations", verbose_name=_("topics"))
    read_scale = models.PositiveSmallIntegerField(_("READ scale"), null=True, blank=True)
    question_type = models.CharField(_("question type"), max_length=20, choices=QuestionType, blank=True)
    # A librarian of a partner library took it under a cover agreement (reference.cover). The chat
    # stays the home library's (its site's); these record who answered for it, for the patron and
    # the network's reports, and stay when the chat is handed back.
    cover_agreement = models.ForeignKey("CoverAgreement", on_delete=models.SET_NULL, null=True, blank=True,
                                        related_name="conversations", verbose_name=_("cover agreement"))
    covering_library = models.ForeignKey(Library, on_delete=models.SET_NULL, null=True, blank=True,
                                         related_name="covered_conversations", verbose_name=_("answered by"))

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
            models.CheckConstraint(condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5),
                                   name="rating_from_one_to_five"),
            models.CheckConstraint(condition=Q(read_scale__isnull=True) | Q(read_scale__gte=1, read_scale__lte=6),
                                   name="read_scale_from_one_to_six"),
        ]

    def __str__(self):
        return f"#{self.pk} {self.patron} ({self.get_status_display()})"

    @property
    def is_closed(self):
        return self.status == self.Status.CLOSED


class CoverAgreement(models.Model):
    """Library `home` lets the librarians of library `covering` answer its patrons in `queues`, when
    `when` says (reference.cover holds the rules). What `covering` sees of `home` stops there."""

    class When(models.TextChoices):
        AFTER_HOURS = "after_hours", _("When the queue is closed (after the home library's hours)")
        WAITING = "waiting", _("When a chat has waited longer than the minutes below")
        ALWAYS = "always", _("Always (a shared queue, such as a school network's homework help)")

    home = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="cover_agreements",
                             verbose_name=_("home library"))
    covering = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="covering_agreements",
                                 verbose_name=_("covering library"))
    queues = models.ManyToManyField(Queue, related_name="cover_agreements", verbose_name=_("queues covered"),
                                    help_text=_("The home library's queues whose chats the covering library answers."))
    when = models.CharField(_("when"), max_length=12, choices=When, default=When.AFTER_HOURS)
    wait_minutes = models.PositiveSmallIntegerField(
        _("after waiting (minutes)"), default=5,
        help_text=_("With “When a chat has waited”: how long a chat waits before the covering library sees it."))
    hours = models.TextField(
        _("only at these times"), blank=True,
        help_text=_("Optional, in the home library's time zone, one rule per line such as “mon-sat 16:00-21:00”. "
                    "Empty: at any time the condition above holds."))
    starts_on = models.DateField(_("from"), null=True, blank=True)
    ends_on = models.DateField(_("until"), null=True, blank=True, help_text=_("Last day of the agreement."))
    policy_notes = models.TextField(
        _("notes for covering staff"), blank=True,
        help_text=_("What a covering librarian needs to answer well: loan rules, opening hours, whom to contact."))
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["home", "covering"]
        verbose_name = _("cover agreement")
        verbose_name_plural = _("cover agreements")
        constraints = [models.CheckConstraint(condition=~Q(home=models.F("covering")), name="cover_not_self")]
        permissions = [("view_network_reports", _("Can see the whole network's cover reports"))]

    def __str__(self):
        return _("%(covering)s covers %(home)s") % {"covering": self.covering, "home": self.home}

    def clean(self):
        from reference import hours

        if self.home_id is not None and self.home_id == self.covering_id:
            raise ValidationError(_("A library cannot cover itself."))
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            raise ValidationError({"ends_on": _("The agreement ends before it starts.")})
        hours.parse(self.hours)


class Message(models.Model):
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    seq = models.PositiveIntegerField(_("number"))
    role = models.CharField(_("role"), max_length=10, choices=Role)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Snapshot of the name shown at the time, so the transcript survives renames.
    author_name = models.CharField(_("author"), max_length=100, blank=True)
    text = models.TextField(_("text"), blank=True)
    client_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(_("sent"), auto_now_add=True)
    # A file sent with the message (the text may then be empty); one message per file.
    attachment = models.OneToOneField(
        "Attachment", on_delete=models.SET_NULL, null=True, blank=True, related_name="message",
        verbose_name=_("attachment"),
    )
    # Its file was deleted (retention or a patron's request); the transcript says so.
    attachment_removed = models.BooleanField(default=False)
    # The text's analysed terms (the FAQ search's analysis), space-separated, for staff transcript
    # search; emptied with the text.
    search_terms = models.TextField(default="", editable=False)

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


class Attachment(models.Model):
    """A file uploaded into a conversation (reference.attachments), sent by a later message.

    The stored name is random; `name` is what the uploader called it, shown and used for downloads.
    """

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="attachments")
    role = models.CharField(_("uploaded by"), max_length=10, choices=Role)
    patron = models.ForeignKey(Patron, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                             related_name="+")
    file = models.FileField(_("file"), upload_to="attachments/%Y/%m/", max_length=200)
    name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("type"), max_length=40)
    size = models.PositiveIntegerField(_("size (bytes)"))
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(_("uploaded"), auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self):
        return f"#{self.conversation_id} {self.name}"

    @property
    def is_image(self):
        return self.content_type.startswith("image/")


class Transfer(models.Model):
    """A handoff of a conversation to a colleague (offered, then accepted, declined or expired) or
    to another queue (done at once). The note is internal: patrons never see it."""

    class Status(models.TextChoices):
        OFFERED = "offered", _("Offered")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")
        EXPIRED = "expired", _("Expired")
        REQUEUED = "requeued", _("Sent to a queue")

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="transfers")
    from_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    to_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    to_queue = models.ForeignKey(Queue, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    note = models.TextField(_("internal note"), blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        verbose_name = _("transfer")
        verbose_name_plural = _("transfers")
        constraints = [
            # At most one offer waiting for an answer per conversation.
            models.UniqueConstraint(fields=["conversation"], condition=Q(status="offered"),
                                    name="one_open_offer_per_conversation"),
            models.CheckConstraint(condition=Q(to_user__isnull=False) | Q(to_queue__isnull=False),
                                   name="transfer_has_a_target"),
        ]

    def __str__(self):
        return f"#{self.conversation_id} {self.from_user_id} → {self.to_user_id or self.to_queue_id}"


class InternalNote(models.Model):
    """What librarians tell each other about a conversation, or about the patron (conversation
    empty: it follows the patron to their next chat). Patrons never see a note."""

    patron = models.ForeignKey(Patron, on_delete=models.CASCADE, related_name="notes")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, null=True, blank=True,
                                     related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                               related_name="+")
    author_name = models.CharField(_("author"), max_length=100)
    text = models.TextField(_("note"))
    created_at = models.DateTimeField(_("written"), auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        verbose_name = _("internal note")
        verbose_name_plural = _("internal notes")

    def __str__(self):
        return f"#{self.conversation_id or '-'} {self.author_name}"


class CannedReply(models.Model):
    """A reply a librarian inserts instead of typing it again: their own, or shared with a queue's
    members or the whole library. Texts may hold {variables} (reference.canned)."""

    class Scope(models.TextChoices):
        PERSONAL = "personal", _("Only me")
        QUEUE = "queue", _("A queue")
        LIBRARY = "library", _("The whole library")

    library = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="canned_replies")
    scope = models.CharField(_("shared with"), max_length=10, choices=Scope, default=Scope.PERSONAL)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True,
                              related_name="canned_replies", verbose_name=_("owner"))
    queue = models.ForeignKey(Queue, on_delete=models.CASCADE, null=True, blank=True, related_name="canned_replies",
                              verbose_name=_("queue"))
    title = models.CharField(_("title"), max_length=80)
    text_id = models.TextField(_("Indonesian text"))
    text_en = models.TextField(_("English text"))
    usage_count = models.PositiveIntegerField(_("used"), default=0)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["title"]
        verbose_name = _("canned reply")
        verbose_name_plural = _("canned replies")
        permissions = [("manage_shared_cannedreply", _("Can manage shared canned replies"))]
        constraints = [
            models.CheckConstraint(
                condition=(Q(scope="personal", owner__isnull=False, queue__isnull=True)
                           | Q(scope="queue", owner__isnull=True, queue__isnull=False)
                           | Q(scope="library", owner__isnull=True, queue__isnull=True)),
                name="canned_reply_scope_matches"),
        ]

    def __str__(self):
        return self.title

    def clean(self):
        from reference import canned

        canned.check_texts(self)


class AssignmentOffer(models.Model):
    """Automatic routing offers a waiting chat to one librarian at a time."""

    class Status(models.TextChoices):
        OFFERED = "offered", _("Offered")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")
        EXPIRED = "expired", _("Expired")

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="offers")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.OFFERED)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(fields=["conversation"], condition=Q(status="offered"),
                                    name="one_open_assignment_offer_per_conversation"),
        ]

    def __str__(self):
        return f"#{self.conversation_id} → {self.user_id} ({self.status})"


from reference.faq.models import (  # noqa: E402, F401
    FaqEntry,
    FaqRevision,
    FaqSearchMiss,
    FaqSpelling,
    FaqSynonym,
    FaqTerm,
    FaqTopic,
)


class DutySpell(models.Model):
    """A stretch of time a librarian was on duty: connected, available or away. Reports add them up."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="duty_spells")
    started_at = models.DateTimeField(_("from"))
    ended_at = models.DateTimeField(_("until"))

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("time on duty")
        verbose_name_plural = _("times on duty")
        indexes = [models.Index(fields=["ended_at", "user"], name="duty_spell_end_idx")]

    def __str__(self):
        return f"{self.user_id} {self.started_at:%Y-%m-%d %H:%M}–{self.ended_at:%H:%M}"


class SurveyQuestion(models.Model):
    """One of up to five questions a widget site asks after a chat, besides the rating."""

    MAX_PER_SITE = 5

    class Kind(models.TextChoices):
        YES_PARTLY_NO = "yes_partly_no", _("Yes / partly / no")
        SCALE = "scale", _("1 to 5")
        TEXT = "text", _("Free text")

    site = models.ForeignKey("widgets.Site", on_delete=models.CASCADE, related_name="survey_questions",
                             verbose_name=_("widget site"))
    position = models.PositiveSmallIntegerField(_("position"), default=1)
    kind = models.CharField(_("kind of answer"), max_length=16, choices=Kind)
    text_id = models.CharField(_("Indonesian question"), max_length=200)
    text_en = models.CharField(_("English question"), max_length=200)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["site", "position", "pk"]
        verbose_name = _("survey question")
        verbose_name_plural = _("survey questions")

    def __str__(self):
        return self.text_en or self.text_id


class SurveyAnswer(models.Model):
    """A patron's answer to a survey question about one conversation; answering again replaces it."""

    class Choice(models.TextChoices):
        YES = "yes", _("Yes")
        PARTLY = "partly", _("Partly")
        NO = "no", _("No")

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="survey_answers")
    question = models.ForeignKey(SurveyQuestion, on_delete=models.CASCADE, related_name="answers")
    choice = models.CharField(_("answer"), max_length=8, choices=Choice, blank=True)
    score = models.PositiveSmallIntegerField(_("score"), null=True, blank=True)
    text = models.TextField(_("answer text"), blank=True)
    answered_at = models.DateTimeField(_("answered"), default=timezone.now)

    class Meta:
        ordering = ["question__position", "pk"]
        verbose_name = _("survey answer")
        verbose_name_plural = _("survey answers")
        constraints = [
            models.UniqueConstraint(fields=["conversation", "question"], name="one_answer_per_survey_question"),
            models.CheckConstraint(condition=Q(score__isnull=True) | Q(score__gte=1, score__lte=5),
                                   name="survey_score_from_one_to_five"),
        ]

    def __str__(self):
        return f"#{self.conversation_id} {self.question_id}: {self.choice or self.score or self.text[:40]}"


class FaqActivity(models.Model):
    """Patrons' use of the FAQ, counted per hour: searches, searches that found nothing, entry
    views, votes, and answers that solved a question in the widget. Hour buckets keep the table
    small and let reports count days in any whole-hour time zone (all of Indonesia's)."""

    class Kind(models.TextChoices):
        SEARCH = "search", _("Searches")
        MISS = "miss", _("Searches that found nothing")
        VIEW = "view", _("Entry views")
        HELPFUL = "helpful", _("Marked helpful")
        NOT_HELPFUL = "not_helpful", _("Marked not helpful")
        ANSWERED = "answered", _("Answered a question in the widget")

    hour = models.DateTimeField()
    kind = models.CharField(max_length=12, choices=Kind)
    entry = models.ForeignKey("reference.FaqEntry", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    site = models.ForeignKey("widgets.Site", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    count = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("FAQ activity")
        verbose_name_plural = _("FAQ activity")
        indexes = [models.Index(fields=["hour", "kind"], name="faq_activity_hour_idx")]

    def __str__(self):
        return f"{self.hour:%Y-%m-%d %H}:00 {self.kind} {self.count}"


class AuditEvent(models.Model):
    """Who did what with patrons' data, and when (reference.audit). Rows name what they touched by
    id rather than by foreign key, so the trail outlives what it records."""

    class Action(models.TextChoices):
        VIEW_TRANSCRIPT = "view_transcript", _("Opened a transcript")
        SEARCH_TRANSCRIPTS = "search_transcripts", _("Searched transcripts")
        EXPORT = "export", _("Exported")
        REDACT = "redact", _("Drafted an FAQ entry with redaction")
        FIND_PATRON = "find_patron", _("Looked up a patron's data")
        EXPORT_PATRON = "export_patron", _("Exported a patron's data")
        ERASE_PATRON = "erase_patron", _("Erased a patron's data")
        OPT_OUT = "opt_out", _("FAQ reuse refused or allowed")
        RETENTION = "retention", _("Applied the retention periods")
        VIEW_AUDIT = "view_audit", _("Read the audit trail")
        BLOCK_PATRON = "block_patron", _("Blocked a patron for a while")
        LIFT_BLOCK = "lift_block", _("Lifted a patron's block")

    at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    library = models.ForeignKey(Library, on_delete=models.CASCADE, null=True, blank=True, related_name="+",
                                verbose_name=_("library"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                             related_name="+")
    # Who, as shown at the time: a user's name, "patron" or "scheduler"; kept when the user goes.
    actor = models.CharField(_("who"), max_length=150)
    action = models.CharField(_("action"), max_length=20, choices=Action)
    conversation_id = models.PositiveBigIntegerField(_("conversation"), null=True, blank=True, db_index=True)
    # What it was about, readable: a search's words, an export's filters, what was erased…
    detail = models.JSONField(_("detail"), default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit trail")

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor} {self.action}"


class PatronBlock(models.Model):
    """A librarian stopped a patron from chatting for a while (reference.limits): the patron's token,
    and the client address they chatted from (kept only as a keyed hash, never the address itself)."""

    patron = models.ForeignKey(Patron, on_delete=models.CASCADE, related_name="blocks", verbose_name=_("patron"))
    conversation = models.ForeignKey(Conversation, on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="+", verbose_name=_("conversation"))
    # HMAC of the client address (reference.limits.address_key): matches the same address again,
    # and tells nobody what it was.
    address_key = models.CharField(_("address key"), max_length=64, blank=True, db_index=True)
    until = models.DateTimeField(_("blocked until"), db_index=True)
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+", verbose_name=_("blocked by"))
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    lifted_at = models.DateTimeField(_("lifted"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("patron block")
        verbose_name_plural = _("patron blocks")

    def __str__(self):
        return f"{self.patron} → {self.until:%Y-%m-%d %H:%M}"
