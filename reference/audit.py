"""The audit trail: who opened, searched, exported, redacted or erased patrons' data, and when.

Every service or view that touches patrons' data on a person's behalf calls `record()` once per
act. The trail is itself personal data (staff names, search words) and is kept for the library's
`audit_retention_days` (reference.retention).
"""

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from reference.models import AuditEvent

Action = AuditEvent.Action
PATRON = "patron"
SCHEDULER = "scheduler"


def actor_name(user):
    """A staff member as the trail names them: their desk name, else their user name."""
    profile = getattr(user, "librarian_profile", None)
    name = profile.display_name if profile is not None else ""
    return f"{name} ({user.get_username()})" if name else user.get_username()


def record(action, *, user=None, actor=None, library_id=None, conversation_id=None, **detail):
    """One entry. `user` is the staff member who acted; `actor` names anyone else (PATRON,
    SCHEDULER). `detail` holds plain values that say what was touched."""
    return AuditEvent.objects.create(
        action=action, user=user, actor=actor or (actor_name(user) if user is not None else SCHEDULER),
        library_id=library_id, conversation_id=conversation_id, detail=detail)


def library_id_of(user):
    """The library a staff member works for (their librarian profile's), or None."""
    profile = getattr(user, "librarian_profile", None)
    return profile.library_id if profile is not None else None


# ---- reading the trail (the staff page reference.audit_views, the admin)

READ_PERMISSION = "reference.view_audit_trail"


def may_read(user):
    return user.has_perm(READ_PERMISSION)


def trail(*, library_id=None, since=None, until=None, user=None, action="", conversation_id=None):
    """Events, newest first: of one library (and those tied to none) when `library_id` is given;
    `since` inclusive and `until` exclusive are aware datetimes; the others match exactly."""
    events = AuditEvent.objects.all()
    if library_id is not None:
        events = events.filter(Q(library_id=library_id) | Q(library__isnull=True))
    if since is not None:
        events = events.filter(at__gte=since)
    if until is not None:
        events = events.filter(at__lt=until)
    if user is not None:
        events = events.filter(user=user)
    if action:
        events = events.filter(action=action)
    if conversation_id is not None:
        events = events.filter(conversation_id=conversation_id)
    return events.order_by("-at", "-pk")


# What a detail's keys mean, for a person reading the trail; other keys are shown as they are.
DETAIL_LABELS = {
    "text": _("words"),
    "filters": _("filters"),
    "format": _("format"),
    "personal_data": _("personal data included"),
    "conversations": _("conversations"),
    "table": _("report table"),
    "file": _("file"),
    "opened_from": _("opened from"),
    "current": _("from the chat"),
    "date_from": _("from"),
    "date_to": _("to"),
    "start": _("from"),
    "end": _("to"),
    "queue": _("queue"),
    "librarian": _("librarian"),
    "topic": _("topic"),
    "site": _("widget site"),
    "action": _("action"),
    "user": _("staff member"),
    "conversation": _("conversation"),
    # A patron's request (reference.patron_data)
    "email": _("e-mail"),
    "card_number": _("library card number"),
    "found_patrons": _("patron records found"),
    "found_conversations": _("conversations found"),
    "patrons": _("patron records"),
    "conversation_ids": _("conversations"),
    "files": _("files"),
    "notes": _("notes"),
    "counts": _("done"),
    "via": _("through"),
    # FAQ drafts and the opt-out (reference.faq.curation)
    "entry_id": _("FAQ entry"),
    "placeholders": _("pieces of personal data replaced"),
    "opt_out": _("kept out of the FAQ"),
    # The retention command (reference.retention.KINDS)
    "offline_questions": _("offline questions anonymised"),
    "children": _("children's chats anonymised"),
    "attachments": _("files deleted"),
    "rating_comments": _("rating comments removed"),
    "survey_texts": _("survey texts removed"),
    "search_misses": _("searches that found nothing deleted"),
    "faq_revisions": _("older FAQ revisions deleted"),
    "faq_sources": _("FAQ links to source chats removed"),
    "audit_events": _("audit entries deleted"),
}
_WORDS = {"history": _("a patron's earlier chats"), "csv": "CSV", "json": "JSON", "admin": _("the admin")}


def _value(value, key=None):
    if key == "action" and value in Action.values:
        return str(Action(value).label)
    if isinstance(value, dict):
        parts = [f"{DETAIL_LABELS.get(name, name)}: {_value(item, name)}" for name, item in value.items()]
        return "; ".join(parts) or "—"
    if isinstance(value, list):
        return ", ".join(_value(item) for item in value)
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    if value is None or value == "":
        return "—"
    return str(_WORDS.get(value, value)) if isinstance(value, str) else str(value)


def describe(detail):
    """An event's detail as (label, text) pairs in the reader's language."""
    return [(str(DETAIL_LABELS.get(key, key)), _value(value, key)) for key, value in (detail or {}).items()
            if value not in ({}, [])]  # an empty set of filters says nothing
