"""The shared browser pieces in headless Chromium: dom.js's link finder, and a released chat on the dashboard."""

import os
from pathlib import Path

import pytest
from django.conf import settings

from reference.models import LibrarianProfile, Queue
from tests.test_browser import ARGS, CHROMIUM, log_in
from widgets.models import Site

DOM_JS = Path(__file__).resolve().parent.parent / "widgets" / "static" / "widgets" / "dom.js"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"chromium not found at {CHROMIUM}"),
    pytest.mark.skipif(bool(settings.DATABASE_URL), reason="runs in the embedded-default pass"),
]

LINKS = [
    ("See https://example.org/hours.", [("https://example.org/hours", "https://example.org/hours")]),
    ("www.perpustakaan.go.id, or http://a.b/c?d=1&e=2!", [
        ("www.perpustakaan.go.id", "https://www.perpustakaan.go.id/"), ("http://a.b/c?d=1&e=2", "http://a.b/c?d=1&e=2")]),
    ("(see https://en.wikipedia.org/wiki/Medan_(city))", [
        ("https://en.wikipedia.org/wiki/Medan_(city)", "https://en.wikipedia.org/wiki/Medan_(city)")]),
    ('"https://example.org/a"; and https://example.org/b...', [
        ("https://example.org/a", "https://example.org/a"), ("https://example.org/b", "https://example.org/b")]),
    ("mail budi@www.example.org, not a link; nor javascript:alert(1), nor http://, nor https://x", []),
    ("HTTPS://EXAMPLE.ORG/Path", [("HTTPS://EXAMPLE.ORG/Path", "https://example.org/Path")]),
]


def test_one_link_finder_for_both_pages():
    """http(s):// and www. links, trailing punctuation and an unbalanced bracket left out; text as text."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page()
            page.set_content("<!doctype html><p id='out'></p>")
            page.add_script_tag(path=str(DOM_JS))
            for text, expected in LINKS:
                found = page.evaluate("t => RuangTanyaDOM.findLinks(t).map(l => [l.text, l.href])", text)
                assert [tuple(link) for link in found] == expected, text
            html = "<img src=x onerror=alert(1)> https://example.org/<b>"
            shown = page.evaluate("""t => {
                const out = document.getElementById('out');
                RuangTanyaDOM.appendText(out, t);
                return [out.textContent, out.querySelectorAll('img, b').length, out.querySelector('a').rel];
            }""", html)
            assert shown == [html, 0, "noopener noreferrer nofollow"]
        finally:
            browser.close()


@pytest.mark.django_db(transaction=True)
def test_a_released_chat_leaves_my_chats_at_once(live_daphne, django_user_model):
    """Sent to a queue, or taken over by a colleague: gone from My chats, reply box and draft included,
    and the capacity count drops (conversation.released)."""
    from playwright.sync_api import expect, sync_playwright

    general = Queue.objects.create(name="Umum", slug="umum")
    history = Queue.objects.create(name="Sejarah lokal", slug="sejarah")
    site = Site.objects.create(name="Perpustakaan Kota", key="released-site", default_queue=general,
                               allowed_origins="http://localhost:1")
    for username, name in (("siti", "Siti"), ("budi", "Budi")):
        user = django_user_model.objects.create_user(username, password="rahasia-123", is_staff=True)
        LibrarianProfile.objects.create(user=user, display_name=name).queues.set([general, history])
    budi_id = django_user_model.objects.get(username="budi").pk
    service = live_daphne()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            siti, budi = log_in(browser, service, "siti", "Siti"), log_in(browser, service, "budi", "Budi")
            patron = browser.new_page()
            patron.goto(f"{service}/widget/sites/{site.key}/chat/?lang=en")
            patron.locator("#q").fill("Do you keep old newspapers?")
            patron.locator("#start-form button[type=submit]").click()

            siti.locator(".queue-item").filter(has_text="old newspapers").get_by_role("button").click()
            expect(siti.locator("#chat-list .chat-entry")).to_have_count(1, timeout=15000)
            expect(siti.locator("#capacity-held")).to_have_text("1")
            siti.fill("#composer-input", "A draft that must not survive the transfer")

            # To another queue: the chat waits there again (Siti is a member), no longer hers.
            siti.click("#transfer-button")
            siti.select_option("#transfer-target", f"q:{history.pk}")
            siti.click("#transfer-send")
            expect(siti.locator("#global-alerts")).to_contain_text("Sejarah lokal", timeout=15000)
            expect(siti.locator("#chat-list .chat-entry")).to_have_count(0)
            expect(siti.locator("#capacity-held")).to_have_text("0")
            expect(siti.locator("#chat")).to_be_hidden()
            expect(siti.locator("#composer-input")).to_be_hidden()
            expect(siti.locator("#chats-empty")).to_be_visible()
            expect(siti.locator(".queue-item").filter(has_text="old newspapers")).to_have_count(1, timeout=15000)

            # Claimed again: a fresh reply box, the old draft gone.
            siti.locator(".queue-item").filter(has_text="old newspapers").get_by_role("button").click()
            expect(siti.locator("#chat-list .chat-entry")).to_have_count(1, timeout=15000)
            expect(siti.locator("#composer-input")).to_have_value("")
            expect(siti.locator("#capacity-held")).to_have_text("1")

            # To a colleague who accepts: gone from Siti's chats, counted in Budi's.
            siti.click("#transfer-button")
            siti.select_option("#transfer-target", f"l:{budi_id}")
            siti.click("#transfer-send")
            budi.locator(".offer").get_by_role("button", name="Accept").click(timeout=15000)
            expect(siti.locator("#global-alerts")).to_contain_text("now with Budi", timeout=15000)
            expect(siti.locator("#chat-list .chat-entry")).to_have_count(0)
            expect(siti.locator("#capacity-held")).to_have_text("0")
            expect(siti.locator("#chat")).to_be_hidden()
            expect(budi.locator("#chat-list .chat-entry")).to_have_count(1, timeout=15000)
            expect(budi.locator("#capacity-held")).to_have_text("1")

            # A reload keeps it that way (nothing left in this tab's outbox or list).
            siti.reload()
            me = siti.locator(".team-item.presence-available").filter(has_text="Siti")
            expect(me).to_have_count(1, timeout=15000)
            expect(siti.locator("#chat-list .chat-entry")).to_have_count(0)
            expect(siti.locator("#capacity-held")).to_have_text("0")
        finally:
            browser.close()
