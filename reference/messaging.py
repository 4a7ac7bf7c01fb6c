"""Storing chat messages: numbered, stored, then acknowledged and fanned out.

A message gets the conversation's next sequence number in the same transaction that stores it.
The caller acknowledges the sender only after this returns (the transaction has committed), and
the fan-out to other sockets happens on commit too. A repeated client id returns the stored
message instead of storing it twice, so a client can retry safely.

Every chat message goes through `_take_next_seq`, so it is written in SQL by hand: compiling the
ORM's versions of its queries cost more than running them (about 1 ms a message; docs/performance.md).
On PostgreSQL the usual message (no file, not a retry, allowed) is one statement outside any
transaction block, `_store_in_one_statement`: each round trip to the server costs more there than the
work it carries.
"""

from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction
from django.utils import timezone, translation

from reference import attachments, events
from reference.errors import ServiceError
from reference.models import Conversation, Message, Patron, Role
from reference.payloads import librarian_name, message_frame
from reference.validation import clean_client_id, clean_text


def send_patron_message(*, patron_id, text, client_id, attachment_id=None, origin=None):
    """Store a patron's message in their latest conversation. Returns (message, created)."""
    clean_client_id(client_id)
    return store_message(patron_id=patron_id, role=Role.PATRON, text=text, client_id=client_id,
                         attachment_id=attachment_id, origin=origin)


def send_librarian_message(*, user, conversation_id, text, client_id, attachment_id=None, origin=None):
    """Store a librarian's message in a conversation they hold. Returns (message, created)."""
    clean_client_id(client_id)
    return store_message(conversation_id=conversation_id, role=Role.LIBRARIAN, text=text, client_id=client_id,
                         author=user, author_name=librarian_name(user), attachment_id=attachment_id,
                         origin=origin)


def store_message(*, role, text, conversation_id=None, patron_id=None, client_id="", author=None,
                  author_name="", attachment_id=None, origin=None):
    """Store a message in `conversation_id`, or in the latest conversation of `patron_id` (the
    author_name is then the patron's). A librarian's message needs the conversation assigned to
    them, unless it is the retry of one they sent. `attachment_id`: a file the sender uploaded into
    this conversation (reference.attachments); the text may then be empty.

    A new message is fanned out to the conversation once committed, except to `origin`, the
    sending socket's channel name: its `ack` carries the message instead of a second frame."""
    message, created = _store(role=role, text=text, conversation_id=conversation_id, patron_id=patron_id,
                              client_id=client_id, author=author, author_name=author_name,
                              attachment_id=attachment_id)
    if created:
        events.publish(events.conversation_group(message.conversation_id), message_frame(message), origin=origin)
    return message, created


def _store(*, role, text, conversation_id, patron_id, client_id, author, author_name, attachment_id):
    text = clean_text(text, allow_empty=attachment_id is not None)
    if attachment_id is None and connection.vendor == "postgresql" and not connection.in_atomic_block:
        message = _store_in_one_statement(role=role, text=text, conversation_id=conversation_id,
                                          patron_id=patron_id, client_id=client_id, author=author,
                                          author_name=author_name)
        if message is not None:
            return message, True
    # A retry, a refusal, a file, or SQLite (no round trips to save): find out and store step by step.
    with transaction.atomic():
        taken = _take_next_seq(conversation_id=conversation_id, patron_id=patron_id, client_id=client_id)
        if taken is None:
            raise ServiceError("no_conversation" if patron_id is not None else "not_found")
        if taken.retry_of is None:
            return _store_new(taken, role=role, text=text, client_id=client_id, author=author,
                              author_name=taken.patron_name if patron_id is not None else author_name,
                              attachment_id=attachment_id), True
        transaction.set_rollback(True)  # give the number back: nothing new is stored
    return _original(taken.retry_of, role=role, author=author), False


def _store_new(taken, *, role, text, client_id, author, author_name, attachment_id):
    if role == Role.LIBRARIAN and taken.librarian_id != author.pk:
        raise ServiceError("not_assigned")
    if taken.status == Conversation.Status.CLOSED:
        raise ServiceError("conversation_closed")
    attachment = None
    if attachment_id is not None:
        attachment = attachments.claim_for_message(
            conversation=Conversation(pk=taken.conversation_id), attachment_id=attachment_id, role=role,
            patron_id=taken.patron_id, user=author)
    message = Message(conversation_id=taken.conversation_id, seq=taken.seq, role=role, text=text,
                      client_id=client_id, author=author, author_name=author_name, attachment=attachment)
    message.save(force_insert=True)
    if role == Role.LIBRARIAN and taken.awaiting_first_response:
        Conversation.objects.filter(pk=taken.conversation_id).update(first_response_at=message.created_at)
    return message


@dataclass(frozen=True)
class _Taken:
    """What `_take_next_seq` read of the conversation while numbering its next message."""

    conversation_id: int
    seq: int
    status: str
    librarian_id: int | None
    patron_id: object
    awaiting_first_response: bool
    retry_of: int | None  # the stored message with the same client id, if this is a retry
    patron_name: str


def _tables():
    return (connection.ops.quote_name(model._meta.db_table) for model in (Conversation, Message, Patron))


def _target(conversations, *, conversation_id, patron_id):
    """SQL for the id of the conversation a message goes to (the patron's latest, or the one named),
    and its parameter."""
    if patron_id is not None:
        return (f"(SELECT id FROM {conversations} WHERE patron_id = %s ORDER BY created_at DESC LIMIT 1)",
                Patron._meta.pk.get_db_prep_value(patron_id, connection))
    return "%s", conversation_id


def _take_next_seq(*, conversation_id, patron_id, client_id):
    """One statement: lock the conversation's row (PostgreSQL; SQLite's BEGIN IMMEDIATE already
    holds the write lock), take its next seq, and read what the rules need, including whether
    `client_id` was stored before. None when there is no such conversation."""
    conversations, messages, patrons = _tables()
    target, key = _target(conversations, conversation_id=conversation_id, patron_id=patron_id)
    sql = (
        f"UPDATE {conversations} SET last_seq = last_seq + 1 WHERE id = {target} "
        # first_response_at itself, not "IS NULL": SQLite 3.40 answers 0 for that in RETURNING.
        f"RETURNING id, last_seq, status, librarian_id, patron_id, first_response_at, "
        f"(SELECT id FROM {messages} WHERE conversation_id = {conversations}.id AND client_id = %s "
        f"AND client_id <> ''), "
        f"(SELECT name FROM {patrons} WHERE id = {conversations}.patron_id)"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [key, client_id])
        row = cursor.fetchone()
    if row is None:
        return None
    conversation_pk, seq, status, librarian_id, patron_pk, first_response_at, retry_of, patron_name = row
    return _Taken(conversation_pk, seq, status, librarian_id, Patron._meta.pk.to_python(patron_pk),
                  first_response_at is None, retry_of, patron_name)


def _store_in_one_statement(*, role, text, conversation_id, patron_id, client_id, author, author_name):
    """PostgreSQL: number and store the message in one autocommitted statement, the conversation's
    row lock held for just that statement. Only when the rules allow it as it stands (open, held by
    this librarian, client id not stored before); otherwise, or when a copy of the same client id is
    stored at that very moment (the unique constraint), None, and nothing has changed."""
    conversations, messages, patrons = _tables()
    target, key = _target(conversations, conversation_id=conversation_id, patron_id=patron_id)
    sent_at = timezone.now()
    librarian = role == Role.LIBRARIAN
    # The parameters, in the order of their placeholders.
    first_response = [sent_at] if librarian else []
    if patron_id is not None:
        name, name_params = f"(SELECT name FROM {patrons} WHERE id = taken.patron_id)", []
    else:
        name, name_params = "%s", [author_name]
    holder = [author.pk] if librarian else []
    sql = (
        f"WITH taken AS (UPDATE {conversations} SET last_seq = last_seq + 1"
        f"{', first_response_at = COALESCE(first_response_at, %s)' if librarian else ''} "
        f"WHERE id = {target} AND status <> %s {'AND librarian_id = %s' if librarian else ''} "
        f"AND NOT EXISTS (SELECT 1 FROM {messages} WHERE conversation_id = {conversations}.id "
        f"AND client_id = %s AND client_id <> '') RETURNING id, last_seq, patron_id) "
        f"INSERT INTO {messages} (conversation_id, seq, role, author_id, author_name, text, client_id, created_at) "
        f"SELECT taken.id, taken.last_seq, %s, %s, {name}, %s, %s, %s FROM taken "
        f"RETURNING id, conversation_id, seq, author_name"
    )
    params = [*first_response, key, Conversation.Status.CLOSED, *holder, client_id,
              role, author.pk if author else None, *name_params, text, client_id, sent_at]
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
    except IntegrityError:  # the same client id stored by another thread just now: a retry
        return None
    if row is None:
        return None
    message_pk, conversation_pk, seq, stored_name = row
    message = Message(pk=message_pk, conversation_id=conversation_pk, seq=seq, role=role, text=text,
                      client_id=client_id, author=author, author_name=stored_name, created_at=sent_at)
    message._state.adding, message._state.db = False, connection.alias
    return message


def _original(message_id, *, role, author):
    """The stored message a retry repeats, if the same sender sent it."""
    existing = Message.objects.select_related("attachment").get(pk=message_id)
    if existing.role != role or existing.author_id != (author.pk if author else None):
        raise ServiceError("duplicate_client_id")
    return existing


def store_notice(conversation, text):
    """A system notice ("Siti joined the chat"); the caller holds the conversation's row lock."""
    message = append_message(conversation, role=Role.SYSTEM, text=str(text))
    events.publish(events.conversation_group(conversation.pk), message_frame(message))
    return message


def notice_language(conversation):
    """Notices are written in the patron's language: they are the one reading them live."""
    return translation.override(conversation.patron.language or None)


def append_message(conversation, *, role, text, client_id="", author=None, author_name="", attachment=None):
    conversation.last_seq += 1
    Conversation.objects.filter(pk=conversation.pk).update(last_seq=conversation.last_seq)
    return Message.objects.create(
        conversation=conversation,
        seq=conversation.last_seq,
        role=role,
        text=text,
        client_id=client_id,
        author=author,
        author_name=author_name,
        attachment=attachment,
    )
