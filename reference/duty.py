"""Staying on duty: what a librarian is told about chats that went back to the queue while none of
their staff pages was open, and how long they were on duty (for reports).

The sweep (reference.sweeps.requeue_lapsed) records each chat it requeues on the librarian's profile,
in the transaction of the requeue, so the record exists exactly when the requeue happened. Their
dashboards show it on return (the welcome carries it) until the librarian dismisses it; a dismissal
clears the entries they saw, and every tab of theirs drops them (`duty.requeued`).

Time on duty is kept where presence is worked out (reference.presence.announce): coming on duty
(connected, available or away) stamps `on_duty_since`; going off duty turns it into a DutySpell.
"""

from django.db import transaction
from django.utils import timezone

from reference import frames, groups
from reference.errors import ServiceError
from reference.events import outbox_or_direct
from reference.models import Conversation, DutySpell, LibrarianProfile

KEEP = 20  # entries kept per librarian: the newest; older ones add nothing a person reads at a glance
SUBJECT_LENGTH = 140  # characters of the question kept in an entry


def do_record_requeued(*, user_id, conversation_id, outbox=None):
    """The sweep put this librarian's chat back in the queue: remember it for their return. Call it
    inside the requeue's transaction."""
    subject = Conversation.objects.values_list("subject", flat=True).get(pk=conversation_id)
    entry = {"id": conversation_id, "subject": _short(subject), "at": timezone.now().isoformat()}
    with transaction.atomic():
        profile = LibrarianProfile.objects.select_for_update().get(user_id=user_id)
        kept = [e for e in profile.requeued_while_away if e.get("id") != conversation_id]
        profile.requeued_while_away = [*kept, entry][-KEEP:]
        profile.save(update_fields=["requeued_while_away"])
        _publish(profile, outbox)
    return entry


def check_dismissed_ids(conversation_ids):
    """The ids of a dismissal: a non-empty list of conversation ids, at most KEEP of them."""
    if (not isinstance(conversation_ids, list) or not 1 <= len(conversation_ids) <= KEEP
            or not all(isinstance(i, int) and not isinstance(i, bool) and i > 0 for i in conversation_ids)):
        raise ServiceError("invalid_frame", field="conversations")
    return set(conversation_ids)


def do_dismiss_requeued(*, user, conversation_ids, outbox=None):
    """The librarian has read the entries for these chats: they go, and every tab of theirs drops
    them. Ids no longer recorded (another tab dismissed them first) are simply not there."""
    dismissed = check_dismissed_ids(conversation_ids)
    with transaction.atomic():
        profile = LibrarianProfile.objects.select_for_update().get(user=user)
        kept = [e for e in profile.requeued_while_away if e.get("id") not in dismissed]
        if kept != profile.requeued_while_away:
            profile.requeued_while_away = kept
            profile.save(update_fields=["requeued_while_away"])
        _publish(profile, outbox)
    return kept


def _publish(profile, outbox):
    outbox_or_direct(outbox).publish(groups.librarian(profile.user_id),
                                     frames.duty_requeued(profile.requeued_while_away))


def _short(text):
    text = " ".join(str(text).split())
    return text if len(text) <= SUBJECT_LENGTH else text[:SUBJECT_LENGTH - 1] + "…"


def record_duty(profile, on_duty, now=None):
    """Open or close the librarian's stretch on duty. The conditional update and the row lock make
    two processes announcing the same change record it once. A librarian whose connection lapsed
    is closed when the sweep notices, so a spell may run PRESENCE_TIMEOUT long."""
    if on_duty == (profile.on_duty_since is not None):
        return
    now = now or timezone.now()
    if on_duty:
        LibrarianProfile.objects.filter(pk=profile.pk, on_duty_since__isnull=True).update(on_duty_since=now)
        profile.on_duty_since = now
        return
    with transaction.atomic():
        since = (LibrarianProfile.objects.select_for_update().filter(pk=profile.pk)
                 .values_list("on_duty_since", flat=True).first())
        if since is not None:
            DutySpell.objects.create(user_id=profile.user_id, started_at=since, ended_at=max(now, since))
            LibrarianProfile.objects.filter(pk=profile.pk).update(on_duty_since=None)
    profile.on_duty_since = None
