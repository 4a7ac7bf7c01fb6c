"""The FAQ search's semantic leg (reference/faq/search/semantic.py), on whichever database the
suite runs on: vectors stored with published entries, questions that share no word with their
answer, the setting that turns it off, the faq_embed command and bad input."""

import io
import time

import pytest
from django.core.management import CommandError, call_command
from django.db.models import F

from reference.faq import services
from reference.faq.search import search, semantic
from reference.faq.search.analysis import analyse_query
from reference.models import FaqEntry, FaqSynonym, FaqTerm

ENTRIES = [
    ("jam-buka", "id", "Kapan jam buka perpustakaan?", "Senin sampai Kamis pukul 08.00–16.00."),
    ("denda-keterlambatan", "id", "Berapa denda keterlambatan pengembalian buku?",
     "Denda Rp500 per buku per hari, dibayar di meja sirkulasi."),
    ("wifi", "id", "Apakah tersedia wifi gratis untuk pengunjung?", "Ya, kata sandi wifi ada di meja informasi."),
    ("volunteer-program", "en", "Can I volunteer at the library?",
     "Yes. Volunteers help with reading sessions for children every Saturday."),
    ("parking", "en", "Where can visitors park?", "Cars and motorbikes park behind the building, free of charge."),
]


@pytest.fixture
def faq(db):
    # Without the shipped synonym list (migrate installs it): only meaning bridges words here.
    FaqSynonym.objects.all().delete()
    services.import_records([{"slug": s, "language": lang, "question": q, "answer": a, "topics": []}
                             for s, lang, q, a in ENTRIES])


def slugs(q, lang="id"):
    return [h.slug for h in search(q, lang=lang).results]


def shared_words(query, slug):
    entry = FaqEntry.objects.get(slug=slug)
    indexed = set(entry.search_question.split()) | set(entry.search_answer.split())
    return {form for _, forms in analyse_query(query) for form in forms} & indexed


def test_a_paraphrase_sharing_no_word_is_found_only_with_the_semantic_leg(faq, settings):
    query = "I drove here; where should I leave my vehicle?"
    assert not shared_words(query, "parking")
    assert slugs(query, "en")[:1] == ["parking"]
    settings.FAQ_SEMANTIC = False
    assert "parking" not in slugs(query, "en")


def test_a_question_in_the_other_language(faq, settings):
    query = "What time do you open?"
    assert not shared_words(query, "jam-buka")
    assert slugs(query, "en")[:1] == ["jam-buka"]
    settings.FAQ_SEMANTIC = False
    assert "jam-buka" not in slugs(query, "en")


def test_vectors_are_written_on_publish_and_cleared_on_archive(faq):
    entry = FaqEntry.objects.get(slug="wifi")
    assert semantic.from_bytes(entry.embedding) is not None
    assert len(entry.embedding) == semantic.DIMENSIONS * 2  # float16
    draft = services.save_entry(slug="loker", language="id", question="Apakah ada loker untuk menitip tas?",
                                answer="Ada, di lobi.", status=FaqEntry.Status.DRAFT)
    assert FaqEntry.objects.get(pk=draft.pk).embedding is None
    assert slugs("internet gratis")[:1] == ["wifi"]  # the vectors are now held in memory
    services.archive(entry)
    assert FaqEntry.objects.get(pk=entry.pk).embedding is None
    assert "wifi" not in slugs("internet gratis")
    services.publish(entry)
    assert semantic.from_bytes(FaqEntry.objects.get(pk=entry.pk).embedding) is not None
    assert slugs("internet gratis")[:1] == ["wifi"]


def test_vectors_written_by_another_process_are_seen(faq, settings):
    settings.FAQ_SEMANTIC_TTL = 0
    query = "I drove here; where should I leave my vehicle?"
    vector = FaqEntry.objects.get(slug="parking").embedding
    FaqEntry.objects.filter(slug="parking").update(embedding=None)
    semantic.forget_vectors()
    assert "parking" not in slugs(query, "en")
    # As `faq_embed --missing` in another process would: a vector and a new stamp, nothing in this
    # process told.
    FaqEntry.objects.filter(slug="parking").update(embedding=vector)
    assert "parking" not in slugs(query, "en")  # the stamp has not moved yet
    FaqTerm.objects.filter(term=semantic.VECTORS_KEY).update(df=F("df") + 1)
    assert slugs(query, "en")[:1] == ["parking"]


def test_faq_embed_command(faq):
    FaqEntry.objects.filter(slug="wifi").update(embedding=None)
    FaqEntry.objects.filter(slug="parking").update(status=FaqEntry.Status.ARCHIVED)  # keeps a stray vector
    out = io.StringIO()
    call_command("faq_embed", "--missing", stdout=out)
    assert out.getvalue().strip() == "1 vectors computed, 1 cleared (entries not published)."
    assert FaqEntry.objects.get(slug="wifi").embedding is not None
    assert FaqEntry.objects.get(slug="parking").embedding is None
    out = io.StringIO()
    call_command("faq_embed", stdout=out)
    assert out.getvalue().strip() == f"{len(ENTRIES) - 1} vectors computed, 0 cleared (entries not published)."


def test_faq_embed_refuses_when_the_leg_is_off(db, settings):
    settings.FAQ_SEMANTIC = False
    with pytest.raises(CommandError):
        call_command("faq_embed", stdout=io.StringIO())


def test_with_the_setting_off_nothing_loads_the_model(db, settings):
    settings.FAQ_SEMANTIC = False
    loaded, semantic._model = semantic._model, None
    try:
        services.import_records([{"slug": s, "language": lang, "question": q, "answer": a, "topics": []}
                                 for s, lang, q, a in ENTRIES])
        assert slugs("jam buka perpustakaan")[:1] == ["jam-buka"]
        assert not semantic.model_loaded()
        assert not FaqEntry.objects.filter(embedding__isnull=False).exists()
    finally:
        semantic._model = loaded


@pytest.mark.parametrize("query", ["", "   ", "?!", "\x00", "kak"])
def test_empty_and_wordless_queries_answer_nothing_quietly(faq, query):
    response = search(query)
    assert all(h.slug for h in response.results)


def test_a_very_long_query_is_cut_and_answered(faq):
    query = "Kapan jam buka perpustakaan? " + "tolong dijawab ya kak " * 2000
    started = time.perf_counter()
    response = search(query)
    assert time.perf_counter() - started < 5
    assert response.results[0].slug == "jam-buka"


def test_entries_without_a_vector_are_still_found_by_their_words(faq):
    FaqEntry.objects.filter(slug="wifi").update(embedding=None)
    FaqEntry.objects.filter(slug="jam-buka").update(embedding=b"not a vector")
    semantic.forget_vectors()
    assert slugs("wifi gratis")[:1] == ["wifi"]
    assert slugs("jam buka")[:1] == ["jam-buka"]
