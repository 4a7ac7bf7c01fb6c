"""Nobody on duty: the desk says so, a patron leaves a question, a librarian answers by email."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from channels.db import database_sync_to_async
from django.core import mail
from django.core.exceptions import ValidationError

from reference import hours, lifecycle, offline_questions
from reference.errors import ServiceError
from reference.models import Conversation, Queue
from reference.presence_store import get_store
from tests.wsclient import patron_socket

JAKARTA = ZoneInfo("Asia/Jakarta")
WEEKDAYS = "mon-fri 08:00-16:00\nsat 08:00-12:00"


@pytest.mark.parametrize(("moment", "open_"), [
    (datetime(2026, 11, 30, 9, 0), True),     # Monday morning
    (datetime(2026, 11, 30, 16, 0), False),   # Monday, closing time
    (datetime(2026, 12, 5, 11, 59), True),    # Saturday
    (datetime(2026, 12, 6, 10, 0), False),    # Sunday
])
def test_opening_hours_in_the_librarys_time_zone(moment, open_):
    assert hours.is_open(WEEKDAYS, moment.replace(tzinfo=JAKARTA)) is open_
    assert hours.is_open("", moment.replace(tzinfo=JAKARTA)) is True  # no hours: always open


@pytest.mark.parametrize("text", ["monday 08:00-16:00", "mon-fri 16:00-08:00", "mon 8-16", "fri-mon 08:00-10:00"])
def test_bad_opening_hours_are_refused_with_the_line(text, queue):
    with pytest.raises(ValidationError) as error:
        hours.parse("sat 08:00-12:00\n" + text)
    assert "2" in str(error.value)
    queue.opening_hours = text
    with pytest.raises(ValidationError):
        queue.full_clean()


def test_the_desk_is_open_only_with_someone_available_and_connected(queue, other_queue, make_librarian):
    assert offline_questions.desk_state(queue.pk)["reason"] == "nobody"
    budi = make_librarian("budi", "Budi", queues=[other_queue])
    get_store().beat(budi.pk, "tab", 60)
    offline_questions.forget_desk_states()
    assert offline_questions.desk_state(queue.pk)["open"] is False
    Queue.objects.filter(pk=queue.pk).update(fallback_queue=other_queue)  # a partner covers
    queue.refresh_from_db()
    offline_questions.forget_desk_states()
    assert offline_questions.desk_state(queue.pk) == {"open": True, "reason": None, "hours": ""}
    Queue.objects.filter(pk=queue.pk).update(opening_hours="sun 00:00-00:01")
    offline_questions.forget_desk_states()
    assert offline_questions.desk_state(queue.pk)["reason"] == "closed"


@pytest.mark.django_db(transaction=True)
async def test_a_patron_leaves_a_question_when_nobody_is_on_duty(identity, token_for):
    patron = await patron_socket(token_for(identity), lang="en")
    assert patron.welcome["desk"] == {"open": False, "reason": "nobody", "hours": ""}
    await patron.send({"type": "start", "client_id": "q-1", "text": "Do you lend e-books?", "offline": True})
    error = await patron.receive_type("error")
    assert error["code"] == "email_required" and "email" in error["message"]
    assert not await database_sync_to_async(Conversation.objects.exists)()
    await patron.send({"type": "start", "client_id": "q-1", "text": "Do you lend e-books?", "offline": True,
                       "email": "rina@example.org", "name": "Rina"})
    await patron.receive_type("ack")
    left = (await patron.receive_type("conversation"))["conversation"]
    assert (left["status"], left["offline"]) == ("closed", True)
    notice = [m for m in left["messages"] if m["role"] == "system"][0]
    assert "rina@example.org" in notice["text"]
    await patron.close()


def leave(site, identity, text="Apakah ada e-book?", language="id"):
    from tests.starting import start_chat

    conversation, _message, _created = start_chat(
        identity=identity, text=text, client_id="q-1", name="Rina", email="rina@example.org",
        language=language, offline=True)
    return conversation


def test_the_answer_goes_by_email_in_the_patrons_language_and_stays(
        site, identity, librarian, django_capture_on_commit_callbacks):
    conversation = leave(site, identity, text="Do you lend e-books?", language="en")
    assert list(offline_questions.waiting_questions(site.library)) == [conversation]
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.do_answer_offline_question(user=librarian, conversation_id=conversation.pk,
                                             text="Yes, through https://ipusnas.example")
    (sent,) = mail.outbox
    assert sent.to == ["rina@example.org"] and sent.subject.startswith("The answer to your question")
    assert "Do you lend e-books?" in sent.body and "Yes, through https://ipusnas.example" in sent.body
    html = sent.alternatives[0][0]
    assert '<a href="https://ipusnas.example"' in html
    assert list(offline_questions.waiting_questions(site.library)) == []
    assert conversation.messages.last().role == "librarian"  # kept in the transcript
    with pytest.raises(ServiceError) as error:
        lifecycle.do_answer_offline_question(user=librarian, conversation_id=conversation.pk, text="Again")
    assert error.value.code == "already_answered" and len(mail.outbox) == 1


def test_bad_answers_change_nothing(site, identity, librarian, queue):
    conversation = leave(site, identity)
    live = Conversation.objects.create(patron=conversation.patron, site=site, queue=queue, subject="?")
    for conversation_id, text, code in ((conversation.pk, "   ", "empty_message"), (live.pk, "Hi", "not_offline"),
                                        (999999, "Hi", "not_found")):
        with pytest.raises(ServiceError) as error:
            lifecycle.do_answer_offline_question(user=librarian, conversation_id=conversation_id, text=text)
        assert error.value.code == code
    assert list(offline_questions.waiting_questions(site.library)) == [conversation] and not mail.outbox


def test_the_offline_questions_page(site, identity, librarian, client, django_capture_on_commit_callbacks):
    conversation = leave(site, identity)
    client.force_login(librarian)
    page = client.get("/staff/offline/")
    assert page.status_code == 200 and "Apakah ada e-book?" in page.content.decode()
    refused = client.post("/staff/offline/", {"conversation": conversation.pk, "text": ""})
    assert refused.status_code == 400 and not mail.outbox
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post("/staff/offline/", {"conversation": conversation.pk, "text": "Ada, lewat iPusnas."})
    assert done.status_code == 302 and len(mail.outbox) == 1
    assert "Jawaban atas pertanyaan Anda" in mail.outbox[0].subject  # Rina asked in Indonesian
