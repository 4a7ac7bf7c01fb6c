"""The public FAQ pages keep to the reader's language: /faq/, /faq/topic/<slug>/, search and an entry.

A translation pair is listed once, by its member in the reader's language; a question that exists
only in the other language is listed once too, marked with that language's name (in that language).
"""

import re

import pytest
from django.conf import settings

from reference.faq import services
from reference.faq.models import FaqEntry, FaqTopic
from reference.faq.search import search

ID_ONLY_MARK = '<span class="tag faq-language" lang="id">Bahasa Indonesia</span>'
EN_ONLY_MARK = '<span class="tag faq-language" lang="en">English</span>'


@pytest.fixture
def faq(db):
    services.import_records([
        {"slug": "jam-buka", "language": "id", "question": "Kapan jam buka perpustakaan?",
         "answer": "Senin–Kamis 08.00–16.00.", "topics": ["hours"]},
        {"slug": "jam-buka-en", "language": "en", "question": "What are the library's opening hours?",
         "answer": "Monday to Thursday 08.00–16.00.", "topics": ["hours"], "translation_of": "jam-buka"},
        {"slug": "wifi", "language": "en", "question": "Is there wifi in the library?",
         "answer": "Yes: free wifi, the password is at the desk.", "topics": ["facilities"]},
        {"slug": "denda", "language": "id", "question": "Berapa denda keterlambatan pengembalian buku?",
         "answer": "Rp500 per buku per hari.", "topics": ["fines"]},
        {"slug": "ruang-baca", "language": "id", "question": "Apakah ruang baca boleh untuk rapat?",
         "answer": "Tidak, ruang baca untuk membaca.", "topics": ["reading-room"]},
        {"slug": "parkir", "language": "id", "question": "Di mana tempat parkir sepeda?",
         "answer": "Di belakang gedung.", "topics": []},
    ])
    services.save_entry(slug="rahasia", language="id", question="Kapan rapat internal staf?", answer="Draf.",
                        topics=["hours"])
    # Set here, not taken from migration 0018: a transactional test elsewhere may have flushed its rows.
    for slug, label_id, label_en in [("hours", "Jam buka", "Opening hours"), ("facilities", "Fasilitas", "Facilities"),
                                     ("fines", "Denda", "Fines"), ("children", "Anak-anak", "Children")]:
        FaqTopic.objects.update_or_create(slug=slug, defaults={"label_id": label_id, "label_en": label_en})
    FaqTopic.objects.filter(slug="reading-room").delete()  # a topic nobody has labelled


def page(client, url, language=None, **params):
    headers = {"HTTP_ACCEPT_LANGUAGE": language} if language else {}
    response = client.get(url, params, **headers)
    assert response.status_code == 200
    return response.content.decode()


def links_to(html, slug):
    return len(re.findall(rf'href="/faq/{re.escape(slug)}/"', html))


def headings(html):
    return [re.sub(r"<[^>]+>", "", h).strip() for h in re.findall(r"<h3>(.*?)</h3>", html)]


# --- /faq/ ----------------------------------------------------------------------------------------
def test_the_index_in_indonesian_lists_each_question_once_in_indonesian(client, faq):
    html = page(client, "/faq/", "id")
    assert links_to(html, "jam-buka") == 1 and links_to(html, "jam-buka-en") == 0
    assert "What are the library&#x27;s opening hours?" not in html
    # Only in English: listed once, marked with its language.
    assert links_to(html, "wifi") == 1
    assert re.search(rf'<a href="/faq/wifi/" lang="en">Is there wifi in the library\?</a> {EN_ONLY_MARK}', html)
    assert ID_ONLY_MARK not in html  # the Indonesian questions are the reader's own
    assert headings(html) == ["Denda", "Fasilitas", "Jam buka", "Reading room", "Lainnya"]
    assert '<a href="/faq/topic/hours/">Jam buka</a>' in html
    assert "rapat internal" not in html  # a draft


def test_the_index_in_english_lists_the_pair_in_english_and_marks_indonesian_only_questions(client, faq):
    html = page(client, "/faq/", "en")
    assert links_to(html, "jam-buka-en") == 1 and links_to(html, "jam-buka") == 0
    assert "Kapan jam buka perpustakaan?" not in html
    assert re.search(rf'<a href="/faq/denda/" lang="id">Berapa denda keterlambatan pengembalian buku\?</a> '
                     rf'{ID_ONLY_MARK}', html)
    assert EN_ONLY_MARK not in html
    assert headings(html) == ["Facilities", "Fines", "Opening hours", "Reading room", "Other"]
    assert '<a href="/faq/topic/hours/">Opening hours</a>' in html


def test_the_language_cookie_chooses_the_language_too(client, faq):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = page(client, "/faq/")
    assert '<html lang="en">' in html and links_to(html, "jam-buka-en") == 1 and links_to(html, "jam-buka") == 0
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "id"
    html = page(client, "/faq/", "en")  # the cookie wins over the browser's Accept-Language
    assert '<html lang="id">' in html and links_to(html, "jam-buka") == 1 and links_to(html, "jam-buka-en") == 0


def test_most_viewed_counts_a_pair_once_with_the_views_of_both_languages(client, faq):
    FaqEntry.objects.filter(slug="jam-buka").update(view_count=2)
    FaqEntry.objects.filter(slug="jam-buka-en").update(view_count=3)
    FaqEntry.objects.filter(slug="wifi").update(view_count=4)
    html = page(client, "/faq/", "en")
    popular = html.split('id="popular-heading"')[1].split("</ol>")[0]
    assert re.findall(r'href="/faq/([\w-]+)/"', popular) == ["jam-buka-en", "wifi"]  # 5 views, then 4
    assert "5 views" in popular and "4 views" in popular
    html = page(client, "/faq/", "id")
    popular = html.split('id="popular-heading"')[1].split("</ol>")[0]
    assert re.findall(r'href="/faq/([\w-]+)/"', popular) == ["jam-buka", "wifi"]
    assert EN_ONLY_MARK in popular


def test_no_most_viewed_list_before_anything_was_viewed(client, faq):
    assert 'id="popular-heading"' not in page(client, "/faq/", "en")


def test_a_translation_whose_original_is_not_published_is_listed_alone(client, faq):
    FaqEntry.objects.filter(slug="jam-buka").update(status=FaqEntry.Status.DRAFT)
    html = page(client, "/faq/", "id")
    assert links_to(html, "jam-buka") == 0 and links_to(html, "jam-buka-en") == 1
    assert re.search(rf'href="/faq/jam-buka-en/" lang="en">[^<]+</a> {EN_ONLY_MARK}', html)


def test_an_empty_faq_says_so(client, db):
    assert "No questions have been published yet." in page(client, "/faq/", "en")


# --- /faq/topic/<slug>/ ---------------------------------------------------------------------------
def test_a_topic_page_in_both_languages(client, faq):
    html = page(client, "/faq/topic/hours/", "id")
    assert "<h1>Jam buka</h1>" in html and "<title>Jam buka ·" in html
    assert links_to(html, "jam-buka") == 1 and links_to(html, "jam-buka-en") == 0
    assert "rapat internal" not in html
    html = page(client, "/faq/topic/hours/", "en")
    assert "<h1>Opening hours</h1>" in html
    assert links_to(html, "jam-buka-en") == 1 and links_to(html, "jam-buka") == 0


def test_a_pair_belongs_to_the_topics_of_either_member(client, faq):
    FaqEntry.objects.filter(slug="jam-buka").update(topics=["hours", "Facilities"])  # as staff may spell it
    for language, slug in [("id", "jam-buka"), ("en", "jam-buka-en")]:
        html = page(client, "/faq/topic/facilities/", language)
        assert links_to(html, slug) == 1 and links_to(html, "wifi") == 1


def test_a_topic_only_in_the_other_language_marks_its_questions(client, faq):
    html = page(client, "/faq/topic/facilities/", "id")
    assert "<h1>Fasilitas</h1>" in html and EN_ONLY_MARK in html


def test_a_topic_nobody_labelled_reads_as_words(client, faq):
    html = page(client, "/faq/topic/reading-room/", "en")
    assert "<h1>Reading room</h1>" in html and links_to(html, "ruang-baca") == 1


def test_a_labelled_topic_without_questions_says_so(client, faq):
    html = page(client, "/faq/topic/children/", "en")
    assert "<h1>Children</h1>" in html and "No questions on this topic have been published yet." in html


@pytest.mark.parametrize("url", ["/faq/topic/no-such-topic/", "/faq/topic/Jam%20Buka/", "/faq/topic/../",
                                 "/faq/topic/jam_buka!/", "/faq/topic/" + "x" * 300 + "/"])
def test_an_unknown_or_malformed_topic_is_404(client, faq, url):
    assert client.get(url).status_code == 404


def test_a_topic_only_a_draft_has_is_404_unless_labelled(client, faq):
    services.save_entry(slug="rahasia-2", language="id", question="Rapat staf?", answer="Draf.", topics=["secret"])
    FaqTopic.objects.filter(slug="secret").delete()  # whether saving labels a new topic is the editor's affair
    assert client.get("/faq/topic/secret/").status_code == 404
    FaqTopic.objects.create(slug="secret", label_id="Rahasia", label_en="Secret")
    html = page(client, "/faq/topic/secret/", "en")
    assert "<h1>Secret</h1>" in html and "Rapat staf?" not in html


# --- /faq/<slug>/ ---------------------------------------------------------------------------------
def test_an_entry_links_to_its_translation_and_labels_its_topics(client, faq):
    html = page(client, "/faq/jam-buka/", "en")
    assert '<a href="/faq/jam-buka-en/" hreflang="en">Read in English</a>' in html
    assert '<a href="/faq/topic/hours/">Opening hours</a>' in html
    assert ID_ONLY_MARK in html  # read in English, written in Indonesian
    html = page(client, "/faq/jam-buka-en/", "id")
    assert '<a href="/faq/jam-buka/" hreflang="id">' in html and '<a href="/faq/topic/hours/">Jam buka</a>' in html
    html = page(client, "/faq/wifi/", "en")
    assert "hreflang" not in html and ID_ONLY_MARK not in html and EN_ONLY_MARK not in html


# --- /faq/search ----------------------------------------------------------------------------------
def result_links(html):
    return re.findall(r'<li lang="(\w+)"><a href="/faq/([\w-]+)/">', html)


def test_search_shows_a_pair_once_in_the_readers_language(client, faq):
    for language, shown, other in [("id", "jam-buka", "jam-buka-en"), ("en", "jam-buka-en", "jam-buka")]:
        for query in ("jam buka perpustakaan", "library opening hours"):
            html = page(client, "/faq/search", language, q=query)
            assert result_links(html)[0] == (language, shown)
            assert links_to(html, shown) == 1 and links_to(html, other) == 0


def test_search_marks_an_answer_only_in_the_other_language(client, faq):
    html = page(client, "/faq/search", "id", q="wifi")
    assert result_links(html) == [("en", "wifi")] and EN_ONLY_MARK in html


def test_search_puts_the_results_that_are_not_confident_under_related(client, faq):
    query = "denda terlambat dan ruang baca"
    hits = search(query, lang="en", limit=10).results
    assert any(h.confident for h in hits) and not all(h.confident for h in hits), "the data needs both kinds"
    html = page(client, "/faq/search", "en", q=query)
    answers, related = html.split('id="related-heading"')
    assert [s for _, s in result_links(answers)] == [h.slug for h in hits if h.confident]
    assert [s for _, s in result_links(related)] == [h.slug for h in hits if not h.confident]
    assert "Related questions" in related


def test_search_that_finds_nothing_says_so(client, faq):
    html = page(client, "/faq/search", "en", q="resep rendang padang")
    assert "No answer matches" in html and "related-heading" not in html and result_links(html) == []


@pytest.mark.parametrize("params", [{}, {"q": ""}, {"q": "   "}, {"q": "x" * 5000},
                                    {"q": "<script>alert(1)</script>"}, {"q": "%%%"}, {"q": "🙂 " * 50},
                                    {"q": ["jam", "wifi"]}, {"unknown": "1"}])
def test_search_page_takes_any_query_string(client, faq, params):
    html = page(client, "/faq/search", "en", **params)
    assert "<script>alert(1)" not in html


def test_a_query_with_a_nul_character_is_refused_in_words(client, faq):
    response = client.get("/faq/search", {"q": "jam\x00buka"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400 and "NUL" in response.content.decode()


def test_the_search_page_escapes_and_shortens_the_query(client, faq):
    html = page(client, "/faq/search", "en", q="<b>zzzq</b>" + "y" * 2000)
    assert "<b>zzzq" not in html
    assert 'value="&lt;b&gt;zzzq&lt;/b&gt;' + "y" * 989 + '"' in html  # the first 1,000 characters


def test_the_lists_read_the_entries_once_however_many_there_are(client, faq):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries(url):
        with CaptureQueriesContext(connection) as captured:
            page(client, url, "en")
        return len(captured)

    before = {url: queries(url) for url in ("/faq/", "/faq/topic/hours/")}
    services.import_records([{"slug": f"extra-{n}", "language": "id", "question": f"Pertanyaan {n}?",
                              "answer": "Jawaban.", "topics": ["hours", f"extra-{n % 3}"]} for n in range(20)])
    assert {url: queries(url) for url in before} == before
    assert before["/faq/"] <= 3, "the entries, the topic labels (and nothing per entry)"
