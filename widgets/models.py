import secrets
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from reference.models import default_library
from reference.prechat import FieldMode, SiteSettings

# How long each thing is kept, and how to ask for one's data, follow it (widgets.privacy).
DEFAULT_PRIVACY_NOTICE = _(
    "The library keeps this chat and the details you give (such as your name, email and card number) to "
    "answer you and to improve the service. Only library staff see the transcripts."
)


def new_site_key():
    return secrets.token_urlsafe(12)


def normalise_origin(value):
    """`https://Example.org/path` → `https://example.org`; raises ValueError when not an origin."""
    parts = urlsplit(value.strip())
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError(value)
    origin = f"{parts.scheme}://{parts.hostname.lower()}"
    return f"{origin}:{parts.port}" if parts.port else origin


class Site(models.Model):
    """A library web site that embeds the widget, with its own settings."""

    name = models.CharField(_("site name"), max_length=100)
    key = models.CharField(
        _("public key"),
        max_length=40,
        unique=True,
        default=new_site_key,
        help_text=_("Goes into the embed tag as data-site. Public: it identifies, it does not authorise."),
    )
    allowed_origins = models.TextField(
        _("allowed host-page origins"),
        blank=True,
        help_text=_("One per line, such as https://perpustakaan.tebingtinggikota.go.id"),
    )
    library = models.ForeignKey("reference.Library", on_delete=models.PROTECT, related_name="sites",
                                default=default_library, verbose_name=_("library"))
    default_queue = models.ForeignKey(
        "reference.Queue", on_delete=models.PROTECT, related_name="+", verbose_name=_("default queue")
    )
    queue_choices = models.ManyToManyField(
        "reference.Queue", blank=True, related_name="+", verbose_name=_("queues patrons may choose"),
        help_text=_("Leave empty to send every question to the default queue."),
    )
    greeting = models.TextField(
        _("greeting"), blank=True, help_text=_("Shown to patrons when they open the chat.")
    )
    is_active = models.BooleanField(_("active"), default=True)

    # The pre-chat form: which fields patrons see, and which they must fill in.
    name_field = models.CharField(_("name"), max_length=10, choices=FieldMode, default=FieldMode.OPTIONAL)
    email_field = models.CharField(
        _("email"), max_length=10, choices=FieldMode, default=FieldMode.OPTIONAL,
        help_text=_("Always required for a question left while nobody is on duty: the answer goes by email."),
    )
    card_field = models.CharField(_("library card number"), max_length=10, choices=FieldMode,
                                  default=FieldMode.HIDDEN)
    age_group_field = models.CharField(
        _("age group"), max_length=10, choices=FieldMode, default=FieldMode.HIDDEN,
        help_text=_("Asks whether the patron is under 18. A child's chat shows a notice for a parent, needs no "
                    "e-mail and is kept for the library's shorter period."))
    queue_field = models.CharField(
        _("queue choice"), max_length=10, choices=FieldMode, default=FieldMode.OPTIONAL,
        help_text=_("Shown only when the site has queues patrons may choose. Required: the patron must pick one."),
    )
    privacy_notice = models.TextField(
        _("privacy notice"), blank=True,
        help_text=_("What the library keeps and for how long, shown under the form. Empty: a standard text."),
    )
    invite_after = models.PositiveSmallIntegerField(
        _("invite after (seconds)"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(3600)],
        help_text=_("Show a small “Need help? Ask a librarian” bubble after this many seconds on a page. "
                    "Empty: never. A visitor who dismisses it does not see it again that day."),
    )
    offline_survey_percent = models.PositiveSmallIntegerField(
        _("survey link in offline answers (%)"), default=20, validators=[MaxValueValidator(100)],
        help_text=_("The share of e-mailed answers to offline questions that invite the patron to the site's "
                    "survey. 0: never; 100: every one."))

    class Meta:
        ordering = ["name"]
        verbose_name = _("widget site")
        verbose_name_plural = _("widget sites")

    def __str__(self):
        return self.name

    @property
    def origins(self):
        return [line.strip() for line in self.allowed_origins.splitlines() if line.strip()]

    @property
    def privacy_text(self):
        """The notice under the pre-chat form as plain text: the site's own text (else the standard
        one), then the library's retention periods and how to ask for one's data (widgets.privacy)."""
        from widgets import privacy

        return privacy.notice(self).text

    def desk_settings(self):
        """The settings the reference desk's rules read (reference.prechat), as plain values."""
        return SiteSettings(
            id=self.pk, default_queue_id=self.default_queue_id,
            queue_choice_ids=frozenset(self.queue_choices.filter(is_active=True).values_list("pk", flat=True)),
            name_field=self.name_field, email_field=self.email_field, card_field=self.card_field,
            queue_field=self.queue_field, age_group_field=self.age_group_field, library_id=self.library_id)

    def allows_origin(self, origin):
        try:
            return normalise_origin(origin) in self.origins
        except ValueError:
            return False

    def clean(self):
        cleaned = []
        for line in self.origins:
            try:
                cleaned.append(normalise_origin(line))
            except ValueError:
                raise ValidationError(
                    {"allowed_origins": _("“%(value)s” is not an origin such as https://example.org")
                     % {"value": line}}
                ) from None
        self.allowed_origins = "\n".join(dict.fromkeys(cleaned))
