import secrets
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

DEFAULT_PRIVACY_NOTICE = _(
    "The library keeps this chat and the details you give (such as your name, email and card number) to "
    "answer you and to improve the service. Only library staff see the transcripts, which are kept until the "
    "library deletes them. Ask a librarian to delete yours at any time."
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


class FieldMode(models.TextChoices):
    HIDDEN = "hidden", _("not asked")
    OPTIONAL = "optional", _("optional")
    REQUIRED = "required", _("required")


CARD_NUMBER_MAX_LENGTH = 32


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
        return self.privacy_notice.strip() or str(DEFAULT_PRIVACY_NOTICE)

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


class LibraryCard(models.Model):
    """The library card number a patron gave in the pre-chat form, for the librarians to see."""

    patron = models.OneToOneField("reference.Patron", on_delete=models.CASCADE, related_name="library_card")
    number = models.CharField(_("library card number"), max_length=CARD_NUMBER_MAX_LENGTH)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("library card")
        verbose_name_plural = _("library cards")

    def __str__(self):
        return self.number
