"""Storing messages: numbered, stored, then acknowledged and fanned out.

Every message — a patron's or a librarian's chat line, the opening question, a system notice, the
answer to an offline question — goes through `store(NewMessage(...))`. It gets the conversation's
next sequence number in the same transaction that stores it. The caller acknowledges the sender
only after this returns (the transaction has committed), and the fan-out to other sockets happens
on commit too. A repeated client id returns the stored message instead of storing it twice, so a
client can retry safely.

The numbering is written in SQL by hand: compiling the ORM's versions of its queries cost more than
running them (docs/performance.md). On PostgreSQL the usual chat line (no file, not a retry,
allowed) is one statement outside any transaction block (`_store_in_one_statement`), because each
round trip costs more there than the work it carries; the database decides once whether that path
exists (`_one_statement_path`).
"""

import functools
from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from reference import attachments, frames, groups
from reference.errors import ServiceError
from reference.events import outbox_or_direct
from reference.models import Conversation, Message, Patron, Role
from reference.transcript_search import terms_for
from reference.validation import clean_client_id, clean_text


@dataclass(frozen=True)
class NewMessage:
    """A message to store. It goes to `conversation_id`, or to the latest conversation of
    `patron_id` (the author's name is then the patron's).

    `live`: a chat line someone sends now, held to the chat's rules (the conversation is open; a
    librarian holds it). Notices and offline answers are not: their caller checked its own rules
    under the conversation's row lock."""

    role: str
    text: str
    conversation_id: int | None = None
    patron_id: object = None
    client_id: str = ""
    author: object = None
    author_name: str = ""
    attachment_id: int | None = None
    live: bool = True


def do_send_patron_message(*, patron_id, text, client_id, attachment_id=None, origin=None, outbox=None):
    """A patron's chat line, into their latest conversation. Returns (message, created)."""
    clean_client_id(client_id)
    return store(NewMessage(role=Role.PATRON, text=text, patron_id=patron_id, client_id=client_id,
                            attachment_id=attachment_id), origin=origin, outbox=outbox)


def do_send_librarian_message(*, user, conversation_id, text, client_id, attachment_id=None, origin=None,
                              outbox=None):
    """A librarian's chat line, into a conversation they hold. Returns (message, created)."""
    clean_client_id(client_id)
    return store(NewMessage(role=Role.LIBRARIAN, text=text, conversation_id=conversation_id, client_id=client_id,
                            author=user, author_name=frames.librarian_name(user), attachment_id=attachment_id),
                 origin=origin, outbox=outbox)


def store(new, *, origin=None, outbox=None):
    """Store `new`; returns (message, created). A new message is fanned out to the conversation
    once committed, except to `origin`, the sending socket's channel name: its `ack` carries the
    message instead of a second frame. A librarian's retry of a line they sent is accepted even
    if they no longer hold the chat: it stores nothing."""
    text = clean_text(new.text, allow_empty=new.attachment_id is not None or not new.live)
    at_once = _one_statement_path()
    message = at_once(new, text) if at_once is not None else None
    created = message is not None
    if message is None:
        message, created = _store_step_by_step(new, text)
    if created:
        outbox_or_direct(outbox).publish(groups.conversation(message.conversation_id), frames.message(message),
                                         origin=origin)
    return message, created


def _store_step_by_step(new, text):
    """A retry, a refusal, a file, a notice, or SQLite: find out, then store."""
    with transaction.atomic():
        taken = _take_next_seq(conversation_id=new.conversation_id, patron_id=new.patron_id,
                               client_id=new.client_id)
        if taken is None:
            raise ServiceError("no_conversation" if new.patron_id is not None else "not_found")
        if taken.retry_of is None:
            return _store_new(taken, new, text), True
        transaction.set_rollback(True)  # give the number back: nothing new is stored
    return _original(taken.retry_of, new), False


def _store_new(taken, new, text):
    if new.live:
        if new.role == Role.LIBRARIAN and taken.librarian_id != new.author.pk:
            raise ServiceError("not_assigned")
        if taken.status == Conversation.Status.CLOSED:
            raise ServiceError("conversation_closed")
    attachment = None
    if new.attachment_id is not None:
        attachment = attachments.claim_for_message(
            conversation=Conversation(pk=taken.conversation_id), attachment_id=new.attachment_id, role=new.role,
            patron_id=taken.patron_id, user=new.author)
    author_name = taken.patron_name if new.patron_id is not None else new.author_name
    message = Message(conversation_id=taken.conversation_id, seq=taken.seq, role=new.role, text=text,
                      client_id=new.client_id, author=new.author, author_name=author_name, attachment=attachment,
                      search_terms=terms_for(text))
    message.save(force_insert=True)
    if new.role == Role.LIBRARIAN and taken.awaiting_first_response:
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


UNIQUE_VIOLATION = "23505"  # PostgreSQL's SQLSTATE


@functools.cache
def _one_statement_path():
    """PostgreSQL's one-statement store, or None where there are no round trips to save."""
    return _store_in_one_statement if connection.vendor == "postgresql" else None


def _store_in_one_statement(new, text):
    """PostgreSQL: number and store a chat line in one autocommitted statement, the conversation's
    row lock held for just that statement. Only when the rules allow it as it stands (open, held by
    this librarian, client id not stored before); otherwise, or when a copy of the same client id is
    stored at that very moment (the unique constraint), None, and nothing has changed."""
    if not new.live or new.attachment_id is not None or connection.in_atomic_block:
        return None
    conversations, messages, patrons = _tables()
    target, key = _target(conversations, conversation_id=new.conversation_id, patron_id=new.patron_id)
    sent_at = timezone.now()
    librarian = new.role == Role.LIBRARIAN
    # The parameters, in the order of their placeholders.
    first_response = [sent_at] if librarian else []
    if new.patron_id is not None:
        name, name_params = f"(SELECT name FROM {patrons} WHERE id = taken.patron_id)", []
    else:
        name, name_params = "%s", [new.author_name]
    holder = [new.author.pk] if librarian else []
    sql = (
        f"WITH taken AS (UPDATE {conversations} SET last_seq = last_seq + 1"
        f"{', first_response_at = COALESCE(first_response_at, %s)' if librarian else ''} "
        f"WHERE id = {target} AND status <> %s {'AND librarian_id = %s' if librarian else ''} "
        f"AND NOT EXISTS (SELECT 1 FROM {messages} WHERE conversation_id = {conversations}.id "
        f"AND client_id = %s AND client_id <> '') RETURNING id, last_seq, patron_id) "
        f"INSERT INTO {messages} (conversation_id, seq, role, author_id, author_name, text, search_terms, client_id, "
        f"created_at, attachment_removed) "
        f"SELECT taken.id, taken.last_seq, %s, %s, {name}, %s, %s, %s, %s, false FROM taken "
        f"RETURNING id, conversation_id, seq, author_name"
    )
    search_terms = terms_for(text)
    params = [*first_response, key, Conversation.Status.CLOSED, *holder, new.client_id,
              new.role, new.author.pk if new.author else None, *name_params, text, search_terms, new.client_id,
              sent_at]
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
    except IntegrityError as refused:
        if getattr(refused.__cause__, "sqlstate", None) != UNIQUE_VIOLATION:
            raise  # not a retry: a schema this statement does not know must fail loudly
        return None  # the same client id stored by another thread just now: a retry
    if row is None:
        return None
    message_pk, conversation_pk, seq, stored_name = row
    message = Message(pk=message_pk, conversation_id=conversation_pk, seq=seq, role=new.role, text=text,
                      search_terms=search_terms, client_id=new.client_id, author=new.author,
                      author_name=stored_name, created_at=sent_at)
    message._state.adding, message._state.db = False, connection.alias
    return message


def _original(message_id, new):
    """The stored message a retry repeats, if the same sender sent it."""
    existing = Message.objects.select_related("attachment").get(pk=message_id)
    if existing.role != new.role or existing.author_id != (new.author.pk if new.author else None):
        raise ServiceError("duplicate_client_id")
    return existing
