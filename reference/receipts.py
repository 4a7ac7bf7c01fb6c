"""Read receipts: each side reports the highest seq it has displayed; the other side is told."""

from reference import frames, groups
from reference.errors import ServiceError
from reference.events import outbox_or_direct
from reference.models import Conversation, Role

_READ_FIELD = {Role.PATRON: "patron_read_seq", Role.LIBRARIAN: "librarian_read_seq"}


def do_mark_read(*, conversation, role, seq, outbox=None):
    """Move `role`'s read mark forward to `seq`. Returns True when it moved.

    A mark never goes back (tabs report out of order) and never past the last message; that is
    the one error, and it changes nothing.
    """
    if seq < 0 or seq > conversation.last_seq:
        # last_seq only grows, so a stale copy can only make this check stricter than the truth:
        # look again before refusing.
        conversation.refresh_from_db(fields=["last_seq"])
        if seq < 0 or seq > conversation.last_seq:
            raise ServiceError("bad_seq")
    field = _READ_FIELD[role]
    moved = Conversation.objects.filter(pk=conversation.pk, **{f"{field}__lt": seq}).update(**{field: seq})
    if moved:
        outbox_or_direct(outbox).publish(groups.conversation(conversation.pk),
                                         frames.read(conversation.pk, role, seq))
    return bool(moved)
