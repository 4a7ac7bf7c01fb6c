"""The whole loop in headless Chromium: a host page on another origin, a patron, a librarian."""

import functools
import http.server
import os
import shutil
import tempfile
import threading

import pytest
from django.conf import settings

from reference.models import LibrarianProfile, Queue
from widgets.models import Site

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run",
        "--disable-features=PaintHolding"]

if not os.path.exists(CHROMIUM) and os.environ.get("CI") == "true":
    raise RuntimeError(f"CI needs chromium at {CHROMIUM} (.ci/ensure-test-tools installs it)")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"chromium not found at {CHROMIUM}"),
    pytest.mark.skipif(bool(settings.DATABASE_URL), reason="runs in the embedded-default pass"),
]


def library(django_user_model, origin="", librarians=(("siti", "Siti"),), greeting=""):
    """A queue, a widget site for `origin`, and librarians (password rahasia-123) in the queue."""
    queue = Queue.objects.create(name="Umum", slug="umum")
    site = Site.objects.create(name="Perpustakaan Kota", key="browser-site", default_queue=queue,
                               allowed_origins=origin, greeting=greeting)
    users = {}
    for username, name in librarians:
        users[username] = django_user_model.objects.create_user(username, password="rahasia-123", is_staff=True)
        LibrarianProfile.objects.create(user=users[username], display_name=name).queues.set([queue])
    return site, users


def log_in(browser, service, username, name):
    """A librarian opens the dashboard; returns once it is connected (they are then on duty)."""
    from playwright.sync_api import expect

    desk = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    desk.goto(f"{service}/login/?next=/dashboard/")
    desk.fill("#id_username", username)
    desk.fill("#id_password", "rahasia-123")
    desk.click("button[type=submit]")
    expect(desk.locator(".team-item.presence-available").filter(has_text=name)).to_have_count(1, timeout=15000)
    return desk


@pytest.fixture
def host_page():
    """A library page on a different origin (localhost, not 127.0.0.1) that embeds the widget."""
    folder = tempfile.mkdtemp(prefix="host-page-")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=folder)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    origin = f"http://localhost:{server.server_address[1]}"

    def write(service_url, site_key):
        with open(os.path.join(folder, "index.html"), "w") as page:
            page.write("<!doctype html><html><head><title>Perpustakaan</title></head><body>"
                       "<h1>Perpustakaan Kota</h1>"
                       f'<script src="{service_url}/widget.js" data-site="{site_key}" '
                       'data-lang="en" async></script></body></html>')
        return origin + "/"

    yield origin, write
    server.shutdown()
    shutil.rmtree(folder, ignore_errors=True)


def test_patron_asks_librarian_answers_transcript_kept(live_daphne, host_page, django_user_model):
    from playwright.sync_api import expect, sync_playwright

    origin, write_page = host_page
    site, _users = library(django_user_model, origin, greeting="Halo!")
    service = live_daphne()
    page_url = write_page(service, site.key)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            desk = log_in(browser, service, "siti", "Siti")  # on duty before the patron comes
            patron = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
            patron.goto(page_url)
            patron.locator("#ruangtanya-widget button.l").click()
            chat = patron.frame_locator("#ruangtanya-widget iframe")
            chat.locator("#q").fill("Is the library open on Sunday?")
            chat.locator("#name").fill("Rina")
            chat.locator("#start-form button[type=submit]").click()
            expect(chat.locator(".msg-patron")).to_have_count(1)
            expect(chat.locator("#status-text")).to_have_text("You are number 1 in the queue")
            expect(chat.locator("#auto-greeting")).to_contain_text("A librarian will be with you")

            item = desk.locator(".queue-item").filter(has_text="Is the library open on Sunday?")
            expect(item).to_have_count(1, timeout=15000)
            item.get_by_role("button").click()
            expect(chat.locator("#status-text")).to_contain_text("Siti", timeout=15000)

            desk.fill("#composer-input", "Yes, from 9 to 3. See https://example.org/hours")
            desk.locator("#composer-input").press("Enter")
            reply = chat.locator(".msg-librarian")
            expect(reply).to_contain_text("Yes, from 9 to 3.", timeout=15000)
            expect(reply.locator("a")).to_have_attribute("href", "https://example.org/hours")

            desk.click("#close-button")
            desk.click("#close-yes")
            expect(chat.locator("#ended")).to_be_visible(timeout=15000)

            desk.goto(f"{service}/staff/transcripts/")
            row = desk.locator("tr").filter(has_text="Is the library open on Sunday?")
            expect(row).to_have_count(1)
            row.locator("a[href*='/staff/transcripts/']").click()
            body = desk.locator("main")
            expect(body).to_contain_text("Is the library open on Sunday?")
            expect(body).to_contain_text("Yes, from 9 to 3.")
        finally:
            browser.close()


def test_a_patron_cut_off_the_network_loses_nothing(live_daphne, host_page, django_user_model):
    """Both sides keep typing while the patron is offline; afterwards both transcripts match."""
    from playwright.sync_api import expect, sync_playwright

    from reference.models import Message

    origin, write_page = host_page
    site, _users = library(django_user_model, origin)
    service = live_daphne({"RT_HEARTBEAT_INTERVAL": "1"})
    page_url = write_page(service, site.key)
    patron_lines = ["Is the library open on Sunday?", "Hello?", "Are you still there?"]
    librarian_lines = ["Yes, from 9 to 3.", "And on holidays it is closed."]

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            desk = log_in(browser, service, "siti", "Siti")
            patron_context = browser.new_context(viewport={"width": 1280, "height": 800})
            patron = patron_context.new_page()
            patron.goto(page_url)
            patron.locator("#ruangtanya-widget button.l").click()
            chat = patron.frame_locator("#ruangtanya-widget iframe")
            chat.locator("#q").fill(patron_lines[0])
            chat.locator("#start-form button[type=submit]").click()

            desk.locator(".queue-item").filter(has_text=patron_lines[0]).get_by_role("button").click()
            expect(chat.locator("#status-text")).to_contain_text("Siti", timeout=15000)

            patron_context.set_offline(True)
            expect(chat.locator("#banner")).to_be_visible(timeout=15000)  # "Reconnecting…"
            for line in patron_lines[1:]:
                chat.locator("#msg").fill(line)
                chat.locator("#msg").press("Enter")
            expect(chat.locator(".msg-patron.pending")).to_have_count(2)
            for line in librarian_lines:
                desk.fill("#composer-input", line)
                desk.locator("#composer-input").press("Enter")
            expect(desk.locator(".msg-librarian .msg-body")).to_have_count(2, timeout=15000)

            patron_context.set_offline(False)
            expect(chat.locator("#banner")).to_be_hidden(timeout=30000)
            expect(chat.locator(".msg-patron.pending")).to_have_count(0, timeout=15000)
            chat_texts = chat.locator("#log li:not(.msg-system) .bubble")
            desk_texts = desk.locator(".message-list li:not(.msg-system) .msg-body")
            expected = [patron_lines[0], *librarian_lines, *patron_lines[1:]]
            expect(chat_texts).to_have_count(5, timeout=15000)
            expect(desk_texts).to_have_count(5, timeout=15000)
            assert sorted(chat_texts.all_inner_texts()) == sorted(expected)
            shown = chat_texts.all_inner_texts()
            assert shown == desk_texts.all_inner_texts()  # in the same order too
            # Read receipts both ways: the panel is open, the dashboard shows the chat.
            expect(desk.locator(".msg-read")).to_be_visible(timeout=15000)
            expect(chat.locator(".state.read")).to_be_visible(timeout=15000)

            # Another page of the library's site: the same conversation, all of it.
            patron.goto(page_url + "?page=2")
            patron.locator("#ruangtanya-widget button.l").click()
            chat = patron.frame_locator("#ruangtanya-widget iframe")
            expect(chat.locator("#log li:not(.msg-system) .bubble")).to_have_count(5, timeout=15000)
            assert chat.locator("#log li:not(.msg-system) .bubble").all_inner_texts() == shown
        finally:
            browser.close()
    # Playwright's sync API runs an event loop: ask the database once the browser is gone.
    assert list(Message.objects.exclude(role="system").order_by("seq").values_list("text", flat=True)) == shown


def test_librarians_see_each_others_presence_live(live_daphne, django_user_model):
    from playwright.sync_api import expect, sync_playwright

    library(django_user_model, librarians=(("siti", "Siti"), ("budi", "Budi")))
    service = live_daphne()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            desks = {}
            for username in ("siti", "budi"):
                desk = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
                desk.goto(f"{service}/login/?next=/dashboard/")
                desk.fill("#id_username", username)
                desk.fill("#id_password", "rahasia-123")
                desk.click("button[type=submit]")
                desks[username] = desk
            budi_seen_by_siti = desks["siti"].locator(".team-item").filter(has_text="Budi")
            expect(budi_seen_by_siti).to_have_class("team-item presence-available", timeout=15000)
            expect(budi_seen_by_siti).to_contain_text("0 of 3 chats")

            desks["budi"].select_option("#capacity-max", "5")  # Budi can take more at once
            expect(budi_seen_by_siti).to_contain_text("0 of 5 chats", timeout=15000)

            desks["budi"].select_option("#my-status", "away")
            expect(budi_seen_by_siti).to_have_class("team-item presence-away", timeout=15000)

            desks["budi"].context.close()  # the tab is gone
            expect(budi_seen_by_siti).to_have_class("team-item presence-offline", timeout=15000)
        finally:
            browser.close()


def test_a_librarian_transfers_a_chat_to_a_colleague_while_the_patron_watches(
        live_daphne, host_page, django_user_model):
    from playwright.sync_api import expect, sync_playwright

    origin, write_page = host_page
    site, users = library(django_user_model, origin, librarians=(("siti", "Siti"), ("budi", "Budi")))
    service = live_daphne()
    page_url = write_page(service, site.key)
    note = "Looking for 1970s newspapers; the general catalogue has nothing."

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            siti, budi = log_in(browser, service, "siti", "Siti"), log_in(browser, service, "budi", "Budi")
            patron = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
            patron.goto(page_url)
            patron.locator("#ruangtanya-widget button.l").click()
            chat = patron.frame_locator("#ruangtanya-widget iframe")
            chat.locator("#q").fill("Do you keep old newspapers?")
            chat.locator("#start-form button[type=submit]").click()

            siti.locator(".queue-item").filter(has_text="old newspapers").get_by_role("button").click()
            expect(chat.locator("#status-text")).to_contain_text("Siti", timeout=15000)
            expect(siti.locator(".team-item.presence-available").filter(has_text="Budi")).to_have_count(1)

            siti.click("#transfer-button")
            siti.select_option("#transfer-target", f"l:{users['budi'].pk}")
            siti.fill("#transfer-note", note)
            siti.click("#transfer-send")
            expect(siti.locator("#transfer-pending")).to_contain_text("Budi", timeout=15000)

            offer = budi.locator(".offer")
            expect(offer).to_contain_text(note, timeout=15000)
            offer.get_by_role("button", name="Accept").click()
            expect(budi.locator("#chat-notes")).to_contain_text(note, timeout=15000)
            expect(budi.locator(".message-list")).to_contain_text("Do you keep old newspapers?")
            expect(siti.locator("#global-alerts")).to_contain_text("now with Budi", timeout=15000)

            expect(chat.locator("#status-text")).to_contain_text("Budi", timeout=15000)
            expect(chat.locator("#log")).to_contain_text("Budi has taken over the chat.")
            budi.fill("#composer-input", "Yes, in the local history room.")
            budi.locator("#composer-input").press("Enter")
            expect(chat.locator(".msg-librarian")).to_contain_text("Yes, in the local history room.", timeout=15000)
            assert note not in chat.locator("body").inner_text()
        finally:
            browser.close()


def test_nobody_on_duty_the_patron_leaves_a_question_and_a_librarian_answers(
        live_daphne, host_page, django_user_model):
    from playwright.sync_api import expect, sync_playwright

    from reference.models import Message

    origin, write_page = host_page
    site, _users = library(django_user_model, origin)
    service = live_daphne()
    page_url = write_page(service, site.key)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            patron = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
            patron.goto(page_url)
            patron.locator("#ruangtanya-widget button.l").click()
            chat = patron.frame_locator("#ruangtanya-widget iframe")
            expect(chat.locator("#desk-notice")).to_contain_text("Nobody can answer live right now", timeout=15000)
            chat.locator("#q").fill("Can I renew a book by phone?")
            chat.locator("#start-send").click()  # no email yet: the browser asks for it, nothing is sent
            expect(chat.locator("#email:invalid")).to_have_count(1)
            chat.locator("#email").fill("rina@example.org")
            expect(chat.locator("#start-send")).to_have_text("Leave my question")
            chat.locator("#start-send").click()
            expect(chat.locator("#ended-text")).to_have_text(
                "Your question has been sent. The answer will come by email.", timeout=15000)

            desk = log_in(browser, service, "siti", "Siti")
            desk.goto(f"{service}/staff/offline/")
            question = desk.locator(".offline-question").filter(has_text="Can I renew a book by phone?")
            question.locator("textarea").fill("Yes: call 0621-21000 during opening hours.")
            question.get_by_role("button").click()
            expect(desk.locator(".notice-success")).to_be_visible()
            expect(desk.locator(".offline-question")).to_have_count(0)
        finally:
            browser.close()
    answer = Message.objects.filter(role="librarian").get()
    assert answer.text == "Yes: call 0621-21000 during opening hours."  # kept in the transcript
