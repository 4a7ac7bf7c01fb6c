"""One language at a time, in headless Chromium: the widget's FAQ suggestions give a translation
pair one slot and list the results that are not confident under "Related"; /faq/ reads in the
reader's language and switches with the language menu."""

import json
from urllib.parse import urlencode

from reference.faq import services
from reference.faq.models import FaqTopic
from reference.models import Queue
from tests.browser import MARKS, ask, assert_accessible, claim, needs_axe
from widgets.models import Site

pytestmark = MARKS

RECORDS = [
    {"slug": "jam-buka", "language": "id", "question": "Kapan jam buka perpustakaan?",
     "answer": "Senin sampai Kamis pukul 08.00–16.00, Jumat 08.00–11.00.", "topics": ["hours"]},
    {"slug": "jam-buka-en", "language": "en", "question": "What are the library's opening hours?",
     "answer": "Monday to Thursday 08.00–16.00, Friday 08.00–11.00.", "topics": ["hours"],
     "translation_of": "jam-buka"},
    {"slug": "jam-buka-libur", "language": "id", "question": "Apakah perpustakaan buka pada hari libur nasional?",
     "answer": "Tidak, perpustakaan tutup pada hari libur nasional.", "topics": ["hours"]},
    {"slug": "wifi", "language": "en", "question": "Is there wifi in the library?",
     "answer": "Yes: free wifi, the password is at the desk.", "topics": ["facilities"]},
]
QUERY = "library opening hours"


def faq():
    services.import_records(RECORDS)
    for slug, label_id, label_en in [("hours", "Jam buka", "Opening hours"), ("facilities", "Fasilitas", "Facilities")]:
        FaqTopic.objects.update_or_create(slug=slug, defaults={"label_id": label_id, "label_en": label_en})


def widget(new_page, service, lang):
    queue = Queue.objects.get_or_create(name="Umum", slug="umum")[0]
    site = Site.objects.get_or_create(key="faq-pages", defaults={
        "name": "Perpustakaan Kota", "default_queue": queue, "allowed_origins": "http://localhost:1"})[0]
    page = new_page()
    page.goto(f"{service}/widget/sites/{site.key}/chat/?lang={lang}")
    return page


def api(page, service, lang, q):
    """What the widget is given for `q`: the same request it makes."""
    query = urlencode({"limit": 3, "log": 0, "lang": lang, "q": q})
    return page.request.get(f"{service}/api/faq/search?{query}").json()["results"]


def slugs(items):
    return [href.rstrip("/").rsplit("/", 1)[-1] for href in items.locator(".faq-question").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))")]


def test_the_widget_gives_a_pair_one_slot_and_lists_the_uncertain_under_related(live_daphne, new_page):
    from playwright.sync_api import expect

    faq()
    service = live_daphne()
    for lang, shown, other in [("id", "jam-buka", "jam-buka-en"), ("en", "jam-buka-en", "jam-buka")]:
        page = widget(new_page, service, lang)
        results = api(page, service, lang, QUERY)
        confident = [r["slug"] for r in results if r["confident"]]
        related = [r["slug"] for r in results if not r["confident"]]
        assert confident and related, f"the data needs answers and related ones: {json.dumps(results)}"
        assert shown in confident + related and other not in confident + related

        page.locator("#q").fill(QUERY)
        box = page.locator("#faq-suggestions")
        expect(box.locator(".faq-item")).to_have_count(len(results))
        assert slugs(box.locator(".faq-list:not(.faq-related) .faq-item")) == confident
        assert slugs(box.locator(".faq-related .faq-item")) == related
        heading = json.loads(page.locator("#faq-strings-related").text_content())  # "Related", translated
        expect(box.locator(".faq-related-title")).to_have_text(heading)
        # The pair's other member is a link from its slot, not a slot of its own.
        pair = box.locator(".faq-item", has=page.locator(f'a.faq-question[href$="/faq/{shown}/"]'))
        expect(pair.locator(".faq-translation")).to_have_attribute("hreflang", "en" if lang == "id" else "id")
        expect(box.locator(f'a.faq-question[href$="/faq/{other}/"]')).to_have_count(0)
        # Only the question in the other language is marked, with its own name.
        english_only = "wifi" in related and lang == "id"
        expect(box.locator('.faq-language[lang="en"]')).to_have_count(1 if english_only else 0)
        if english_only:
            expect(box.locator('.faq-language[lang="en"]')).to_have_text("English")
        # Only answers take "This answered my question".
        expect(box.locator(".faq-answered")).to_have_count(len(confident))
        expect(box.locator(".faq-related .faq-answered")).to_have_count(0)

        page.locator("#q").fill("resep rendang padang yang enak")
        expect(box).to_be_hidden()


def test_a_question_only_the_answers_mention_shows_only_related(live_daphne, new_page):
    from playwright.sync_api import expect

    faq()
    service = live_daphne()
    page = widget(new_page, service, "en")
    query = "password"  # in an answer only: related, not an answer ("tutup" is now a synonym of "buka")
    results = api(page, service, "en", query)
    assert results and not any(r["confident"] for r in results), json.dumps(results)
    page.locator("#q").fill(query)
    box = page.locator("#faq-suggestions")
    expect(box.locator(".faq-related .faq-item")).to_have_count(len(results))
    expect(box.locator("h3")).to_have_text(["Related"])
    expect(box.locator(".faq-answered")).to_have_count(0)


@needs_axe
def test_the_dashboard_suggests_a_pair_once_and_the_uncertain_under_related(library_page, new_page,
                                                                              logged_in_dashboard):
    from playwright.sync_api import expect

    faq()
    site, users, service, page_url = library_page(lang="en")
    desk = logged_in_dashboard(service)
    lang = desk.evaluate("document.documentElement.lang")
    results = api(desk, service, lang, QUERY)
    assert any(r["confident"] for r in results) and not all(r["confident"] for r in results), json.dumps(results)
    ask(new_page, page_url, QUERY)
    claim(desk, QUERY)
    box = desk.locator("#faq-suggestions")
    expect(box.locator(".faq-item")).to_have_count(len(results), timeout=15000)
    assert slugs(box.locator(".faq-list:not(.faq-related) .faq-item")) == [r["slug"] for r in results if r["confident"]]
    assert slugs(box.locator(".faq-related .faq-item")) == [r["slug"] for r in results if not r["confident"]]
    expect(box.locator(".faq-question[href$='/faq/jam-buka/'], .faq-question[href$='/faq/jam-buka-en/']")
           ).to_have_count(1)
    # A related entry can still go into the reply.
    box.locator(".faq-related .faq-insert-link").first.click()
    expect(desk.locator("#composer-input")).to_have_value(next(r["url"] for r in results if not r["confident"]))
    assert_accessible(desk, "the dashboard's FAQ suggestions with answers and related ones")


@needs_axe
def test_the_faq_reads_in_the_readers_language_and_switches_with_the_menu(live_daphne, new_page):
    from playwright.sync_api import expect

    faq()
    service = live_daphne()
    page = new_page(locale="id-ID")
    page.goto(f"{service}/faq/")
    expect(page.locator("h1")).to_have_text("Pertanyaan yang sering diajukan")
    expect(page.locator("h3")).to_have_text(["Fasilitas", "Jam buka"])
    topics = page.locator('section[aria-labelledby="topics-heading"]')
    expect(topics.locator('a[href="/faq/jam-buka/"]')).to_have_count(1)
    expect(topics.locator('a[href="/faq/jam-buka-en/"]')).to_have_count(0)
    wifi = topics.locator("li", has=page.locator('a[href="/faq/wifi/"]'))
    expect(wifi.locator('.faq-language[lang="en"]')).to_have_text("English")
    assert_accessible(page, "/faq/ in Indonesian with a question only in English")

    page.select_option("#lang-select", "en")
    expect(page.locator("h1")).to_have_text("Frequently asked questions")
    expect(page.locator("h3")).to_have_text(["Facilities", "Opening hours"])
    expect(topics.locator('a[href="/faq/jam-buka-en/"]')).to_have_count(1)
    expect(topics.locator('a[href="/faq/jam-buka/"]')).to_have_count(0)
    expect(topics.locator('a[href="/faq/jam-buka-libur/"] + .faq-language[lang="id"]')).to_have_text(
        "Bahasa Indonesia")
    page.get_by_role("link", name="Opening hours", exact=True).click()
    expect(page.locator("h1")).to_have_text("Opening hours")
    expect(page.locator(".faq-list li")).to_have_count(2)
    assert_accessible(page, "a topic page in English")
