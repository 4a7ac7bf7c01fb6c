"""Headless Chromium for the browser tests: one browser for the whole session, a fresh context for
every page, a librarian's dashboard, and a library's own page on another origin that embeds the
widget. tests/conftest.py imports the fixtures; a browser test module sets `pytestmark = MARKS`
(or BROWSER_MARKS when it needs no database).

Playwright's sync API runs its event loop in a greenlet and marks that loop as running for as long
as Playwright is started. A session-long browser must not leave it marked between its tests: the
suite's asyncio tests start loops of their own, and Django refuses database calls while a loop runs.
So a test's `new_page` fixture marks the loop running for that test only, and lets Django's ORM be
used from the test's (synchronous) code meanwhile, as Playwright's documentation advises for Django
(DJANGO_ALLOW_ASYNC_UNSAFE). The servers under test never get that setting (see `live_daphne`).
"""

import asyncio
import functools
import http.server
import json
import os
import shutil
import tempfile
import threading
from pathlib import Path

import pytest
from django.conf import settings

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run",
        "--disable-features=PaintHolding"]
VIEWPORT = {"width": 1280, "height": 800}
PASSWORD = "rahasia-123"  # every librarian made by library()
WIDGET = "#ruangtanya-widget"

if not os.path.exists(CHROMIUM) and os.environ.get("CI") == "true":
    raise RuntimeError(f"CI needs chromium at {CHROMIUM} (.ci/ensure-test-tools installs it)")

BROWSER_MARKS = [  # a browser test that needs no database
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"chromium not found at {CHROMIUM}"),
    pytest.mark.skipif(bool(settings.DATABASE_URL), reason="runs in the embedded-default pass"),
]
MARKS = [*BROWSER_MARKS, pytest.mark.django_db(transaction=True)]  # against a live daphne


def library(django_user_model, origin="", librarians=(("siti", "Siti"),), greeting=""):
    """A queue, a widget site for `origin`, and librarians (password rahasia-123) in the queue."""
    from reference.models import LibrarianProfile, Queue
    from widgets.models import Site

    queue = Queue.objects.create(name="Umum", slug="umum")
    site = Site.objects.create(name="Perpustakaan Kota", key="browser-site", default_queue=queue,
                               allowed_origins=origin, greeting=greeting)
    users = {}
    for username, name in librarians:
        users[username] = django_user_model.objects.create_user(username, password=PASSWORD, is_staff=True)
        LibrarianProfile.objects.create(user=users[username], display_name=name).queues.set([queue])
    return site, users


# ------------------------------------------------------------------------------------------------
# The browser
# ------------------------------------------------------------------------------------------------


class _Playwright:
    """Playwright, started once, with its event loop marked running only while a test uses it."""

    def __init__(self):
        from playwright.sync_api import sync_playwright

        self.manager = sync_playwright()
        self.playwright = self.manager.start()
        self.loop = self.manager._loop
        self.browser = None
        self.pause()

    def resume(self):
        asyncio._set_running_loop(self.loop)  # as Playwright has it between its own calls

    def pause(self):
        asyncio._set_running_loop(None)

    def chromium(self):
        if self.browser is None or not self.browser.is_connected():
            self.browser = self.playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        return self.browser

    def stop(self):
        self.resume()
        try:
            if self.browser is not None and self.browser.is_connected():
                self.browser.close()
        finally:
            self.playwright.stop()  # ends the loop, which unmarks it


@pytest.fixture(scope="session")
def _playwright():
    started = _Playwright()
    yield started
    started.stop()


@pytest.fixture
def browser(_playwright, monkeypatch):
    """The session's Chromium (launched by the first test that asks, again if it crashed)."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # the ORM in the test's own sync code
    _playwright.resume()
    try:
        yield _playwright.chromium()
    finally:
        _playwright.pause()


def csp_violations(page):
    """What the browser refused on `page` (any of its frames) because of a Content-Security-Policy,
    as its console said it; new_page fails a test whose pages have any."""
    return page._csp_violations


@pytest.fixture
def new_page(browser):
    """new_page(init_script=None, **context): a page in a fresh browser context (1280×800 unless
    `viewport` is given), the context's init script added first; every context is closed when the
    test ends. A test fails if one of its pages' consoles reports a Content-Security-Policy
    violation (`csp_violations`); a test that causes one on purpose empties the page's list."""
    contexts, pages = [], []

    def make(init_script=None, **context):
        contexts.append(browser.new_context(**{"viewport": VIEWPORT, **context}))
        if init_script:
            contexts[-1].add_init_script(init_script)
        page = contexts[-1].new_page()
        page._csp_violations = []
        page.on("console", lambda message: page._csp_violations.append(message.text)
                if "Content Security Policy" in message.text else None)
        pages.append(page)
        return page

    yield make
    refused = [text for page in pages for text in page._csp_violations]
    for context in contexts:
        try:
            context.close()
        except Exception:  # noqa: BLE001 - closed by the test already, or the browser has gone
            pass
    assert not refused, "Content-Security-Policy violations:\n" + "\n".join(refused)


def log_in(page, service, username, password=PASSWORD):
    """Fill in and send the login form, on to the dashboard (without waiting for it)."""
    page.goto(f"{service}/login/?next=/dashboard/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    return page


@pytest.fixture
def logged_in_dashboard(new_page):
    """logged_in_dashboard(service, username="siti", name="Siti"): a librarian opens the dashboard;
    returns its page once it is connected (they are then on duty)."""
    from playwright.sync_api import expect

    def open_dashboard(service, username="siti", name="Siti"):
        desk = log_in(new_page(), service, username)
        expect(desk.locator(".team-item.presence-available").filter(has_text=name)).to_have_count(1, timeout=15000)
        return desk

    return open_dashboard


# ------------------------------------------------------------------------------------------------
# The library's page, and what patrons and librarians do on theirs
# ------------------------------------------------------------------------------------------------


@pytest.fixture
def host_page():
    """A library page on another origin (localhost, not 127.0.0.1); write(service, key, lang, name)
    embeds the widget (with `data-lang` when `lang` is given) and returns the page's URL."""
    folder = tempfile.mkdtemp(prefix="host-page-")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=folder)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    origin = f"http://localhost:{server.server_address[1]}"

    def write(service_url, site_key, lang=None, name="index.html"):
        data_lang = f' data-lang="{lang}"' if lang else ""
        with open(os.path.join(folder, name), "w") as page:
            page.write('<!doctype html><html lang="id"><head><meta charset="utf-8">'
                       '<meta name="viewport" content="width=device-width, initial-scale=1">'
                       "<title>Perpustakaan</title></head><body><main><h1>Perpustakaan Kota</h1>"
                       "<p>Jam buka: Senin–Sabtu, 08.00–16.00.</p></main>"
                       f'<script src="{service_url}/widget.js" data-site="{site_key}"{data_lang} async></script>'
                       "</body></html>")
        return f"{origin}/{name}"

    yield origin, write
    server.shutdown()
    shutil.rmtree(folder, ignore_errors=True)


def open_launcher(page):
    """Press the widget's launcher; returns the chat panel's frame locator."""
    page.locator(f"{WIDGET} button.l").click()
    return page.frame_locator(f"{WIDGET} iframe")


def ask(new_page, page_url, question, *, name="", email=""):
    """A patron asks on the library's page (with a name and e-mail address if given); returns the chat panel."""
    from playwright.sync_api import expect

    patron = new_page()
    patron.goto(page_url)
    chat = open_launcher(patron)
    chat.locator("#q").fill(question)
    if name:
        chat.locator("#name").fill(name)
    if email:
        chat.locator("#email").fill(email)
    chat.locator("#start-form button[type=submit]").click()
    expect(chat.locator(".msg-patron")).to_have_count(1, timeout=15000)
    return chat


def claim(desk, question):
    """The librarian takes the waiting chat whose question contains `question`."""
    desk.locator(".queue-item").filter(has_text=question).get_by_role("button").click()


def claim_and_wait(desk, chat, question, name="Siti"):
    """The chat whose question contains `question` shows on the dashboard once; the librarian takes
    it; the patron's panel (`chat`) then says `name` has it."""
    from playwright.sync_api import expect

    item = desk.locator(".queue-item").filter(has_text=question)
    expect(item).to_have_count(1, timeout=15000)
    item.get_by_role("button").click()
    expect(chat.locator("#status-text")).to_contain_text(name, timeout=15000)


def type_reply(desk, text):
    """The librarian types `text` into the open chat and presses Enter."""
    desk.fill("#composer-input", text)
    desk.locator("#composer-input").press("Enter")


def close_chat(desk):
    """The librarian ends the open chat (and confirms)."""
    desk.click("#close-button")
    desk.click("#close-yes")


@pytest.fixture
def library_page(host_page, live_daphne, django_user_model):
    """library_page(lang=None, daphne_env=None, **library): `library()` for the host page's origin, a
    live daphne (with `daphne_env`), and the host page embedding the widget (with `lang`):
    returns (site, users, service URL, page URL)."""
    origin, write_page = host_page

    def make(lang=None, daphne_env=None, **kwargs):
        site, users = library(django_user_model, origin, **kwargs)
        service = live_daphne(daphne_env)
        return site, users, service, write_page(service, site.key, lang=lang)

    return make


# axe-core, injected into a page or frame: every page and state people see is checked with it.
AXE = Path(__file__).resolve().parent.parent / "node_modules" / "axe-core" / "axe.min.js"
if not AXE.exists() and os.environ.get("CI") == "true":
    raise RuntimeError(f"CI needs axe-core at {AXE} (`make browser-tools` runs npm ci)")

needs_axe = pytest.mark.skipif(not AXE.exists(), reason=f"axe-core not installed at {AXE}: run `make browser-tools`")


def assert_accessible(frame, what):
    """axe-core (WCAG 2.0/2.1 A and AA, and its best practices) finds nothing on this page or frame."""
    if not frame.evaluate("() => !!window.axe"):
        frame.evaluate(AXE.read_text(encoding="utf-8"))
    violations = frame.evaluate("""async () => {
        // A message still fading in is not its final colour: let entrance animations end first.
        document.getAnimations().filter(a => a.effect.getTiming().iterations !== Infinity).forEach(a => a.finish());
        const result = await axe.run(document, {resultTypes: ["violations"]});
        return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map(n => n.target.join(" ") + ": " + n.failureSummary)}));
    }""")
    assert not violations, f"axe-core on {what}:\n" + json.dumps(violations, indent=1, ensure_ascii=False)
