"""Abuse limits and the librarian's block, as a patron and a librarian see them (issue 19)."""

from tests.browser import AXE, MARKS, assert_accessible, claim_and_wait, open_launcher

pytestmark = MARKS


def test_a_flooding_patron_is_told_to_wait_and_a_librarian_blocks_them(library_page, new_page, logged_in_dashboard):
    from playwright.sync_api import expect

    site, _users, service, page_url = library_page(
        lang="en", daphne_env={"RT_LIMIT_MESSAGES_PER_PATRON": "3/minute"})
    desk = logged_in_dashboard(service, "siti", "Siti")
    patron = new_page()
    patron.goto(page_url)
    chat = open_launcher(patron)
    chat.locator("#q").fill("Do you have books on dinosaurs?")
    chat.locator("#start-form button[type=submit]").click()
    claim_and_wait(desk, chat, "Do you have books on dinosaurs?")

    # Four messages as fast as Enter goes: three are stored, the fourth is refused in words.
    box = chat.locator("#msg")
    for n in range(4):
        box.fill(f"flood {n}")
        box.press("Enter")
    alert = chat.locator("#alert-text")
    expect(alert).to_contain_text("Please wait", timeout=15000)
    expect(alert).to_contain_text("seconds")
    expect(alert).to_contain_text("What you wrote is kept in the box")
    expect(box).to_have_value("flood 3")  # nothing typed is lost
    expect(desk.locator(".msg").filter(has_text="flood 2")).to_have_count(1, timeout=15000)
    expect(desk.locator(".msg").filter(has_text="flood 3")).to_have_count(0)

    # The librarian blocks the patron for 15 minutes: choose, confirm.
    desk.click("#block-button")
    expect(desk.locator("#block-form")).to_be_visible()
    expect(desk.locator("#block-minutes")).to_be_focused()
    desk.locator("#block-minutes").select_option("15")
    desk.fill("#block-reason", "flooding the chat")
    if AXE.exists():
        assert_accessible(desk, "the dashboard's block form")
    desk.keyboard.press("Escape")  # cancelling gives the focus back and blocks nobody
    expect(desk.locator("#block-form")).to_be_hidden()
    expect(desk.locator("#block-button")).to_be_focused()
    desk.keyboard.press("Enter")
    expect(desk.locator("#block-reason")).to_have_value("")  # a cancelled form starts afresh
    desk.locator("#block-minutes").select_option("15")
    desk.fill("#block-reason", "flooding the chat")
    desk.click("#block-yes")
    expect(desk.locator("#closed-banner")).to_be_visible(timeout=15000)
    expect(desk.locator("#chat-alerts")).to_contain_text("is blocked until")

    expect(chat.locator("#ended")).to_be_visible(timeout=15000)
    expect(chat.locator(".msg-system").last).to_contain_text("You can start a new one after")
    chat.locator("#again").click()
    chat.locator("#q").fill("Hello again")
    chat.locator("#start-form button[type=submit]").click()
    expect(alert).to_contain_text("paused chatting from here until", timeout=15000)
    expect(chat.locator("#q")).to_have_value("Hello again")

    from reference.models import PatronBlock

    [block] = PatronBlock.objects.all()
    assert block.reason == "flooding the chat" and block.address_key
