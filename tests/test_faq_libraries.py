"""Each library's own FAQ (reference.faq.libraries): public pages at /faq/ (the first library),
/l/<slug>/faq/ and the library's own host; the JSON API by site, by conversation and by the staff's
current library; search scoped to one library before anything is ranked or cut (lexical and
semantic legs); misses per library; the staff FAQ pages in the current library; faq_import
--library. With two libraries, an entry of one never shows in the other's."""

import json

import numpy as np
import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from reference import tenancy
from reference.errors import ServiceError
from reference.faq import curation, services
from reference.faq.search import search, semantic
from reference.models import (
    Conversation,
    FaqEntry,
    FaqSearchMiss,
    LibrarianProfile,
    Library,
    Message,
    Patron,
    Queue,
    Role,
    default_library,
)
from widgets.models import Site

PUBLISHED = FaqEntry.Status.PUBLISHED


@pytest.fixture
def two(db, settings):
    """Library A (the first: /faq/) and B (/l/tebing/faq/ and its own host), each with a site, a
    queue and FAQ entries that share words (both answer "jam buka")."""
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver", "faq.tebing.example"]
    a = Library.objects.get(pk=default_library())
    a.name = "Perpustakaan Kota"
    a.save()
    b = Library.objects.create(name="Perpustakaan Tebing Tinggi", slug="tebing", public_host="faq.tebing.example")
    queue_a = Queue.objects.create(name="Umum A", slug="umum-a", library=a)
    queue_b = Queue.objects.create(name="Umum B", slug="umum-b", library=b)
    site_a = Site.objects.create(name="Kota", key="site-a", default_queue=queue_a, library=a)
    site_b = Site.objects.create(name="Tebing", key="site-b", default_queue=queue_b, library=b)
    services.import_records([
        {"slug": "jam-buka", "language": "id", "question": "Kapan jam buka perpustakaan?",
         "answer": "Senin–Kamis 08.00–16.00.", "topics": ["jam"]},
        {"slug": "jam-buka-en", "language": "en", "question": "What are the library's opening hours?",
         "answer": "Monday to Thursday 08.00–16.00.", "topics": ["hours"], "translation_of": "jam-buka"},
        {"slug": "denda", "language": "id", "question": "Berapa denda keterlambatan buku?",
         "answer": "Rp500 per hari.", "topics": ["pinjam"]},
    ], library=a)
    services.import_records([
        {"slug": "jam-buka-tebing", "language": "id", "question": "Kapan jam buka perpustakaan Tebing Tinggi?",
         "answer": "Setiap hari 09.00–15.00.", "topics": ["jam"]},
        {"slug": "parkir-tebing", "language": "en", "question": "Where can visitors park?",
         "answer": "Cars and motorbikes park behind the building, free of charge.", "topics": ["lokasi"]},
    ], library=b)
    return {"a": a, "b": b, "site_a": site_a, "site_b": site_b, "queue_a": queue_a, "queue_b": queue_b}


def slugs(response):
    return [h.slug for h in response.results]


def member(django_user_model, username, library, queues=(), others=()):
    user = django_user_model.objects.create_user(username=username, password="x", is_staff=True)
    profile = LibrarianProfile.objects.create(user=user, display_name=username.title(), library=library)
    profile.queues.set(queues)
    profile.other_libraries.set(others)
    return user


def closed_chat(site, queue, librarian=None, subject="Kapan jam buka perpustakaan?"):
    patron = Patron.objects.create(site=site, name="Rina")
    conv = Conversation.objects.create(patron=patron, site=site, queue=queue, subject=subject,
                                       status=Conversation.Status.CLOSED, librarian=librarian)
    Message.objects.create(conversation=conv, seq=1, role=Role.PATRON, text=subject)
    Message.objects.create(conversation=conv, seq=2, role=Role.LIBRARIAN, text="Setiap hari pukul 09.00.")
    return conv


# --- search ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("semantic_leg", [False, True])
def test_search_returns_only_the_librarys_entries(two, settings, semantic_leg):
    settings.FAQ_SEMANTIC = semantic_leg
    in_a = slugs(search("jam buka perpustakaan", library=two["a"], limit=10))
    in_b = slugs(search("jam buka perpustakaan", library=two["b"], limit=10))
    assert in_a and set(in_a) <= {"jam-buka", "jam-buka-en", "denda"}
    assert in_b and set(in_b) <= {"jam-buka-tebing", "parkir-tebing"}
    assert slugs(search("jam buka perpustakaan", limit=10)) == in_a  # no library: the first one
    assert slugs(search("jam buka perpustakaan", library=two["b"].pk, limit=10)) == in_b  # or by id


def test_a_paraphrase_finds_by_meaning_only_in_its_own_library(two, settings):
    query = "I drove here; where should I leave my vehicle?"
    assert slugs(search(query, lang="en", library=two["b"]))[:1] == ["parkir-tebing"]
    assert "parkir-tebing" not in slugs(search(query, lang="en", library=two["a"], threshold=0))


def test_another_librarys_entries_take_no_place_before_the_cut(two, settings):
    """Many newer entries of A match; B's one older entry is still found, whatever the candidate
    count, the engine's rank budget (the most recently added) and the semantic candidates."""
    services.import_records([{"slug": f"jam-{n}", "language": "id", "question": f"Jam buka ruang {n} perpustakaan?",
                              "answer": "Pukul 08.00.", "topics": []} for n in range(8)], library=two["a"])
    settings.FAQ_SEARCH_CANDIDATES = 2
    settings.FAQ_SEARCH_RANK_BUDGET = 2
    settings.FAQ_SEMANTIC_CANDIDATES = 2
    for semantic_leg in (False, True):
        settings.FAQ_SEMANTIC = semantic_leg
        assert slugs(search("jam buka perpustakaan", library=two["b"]))[:1] == ["jam-buka-tebing"]


def test_candidates_of_the_engine_are_the_librarys(two):
    from reference.faq.search import get_backend

    b_ids = set(FaqEntry.objects.filter(library=two["b"]).values_list("pk", flat=True))
    found = get_backend().candidates(["buka"], limit=10, rank_budget=10, library_id=two["b"].pk)
    assert found and set(found) <= b_ids
    assert set(get_backend().candidates(["buka"], limit=10, rank_budget=10)) - b_ids  # None: every library


@pytest.mark.parametrize("exact_max", [20_000, 10])
def test_the_vector_index_keeps_to_a_librarys_rows(settings, exact_max):
    settings.FAQ_SEMANTIC_EXACT_MAX = exact_max  # 10: the reduced scan of a large index
    rng = np.random.default_rng(7)
    rows = rng.normal(size=(300, semantic.DIMENSIONS)).astype(np.float32)
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    libraries = [1 if i % 10 else 2 for i in range(300)]  # library 2: every tenth row
    index = semantic.VectorIndex(list(range(1, 301)), rows.astype(semantic.STORED_DTYPE), libraries)
    probe = rows[4]  # a row of library 1, nearest to itself
    nearest_2 = index.nearest(probe, 5, library=2)
    assert len(nearest_2) == 5 and all((pk - 1) % 10 == 0 for pk, _ in nearest_2)
    assert index.nearest(probe, 1, library=1)[0][0] == 5
    assert index.nearest(probe, 1)[0][0] == 5  # every library
    assert index.nearest(probe, 50, library=2)[-1] and len(index.nearest(probe, 50, library=2)) == 30
    assert index.nearest(probe, 5, library=3) == []


def test_misses_are_counted_per_library(two):
    services.record_miss("resep rendang", language="id", library=two["a"])
    services.record_miss("resep rendang", language="id", library=two["b"])
    services.record_miss("Resep  rendang!", language="id", library=two["b"])
    misses = {m.library_id: m.count for m in FaqSearchMiss.objects.filter(query__icontains="rendang")}
    assert misses == {two["a"].pk: 1, two["b"].pk: 2}


def test_a_slug_of_another_library_is_refused_not_taken_over(two):
    with pytest.raises(ServiceError, match="faq_slug_taken"):
        services.save_entry(slug="jam-buka", language="id", question="Kapan buka?", answer="Pagi.",
                            library=two["b"])
    saved, errors = services.import_records([
        {"slug": "jam-buka", "language": "id", "question": "Kapan buka?", "answer": "Pagi."},
        {"slug": "wifi-tebing", "language": "id", "question": "Ada wifi?", "answer": "Ada."},
        {"slug": "wifi-tebing-en", "language": "en", "question": "Wi-Fi?", "answer": "Yes.",
         "translation_of": "denda"},  # A's entry: no link across libraries
    ], library=two["b"])
    assert saved == ["wifi-tebing", "wifi-tebing-en"] and [i for i, _ in errors] == [0, 2]
    assert FaqEntry.objects.get(slug="jam-buka").library == two["a"]
    assert FaqEntry.objects.get(slug="wifi-tebing-en").translation_of is None


# --- public pages ---------------------------------------------------------------------------------
def page(client, url, **extra):
    r = client.get(url, HTTP_ACCEPT_LANGUAGE="en", **extra)
    return r.status_code, r.content.decode()


def test_the_first_library_keeps_faq_and_every_library_has_its_path(client, two):
    status, html = page(client, "/faq/")
    assert status == 200 and 'href="/faq/jam-buka-en/"' in html and "Tebing Tinggi?" not in html
    assert "<title>Frequently asked questions · Perpustakaan Kota</title>" in html
    status, html = page(client, "/l/tebing/faq/")
    assert status == 200 and "Kapan jam buka perpustakaan Tebing Tinggi?" in html
    assert "Kapan jam buka perpustakaan?<" not in html and "denda" not in html
    assert "Perpustakaan Tebing Tinggi" in html and 'href="/l/tebing/faq/jam-buka-tebing/"' in html
    assert 'action="/l/tebing/faq/search"' in html and 'href="/l/tebing/faq/topic/jam/"' in html
    assert f'href="/l/{two["a"].slug}/faq/jam-buka-en/"' in page(client, f"/l/{two['a'].slug}/faq/")[1]


def test_unknown_library_and_another_librarys_entry_are_404(client, two):
    assert page(client, "/l/nowhere/faq/")[0] == 404
    assert page(client, "/l/nowhere/faq/jam-buka/")[0] == 404
    assert page(client, "/l/tebing/faq/jam-buka/")[0] == 404  # A's entry under B's path
    assert page(client, "/faq/jam-buka-tebing/")[0] == 404  # B's entry under A's
    assert page(client, "/l/tebing/faq/jam-buka-tebing/")[0] == 200
    assert page(client, "/faq/jam-buka/")[0] == 200


def test_topic_and_search_pages_per_library(client, two):
    status, html = page(client, "/l/tebing/faq/topic/jam/")
    assert status == 200 and "Tebing Tinggi?" in html and "Kapan jam buka perpustakaan?<" not in html
    status, html = page(client, "/faq/topic/jam/")
    assert 'href="/faq/jam-buka-en/"' in html and "Tebing Tinggi?" not in html
    status, html = page(client, "/l/tebing/faq/search?q=jam+buka+perpustakaan")
    assert status == 200 and 'href="/l/tebing/faq/jam-buka-tebing/"' in html and 'href="/faq/' not in html
    status, html = page(client, "/faq/search?q=jam+buka+perpustakaan")
    assert 'href="/faq/jam-buka-en/"' in html and "tebing" not in html
    page(client, "/l/tebing/faq/search?q=resep+rendang")
    assert FaqSearchMiss.objects.get(query="resep rendang").library == two["b"]


def test_a_librarys_own_host_serves_its_faq_at_faq(client, two):
    status, html = page(client, "/faq/", HTTP_HOST="faq.tebing.example")
    assert status == 200 and "Tebing Tinggi?" in html and 'href="/faq/jam-buka-tebing/"' in html
    assert page(client, "/faq/jam-buka-tebing/", HTTP_HOST="faq.tebing.example")[0] == 200
    assert page(client, "/faq/jam-buka/", HTTP_HOST="faq.tebing.example")[0] == 404


def test_a_vote_stays_on_the_librarys_path(client, two):
    r = client.post("/l/tebing/faq/jam-buka-tebing/", {"helpful": "yes"})
    assert r.status_code == 302 and r["Location"] == "/l/tebing/faq/jam-buka-tebing/"
    assert FaqEntry.objects.get(slug="jam-buka-tebing").helpful_yes == 1
    assert client.post("/l/tebing/faq/jam-buka/", {"helpful": "yes"}).status_code == 404


# --- the JSON API -----------------------------------------------------------------------------------
def api(client, **params):
    r = client.get("/api/faq/search", {"q": "jam buka perpustakaan", "lang": "id", "limit": "10", **params},
                   HTTP_ACCEPT_LANGUAGE="en")
    return r.status_code, r.json()


def result_slugs(body):
    return {h["slug"] for h in body["results"]}


def test_the_api_answers_for_the_widgets_site(client, two):
    status, body = api(client, site="site-b")
    assert status == 200 and result_slugs(body) == {"jam-buka-tebing"}
    assert body["results"][0]["url"] == "http://testserver/l/tebing/faq/jam-buka-tebing/"
    status, body = api(client, site="site-a")
    assert "jam-buka" in result_slugs(body) and "jam-buka-tebing" not in result_slugs(body)
    assert body["results"][0]["url"].startswith("http://testserver/faq/")
    status, body = api(client)  # no site: the first library
    assert "jam-buka" in result_slugs(body) and "jam-buka-tebing" not in result_slugs(body)


@pytest.mark.parametrize("params", [{"site": "nope"}, {"site": ""}])
def test_an_unknown_site_is_404_with_a_message(client, two, params):
    status, body = api(client, **params)
    assert status == 404 and body == {"error": "No such site."}


def test_the_dashboard_asks_for_a_conversations_library(client, two, django_user_model):
    siti = member(django_user_model, "siti", two["b"], [two["queue_b"]])
    own = closed_chat(two["site_b"], two["queue_b"])
    elsewhere = closed_chat(two["site_a"], two["queue_a"])
    client.force_login(siti)
    status, body = api(client, conversation=str(own.pk))
    assert status == 200 and result_slugs(body) == {"jam-buka-tebing"}
    assert api(client, conversation=str(elsewhere.pk)) == (404, {"error": "No such conversation."})
    assert api(client, conversation="999999")[0] == 404
    assert api(client, conversation="abc")[0] == 400
    status, body = api(client)  # no conversation: the librarian's current library
    assert result_slugs(body) == {"jam-buka-tebing"}


def test_a_covering_librarian_gets_the_faq_of_the_chat_they_hold(client, two, django_user_model):
    budi = member(django_user_model, "budi", two["b"], [two["queue_b"]])
    covered = closed_chat(two["site_a"], two["queue_a"], librarian=budi)
    Conversation.objects.filter(pk=covered.pk).update(covering_library=two["b"])
    client.force_login(budi)
    status, body = api(client, conversation=str(covered.pk))
    assert status == 200 and "jam-buka" in result_slugs(body) and "jam-buka-tebing" not in result_slugs(body)


def test_a_patron_cannot_ask_by_conversation(client, two):
    conv = closed_chat(two["site_b"], two["queue_b"])
    assert api(client, conversation=str(conv.pk))[0] == 404


def test_answered_counts_only_the_sites_librarys_entry(client, two):
    assert client.post("/api/faq/jam-buka/answered?site=site-b").status_code == 404
    assert client.post("/api/faq/jam-buka-tebing/answered").status_code == 404  # no site: the first library
    assert client.post("/api/faq/jam-buka-tebing/answered?site=nope").status_code == 404
    assert client.post("/api/faq/jam-buka-tebing/answered?site=site-b").status_code == 200
    assert client.post("/api/faq/jam-buka/answered").status_code == 200
    counts = dict(FaqEntry.objects.filter(answered_in_widget__gt=0).values_list("slug", "answered_in_widget"))
    assert counts == {"jam-buka-tebing": 1, "jam-buka": 1}


# --- staff --------------------------------------------------------------------------------------------
def test_staff_edit_only_in_the_current_library(client, two, django_user_model):
    siti = member(django_user_model, "siti", two["b"])
    client.force_login(siti)
    a_entry, b_entry = FaqEntry.objects.get(slug="jam-buka"), FaqEntry.objects.get(slug="jam-buka-tebing")
    assert client.get(reverse("faq:staff_edit", args=[a_entry.pk])).status_code == 404
    assert client.post(reverse("faq:staff_edit", args=[a_entry.pk]), {"question": "x"}).status_code == 404
    assert client.get(reverse("faq:staff_edit", args=[b_entry.pk])).status_code == 200
    r = client.post(reverse("faq:staff_edit", args=[b_entry.pk]), {
        "action": "save", "slug": b_entry.slug, "language": "id", "question": "Jam buka Tebing?",
        "answer": "Setiap hari."})
    assert r.status_code == 302
    b_entry.refresh_from_db()
    assert b_entry.library == two["b"] and b_entry.revisions.count() == 2
    r = client.post(reverse("faq:staff_edit", args=[b_entry.pk]), {
        "action": "save", "slug": "denda", "language": "id", "question": "Jam buka Tebing?", "answer": "x"},
        HTTP_ACCEPT_LANGUAGE="en")
    assert r.status_code == 200 and "Another library" in r.content.decode()


def test_staff_misses_and_candidates_are_the_librarys(client, two, django_user_model):
    siti = member(django_user_model, "siti", two["b"], [two["queue_b"]])
    services.record_miss("resep rendang", language="id", library=two["a"])
    services.record_miss("kelas menjahit", language="id", library=two["b"])
    for subject in ("Ada kelas melukis anak?", "kelas melukis anak kapan?"):
        closed_chat(two["site_a"], two["queue_a"], subject=subject)
    for subject in ("Ada kelas menari?", "kelas menari kapan ya?"):
        closed_chat(two["site_b"], two["queue_b"], subject=subject)
    client.force_login(siti)
    html = client.get(reverse("faq:staff_misses")).content.decode()
    assert "kelas menjahit" in html and "rendang" not in html
    html = client.get(reverse("faq:staff_candidates")).content.decode()
    assert "menari" in html and "melukis" not in html
    assert [g["count"] for g in curation.candidate_faqs(library=two["a"])] == [2]


def test_a_draft_from_a_transcript_goes_to_its_library(client, two, django_user_model):
    # Siti works for both libraries, with A chosen; the transcript is B's.
    siti = member(django_user_model, "siti", two["a"], [two["queue_a"], two["queue_b"]], others=[two["b"]])
    conv = closed_chat(two["site_b"], two["queue_b"], librarian=siti)
    client.force_login(siti)
    r = client.post(reverse("faq:draft_from_transcript", args=[conv.pk]))
    assert r.status_code == 302
    entry = FaqEntry.objects.get(source_conversations=conv)
    assert entry.library == two["b"] and entry.status == FaqEntry.Status.DRAFT
    assert client.get(r["Location"]).status_code == 200  # the editor opens in B
    assert client.session[tenancy.SESSION_KEY] == two["b"].pk


def test_no_draft_from_another_librarys_transcript(client, two, django_user_model):
    budi = member(django_user_model, "budi", two["b"], [two["queue_b"]])
    hidden = closed_chat(two["site_a"], two["queue_a"])
    covered = closed_chat(two["site_a"], two["queue_a"], librarian=budi)  # readable, but A's FAQ is A's staff's
    client.force_login(budi)
    for conv in (hidden, covered):
        assert client.post(reverse("faq:draft_from_transcript", args=[conv.pk])).status_code == 404
    assert not FaqEntry.objects.filter(source_conversations__in=[hidden, covered]).exists()


# --- faq_import --library ------------------------------------------------------------------------------
def test_faq_import_into_a_library(two, tmp_path):
    path = tmp_path / "faq.json"
    path.write_text(json.dumps([{"slug": "wifi-tebing", "language": "id", "question": "Ada wifi?",
                                 "answer": "Ada.", "topics": []}]), encoding="utf-8")
    call_command("faq_import", str(path), "--library", "tebing")
    assert FaqEntry.objects.get(slug="wifi-tebing").library == two["b"]
    path.write_text(json.dumps([{"slug": "wifi-kota", "language": "id", "question": "Ada wifi?",
                                 "answer": "Ada.", "topics": []}]), encoding="utf-8")
    call_command("faq_import", str(path))
    assert FaqEntry.objects.get(slug="wifi-kota").library == two["a"]
    with pytest.raises(CommandError, match="nowhere"):
        call_command("faq_import", str(path), "--library", "nowhere")
