"""Cover agreements: when the librarians of one library may answer another library's patrons.

Library A (`home`) lets library B (`covering`) answer the chats of some of A's queues:
* `after_hours`: while the queue is closed by its opening hours;
* `waiting`: once a chat has waited in the queue longer than `wait_minutes`;
* `always`: a shared queue, such as a school network's homework help;
optionally only within `hours` and between `starts_on` and `ends_on` (days in A's time zone).

While an agreement lets B take a waiting chat, B's dashboards see it (group `cover.<B>`, with A's
notes for covering staff) and B's librarians may claim it; reference.lifecycle asks `check_cover` at
the claim and records the agreement on the chat. The chat stays A's: its transcript, patron and
notes are A's, and B's librarian reads it afterwards only as one they held
(reference.selectors.visible_transcripts). A covering librarian may send it back to one of A's queues
or leave it for A to answer by email (reference.lifecycle.do_return_offline).

`refusal` is the one rule; everything else here asks it.
"""

import zoneinfo
from datetime import timedelta

from django.db.models import Prefetch
from django.utils import timezone

from reference import groups, hours, tenancy
from reference.errors import ServiceError
from reference.events import outbox_or_direct
from reference.models import Conversation, CoverAgreement, Queue

When = CoverAgreement.When

# The order in which a refused claim names its reason: the most telling first.
_REASONS = ("cover_not_due", "cover_home_open", "cover_outside_hours", "cover_not_started", "cover_ended")


def _agreements(**filters):
    return list(CoverAgreement.objects.filter(**filters).select_related("home", "covering").prefetch_related(
        Prefetch("queues", queryset=Queue.objects.filter(is_active=True).only("pk", "name", "library_id"))))


def _queue_ids(agreement):
    return {queue.pk for queue in agreement.queues.all()}


def refusal(agreement, conversation, now=None):
    """Why `agreement` does not let its covering library take `conversation` at `now` (an error
    code of reference.errors), or None when it does. `conversation.queue` is read."""
    now = now or timezone.now()
    zone = zoneinfo.ZoneInfo(agreement.home.time_zone)
    today = timezone.localtime(now, zone).date()
    if not agreement.is_active or (agreement.ends_on and today > agreement.ends_on):
        return "cover_ended"
    if agreement.starts_on and today < agreement.starts_on:
        return "cover_not_started"
    if agreement.hours and not hours.is_open(agreement.hours, now, zone):
        return "cover_outside_hours"
    if agreement.when == When.AFTER_HOURS and hours.is_open(conversation.queue.opening_hours, now, zone):
        return "cover_home_open"
    if agreement.when == When.WAITING and (now - conversation.queued_at).total_seconds() < agreement.wait_minutes * 60:
        return "cover_not_due"
    return None


def applies_to(agreement, conversation):
    """Is `conversation` in one of the agreement's queues, of its home library?"""
    return conversation.queue_id in _queue_ids(agreement) and conversation.queue.library_id == agreement.home_id


def check_cover(user, conversation, now=None):
    """The agreement under which `user` may take `conversation` now; else ServiceError naming why
    not: no agreement between their libraries for this queue, or the one there is not in force."""
    mine = tenancy.library_ids(user)
    candidates = [a for a in _agreements(covering_id__in=mine, home_id=conversation.queue.library_id)
                  if applies_to(a, conversation)]
    if not candidates:
        raise ServiceError("no_cover_agreement")
    reasons = []
    for agreement in candidates:
        reason = refusal(agreement, conversation, now)
        if reason is None:
            return agreement
        reasons.append(reason)
    raise ServiceError(min(reasons, key=_REASONS.index))


def agreements_in_force(conversation, now=None):
    """{covering library id: agreement} of the agreements that let another library take this
    waiting chat now."""
    found = {}
    for agreement in _agreements(queues=conversation.queue_id, home_id=conversation.queue.library_id,
                                 is_active=True):
        if agreement.covering_id not in found and refusal(agreement, conversation, now) is None:
            found[agreement.covering_id] = agreement
    return found


def covering_now(queue, now=None):
    """The libraries whose agreements for this queue are in force now for a chat asked now (one
    that waits counts as due): whose librarians keep the desk open."""
    asked_long_ago = Conversation(queue=queue, queued_at=timezone.now() - timedelta(days=1))
    agreements = _agreements(queues=queue.pk, home_id=queue.library_id, is_active=True)
    return {a.covering_id for a in agreements if refusal(a, asked_long_ago, now) is None}


def covering_library_ids(queue_id):
    """The libraries that cover this queue under any active agreement (whether in force now or not)."""
    return set(CoverAgreement.objects.filter(queues=queue_id, is_active=True).values_list("covering_id", flat=True))


def coverable(library_ids, now=None):
    """[(conversation, agreement)]: the waiting chats of other libraries that the libraries
    `library_ids` may take now, oldest first. A chat of a library among `library_ids` is not
    listed: its members see it in its queue."""
    agreements = [a for a in _agreements(covering_id__in=library_ids, is_active=True)
                  if a.home_id not in library_ids]
    by_queue = {}
    for agreement in agreements:
        for queue_id in _queue_ids(agreement):
            by_queue.setdefault(queue_id, []).append(agreement)
    if not by_queue:
        return []
    waiting = (Conversation.objects.filter(status=Conversation.Status.QUEUED, queue_id__in=by_queue)
               .select_related("patron", "patron__library_card", "queue", "librarian__librarian_profile")
               .order_by("created_at"))
    found = []
    for conversation in waiting:
        for agreement in by_queue[conversation.queue_id]:
            if applies_to(agreement, conversation) and refusal(agreement, conversation, now) is None:
                found.append((conversation, agreement))
                break
    return found


def payload(agreement):
    """What a covering librarian's dashboard shows of the agreement (the `cover` key of a chat):
    the home library, its notes for covering staff, its queues to send the chat back to, and its
    topics to assess the chat with."""
    from reference import assessment

    if agreement is None:
        return None
    if getattr(agreement, "_payload", None) is None:  # once per agreement read, however many chats
        agreement._payload = {
            "agreement": agreement.pk,
            "home_library": {"id": agreement.home_id, "name": agreement.home.name},
            "policy_notes": agreement.policy_notes,
            "return_queues": [{"id": q.pk, "name": q.name}
                              for q in Queue.objects.filter(library_id=agreement.home_id, is_active=True)],
            "assessment": assessment.setup(agreement.home),
        }
    return agreement._payload


# ---- fan-out (called by reference.lifecycle and the sweep)

def publish_added(conversation, outbox, *, transfers=None, now=None):
    """A chat joined a queue: the covering libraries that may take it now see it."""
    from reference import frames

    for covering_id, agreement in agreements_in_force(conversation, now).items():
        outbox.publish(groups.cover(covering_id), frames.queue_added(conversation, transfers=transfers,
                                                                     cover_of=agreement))


def publish_removed(conversation_id, queue_id, reason, outbox):
    """A chat left a queue: gone from every covering library's list too."""
    from reference import frames

    for covering_id in covering_library_ids(queue_id):
        outbox.publish(groups.cover(covering_id), frames.queue_removed(conversation_id, reason))


# The last `cover.waiting` list sent to each covering library from this process: a list that has
# not changed is not sent again (another process's sweep may send it once more; it is idempotent).
_last_sent = {}


def publish_waiting(outbox, now=None):
    """The sweep's turn: every covering library whose list of chats it may take has changed since
    it was last sent (an agreement came into force or ended, a chat waited long enough) gets it whole."""
    from reference import frames

    outbox = outbox_or_direct(outbox)
    covering_ids = set(CoverAgreement.objects.filter(is_active=True).values_list("covering_id", flat=True))
    for covering_id in covering_ids | set(_last_sent):
        found = coverable({covering_id}, now) if covering_id in covering_ids else []
        state = tuple((c.pk, a.pk) for c, a in found)
        if _last_sent.get(covering_id) == state:
            continue
        _last_sent[covering_id] = state
        outbox.publish(groups.cover(covering_id), frames.cover_waiting(
            [frames.conversation_payload(c, for_librarian=True, cover_of=a) for c, a in found]))


def forget_sent():
    """Tests: the next sweep sends every list again."""
    _last_sent.clear()
