"""Messages that carry a file: stored then acknowledged, retried safely, fanned out and resumed."""

import pytest
from channels.db import database_sync_to_async
from django.core.files.uploadedfile import SimpleUploadedFile

from reference import attachments
from reference.models import Conversation, Message
from tests import files
from tests.wsclient import ask, patron_socket

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


@database_sync_to_async
def patron_upload(conversation_id, name="kucing.png", content=None):
    patron = Conversation.objects.get(pk=conversation_id).patron
    uploaded = SimpleUploadedFile(name, content or files.png(3, 2))
    return attachments.upload_for_patron(patron=patron, conversation_id=conversation_id, uploaded=uploaded).pk


@database_sync_to_async
def librarian_upload(user, conversation_id):
    uploaded = SimpleUploadedFile("jadwal.pdf", files.pdf())
    return attachments.upload_for_librarian(user=user, conversation_id=conversation_id, uploaded=uploaded).pk


@database_sync_to_async
def stored(conversation_id, seq):
    message = Message.objects.select_related("attachment").get(conversation_id=conversation_id, seq=seq)
    return message.text, message.attachment.name if message.attachment else None


async def test_a_patron_sends_a_file_acked_after_it_is_stored_and_fanned_out(chat):
    patron, desk, conversation_id = chat
    attachment_id = await patron_upload(conversation_id)
    await patron.send({"type": "message", "client_id": "p-file", "attachment": attachment_id})
    ack = await patron.receive_type("ack")
    assert await stored(conversation_id, ack["seq"]) == ("", "kucing.png")  # stored before the ack
    message = await desk.receive_message(seq=ack["seq"])
    assert message["text"] == ""
    assert ack["message"]["attachment"]["id"] == attachment_id  # the sender sees its file from the ack
    sent = message["attachment"]
    assert {k: sent[k] for k in ("id", "name", "size", "type", "width", "height")} == {
        "id": attachment_id, "name": "kucing.png", "size": len(files.png(3, 2)), "type": "image/png",
        "width": 3, "height": 2}
    assert sent["url"].startswith("/attachments/")


async def test_a_retried_file_message_is_stored_once(chat):
    patron, desk, conversation_id = chat
    attachment_id = await patron_upload(conversation_id)
    frame = {"type": "message", "client_id": "p-file", "text": "Ini fotonya", "attachment": attachment_id}
    await patron.send(frame)
    first = (await patron.receive_type("ack"))["seq"]
    await patron.send(frame)  # the ack was lost: the widget sends the same frame again
    again = await patron.receive_type("ack")
    assert again["seq"] == first and again["message"]["attachment"]["name"] == "kucing.png"
    assert await database_sync_to_async(Message.objects.filter(attachment_id=attachment_id).count)() == 1
    assert await stored(conversation_id, first) == ("Ini fotonya", "kucing.png")


async def test_resume_carries_the_file_with_a_fresh_link(chat, identity, token_for):
    patron, desk, conversation_id = chat
    attachment_id = await patron_upload(conversation_id)
    await patron.send({"type": "message", "client_id": "p-file", "attachment": attachment_id})
    seq = (await patron.receive_type("ack"))["seq"]
    await patron.close()
    back = await patron_socket(token_for(identity), last_seq=seq - 1)
    [message] = back.welcome["messages"]
    assert message["attachment"]["name"] == "kucing.png"
    assert message["attachment"]["url"].startswith("/attachments/")
    await back.send({"type": "fetch", "conversation": conversation_id, "after": seq - 1})
    fetched = (await back.receive_type("messages"))["messages"]
    assert fetched[0]["attachment"]["id"] == attachment_id
    await back.close()


async def test_a_librarian_sends_a_file_to_the_patron(chat, librarian):
    patron, desk, conversation_id = chat
    attachment_id = await librarian_upload(librarian, conversation_id)
    await desk.send({"type": "message", "conversation": conversation_id, "client_id": "l-file",
                     "text": "Jadwalnya terlampir", "attachment": attachment_id})
    seq = (await desk.receive_type("ack"))["seq"]
    message = await patron.receive_message(seq=seq)
    assert (message["text"], message["attachment"]["type"]) == ("Jadwalnya terlampir", "application/pdf")


async def test_files_that_are_not_the_senders_are_refused_and_nothing_is_stored(chat, librarian, make_identity,
                                                                                 token_for):
    patron, desk, conversation_id = chat
    theirs = await librarian_upload(librarian, conversation_id)
    # Another patron with a conversation and a file of their own.
    stranger_identity = make_identity()
    stranger = await patron_socket(token_for(stranger_identity))
    stranger_conversation = await ask(stranger, "Pertanyaan lain", "s-1")
    strangers = await patron_upload(stranger_conversation)
    before = await database_sync_to_async(Message.objects.filter(conversation_id=conversation_id).count)()

    for attachment_id, code in [(theirs, "attachment_not_yours"), (strangers, "attachment_not_yours"),
                                (999999, "attachment_not_yours")]:
        await patron.send({"type": "message", "client_id": f"p-{attachment_id}", "attachment": attachment_id})
        error = await patron.receive_type("error")
        assert (error["code"], error["ref"]) == (code, f"p-{attachment_id}")
        assert error["message"]
    # The librarian cannot send the patron's file either.
    mine = await patron_upload(conversation_id)
    await desk.send({"type": "message", "conversation": conversation_id, "client_id": "l-x", "attachment": mine})
    assert (await desk.receive_type("error"))["code"] == "attachment_not_yours"
    assert await database_sync_to_async(Message.objects.filter(conversation_id=conversation_id).count)() == before
    await stranger.close()


async def test_a_file_is_sent_once_and_a_message_needs_text_or_a_file(chat):
    patron, desk, conversation_id = chat
    attachment_id = await patron_upload(conversation_id)
    await patron.send({"type": "message", "client_id": "p-1a", "attachment": attachment_id})
    await patron.receive_type("ack")
    await patron.send({"type": "message", "client_id": "p-1b", "attachment": attachment_id})
    assert (await patron.receive_type("error"))["code"] == "attachment_used"
    await patron.send({"type": "message", "client_id": "p-2"})
    assert (await patron.receive_type("error"))["code"] == "invalid_frame"
    await patron.send({"type": "message", "client_id": "p-3", "attachment": "1"})
    assert (await patron.receive_type("error"))["code"] == "invalid_frame"
    await patron.send({"type": "message", "client_id": "p-4", "text": "   "})
    assert (await patron.receive_type("error"))["code"] == "empty_message"


async def test_no_file_message_once_the_chat_is_closed(chat):
    patron, desk, conversation_id = chat
    attachment_id = await patron_upload(conversation_id)
    await patron.send({"type": "close"})
    await patron.receive_type("conversation")
    await patron.send({"type": "message", "client_id": "p-late", "attachment": attachment_id})
    assert (await patron.receive_type("error"))["code"] == "conversation_closed"
    assert await database_sync_to_async(Message.objects.filter(attachment_id=attachment_id).exists)() is False
