"""Storing chat messages: numbered, stored, then acknowledged and fanned out.

A message gets the conversation's next sequence number in the same transaction that stores it.
The caller acknowledges the sender only after this returns (the transaction has committed), and
the fan-out to other sockets happens on commit too. A repeated client id returns the stored
message instead of storing it twice, so a client can retry safely.
"""

from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import translation

from reference import attachments, events
from reference.errors import ServiceError
from reference.models import Conversation, Message, Role
from reference.payloads import librarian_name, message_frame
from reference.validation import clean_client_id, clean_text


def send_patron_message(*, patron_id, text, client_id, attachment_id=None):
    """Store a patron's message in their latest conversation. Returns (message, created)."""
    clean_client_id(client_id)
    conversation = (
        Conversation.objects.filter(patron_id=patron_id).select_related("patron").order_by("-created_at").first()
    )
    if conversation is None:
        raise ServiceError("no_conversation")
    return store_message(
        conversation_id=conversation.pk,
        role=Role.PATRON,
        text=text,
        client_id=client_id,
        author_name=conversation.patron.name,
        attachment_id=attachment_id,
    )


def send_librarian_message(*, user, conversation_id, text, client_id, attachment_id=None):
    """Store a librarian's message in a conversation they hold. Returns (message, created)."""
    clean_client_id(client_id)
    conversation = Conversation.objects.filter(pk=conversation_id).first()
    if conversation is None:
        raise ServiceError("not_found")
    is_retry = conversation.messages.filter(client_id=client_id, author=user).exists()
    if not is_retry and conversation.librarian_id != user.pk:
        raise ServiceError("not_assigned")
    return store_message(
        conversation_id=conversation.pk,
        role=Role.LIBRARIAN,
        text=text,
        client_id=client_id,
        author=user,
        author_name=librarian_name(user),
        attachment_id=attachment_id,
    )


def store_message(*, conversation_id, role, text, client_id="", author=None, author_name="",
                  attachment_id=None):
    """`attachment_id`: a file the sender uploaded into this conversation (reference.attachments);
    the text may then be empty."""
    text = clean_text(text, allow_empty=attachment_id is not None)
    with transaction.atomic():
        locked = Conversation.objects.select_for_update(of=("self",))
        if client_id:  # one round trip locks the row and tells whether this is a retry
            locked = locked.annotate(retry_of=Subquery(
                Message.objects.filter(conversation=OuterRef("pk"), client_id=client_id).values("pk")[:1]))
        conversation = locked.get(pk=conversation_id)
        if getattr(conversation, "retry_of", None) is not None:
            existing = Message.objects.get(pk=conversation.retry_of)
            if existing.role != role or existing.author_id != (author.pk if author else None):
                raise ServiceError("duplicate_client_id")
            return existing, False
        if conversation.is_closed:
            raise ServiceError("conversation_closed")
        attachment = None
        if attachment_id is not None:
            attachment = attachments.claim_for_message(
                conversation=conversation, attachment_id=attachment_id, role=role,
                patron_id=conversation.patron_id, user=author)
        message = append_message(conversation, role=role, text=text, client_id=client_id,
                                 author=author, author_name=author_name, attachment=attachment)
        if role == Role.LIBRARIAN and conversation.first_response_at is None:
            conversation.first_response_at = message.created_at
            conversation.save(update_fields=["first_response_at"])
        events.publish(events.conversation_group(conversation.pk), message_frame(message))
    return message, True


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
