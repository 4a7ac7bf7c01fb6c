"""The librarian's block: the holder of a chat stops its patron from chatting for a while.

`do_block_patron` ends the chat with a notice to the patron and writes a PatronBlock for the
patron's token and for the address their socket came from (its keyed hash: reference.limits); until
the block runs out (or staff lift it in the admin), `start` and `message` from that patron or that
address are refused with `blocked`. Both are audited (reference.audit).
"""

from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from reference import audit, lifecycle, limits
from reference.errors import ServiceError
from reference.models import Conversation, PatronBlock

# How long a librarian may block a patron, in minutes: a quarter of an hour, an hour, a day.
BLOCK_MINUTES = (15, 60, 1440)
REASON_MAX_LENGTH = 500


def check_block(*, minutes, reason):
    """The block's reason, cleaned; ServiceError when the duration or the reason will not do."""
    if isinstance(minutes, bool) or minutes not in BLOCK_MINUTES:
        raise ServiceError("invalid_block_minutes", field="minutes")
    reason = " ".join((reason or "").split())
    if len(reason) > REASON_MAX_LENGTH:
        raise ServiceError("block_reason_too_long", limit=REASON_MAX_LENGTH, field="reason")
    return reason


def until_text(until):
    """When a block ends, as the active language writes it, in the library's time zone: the time
    alone today, with the date otherwise."""
    local = timezone.localtime(until)
    if local.date() == timezone.localdate():
        return formats.time_format(local, "H:i")
    return formats.date_format(local, "j F H:i")


class _Until:
    """A block's end in an error message: written out when the message is, in its language."""

    def __init__(self, until):
        self.until = until

    def __str__(self):
        return until_text(self.until)


def do_block_patron(*, user, conversation_id, minutes, reason="", outbox=None):
    """Block the patron of a chat `user` holds for `minutes` (one of BLOCK_MINUTES), ending the chat
    if it is still open. Returns the PatronBlock."""
    reason = check_block(minutes=minutes, reason=reason)
    with transaction.atomic():
        conversation = (Conversation.objects.select_for_update(of=("self",)).select_related("patron", "site")
                        .filter(pk=conversation_id).first())
        if conversation is None:
            raise ServiceError("not_found")
        if conversation.librarian_id != user.pk:
            raise ServiceError("not_assigned")
        until = timezone.now() + timedelta(minutes=minutes)
        block = PatronBlock.objects.create(
            patron=conversation.patron, conversation=conversation, until=until, reason=reason, created_by=user,
            address_key=limits.remembered_address(conversation.patron_id))
        if not conversation.is_closed:
            lifecycle.do_close_for_block(
                user=user, conversation_id=conversation.pk, outbox=outbox,
                notice=lambda: _("The librarian has ended this chat. You can start a new one after %(until)s.")
                % {"until": until_text(until)})
        audit.record(audit.Action.BLOCK_PATRON, user=user, library_id=conversation.site.library_id,
                     conversation_id=conversation.pk, minutes=minutes, until=until.isoformat(),
                     by_address=bool(block.address_key), reason=reason)
    return block


def do_lift_blocks(*, user, blocks):
    """Staff lift blocks before they run out (the admin's action). Returns how many were lifted."""
    lifted = 0
    with transaction.atomic():
        for block in (blocks.select_for_update(of=("self",)).select_related("conversation__site")
                      .filter(lifted_at__isnull=True)):
            block.lifted_at = timezone.now()
            block.save(update_fields=["lifted_at"])
            conversation = block.conversation
            audit.record(audit.Action.LIFT_BLOCK, user=user,
                         library_id=conversation.site.library_id if conversation else None,
                         conversation_id=block.conversation_id, block=block.pk, until=block.until.isoformat())
            lifted += 1
    return lifted


def active_block(*, patron_id, address_key=""):
    """The block in force on this patron or this address that runs longest, or None."""
    match = Q(patron_id=patron_id)
    if address_key:
        match |= Q(address_key=address_key)
    return (PatronBlock.objects.filter(match, until__gt=timezone.now(), lifted_at__isnull=True)
            .order_by("-until").first())


def check_not_blocked(*, patron_id, address_key=""):
    """ServiceError("blocked", retry_after=…, until=…) while a block is in force."""
    block = active_block(patron_id=patron_id, address_key=address_key)
    if block is not None:
        seconds = max(1, int((block.until - timezone.now()).total_seconds() + 0.999))
        raise ServiceError("blocked", retry_after=seconds, until=_Until(block.until))


def unless_blocked(service, *, patron_id, address_key=""):
    """`service`, first checking in the same database call that the patron is not blocked."""
    def call(*args, **kwargs):
        check_not_blocked(patron_id=patron_id, address_key=address_key)
        return service(*args, **kwargs)

    return call

