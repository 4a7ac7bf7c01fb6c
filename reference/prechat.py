"""The pre-chat form's rules: each widget site says which fields it asks for and which are required.

A field the site does not ask for is dropped, never stored: the patron was not told it is kept.
"""

import re
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from reference.errors import ServiceError
from reference.validation import clean_email, clean_name
from widgets.models import CARD_NUMBER_MAX_LENGTH, FieldMode

CARD_NUMBER = re.compile(rf"[A-Za-z0-9][A-Za-z0-9 -]{{0,{CARD_NUMBER_MAX_LENGTH - 1}}}")
LABELS = {"name": _("Name"), "email": _("Email"), "card": _("Library card number"), "queue": _("Who should answer?")}


@dataclass(frozen=True)
class PrechatDetails:
    name: str = ""
    email: str = ""
    card_number: str = ""
    queue_id: int | None = None


def clean_details(site, *, name="", email="", card_number="", queue_id=None, offline=False):
    """What the patron filled in, checked against the site's form; raises ServiceError."""
    details = PrechatDetails(
        name=clean_name(name) if _asked(site.name_field) else "",
        email=clean_email(email) if _asked(site.email_field) or offline else "",
        card_number=clean_card_number(card_number) if _asked(site.card_field) else "",
        queue_id=queue_id if _asks_queue(site) else None,
    )
    if offline and not details.email:
        raise ServiceError("email_required")
    for field, mode, value in [("name", site.name_field, details.name), ("email", site.email_field, details.email),
                               ("card", site.card_field, details.card_number)]:
        if mode == FieldMode.REQUIRED and not value:
            raise ServiceError("field_required", field=field, label=LABELS[field])
    if site.queue_field == FieldMode.REQUIRED and _asks_queue(site) and queue_id is None:
        raise ServiceError("field_required", field="queue", label=LABELS["queue"])
    return details


def clean_card_number(value):
    value = " ".join((value or "").split())
    if value and not CARD_NUMBER.fullmatch(value):
        raise ServiceError("invalid_card", field="card", limit=CARD_NUMBER_MAX_LENGTH)
    return value


def _asked(mode):
    return mode != FieldMode.HIDDEN


def _asks_queue(site):
    return _asked(site.queue_field) and site.queue_choices.filter(is_active=True).exists()
