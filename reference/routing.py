"""Who is offered a waiting chat: automatic routing, and which chats roll over to a fallback queue.

In a queue with automatic routing each waiting chat, oldest first, is offered to one librarian:
an available, connected member with room, the fewest active chats first, then the one idle the
longest (whose last chat was assigned earliest). An offer not accepted in the queue's offer
timeout (or declined) goes to the next. Assignment runs again whenever something could make it
succeed: a new chat, a librarian coming online or becoming available, a chat ending, and the
periodic sweep (which also repairs anything missed, e.g. a raised capacity).

A chat nobody picks up within its queue's `fallback_after` rolls over to the fallback queue
(reference.lifecycle.do_roll_over makes the move). An assignment offer is accepted by claiming the
chat (lifecycle.do_claim), which settles it here.
"""

from datetime import UTC, datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Q
from django.utils import timezone

from reference import frames, groups
from reference.errors import ServiceError
from reference.events import outbox_or_direct
from reference.models import AssignmentOffer, Conversation, LibrarianProfile, Queue
from reference.presence_store import get_store

NEVER = datetime(1970, 1, 1, tzinfo=UTC)  # "idle since": a librarian who never had a chat comes first


def assign_later(queue_ids, outbox=None):
    """Run assignment for these queues once the current transaction commits."""
    ids = set(queue_ids)
    if ids:
        transaction.on_commit(lambda: [do_assign(queue_id, outbox=outbox) for queue_id in ids])


def do_assign(queue_id, outbox=None):
    """Offer every waiting chat of an automatic queue that has no open offer to the best member."""
    queue = Queue.objects.filter(pk=queue_id, is_active=True, routing=Queue.Routing.AUTO).first()
    if queue is None:
        return []
    outbox = outbox_or_direct(outbox)
    waiting_chats = (Conversation.objects.filter(queue=queue, status=Conversation.Status.QUEUED)
                     .exclude(offers__status=AssignmentOffer.Status.OFFERED).order_by("created_at"))
    made = []
    for conversation in waiting_chats.select_related("patron", "queue"):
        offer = _offer_assignment(queue, conversation, outbox)
        if offer is None:
            break  # nobody can take one more: the older chats keep their turn
        made.append(offer)
    return made


def candidates(queue, conversation):
    """Members who may get this chat, best first."""
    refused = set(conversation.offers.exclude(status=AssignmentOffer.Status.OFFERED).values_list("user_id", flat=True))
    profiles = list(
        LibrarianProfile.objects.filter(queues=queue, status=LibrarianProfile.Status.AVAILABLE,
                                        user__is_active=True, user__is_staff=True)
        .exclude(user_id__in=refused)
        .annotate(
            active=Count("user__conversations", filter=Q(user__conversations__status=Conversation.Status.ACTIVE),
                         distinct=True),
            last_assigned=Max("user__conversations__assigned_at"),
        )
    )
    connected = get_store().connected([p.user_id for p in profiles])
    open_offers = dict(AssignmentOffer.objects.filter(status=AssignmentOffer.Status.OFFERED,
                                                      user_id__in=connected)
                       .values_list("user_id").annotate(n=Count("pk")))
    eligible = []
    for profile in profiles:
        load = profile.active + open_offers.get(profile.user_id, 0)
        if profile.user_id in connected and load < profile.max_chats:
            idle_since = profile.last_assigned or NEVER
            eligible.append((load, idle_since, profile))
    eligible.sort(key=lambda item: (item[0], item[1]))
    return [profile for _load, _idle, profile in eligible]


def _offer_assignment(queue, conversation, outbox):
    for profile in candidates(queue, conversation):
        try:
            with transaction.atomic():
                # Serialise offers to one librarian so two processes cannot both fill their last slot.
                locked = LibrarianProfile.objects.select_for_update().get(pk=profile.pk)
                load = (Conversation.objects.filter(librarian_id=locked.user_id, status=Conversation.Status.ACTIVE)
                        .count() + AssignmentOffer.objects.filter(user_id=locked.user_id,
                                                                  status=AssignmentOffer.Status.OFFERED).count())
                if load >= locked.max_chats:
                    continue
                if not Conversation.objects.filter(pk=conversation.pk, status=Conversation.Status.QUEUED).exists():
                    return None
                offer = AssignmentOffer.objects.create(
                    conversation=conversation, user_id=locked.user_id,
                    expires_at=timezone.now() + timedelta(seconds=queue.offer_timeout))
                outbox.publish(groups.librarian(locked.user_id), frames.assignment(offer, conversation))
                return offer
        except IntegrityError:
            return None  # another process offered it first
    return None


def do_decline_assignment(*, user, offer_id, outbox=None):
    outbox = outbox_or_direct(outbox)
    with transaction.atomic():
        offer = AssignmentOffer.objects.select_for_update().filter(pk=offer_id, user=user).first()
        if offer is None:
            raise ServiceError("not_found")
        if offer.status != AssignmentOffer.Status.OFFERED:
            raise ServiceError("offer_expired")
        _settle(offer, AssignmentOffer.Status.DECLINED, outbox)
        assign_later([offer.conversation.queue_id], outbox)


def settle_assignments(conversation, outbox, *, taken_by=None):
    """The chat stopped waiting in its queue (reference.lifecycle): its open offer is accepted if
    the librarian it was offered to took it, else it expires. Inside the change's transaction."""
    for offer in AssignmentOffer.objects.select_for_update().filter(conversation=conversation,
                                                                    status=AssignmentOffer.Status.OFFERED):
        accepted = taken_by is not None and offer.user_id == taken_by
        _settle(offer, AssignmentOffer.Status.ACCEPTED if accepted else AssignmentOffer.Status.EXPIRED, outbox)


def do_expire_assignments(now=None, outbox=None):
    now = now or timezone.now()
    outbox = outbox_or_direct(outbox)
    queues = set()
    for offer_id in AssignmentOffer.objects.filter(status=AssignmentOffer.Status.OFFERED,
                                                   expires_at__lt=now).values_list("pk", flat=True):
        with transaction.atomic():
            offer = AssignmentOffer.objects.select_for_update().filter(
                pk=offer_id, status=AssignmentOffer.Status.OFFERED).select_related("conversation").first()
            if offer:
                _settle(offer, AssignmentOffer.Status.EXPIRED, outbox)
                queues.add(offer.conversation.queue_id)
    assign_later(queues, outbox)
    return queues


def _settle(offer, status, outbox):
    offer.status = status
    offer.save(update_fields=["status"])
    outbox.publish(groups.librarian(offer.user_id), frames.assignment(offer))


def late_chats(now=None):
    """[(conversation id, queue)]: chats that waited longer than their queue's `fallback_after` in a
    queue whose fallback is active, oldest first."""
    now = now or timezone.now()
    late = []
    for queue in Queue.objects.filter(is_active=True, fallback_queue__isnull=False, fallback_queue__is_active=True
                                      ).select_related("fallback_queue"):
        overdue = Conversation.objects.filter(queue=queue, status=Conversation.Status.QUEUED,
                                              queued_at__lt=now - timedelta(seconds=queue.fallback_after))
        late += [(conversation_id, queue) for conversation_id in overdue.order_by("created_at")
                 .values_list("pk", flat=True)]
    return late


def member_queue_ids(user_id):
    return list(Queue.objects.filter(members__user_id=user_id, is_active=True).values_list("pk", flat=True))


def do_assign_all(outbox=None):
    """Try every automatic queue again (the periodic repair)."""
    for queue_id in Queue.objects.filter(is_active=True, routing=Queue.Routing.AUTO).values_list("pk", flat=True):
        do_assign(queue_id, outbox=outbox)
