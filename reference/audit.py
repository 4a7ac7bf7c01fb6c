"""The audit trail: who opened, searched, exported, redacted or erased patrons' data, and when.

Every service or view that touches patrons' data on a person's behalf calls `record()` once per
act. The trail is itself personal data (staff names, search words) and is kept for the library's
`audit_retention_days` (reference.retention).
"""

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
