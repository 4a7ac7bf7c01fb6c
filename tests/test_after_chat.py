"""After the chat: the patron's rating and “email me this transcript” (issue 6)."""

import pytest
from channels.db import database_sync_to_async
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from reference import attachments, lifecycle
from reference.messaging import do_send_librarian_message, do_send_patron_message
from reference.models import Conversation
from tests import files
from tests.starting import held_chat
from tests.wsclient import open_chat, patron_socket

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


async def ended_chat(identity, token_for, librarian, lang="id", close=True):
    patron, desk, conversation_id = await open_chat(librarian, token_for(identity), lang=lang)
    await desk.send({"type": "message", "conversation": conversation_id, "client_id": "l-1",
                     "text": "Ya, buka pukul 09.00–15.00."})
    await desk.receive_type("ack")
    if close:
        await desk.send({"type": "close", "conversation": conversation_id})
        while (await patron.receive_type("conversation"))["conversation"]["status"] != "closed":
            pass
    await desk.close()
    return patron, conversation_id


@database_sync_to_async
def conversation_row(conversation_id):
    return Conversation.objects.get(pk=conversation_id)


# ---- rating


async def test_the_patron_rates_a_closed_chat_and_may_change_their_mind(identity, token_for, librarian):
    patron, conversation_id = await ended_chat(identity, token_for, librarian)
    await patron.send({"type": "rate", "conversation": conversation_id, "rating": 4, "comment": " Cepat! "})
    rated = await patron.receive_type("rated")
    assert (rated["rating"], rated["comment"]) == (4, "Cepat!")
    await patron.send({"type": "rate", "conversation": conversation_id, "rating": 5})
    assert (await patron.receive_type("rated"))["rating"] == 5
    row = await conversation_row(conversation_id)
    assert (row.rating, row.rating_comment, row.rated_at is not None) == (5, "", True)
    await patron.close()
    back = await patron_socket(token_for(identity))  # a reload shows the rating given
    assert back.welcome["conversation"]["rating"] == {"rating": 5, "comment": ""}
    await back.close()


@pytest.mark.parametrize(("frame", "code"), [
    ({"rating": 0}, "invalid_rating"),
    ({"rating": 6}, "invalid_rating"),
    ({"rating": -1}, "invalid_rating"),
    ({"rating": "5"}, "invalid_frame"),
    ({"rating": True}, "invalid_frame"),
    ({"rating": 4.5}, "invalid_frame"),
    ({}, "invalid_frame"),
    ({"rating": 3, "comment": "x" * 1001}, "comment_too_long"),
    ({"rating": 3, "comment": ["bagus"]}, "invalid_frame"),
])
async def test_bad_ratings_are_refused_and_change_nothing(identity, token_for, librarian, frame, code):
    patron, conversation_id = await ended_chat(identity, token_for, librarian)
    await patron.send({"type": "rate", "conversation": conversation_id, **frame})
    error = await patron.receive_type("error")
    assert (error["code"], error["ref"]) == (code, "rate")
    assert error["message"]
    assert (await conversation_row(conversation_id)).rating is None
    await patron.close()


async def test_a_comment_of_exactly_1000_characters_is_kept(identity, token_for, librarian):
    patron, conversation_id = await ended_chat(identity, token_for, librarian)
    await patron.send({"type": "rate", "conversation": conversation_id, "rating": 2, "comment": "y" * 1000})
    assert len((await patron.receive_type("rated"))["comment"]) == 1000
    await patron.close()


async def test_only_a_closed_chat_of_ones_own_is_rated(identity, make_identity, token_for, librarian):
    patron, conversation_id = await ended_chat(identity, token_for, librarian, close=False)
    await patron.send({"type": "rate", "conversation": conversation_id, "rating": 5})
    assert (await patron.receive_type("error"))["code"] == "not_closed"
    stranger = await patron_socket(token_for(make_identity()))
    await stranger.send({"type": "rate", "conversation": conversation_id, "rating": 1})
    assert (await stranger.receive_type("error"))["code"] == "not_found"
    assert (await conversation_row(conversation_id)).rating is None
    await patron.close()
    await stranger.close()


# ---- the transcript by email


async def test_the_transcript_is_emailed_as_text_and_html_in_indonesian(identity, token_for, librarian):
    patron, conversation_id = await ended_chat(identity, token_for, librarian)
    await patron.send({"type": "transcript.email", "conversation": conversation_id, "email": "rina@example.id"})
    sent = await patron.receive_type("transcript.sent")
    assert sent == {"type": "transcript.sent", "conversation": conversation_id, "email": "rina@example.id",
                    "_skipped": sent["_skipped"]}
    [email] = mail.outbox
    assert email.to == ["rina@example.id"]
    assert email.subject == "Percakapan Anda dengan Perpustakaan Kota"
    assert "Apakah buka hari Minggu?" in email.body and "Ya, buka pukul 09.00–15.00." in email.body
    assert "Asia/Jakarta" in email.body and "Waktu dalam" in email.body
    [(html, kind)] = email.alternatives
    assert kind == "text/html" and "<table" in html and "Apakah buka hari Minggu?" in html
    await patron.close()


async def test_the_transcript_follows_the_patrons_language_and_the_librarys_time_zone(
        identity, token_for, librarian):
    patron, conversation_id = await ended_chat(identity, token_for, librarian, lang="en")
    await patron.send({"type": "transcript.email", "conversation": conversation_id, "email": "rina@example.id"})
    await patron.receive_type("transcript.sent")
    [email] = mail.outbox
    assert email.subject == "Your chat with Perpustakaan Kota"
    first = await database_sync_to_async(lambda: Conversation.objects.get(pk=conversation_id).messages.get(seq=1))()
    from zoneinfo import ZoneInfo

    jakarta = first.created_at.astimezone(ZoneInfo("Asia/Jakarta")).strftime("%H:%M")
    assert f"[{jakarta}] Rina: Apakah buka hari Minggu?" in email.body
    assert "Times are in Asia/Jakarta." in email.body
    await patron.close()


@pytest.mark.parametrize(("address", "code"), [
    ("", "invalid_email"), ("not-an-address", "invalid_email"), ("a@b", "invalid_email"),
    ("rina@example.id\nBcc: x@example.com", "invalid_email"), (None, "invalid_frame"), (42, "invalid_frame"),
])
async def test_bad_addresses_are_refused_and_nothing_is_sent(identity, token_for, librarian, address, code):
    patron, conversation_id = await ended_chat(identity, token_for, librarian)
    await patron.send({"type": "transcript.email", "conversation": conversation_id, "email": address})
    error = await patron.receive_type("error")
    assert (error["code"], error["ref"]) == (code, "transcript.email")
    assert mail.outbox == []
    assert (await conversation_row(conversation_id)).transcript_emails_sent == 0
    await patron.close()


async def test_transcripts_are_sent_a_few_times_per_conversation_at_most(identity, token_for, librarian, settings):
    settings.TRANSCRIPT_EMAILS_PER_CONVERSATION = 2
    patron, conversation_id = await ended_chat(identity, token_for, librarian)
    for _ in range(2):
        await patron.send({"type": "transcript.email", "conversation": conversation_id, "email": "r@example.id"})
        await patron.receive_type("transcript.sent")
    await patron.send({"type": "transcript.email", "conversation": conversation_id, "email": "r@example.id"})
    error = await patron.receive_type("error")
    assert error["code"] == "transcript_limit" and "2" in error["message"]
    assert len(mail.outbox) == 2
    await patron.close()


async def test_no_transcript_of_an_open_chat_or_of_someone_elses(identity, make_identity, token_for, librarian):
    patron, conversation_id = await ended_chat(identity, token_for, librarian, close=False)
    await patron.send({"type": "transcript.email", "conversation": conversation_id, "email": "r@example.id"})
    assert (await patron.receive_type("error"))["code"] == "not_closed"
    stranger = await patron_socket(token_for(make_identity()))
    await stranger.send({"type": "transcript.email", "conversation": conversation_id, "email": "x@example.id"})
    assert (await stranger.receive_type("error"))["code"] == "not_found"
    assert mail.outbox == []
    await patron.close()
    await stranger.close()


async def test_a_failing_mail_server_gives_the_attempt_back(identity, token_for, librarian, settings):
    settings.EMAIL_BACKEND = "tests.test_after_chat.BrokenBackend"
    patron, conversation_id = await ended_chat(identity, token_for, librarian)
    await patron.send({"type": "transcript.email", "conversation": conversation_id, "email": "r@example.id"})
    assert (await patron.receive_type("error"))["code"] == "email_failed"
    assert (await conversation_row(conversation_id)).transcript_emails_sent == 0
    await patron.close()


class BrokenBackend:
    def __init__(self, **kwargs):
        pass

    def send_messages(self, messages):
        raise OSError("connection refused")


# ---- what staff see


def test_transcript_pages_show_the_rating_and_the_files(identity, librarian, client):
    conversation = held_chat(identity=identity, librarian=librarian, text="Ada peta kota lama?")
    attachment = attachments.upload_for_librarian(
        user=librarian, conversation_id=conversation.pk, uploaded=SimpleUploadedFile("peta.pdf", files.pdf()))
    do_send_librarian_message(user=librarian, conversation_id=conversation.pk, text="", client_id="l-1",
                              attachment_id=attachment.pk)
    do_send_patron_message(patron_id=conversation.patron_id, text="Terima kasih", client_id="p-2")
    lifecycle.do_close_by_librarian(user=librarian, conversation_id=conversation.pk)
    Conversation.objects.filter(pk=conversation.pk).update(rating=4, rating_comment="Sangat membantu")
    client.force_login(librarian)

    listing = client.get("/staff/transcripts/").content.decode()
    assert "4 dari 5" in listing
    detail = client.get(f"/staff/transcripts/{conversation.pk}/").content.decode()
    assert "4 dari 5" in detail and "Sangat membantu" in detail
    link = detail.split('<p class="msg-attachment"><a href="')[1].split('"')[0]
    assert ">peta.pdf</a>" in detail
    download = Client().get(link)
    assert download.status_code == 200 and b"".join(download.streaming_content) == files.pdf()
