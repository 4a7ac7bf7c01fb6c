"""Every frame the server sends, and the objects inside them, as docs/protocol.md describes them.

One builder per outbound frame type, in the order of the protocol's "Frames the server sends"
table; no frame dict is written anywhere else (tests/test_frames.py holds the two to each other).
"""

from django.conf import settings
from django.utils import timezone

from reference import attachments, cover, protocol, surveys
from reference.history import SHOWN as HISTORY_SHOWN

BUILDERS = {}  # frame type -> builder


def builds(frame_type):
    def register(builder):
        BUILDERS[frame_type] = builder
        return builder

    return register


def _time(value):
    return value.isoformat() if value else None


# ---- objects

def librarian_name(user):
    profile = getattr(user, "librarian_profile", None)
    return profile.display_name if profile else (user.get_short_name() or user.get_username())


_UNSET = object()


def conversation_payload(conversation, *, for_librarian=False, cover_of=_UNSET):
    """A conversation as either side sees it. A librarian's copy has `cover`: the agreement under
    which a librarian of another library takes or holds it (`cover_of`, default: the one it is held
    under), else None; the patron's has `answered_by`: which library answers, when it is not theirs."""
    patron = {"name": conversation.patron.name}
    if for_librarian:
        patron["email"] = conversation.patron.email
        card = getattr(conversation.patron, "library_card", None)  # selected with the patron (selectors)
        if card:
            patron["card"] = card.number
        if conversation.age_group:
            patron["age_group"] = conversation.age_group
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
        **_cover_keys(conversation, for_librarian, cover_of),
    }


def _cover_keys(conversation, for_librarian, cover_of):
    held_under = conversation.cover_agreement if conversation.cover_agreement_id else None
    if for_librarian:
        return {"cover": cover.payload(held_under if cover_of is _UNSET else cover_of)}
    answered_by = None
    if held_under is not None and conversation.status == "active":
        answered_by = {"library": held_under.covering.name, "home_library": held_under.home.name}
    return {"answered_by": answered_by}


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


def transfer_payload(transfer, conversation=None):
    conversation = conversation or transfer.conversation
    return {
        "id": transfer.pk, "conversation": transfer.conversation_id, "status": transfer.status,
        "from_id": transfer.from_user_id, "to_id": transfer.to_user_id,
        "from": librarian_name(transfer.from_user),
        "to": librarian_name(transfer.to_user) if transfer.to_user_id else None,
        "to_queue": transfer.to_queue.name if transfer.to_queue_id else None,
        "note": transfer.note, "patron": conversation.patron.name, "question": conversation.subject,
        "created_at": transfer.created_at.isoformat(),
        "expires_at": transfer.expires_at.isoformat() if transfer.expires_at else None,
    }


def offer_payload(offer, conversation=None):
    """An open assignment offer, with the chat it offers."""
    conversation = conversation or offer.conversation
    return {"id": offer.pk, "status": offer.status, "expires_at": offer.expires_at.isoformat(),
            "conversation": conversation_payload(conversation, for_librarian=True)}


def topic_payload(topic):
    return {"id": topic.pk, "label_id": topic.label_id, "label_en": topic.label_en, "active": topic.is_active}


def assessment_payload(conv):
    """The holder's assessment of a chat (reference.assessment); never in a patron's frame."""
    return {"topics": [topic_payload(t) for t in conv.topics.all()], "read_scale": conv.read_scale,
            "question_type": conv.question_type or None}


def note_payload(note):
    """An internal note (reference.notes): never in a frame to a patron's socket."""
    return {"id": note.pk, "about": "conversation" if note.conversation_id else "patron",
            "conversation": note.conversation_id, "author": note.author_name, "text": note.text,
            "created_at": _time(note.created_at)}


def earlier_payload(conversation):
    """One of a returning patron's earlier chats (reference.history)."""
    librarian = conversation.librarian
    return {"id": conversation.pk, "status": conversation.status, "created_at": _time(conversation.created_at),
            "queue": conversation.queue.name, "librarian": librarian_name(librarian) if librarian else None,
            "question": conversation.subject, "rating": conversation.rating, "offline": conversation.is_offline}


def history_payload(earlier):
    """A held chat's `history`: how many earlier chats, and the newest of them."""
    return {"count": len(earlier), "recent": [earlier_payload(c) for c in earlier[:HISTORY_SHOWN]]}


def presence_payload(profile, connected, held):
    effective = profile.status if connected else "offline"
    return {"id": profile.user_id, "name": profile.display_name, "status": profile.status,
            "connected": connected, "presence": effective, "held": held, "capacity": profile.max_chats}


# ---- both endpoints

@builds("welcome")
def welcome(**fields):
    return {"type": "welcome", "v": protocol.VERSION, "server_time": timezone.now().isoformat(),
            "heartbeat": settings.HEARTBEAT_INTERVAL, **fields}


@builds("error")
def error(service_error, ref=None):
    frame = {"type": "error", "code": service_error.code, "message": service_error.message, "ref": ref}
    if "field" in service_error.params:  # the form field to point the person at
        frame["field"] = service_error.params["field"]
    if "retry_after" in service_error.params:  # unavailable, rate_limited, blocked: seconds to wait
        frame["retry_after"] = service_error.params["retry_after"]
    return frame


@builds("pong")
def pong():
    return {"type": "pong"}


@builds("ack")
def ack(message):
    """The sender's answer once its message is stored: the seq, and the message as everyone else
    sees it (the sending socket gets no `message` frame of its own)."""
    return {"type": "ack", "client_id": message.client_id, "conversation": message.conversation_id,
            "seq": message.seq, "message": message_payload(message)}


@builds("message")
def message(stored):
    return {"type": "message", "message": message_payload(stored)}


@builds("messages")
def messages(conversation_id, found, more):
    return {"type": "messages", "conversation": conversation_id,
            "messages": [message_payload(m) for m in found], "more": more}


@builds("conversation")
def conversation(conv, *, for_librarian=False, messages=None, transfers=None, notes=None, history=None,
                 cover_of=_UNSET):
    payload = conversation_payload(conv, for_librarian=for_librarian, cover_of=cover_of)
    if messages is not None:
        payload["messages"] = [message_payload(m) for m in messages]
    if transfers is not None:
        payload["transfers"] = [transfer_payload(t, conv) for t in transfers]
    if for_librarian and messages is not None:  # the holder's whole chat, with their assessment
        payload["assessment"] = assessment_payload(conv)
    if notes is not None:  # internal: only in frames to the holder's dashboards
        payload["notes"] = [note_payload(n) for n in notes]
    if history is not None:
        payload["history"] = history_payload(history)
    return {"type": "conversation", "conversation": payload}


@builds("heartbeat")
def heartbeat(last_seqs, **extra):
    return {"type": "heartbeat", "server_time": timezone.now().isoformat(),
            "last_seq": {str(k): v for k, v in last_seqs.items()}, **extra}


@builds("read")
def read(conversation_id, role, seq):
    return {"type": "read", "conversation": conversation_id, "role": role, "seq": seq}


@builds("typing")
def typing(conversation_id, role, author, active):
    return {"type": "typing", "conversation": conversation_id, "role": role, "author": author, "active": active}


# ---- patron endpoint

@builds("queue.position")
def queue_position(conversation_id, position, estimated_wait):
    return {"type": "queue.position", "conversation": conversation_id, "position": position,
            "estimated_wait": estimated_wait}


@builds("rated")
def rated(conv):
    return {"type": "rated", "conversation": conv.pk, "rating": conv.rating, "comment": conv.rating_comment}


@builds("survey.answered")
def survey_answered(conversation_id, answers):
    """The answer to `survey`: every answer the patron has given about the conversation."""
    return {"type": "survey.answered", "conversation": conversation_id,
            "answers": [{"question": a.question_id, "answer": surveys.answer_value(a)} for a in answers]}


@builds("transcript.sent")
def transcript_sent(conversation_id, address):
    return {"type": "transcript.sent", "conversation": conversation_id, "email": address}


# ---- librarian endpoint

@builds("queue.added")
def queue_added(conv, transfers=None, cover_of=None):
    """To a queue's members (`cover_of` None: the chat is their library's) or, with the agreement
    that lets them take it, to a covering library's dashboards."""
    payload = conversation(conv, for_librarian=True, transfers=transfers, cover_of=cover_of)["conversation"]
    return {"type": "queue.added", "conversation": payload}


@builds("queue.removed")
def queue_removed(conversation_id, reason):
    return {"type": "queue.removed", "conversation": conversation_id, "reason": reason}


@builds("cover.waiting")
def cover_waiting(payloads):
    """The whole list of other libraries' chats a covering library may take now (reference.cover)."""
    return {"type": "cover.waiting", "conversations": payloads}


@builds("offline.added")
def offline_added(conversation_id):
    return {"type": "offline.added", "conversation": conversation_id}


@builds("presence")
def presence(profile, connected, held):
    return {"type": "presence", "librarian": presence_payload(profile, connected, held)}


@builds("conversation.released")
def conversation_released(conversation_id, reason, to=None):
    frame = {"type": "conversation.released", "conversation": conversation_id, "reason": reason}
    if to is not None:
        frame["to"] = to
    return frame


@builds("transfer")
def transfer(offer, conv=None):
    return {"type": "transfer", "transfer": transfer_payload(offer, conv)}


@builds("assignment")
def assignment(offer, conv=None):
    """An open offer carries the chat; a settled one only its id, status and conversation id."""
    if offer.status == offer.Status.OFFERED:
        return {"type": "assignment", "offer": offer_payload(offer, conv)}
    return {"type": "assignment",
            "offer": {"id": offer.pk, "status": offer.status, "conversation": {"id": offer.conversation_id}}}


@builds("assessment")
def assessment(conv):
    return {"type": "assessment", "conversation": conv.pk, "assessment": assessment_payload(conv)}


@builds("assessment.setup")
def assessment_setup(setup):
    """A library's topics or its requirement changed (reference.assessment.setup): to every
    dashboard; each keeps it only when `library` is its own."""
    return {"type": "assessment.setup", "assessment": setup}


@builds("note")
def note(stored, conversation_id, client_id=""):
    """An internal note was stored: to the holder's dashboards only. `conversation`: the chat it was
    written in (a note about the patron names none of its own); `client_id`: the writer's form's."""
    return {"type": "note", "conversation": conversation_id, "client_id": client_id, "note": note_payload(stored)}


# ---- staying on duty (reference.duty)

@builds("duty.requeued")
def duty_requeued(entries):
    """The chats that went back to the queue while the librarian was away and that they have not
    dismissed yet: [{"id", "subject", "at"}], oldest first (empty once all are dismissed)."""
    return {"type": "duty.requeued", "requeued": list(entries)}
