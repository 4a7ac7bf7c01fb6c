"""The widget's FAQ suggestions in headless Chromium: type a question, see answers, "this answered it"."""

import os

import pytest
from django.conf import settings

from reference.faq import services
from reference.models import FaqEntry, Queue
from widgets.models import Site

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"chromium not found at {CHROMIUM}"),
    pytest.mark.skipif(bool(settings.DATABASE_URL), reason="runs in the embedded-default pass"),
]


def test_widget_suggests_faq_answers_while_typing(live_daphne):
    from playwright.sync_api import expect, sync_playwright

    queue = Queue.objects.create(name="Umum", slug="umum")
    site = Site.objects.create(name="Perpustakaan Kota", key="faq-site", default_queue=queue,
                               allowed_origins="http://localhost:1")
    services.import_records([{"slug": "perpanjang-pinjaman", "language": "id",
                              "question": "Bagaimana cara memperpanjang masa peminjaman buku?",
                              "answer": "Lewat aplikasi, menu Pinjaman, atau di meja sirkulasi.", "topics": []}])
    service = live_daphne()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page()
            page.goto(f"{service}/widget/sites/{site.key}/chat/?lang=id")
            expect(page.locator("#faq-opt-out")).to_be_visible()
            page.locator("#q").fill("kak gmn cara perpanjang pinjeman buku?")
            item = page.locator("#faq-suggestions .faq-item")
            expect(item).to_have_count(1)
            expect(item.locator(".faq-question")).to_have_text("Bagaimana cara memperpanjang masa peminjaman buku?")
            item.locator(".faq-answered").click()
            expect(page.locator("#faq-suggestions .faq-done")).to_be_visible()
            expect(page.locator("#start-form")).to_be_hidden()
        finally:
            browser.close()
    for _ in range(50):
        if FaqEntry.objects.get(slug="perpanjang-pinjaman").answered_in_widget == 1:
            break
        import time

        time.sleep(0.1)
    assert FaqEntry.objects.get(slug="perpanjang-pinjaman").answered_in_widget == 1
