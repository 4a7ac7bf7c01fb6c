"""FAQ search on whichever database the suite runs on (SQLite FTS5 or PostgreSQL GIN)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from reference.faq import services
from reference.faq.search import get_backend, search
from reference.faq.search.analysis import analyse, analyse_query, stem_id
from reference.models import FaqEntry, FaqSearchMiss, FaqSynonym

ENTRIES = [
    ("perpanjang-pinjaman", "id", "Bagaimana cara memperpanjang masa peminjaman buku?",
     "Perpanjangan dapat dilakukan sekali lewat aplikasi atau di meja sirkulasi.", ["peminjaman"], None),
    ("perpanjang-pinjaman-en", "en", "How do I renew my loans?",
     "Loans can be renewed once in the app or at the circulation desk.", ["loans"], "perpanjang-pinjaman"),
    ("denda-keterlambatan", "id", "Berapa denda keterlambatan pengembalian buku?",
     "Denda Rp500 per buku per hari, dibayar di meja sirkulasi.", ["denda"], None),
    ("wifi", "id", "Apakah tersedia wifi gratis untuk pengunjung?",
     "Ya, kata sandi wifi ada di meja informasi.", ["fasilitas"], None),
    ("volunteer-program", "en", "Can I volunteer at the library?",
     "Yes. Volunteers help with reading sessions for children every Saturday.", ["volunteering"], None),
    ("jam-buka", "id", "Kapan jam buka perpustakaan?", "Senin sampai Kamis pukul 08.00–16.00.", ["jam"], None),
]


@pytest.fixture
def faq(db):
    services.import_records([
        {"slug": s, "language": lang, "question": q, "answer": a, "topics": t,
         **({"translation_of": tr} if tr else {})} for s, lang, q, a, t, tr in ENTRIES])
    FaqSynonym.objects.create(words="relawan, sukarelawan, volunteer")
    FaqSynonym.objects.create(words="pinjam, loan, borrow")


def slugs(q, lang="id", **kw):
    return [h.slug for h in search(q, lang=lang, **kw).results]


def test_backend_matches_the_database():
    assert get_backend().vendor == connection.vendor


def test_indonesian_stemming(db):
    assert {stem_id(w) for w in ("meminjam", "peminjaman", "pinjam", "dipinjam")} == {"pinjam"}
    assert stem_id("mengembalikan") == stem_id("pengembalian") == "kembali"
    assert analyse("Bagaimana memperpanjang peminjaman?", "id") == ["panjang", "pinjam"]


def test_informal_spellings_are_normalised(db):
    assert [w for w, _ in analyse_query("gmn cara pinjem buku yg udh telat kak")] == ["pinjam", "buku", "telat"]


def test_formal_and_stemmed_queries(faq):
    assert slugs("perpanjangan pinjaman")[0] == "perpanjang-pinjaman"
    assert slugs("denda terlambat mengembalikan buku")[0] == "denda-keterlambatan"


def test_informal_query(faq):
    assert slugs("kak gmn cara perpanjang pinjeman buku yg udh mau abis")[0] == "perpanjang-pinjaman"


def test_typos(faq):
    assert slugs("dendda keterlambtan")[0] == "denda-keterlambatan"
    assert slugs("wiifi gratiss")[0] == "wifi"


def test_long_chatty_query(faq):
    q = ("Halo kak, selamat siang. Saya minggu lalu pinjam dua buku untuk tugas sekolah, tapi ternyata "
         "belum selesai dibaca. Apakah bisa diperpanjang masa pinjamnya? Terima kasih banyak ya kak")
    assert "perpanjang-pinjaman" in slugs(q)[:2]


def test_question_counts_more_than_answer(faq):
    services.save_entry(slug="sirkulasi", language="id", question="Apa itu meja sirkulasi?",
                        answer="Tempat layanan peminjaman.", status=FaqEntry.Status.PUBLISHED)
    assert slugs("meja sirkulasi")[0] == "sirkulasi"


def test_a_translation_pair_fills_one_result_in_the_askers_language(faq):
    for lang, shown, other in (("id", "perpanjang-pinjaman", "perpanjang-pinjaman-en"),
                               ("en", "perpanjang-pinjaman-en", "perpanjang-pinjaman")):
        results = search("how do I renew loans", lang=lang).results
        assert results[0].slug == shown
        assert [t["slug"] for t in results[0].translations] == [other]
        assert other not in [h.slug for h in results]


def test_answer_only_in_other_language_is_not_hidden(faq):
    assert slugs("bagaimana menjadi relawan", lang="id")[0] == "volunteer-program"


def test_nothing_rather_than_noise(faq):
    assert slugs("resep rendang padang pedas") == []
    assert search("zzzz qqqq", lang="id").results == []


def test_scores_are_ordered_and_threshold_applies(faq, settings):
    results = search("denda keterlambatan buku", lang="id").results
    assert results and all(0 < h.score <= 1 for h in results)
    assert [h.score for h in results] == sorted([h.score for h in results], reverse=True)
    settings.FAQ_SEARCH_THRESHOLD = 0.99
    assert search("denda keterlambatan buku", lang="id").results == []


def test_only_published_entries_are_found(faq):
    entry = FaqEntry.objects.get(slug="wifi")
    services.archive(entry)
    assert "wifi" not in slugs("wifi gratis")
    services.publish(entry)
    assert slugs("wifi gratis")[0] == "wifi"
    services.save_entry(slug="draft-only", language="id", question="Apakah ada kolam renang?", answer="Tidak.")
    assert slugs("kolam renang") == []


def test_edits_reach_the_index(faq):
    entry = FaqEntry.objects.get(slug="jam-buka")
    services.save_entry(entry=entry, slug="jam-buka", language="id", question="Kapan perpustakaan tutup?",
                        answer="Pukul 16.00.", topics=[])
    assert slugs("kapan tutup")[0] == "jam-buka"


def test_staff_synonyms_take_effect(faq):
    FaqSynonym.objects.all().delete()  # without migrate's shipped list, which already links them
    assert slugs("layanan daring hotspot") == []
    FaqSynonym.objects.create(words="wifi, hotspot")
    assert slugs("hotspot gratis")[0] == "wifi"


def test_misses_are_counted_for_staff(faq):
    for q in ("resep rendang", "Resep   RENDANG!"):
        response = search(q, lang="id")
        assert response.results == []
        services.record_miss(q, language="id", words=response.words)
    miss = FaqSearchMiss.objects.get()
    assert miss.count == 2 and miss.query == "resep rendang"
    services.record_miss("RESEP rendang", language="id")  # without the search's words: analysed again
    assert FaqSearchMiss.objects.get().count == 3


def test_search_only_reads(faq):
    with CaptureQueriesContext(connection) as queries:
        assert search("resep rendang", lang="id").results == []
        assert search("denda keterlambatan buku", lang="id").results
    writes = [q["sql"] for q in queries.captured_queries
              if q["sql"].lstrip().split()[0].upper() in ("INSERT", "UPDATE", "DELETE", "CREATE", "DROP")]
    assert writes == [] and queries.captured_queries
    assert not FaqSearchMiss.objects.exists()


def test_edits_leave_the_old_words_behind(faq):
    FaqSynonym.objects.all().delete()  # the shipped "jam, buka, tutup" group would link old and new words
    entry = FaqEntry.objects.get(slug="jam-buka")
    services.save_entry(entry=entry, slug="jam-buka", language="id", question="Kapan perpustakaan tutup?",
                        answer="Pukul 16.00.", topics=[])
    assert "jam-buka" not in slugs("jam buka senin kamis")


def test_the_engine_ranks_at_most_the_budget_newest_matches(faq):
    for i in range(3):
        services.save_entry(slug=f"loker-{i}", language="id", question=f"Di mana loker nomor {i}?",
                            answer="Di lantai dasar.", status=FaqEntry.Status.PUBLISHED)
    newest = list(FaqEntry.objects.filter(slug__startswith="loker-").order_by("-pk").values_list("pk", flat=True))
    assert sorted(get_backend().candidates(["loker"], limit=10, rank_budget=2)) == sorted(newest[:2])
    assert sorted(get_backend().candidates(["loker"], limit=10, rank_budget=10)) == sorted(newest)
    assert get_backend().candidates([], limit=10, rank_budget=10) == []


def test_common_terms_are_scored_but_not_retrieved_when_the_index_is_large(faq, settings):
    # Every term counts as common and the budget holds one entry: only the rarest term is asked
    # for, and the entries it finds are still scored on every query word.
    settings.FAQ_SEARCH_CANDIDATE_MAX_DF_FLOOR = 0
    settings.FAQ_SEARCH_CANDIDATE_MAX_DF = 0.0
    settings.FAQ_SEARCH_RANK_BUDGET = 1
    assert slugs("denda keterlambatan buku")[0] == "denda-keterlambatan"
    assert slugs("cara perpanjang pinjaman buku")[0] == "perpanjang-pinjaman"
    assert slugs("resep rendang padang pedas") == []


def test_migrate_installs_the_shipped_lists(db):
    from reference.faq import defaults
    from reference.models import FaqSpelling, FaqTopic

    assert set(FaqSynonym.objects.values_list("words", flat=True)) == set(defaults.synonym_groups())
    assert dict(FaqSpelling.objects.values_list("informal", "standard")) == defaults.spellings()
    assert FaqTopic.objects.get(slug="local-history").label_en == "Local history"
    assert FaqTopic.objects.get(slug="loans").label_id == "Peminjaman"
