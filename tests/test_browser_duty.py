"""Staying on duty in headless Chromium against a live daphne with short presence timeouts: a
librarian holding chats who opens Transcripts keeps them; one who closes every page finds on
return what went back to the queue; leaving or logging out with chats held asks first."""

import time

from reference.models import Conversation
from tests.browser import MARKS, ask, assert_accessible, claim, log_in, needs_axe

pytestmark = MARKS

# Beats every second; a librarian whose pages all stopped lapses 4 s later and loses their chats
# 2 s after that, at the next sweep (one every 5 s): at most ~11 s.
FAST = {"RT_HEARTBEAT_INTERVAL": "1", "RT_PRESENCE_TIMEOUT": "4", "RT_REQUEUE_GRACE": "2"}
PAST_THE_GRACE = 4 + 2 + 5 + 2  # seconds
QUESTIONS = ("Do you keep old newspapers?", "Can I renew a loan online?")
LEFT_NOTICE = "no longer available"



def holding_two_chats(library_page, new_page, logged_in_dashboard):
    """Siti's dashboard, holding the chats of two patrons: (service, dashboard, the patrons' chats)."""
    from playwright.sync_api import expect

    _site, _users, service, page_url = library_page(lang="en", daphne_env=FAST)
    desk = logged_in_dashboard(service)
    chats = [ask(new_page, page_url, question) for question in QUESTIONS]
    for question, chat in zip(QUESTIONS, chats, strict=True):
        claim(desk, question)
        expect(chat.locator("#status-text")).to_contain_text("Siti", timeout=15000)
    expect(desk.locator("#capacity-held")).to_have_text("2")
    return service, desk, chats


def dialogs_of(page):
    """Every dialog the page opens (type, message), dismissed."""
    seen = []

    def dismiss(dialog):
        seen.append((dialog.type, dialog.message))
        dialog.dismiss()

    page.on("dialog", dismiss)
    return seen


@needs_axe
def test_a_librarian_who_opens_transcripts_keeps_their_chats(library_page, new_page, logged_in_dashboard):
    from playwright.sync_api import expect

    service, desk, chats = holding_two_chats(library_page, new_page, logged_in_dashboard)
    dialogs = dialogs_of(desk)

    desk.get_by_role("navigation", name="Main").get_by_role("link", name="Transcripts").click()
    expect(desk).to_have_url(f"{service}/staff/transcripts/")
    bar = desk.locator("#duty-bar")
    expect(bar).to_contain_text("On duty · 2 chats held", timeout=15000)
    assert_accessible(desk, "the transcripts page with the duty bar")

    time.sleep(PAST_THE_GRACE)  # long past the timeout and the grace: only the transcripts page beats
    assert list(Conversation.objects.values_list("status", flat=True)) == ["active", "active"]
    expect(bar).to_contain_text("2 chats held")

    bar.get_by_role("link", name="Back to the dashboard").click()
    expect(desk.locator("#chat-list .chat-item")).to_have_count(2, timeout=15000)
    expect(desk.locator("#capacity-held")).to_have_text("2")
    expect(desk.locator("#duty-away")).to_be_hidden()
    assert dialogs == []  # following the dashboard's own links never asks
    for chat in chats:
        assert LEFT_NOTICE not in chat.locator("#log").inner_text()  # the patron was never told


@needs_axe
def test_chats_requeued_while_every_page_was_closed_are_named_on_return(library_page, new_page, logged_in_dashboard):
    from playwright.sync_api import expect

    service, desk, chats = holding_two_chats(library_page, new_page, logged_in_dashboard)
    desk.close()  # the only page of Siti's: nothing keeps her on duty
    for chat in chats:
        expect(chat.locator("#log")).to_contain_text(LEFT_NOTICE, timeout=30000)
    assert list(Conversation.objects.values_list("status", flat=True)) == ["queued", "queued"]

    back = logged_in_dashboard(service)
    banner = back.locator("#duty-away")
    expect(banner).to_contain_text("While you were away, 2 chats went back to the queue", timeout=15000)
    for question in QUESTIONS:
        expect(banner).to_contain_text(question)
    assert_accessible(back, "the dashboard with the chats that went back to the queue")

    other_tab = back.context.new_page()  # a second dashboard tab shows it too…
    other_tab.goto(f"{service}/dashboard/")
    expect(other_tab.locator("#duty-away")).to_be_visible(timeout=15000)
    banner.get_by_role("button", name="Dismiss").click()
    expect(banner).to_be_hidden(timeout=15000)
    expect(other_tab.locator("#duty-away")).to_be_hidden(timeout=15000)  # …and drops it with this one
    assert Conversation.objects.count() == 2
    assert back.evaluate("document.activeElement.id") == "main"  # focus did not vanish with the button


def test_leaving_or_logging_out_with_chats_held_asks_first(library_page, new_page, logged_in_dashboard):
    from playwright.sync_api import expect

    service, desk, chats = holding_two_chats(library_page, new_page, logged_in_dashboard)
    dialogs = dialogs_of(desk)

    desk.evaluate("location.href = 'about:blank'")  # somewhere else entirely
    expect(desk.locator("#capacity-held")).to_have_text("2")
    assert [kind for kind, _message in dialogs] == ["beforeunload"]  # dismissed: still here

    desk.get_by_role("button", name="Log out").click()
    expect(desk.locator("#capacity-held")).to_have_text("2")
    assert dialogs[-1][0] == "confirm" and "You hold 2 chats" in dialogs[-1][1]  # dismissed: still logged in

    desk.get_by_role("link", name="Offline questions").click()  # on a staff page the logout asks too
    expect(desk.locator("#duty-bar")).to_contain_text("2 chats held", timeout=15000)
    desk.get_by_role("button", name="Log out").click()
    assert dialogs[-1][0] == "confirm" and "You hold 2 chats" in dialogs[-1][1]
    assert len(dialogs) == 3  # and the way there did not ask


def test_the_duty_bar_is_for_staff_only(library_page, new_page, django_user_model):
    from playwright.sync_api import expect

    _site, users, service, _page_url = library_page(lang="en", daphne_env=FAST)
    page = log_in(new_page(), service, "siti")
    expect(page.locator("#dashboard")).to_be_visible(timeout=15000)
    page.goto(f"{service}/admin/")
    expect(page.locator("#duty-bar")).to_contain_text("On duty · 0 chats held", timeout=15000)
    visitor = new_page()
    visitor.goto(f"{service}/login/")
    expect(visitor.locator("#duty-bar")).to_have_count(0)


@needs_axe
def test_a_chat_offered_to_a_librarian_on_a_staff_page_shows_in_the_duty_bar(library_page, new_page,
                                                                             logged_in_dashboard):
    from playwright.sync_api import expect

    _site, users, service, page_url = library_page(lang="en", daphne_env=FAST,
                                                   librarians=(("siti", "Siti"), ("budi", "Budi")))
    siti = log_in(new_page(), service, "siti")
    expect(siti.locator("#dashboard")).to_be_visible(timeout=15000)
    siti.goto(f"{service}/staff/offline/")
    bar = siti.locator("#duty-bar")
    expect(bar).to_contain_text("On duty · 0 chats held", timeout=15000)

    budi = logged_in_dashboard(service, "budi", "Budi")
    ask(new_page, page_url, QUESTIONS[0])
    claim(budi, QUESTIONS[0])
    budi.click("#transfer-button")
    budi.select_option("#transfer-target", f"l:{users['siti'].pk}")  # her staff page makes her available
    budi.click("#transfer-send")
    expect(bar).to_contain_text("1 chat offered to you", timeout=15000)
    assert_accessible(siti, "the offline-questions page with a chat offered in the duty bar")

    bar.get_by_role("link", name="Back to the dashboard").click()
    siti.locator(".offer").get_by_role("button", name="Accept").click()
    expect(siti.locator("#capacity-held")).to_have_text("1", timeout=15000)
