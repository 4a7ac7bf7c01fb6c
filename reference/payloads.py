"""The JSON objects of docs/protocol.md, built from models in one place."""

from reference import attachments


def _time(value):
    return value.isoformat() if value else None


def librarian_name(user):
    profile = getattr(user, "librarian_profile", None)
    return profile.display_name if profile else (user.get_short_name() or user.get_username())


def conversation_payload(conversation, *, for_librarian=False):
    patron = {"name": conversation.patron.name}
    if for_librarian:
        patron["email"] = conversation.patron.email
        card = getattr(conversation.patron, "library_card", None)  # selected with the patron (selectors)
        if card:
            patron["card"] = card.number
    librarian = conversation.librarian
    return {
        "id": conversation.pk,
        "status": conversation.status,
        "queue": {"id": conversation.queue_id, "name": conversation.queue.name},
        "patron": patron,
        "librarian": {"name": librarian_name(librarian)} if librarian else None,
        "question": conversation.subject,
        "created_at": _time(conversation.created_at),
        "assigned_at": _time(conversation.assigned_at),
        "closed_at": _time(conversation.closed_at),
        "closed_by": conversation.closed_by_role or None,
        "last_seq": conversation.last_seq,
        "offline": conversation.is_offline,
        "read": {"patron": conversation.patron_read_seq, "librarian": conversation.librarian_read_seq},
        "rating": ({"rating": conversation.rating, "comment": conversation.rating_comment}
                   if conversation.rating else None),
    }


def message_payload(message):
    return {
        "conversation": message.conversation_id,
        "seq": message.seq,
        "role": message.role,
        "author": message.author_name,
        "text": message.text,
        "client_id": message.client_id,
        "sent_at": _time(message.created_at),
        # With a fresh expiring link each time the message is sent out (fan-out, resume, fetch).
        "attachment": attachments.payload(message.attachment) if message.attachment_id else None,
    }


def conversation_frame(conversation, *, for_librarian=False, messages=None):
    payload = conversation_payload(conversation, for_librarian=for_librarian)
    if messages is not None:
        payload["messages"] = [message_payload(m) for m in messages]
    return {"type": "conversation", "conversation": payload}


def message_frame(message):
    return {"type": "message", "message": message_payload(message)}


def ack_frame(message):
    """The sender's answer once its message is stored: the seq, and the message as everyone else
    sees it (the sending socket gets no `message` frame of its own)."""
    return {"type": "ack", "client_id": message.client_id, "conversation": message.conversation_id,
            "seq": message.seq, "message": message_payload(message)}
