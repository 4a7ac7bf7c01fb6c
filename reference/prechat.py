"""The pre-chat form's rules: each widget site says which fields it asks for and which are required.

A field the site does not ask for is dropped, never stored: the patron was not told it is kept.
The site's settings reach these rules as plain values (`SiteSettings`), whatever embeds the desk.
"""

import re
from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _

from reference.errors import ServiceError
from reference.validation import clean_email, clean_name

CARD_NUMBER_MAX_LENGTH = 32
CARD_NUMBER = re.compile(rf"[A-Za-z0-9][A-Za-z0-9 -]{{0,{CARD_NUMBER_MAX_LENGTH - 1}}}")
LABELS = {"name": _("Name"), "email": _("Email"), "card": _("Library card number"), "queue": _("Who should answer?"),
          "age_group": _("Are you under 18?")}


class FieldMode(models.TextChoices):
    HIDDEN = "hidden", _("not asked")
    OPTIONAL = "optional", _("optional")
    REQUIRED = "required", _("required")


@dataclass(frozen=True)
class SiteSettings:
    """What the desk needs to know of the web site a patron asks from."""

    id: int
    default_queue_id: int
    queue_choice_ids: frozenset = frozenset()  # active queues patrons may choose
    name_field: str = FieldMode.OPTIONAL
    email_field: str = FieldMode.OPTIONAL
    card_field: str = FieldMode.HIDDEN
    queue_field: str = FieldMode.OPTIONAL
    age_group_field: str = FieldMode.HIDDEN
    library_id: int | None = None


@dataclass(frozen=True)
class PrechatDetails:
    queue_id: int
    name: str = ""
    email: str = ""
    card_number: str = ""
    age_group: str = ""  # reference.models.AgeGroup, or "" when not asked or not answered


def clean_details(site, *, name="", email="", card_number="", queue_id=None, age_group="", offline=False):
    """What the patron filled in, checked against the site's form; raises ServiceError. The queue is
    the one chosen, else the site's default queue.

    A child (age group "child") needs no email address for a live chat, even where the site requires
    one; a question left offline still needs one to send the answer to: a parent's or guardian's."""
    from reference.models import AgeGroup  # reference.models reads this module's limits

    asks_queue = _asked(site.queue_field) and bool(site.queue_choice_ids)
    details = PrechatDetails(
        name=clean_name(name) if _asked(site.name_field) else "",
        email=clean_email(email) if _asked(site.email_field) or offline else "",
        card_number=clean_card_number(card_number) if _asked(site.card_field) else "",
        age_group=clean_age_group(age_group) if _asked(site.age_group_field) else "",
        queue_id=_chosen_queue(site, queue_id if asks_queue else None),
    )
    child = details.age_group == AgeGroup.CHILD
    if offline and not details.email:
        raise ServiceError("guardian_email_required" if child else "email_required", field="email")
    for field, mode, value in [("age_group", site.age_group_field, details.age_group),
                               ("name", site.name_field, details.name),
                               ("email", FieldMode.OPTIONAL if child else site.email_field, details.email),
                               ("card", site.card_field, details.card_number)]:
        if mode == FieldMode.REQUIRED and not value:
            raise ServiceError("field_required", field=field, label=LABELS[field])
    if site.queue_field == FieldMode.REQUIRED and asks_queue and queue_id is None:
        raise ServiceError("field_required", field="queue", label=LABELS["queue"])
    return details


def _chosen_queue(site, queue_id):
    if queue_id is None or queue_id == site.default_queue_id:
        return site.default_queue_id
    if queue_id not in site.queue_choice_ids:
        raise ServiceError("unknown_queue")
    return queue_id


def clean_card_number(value):
    value = " ".join((value or "").split())
    if value and not CARD_NUMBER.fullmatch(value):
        raise ServiceError("invalid_card", field="card", limit=CARD_NUMBER_MAX_LENGTH)
    return value


def clean_age_group(value):
    """"child", "adult" or "" (not answered); anything else is refused."""
    from reference.models import AgeGroup

    value = (value or "").strip()
    if value and value not in AgeGroup.values:
        raise ServiceError("invalid_age_group", field="age_group")
    return value


def _asked(mode):
    return mode != FieldMode.HIDDEN
