"""Unread counts that survive a dashboard reload: the welcome's held chats say how many of the
patron's messages lie beyond the librarian's read mark (reference/receipts.py)."""

import pytest

from reference import receipts, selectors
from reference.messaging import do_send_librarian_message, do_send_patron_message
from reference.models import Conversation, Role
from tests.starting import held_chat
from tests.wsclient import librarian_socket, open_chat


def welcome_unread(librarian, since=None):
    """{conversation id: unread} of the held chats in the librarian's welcome."""
    queue_ids = list(librarian.librarian_profile.queues.values_list("pk", flat=True))
    welcome = selectors.librarian_welcome(librarian, queue_ids=queue_ids, since=since or {})
    return {c["id"]: c["unread"] for c in welcome["conversations"]}


@pytest.mark.django_db
def test_unread_counts_the_patrons_messages_after_the_librarians_read_mark(identity, librarian):
    conversation = held_chat(identity=identity, librarian=librarian)
    assert welcome_unread(librarian) == {conversation.pk: 1}  # the question itself, not yet seen

    conversation.refresh_from_db()
    receipts.do_mark_read(conversation=conversation, role=Role.LIBRARIAN, seq=conversation.last_seq)
    assert welcome_unread(librarian) == {conversation.pk: 0}

    first, _ = do_send_patron_message(patron_id=conversation.patron_id, text="Halo?", client_id="p-2")
    do_send_patron_message(patron_id=conversation.patron_id, text="Masih di sana?", client_id="p-3")
    do_send_librarian_message(user=librarian, conversation_id=conversation.pk, text="Ya, sebentar.",
                              client_id="l-1")  # our own answer is never unread
    assert welcome_unread(librarian) == {conversation.pk: 2}
    # However much of the chat the dashboard still holds (`since`), the count is the chat's.
    conversation.refresh_from_db()
    assert welcome_unread(librarian, since={conversation.pk: conversation.last_seq}) == {conversation.pk: 2}

    receipts.do_mark_read(conversation=conversation, role=Role.LIBRARIAN, seq=first.seq)
    assert welcome_unread(librarian) == {conversation.pk: 1}


@pytest.mark.django_db
def test_the_patrons_read_mark_does_not_count_for_the_librarian(identity, librarian):
    conversation = held_chat(identity=identity, librarian=librarian)
    do_send_patron_message(patron_id=conversation.patron_id, text="Halo?", client_id="p-2")
    conversation.refresh_from_db()
    receipts.do_mark_read(conversation=conversation, role=Role.PATRON, seq=conversation.last_seq)
    assert welcome_unread(librarian) == {conversation.pk: 2}


@pytest.mark.django_db(transaction=True)
async def test_a_new_dashboard_gets_the_unread_count_its_read_frames_left(identity, token_for, librarian):
    """On the wire: the dashboard reports `read`; a reloaded one (a fresh socket, no `since`) is
    told how many patron messages came after it."""
    patron, desk, conversation_id = await open_chat(librarian, token_for(identity))
    last_seq = (await Conversation.objects.aget(pk=conversation_id)).last_seq
    await desk.send({"type": "read", "conversation": conversation_id, "seq": last_seq})
    assert (await desk.receive_type("read"))["seq"] == last_seq

    for n, text in enumerate(("Halo?", "Masih di sana?"), start=2):
        await patron.send({"type": "message", "client_id": f"p-{n}", "text": text})
        await desk.receive_type("message")
    reloaded = await librarian_socket(librarian, hello=False)
    held = (await reloaded.hello())["conversations"]
    assert [(c["id"], c["unread"], c["read"]["librarian"]) for c in held] == [(conversation_id, 2, last_seq)]
    assert await Conversation.objects.filter(pk=conversation_id, librarian_read_seq=last_seq).aexists()
    for socket in (patron, desk, reloaded):
        await socket.close()
