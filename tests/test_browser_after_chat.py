"""Attachments both ways, and the rating and transcript email after a chat, in headless Chromium."""

import email
import pathlib

from reference.models import Attachment, Conversation
from tests import files
from tests.browser import MARKS, claim_and_wait, close_chat, open_launcher, type_reply

pytestmark = MARKS


def open_chat(new_page, page_url, question, email_address=""):
    patron = new_page()
    patron.goto(page_url)
    chat = open_launcher(patron)
    chat.locator("#q").fill(question)
    chat.locator("#name").fill("Rina")
    if email_address:
        chat.locator("#email").fill(email_address)
    chat.locator("#start-form button[type=submit]").click()
    return patron, chat


def test_files_go_both_ways_and_show_inline_or_as_cards(library_page, tmp_path, new_page, logged_in_dashboard):
    from playwright.sync_api import expect

    # Short-lived links, so that renewing them is seen within the test.
    site, _users, service, page_url = library_page(
        lang="en", daphne_env={"MEDIA_ROOT": str(tmp_path), "RT_ATTACHMENT_LINK_MAX_AGE": "60"})
    question = "Which edition is this?"

    desk = logged_in_dashboard(service, "siti", "Siti")
    patron, chat = open_chat(new_page, page_url, question)
    claim_and_wait(desk, chat, question)

    # The patron sends a photo: shown inline on both sides, alt text = its name.
    expect(chat.locator("#attach-input")).to_be_attached()
    chat.locator("#attach-input").set_input_files(
        {"name": "cover.png", "mimeType": "image/png", "buffer": files.png(40, 30)})
    mine = chat.locator(".msg-patron img[alt='cover.png']")
    expect(mine).to_have_count(1, timeout=15000)
    expect(chat.locator(".msg-patron.pending")).to_have_count(0, timeout=15000)  # acknowledged
    theirs = desk.locator(".msg-patron img[alt='cover.png']")
    expect(theirs).to_have_count(1, timeout=15000)
    expect(theirs).to_have_js_property("naturalWidth", 40, timeout=15000)  # the link served the image

    # A program dressed up as a picture is refused, with a message, and nothing is sent.
    chat.locator("#attach-input").set_input_files(
        {"name": "holiday.png", "mimeType": "image/png", "buffer": files.EXE})
    expect(chat.locator("#alert-text")).to_have_text(
        "Only images (JPEG, PNG, GIF, WebP) and PDF files can be sent.", timeout=15000)
    expect(chat.locator(".msg-patron")).to_have_count(2)  # the question and the photo

    # The librarian sends a PDF: a card with its name and size, linking to the file.
    desk.locator("#dash-attach-input").set_input_files(
        {"name": "editions.pdf", "mimeType": "application/pdf", "buffer": files.pdf()})
    expect(desk.locator(".msg-librarian .attachment-name")).to_have_text("editions.pdf", timeout=15000)
    card = chat.locator(".msg-librarian a.attachment-file")
    expect(card).to_contain_text("editions.pdf", timeout=15000)
    expect(card.locator(".attachment-size")).to_have_text(f"{len(files.pdf())} B")
    link = card.get_attribute("href")
    download = patron.request.get(service + link)
    assert download.status == 200
    assert download.headers["content-type"] == "application/pdf"
    assert download.body() == files.pdf()

    # Links about to expire are renewed on both sides (here: at once, as the tab is shown).
    patron.wait_for_timeout(1100)  # signatures carry whole seconds: the next one differs
    for page, selector in ((patron.frames[1], ".msg-patron a.attachment"),
                           (desk, ".msg-librarian a.attachment")):
        before = page.locator(selector).get_attribute("href")
        page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
        expect(page.locator(selector)).not_to_have_attribute("href", before, timeout=15000)
        assert patron.request.get(service + page.locator(selector).get_attribute("href")).status == 200

    close_chat(desk)
    expect(chat.locator("#ended")).to_be_visible(timeout=15000)
    desk.goto(f"{service}/staff/transcripts/")
    desk.locator("tr").filter(has_text=question).locator("a[href*='/staff/transcripts/']").click()
    expect(desk.locator(".msg-attachment a")).to_have_text(["cover.png", "editions.pdf"])
    assert sorted(Attachment.objects.values_list("name", flat=True)) == ["cover.png", "editions.pdf"]
    assert Attachment.objects.filter(message__isnull=True).count() == 0


def test_after_the_chat_the_patron_rates_it_and_gets_the_transcript_by_email(
        library_page, tmp_path, new_page, logged_in_dashboard):
    from playwright.sync_api import expect

    mailbox = tmp_path / "mail"
    site, _users, service, page_url = library_page(
        lang="en", daphne_env={"EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
                               "EMAIL_FILE_PATH": str(mailbox)})
    question = "Do you have audio books?"

    desk = logged_in_dashboard(service, "siti", "Siti")
    patron, chat = open_chat(new_page, page_url, question, email_address="rina@example.org")
    claim_and_wait(desk, chat, question)
    type_reply(desk, "Yes, in the app of the library.")
    expect(chat.locator(".msg-librarian")).to_contain_text("in the app", timeout=15000)
    close_chat(desk)

    # The rating is a radio group: chosen with the keyboard alone.
    expect(chat.locator("#after-chat")).to_be_visible(timeout=15000)
    expect(chat.locator("#rate-form legend")).to_contain_text("How did we do?")
    chat.locator("#rate-form button[type=submit]").click()  # nothing chosen yet
    expect(chat.locator("#rate-status")).to_have_text("Choose a rating from 1 to 5.")
    chat.locator("#rating-1").focus()
    chat.locator("#rating-1").press("ArrowRight")
    chat.locator("#rating-2").press("ArrowRight")
    chat.locator("#rating-3").press("ArrowRight")
    expect(chat.locator("#rating-4")).to_be_checked()
    chat.locator("#rate-comment").fill("Quick and kind.")
    chat.locator("#rate-form button[type=submit]").click()
    expect(chat.locator("#rate-status")).to_have_text("Thank you for your rating!", timeout=15000)

    # The address typed before the chat is filled in; a bad one is refused by the server.
    expect(chat.locator("#transcript-email")).to_have_value("rina@example.org")
    patron_frame = patron.frames[1]
    patron_frame.evaluate("document.getElementById('transcript-email').type = 'text'")
    chat.locator("#transcript-email").fill("rina@")
    chat.locator("#transcript-form button[type=submit]").click()
    expect(chat.locator("#transcript-status")).to_have_text("That email address does not look right.",
                                                             timeout=15000)
    chat.locator("#transcript-email").fill("rina@example.org")
    chat.locator("#transcript-form button[type=submit]").click()
    expect(chat.locator("#transcript-status")).to_have_text(
        "The transcript is on its way to rina@example.org.", timeout=15000)

    desk.goto(f"{service}/staff/transcripts/")
    expect(desk.locator("tr").filter(has_text=question).locator("td.rating")).to_have_text("4 of 5")

    conversation = Conversation.objects.get()
    assert (conversation.rating, conversation.rating_comment) == (4, "Quick and kind.")
    [sent] = [email.message_from_bytes(p.read_bytes()) for p in pathlib.Path(mailbox).iterdir()]
    assert sent["To"] == "rina@example.org"
    assert sent["Subject"] == "Your chat with Perpustakaan Kota"
    parts = {part.get_content_type(): part.get_payload(decode=True).decode() for part in sent.walk()
             if not part.is_multipart()}
    assert question in parts["text/plain"] and "Yes, in the app of the library." in parts["text/plain"]
    assert "Your rating: 4 of 5" in parts["text/plain"]
    assert "<table" in parts["text/html"] and question in parts["text/html"]
