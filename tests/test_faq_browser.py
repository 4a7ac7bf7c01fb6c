"""The widget's FAQ suggestions in headless Chromium: type a question, see answers, "this answered it"."""

from reference.faq import services
from reference.models import FaqEntry, Queue
from tests.browser import MARKS
from widgets.models import Site

pytestmark = MARKS


def test_widget_suggests_faq_answers_while_typing(live_daphne, new_page):
    from playwright.sync_api import expect

    queue = Queue.objects.create(name="Umum", slug="umum")
    site = Site.objects.create(name="Perpustakaan Kota", key="faq-site", default_queue=queue,
                               allowed_origins="http://localhost:1")
    services.import_records([{"slug": "perpanjang-pinjaman", "language": "id",
                              "question": "Bagaimana cara memperpanjang masa peminjaman buku?",
                              "answer": "Lewat aplikasi, menu Pinjaman, atau di meja sirkulasi.", "topics": []}])
    service = live_daphne()
    page = new_page(viewport={"width": 1280, "height": 720})  # Playwright's default size
    page.goto(f"{service}/widget/sites/{site.key}/chat/?lang=id")
    expect(page.locator("#faq-opt-out")).to_be_visible()
    page.locator("#q").fill("kak gmn cara perpanjang pinjeman buku?")
    item = page.locator("#faq-suggestions .faq-item")
    expect(item).to_have_count(1)
    expect(item.locator(".faq-question")).to_have_text("Bagaimana cara memperpanjang masa peminjaman buku?")
    item.locator(".faq-answered").click()
    expect(page.locator("#faq-suggestions .faq-done")).to_be_visible()
    expect(page.locator("#start-form")).to_be_hidden()
    for _ in range(50):
        if FaqEntry.objects.get(slug="perpanjang-pinjaman").answered_in_widget == 1:
            break
        import time

        time.sleep(0.1)
    assert FaqEntry.objects.get(slug="perpanjang-pinjaman").answered_in_widget == 1
