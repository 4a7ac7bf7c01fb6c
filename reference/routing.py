"""Automatic routing and fallback.

In a queue with automatic routing each waiting chat, oldest first, is offered to one librarian:
an available, connected member with room, the fewest active chats first, then the one idle the
longest (whose last chat was assigned earliest). An offer not accepted in the queue's offer
timeout (or declined) goes to the next. Assignment runs again whenever something could make it
succeed: a new chat, a librarian coming online or becoming available, a chat ending, and the
periodic sweep (which also repairs anything missed, e.g. a raised capacity).

A chat nobody picks up within its queue's `fallback_after` rolls over to the fallback queue, and
the patron is told.
"""

from datetime import UTC, datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from reference import events, waiting
from reference.errors import ServiceError
from reference.messaging import notice_language, store_notice
from reference.models import AssignmentOffer, Conversation, LibrarianProfile, Queue
from reference.payloads import conversation_frame
from reference.presence_store import get_store

NEVER = datetime(1970, 1, 1, tzinfo=UTC)  # "idle since": a librarian who never had a chat comes first


def assign_later(queue_ids):
    """Run assignment for these queues once the current transaction commits."""
    ids = set(queue_ids)
    transaction.on_commit(lambda: [assign(queue_id) for queue_id in ids])


def assign(queue_id):
    """Offer every waiting chat of an automatic queue that has no open offer to the best member."""
    queue = Queue.objects.filter(pk=queue_id, is_active=True, routing=Queue.Routing.AUTO).first()
    if queue is None:
        return []
    waiting_chats = (Conversation.objects.filter(queue=queue, status=Conversation.Status.QUEUED)
                     .exclude(offers__status=AssignmentOffer.Status.OFFERED).order_by("created_at"))
    made = []
    for conversation in waiting_chats.select_related("patron", "queue"):
        offer = _offer(queue, conversation)
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


def _offer(queue, conversation):
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
                events.publish(events.librarian_group(locked.user_id),
                               {"type": "assignment", "offer": offer_payload(offer, conversation)})
                return offer
        except IntegrityError:
            return None  # another process offered it first
    return None


def offer_payload(offer, conversation=None):
    conversation = conversation or offer.conversation
    return {"id": offer.pk, "status": offer.status, "expires_at": offer.expires_at.isoformat(),
            "conversation": conversation_frame(conversation, for_librarian=True)["conversation"]}


def decline(*, user, offer_id):
    with transaction.atomic():
        offer = AssignmentOffer.objects.select_for_update().filter(pk=offer_id, user=user).first()
        if offer is None:
            raise ServiceError("not_found")
        if offer.status != AssignmentOffer.Status.OFFERED:
            raise ServiceError("offer_expired")
        _close_offer(offer, AssignmentOffer.Status.DECLINED)
        assign_later([offer.conversation.queue_id])


def settle_offers_on_claim(conversation, user):
    """A claim ends the chat's open offer: accepted if it was theirs, else expired (someone else
    was quicker). Called inside the claim's transaction."""
    for offer in AssignmentOffer.objects.select_for_update().filter(conversation=conversation,
                                                                    status=AssignmentOffer.Status.OFFERED):
        _close_offer(offer, AssignmentOffer.Status.ACCEPTED if offer.user_id == user.pk
                     else AssignmentOffer.Status.EXPIRED)


def settle_offers_on_close(conversation):
    for offer in AssignmentOffer.objects.select_for_update().filter(conversation=conversation,
                                                                    status=AssignmentOffer.Status.OFFERED):
        _close_offer(offer, AssignmentOffer.Status.EXPIRED)


def expire_offers(now=None):
    now = now or timezone.now()
    queues = set()
    for offer_id in AssignmentOffer.objects.filter(status=AssignmentOffer.Status.OFFERED,
                                                   expires_at__lt=now).values_list("pk", flat=True):
        with transaction.atomic():
            offer = AssignmentOffer.objects.select_for_update().filter(
                pk=offer_id, status=AssignmentOffer.Status.OFFERED).select_related("conversation").first()
            if offer:
                _close_offer(offer, AssignmentOffer.Status.EXPIRED)
                queues.add(offer.conversation.queue_id)
    assign_later(queues)
    return queues


def _close_offer(offer, status):
    offer.status = status
    offer.save(update_fields=["status"])
    events.publish(events.librarian_group(offer.user_id), {"type": "assignment", "offer": {
        "id": offer.pk, "status": status, "conversation": {"id": offer.conversation_id}}})


def roll_over(now=None):
    """Chats that waited too long in a queue with a fallback move there; the patron is told."""
    now = now or timezone.now()
    moved = []
    for queue in Queue.objects.filter(is_active=True, fallback_queue__isnull=False, fallback_queue__is_active=True):
        late = Conversation.objects.filter(queue=queue, status=Conversation.Status.QUEUED,
                                           queued_at__lt=now - timedelta(seconds=queue.fallback_after))
        for conversation_id in late.values_list("pk", flat=True):
            if _roll_over_one(conversation_id, queue):
                moved.append(conversation_id)
    return moved


def _roll_over_one(conversation_id, queue):
    target = queue.fallback_queue
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update(of=("self",)).select_related("patron").get(
            pk=conversation_id)
        if conversation.status != Conversation.Status.QUEUED or conversation.queue_id != queue.pk:
            return False
        AssignmentOffer.objects.filter(conversation=conversation, status=AssignmentOffer.Status.OFFERED).update(
            status=AssignmentOffer.Status.EXPIRED)
        conversation.queue = target
        conversation.queued_at = timezone.now()
        conversation.save(update_fields=["queue", "queued_at"])
        with notice_language(conversation):
            store_notice(conversation, _("Nobody at %(queue)s could answer yet, so your question has gone to "
                                         "%(fallback)s. You keep your place.") % {"queue": queue.name,
                                                                                  "fallback": target.name})
        conversation = Conversation.objects.select_related("patron", "queue").get(pk=conversation.pk)
        events.publish(events.conversation_group(conversation.pk), conversation_frame(conversation))
        events.publish(events.queue_group(queue.pk),
                       {"type": "queue.removed", "conversation": conversation.pk, "reason": "rolled_over"})
        events.publish_waiting(conversation)
        waiting.publish_positions(queue.pk)
        waiting.publish_positions(target.pk)
        assign_later([target.pk])
    return True


def member_queue_ids(user_id):
    return list(Queue.objects.filter(members__user_id=user_id, is_active=True).values_list("pk", flat=True))


def sweep(now=None):
    """Periodic repair: expire offers, roll over late chats, and try every automatic queue again."""
    expire_offers(now)
    roll_over(now)
    for queue_id in Queue.objects.filter(is_active=True, routing=Queue.Routing.AUTO).values_list("pk", flat=True):
        assign(queue_id)
