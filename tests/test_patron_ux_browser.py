"""The patron's side in headless Chromium: languages, accessibility (axe-core in every state), the
keyboard alone, phones, notifications and the invitation. The host page is on another origin."""


import pytest

from reference.faq import services as faq_services
from tests.browser import (
    AXE,
    MARKS,
    WIDGET,
    assert_accessible,
    claim,
    close_chat,
    library,
    log_in,
    needs_axe,
    type_reply,
)

pytestmark = MARKS


def chat_frame(page):
    """The widget's iframe as a Playwright Frame (axe runs inside it)."""
    page.wait_for_selector(f"{WIDGET} iframe", state="attached")
    for _ in range(100):
        frame = next((f for f in page.frames if "/widget/sites/" in f.url), None)
        if frame is not None:
            frame.wait_for_load_state()
            return frame
        page.wait_for_timeout(50)
    raise AssertionError("the chat frame did not load")


def open_widget(page):
    page.locator(f"{WIDGET} button.l").click()
    return chat_frame(page)


def panel_at_rest(page):
    """Wait for the panel's opening slide (in the widget's shadow root) to end: no animation running
    and the iframe in the same place two frames running. Playwright sees an element inside the
    iframe as still while the iframe itself moves, so a click during the slide can land beside its
    target; and a slide that has not started yet has no animation to wait for."""
    page.evaluate(PANEL_AT_REST, WIDGET)


PANEL_AT_REST = """async (host) => {
    const root = document.querySelector(host).shadowRoot;
    const frame = root.querySelector("iframe");
    let last = null;
    for (let i = 0; i < 300; i++) {
        await new Promise((resolve) => requestAnimationFrame(resolve));
        const box = JSON.stringify(frame.getBoundingClientRect());
        if (box === last && root.getAnimations().length === 0) return;
        last = box;
    }
    throw new Error("the widget's panel is still moving after 300 frames");
}"""


@needs_axe
def test_axe_finds_nothing_in_any_state_of_the_widget_nor_on_the_dashboard(library_page, new_page, logged_in_dashboard):
    from playwright.sync_api import expect

    site, _users, service, page_url = library_page(greeting="Halo!")

    desk = logged_in_dashboard(service, "siti", "Siti")
    patron = new_page(locale="id-ID")  # no data-lang: the browser's language
    patron.goto(page_url)
    expect(patron.locator(f"{WIDGET} button.l")).to_have_text("Tanya pustakawan")
    assert_accessible(patron.main_frame, "the host page with the closed launcher")

    frame = open_widget(patron)
    chat = patron.frame_locator(f"{WIDGET} iframe")
    expect(chat.locator("#start-form")).to_be_visible()
    assert_accessible(patron.main_frame, "the host page with the open panel")
    assert_accessible(frame, "the pre-chat form")

    chat.locator("#q").fill("Apakah perpustakaan buka hari Minggu?")
    chat.locator("#start-send").click()
    expect(chat.locator("#status-text")).to_contain_text("antrean")
    assert_accessible(frame, "waiting in the queue")

    claim(desk, "hari Minggu")
    expect(chat.locator("#status-text")).to_contain_text("Siti", timeout=15000)
    type_reply(desk, "Ya, pukul 09.00–15.00.")
    expect(chat.locator(".msg-librarian")).to_contain_text("pukul 09.00", timeout=15000)
    assert_accessible(frame, "the active chat")
    assert_accessible(desk.main_frame, "the dashboard with a chat open")

    close_chat(desk)
    expect(chat.locator("#ended")).to_be_visible(timeout=15000)
    assert_accessible(frame, "the closed chat")


@needs_axe
def test_axe_finds_nothing_on_the_nobody_on_duty_form_and_the_faq_pages(
        live_daphne, host_page, django_user_model, new_page):
    from playwright.sync_api import expect

    origin, write_page = host_page
    site, _users = library(django_user_model, origin)
    faq_services.import_records([{"slug": "jam-buka", "language": "id", "question": "Kapan perpustakaan buka?",
                                  "answer": "Senin sampai Sabtu, pukul 08.00–16.00.", "topics": ["Layanan"]}])
    service = live_daphne()
    page_url = write_page(service, site.key, lang="en")

    patron = new_page()
    patron.goto(page_url)
    frame = open_widget(patron)
    expect(patron.frame_locator(f"{WIDGET} iframe").locator("#desk-notice")).to_contain_text(
        "Nobody can answer live right now", timeout=15000)
    assert_accessible(frame, "the nobody-on-duty form")

    visitor = new_page()
    for path in ["/faq/", "/faq/jam-buka/", "/faq/search?q=jam+buka", "/faq/search?q=zzzz"]:
        visitor.goto(service + path)
        assert_accessible(visitor.main_frame, path)


def focused_in_host(page):
    """What has the focus on the host page: the launcher sits in the widget's shadow root."""
    return page.evaluate("""() => {
        const a = document.activeElement;
        if (a && a.id === "ruangtanya-widget") return "widget:" + (a.shadowRoot.activeElement || {}).className;
        return a ? a.tagName.toLowerCase() : null;
    }""")


def focused_in(frame):
    return frame.evaluate("() => document.hasFocus() && document.activeElement.id")


def test_a_whole_chat_with_the_keyboard_alone(library_page, new_page, logged_in_dashboard):
    from playwright.sync_api import expect

    site, _users, service, page_url = library_page(lang="en")

    desk = logged_in_dashboard(service, "siti", "Siti")
    patron = new_page()
    patron.goto(page_url)
    launcher = patron.locator(f"{WIDGET} button.l")
    expect(launcher).to_have_text("Ask a librarian")
    patron.keyboard.press("Tab")
    assert focused_in_host(patron) == "widget:l"
    patron.keyboard.press("Enter")  # open: the focus moves into the panel, on the question
    frame = chat_frame(patron)
    chat = patron.frame_locator(f"{WIDGET} iframe")
    expect(chat.locator("#q")).to_be_focused()
    patron.keyboard.type("Do you have large-print books?")
    patron.keyboard.press("Enter")
    expect(chat.locator(".msg-patron")).to_have_count(1)
    expect(chat.locator("#msg")).to_be_focused()

    patron.keyboard.press("Escape")  # close: the focus goes back to the launcher
    expect(launcher).to_have_attribute("aria-expanded", "false")
    assert focused_in_host(patron) == "widget:l"
    patron.keyboard.press("Enter")
    expect(chat.locator("#msg")).to_be_focused()

    claim(desk, "large-print")
    type_reply(desk, "Yes, on the ground floor.")
    reply = chat.locator("#log .msg-librarian")
    expect(reply).to_contain_text("Yes, on the ground floor.", timeout=15000)
    expect(chat.locator("#log")).to_have_attribute("aria-live", "polite")  # read out when it arrives

    patron.keyboard.type("Thank you!")
    patron.keyboard.press("Enter")
    expect(desk.locator(".message-list")).to_contain_text("Thank you!", timeout=15000)
    patron.keyboard.press("Tab")  # the send button
    patron.keyboard.press("Tab")  # "End chat"
    expect(chat.locator("#end")).to_be_focused()
    patron.keyboard.press("Enter")
    expect(chat.locator("#confirm-no")).to_be_focused()
    patron.keyboard.press("Shift+Tab")
    expect(chat.locator("#confirm-yes")).to_be_focused()
    patron.keyboard.press("Enter")
    expect(chat.locator("#ended")).to_be_visible(timeout=15000)
    expect(chat.locator("#again")).to_be_focused()
    assert focused_in(frame) == "again"


def test_on_a_phone_the_panel_fills_the_screen(library_page, new_page, logged_in_dashboard):
    from playwright.sync_api import expect

    site, _users, service, page_url = library_page(lang="id")

    desk = logged_in_dashboard(service, "siti", "Siti")
    phone = new_page(viewport={"width": 360, "height": 640}, is_mobile=True, has_touch=True,
                     device_scale_factor=2)
    phone.goto(page_url)
    launcher = phone.locator(f"{WIDGET} button.l")
    box = launcher.bounding_box()
    assert box["x"] + box["width"] <= 360 and box["y"] + box["height"] <= 640
    launcher.tap()
    frame = chat_frame(phone)
    chat = phone.frame_locator(f"{WIDGET} iframe")
    expect(chat.locator("#q")).to_be_visible()
    panel_at_rest(phone)  # measure where the panel comes to rest, not a frame of its slide
    panel = phone.locator(f"{WIDGET} iframe").bounding_box()
    assert [round(panel[k]) for k in ("x", "y", "width", "height")] == [0, 0, 360, 640]
    assert frame.evaluate("() => document.documentElement.scrollWidth") <= 360  # nothing to scroll sideways

    chat.locator("#q").fill("Bisa pinjam buku lewat aplikasi?")
    chat.locator("#start-send").tap()
    claim(desk, "lewat aplikasi")
    type_reply(desk, "Bisa, lewat menu Pinjaman.")
    expect(chat.locator(".msg-librarian")).to_contain_text("menu Pinjaman", timeout=15000)
    send = chat.locator("#composer button[type=submit]").bounding_box()
    assert send["x"] + send["width"] <= 360 and send["y"] + send["height"] <= 640

    chat.locator("#minimise").tap()
    expect(launcher).to_have_attribute("aria-expanded", "false")
    expect(launcher).to_be_visible()


@needs_axe
@pytest.mark.parametrize("viewport", [{"width": 320, "height": 568}, {"width": 640, "height": 400}],
                         ids=["320px-wide", "200%-zoom-of-1280x800"])
def test_usable_at_320_px_and_at_200_percent(library_page, viewport, new_page, logged_in_dashboard):
    """Zooming a 1280×800 window to 200% leaves 640×400 CSS pixels; 320 px is WCAG's reflow width."""
    from playwright.sync_api import expect

    site, _users, service, page_url = library_page(lang="en")

    logged_in_dashboard(service, "siti", "Siti")
    patron = new_page(viewport=viewport)
    patron.goto(page_url)
    frame = open_widget(patron)
    chat = patron.frame_locator(f"{WIDGET} iframe")
    panel = patron.locator(f"{WIDGET} iframe").bounding_box()
    assert (round(panel["width"]), round(panel["height"])) == (viewport["width"], viewport["height"])
    assert frame.evaluate("() => document.documentElement.scrollWidth") <= viewport["width"]
    chat.locator("#q").fill("Is there Wi-Fi?")
    chat.locator("#start-send").scroll_into_view_if_needed()
    chat.locator("#start-send").click()
    expect(chat.locator(".msg-patron")).to_have_count(1)
    expect(chat.locator("#msg")).to_be_in_viewport()
    assert_accessible(frame, f"the chat at {viewport}")


def test_reduced_motion_is_respected(library_page, new_page):
    site, _users, service, page_url = library_page(lang="en")

    moving = {}
    for motion in ("no-preference", "reduce"):
        patron = new_page(reduced_motion=motion)
        patron.goto(page_url)
        frame = open_widget(patron)
        frame.wait_for_selector("#q")
        panel_transition = patron.evaluate("""() => getComputedStyle(
            document.getElementById("ruangtanya-widget").shadowRoot.querySelector(".p")).transitionDuration""")
        typing_animation = frame.evaluate("""() => {
            const dot = document.querySelector(".dots i");
            document.getElementById("typing").hidden = false;
            return getComputedStyle(dot).animationName;
        }""")
        moving[motion] = (panel_transition != "0s", typing_animation != "none")
    assert moving == {"no-preference": (True, True), "reduce": (False, False)}


def test_the_widget_speaks_the_embed_tags_language_and_the_librarys_time(
        live_daphne, host_page, django_user_model, new_page, logged_in_dashboard):
    import datetime
    import zoneinfo

    from playwright.sync_api import expect

    origin, write_page = host_page
    site, _users = library(django_user_model, origin)
    service = live_daphne()
    pages = {lang: write_page(service, site.key, lang=lang, name=f"{lang}.html") for lang in ("id", "en")}

    desk = logged_in_dashboard(service, "siti", "Siti")
    for lang, browser_locale, launcher_text, question_label in [
            ("id", "en-US", "Tanya pustakawan", "Pertanyaan Anda"),
            ("en", "id-ID", "Ask a librarian", "Your question")]:
        patron = new_page(locale=browser_locale, timezone_id="America/New_York")
        patron.goto(pages[lang])
        expect(patron.locator(f"{WIDGET} button.l")).to_have_text(launcher_text)
        open_widget(patron)
        chat = patron.frame_locator(f"{WIDGET} iframe")
        expect(chat.locator("label[for=q]")).to_have_text(question_label)
        chat.locator("#q").fill(f"Jam berapa sekarang? ({lang})")
        chat.locator("#start-send").click()
        desk.locator(".queue-item").filter(has_text=f"({lang})").get_by_role("button").click()
        type_reply(desk, "Lihat jam di pojok kanan.")
        time = chat.locator(".msg-librarian time")
        expect(time).to_have_count(1, timeout=15000)
        sent = datetime.datetime.fromisoformat(time.get_attribute("datetime"))
        jakarta = sent.astimezone(zoneinfo.ZoneInfo("Asia/Jakarta")).strftime("%H:%M")
        expect(time).to_have_text(jakarta)  # not New York's time, the patron's own
        close_chat(desk)
        expect(chat.locator("#ended")).to_be_visible(timeout=15000)
        patron.context.close()


COUNT_BEEPS = """
window.__beeps = 0;
if (window.AudioContext) {
  const make = AudioContext.prototype.createOscillator;
  AudioContext.prototype.createOscillator = function () { window.__beeps += 1; return make.call(this); };
}
"""


SET_HIDDEN = """hidden => {
  Object.defineProperty(document, "hidden", {configurable: true, get: () => hidden});
  document.dispatchEvent(new Event("visibilitychange"));
}"""


def launcher_badge(page):
    return page.locator(f"{WIDGET} button.l .b")


def test_unread_answers_show_on_the_launcher_and_in_the_title_with_a_sound_that_can_be_switched_off(
        library_page, new_page, logged_in_dashboard):
    from playwright.sync_api import expect

    site, _users, service, page_url = library_page(lang="en")

    desk = logged_in_dashboard(service, "siti", "Siti")
    patron = new_page(init_script=COUNT_BEEPS)
    patron.goto(page_url)
    launcher = patron.locator(f"{WIDGET} button.l")
    frame = open_widget(patron)
    chat = patron.frame_locator(f"{WIDGET} iframe")
    chat.locator("#q").fill("Can I print here?")
    chat.locator("#start-send").click()
    claim(desk, "print here")
    expect(chat.locator("#status-text")).to_contain_text("Siti", timeout=15000)
    type_reply(desk, "Hello!")
    expect(chat.locator(".msg-librarian")).to_have_count(1, timeout=15000)
    assert launcher_badge(patron).inner_text() == "" and frame.evaluate("window.__beeps") == 0  # seen

    # The tab in the background (headless Chromium keeps every tab visible: say it is hidden).
    frame.evaluate(SET_HIDDEN, True)
    type_reply(desk, "Are you there?")
    expect(launcher_badge(patron)).to_have_text("1", timeout=15000)
    expect(patron).to_have_title("(1) Perpustakaan")
    frame.evaluate(SET_HIDDEN, False)
    expect(launcher_badge(patron)).to_have_text("")
    expect(patron).to_have_title("Perpustakaan")
    assert frame.evaluate("window.__beeps") == 1

    launcher.click()  # closed: answers now count as unread
    for text in ("Yes, on the first floor.", "It costs Rp 500 a page."):
        type_reply(desk, text)
    expect(launcher_badge(patron)).to_have_text("2", timeout=15000)
    expect(patron).to_have_title("(2) Perpustakaan")
    expect(launcher).to_have_attribute("aria-label", "Ask a librarian, 2 new messages")
    assert frame.evaluate("window.__beeps") == 3

    launcher.click()  # open: read
    expect(launcher_badge(patron)).to_have_text("")
    expect(patron).to_have_title("Perpustakaan")
    expect(launcher).to_have_attribute("aria-label", "Close chat")
    panel_at_rest(patron)

    sound = chat.locator("#sound")
    expect(sound).to_have_attribute("aria-pressed", "true")
    sound.click()
    expect(sound).to_have_attribute("aria-pressed", "false")
    launcher.click()
    type_reply(desk, "Anything else?")
    expect(launcher_badge(patron)).to_have_text("1", timeout=15000)
    expect(patron).to_have_title("(1) Perpustakaan")
    assert frame.evaluate("window.__beeps") == 3  # silent now

    patron.reload()  # another page of the library's site, the chat still going on
    expect(launcher).to_have_attribute("aria-expanded", "false")
    chat_frame(patron)  # loaded, closed, so that answers are counted here too
    # The answer not read before the page changed is still unread here (the server's
    # read marker says so), and loading the closed panel did not mark it read.
    expect(launcher_badge(patron)).to_have_text("1", timeout=15000)
    type_reply(desk, "Still there?")
    expect(launcher_badge(patron)).to_have_text("2", timeout=15000)
    expect(patron).to_have_title("(2) Perpustakaan")
    launcher.click()
    expect(chat.locator("#sound")).to_have_attribute("aria-pressed", "false")  # the choice is remembered
    expect(launcher_badge(patron)).to_have_text("")

    close_chat(desk)
    expect(chat.locator("#ended")).to_be_visible(timeout=15000)
    patron.reload()  # the chat is over: nothing loads before the launcher is pressed
    expect(launcher).to_be_visible()
    patron.wait_for_load_state("networkidle")
    expect(patron.locator(f"{WIDGET} iframe")).to_have_count(0)


def test_the_invitation_appears_after_the_delay_and_once_dismissed_not_again_that_day(
        live_daphne, host_page, django_user_model, new_page):
    from playwright.sync_api import expect

    origin, write_page = host_page
    site, _users = library(django_user_model, origin)
    site.invite_after = 1
    site.save()
    service = live_daphne()
    page_url = write_page(service, site.key, lang="en")

    patron = new_page()
    patron.goto(page_url)
    bubble = patron.locator(f"{WIDGET} .i")
    expect(bubble).to_have_count(0)
    expect(bubble).to_contain_text("Need help? Ask a librarian", timeout=10000)
    if AXE.exists():
        assert_accessible(patron.main_frame, "the host page with the invitation")
    bubble.get_by_role("button", name="Dismiss").click()
    expect(bubble).to_have_count(0)
    assert focused_in_host(patron) == "widget:l"

    patron.reload()
    expect(patron.locator(f"{WIDGET} button.l")).to_be_visible()
    patron.wait_for_timeout(2500)  # more than the delay: dismissed today, so nothing comes
    expect(bubble).to_have_count(0)

    patron.evaluate(f"localStorage.setItem('ruangtanya:{site.key}:invited', '2000-1-1')")  # another day
    patron.reload()
    expect(bubble).to_be_visible(timeout=10000)
    bubble.get_by_role("button", name="Need help? Ask a librarian").click()  # opens the chat
    expect(patron.locator(f"{WIDGET} button.l")).to_have_attribute("aria-expanded", "true")
    expect(bubble).to_have_count(0)
    expect(patron.frame_locator(f"{WIDGET} iframe").locator("#q")).to_be_visible()


@needs_axe
def test_the_dashboard_and_the_faq_reflow_at_320_px(live_daphne, django_user_model, new_page):
    """WCAG 1.4.10: at 320 CSS pixels (1280 px zoomed to 400%) nothing needs scrolling sideways."""
    from playwright.sync_api import expect

    library(django_user_model)
    faq_services.import_records([{"slug": "jam-buka", "language": "id", "question": "Kapan perpustakaan buka?",
                                  "answer": "Senin sampai Sabtu, pukul 08.00–16.00.", "topics": ["Layanan"]}])
    service = live_daphne()
    page = log_in(new_page(viewport={"width": 320, "height": 640}), service, "siti")
    expect(page.locator("#my-status")).to_be_visible(timeout=15000)
    for path in ["/dashboard/", "/faq/", "/faq/jam-buka/", "/faq/search?q=jam+buka"]:
        if path != "/dashboard/":
            page.goto(service + path)
        too_wide = page.evaluate("""() => [...document.querySelectorAll("body *")]
            .filter(e => e.getBoundingClientRect().right > 320.5 && getComputedStyle(e).position !== "fixed")
            .map(e => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + "." + e.className)""")
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 320, (path, too_wide)
        assert_accessible(page.main_frame, f"{path} at 320 px")


@needs_axe
def test_a_site_that_asks_for_the_library_card_and_a_queue(
        live_daphne, host_page, django_user_model, new_page, logged_in_dashboard):
    from playwright.sync_api import expect

    from reference.models import Queue

    origin, write_page = host_page
    site, _users = library(django_user_model, origin)
    site.name_field, site.card_field, site.queue_field = "hidden", "required", "required"
    site.privacy_notice = "We keep chats for six months."
    site.save()
    site.queue_choices.set([Queue.objects.create(name="Anak-anak", slug="anak")])
    service = live_daphne()
    page_url = write_page(service, site.key, lang="en")

    desk = logged_in_dashboard(service, "siti", "Siti")
    patron = new_page()
    patron.goto(page_url)
    frame = open_widget(patron)
    chat = patron.frame_locator(f"{WIDGET} iframe")
    expect(chat.locator("#card")).to_be_visible()
    expect(chat.locator("#name")).to_be_hidden()
    expect(chat.locator("#privacy")).to_contain_text("We keep chats for six months.")
    assert_accessible(frame, "a pre-chat form with a required card number and queue")

    chat.locator("#q").fill("Can my child borrow DVDs?")
    chat.locator("#start-send").click()  # nothing chosen: the browser asks first, nothing is sent
    expect(chat.locator("#queue-choice:invalid")).to_have_count(1)
    chat.locator("#queue-choice").select_option(label="Umum")
    chat.locator("#card").fill("<b>")
    chat.locator("#start-send").click()  # the server refuses the card number, says why, points at it
    expect(chat.locator("#alert-text")).to_contain_text("library card number does not look right")
    expect(chat.locator("#card")).to_be_focused()
    expect(chat.locator("#q")).to_have_value("Can my child borrow DVDs?")  # given back
    chat.locator("#card").fill("TT-2024-00123")
    chat.locator("#start-send").click()
    expect(chat.locator(".msg-patron")).to_have_count(1)

    claim(desk, "borrow DVDs")
    expect(desk.locator("#chat-meta")).to_contain_text("Card TT-2024-00123", timeout=15000)
