"""Bad input on the workbench's frames (`assess`, `note`, `duty.dismiss`) and numbers too large for
any id on every frame: each gets an error frame with its code, nothing is stored, and the socket
goes on working."""

import pytest
from channels.db import database_sync_to_async

from reference.models import Conversation, InternalNote, LibrarianProfile, Topic
from tests.wsclient import open_chat

pytestmark = pytest.mark.django_db(transaction=True)

HUGE = 10**30  # no database column holds it

BAD_FRAMES = [
    ({"type": "assess", "conversation": "12"}, "invalid_frame"),
    ({"type": "assess", "conversation": HUGE}, "invalid_frame"),
    ({"type": "assess", "topics": ["x"]}, "invalid_frame"),
    ({"type": "assess", "topics": [1.5]}, "invalid_frame"),
    ({"type": "assess", "topics": [True]}, "invalid_frame"),
    ({"type": "assess", "topics": [HUGE]}, "invalid_frame"),
    ({"type": "assess", "topics": {"id": 1}}, "invalid_frame"),
    ({"type": "assess", "topics": [987654]}, "unknown_topic"),
    ({"type": "assess", "read_scale": True}, "invalid_frame"),
    ({"type": "assess", "read_scale": 7}, "invalid_read_scale"),
    ({"type": "assess", "read_scale": HUGE}, "invalid_frame"),
    ({"type": "assess", "question_type": 5}, "invalid_frame"),
    ({"type": "assess", "question_type": "x" * 5000}, "invalid_question_type"),
    ({"type": "note", "text": 5}, "invalid_frame"),
    ({"type": "note", "text": "hi", "about": "library"}, "note_about"),
    ({"type": "note", "text": "hi", "about": 5}, "invalid_frame"),
    ({"type": "note", "conversation": HUGE, "text": "hi"}, "invalid_frame"),
    ({"type": "note", "conversation": -1, "text": "hi"}, "not_found"),
    ({"type": "note", "text": "   "}, "note_empty"),
    ({"type": "note", "text": "x" * 2001}, "note_too_long"),
    ({"type": "note", "text": "hi", "client_id": 5}, "invalid_frame"),
    ({"type": "note", "text": "hi", "client_id": "x" * 65}, "invalid_frame"),
    ({"type": "duty.dismiss", "conversations": "12"}, "invalid_frame"),
    ({"type": "duty.dismiss", "conversations": []}, "invalid_frame"),
    ({"type": "duty.dismiss", "conversations": [HUGE]}, "invalid_frame"),
    ({"type": "duty.dismiss", "conversations": list(range(1, 500))}, "invalid_frame"),
    ({"type": "duty.dismiss"}, "invalid_frame"),
    ({"type": "claim", "conversation": HUGE}, "invalid_frame"),
    ({"type": "close", "conversation": -HUGE}, "invalid_frame"),
    ({"type": "fetch", "conversation": HUGE, "after": 0}, "invalid_frame"),
]


def _state(conversation_id):
    conversation = Conversation.objects.get(pk=conversation_id)
    return (InternalNote.objects.count(), list(conversation.topics.all()), conversation.read_scale,
            conversation.question_type, conversation.status, list(LibrarianProfile.objects.values_list(
                "requeued_while_away", flat=True)))


async def test_bad_workbench_frames_are_refused_with_their_code_and_change_nothing(identity, token_for, librarian):
    await database_sync_to_async(add_topic)(identity)
    patron, desk, conversation_id = await open_chat(librarian, token_for(identity))
    before = await database_sync_to_async(_state)(conversation_id)
    for frame, code in BAD_FRAMES:
        frame = {"conversation": conversation_id, **frame}
        await desk.send(frame)
        reply = await desk.receive()
        while reply["type"] not in ("error", "note", "assessment", "duty.requeued"):
            reply = await desk.receive()  # presence or heartbeat frames in between
        assert (reply["type"], reply.get("code")) == ("error", code), frame
        assert reply["message"]
    assert await database_sync_to_async(_state)(conversation_id) == before
    await desk.send({"type": "ping"})
    while (await desk.receive())["type"] != "pong":
        pass
    await patron.close()
    await desk.close()


def add_topic(identity):
    from widgets.models import Site

    Topic.objects.create(library=Site.objects.get(key=identity.site_key).library, label_id="Denda", label_en="Fines")
