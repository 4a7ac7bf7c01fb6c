"""FAQ pages and the JSON API."""

import pytest
from django.urls import reverse

from reference.faq import services
from reference.models import Conversation, FaqEntry, FaqSearchMiss, Message, Patron, Role


@pytest.fixture
def faq(db):
    services.import_records([
        {"slug": "jam-buka", "language": "id", "question": "Kapan jam buka perpustakaan?",
         "answer": "<p>Senin–Kamis <strong>08.00–16.00</strong>.</p>", "topics": ["jam"]},
        {"slug": "jam-buka-en", "language": "en", "question": "What are the library's opening hours?",
         "answer": "Monday to Thursday 08.00–16.00.", "topics": ["hours"], "translation_of": "jam-buka"},
    ])
    services.save_entry(slug="rahasia", language="id", question="Kapan rapat internal?", answer="Draf.")


def test_api_search_shape(client, faq):
    r = client.get("/api/faq/search", {"q": "jam buka perpustakaan", "lang": "en", "limit": "5"})
    assert r.status_code == 200
    body = r.json()
    assert body["query"] == "jam buka perpustakaan"
    first = body["results"][0]
    assert set(first) == {"slug", "question", "answer_excerpt", "language", "score", "confident", "url",
                          "translations"}
    assert [h["slug"] for h in body["results"]] == ["jam-buka-en"]
    assert first["url"].endswith("/faq/jam-buka-en/")
    assert isinstance(first["confident"], bool)
    assert [(t["slug"], t["language"]) for t in first["translations"]] == [("jam-buka", "id")]
    assert first["translations"][0]["url"].endswith("/faq/jam-buka/")
    assert "<" not in first["answer_excerpt"]


def test_api_empty_results_when_nothing_passes(client, faq):
    r = client.get("/api/faq/search", {"q": "resep rendang", "lang": "id"})
    assert r.status_code == 200 and r.json() == {"query": "resep rendang", "results": []}
    assert FaqSearchMiss.objects.filter(query="resep rendang").exists()


def test_api_never_shows_drafts(client, faq):
    assert client.get("/api/faq/search", {"q": "rapat internal"}).json()["results"] == []


@pytest.mark.parametrize("params", [
    {}, {"q": "  "}, {"q": "jam", "lang": "fr"}, {"q": "jam", "limit": "abc"},
    {"q": "jam", "limit": "0"}, {"q": "jam", "limit": "500"}, {"q": "x" * 1001},
])
def test_api_bad_parameters_are_400_with_a_message(client, faq, params):
    r = client.get("/api/faq/search", params)
    assert r.status_code == 400
    assert r.json()["error"]


def test_api_answered_counts(client, faq):
    r = client.post("/api/faq/jam-buka/answered")
    assert r.status_code == 200
    assert FaqEntry.objects.get(slug="jam-buka").answered_in_widget == 1
    assert client.post("/api/faq/rahasia/answered").status_code == 404


def test_public_pages(client, faq):
    index = client.get("/faq/")
    assert index.status_code == 200 and "Kapan jam buka perpustakaan?" in index.content.decode()
    assert "rapat internal" not in index.content.decode()
    detail = client.get("/faq/jam-buka/")
    assert detail.status_code == 200 and "<strong>08.00–16.00</strong>" in detail.content.decode()
    assert FaqEntry.objects.get(slug="jam-buka").view_count == 1
    assert client.get("/faq/rahasia/").status_code == 404
    found = client.get("/faq/search", {"q": "jam buka"})
    assert "/faq/jam-buka/" in found.content.decode()


def test_helpful_vote(client, faq):
    r = client.post("/faq/jam-buka/", {"helpful": "yes"})
    assert r.status_code == 302
    client.post("/faq/jam-buka/", {"helpful": "no"})
    entry = FaqEntry.objects.get(slug="jam-buka")
    assert (entry.helpful_yes, entry.helpful_no) == (1, 1)


def test_staff_pages_need_login(client, faq):
    assert client.get(reverse("faq:staff_misses")).status_code == 302
    assert client.get(reverse("faq:staff_candidates")).status_code == 302


def test_draft_from_transcript_page_flow(client, faq, librarian, site, queue):
    patron = Patron.objects.create(site=site, name="Budi")
    conv = Conversation.objects.create(patron=patron, site=site, queue=queue, subject="Parkir di mana?",
                                       status=Conversation.Status.CLOSED, librarian=librarian)
    Message.objects.create(conversation=conv, seq=1, role=Role.PATRON, text="Saya Budi, parkir di mana? 081234567890")
    Message.objects.create(conversation=conv, seq=2, role=Role.LIBRARIAN, text="Di belakang gedung, Budi.")
    client.force_login(librarian)
    r = client.post(reverse("faq:draft_from_transcript", args=[conv.pk]),
                    {"message": [str(m.pk) for m in conv.messages.all()]})
    assert r.status_code == 302
    entry = FaqEntry.objects.get(source_conversations=conv)
    page = client.get(r["Location"]).content.decode()
    assert '<mark class="redacted">[NAMA]</mark>' in page and "Budi" not in entry.question + entry.answer
    r = client.post(r["Location"], {"action": "publish", "slug": entry.slug, "language": "id",
                                    "question": "Di mana tempat parkir?", "answer": entry.answer, "topics": "lokasi"})
    entry.refresh_from_db()
    assert entry.is_published and entry.published_by == librarian and entry.topics == ["lokasi"]
    assert client.get(reverse("faq:staff_misses")).status_code == 200
    assert client.get(reverse("faq:staff_candidates")).status_code == 200


def test_patron_opts_out_with_their_token(client, site, queue, identity, token_for):
    import json as _json

    token = token_for(identity)
    r = client.post("/api/faq/opt-out", _json.dumps({"token": token}), content_type="application/json")
    assert r.status_code == 200 and r.json() == {"marked": False}  # no conversation yet
    patron = Patron.objects.create(id=identity.patron_id, site=site)
    conv = Conversation.objects.create(patron=patron, site=site, queue=queue, subject="Halo")
    r = client.post("/api/faq/opt-out", _json.dumps({"token": token}), content_type="application/json")
    assert r.json() == {"marked": True}
    conv.refresh_from_db()
    assert conv.faq_opt_out
    bad = client.post("/api/faq/opt-out", _json.dumps({"token": "forged"}), content_type="application/json")
    assert bad.status_code == 400 and bad.json()["error"]


def test_staff_edit_shows_a_refused_field_as_a_form_error(client, faq, librarian):
    entry = FaqEntry.objects.get(slug="jam-buka")
    client.force_login(librarian)
    r = client.post(reverse("faq:staff_edit", args=[entry.pk]), {
        "action": "save", "slug": "Not A Slug", "language": "id", "question": entry.question,
        "answer": entry.answer, "topics": "jam"})
    assert r.status_code == 200
    page = r.content.decode()
    assert ("Slug hanya boleh berisi huruf kecil, angka, dan tanda hubung." in page
            or "The slug must be lower-case letters, digits and hyphens." in page)
    assert FaqEntry.objects.get(pk=entry.pk).slug == "jam-buka"
