"""Canned replies on the dashboard, in headless Chromium against a live daphne: "/" in the reply box,
the management dialog, and axe-core on both."""

import re

from reference.models import CannedReply, Library
from tests.browser import MARKS, ask, assert_accessible, claim_and_wait, needs_axe

pytestmark = [*MARKS, needs_axe]



def test_slash_filters_inserts_and_the_patron_gets_it_in_their_language(library_page, host_page, new_page,
                                                                          logged_in_dashboard):
    from playwright.sync_api import expect

    site, users, service, page_url = library_page(lang="en")
    siti = users["siti"]
    hours = CannedReply.objects.create(
        library=Library.objects.get(), owner=siti, title="Opening hours",
        text_id="Halo {patron_name}, jam buka hari ini: {opening_hours_today}.",
        text_en="Hello {patron_name}, our hours today: {opening_hours_today}.")
    CannedReply.objects.create(library=Library.objects.get(), scope="library", title="Renewals",
                               text_id="Perpanjang di katalog.", text_en="Renew in the catalogue.")

    desk = logged_in_dashboard(service)
    chat = ask(new_page, page_url, "When are you open today?", name="Rina")
    claim_and_wait(desk, chat, "open today")
    box = desk.locator("#composer-input")
    expect(desk.locator("#canned-hint")).to_be_visible()

    box.click()
    desk.keyboard.type("/")
    picker = desk.locator("#canned-picker")
    options = desk.locator("#canned-listbox [role=option]")
    expect(picker).to_be_visible()
    expect(options).to_have_count(2, timeout=15000)
    expect(options.first).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-activedescendant", options.first.get_attribute("id"))
    assert_accessible(desk.main_frame, "the dashboard with the canned-reply picker open")

    desk.keyboard.press("ArrowDown")
    expect(options.nth(1)).to_have_attribute("aria-selected", "true")
    desk.keyboard.type("hours")
    expect(options).to_have_count(1)
    expect(options.first).to_contain_text("Hello Rina, our hours today: open all day.")
    desk.keyboard.press("Enter")
    expect(picker).to_be_hidden()
    expect(box).to_have_value("Hello Rina, our hours today: open all day.")
    expect(box).to_be_focused()
    desk.keyboard.type(" See you!")
    desk.keyboard.press("Enter")
    expect(chat.locator(".msg-librarian")).to_contain_text(
        "Hello Rina, our hours today: open all day. See you!", timeout=15000)
    hours.refresh_from_db()
    assert hours.usage_count == 1

    # Esc closes the list and keeps what was typed; Enter then sends nothing by surprise.
    desk.keyboard.type("/renew")
    expect(options).to_have_count(1)
    desk.keyboard.press("Escape")
    expect(picker).to_be_hidden()
    expect(box).to_have_value("/renew")
    desk.keyboard.type("al")
    expect(picker).to_be_hidden()
    expect(box).to_have_value("/renewal")

    # The shortcut hook on a draft: the list with its own search field, inserted at the caret.
    box.fill("Thanks! ")
    assert desk.evaluate("() => window.RuangTanyaDashboard.openCannedPicker()") is True
    search = desk.locator("#canned-picker-search")
    expect(search).to_be_focused()
    search.type("renew")
    expect(options).to_have_count(1)
    assert_accessible(desk.main_frame, "the dashboard with the canned-reply search open")
    desk.keyboard.press("Enter")
    expect(box).to_have_value("Thanks! Renew in the catalogue.")

    # A patron whose widget speaks Indonesian gets the Indonesian text.
    _origin, write_page = host_page
    indonesian_page = write_page(service, site.key, lang="id", name="id.html")
    indonesian = ask(new_page, indonesian_page, "Jam berapa buka?", name="Budi")
    claim_and_wait(desk, indonesian, "Jam berapa")
    box.click()
    desk.keyboard.type("/hours")
    expect(options).to_have_count(1, timeout=15000)
    desk.keyboard.press("Enter")
    expect(box).to_have_value(re.compile(r"^Halo Budi, jam buka hari ini: .+\.$"))
    desk.keyboard.press("Enter")
    expect(indonesian.locator(".msg-librarian")).to_contain_text("Halo Budi, jam buka hari ini:", timeout=15000)
    hours.refresh_from_db()
    assert hours.usage_count == 2


def test_the_dialog_creates_a_personal_reply_and_shows_errors_by_the_field(library_page, new_page,
                                                                            logged_in_dashboard):
    from playwright.sync_api import expect

    site, users, service, page_url = library_page()
    CannedReply.objects.create(library=Library.objects.get(), scope="library", title="Renewals",
                               text_id="Perpanjang di katalog.", text_en="Renew in the catalogue.", usage_count=4)
    desk = logged_in_dashboard(service)

    desk.click("#canned-manage")
    dialog = desk.locator("#canned-dialog")
    expect(dialog).to_be_visible()
    item = desk.locator("#canned-list .canned-item")
    expect(item).to_have_count(1, timeout=15000)
    expect(item.first.locator(".canned-edit")).to_have_count(0)  # shared: not Siti's to change
    assert_accessible(desk.main_frame, "the dashboard with the canned replies dialog open")

    desk.click("#canned-new")
    expect(desk.locator("#canned-title")).to_be_focused()
    desk.fill("#canned-title", "Salam")
    desk.fill("#canned-text-id", "Halo {nama}!")
    desk.fill("#canned-text-en", "Hello {patron_name}!")
    desk.click("#canned-save")
    error = desk.locator("#canned-error-text_id")
    expect(error).to_contain_text("{nama}")
    expect(desk.locator("#canned-text-id")).to_have_attribute("aria-invalid", "true")
    expect(desk.locator("#canned-text-id")).to_be_focused()
    assert not CannedReply.objects.filter(title="Salam").exists()
    assert_accessible(desk.main_frame, "the canned reply form with an error")

    desk.fill("#canned-text-id", "Halo {patron_name}!")
    desk.click("#canned-save")
    expect(item).to_have_count(2)
    expect(desk.locator("#canned-form")).to_be_hidden()
    saved = CannedReply.objects.get(title="Salam")
    assert (saved.scope, saved.owner, saved.text_id) == ("personal", users["siti"], "Halo {patron_name}!")

    mine = item.filter(has_text="Salam")
    mine.locator(".canned-delete").click()
    mine.locator(".canned-delete-yes").click()
    expect(item).to_have_count(1)
    assert not CannedReply.objects.filter(title="Salam").exists()
    desk.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(desk.locator("#canned-manage")).to_be_focused()
