"""Where a waiting patron stands: their place in the queue and an honest estimate of the wait.

The estimate is the queue's recent typical wait (median time from asking to being claimed, over
the last chats claimed in the past week) for each round of available librarians ahead of the
patron. With no recent history there is no estimate rather than a made-up one.
"""

import math
import statistics
from datetime import timedelta

from django.utils import timezone

from reference import frames, groups
from reference.events import outbox_or_direct
from reference.models import Conversation, LibrarianProfile
from reference.presence_store import get_store

RECENT_CHATS = 20
RECENT_PERIOD = timedelta(days=7)


def typical_wait(queue_id):
    since = timezone.now() - RECENT_PERIOD
    recent = (Conversation.objects.filter(queue_id=queue_id, assigned_at__isnull=False, created_at__gte=since)
              .order_by("-assigned_at").values_list("created_at", "assigned_at")[:RECENT_CHATS])
    waits = [(assigned - created).total_seconds() for created, assigned in recent]
    return statistics.median(waits) if waits else None


def available_members(queue_id):
    members = list(LibrarianProfile.objects.filter(queues=queue_id, status=LibrarianProfile.Status.AVAILABLE)
                   .values_list("user_id", flat=True))
    return len(get_store().connected(members)) if members else 0


def positions(queue_id):
    """[(conversation id, position from 1, estimated wait in seconds or None)], front first."""
    waiting = list(Conversation.objects.filter(queue_id=queue_id, status=Conversation.Status.QUEUED)
                   .order_by("created_at").values_list("pk", flat=True))
    if not waiting:
        return []
    typical = typical_wait(queue_id)
    rounds_of = max(1, available_members(queue_id))
    return [(conversation_id, position,
             None if typical is None else round(typical * math.ceil(position / rounds_of)))
            for position, conversation_id in enumerate(waiting, 1)]


def publish_positions(queue_id, outbox=None):
    """Tell every patron waiting in the queue where they stand now (after the change commits)."""
    outbox = outbox_or_direct(outbox)
    for conversation_id, position, wait in positions(queue_id):
        outbox.publish(groups.conversation(conversation_id), frames.queue_position(conversation_id, position, wait))


def position_of(conversation):
    for conversation_id, position, wait in positions(conversation.queue_id):
        if conversation_id == conversation.pk:
            return frames.queue_position(conversation_id, position, wait)
    return None
