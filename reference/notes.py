"""Internal notes: what librarians tell each other about a conversation, or about the patron (a note
about the patron follows them to their next chat). Patrons never see a note: the `note` frame goes to
the holder's dashboards only, never to a conversation's group, where the patron's sockets are."""

from django.db.models import Q

from reference import frames, groups, selectors
from reference.errors import ServiceError
from reference.events import outbox_or_direct
from reference.models import InternalNote

NOTE_MAX_LENGTH = 2000
ABOUT = ("conversation", "patron")


def check_text(text):
    """The note as stored: trimmed, not empty, at most NOTE_MAX_LENGTH characters."""
    text = (text or "").strip()
    if not text:
        raise ServiceError("note_empty")
    if len(text) > NOTE_MAX_LENGTH:
        raise ServiceError("note_too_long", limit=NOTE_MAX_LENGTH)
    return text


def check_about(about):
    if about not in ABOUT:
        raise ServiceError("note_about")
    return about


def do_add_note(*, user, conversation_id, text, about="conversation", client_id="", outbox=None):
    """A librarian notes a conversation they hold or have held, or its patron. Returns the note."""
    about = check_about(about)
    text = check_text(text)
    conversation = selectors.librarian_conversation(user, conversation_id)
    note = InternalNote.objects.create(
        patron_id=conversation.patron_id, conversation=conversation if about == "conversation" else None,
        author=user, author_name=frames.librarian_name(user), text=text)
    # The holder's tabs (the writer's own among them: their form learns it was stored).
    outbox_or_direct(outbox).publish(groups.librarian(conversation.librarian_id),
                                     frames.note(note, conversation.pk, client_id))
    return note


# ---- reads

def _of(conversations):
    ids = [c.pk for c in conversations]
    patron_ids = {c.patron_id for c in conversations}
    return (InternalNote.objects.filter(Q(conversation_id__in=ids)
                                        | Q(conversation__isnull=True, patron_id__in=patron_ids))
            .order_by("created_at", "pk"))


def notes_by_conversation(conversations):
    """{conversation id: its notes and its patron's notes, oldest first}, in one query."""
    found = list(_of(conversations))
    return {c.pk: [n for n in found if n.conversation_id == c.pk
                   or (n.conversation_id is None and n.patron_id == c.patron_id)]
            for c in conversations}


def notes_of(conversation):
    """The conversation's notes and its patron's notes, oldest first."""
    return notes_by_conversation([conversation])[conversation.pk]


def conversation_notes(conversation):
    """Only the notes written about this conversation (an earlier chat opened from the history)."""
    return list(conversation.notes.order_by("created_at", "pk"))
