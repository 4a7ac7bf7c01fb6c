"""A widget site's survey (issue 17): the questions, answering them in the widget (the `survey`
frame) and on the public page an offline answer's e-mail links to, the share of e-mails with the
link, the admin's inline, and the figures the reports read (survey_results)."""

import re
import time
from datetime import timedelta

import pytest
from django.core import mail, signing
from django.test import Client
from django.utils import timezone

from reference import lifecycle, surveys
from reference.errors import ServiceError
from reference.models import Conversation, Patron, Queue, SurveyAnswer, SurveyQuestion
from tests.starting import start_chat
from tests.wsclient import open_chat, patron_socket
from widgets.models import Site

Kind = SurveyQuestion.Kind


@pytest.fixture
def questions(site, queue):
    """Site "test-site": a yes / partly / no, a 1–5 and a free-text question, one inactive; and a
    question of another site."""
    other = Site.objects.create(name="Perpustakaan Daerah", key="other-site", default_queue=queue)
    make = SurveyQuestion.objects.create
    return {
        "found": make(site=site, position=1, kind=Kind.YES_PARTLY_NO, text_id="Apakah Anda menemukan jawabannya?",
                      text_en="Did you find the answer?"),
        "easy": make(site=site, position=2, kind=Kind.SCALE, text_id="Seberapa mudah?", text_en="How easy was it?"),
        "wish": make(site=site, position=3, kind=Kind.TEXT, text_id="Apa yang bisa kami perbaiki?",
                     text_en="What could we do better?"),
        "old": make(site=site, position=4, kind=Kind.YES_PARTLY_NO, text_id="Lama", text_en="Old", is_active=False),
        "elsewhere": make(site=other, position=1, kind=Kind.SCALE, text_id="Lain", text_en="Other"),
    }


def closed_conversation(site, *, language="id", subject="Apakah buka hari Minggu?", offline=False, **fields):
    patron = Patron.objects.create(site=site, name="Rina", email="rina@example.org", language=language)
    return Conversation.objects.create(patron=patron, site=site, queue=site.default_queue, subject=subject,
                                       status=Conversation.Status.CLOSED, closed_at=timezone.now(),
                                       is_offline=offline, **fields)


def stored(conversation_id):
    return {a.question_id: surveys.answer_value(a) for a in surveys.answers_of(conversation_id)}


# ---- the questions


def test_the_site_asks_its_active_questions_in_order_in_the_patrons_language(site, questions):
    questions["easy"].position = 0
    questions["easy"].save()
    english = surveys.site_questions(site.pk, "en")
    assert [q["text"] for q in english] == ["How easy was it?", "Did you find the answer?", "What could we do better?"]
    assert english[0]["options"] == [{"value": n, "label": str(n)} for n in range(1, 6)]
    assert [o["value"] for o in english[1]["options"]] == ["yes", "partly", "no"]
    assert english[2] == {"id": questions["wish"].pk, "kind": "text", "text": "What could we do better?",
                          "options": []}
    assert [q["text"] for q in surveys.site_questions(site.pk, "id")][0] == "Seberapa mudah?"


def test_at_most_five_questions_are_asked(site):
    for position in range(7):
        SurveyQuestion.objects.create(site=site, position=position, kind=Kind.SCALE, text_id=f"T{position}",
                                      text_en=f"Q{position}")
    assert [q["text"] for q in surveys.site_questions(site.pk, "en")] == ["Q0", "Q1", "Q2", "Q3", "Q4"]


# ---- answering (the service)


def test_a_patron_answers_some_questions_and_answering_again_replaces_the_answer(site, questions):
    conversation = closed_conversation(site)
    found, easy, wish = questions["found"], questions["easy"], questions["wish"]
    answers = surveys.do_answer_survey(patron_id=conversation.patron_id, conversation_id=conversation.pk,
                                       answers={found.pk: "partly", wish.pk: "  Buka hari Minggu juga.  "})
    assert [(a.question_id, surveys.answer_value(a)) for a in answers] == [
        (found.pk, "partly"), (wish.pk, "Buka hari Minggu juga.")]
    surveys.do_answer_survey(patron_id=conversation.patron_id, conversation_id=conversation.pk,
                             answers={found.pk: "yes", easy.pk: 5})
    assert stored(conversation.pk) == {found.pk: "yes", easy.pk: 5, wish.pk: "Buka hari Minggu juga."}
    assert SurveyAnswer.objects.count() == 3
    again = SurveyAnswer.objects.get(question=found)
    assert (again.choice, again.score, again.text) == ("yes", None, "")


def test_a_free_text_answer_of_exactly_the_limit_is_kept(site, questions):
    conversation = closed_conversation(site)
    surveys.do_answer_survey(patron_id=conversation.patron_id, conversation_id=conversation.pk,
                             answers={questions["wish"].pk: "y" * surveys.TEXT_MAX_LENGTH})
    assert len(stored(conversation.pk)[questions["wish"].pk]) == 1000


@pytest.mark.parametrize(("name", "value", "code"), [
    ("found", "maybe", "invalid_survey_choice"),
    ("found", "YES", "invalid_survey_choice"),
    ("found", 1, "invalid_survey_choice"),
    ("found", ["yes"], "invalid_survey_choice"),
    ("found", None, "invalid_survey_choice"),
    ("easy", 0, "invalid_survey_score"),
    ("easy", 6, "invalid_survey_score"),
    ("easy", "5", "invalid_survey_score"),
    ("easy", True, "invalid_survey_score"),
    ("easy", 4.5, "invalid_survey_score"),
    ("easy", 2 ** 70, "invalid_survey_score"),
    ("wish", "   ", "survey_answer_empty"),
    ("wish", "x" * 1001, "survey_answer_too_long"),
    ("wish", 5, "invalid_frame"),
    ("old", "yes", "unknown_survey_question"),
    ("elsewhere", 3, "unknown_survey_question"),
])
def test_one_bad_answer_refuses_them_all_and_changes_nothing(site, questions, name, value, code):
    conversation = closed_conversation(site)
    found, easy = questions["found"], questions["easy"]
    surveys.do_answer_survey(patron_id=conversation.patron_id, conversation_id=conversation.pk,
                             answers={easy.pk: 2})
    good = {easy.pk: 4} if name != "easy" else {found.pk: "yes"}
    with pytest.raises(ServiceError) as refused:
        surveys.do_answer_survey(patron_id=conversation.patron_id, conversation_id=conversation.pk,
                                 answers={**good, questions[name].pk: value})
    assert refused.value.code == code
    assert refused.value.params["field"] == f"survey-{questions[name].pk}"
    assert refused.value.message
    assert stored(conversation.pk) == {easy.pk: 2}


def test_an_unknown_question_an_empty_survey_and_someone_elses_or_an_open_chat_are_refused(site, questions):
    conversation = closed_conversation(site)
    stranger = Patron.objects.create(site=site)
    open_one = Conversation.objects.create(patron=stranger, site=site, queue=site.default_queue, subject="?")
    for patron_id, conversation_id, answers, code in [
        (conversation.patron_id, conversation.pk, {999999: "yes"}, "unknown_survey_question"),
        (conversation.patron_id, conversation.pk, {}, "survey_empty"),
        (stranger.pk, conversation.pk, {questions["found"].pk: "yes"}, "not_found"),
        (conversation.patron_id, 999999, {questions["found"].pk: "yes"}, "not_found"),
        (stranger.pk, open_one.pk, {questions["found"].pk: "yes"}, "not_closed"),
    ]:
        with pytest.raises(ServiceError) as refused:
            surveys.do_answer_survey(patron_id=patron_id, conversation_id=conversation_id, answers=answers)
        assert refused.value.code == code
    assert SurveyAnswer.objects.count() == 0


@pytest.mark.parametrize("items", [
    [{"question": 1, "answer": "yes"}, {"question": 1, "answer": "no"}],
    [{"question": "1", "answer": "yes"}],
    [{"question": 1}],
    ["yes"],
    [{"question": True, "answer": "yes"}],
])
def test_malformed_answers_are_an_invalid_frame(items):
    with pytest.raises(ServiceError) as refused:
        surveys.parse_answers(items)
    assert (refused.value.code, refused.value.params["field"]) == ("invalid_frame", "answers")


# ---- in the widget, after the chat (the `survey` frame)


async def ended_chat(identity, token_for, librarian, close=True):
    patron, desk, conversation_id = await open_chat(librarian, token_for(identity), lang="en")
    if close:
        await desk.send({"type": "close", "conversation": conversation_id})
        while (await patron.receive_type("conversation"))["conversation"]["status"] != "closed":
            pass
    await desk.close()
    return patron, conversation_id


@pytest.mark.django_db(transaction=True)
async def test_the_patron_answers_the_survey_over_the_socket(identity, token_for, librarian, questions):
    from channels.db import database_sync_to_async

    found, easy, wish = (questions[name].pk for name in ("found", "easy", "wish"))
    patron, conversation_id = await ended_chat(identity, token_for, librarian)
    await patron.send({"type": "survey", "conversation": conversation_id,
                       "answers": [{"question": found, "answer": "partly"}, {"question": wish, "answer": " Bagus "}]})
    answered = await patron.receive_type("survey.answered")
    assert answered["conversation"] == conversation_id
    assert answered["answers"] == [{"question": found, "answer": "partly"}, {"question": wish, "answer": "Bagus"}]
    await patron.send({"type": "survey", "conversation": conversation_id,
                       "answers": [{"question": easy, "answer": 4}, {"question": found, "answer": "yes"}]})
    answered = await patron.receive_type("survey.answered")
    assert answered["answers"] == [{"question": found, "answer": "yes"}, {"question": easy, "answer": 4},
                                   {"question": wish, "answer": "Bagus"}]

    # A bad answer: an error naming the question, in the patron's language, and nothing changed.
    await patron.send({"type": "survey", "conversation": conversation_id,
                       "answers": [{"question": found, "answer": "no"}, {"question": easy, "answer": 9}]})
    error = await patron.receive_type("error")
    assert (error["code"], error["field"], error["ref"]) == ("invalid_survey_score", f"survey-{easy}", "survey")
    assert error["message"] == "Choose a value from 1 to 5."
    for frame, code in [({"answers": []}, "survey_empty"), ({"answers": "yes"}, "invalid_frame"), ({}, "invalid_frame"),
                        ({"answers": [{"question": found}]}, "invalid_frame")]:
        await patron.send({"type": "survey", "conversation": conversation_id, **frame})
        assert (await patron.receive_type("error"))["code"] == code
    assert await database_sync_to_async(stored)(conversation_id) == {found: "yes", easy: 4, wish: "Bagus"}
    await patron.close()


@pytest.mark.django_db(transaction=True)
async def test_only_a_closed_chat_of_ones_own_is_surveyed(identity, make_identity, token_for, librarian, questions):
    from channels.db import database_sync_to_async

    answers = [{"question": questions["found"].pk, "answer": "yes"}]
    patron, conversation_id = await ended_chat(identity, token_for, librarian, close=False)
    await patron.send({"type": "survey", "conversation": conversation_id, "answers": answers})
    assert (await patron.receive_type("error"))["code"] == "not_closed"
    stranger = await patron_socket(token_for(make_identity()))
    await stranger.send({"type": "survey", "conversation": conversation_id, "answers": answers})
    assert (await stranger.receive_type("error"))["code"] == "not_found"
    assert await database_sync_to_async(stored)(conversation_id) == {}
    await patron.close()
    await stranger.close()


def test_the_chat_panel_shows_the_questions_in_the_patrons_language(client, site, questions):
    page = client.get(f"/widget/sites/{site.key}/chat/?lang=en").content.decode()
    assert 'id="survey-form"' in page and "widgets/survey.js" in page
    assert "How easy was it?" in page and "Did you find the answer?" in page and "Old" not in page
    assert '<legend>Did you find the answer?</legend>' in page
    assert f'for="survey-{questions["found"].pk}-partly">Partly</label>' in page
    indonesian = client.get(f"/widget/sites/{site.key}/chat/?lang=id").content.decode()
    assert "Seberapa mudah?" in indonesian and "How easy was it?" not in indonesian


def test_a_site_without_questions_shows_no_survey(client, site):
    page = client.get(f"/widget/sites/{site.key}/chat/").content.decode()
    assert 'id="survey-form"' not in page and "widgets/survey.js" not in page


# ---- the link in an offline answer's e-mail


def test_the_link_share_follows_the_sites_percentage_the_same_way_every_time(site):
    conversations = [closed_conversation(site, offline=True) for _ in range(200)]
    for percent, expected in ((0, 0), (100, 200)):
        site.offline_survey_percent = percent
        site.save()
        assert sum(surveys.offline_link_due(c) for c in Conversation.objects.select_related("site")) == expected
    site.offline_survey_percent = 20
    site.save()
    chosen = [c.pk for c in Conversation.objects.select_related("site") if surveys.offline_link_due(c)]
    assert chosen == [c.pk for c in Conversation.objects.select_related("site") if surveys.offline_link_due(c)]
    assert 20 <= len(chosen) <= 60  # about a fifth of 200
    site.offline_survey_percent = 50  # a larger share keeps every conversation the smaller one had
    site.save()
    assert set(chosen) <= {c.pk for c in Conversation.objects.select_related("site") if surveys.offline_link_due(c)}
    assert len(conversations) == 200


def answer_offline(site, identity, librarian, capture, language="en"):
    conversation, _message, _created = start_chat(
        identity=identity, text="Do you lend e-books?", client_id="q-1", name="Rina", email="rina@example.org",
        language=language, offline=True)
    with capture(execute=True):
        lifecycle.do_answer_offline_question(user=librarian, conversation_id=conversation.pk, text="Yes, in iPusnas.")
    return conversation


def survey_link(body):
    found = re.search(r"http://testserver(/survey/[^/\s]+/)", body)
    return found.group(1) if found else None


def test_an_offline_answer_carries_the_link_when_the_site_says_so(
        site, identity, make_identity, librarian, questions, settings, django_capture_on_commit_callbacks):
    settings.PUBLIC_URL = "http://testserver/"
    site.offline_survey_percent = 100
    site.save()
    conversation = answer_offline(site, identity, librarian, django_capture_on_commit_callbacks)
    [sent] = mail.outbox
    link = survey_link(sent.body)
    assert link and "Did this answer help you?" in sent.body
    assert f'href="http://testserver{link}"' in sent.alternatives[0][0]
    assert surveys.conversation_from_link(link.split("/")[2]) == conversation

    site.offline_survey_percent = 0
    site.save()
    answer_offline(site, make_identity(), librarian, django_capture_on_commit_callbacks)
    assert survey_link(mail.outbox[1].body) is None and "/survey/" not in mail.outbox[1].alternatives[0][0]


# ---- the public survey page


def page_url(conversation):
    return f"/survey/{surveys.link_token(conversation.pk)}/"


def test_the_page_shows_the_rating_and_the_questions_in_the_patrons_language(client, site, questions):
    conversation = closed_conversation(site, language="en", subject="Do you lend e-books?")
    page = client.get(page_url(conversation))
    assert page.status_code == 200 and page["Content-Language"] == "en"
    html = page.content.decode()
    assert '<html lang="en">' in html and "Perpustakaan Kota" in html and "Do you lend e-books?" in html
    assert "How did we do?" in html and 'name="rating"' in html and 'name="comment"' in html
    assert "Did you find the answer?" in html and "What could we do better?" in html and "Old" not in html
    indonesian = client.get(page_url(closed_conversation(site, language="id"))).content.decode()
    assert '<html lang="id">' in indonesian and "Apakah Anda menemukan jawabannya?" in indonesian


def test_sending_the_page_stores_the_rating_and_answers_and_sending_again_replaces_them(client, site, questions):
    conversation = closed_conversation(site, language="en")
    found, easy, wish = questions["found"], questions["easy"], questions["wish"]
    url = page_url(conversation)
    sent = client.post(url, {"rating": "4", "comment": " Quick. ", f"q-{found.pk}": "yes", f"q-{easy.pk}": "5",
                             f"q-{wish.pk}": "  "}, follow=True)
    assert sent.redirect_chain == [(url, 302)]
    assert "Thank you! Your answers have been saved." in sent.content.decode()
    conversation.refresh_from_db()
    assert (conversation.rating, conversation.rating_comment) == (4, "Quick.")
    assert stored(conversation.pk) == {found.pk: "yes", easy.pk: 5}
    html = client.get(url).content.decode()  # what was given shows again
    assert f'value="yes" id="survey-{found.pk}-yes" checked' in html and 'id="rating-4" checked' in html
    client.post(url, {"rating": "2", f"q-{found.pk}": "no", f"q-{wish.pk}": "More e-books"})
    conversation.refresh_from_db()
    assert (conversation.rating, conversation.rating_comment) == (2, "")
    assert stored(conversation.pk) == {found.pk: "no", easy.pk: 5, wish.pk: "More e-books"}


def test_answers_alone_or_a_rating_alone_are_enough(client, site, questions):
    conversation = closed_conversation(site)
    assert client.post(page_url(conversation), {f"q-{questions['easy'].pk}": "3"}).status_code == 302
    assert client.post(page_url(conversation), {"rating": "5"}).status_code == 302
    conversation.refresh_from_db()
    assert conversation.rating == 5 and stored(conversation.pk) == {questions["easy"].pk: 3}


@pytest.mark.parametrize(("form", "message"), [
    ({}, "Choose a rating or answer at least one question."),
    ({"comment": "Only a comment"}, "Choose a rating from 1 to 5."),
    ({"rating": "6", "q-found": "yes"}, "Choose a rating from 1 to 5."),
    ({"rating": "abc"}, "Choose a rating from 1 to 5."),
    ({"rating": "3", "comment": "x" * 1001}, "The comment is too long (at most 1000 characters)."),
    ({"rating": "3", "q-found": "maybe"}, "Answer yes, partly or no."),
    ({"rating": "3", "q-easy": "7"}, "Choose a value from 1 to 5."),
    ({"rating": "3", "q-easy": "lots"}, "Choose a value from 1 to 5."),
    ({"rating": "3", "q-wish": "x" * 1001}, "An answer is too long (at most 1000 characters)."),
    ({"rating": "3", "q-old": "yes"}, "That question is not part of this survey (any more)."),
    ({"rating": "3", "q-elsewhere": "2"}, "That question is not part of this survey (any more)."),
    ({"rating": "3", "q-999999": "yes"}, "That question is not part of this survey (any more)."),
])
def test_invalid_answers_on_the_page_are_refused_with_a_message_and_change_nothing(
        client, site, questions, form, message):
    conversation = closed_conversation(site, language="en", rating=1, rating_comment="Before")
    SurveyAnswer.objects.create(conversation=conversation, question=questions["easy"], score=1)
    posted = {re.sub(r"^q-([a-z]+)$", lambda m: f"q-{questions[m.group(1)].pk}", k): v for k, v in form.items()}
    refused = client.post(page_url(conversation), posted)
    assert refused.status_code == 400
    html = refused.content.decode()
    assert f'<p class="alert alert-error" role="alert" id="survey-error">{message}</p>' in html
    conversation.refresh_from_db()
    assert (conversation.rating, conversation.rating_comment) == (1, "Before")
    assert stored(conversation.pk) == {questions["easy"].pk: 1}


def test_bad_tampered_and_expired_links_say_so_and_change_nothing(client, site, questions, monkeypatch):
    conversation = closed_conversation(site, language="en")
    token = surveys.link_token(conversation.pk)
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    other_salt = signing.dumps(conversation.pk)  # a valid signature, for something else
    for bad in ("nonsense", tampered, other_salt, surveys.link_token(999999)):
        # A link that names no conversation has no patron's language: the browser's is used.
        for response in (client.get(f"/survey/{bad}/", HTTP_ACCEPT_LANGUAGE="en"),
                         client.post(f"/survey/{bad}/", {"rating": "5"}, HTTP_ACCEPT_LANGUAGE="en")):
            assert response.status_code == 404
            assert "This survey link is not valid." in response.content.decode()
    real_time = time.time
    monkeypatch.setattr(signing.time, "time", lambda: real_time() - 31 * 24 * 3600)
    old = surveys.link_token(conversation.pk)
    monkeypatch.setattr(signing.time, "time", real_time)
    for response in (client.get(f"/survey/{old}/", HTTP_ACCEPT_LANGUAGE="en"),
                     client.post(f"/survey/{old}/", {"rating": "5"}, HTTP_ACCEPT_LANGUAGE="en")):
        assert response.status_code == 410
        assert "This survey link has expired." in response.content.decode()
    conversation.refresh_from_db()
    assert conversation.rating is None and SurveyAnswer.objects.count() == 0


def test_a_link_a_month_old_still_works(client, site, monkeypatch):
    conversation = closed_conversation(site)
    real_time = time.time
    monkeypatch.setattr(signing.time, "time", lambda: real_time() - 29 * 24 * 3600)
    token = surveys.link_token(conversation.pk)
    monkeypatch.setattr(signing.time, "time", real_time)
    assert client.get(f"/survey/{token}/").status_code == 200


def test_the_page_follows_a_language_the_visitor_chose(client, site, questions):
    conversation = closed_conversation(site, language="id")
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert "Did you find the answer?" in client.get(page_url(conversation)).content.decode()


# ---- the admin: questions on the widget site


def site_form(site, questions=(), percent="20"):
    data = {"name": site.name, "library": site.library_id, "key": site.key, "allowed_origins": site.allowed_origins,
            "default_queue": site.default_queue_id, "greeting": site.greeting, "is_active": "on",
            "name_field": site.name_field, "email_field": site.email_field, "card_field": site.card_field,
            "queue_field": site.queue_field, "age_group_field": site.age_group_field, "privacy_notice": "",
            "invite_after": "",
            "offline_survey_percent": percent,
            "survey_questions-TOTAL_FORMS": str(len(questions)), "survey_questions-INITIAL_FORMS": "0",
            "survey_questions-MIN_NUM_FORMS": "0", "survey_questions-MAX_NUM_FORMS": "1000"}
    for n, question in enumerate(questions):
        data.update({f"survey_questions-{n}-{name}": value for name, value in question.items()})
    return data


def question_form(position, *, active=True, text_id="Pertanyaan", text_en="Question", kind="scale"):
    form = {"position": str(position), "kind": kind, "text_id": text_id, "text_en": text_en}
    return {**form, "is_active": "on"} if active else form


def test_staff_set_up_to_five_active_questions_on_the_site(admin_client, site):
    url = f"/admin/widgets/site/{site.pk}/change/"
    page = admin_client.get(url).content.decode()
    assert 'name="offline_survey_percent"' in page and "survey_questions-TOTAL_FORMS" in page

    too_many = admin_client.post(url, site_form(site, [question_form(n) for n in range(6)]), HTTP_ACCEPT_LANGUAGE="en")
    assert too_many.status_code == 200
    assert "A site asks at most 5 active questions: make one inactive first." in too_many.content.decode()
    assert SurveyQuestion.objects.count() == 0

    one_language = admin_client.post(url, site_form(site, [question_form(1, text_en="  ")]))
    assert one_language.status_code == 200 and SurveyQuestion.objects.count() == 0

    too_much = admin_client.post(url, site_form(site, [question_form(1)], percent="101"))
    assert too_much.status_code == 200 and SurveyQuestion.objects.count() == 0

    saved = admin_client.post(url, site_form(site, [*(question_form(n) for n in range(5)),
                                                     question_form(9, active=False)], percent="35"))
    assert saved.status_code == 302
    assert SurveyQuestion.objects.filter(site=site, is_active=True).count() == 5
    site.refresh_from_db()
    assert site.offline_survey_percent == 35


# ---- the figures for the reports


def test_survey_results_against_a_hand_counted_fixture(site, questions, django_assert_max_num_queries):
    found, easy, wish, old = (questions[name] for name in ("found", "easy", "wish", "old"))
    other_site = questions["elsewhere"].site
    extra = SurveyQuestion.objects.create(site=site, position=5, kind=Kind.SCALE, text_id="Lagi", text_en="Again")
    now = timezone.now()
    chats = [closed_conversation(site) for _ in range(5)]
    outside = closed_conversation(other_site)  # left out of the report below
    rows = [  # (chat, question, value, minutes ago)
        (0, found, "yes", 50), (1, found, "yes", 40), (2, found, "partly", 30),
        (0, easy, 5, 50), (1, easy, 4, 40), (2, easy, 4, 30), (3, easy, 1, 20),
        (0, wish, "Lebih banyak komik", 50), (2, wish, "Buka Minggu", 30), (3, wish, "Ramah sekali", 20),
        (4, old, "no", 10),
    ]
    for chat, question, value, ago in rows:
        fields = {"choice": value} if isinstance(value, str) and question.kind == Kind.YES_PARTLY_NO else (
            {"score": value} if question.kind == Kind.SCALE else {"text": value})
        SurveyAnswer.objects.create(conversation=chats[chat], question=question,
                                    answered_at=now - timedelta(minutes=ago), **fields)
    SurveyAnswer.objects.create(conversation=outside, question=questions["elsewhere"], score=5)

    with django_assert_max_num_queries(3):
        results = surveys.survey_results(Conversation.objects.filter(site=site), texts=2)
    by_question = {r.question.pk: r for r in results}
    assert [r.question.pk for r in results] == [found.pk, easy.pk, wish.pk, old.pk, extra.pk]
    assert questions["elsewhere"].pk not in by_question

    assert by_question[found.pk].counts == {"yes": 2, "partly": 1, "no": 0}
    assert (by_question[found.pk].answered, by_question[found.pk].average) == (3, None)
    assert by_question[easy.pk].counts == {1: 1, 2: 0, 3: 0, 4: 2, 5: 1}
    assert (by_question[easy.pk].answered, by_question[easy.pk].average) == (4, 3.5)
    assert by_question[easy.pk].kind == "scale" and by_question[easy.pk].question.site.name == "Perpustakaan Kota"
    texts = by_question[wish.pk]
    assert (texts.answered, texts.counts, texts.average) == (3, {}, None)
    assert [(t.conversation_id, t.text) for t in texts.texts] == [(chats[3].pk, "Ramah sekali"),
                                                                  (chats[2].pk, "Buka Minggu")]
    assert texts.texts[0].answered_at == now - timedelta(minutes=20)
    assert by_question[old.pk].counts == {"yes": 0, "partly": 0, "no": 1}  # inactive now, answered then
    assert (by_question[extra.pk].answered, by_question[extra.pk].average) == (0, None)

    two_chats = surveys.survey_results(Conversation.objects.filter(pk__in=[chats[0].pk, chats[3].pk]))
    assert {r.question.pk: r.answered for r in two_chats} == {found.pk: 1, easy.pk: 2, wish.pk: 2, extra.pk: 0}
    assert surveys.survey_results(Conversation.objects.none()) == []


def test_survey_results_for_a_queue_with_no_answers(site, questions):
    quiet = Queue.objects.create(name="Sepi", slug="sepi")
    assert surveys.survey_results(Conversation.objects.filter(queue=quiet)) == []
    closed_conversation(site)
    results = surveys.survey_results(Conversation.objects.all())
    assert [(r.question.pk, r.answered) for r in results] == [
        (questions[name].pk, 0) for name in ("found", "easy", "wish")]


def test_the_survey_page_is_reached_without_logging_in(site):
    assert Client().get(page_url(closed_conversation(site))).status_code == 200
