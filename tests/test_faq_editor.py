"""The staff FAQ editor: Markdown answers (render, sanitize, HTML converted back), the preview
endpoint, topics chosen or added, the admin, and the revision history told in words."""

import json
import re
from datetime import datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import translation

from reference.errors import ServiceError
from reference.faq import curation, history, services
from reference.faq.answers import MAX_SOURCE_LENGTH, html_to_markdown, render_markdown, source_for_editing
from reference.faq.defaults import ensure_topics
from reference.faq.sanitize import sanitize_html
from reference.models import Conversation, FaqEntry, FaqRevision, FaqTopic, Message, Patron, Role


def _normal(html):
    """HTML compared by meaning: <b>/<i> are <strong>/<em>, no whitespace between tags, no rel."""
    html = re.sub(r"<(/?)b>", r"<\1strong>", html)
    html = re.sub(r"<(/?)i>", r"<\1em>", html)
    html = re.sub(r' rel="nofollow"', "", html)
    html = re.sub(r"<br>\s+", "<br>", html)
    return re.sub(r">\s+<", "><", html).strip()


# --- Markdown → safe HTML ---------------------------------------------------------------------------
def test_markdown_renders_to_the_allowed_tags():
    html = render_markdown("## Jam buka\n\n**Senin** sampai *Kamis*:\n\n- pagi\n- siang\n\n1. satu\n2. dua\n\n"
                           "[Katalog](https://katalog.example/cari?q=a_b) atau https://perpustakaan.go.id")
    assert "<h2>Jam buka</h2>" in html
    assert "<strong>Senin</strong>" in html and "<em>Kamis</em>" in html
    assert "<ul>" in html and "<ol>" in html and html.count("<li>") == 4
    assert '<a href="https://katalog.example/cari?q=a_b">Katalog</a>' in html
    assert '<a href="https://perpustakaan.go.id" rel="nofollow">https://perpustakaan.go.id</a>' in html


def test_markdown_cannot_carry_scripts_handlers_or_javascript_links():
    html = render_markdown('<script>alert(1)</script>\n\n<img src="x" onerror="alert(2)">\n\n'
                           "[klik](javascript:alert(3)) [lagi](JaVaScRiPt:alert(4)) <a href=\"javascript:x\">a</a>\n\n"
                           '<div onclick="alert(5)">d</div>')
    assert "<script" not in html and "<img" not in html and "<div" not in html and "<a href=\"javascript" not in html
    assert "javascript:" not in re.sub(r"&lt;.*?&gt;", "", html).replace("(javascript:alert(3))", "")
    assert not re.search(r"<[^>]*\son\w+=", html)  # no event handler on any tag
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # typed HTML is shown, never run
    assert "<a>klik</a>" in html and "<a>lagi</a>" in html


def test_headings_start_at_h2_and_stop_at_h4():
    html = render_markdown("# Satu\n\n#### Empat\n\n###### Enam")
    assert "<h2>Satu</h2>" in html and "<h4>Empat</h4>" in html and "<h4>Enam</h4>" in html
    assert "<h1" not in html and "<h6" not in html


def test_line_breaks_stay_and_empty_source_renders_nothing():
    assert render_markdown("baris satu\nbaris dua") == "<p>baris satu<br>\nbaris dua</p>"
    assert render_markdown("") == "" and render_markdown("   \n") == ""


# --- HTML → Markdown --------------------------------------------------------------------------------
ROUND_TRIPS = [
    "<p>Senin–Kamis <strong>08.00–16.00</strong>, Jumat <em>tutup</em>.</p>",
    "<p>Tebal <b>b</b> dan miring <i>i</i>.</p>",
    "<p>Satu<br>dua<br>tiga</p><p>Paragraf kedua.</p>",
    "<ul><li>satu</li><li>dua <strong>tebal</strong></li></ul>",
    "<ol><li>langkah satu</li><li>langkah dua<ul><li>rincian</li></ul></li><li>tiga</li></ol>",
    '<p>Lihat <a href="https://perpus.example/jadwal" title="Jadwal">jadwal</a> dan '
    '<a href="mailto:info@perpus.example">surel</a>.</p>',
    "<h2>Judul</h2><p>isi</p><h3>Sub</h3><h4>Subsub</h4>",
    "<p>Bintang 5*3, garis_bawah, [NAMA], #tagar, &lt;b&gt; &amp; 50% &amp;copy;</p>",
    "<p># bukan judul</p><p>1. bukan daftar</p><p>- bukan butir</p><p>&gt; bukan kutipan</p>",
    '<p>Tautan <a href="https://perpus.example/a">teks [dengan] kurung</a> selesai</p>',
]


@pytest.mark.parametrize("original", ROUND_TRIPS)
def test_allowed_html_survives_the_trip_through_markdown(original):
    markdown_text = html_to_markdown(sanitize_html(original))
    assert _normal(render_markdown(markdown_text)) == _normal(sanitize_html(original))


def test_html_becomes_readable_markdown():
    assert html_to_markdown("<p>Jam <strong>08.00</strong></p><ul><li>a</li><li>b</li></ul>") == (
        "Jam **08.00**\n\n- a\n- b")
    assert html_to_markdown('<p><a href="https://x.example/a_b">https://x.example/a_b</a></p>') == (
        "https://x.example/a_b")
    assert html_to_markdown("<ol><li>x<ul><li>y</li></ul></li></ol>") == "1. x\n    - y"
    assert html_to_markdown("plain text, no tags") == "plain text, no tags"
    assert html_to_markdown("") == ""


def test_unknown_tags_keep_their_text():
    assert html_to_markdown("<p>a <span>b</span> <code>c</code></p><table><tr><td>d</td></tr></table>") == "a b c\n\nd"


# --- saving ---------------------------------------------------------------------------------------
@pytest.fixture
def html_entry(db):
    """An entry written as HTML before the Markdown editor (as faq_import still accepts), with the
    shipped topic labels (a transactional test before may have flushed what migrate installed)."""
    ensure_topics(FaqTopic, FaqEntry)
    saved, errors = services.import_records([{
        "slug": "jam-buka", "language": "id", "question": "Kapan jam buka?",
        "answer": "<p>Senin–Kamis <strong>08.00–16.00</strong>.</p><ul><li>Jumat tutup</li></ul>",
        "topics": ["hours"]}])
    assert errors == []
    return FaqEntry.objects.get(slug="jam-buka")


def test_save_entry_keeps_the_markdown_and_renders_the_answer(db):
    entry = services.save_entry(slug="parkir", language="id", question="Parkir di mana?",
                                answer_source="Di **belakang** gedung.")
    assert entry.answer_source == "Di **belakang** gedung."
    assert entry.answer == "<p>Di <strong>belakang</strong> gedung.</p>"
    entry = services.save_entry(entry=entry, slug="parkir", language="id", question="Parkir di mana?",
                                answer="<p>Di depan.</p>")
    assert entry.answer == "<p>Di depan.</p>" and entry.answer_source == ""  # the HTML is now the answer
    entry = services.save_entry(entry=entry, slug="parkir", language="id", question="Parkir di mana?",
                                answer_source="Satu\r\ndua\r\n\r\ntiga")  # as a browser's form sends it
    assert entry.answer_source == "Satu\ndua\n\ntiga" and entry.answer == "<p>Satu<br>\ndua</p>\n<p>tiga</p>"


def test_save_entry_refuses_bad_markdown(db):
    with pytest.raises(ServiceError, match="faq_answer_empty"):
        services.save_entry(slug="x", language="id", question="Q?", answer_source="   ")
    with pytest.raises(ServiceError, match="faq_answer_empty"):
        services.save_entry(slug="x", language="id", question="Q?", answer_source=["not", "text"])
    with pytest.raises(ServiceError, match="faq_answer_too_long") as refused:
        services.save_entry(slug="x", language="id", question="Q?", answer_source="a" * (MAX_SOURCE_LENGTH + 1))
    with translation.override("en"):
        assert refused.value.message == f"The answer is too long (at most {MAX_SOURCE_LENGTH} characters)."
    assert not FaqEntry.objects.exists()


def test_import_takes_markdown_and_export_gives_it_back(db):
    saved, errors = services.import_records([
        {"slug": "kartu", "language": "id", "question": "Cara membuat kartu?",
         "answer_markdown": "1. Isi formulir\n2. Bawa **KTP**", "topics": ["membership"]},
        {"slug": "rusak", "language": "id", "question": "Q?", "answer_markdown": 42},
    ])
    assert saved == ["kartu"] and [i for i, _m in errors] == [1]
    entry = FaqEntry.objects.get(slug="kartu")
    assert entry.answer == "<ol>\n<li>Isi formulir</li>\n<li>Bawa <strong>KTP</strong></li>\n</ol>"
    record = services.export_records()[0]
    assert record["answer_markdown"] == "1. Isi formulir\n2. Bawa **KTP**" and record["answer"] == entry.answer


def test_every_topic_saved_gets_a_label_row(db):
    services.save_entry(slug="a", language="id", question="Q?", answer_source="A.",
                        topics=["loans", "sejarah-lokal"])
    assert FaqTopic.objects.get(slug="loans").label_en == "Loans"  # the shipped list
    local = FaqTopic.objects.get(slug="sejarah-lokal")
    assert (local.label_id, local.label_en) == ("Sejarah lokal", "Sejarah lokal")


def test_a_transcript_draft_is_markdown(db, site, queue, librarian):
    patron = Patron.objects.create(site=site, name="Budi")
    conv = Conversation.objects.create(patron=patron, site=site, queue=queue, subject="Kartu",
                                       status=Conversation.Status.CLOSED, librarian=librarian)
    Message.objects.create(conversation=conv, seq=1, role=Role.PATRON, text="Cara buat kartu, saya Budi?")
    Message.objects.create(conversation=conv, seq=2, role=Role.LIBRARIAN, text="Caranya:\n\n1. isi formulir\n2. foto")
    Message.objects.create(conversation=conv, seq=3, role=Role.LIBRARIAN, text="Sama-sama <b>Budi</b>!")
    entry = curation.create_draft_from_transcript(conversation=conv, message_ids=[m.pk for m in conv.messages.all()],
                                                  editor=librarian)
    assert entry.answer_source == "Caranya:\n\n1. isi formulir\n2. foto\n\nSama-sama <b>[NAMA]</b>!"
    assert "<li>isi formulir</li>" in entry.answer
    assert "&lt;b&gt;[NAMA]&lt;/b&gt;" in entry.answer  # what the librarian typed, shown as typed


# --- the editor page ------------------------------------------------------------------------------
def _post(client, entry, **fields):
    data = {"action": "save", "slug": entry.slug, "language": entry.language, "question": entry.question,
            "answer": source_for_editing(entry), "topics": list(entry.topics)}
    data.update(fields)
    return client.post(reverse("faq:staff_edit", args=[entry.pk]), data, HTTP_ACCEPT_LANGUAGE="en")


def test_an_old_html_entry_opens_as_markdown(client, librarian, html_entry):
    client.force_login(librarian)
    page = client.get(reverse("faq:staff_edit", args=[html_entry.pk]), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert ">Senin–Kamis **08.00–16.00**.\n\n- Jumat tutup</textarea>" in page
    assert "&lt;strong&gt;" not in page  # no HTML in the editor
    assert '<div class="answer-preview" id="answer-preview" aria-labelledby="preview-heading"><p>Senin' in page
    assert "reference/faq/editor.js" in page and "<script>" not in page


def test_a_save_through_the_editor_stores_markdown_and_html(client, librarian, html_entry):
    client.force_login(librarian)
    r = _post(client, html_entry, action="publish", answer="Senin–Kamis **08.00–16.00**.\n\n## Jumat\n\nTutup.")
    assert r.status_code == 302
    html_entry.refresh_from_db()
    assert html_entry.answer_source == "Senin–Kamis **08.00–16.00**.\n\n## Jumat\n\nTutup."
    assert html_entry.answer == "<p>Senin–Kamis <strong>08.00–16.00</strong>.</p>\n<h2>Jumat</h2>\n<p>Tutup.</p>"
    assert html_entry.is_published and html_entry.revisions.first().editor == librarian
    public = client.get(reverse("faq:detail", args=["jam-buka"])).content.decode()
    assert "<h2>Jumat</h2>" in public and "<strong>08.00–16.00</strong>" in public


def test_a_refused_save_keeps_what_was_typed(client, librarian, html_entry):
    client.force_login(librarian)
    r = _post(client, html_entry, answer="Teks **baru** yang panjang.", slug="Bukan Slug", new_topic="Anak")
    assert r.status_code == 200
    page = r.content.decode()
    assert "The slug must be lower-case letters, digits and hyphens." in page
    assert "Teks **baru** yang panjang.</textarea>" in page and 'value="Anak"' in page
    assert not FaqTopic.objects.filter(slug="anak").exists()  # the new topic went with the refused save
    html_entry.refresh_from_db()
    assert html_entry.answer_source == "" and html_entry.slug == "jam-buka"


def test_an_unknown_action_only_saves(client, librarian, html_entry):
    client.force_login(librarian)
    assert _post(client, html_entry, action="delete-everything").status_code == 302
    html_entry.refresh_from_db()
    assert html_entry.is_published and html_entry.revisions.first().action == "save"


# --- topics ---------------------------------------------------------------------------------------
def test_topics_are_listed_by_label_in_the_staff_language(client, librarian, html_entry):
    client.force_login(librarian)
    url = reverse("faq:staff_edit", args=[html_entry.pk])
    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    indonesian = client.get(url, HTTP_ACCEPT_LANGUAGE="id").content.decode()
    assert re.search(r'<input type="checkbox" name="topics" value="hours" checked> Opening hours', english)
    assert re.search(r'<input type="checkbox" name="topics" value="hours" checked> Jam buka', indonesian)
    assert re.search(r'value="loans"> Loans', english) and re.search(r'value="loans"> Peminjaman', indonesian)
    assert english.index('value="hours"') < english.index('value="accessibility"')  # the entry's topics first


def test_topics_are_chosen_and_added(client, librarian, html_entry):
    client.force_login(librarian)
    r = _post(client, html_entry, topics=["loans", "hours"], new_topic="  Sejarah   Lokal Medan ")
    assert r.status_code == 302
    html_entry.refresh_from_db()
    assert html_entry.topics == ["loans", "hours", "sejarah-lokal-medan"]
    added = FaqTopic.objects.get(slug="sejarah-lokal-medan")
    assert added.label_en == "Sejarah Lokal Medan"  # typed by a staff member reading English
    assert added.label_id == "Sejarah lokal medan"  # from its slug, until someone sets it in the admin
    # A label that names an existing topic (in either language) picks that topic, not a copy.
    _post(client, html_entry, topics=[], new_topic="peminjaman")
    html_entry.refresh_from_db()
    assert html_entry.topics == ["loans"] and FaqTopic.objects.filter(label_id__iexact="peminjaman").count() == 1


def test_a_new_topic_without_letters_or_too_long_is_refused(client, librarian, html_entry):
    client.force_login(librarian)
    for label in ("!!!", "x" * 81):
        r = _post(client, html_entry, new_topic=label)
        assert r.status_code == 200
        assert "A new topic needs a label of letters or digits, at most 80 characters." in r.content.decode()
    assert FaqTopic.objects.count() == FaqTopic.objects.exclude(slug__startswith="x").count()


# --- the preview endpoint -------------------------------------------------------------------------
def test_preview_renders_through_the_save_path(client, librarian):
    client.force_login(librarian)
    r = client.post(reverse("faq:staff_preview"), {"source": "**Tebal** <script>x</script> [a](javascript:b)"})
    assert r.status_code == 200
    assert r.json() == {"html": "<p><strong>Tebal</strong> &lt;script&gt;x&lt;/script&gt; <a>a</a></p>"}
    assert client.post(reverse("faq:staff_preview"), {"source": ""}).json() == {"html": ""}


def test_preview_needs_a_staff_login_and_a_post(client, django_user_model, librarian):
    url = reverse("faq:staff_preview")
    assert client.post(url, {"source": "x"}).status_code == 302
    client.force_login(django_user_model.objects.create_user("patron-ish", password="x"))
    assert client.post(url, {"source": "x"}).status_code == 302
    client.force_login(librarian)
    assert client.get(url, {"source": "x"}).status_code == 405


def test_preview_refuses_bad_input(client, librarian):
    client.force_login(librarian)
    url = reverse("faq:staff_preview")
    missing = client.post(url, {}, HTTP_ACCEPT_LANGUAGE="en")
    assert missing.status_code == 400 and missing.json() == {"error": "The field “source” is required."}
    too_long = client.post(url, {"source": "a" * (MAX_SOURCE_LENGTH + 1)}, HTTP_ACCEPT_LANGUAGE="en")
    assert too_long.status_code == 413
    assert too_long.json() == {"error": f"The answer is too long (at most {MAX_SOURCE_LENGTH} characters)."}
    assert client.post(url, {"source": "a" * MAX_SOURCE_LENGTH}).status_code == 200
    as_json = client.post(url, json.dumps({"source": "x"}), content_type="application/json")
    assert as_json.status_code == 400  # a form post, not JSON


def test_the_preview_is_not_csrf_exempt(librarian):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(librarian)
    assert client.post(reverse("faq:staff_preview"), {"source": "x"}).status_code == 403


# --- the admin ------------------------------------------------------------------------------------
def test_admin_edits_markdown_and_topics_and_spellings(client, django_user_model, html_entry):
    admin = django_user_model.objects.create_superuser("kepala", password="x")
    client.force_login(admin)
    url = reverse("admin:reference_faqentry_change", args=[html_entry.pk])
    page = client.get(url).content.decode()
    assert "Senin–Kamis **08.00–16.00**." in page
    r = client.post(url, {"slug": "jam-buka", "language": "id", "question": "Kapan jam buka?",
                          "answer_source": "Setiap hari *08.00*.", "topics": '["hours"]', "status": "draft",
                          "revisions-TOTAL_FORMS": "0", "revisions-INITIAL_FORMS": "0"})
    assert r.status_code == 302, r.content.decode()[:2000]
    html_entry.refresh_from_db()
    assert html_entry.answer == "<p>Setiap hari <em>08.00</em>.</p>"
    assert client.get(reverse("admin:reference_faqtopic_changelist")).status_code == 200
    assert client.get(reverse("admin:reference_faqspelling_changelist")).status_code == 200
    topic = FaqTopic.objects.get(slug="hours")
    r = client.post(reverse("admin:reference_faqtopic_change", args=[topic.pk]),
                    {"slug": "hours", "label_id": "Jam layanan", "label_en": "Service hours"})
    assert r.status_code == 302
    topic.refresh_from_db()
    assert (topic.label_id, topic.label_en) == ("Jam layanan", "Service hours")


# --- history in words -----------------------------------------------------------------------------
def _snapshot(question="Kapan jam buka?", answer="<p>Buka pukul 08.00. Tutup pukul 16.00.</p>", topics=()):
    return SimpleNamespace(question=question, answer=answer, topics=list(topics))


def test_sentences_of_an_answer():
    assert history.sentences("<p>Satu. Dua? Tiga!</p><ul><li>empat</li></ul>") == ["Satu.", "Dua?", "Tiga!", "empat"]


def test_describe_change_in_english():
    before = _snapshot(topics=["hours"])
    after = _snapshot(question="Jam berapa buka?", topics=["loans"],
                      answer="<p>Buka pukul 08.00. Sabtu tutup. Minggu tutup.</p>")
    with translation.override("en"):
        assert history.describe_change(before, after, labels={"loans": "Loans", "hours": "Opening hours"}) == [
            "changed the question", "the answer gained 2 sentences and lost 1",
            "topics: added Loans, removed Opening hours"]
        assert history.describe_change(before, before, labels={}) == []
        relaid = _snapshot(answer="<ul><li>Buka pukul 08.00.</li><li>Tutup pukul 16.00.</li></ul>", topics=["hours"])
        assert history.describe_change(before, relaid, labels={}) == ["changed the answer's wording or layout"]
        one = history.describe_change(before, _snapshot(answer="<p>Buka pukul 08.00.</p>", topics=["hours"]), labels={})
        assert one == ["the answer lost 1 sentence"]


def test_describe_change_in_indonesian():
    before = _snapshot()
    after = _snapshot(answer="<p>Buka pukul 08.00. Tutup pukul 16.00. Sabtu tutup.</p>", topics=["local-history"])
    with translation.override("id"):
        assert history.describe_change(before, after, labels={}) == [
            "jawaban bertambah 1 kalimat", "topik: menambah Local history"]


def _revisions(entry, librarian):
    """Three revisions at fixed times: imported, edited, published by Siti."""
    services.save_entry(entry=entry, slug=entry.slug, language="id", question="Jam berapa perpustakaan buka?",
                        answer_source="Senin–Kamis 08.00–16.00. Sabtu 09.00–12.00. Minggu tutup.",
                        topics=["hours", "loans"], editor=librarian, action="publish",
                        status=FaqEntry.Status.PUBLISHED)
    times = [datetime(2026, 12, 3, 14, 5, tzinfo=ZoneInfo("Asia/Jakarta")),
             datetime(2026, 12, 1, 9, 30, tzinfo=ZoneInfo("Asia/Jakarta"))]
    for revision, when in zip(entry.revisions.all(), times, strict=True):
        FaqRevision.objects.filter(pk=revision.pk).update(created_at=when)


def test_revision_history_in_english(client, librarian, html_entry, settings):
    settings.TIME_ZONE = "Asia/Jakarta"
    _revisions(html_entry, librarian)
    assert history.revision_sentences(html_entry, language="en") == [
        "Published by Siti on 3 Dec 2026 14:05: changed the question; the answer gained 3 sentences and lost 2; "
        "topics: added Loans.",
        "Imported on 1 Dec 2026 09:30.",
    ]
    client.force_login(librarian)
    page = client.get(reverse("faq:staff_edit", args=[html_entry.pk]), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "<li>Published by Siti on 3 Dec 2026 14:05: changed the question;" in page


def test_revision_history_in_indonesian(librarian, html_entry, settings):
    settings.TIME_ZONE = "Asia/Jakarta"
    _revisions(html_entry, librarian)
    assert history.revision_sentences(html_entry, language="id") == [
        "Diterbitkan oleh Siti pada 3 Des 2026 14:05: mengubah pertanyaan; jawaban bertambah 3 kalimat dan "
        "berkurang 2; topik: menambah Peminjaman.",
        "Diimpor pada 1 Des 2026 09:30.",
    ]


def test_an_editor_without_a_librarian_profile_is_named_by_username(django_user_model, db):
    user = django_user_model.objects.create_user("budi.s", first_name="Budi", last_name="Santoso")
    assert history.editor_name(user) == "Budi Santoso"
    assert history.editor_name(django_user_model.objects.create_user("rina")) == "rina"
    assert history.editor_name(None) == ""
