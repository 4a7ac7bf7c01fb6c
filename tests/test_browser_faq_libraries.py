"""Each library's FAQ in headless Chromium: the widget of a library's site suggests that library's
entries (faq-suggest.js sends `site=`), and the dashboard suggests the FAQ of the open chat's
library (`conversation=`), not the librarian's current one."""

from reference.faq import services
from reference.models import LibrarianProfile, Library, Queue, default_library
from tests.browser import MARKS, ask, claim
from widgets.models import Site

pytestmark = MARKS

QUERY = "kapan jam buka perpustakaan"


def two_faqs():
    """The first library's FAQ and Tebing Tinggi's: both answer QUERY."""
    default_library()  # the first library exists before Tebing Tinggi (a flushed database has none)
    tebing = Library.objects.create(name="Perpustakaan Tebing Tinggi", slug="tebing")
    services.import_records([
        {"slug": "jam-buka", "language": "id", "question": "Kapan jam buka perpustakaan?",
         "answer": "Senin sampai Kamis pukul 08.00–16.00.", "topics": []}])
    services.import_records([
        {"slug": "jam-buka-tebing", "language": "id", "question": "Kapan jam buka perpustakaan Tebing Tinggi?",
         "answer": "Setiap hari pukul 09.00–15.00.", "topics": []}], library=tebing)
    return tebing


def hrefs(box):
    return box.locator(".faq-question").evaluate_all("links => links.map(a => a.getAttribute('href'))")


def test_the_widget_suggests_its_sites_librarys_faq(live_daphne, new_page):
    from playwright.sync_api import expect

    tebing = two_faqs()
    queue = Queue.objects.create(name="Umum", slug="umum", library=tebing)
    site = Site.objects.create(name="Tebing", key="tebing-site", default_queue=queue, library=tebing,
                               allowed_origins="http://localhost:1")
    service = live_daphne()
    page = new_page()
    page.goto(f"{service}/widget/sites/{site.key}/chat/?lang=id")
    page.locator("#q").fill(QUERY)
    box = page.locator("#faq-suggestions")
    # The first search of a new server process loads the semantic model (seconds on a busy machine).
    expect(box.locator(".faq-item")).to_have_count(1, timeout=15000)
    assert [h.split("/faq/", 1)[1] for h in hrefs(box)] == ["jam-buka-tebing/"]
    assert all("/l/tebing/faq/" in h for h in hrefs(box))


def test_the_dashboard_suggests_the_faq_of_the_open_chats_library(library_page, new_page, logged_in_dashboard):
    from playwright.sync_api import expect

    tebing = two_faqs()
    site, users, service, page_url = library_page(lang="id")
    # Siti's home is the first library (her current one); the chat comes from Tebing Tinggi's site.
    Queue.objects.filter(pk=site.default_queue_id).update(library=tebing)
    Site.objects.filter(pk=site.pk).update(library=tebing)
    LibrarianProfile.objects.get(user=users["siti"]).other_libraries.set([tebing])
    desk = logged_in_dashboard(service)
    ask(new_page, page_url, QUERY)
    claim(desk, QUERY)
    box = desk.locator("#faq-suggestions")
    expect(box.locator(".faq-item")).to_have_count(1, timeout=15000)
    assert hrefs(box) == [f"{service}/l/tebing/faq/jam-buka-tebing/"]
