"""Internal notes and patron history on the dashboard, in headless Chromium against a live daphne:
a note reaches the colleague who takes the chat over (never the patron), and a returning patron's
earlier chat opens in the chat pane."""

from datetime import timedelta

from django.utils import timezone

from reference.models import Conversation, InternalNote, Message, Patron
from tests.browser import MARKS, ask, assert_accessible, claim, library, needs_axe

pytestmark = MARKS

ABOUT_CHAT = "Checked the catalogue: the 1972 volumes are in the stacks."
ABOUT_PATRON = "Prefers answers by email; uses a screen reader."



def add_note(desk, text, about="conversation"):
    from playwright.sync_api import expect

    if not desk.locator("#notes-panel").evaluate("details => details.open"):
        desk.click("#notes-summary")
    desk.fill("#note-text", text)
    desk.check(f"input[name='note-about'][value='{about}']")
    desk.click("#note-send")
    expect(desk.locator("#note-status")).to_have_text("Note saved.", timeout=15000)
    expect(desk.locator("#notes-list")).to_contain_text(text)
    expect(desk.locator("#note-text")).to_have_value("")


@needs_axe
def test_a_note_is_seen_by_the_colleague_who_takes_the_chat_and_never_by_the_patron(
        live_daphne, host_page, django_user_model, new_page, logged_in_dashboard):
    from playwright.sync_api import expect

    origin, write_page = host_page
    site, users = library(django_user_model, origin, librarians=(("siti", "Siti"), ("budi", "Budi")))
    service = live_daphne()
    page_url = write_page(service, site.key, lang="en")
    siti, budi = logged_in_dashboard(service, "siti", "Siti"), logged_in_dashboard(service, "budi", "Budi")
    chat = ask(new_page, page_url, "Do you keep old newspapers?")
    claim(siti, "old newspapers")
    expect(chat.locator("#status-text")).to_contain_text("Siti", timeout=15000)

    expect(siti.locator("#notes-panel")).to_contain_text("Only librarians see notes")
    siti.click("#notes-summary")
    siti.click("#note-send")  # nothing typed: said so, nothing sent
    expect(siti.locator("#note-status")).to_have_text("Write a note first.")
    add_note(siti, "<b>" + ABOUT_CHAT)
    add_note(siti, ABOUT_PATRON, about="patron")
    expect(siti.locator("#notes-count")).to_have_text("2")
    expect(siti.locator("#notes-list .note-item").first.locator("b")).to_have_count(0)  # text, not markup
    assert_accessible(siti, "the dashboard with a chat open and its notes")

    siti.click("#transfer-button")
    siti.select_option("#transfer-target", f"l:{users['budi'].pk}")
    siti.click("#transfer-send")
    budi.locator(".offer").get_by_role("button", name="Accept").click()
    expect(budi.locator("#capacity-held")).to_have_text("1", timeout=15000)
    notes = budi.locator("#notes-list .note-item")
    expect(notes).to_have_count(2, timeout=15000)
    expect(budi.locator("#notes-panel")).to_have_attribute("open", "")  # open: there is something to read
    expect(notes.nth(0)).to_contain_text("<b>" + ABOUT_CHAT)
    expect(notes.nth(0)).to_contain_text("Siti")
    expect(notes.nth(1)).to_contain_text("About the patron")
    add_note(budi, "Sent the scan by email.")
    budi.fill("#composer-input", "I have taken over; the scan is on its way.")
    budi.locator("#composer-input").press("Enter")
    expect(chat.locator(".msg-librarian")).to_contain_text("scan is on its way", timeout=15000)

    patron_text = chat.locator("body").inner_text()
    for secret in (ABOUT_CHAT, ABOUT_PATRON, "Sent the scan by email."):
        assert secret not in patron_text
    assert InternalNote.objects.count() == 3


@needs_axe
def test_a_returning_patrons_earlier_chat_opens_in_the_chat_pane(library_page, new_page, logged_in_dashboard):
    from playwright.sync_api import expect

    site, users, service, page_url = library_page(lang="en")
    siti = users["siti"]
    before = Patron.objects.create(site=site, name="Rina", email="rina@example.org")
    earlier = Conversation.objects.create(
        patron=before, site=site, queue=site.default_queue, subject="Are you open during Lebaran?",
        status=Conversation.Status.CLOSED, librarian=siti, rating=5, rating_comment="Very <em>quick</em>, thank you!",
        closed_at=timezone.now(), last_seq=2)
    Message.objects.create(conversation=earlier, seq=1, role="patron", author_name="Rina",
                           text="Are you open during Lebaran?")
    Message.objects.create(conversation=earlier, seq=2, role="librarian", author=siti, author_name="Siti",
                           text="Closed for three days; the book drop stays open.")
    Conversation.objects.filter(pk=earlier.pk).update(created_at=timezone.now() - timedelta(days=3))
    InternalNote.objects.create(patron=before, conversation=earlier, author=siti, author_name="Siti",
                                text="Pointed her to the announcement page.")

    desk = logged_in_dashboard(service)
    ask(new_page, page_url, "Can I renew my books online?", email="Rina@Example.org")
    claim(desk, "renew my books")
    summary = desk.locator("#history-summary")
    expect(summary).to_have_text("Earlier chats (1)", timeout=15000)
    summary.click()
    item = desk.locator("#history-list .history-open")
    expect(item).to_contain_text("Are you open during Lebaran?")
    expect(item).to_contain_text("Siti")
    assert_accessible(desk, "the dashboard with a chat open, its notes and the patron's earlier chats")

    item.click()
    view = desk.locator("#earlier-view")
    expect(view.locator("#earlier-messages .msg")).to_have_count(2, timeout=15000)
    expect(view).to_contain_text("the book drop stays open")
    expect(view.locator("#earlier-notes")).to_contain_text("Pointed her to the announcement page.")
    expect(view.locator("#earlier-comment")).to_contain_text("Very <em>quick</em>, thank you!")
    expect(desk.locator("#earlier-title")).to_be_focused()
    expect(desk.locator("#composer")).to_be_hidden()  # read only
    assert_accessible(desk, "an earlier chat open in the chat pane")

    desk.click("#earlier-back")
    expect(view).to_be_hidden()
    expect(item).to_be_focused()
    item.press("Enter")  # by keyboard, and Escape to go back
    expect(desk.locator("#earlier-title")).to_be_focused()
    desk.keyboard.press("Escape")
    expect(view).to_be_hidden()
    expect(item).to_be_focused()
    expect(desk.locator("#composer-input")).to_be_visible()
    expect(desk.locator("#messages")).to_contain_text("renew my books")
