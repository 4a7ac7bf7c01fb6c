"""A librarian's long day at the desk, in headless Chromium against a live daphne: unread counts
that survive a reload, the tab's title and opt-in notifications while the tab is in the background,
and the keyboard shortcuts with their help panel."""

import re

from reference.models import Conversation
from tests.browser import MARKS, ask, assert_accessible, log_in, needs_axe

pytestmark = MARKS

# Headless Chromium keeps every page visible, whatever is in front of it, so a tab "in the
# background" is what the browser does when one goes there: document.hidden turns true and
# visibilitychange fires. The dashboard reads nothing else (the widget's tests do the same).
SET_HIDDEN = """hidden => {
  Object.defineProperty(document, "hidden", {configurable: true, get: () => hidden});
  document.dispatchEvent(new Event("visibilitychange"));
}"""

# The browser API seam: every Notification the page makes is recorded (and still made); every tone
# counted.
RECORD_ALERTS = """
window.__notifications = [];
window.__tones = 0;
if (window.Notification) {
  const Real = window.Notification;
  window.Notification = class extends Real {
    constructor(title, options) {
      super(title, options);
      window.__notifications.push({title, body: options.body, tag: options.tag, notification: this});
    }
  };
}
if (window.AudioContext) {
  const make = AudioContext.prototype.createOscillator;
  AudioContext.prototype.createOscillator = function () { window.__tones += 1; return make.call(this); };
}
"""

TITLE = "Dashboard · Ruang Tanya"  # the browser asks for English



def say(chat, text):
    chat.locator("#msg").fill(text)
    chat.locator("#msg").press("Enter")


def dashboard(new_page, service, **context):
    """The librarian's dashboard (context options such as `permissions`), once connected."""
    from playwright.sync_api import expect

    desk = log_in(new_page(init_script=RECORD_ALERTS, **context), service, "siti")
    expect(desk.locator(".team-item.presence-available").filter(has_text="Siti")).to_have_count(1, timeout=15000)
    return desk


def held(desk, index):
    return desk.locator("#chat-list .chat-item").nth(index)


def badge(desk, index):
    return held(desk, index).locator(".badge")


def test_unread_counts_survive_a_reload_and_go_only_when_the_chat_was_seen(library_page, new_page):
    from playwright.sync_api import expect

    _site, _users, service, page_url = library_page(lang="en")
    desk = dashboard(new_page, service)
    atlases = ask(new_page, page_url, "Do you lend atlases?")
    desk.locator(".queue-item").filter(has_text="atlases").get_by_role("button").click()
    ask(new_page, page_url, "Is there Wi-Fi?")
    desk.locator(".queue-item").filter(has_text="Wi-Fi").get_by_role("button").click()
    expect(held(desk, 1)).to_have_attribute("aria-current", "true", timeout=15000)  # looking at Wi-Fi

    say(atlases, "The big ones, for a school project.")
    say(atlases, "Are you there?")
    expect(badge(desk, 0)).to_contain_text("2", timeout=15000)

    desk.reload()
    expect(held(desk, 1)).to_have_attribute("aria-current", "true", timeout=15000)  # the chat that was open
    expect(badge(desk, 0)).to_be_visible()
    expect(badge(desk, 0).locator("[aria-hidden]")).to_have_text("2")
    expect(badge(desk, 0)).to_contain_text("Unread messages: 2")
    expect(badge(desk, 1)).to_be_hidden()

    # Opened in a hidden tab (say, from a notification) it is not seen yet: nothing is reported.
    desk.evaluate(SET_HIDDEN, True)
    held(desk, 0).click()
    desk.wait_for_timeout(500)
    atlas = Conversation.objects.get(subject__contains="atlases")
    assert atlas.librarian_read_seq < atlas.last_seq
    desk.evaluate(SET_HIDDEN, False)  # back to the tab: now it is
    expect(badge(desk, 0)).to_be_hidden()
    for _ in range(50):
        atlas.refresh_from_db()
        if atlas.librarian_read_seq == atlas.last_seq:
            break
        desk.wait_for_timeout(100)
    assert atlas.librarian_read_seq == atlas.last_seq

    desk.reload()
    expect(held(desk, 0)).to_have_attribute("aria-current", "true", timeout=15000)
    expect(desk.locator("#chat-list .badge:visible")).to_have_count(0)


def test_in_the_background_the_title_counts_and_notifications_come_only_when_switched_on(
        library_page, new_page):
    from playwright.sync_api import expect

    _site, _users, service, page_url = library_page(lang="en")
    desk = dashboard(new_page, service, permissions=["notifications"])
    expect(desk).to_have_title(TITLE)
    atlases = ask(new_page, page_url, "Do you lend atlases?")
    expect(desk).to_have_title("(1) " + TITLE)  # waiting
    desk.locator(".queue-item").filter(has_text="atlases").get_by_role("button").click()
    expect(desk).to_have_title(TITLE, timeout=15000)

    desk.evaluate(SET_HIDDEN, True)
    say(atlases, "Are you there?")
    expect(desk).to_have_title("(1) " + TITLE, timeout=15000)  # a message while away
    ask(new_page, page_url, "Is there Wi-Fi?")
    expect(desk).to_have_title("(2) " + TITLE, timeout=15000)  # and a chat waiting
    desk.evaluate(SET_HIDDEN, False)
    expect(desk).to_have_title("(1) " + TITLE)  # the message is on screen now; the chat still waits
    assert desk.evaluate("window.__notifications.length") == 0 and desk.evaluate("window.__tones") == 0  # not asked for

    desk.locator(".queue-item").filter(has_text="Wi-Fi").get_by_role("button").click()
    expect(held(desk, 1)).to_have_attribute("aria-current", "true", timeout=15000)
    desk.click("#alerts-toggle")
    expect(desk.locator("#alerts-toggle")).to_have_attribute("aria-expanded", "true")
    desk.check("#alerts-notify")
    desk.check("#alerts-sound")
    tones = desk.evaluate("window.__tones")  # switching the sound on plays it once
    desk.keyboard.press("Escape")
    expect(desk.locator("#alerts-panel")).to_be_hidden()
    expect(desk.locator("#alerts-toggle")).to_be_focused()
    say(atlases, "Hello again.")  # on screen (in the other chat's badge): no notification, no tone
    expect(badge(desk, 0)).to_be_visible(timeout=15000)
    assert desk.evaluate("window.__notifications.length") == 0 and desk.evaluate("window.__tones") == tones

    desk.evaluate(SET_HIDDEN, True)
    say(atlases, "The big ones, please.")
    expect(desk).to_have_title("(1) " + TITLE, timeout=15000)
    notifications = desk.evaluate("window.__notifications.map(n => [n.title, n.body])")
    assert notifications == [["New message", "New message from Anonymous: The big ones, please."]]
    assert desk.evaluate("window.__tones") == tones + 1
    ask(new_page, page_url, "Can I print here?")
    expect(desk).to_have_title("(2) " + TITLE, timeout=15000)
    assert desk.evaluate("window.__notifications.map(n => n.title)") == ["New message", "New question waiting"]

    # Clicking the message's notification brings the librarian to that chat.
    desk.evaluate("window.__notifications[0].notification.dispatchEvent(new Event('click'))")
    expect(held(desk, 0)).to_have_attribute("aria-current", "true")
    expect(desk.locator("#composer-input")).to_be_focused()

    desk.reload()  # the choices are remembered
    desk.click("#alerts-toggle")
    expect(desk.locator("#alerts-notify")).to_be_checked()
    expect(desk.locator("#alerts-sound")).to_be_checked()
    desk.uncheck("#alerts-notify")
    desk.evaluate(SET_HIDDEN, True)
    say(atlases, "Hello?")
    expect(desk).to_have_title(re.compile(r"^\(\d\) "), timeout=15000)
    desk.wait_for_timeout(300)
    assert desk.evaluate("window.__notifications.length") == 0  # switched off


def test_a_chat_offered_while_the_tab_is_hidden_is_notified(library_page, new_page):
    from playwright.sync_api import expect

    _site, users, service, page_url = library_page(lang="en", librarians=(("siti", "Siti"), ("budi", "Budi")))
    siti = dashboard(new_page, service)
    budi = log_in(new_page(init_script=RECORD_ALERTS, permissions=["notifications"]), service, "budi")
    expect(budi.locator(".team-item.presence-available").filter(has_text="Budi")).to_have_count(1, timeout=15000)
    budi.click("#alerts-toggle")
    budi.check("#alerts-notify")
    budi.keyboard.press("Escape")

    ask(new_page, page_url, "Do you keep old newspapers?")
    siti.locator(".queue-item").filter(has_text="newspapers").get_by_role("button").click()
    expect(siti.locator("#capacity-held")).to_have_text("1", timeout=15000)
    budi.evaluate(SET_HIDDEN, True)
    siti.click("#transfer-button")
    siti.select_option("#transfer-target", f"l:{users['budi'].pk}")
    siti.click("#transfer-send")
    expect(budi.locator(".offer")).to_have_count(1, timeout=15000)
    offered = budi.evaluate("window.__notifications.map(n => [n.title, n.body])")
    assert offered == [["A chat for you", "Siti offers you the chat with Anonymous: “Do you keep old newspapers?”"]]

    budi.evaluate("window.__notifications[0].notification.dispatchEvent(new Event('click'))")
    expect(budi.locator(".offer").get_by_role("button", name="Accept")).to_be_focused()


def test_the_keyboard_shortcuts(library_page, new_page):
    from playwright.sync_api import expect

    _site, _users, service, page_url = library_page(lang="en")
    desk = dashboard(new_page, service)
    atlases = ask(new_page, page_url, "Do you lend atlases?")
    ask(new_page, page_url, "Is there Wi-Fi?")
    expect(desk.locator(".queue-item")).to_have_count(2, timeout=15000)
    first_claim = desk.locator(".queue-item").first.get_by_role("button")
    expect(first_claim).to_have_attribute("aria-keyshortcuts", "Alt+Shift+C")
    second_claim = desk.locator(".queue-item").nth(1).get_by_role("button")
    expect(second_claim).not_to_have_attribute("aria-keyshortcuts", "Alt+Shift+C")

    desk.keyboard.press("Alt+Shift+C")  # the oldest first
    expect(desk.locator("#chat-title")).to_be_visible(timeout=15000)
    expect(held(desk, 0)).to_contain_text("atlases")
    expect(desk.locator("#composer-input")).to_be_focused()
    desk.keyboard.press("Alt+Shift+C")  # from the reply box too
    expect(held(desk, 1)).to_have_attribute("aria-current", "true", timeout=15000)
    expect(held(desk, 1)).to_contain_text("Wi-Fi")
    expect(desk.locator(".queue-item")).to_have_count(0)

    desk.keyboard.press("Alt+ArrowUp")
    expect(held(desk, 0)).to_have_attribute("aria-current", "true")
    desk.keyboard.press("Alt+ArrowDown")
    expect(held(desk, 1)).to_have_attribute("aria-current", "true")
    desk.keyboard.press("Alt+ArrowDown")  # round again
    expect(held(desk, 0)).to_have_attribute("aria-current", "true")
    expect(desk.locator("#composer-input")).to_be_focused()

    # Canned replies: the picker when the page has one, else a "/" command in the reply box.
    desk.keyboard.press("Alt+Shift+R")
    expect(desk.locator("#composer-input")).to_have_value("/")
    desk.fill("#composer-input", "")
    desk.evaluate("window.RuangTanyaDashboard.openCannedPicker = () => { window.__picker = true; }")
    desk.keyboard.press("Alt+Shift+R")
    assert desk.evaluate("window.__picker") is True
    expect(desk.locator("#composer-input")).to_have_value("")

    # Close: the page's own question first.
    expect(desk.locator("#close-button")).to_have_attribute("aria-keyshortcuts", "Alt+Shift+X")
    expect(desk.locator("#close-button")).to_have_attribute("title", "Close chat (Alt+Shift+X)")
    desk.locator("#composer-input").focus()
    desk.keyboard.press("Alt+Shift+X")
    expect(desk.locator("#close-confirm")).to_be_visible()
    expect(desk.locator("#close-no")).to_be_focused()
    desk.keyboard.press("Escape")
    expect(desk.locator("#close-confirm")).to_be_hidden()
    desk.keyboard.press("Alt+Shift+X")
    desk.click("#close-yes")
    expect(atlases.locator("#ended")).to_be_visible(timeout=15000)

    # `?` types a question mark in the reply box, and opens the help anywhere else.
    desk.keyboard.press("Alt+ArrowDown")
    desk.locator("#composer-input").press("?")
    expect(desk.locator("#composer-input")).to_have_value("?")
    expect(desk.locator("#shortcuts-dialog")).not_to_be_visible()
    desk.locator("#chat-title").focus()
    desk.keyboard.press("?")
    dialog = desk.get_by_role("dialog", name="Keyboard shortcuts")
    expect(dialog).to_be_visible()
    rows = dialog.locator("tbody tr")
    expect(rows.filter(has_text="Next chat")).to_contain_text("Alt + ↓")
    expect(rows.filter(has_text="Previous chat")).to_contain_text("Alt + ↑")
    expect(rows.filter(has_text="Claim the chat waiting longest")).to_contain_text("Alt + Shift + C")
    expect(rows.filter(has_text="Canned replies")).to_contain_text("Alt + Shift + R")
    expect(rows.filter(has_text="Close the open chat")).to_contain_text("Alt + Shift + X")
    expect(rows.filter(has_text="Show these shortcuts")).to_contain_text("?")
    desk.keyboard.press("Alt+ArrowUp")  # nothing behind the panel moves while it is open
    expect(held(desk, 1)).to_have_attribute("aria-current", "true")
    desk.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(desk.locator("#chat-title")).to_be_focused()  # back where the librarian was

    expect(desk.locator("#shortcuts-button")).to_have_attribute("aria-keyshortcuts", "?")
    expect(desk.locator("#shortcuts-button")).to_have_attribute("title", "Keyboard shortcuts (?)")
    desk.click("#shortcuts-button")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Close").click()
    expect(desk.locator("#shortcuts-button")).to_be_focused()


@needs_axe
def test_the_alerts_menu_and_the_shortcuts_panel_pass_axe(library_page, new_page):
    from playwright.sync_api import expect

    _site, _users, service, page_url = library_page(lang="en")
    desk = dashboard(new_page, service)
    ask(new_page, page_url, "Do you lend atlases?")
    # The shortcut claims what the queue shows: wait for the chat to be there (it raced the frame).
    expect(desk.locator(".queue-item").filter(has_text="Do you lend atlases?")).to_have_count(1, timeout=15000)
    desk.keyboard.press("Alt+Shift+C")
    expect(desk.locator("#chat-title")).to_be_visible(timeout=15000)

    desk.click("#alerts-toggle")
    expect(desk.locator("#alerts-panel")).to_be_visible()
    assert_accessible(desk, "the dashboard with the Alerts menu open")
    desk.keyboard.press("Escape")

    desk.click("#shortcuts-button")
    expect(desk.get_by_role("dialog")).to_be_visible()
    assert_accessible(desk, "the dashboard with the keyboard shortcuts open")
