"""Internal notes: what librarians tell each other about a conversation, or about the patron (a note
about the patron follows them to their next chat). Patrons never see a note: the `note` frame goes to
the holder's dashboards only, never to a conversation's group, where the patron's sockets are."""

from django.db.models import Q

from reference import frames, groups, history, selectors
from reference.errors import ServiceError
from reference.events import outbox_or_direct
from reference.models import InternalNote
from reference.validation import clean_client_id

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
    if client_id:
        clean_client_id(client_id)  # echoed back: bounded like a message's
    conversation = selectors.librarian_conversation(user, conversation_id)
    note = InternalNote.objects.create(
        patron_id=conversation.patron_id, conversation=conversation if about == "conversation" else None,
        author=user, author_name=frames.librarian_name(user), text=text)
    # The holder's tabs (the writer's own among them: their form learns it was stored).
    outbox_or_direct(outbox).publish(groups.librarian(conversation.librarian_id),
                                     frames.note(note, conversation.pk, client_id))
    return note


# ---- reads

def notes_by_conversation(conversations, histories=None):
    """{conversation id: its notes and the notes about its patron, oldest first}, in one query.

    The patron is the same person reference.history finds: a note about them written under another
    widget identity with the same e-mail address or card (in an earlier chat, in this library) is
    shown too. `histories`: history.histories(conversations), when the caller has it already."""
    if histories is None:
        histories = history.histories(conversations)
    people = {c.pk: {c.patron_id} | {earlier.patron_id for earlier in histories[c.pk]} for c in conversations}
    found = list(InternalNote.objects.filter(
        Q(conversation_id__in=[c.pk for c in conversations])
        | Q(conversation__isnull=True, patron_id__in=set().union(*people.values()))).order_by("created_at", "pk"))
    return {c.pk: [n for n in found if n.conversation_id == c.pk
                   or (n.conversation_id is None and n.patron_id in people[c.pk])]
            for c in conversations}


def notes_of(conversation, earlier=None):
    """The conversation's notes and the notes about its patron, oldest first. `earlier`: its
    history.patron_history, when the caller has it already."""
    histories = None if earlier is None else {conversation.pk: earlier}
    return notes_by_conversation([conversation], histories)[conversation.pk]


def conversation_notes(conversation):
    """Only the notes written about this conversation (an earlier chat opened from the history)."""
    return list(conversation.notes.order_by("created_at", "pk"))
