"""The site's survey in headless Chromium: a patron answers it in the widget after a chat (on a
phone-sized screen, by keyboard), and another opens the link of an offline answer's e-mail."""

import email
import re

from django.utils import timezone

from bench.common import free_port
from reference import surveys
from reference.models import Conversation, Message, Patron, SurveyAnswer, SurveyQuestion
from tests.browser import (
    MARKS,
    assert_accessible,
    claim_and_wait,
    close_chat,
    library,
    log_in,
    needs_axe,
    open_launcher,
    type_reply,
)

pytestmark = [*MARKS, needs_axe]

PHONE = {"width": 360, "height": 640}


def ask_questions(site):
    make = SurveyQuestion.objects.create
    return (make(site=site, position=1, kind="yes_partly_no", text_id="Apakah pertanyaan Anda terjawab?",
                 text_en="Was your question answered?"),
            make(site=site, position=2, kind="scale", text_id="Seberapa mudah bertanya di sini?",
                 text_en="How easy was it to ask here?"),
            make(site=site, position=3, kind="text", text_id="Apa yang bisa kami perbaiki?",
                 text_en="What could we do better?"))


def answers(conversation):
    return {a.question_id: surveys.answer_value(a) for a in SurveyAnswer.objects.filter(conversation=conversation)}


def widget_frame(page):
    page.wait_for_selector("#ruangtanya-widget iframe", state="attached")
    return next(f for f in page.frames if "/widget/sites/" in f.url)


def test_after_a_chat_the_patron_answers_the_survey_in_the_widget(library_page, new_page, logged_in_dashboard):
    from playwright.sync_api import expect

    site, _users, service, page_url = library_page(lang="en")
    answered, easy, wish = ask_questions(site)
    question = "Can I renew a loan by phone?"

    desk = logged_in_dashboard(service, "siti", "Siti")
    patron = new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    patron.goto(page_url)
    chat = open_launcher(patron)
    chat.locator("#q").fill(question)
    chat.locator("#start-form button[type=submit]").click()
    claim_and_wait(desk, chat, question)
    type_reply(desk, "Yes: call 0621-21000 with your card number.")
    expect(chat.locator(".msg-librarian")).to_contain_text("0621-21000", timeout=15000)
    close_chat(desk)

    # Under the rating: the site's questions, each a group with its legend (or a labelled text box).
    form = chat.locator("#survey-form")
    expect(form).to_be_visible(timeout=15000)
    expect(form.locator("legend")).to_have_text(["Was your question answered?",
                                                 "How easy was it to ask here? (1 = lowest, 5 = highest)"])
    expect(chat.locator(f"label[for=survey-{wish.pk}-text]")).to_have_text("What could we do better?")
    frame = widget_frame(patron)
    assert frame.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]

    # Nothing chosen yet: said so, nothing sent.
    form.locator("button[type=submit]").click()
    expect(chat.locator("#survey-status")).to_have_text("Answer at least one question.")

    # The keyboard alone: arrows move within a radio group.
    chat.locator(f"#survey-{answered.pk}-yes").focus()
    chat.locator(f"#survey-{answered.pk}-yes").press("ArrowRight")
    expect(chat.locator(f"#survey-{answered.pk}-partly")).to_be_checked()
    chat.locator(f"#survey-{easy.pk}-1").focus()
    for _ in range(3):
        patron.keyboard.press("ArrowRight")
    expect(chat.locator(f"#survey-{easy.pk}-4")).to_be_checked()
    chat.locator(f"#survey-{wish.pk}-text").fill("Open on Sundays, please.")

    # A question staff withdrew meanwhile: the server refuses, the message says why, the question is marked.
    SurveyQuestion.objects.filter(pk=wish.pk).update(is_active=False)
    form.locator("button[type=submit]").focus()
    patron.keyboard.press("Enter")
    expect(chat.locator("#survey-status")).to_have_text("That question is not part of this survey (any more).",
                                                        timeout=15000)
    expect(chat.locator(f"#survey-{wish.pk}")).to_have_class(re.compile(r"\binvalid\b"))
    expect(chat.locator(f"#survey-{wish.pk}-text")).to_be_focused()
    assert_accessible(frame, "the widget's survey with an answer refused")
    conversation = Conversation.objects.get()
    assert answers(conversation) == {}

    SurveyQuestion.objects.filter(pk=wish.pk).update(is_active=True)
    form.locator("button[type=submit]").scroll_into_view_if_needed()
    form.locator("button[type=submit]").click()
    expect(chat.locator("#survey-status")).to_have_text("Thank you for your answers!", timeout=15000)
    expect(chat.locator(f"#survey-{wish.pk}")).not_to_have_class(re.compile(r"\binvalid\b"))
    assert_accessible(frame, "the widget's survey once answered")
    assert answers(conversation) == {answered.pk: "partly", easy.pk: 4, wish.pk: "Open on Sundays, please."}
    box = form.locator("button[type=submit]").bounding_box()
    assert box["x"] + box["width"] <= PHONE["width"]


def left_offline(site, question, language="en"):
    """A question left while nobody was on duty, as the widget leaves it (closed, offline, seq 1)."""
    patron = Patron.objects.create(site=site, name="Rina", email="rina@example.org", language=language)
    conversation = Conversation.objects.create(
        patron=patron, site=site, queue=site.default_queue, subject=question, status=Conversation.Status.CLOSED,
        closed_at=timezone.now(), is_offline=True, last_seq=1)
    Message.objects.create(conversation=conversation, seq=1, role="patron", text=question, author_name="Rina")
    return conversation


def test_the_link_in_an_offline_answer_opens_the_survey(live_daphne, django_user_model, new_page, tmp_path):
    from playwright.sync_api import expect

    site, _users = library(django_user_model)
    answered, easy, _wish = ask_questions(site)
    site.offline_survey_percent = 100
    site.save()
    conversation = left_offline(site, "Do you lend e-readers?")
    port = free_port()
    mailbox = tmp_path / "mail"
    service = live_daphne({"PUBLIC_URL": f"http://127.0.0.1:{port}", "EMAIL_FILE_PATH": str(mailbox),
                           "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend"}, port=port)

    # The librarian answers on the offline-questions page; the e-mail carries the survey link.
    desk = log_in(new_page(), service, "siti")
    desk.goto(f"{service}/staff/offline/")
    desk.locator(f"#answer-{conversation.pk}").fill("Yes, for two weeks.")
    desk.locator(".answer-form button[type=submit]").click()
    expect(desk.locator(".notice-success")).to_be_visible(timeout=15000)
    [sent] = [email.message_from_bytes(p.read_bytes()) for p in mailbox.iterdir()]
    text = next(part.get_payload(decode=True).decode() for part in sent.walk()
                if part.get_content_type() == "text/plain")
    link = re.search(rf"{re.escape(service)}/survey/\S+/", text).group(0)

    page = new_page(viewport=PHONE)
    page.goto(link)
    expect(page.locator("h1")).to_have_text("Your opinion of Perpustakaan Kota")
    expect(page.locator("legend")).to_have_text(["How did we do? (1 = poor, 5 = excellent)",
                                                 "Was your question answered?",
                                                 "How easy was it to ask here? (1 = lowest, 5 = highest)"])
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    assert_accessible(page, "the survey page")

    page.locator("button[type=submit]").click()  # nothing chosen
    expect(page.locator("#survey-error")).to_have_text("Choose a rating or answer at least one question.")
    assert_accessible(page, "the survey page with an error")

    page.locator("#rating-1").focus()
    for _ in range(4):
        page.keyboard.press("ArrowRight")
    expect(page.locator("#rating-5")).to_be_checked()
    page.locator("#rating-comment").fill("Very helpful.")
    page.locator(f"label[for=survey-{answered.pk}-yes]").click()
    page.locator(f"label[for=survey-{easy.pk}-5]").click()
    page.locator("button[type=submit]").click()
    expect(page.locator(".survey-done")).to_have_text("Thank you! Your answers have been saved.")
    expect(page.locator("#rating-5")).to_be_checked()
    assert_accessible(page, "the survey page once sent")
    conversation.refresh_from_db()
    assert (conversation.rating, conversation.rating_comment) == (5, "Very helpful.")
    assert answers(conversation) == {answered.pk: "yes", easy.pk: 5}
