import secrets
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _


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

    class Meta:
        ordering = ["name"]
        verbose_name = _("widget site")
        verbose_name_plural = _("widget sites")

    def __str__(self):
        return self.name

    @property
    def origins(self):
        return [line.strip() for line in self.allowed_origins.splitlines() if line.strip()]

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
