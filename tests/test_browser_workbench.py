"""The whole workbench at once, in headless Chromium: a returning patron's chat open with the FAQ's
suggestions, notes, earlier chats and the assessment all shown, then the canned-reply picker, then
the transcript read later (where the librarian who held a chat can still assess it). axe-core
checks each state: the parts are tested alone in their own files, but a librarian sees them
together."""

from datetime import timedelta

from django.utils import timezone

from reference.faq import services as faq_services
from reference.models import Conversation, InternalNote, Message, Patron
from tests.browser import MARKS, ask, assert_accessible, claim, needs_axe

pytestmark = MARKS


@needs_axe
def test_the_dashboard_with_every_workbench_part_shown_passes_axe(library_page, new_page, logged_in_dashboard):
    from playwright.sync_api import expect

    faq_services.import_records([{"slug": "perpanjang", "language": "en", "question": "How do I renew my loans?",
                                  "answer": "Renew once for 7 days in the online catalogue.", "topics": ["loans"]}])
    site, users, service, page_url = library_page(lang="en")
    siti = users["siti"]
    before = Patron.objects.create(site=site, name="Rina", email="rina@example.org")
    earlier = Conversation.objects.create(
        patron=before, site=site, queue=site.default_queue, subject="Are you open during Lebaran?",
        status=Conversation.Status.CLOSED, librarian=siti, closed_at=timezone.now(), last_seq=1, rating=4)
    Message.objects.create(conversation=earlier, seq=1, role="patron", author_name="Rina",
                           text="Are you open during Lebaran?")
    Conversation.objects.filter(pk=earlier.pk).update(created_at=timezone.now() - timedelta(days=2))
    InternalNote.objects.create(patron=before, author=siti, author_name="Siti", text="Prefers short answers.")

    desk = logged_in_dashboard(service)
    ask(new_page, page_url, "How can I renew my loans online?", email="rina@example.org")
    claim(desk, "renew my loans")

    expect(desk.locator("#faq-suggestions")).to_contain_text("How do I renew my loans?", timeout=15000)
    expect(desk.locator("#history-summary")).to_have_text("Earlier chats (1)", timeout=15000)
    expect(desk.locator("#notes-count")).to_have_text("1")
    desk.click("#notes-summary")
    expect(desk.locator("#notes-list")).to_contain_text("Prefers short answers.")
    desk.click("#history-summary")
    expect(desk.locator("#history-list")).to_contain_text("Are you open during Lebaran?")
    desk.click("#assessment-toggle")
    expect(desk.locator("#assessment-body")).to_be_visible()
    assert_accessible(desk, "the dashboard with a chat open: FAQ suggestions, notes, earlier chats, assessment")

    desk.locator("#composer-input").type("/")
    expect(desk.locator("#canned-picker")).to_be_visible()
    assert_accessible(desk, "the dashboard with the canned-reply picker over the open chat")

    reader = new_page()
    reader.context.add_cookies(desk.context.cookies())
    reader.goto(f"{service}/staff/transcripts/{earlier.pk}/")
    expect(reader.locator("body")).to_contain_text("Are you open during Lebaran?")
    expect(reader.locator("#duty-bar")).to_be_visible(timeout=15000)
    assert_accessible(reader, "a transcript with its duty bar, notes, earlier chats and the assessment form")
    reader.get_by_label("4 · Several sources").check()  # Siti held it: she may still assess it here
    reader.get_by_role("button", name="Save assessment").click()
    expect(reader.get_by_role("status").filter(has_text="Assessment saved.")).to_be_visible()
    assert Conversation.objects.get(pk=earlier.pk).read_scale == 4
