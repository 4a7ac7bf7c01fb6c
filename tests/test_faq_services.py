"""FAQ services: sanitizing, redaction, drafts from transcripts, publishing, candidates, import/export."""

import json

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from reference.errors import ServiceError
from reference.faq import curation, services
from reference.faq.redaction import highlight_html, redact
from reference.faq.sanitize import sanitize_html
from reference.models import Conversation, FaqEntry, FaqRevision, Message, Patron, Role


# --- sanitize_html ----------------------------------------------------------------------------------
def test_sanitize_keeps_the_safe_subset():
    html = '<p>Buka <strong>Senin</strong>–<em>Jumat</em>.</p><ul><li>a</li></ul><a href="https://x.id/">x</a>'
    out = sanitize_html(html)
    for tag in ("<p>", "<strong>", "<em>", "<ul>", "<li>", 'href="https://x.id/"'):
        assert tag in out


def test_sanitize_removes_scripts_handlers_and_bad_links():
    out = sanitize_html('<p onclick="x()">hi<script>alert(1)</script></p><a href="javascript:alert(1)">j</a>'
                        '<img src=x onerror=alert(1)><iframe src="https://evil"></iframe>')
    assert "script" not in out and "onclick" not in out and "javascript" not in out
    assert "<img" not in out and "<iframe" not in out
    assert "hi" in out


def test_sanitize_turns_plain_text_into_paragraphs():
    assert sanitize_html("Satu baris\ndua\n\nTiga & empat") == "<p>Satu baris<br>dua</p><p>Tiga &amp; empat</p>"


# --- redaction -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("text, kind, secret", [
    ("email saya budi.santoso@gmail.com ya", "email", "budi.santoso@gmail.com"),
    ("hubungi 0812-3456-7890 kak", "phone", "0812-3456-7890"),
    ("nomor wa +62 812 3456 7890", "phone", "+62 812 3456 7890"),
    ("NIK saya 1271012345678901", "nik", "1271012345678901"),
    ("no kartu TT-2024-00123 hilang", "card", "TT-2024-00123"),
])
def test_redact_each_kind(text, kind, secret):
    result = redact(text)
    assert secret not in result.text
    assert [k for _, _, k in result.spans] == [kind]
    start, end, _ = result.spans[0]
    assert result.text[start:end].startswith("[")


def test_redact_the_patrons_name_and_highlight():
    result = redact("Halo, saya Rina Marpaung, mau tanya. rina di sini", names=["Rina Marpaung"])
    assert "Rina" not in result.text and "rina" not in result.text and "Marpaung" not in result.text
    html = highlight_html(result)
    assert html.count('<mark class="redacted" data-kind="name">') == 3


def test_card_number_format_is_a_setting(settings):
    settings.FAQ_CARD_NUMBER_PATTERN = r"\bLIB\d{6}\b"
    assert redact("kartu LIB123456").text == "kartu [NO. KARTU]"


def test_ordinary_numbers_are_not_redacted():
    assert redact("denda Rp500 per hari, 14 hari, tahun 2024").spans == []


# --- entries, publishing, revisions ------------------------------------------------------------
def make_entry(**kw):
    fields = dict(slug="jam-buka", language="id", question="Kapan jam buka perpustakaan?",
                  answer="Senin–Kamis pukul 08.00–16.00.", topics=["jam"])
    fields.update(kw)
    return services.save_entry(**fields)


@pytest.mark.django_db
def test_publish_records_who_and_revisions(librarian):
    entry = make_entry(editor=librarian)
    assert entry.status == FaqEntry.Status.DRAFT and entry.author == librarian
    services.publish(entry, editor=librarian)
    entry.refresh_from_db()
    assert entry.is_published and entry.published_by == librarian and entry.published_at
    services.save_entry(entry=entry, slug=entry.slug, language="id", question=entry.question,
                        answer="<p>Baru</p><script>x</script>", topics=[], editor=librarian)
    entry.refresh_from_db()
    assert entry.answer == "<p>Baru</p>x"
    assert list(FaqRevision.objects.filter(entry=entry).order_by("pk").values_list("action", flat=True)) == [
        "create", "published", "edit"]


@pytest.mark.django_db
def test_bad_fields_are_refused():
    with pytest.raises(ServiceError) as refused:
        make_entry(slug="Not A Slug")
    assert refused.value.code == "faq_bad_slug" and refused.value.params == {"field": "slug"}
    with translation.override("id"):
        assert refused.value.message == "Slug hanya boleh berisi huruf kecil, angka, dan tanda hubung."
    with pytest.raises(ServiceError, match="faq_bad_language"):
        make_entry(language="fr")
    with pytest.raises(ServiceError, match="faq_answer_empty"):
        make_entry(answer="<p> </p><br>")
    assert not FaqEntry.objects.exists()


# --- drafts from transcripts, opt-out, candidates ---------------------------------------------
@pytest.fixture
def closed_conversation(site, queue, librarian):
    def make(subject="Bagaimana cara memperpanjang pinjaman buku?", opt_out=False, name="Rina Marpaung"):
        patron = Patron.objects.create(site=site, name=name, email="rina@example.com")
        conv = Conversation.objects.create(patron=patron, site=site, queue=queue, subject=subject,
                                           status=Conversation.Status.CLOSED, librarian=librarian,
                                           faq_opt_out=opt_out)
        texts = [(Role.PATRON, f"Halo, saya Rina. {subject} Kartu saya TT-2024-00123, wa 0812-3456-7890"),
                 (Role.LIBRARIAN, "Halo Rina! Perpanjang lewat aplikasi, menu Pinjaman. Email ke rina@example.com."),
                 (Role.PATRON, "Terima kasih!")]
        for seq, (role, text) in enumerate(texts, 1):
            Message.objects.create(conversation=conv, seq=seq, role=role, text=text)
        return conv

    return make


@pytest.mark.django_db
def test_draft_from_transcript_is_redacted(closed_conversation, librarian):
    conv = closed_conversation()
    ids = list(conv.messages.filter(seq__in=[1, 2]).values_list("pk", flat=True))
    entry = curation.create_draft_from_transcript(conversation=conv, message_ids=ids, editor=librarian)
    assert entry.status == FaqEntry.Status.DRAFT
    assert "memperpanjang" in entry.question
    for secret in ("Rina", "TT-2024-00123", "0812", "rina@example.com"):
        assert secret not in entry.question and secret not in entry.answer
    assert "[NAMA]" in entry.question and "[NO. KARTU]" in entry.question and "[TELEPON]" in entry.question
    assert "[EMAIL]" in entry.answer
    assert curation.redaction_count(entry) == 5
    assert list(entry.source_conversations.all()) == [conv]


@pytest.mark.django_db
def test_opted_out_transcripts_never_feed_drafts_or_candidates(closed_conversation, librarian):
    conv = closed_conversation(opt_out=True)
    with pytest.raises(ServiceError, match="faq_opted_out"):
        curation.create_draft_from_transcript(conversation=conv, message_ids=[m.pk for m in conv.messages.all()])
    for _ in range(3):
        closed_conversation(subject="Apakah ada kelas menjahit untuk ibu rumah tangga?", opt_out=True)
    assert curation.candidate_faqs() == []


@pytest.mark.django_db
def test_set_opt_out(closed_conversation):
    conv = closed_conversation()
    curation.set_opt_out(conv, True)
    assert Conversation.objects.get(pk=conv.pk).faq_opt_out


@pytest.mark.django_db
def test_open_transcript_cannot_become_a_draft(closed_conversation):
    conv = closed_conversation()
    Conversation.objects.filter(pk=conv.pk).update(status=Conversation.Status.ACTIVE)
    conv.refresh_from_db()
    with pytest.raises(ServiceError, match="faq_transcript_open"):
        curation.create_draft_from_transcript(conversation=conv, message_ids=[m.pk for m in conv.messages.all()])


@pytest.mark.django_db
def test_candidates_group_unanswered_questions_largest_first(closed_conversation):
    services.save_entry(slug="jam-buka", language="id", question="Kapan jam buka perpustakaan?",
                        answer="Senin sampai Kamis.", status=FaqEntry.Status.PUBLISHED)
    for s in ["Apakah ada kelas menjahit untuk ibu-ibu?", "kelas menjahit ada gak?",
              "Mau ikut kelas menjahit, daftarnya gimana?"]:
        closed_conversation(subject=s)
    for s in ["Boleh bawa kucing ke perpustakaan?", "Apakah kucing boleh masuk perpustakaan?"]:
        closed_conversation(subject=s)
    closed_conversation(subject="Kapan jam buka perpustakaan?")  # answered by the FAQ
    groups = curation.candidate_faqs()
    assert [g["count"] for g in groups] == [3, 2]
    assert "menjahit" in groups[0]["question"]


# --- import / export --------------------------------------------------------------------------------
RECORDS = [
    {"slug": "wifi", "language": "id", "question": "Apakah ada wifi gratis?", "answer": "Ada.",
     "topics": ["fasilitas"]},
    {"slug": "wifi-en", "language": "en", "question": "Is there free Wi-Fi?", "answer": "Yes.",
     "topics": ["facilities"], "translation_of": "wifi"},
    {"slug": "BAD SLUG", "language": "id", "question": "x", "answer": "y", "topics": []},
    {"slug": "no-answer", "language": "id", "question": "x", "topics": []},
    {"slug": "parkir", "language": "id", "question": "Di mana parkir?", "answer": "Di belakang.", "topics": []},
]


@pytest.mark.django_db
def test_import_reports_bad_records_by_index_and_imports_the_rest(tmp_path):
    path = tmp_path / "faq.json"
    path.write_text(json.dumps(RECORDS), encoding="utf-8")
    with pytest.raises(CommandError):
        call_command("faq_import", str(path))
    assert set(FaqEntry.objects.values_list("slug", flat=True)) == {"wifi", "wifi-en", "parkir"}
    assert FaqEntry.objects.get(slug="wifi-en").translation_of.slug == "wifi"
    assert all(e.is_published for e in FaqEntry.objects.all())
    saved, errors = services.import_records(RECORDS)
    assert [i for i, _ in errors] == [2, 3]


@pytest.mark.django_db
def test_import_upserts_and_draft_flag(tmp_path):
    good = [r for r in RECORDS if r["slug"] in ("wifi", "parkir")]
    services.import_records(good, publish=False)
    assert not FaqEntry.objects.filter(status=FaqEntry.Status.PUBLISHED).exists()
    changed = [{**good[0], "answer": "Ada, kata sandinya di meja."}]
    services.import_records(changed)
    assert FaqEntry.objects.count() == 2
    assert "kata sandinya" in FaqEntry.objects.get(slug="wifi").answer


@pytest.mark.django_db
def test_export_round_trip(tmp_path):
    good = [r for r in RECORDS if r["slug"] in ("wifi", "wifi-en", "parkir")]
    services.import_records(good)
    out = tmp_path / "out.json"
    call_command("faq_export", "-o", str(out))
    exported = json.loads(out.read_text(encoding="utf-8"))
    assert {r["slug"]: r.get("translation_of") for r in exported} == {"wifi": None, "wifi-en": "wifi", "parkir": None}
    FaqEntry.objects.update(translation_of=None)
    FaqEntry.objects.all().delete()
    saved, errors = services.import_records(exported)
    assert errors == [] and sorted(saved) == ["parkir", "wifi", "wifi-en"]
    assert services.export_records() == exported
