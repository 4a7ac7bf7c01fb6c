"""Transcript exports (reference.reports.exports) and the spreadsheet-safe CSV (streaming.py), on a
hand-made desk whose every value is known: a transferred chat, an offline question, a chat with an
attachment, notes, a chat just after midnight in the library's zone and one just before."""

import asyncio
import csv
import datetime as dt
import io
import json
import zoneinfo
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.translation import gettext_lazy

from reference.models import (
    Attachment,
    Conversation,
    InternalNote,
    LibrarianProfile,
    Library,
    LibraryCard,
    Message,
    Patron,
    Queue,
    SurveyAnswer,
    SurveyQuestion,
    Topic,
    Transfer,
)
from reference.reports import exports
from reference.reports.exports import patron_pseudonym
from reference.reports.streaming import LazyStreamingResponse, csv_chunks, csv_response
from widgets.models import Site

JAKARTA = zoneinfo.ZoneInfo("Asia/Jakarta")
CSV_URL = "/staff/reports/export/transcripts.csv"
JSON_URL = "/staff/reports/export/transcripts.json"
NOVEMBER = {"start": "2026-11-01", "end": "2026-11-30"}


def at(day, hour, minute=0, month=11):
    return dt.datetime(2026, month, day, hour, minute, tzinfo=JAKARTA)


def grant(user, *codenames):
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))


def conversation(*, patron, site, queue, created, librarian=None, **fields):
    made = Conversation.objects.create(patron=patron, site=site, queue=queue, librarian=librarian,
                                       subject="…", **fields)
    Conversation.objects.filter(pk=made.pk).update(created_at=created)
    made.refresh_from_db()
    return made


def message(chat, seq, when, role, author_name, text, author=None, attachment=None):
    made = Message.objects.create(conversation=chat, seq=seq, role=role, author_name=author_name, text=text,
                                  author=author, attachment=attachment)
    Message.objects.filter(pk=made.pk).update(created_at=when)


def note(chat, patron, when, author, text):
    made = InternalNote.objects.create(patron=patron, conversation=chat, author=author,
                                       author_name=author.librarian_profile.display_name, text=text)
    InternalNote.objects.filter(pk=made.pk).update(created_at=when)


@pytest.fixture
def desk(db, django_user_model):
    """Two librarians of one library, and five conversations around November 2026 (Asia/Jakarta)."""
    library = Library.objects.create(name="Perpustakaan Tebing Tinggi", time_zone="Asia/Jakarta")
    general = Queue.objects.create(name="Umum", slug="umum", library=library)
    local = Queue.objects.create(name="Sejarah lokal", slug="lokal", library=library)
    site = Site.objects.create(name="Situs utama", key="export-site", default_queue=general, library=library)

    def librarian(username, display_name):
        user = django_user_model.objects.create_user(username=username, is_staff=True)
        LibrarianProfile.objects.create(user=user, display_name=display_name, library=library)
        return user

    siti, budi = librarian("siti", "Siti"), librarian("budi", "Budi Santoso")
    rina = Patron.objects.create(site=site, name="Rina Marpaung", email="rina@example.id")
    LibraryCard.objects.create(patron=rina, number="TT-2026-00042")
    anon = Patron.objects.create(site=site)
    asker = Patron.objects.create(site=site, name="Andi", email="andi@example.id")

    # Rina's chat: Siti took it, handed it to Budi, who closed it; rated, assessed, surveyed, noted.
    transferred = conversation(
        patron=rina, site=site, queue=local, created=at(2, 9), librarian=budi, status="closed",
        first_assigned_at=at(2, 9, 1), first_response_at=at(2, 9, 2), closed_at=at(2, 9, 20),
        closed_by_role="librarian", closed_by=budi, rating=5, rating_comment="=HYPERLINK(\"http://x\")",
        read_scale=3, question_type="research")
    transferred.topics.set([Topic.objects.create(library=library, label_id="Koran lama", label_en="Old newspapers")])
    Transfer.objects.create(conversation=transferred, from_user=siti, to_user=budi, status="accepted")
    Transfer.objects.create(conversation=transferred, from_user=siti, to_user=budi, status="declined")
    helped = SurveyQuestion.objects.create(site=site, position=1, kind="yes_partly_no",
                                           text_id="Apakah terjawab?", text_en="Was it answered?")
    scale = SurveyQuestion.objects.create(site=site, position=2, kind="scale", text_id="Nilai", text_en="Score")
    SurveyAnswer.objects.create(conversation=transferred, question=helped, choice="partly")
    SurveyAnswer.objects.create(conversation=transferred, question=scale, score=4)
    message(transferred, 1, at(2, 9), "patron", "Rina Marpaung", "Apakah ada koran lama tahun 1970-an?")
    message(transferred, 2, at(2, 9, 2), "librarian", "Siti", "Sebentar, saya cek, ya.", author=siti)
    message(transferred, 3, at(2, 9, 5), "system", "", "Percakapan dialihkan ke Budi Santoso.")
    message(transferred, 4, at(2, 9, 7), "librarian", "Budi Santoso",
            'Ada, di "ruang arsip", lantai 2; buka 08.00–16.00', author=budi)
    message(transferred, 5, at(2, 9, 19), "patron", "Rina Marpaung", "-terima kasih\nbanyak, Pak")
    note(transferred, rina, at(2, 9, 4), siti, "Minta koran Waspada, Mei 1971.")
    note(None, rina, at(2, 9, 30), budi, "Peneliti; sering bertanya soal arsip.")

    # A question left while nobody was on duty (just after midnight on the 1st in Jakarta:
    # still 31 October in UTC).
    offline = conversation(patron=anon, site=site, queue=general, created=at(1, 0, 10), is_offline=True)
    message(offline, 1, at(1, 0, 10), "patron", "", "@admin jam buka hari Minggu?")

    # Siti's own chat, with a photo the patron sent; the patron closed it.
    with_photo = conversation(
        patron=asker, site=site, queue=general, created=at(30, 23, 50), librarian=siti, status="closed",
        first_assigned_at=at(30, 23, 51), first_response_at=at(30, 23, 52), closed_at=at(1, 0, 5, month=12),
        closed_by_role="patron")
    photo = Attachment.objects.create(conversation=with_photo, role="patron", patron=asker,
                                      file="attachments/2026/11/x.jpg", name="sampul buku.jpg",
                                      content_type="image/jpeg", size=1234)
    message(with_photo, 1, at(30, 23, 50), "patron", "Andi", "+62 812 3456 7890 bisa ditelepon?")
    message(with_photo, 2, at(30, 23, 51), "patron", "Andi", "", attachment=photo)
    message(with_photo, 3, at(30, 23, 52), "librarian", "Siti", "Baik, Pak Andi.", author=siti)

    # Outside the period: ten minutes before it starts, and after it ends.
    conversation(patron=anon, site=site, queue=general, created=at(31, 23, 50, month=10), status="closed")
    conversation(patron=anon, site=site, queue=general, created=at(1, 0, 0, month=12), status="closed")
    # Another library's chat in the period.
    elsewhere = Library.objects.create(name="Perpustakaan lain")
    their_site = Site.objects.create(name="Lain", key="other-site", default_queue=general, library=elsewhere)
    conversation(patron=Patron.objects.create(site=their_site), site=their_site, queue=general, created=at(3, 9),
                 status="closed")
    return SimpleNamespace(library=library, general=general, local=local, site=site, siti=siti, budi=budi,
                           rina=rina, anon=anon, asker=asker, transferred=transferred, offline=offline,
                           with_photo=with_photo)


@pytest.fixture
def manager(desk):
    grant(desk.budi, "view_desk_reports")
    return desk.budi


def get(client, user, url, **params):
    client.force_login(user)
    return client.get(url, {**NOVEMBER, **params}, HTTP_ACCEPT_LANGUAGE="en")


def body(response):
    assert response.streaming
    return b"".join(response.streaming_content)


def csv_rows(response):
    data = body(response)
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def json_export(response):
    return json.loads(body(response).decode())


# ---- what the exports hold

def test_json_holds_every_field_of_every_conversation_in_the_period(client, desk, manager):
    grant(manager, "export_personal_data")
    response = get(client, manager, JSON_URL)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="transcripts-2026-11-01-2026-11-30.json"'
    data = json_export(response)
    assert data["query"] == {
        "library": "Perpustakaan Tebing Tinggi", "time_zone": "Asia/Jakarta", "start": "2026-11-01",
        "end": "2026-11-30", "queue": None, "librarian": None, "site": None, "own_conversations_only": False,
        "personal_data": True, "conversations": 3, "exported_at": data["query"]["exported_at"]}
    assert [c["id"] for c in data["conversations"]] == sorted(
        [desk.transferred.pk, desk.offline.pk, desk.with_photo.pk])
    transferred = next(c for c in data["conversations"] if c["id"] == desk.transferred.pk)
    assert transferred == {
        "id": desk.transferred.pk,
        "created_at": "2026-11-02T09:00:00+07:00",
        "first_assigned_at": "2026-11-02T09:01:00+07:00",
        "first_response_at": "2026-11-02T09:02:00+07:00",
        "closed_at": "2026-11-02T09:20:00+07:00",
        "status": "closed",
        "is_offline": False,
        "queue": "Sejarah lokal",
        "site": "Situs utama",
        "librarian": "Budi Santoso",
        "closed_by_role": "librarian",
        "closed_by": "Budi Santoso",
        "transfers": 1,  # the declined offer did not move the chat
        "rating": 5,
        "rating_comment": '=HYPERLINK("http://x")',  # JSON is data: nothing to escape
        "read_scale": 3,
        "question_type": "research",
        "topics": ["Old newspapers"],
        "survey": [{"question": "Was it answered?", "answer": "Partly"}, {"question": "Score", "answer": 4}],
        "patron": {"id": patron_pseudonym(desk.rina.pk), "name": "Rina Marpaung", "email": "rina@example.id",
                   "library_card": "TT-2026-00042"},
        "messages": [
            {"seq": 1, "at": "2026-11-02T09:00:00+07:00", "role": "patron", "author": "Rina Marpaung",
             "text": "Apakah ada koran lama tahun 1970-an?", "attachment": None},
            {"seq": 2, "at": "2026-11-02T09:02:00+07:00", "role": "librarian", "author": "Siti",
             "text": "Sebentar, saya cek, ya.", "attachment": None},
            {"seq": 3, "at": "2026-11-02T09:05:00+07:00", "role": "system", "author": "",
             "text": "Percakapan dialihkan ke Budi Santoso.", "attachment": None},
            {"seq": 4, "at": "2026-11-02T09:07:00+07:00", "role": "librarian", "author": "Budi Santoso",
             "text": 'Ada, di "ruang arsip", lantai 2; buka 08.00–16.00', "attachment": None},
            {"seq": 5, "at": "2026-11-02T09:19:00+07:00", "role": "patron", "author": "Rina Marpaung",
             "text": "-terima kasih\nbanyak, Pak", "attachment": None},
        ],
        "notes": [
            {"at": "2026-11-02T09:04:00+07:00", "author": "Siti", "text": "Minta koran Waspada, Mei 1971.",
             "about": "conversation"},
            {"at": "2026-11-02T09:30:00+07:00", "author": "Budi Santoso",
             "text": "Peneliti; sering bertanya soal arsip.", "about": "patron"},
        ],
    }
    offline = next(c for c in data["conversations"] if c["id"] == desk.offline.pk)
    assert offline["is_offline"] is True and offline["status"] == "queued"
    assert offline["created_at"] == "2026-11-01T00:10:00+07:00"
    assert (offline["librarian"], offline["closed_by"], offline["first_assigned_at"]) == ("", "", None)
    assert offline["patron"] == {"id": patron_pseudonym(desk.anon.pk), "name": "", "email": "", "library_card": ""}
    photo = next(c for c in data["conversations"] if c["id"] == desk.with_photo.pk)
    assert photo["messages"][1]["attachment"] == "sampul buku.jpg"
    assert (photo["closed_by_role"], photo["closed_by"]) == ("patron", "Patron")
    assert photo["closed_at"] == "2026-12-01T00:05:00+07:00"


def test_csv_has_a_row_per_message_and_note_with_the_conversation_repeated(client, desk, manager):
    grant(manager, "export_personal_data")
    response = get(client, manager, CSV_URL)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="transcripts-2026-11-01-2026-11-30.csv"'
    rows = csv_rows(response)
    assert list(rows[0]) == [
        "Conversation", "Started", "First taken", "First response", "Closed at", "Status", "Left offline", "Queue",
        "Widget site", "Librarian", "Closed by", "Transfers", "Rating", "Rating comment", "READ scale",
        "Question type", "Topics", "Survey answers", "Patron", "Patron's name", "Patron's e-mail",
        "Library card number", "Message number", "Time", "From", "Author", "Text", "Attachment"]
    transferred = [row for row in rows if row["Conversation"] == str(desk.transferred.pk)]
    assert [(row["Message number"], row["From"]) for row in transferred] == [
        ("1", "Patron"), ("2", "Librarian"), ("", "Note on this chat"), ("3", "System"), ("4", "Librarian"),
        ("5", "Patron"), ("", "Note about the patron")]
    first = transferred[0]
    assert {key: first[key] for key in list(first)[:22]} == {
        "Conversation": str(desk.transferred.pk), "Started": "2026-11-02T09:00:00+07:00",
        "First taken": "2026-11-02T09:01:00+07:00", "First response": "2026-11-02T09:02:00+07:00",
        "Closed at": "2026-11-02T09:20:00+07:00", "Status": "Closed", "Left offline": "No", "Queue": "Sejarah lokal",
        "Widget site": "Situs utama", "Librarian": "Budi Santoso", "Closed by": "Budi Santoso", "Transfers": "1",
        "Rating": "5", "Rating comment": "'=HYPERLINK(\"http://x\")", "READ scale": "3",
        "Question type": "Research", "Topics": "Old newspapers", "Survey answers": "Was it answered?: Partly\nScore: 4",
        "Patron": patron_pseudonym(desk.rina.pk), "Patron's name": "Rina Marpaung",
        "Patron's e-mail": "rina@example.id", "Library card number": "TT-2026-00042"}
    assert all(row["Rating comment"] == first["Rating comment"] for row in transferred)
    assert transferred[2]["Text"] == "Minta koran Waspada, Mei 1971."
    assert transferred[2]["Author"] == "Siti" and transferred[2]["Time"] == "2026-11-02T09:04:00+07:00"
    assert transferred[4]["Text"] == 'Ada, di "ruang arsip", lantai 2; buka 08.00–16.00'
    assert transferred[5]["Text"] == "'-terima kasih\nbanyak, Pak"
    offline = [row for row in rows if row["Conversation"] == str(desk.offline.pk)]
    assert [(row["Left offline"], row["Status"], row["Text"]) for row in offline] == [
        ("Yes", "Waiting", "'@admin jam buka hari Minggu?")]
    photo = [row for row in rows if row["Conversation"] == str(desk.with_photo.pk)]
    assert [(row["Text"], row["Attachment"]) for row in photo] == [
        ("'+62 812 3456 7890 bisa ditelepon?", ""), ("", "sampul buku.jpg"), ("Baik, Pak Andi.", "")]
    assert photo[0]["Closed by"] == "Patron"


def test_a_conversation_without_messages_still_has_its_row(client, desk, manager):
    Message.objects.filter(conversation=desk.offline).delete()
    rows = csv_rows(get(client, manager, CSV_URL))
    offline = [row for row in rows if row["Conversation"] == str(desk.offline.pk)]
    assert len(offline) == 1 and offline[0]["Message number"] == "" and offline[0]["Left offline"] == "Yes"


# ---- personal data and who sees what

def test_without_the_permission_patrons_are_pseudonyms_and_notes_are_left_out(client, desk, manager):
    rows = csv_rows(get(client, manager, CSV_URL))
    assert "Patron's name" not in rows[0] and "Library card number" not in rows[0]
    assert {row["From"] for row in rows} == {"Patron", "Librarian", "System"}
    # (Messages are exported as written: "Baik, Pak Andi." keeps the name a librarian typed.)
    secrets = ("Rina", "rina@example.id", "TT-2026-00042", "andi@example.id", "Minta koran", "Peneliti",
               str(desk.rina.pk))
    text = json.dumps(rows)
    assert not [secret for secret in secrets if secret in text]
    transferred = [row for row in rows if row["Conversation"] == str(desk.transferred.pk)]
    assert [row["Author"] for row in transferred] == [
        patron_pseudonym(desk.rina.pk), "Siti", "", "Budi Santoso", patron_pseudonym(desk.rina.pk)]
    data = json_export(get(client, manager, JSON_URL))
    assert data["query"]["personal_data"] is False
    transferred = next(c for c in data["conversations"] if c["id"] == desk.transferred.pk)
    assert transferred["patron"] == {"id": patron_pseudonym(desk.rina.pk)}
    assert "notes" not in transferred
    assert transferred["messages"][0]["author"] == patron_pseudonym(desk.rina.pk)
    assert not [secret for secret in secrets if secret in json.dumps(data)]


def test_the_pseudonym_is_stable_and_differs_between_patrons(desk):
    assert patron_pseudonym(desk.rina.pk) == patron_pseudonym(desk.rina.pk)
    assert patron_pseudonym(desk.rina.pk) != patron_pseudonym(desk.anon.pk)
    assert patron_pseudonym(desk.rina.pk).startswith("patron-") and str(desk.rina.pk) not in patron_pseudonym(
        desk.rina.pk)


def test_a_librarian_without_the_manager_permission_gets_only_their_own(client, desk):
    data = json_export(get(client, desk.siti, JSON_URL, librarian=desk.budi.pk))
    assert [c["id"] for c in data["conversations"]] == [desk.with_photo.pk]
    assert data["query"]["own_conversations_only"] is True and data["query"]["librarian"] == "Siti"
    rows = csv_rows(get(client, desk.siti, CSV_URL))
    assert {row["Conversation"] for row in rows} == {str(desk.with_photo.pk)}


def test_filters_narrow_the_export(client, desk, manager):
    by_queue = json_export(get(client, manager, JSON_URL, queue=desk.local.pk))
    assert [c["id"] for c in by_queue["conversations"]] == [desk.transferred.pk]
    assert by_queue["query"]["queue"] == "Sejarah lokal"
    by_librarian = json_export(get(client, manager, JSON_URL, librarian=desk.siti.pk))
    assert [c["id"] for c in by_librarian["conversations"]] == [desk.with_photo.pk]
    one_day = json_export(get(client, manager, JSON_URL, start="2026-11-01", end="2026-11-01"))
    assert [c["id"] for c in one_day["conversations"]] == [desk.offline.pk]
    assert one_day["query"]["conversations"] == 1


def test_an_empty_period_is_a_valid_empty_export(client, desk, manager):
    data = json_export(get(client, manager, JSON_URL, start="2026-06-01", end="2026-06-30"))
    assert data["conversations"] == [] and data["query"]["conversations"] == 0
    rows = csv_rows(get(client, manager, CSV_URL, start="2026-06-01", end="2026-06-30"))
    assert rows == []


# ---- bad input, the limit, who may export

@pytest.mark.parametrize("url", [CSV_URL, JSON_URL])
@pytest.mark.parametrize("params, says", [
    ({"start": "2026-13-01"}, "Enter a valid date."),
    ({"start": "2026-11-30", "end": "2026-11-01"}, "“From” must not be after “To”."),
    ({"start": "2020-01-01", "end": "2026-11-30"}, "A report covers at most 731 days; choose a shorter period."),
    ({"queue": "999999"}, "There is no such queue."),
    ({"librarian": "999999"}, "There is no such librarian."),
    ({"site": "abc"}, "There is no such widget site."),
])
def test_bad_filters_are_a_400_saying_why(client, desk, manager, url, params, says):
    response = get(client, manager, url, **params)
    assert response.status_code == 400 and not response.streaming
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert says in response.content.decode()


def test_another_librarys_site_is_unknown_here(client, desk, manager):
    other = Site.objects.get(key="other-site")
    response = get(client, manager, JSON_URL, site=other.pk)
    assert response.status_code == 400 and "There is no such widget site." in response.content.decode()


@pytest.mark.parametrize("url", [CSV_URL, JSON_URL])
def test_an_export_over_the_limit_is_refused_with_the_count_and_the_limit(client, desk, manager, settings, url):
    settings.REPORT_EXPORT_MAX_CONVERSATIONS = 2
    response = get(client, manager, url)
    assert response.status_code == 400 and not response.streaming
    text = response.content.decode()
    assert "This period has 3 conversations; an export holds at most 2." in text
    assert "shorter period" in text
    settings.REPORT_EXPORT_MAX_CONVERSATIONS = 3
    assert get(client, manager, url).status_code == 200


def test_the_refusal_speaks_the_librarians_language(client, desk, manager):
    client.force_login(manager)
    response = client.get(JSON_URL, {"start": "kemarin"}, HTTP_ACCEPT_LANGUAGE="id")
    assert response.status_code == 400 and "Masukkan tanggal yang valid." in response.content.decode()


@pytest.mark.parametrize("url", [CSV_URL, JSON_URL])
def test_non_staff_are_sent_to_log_in(client, desk, django_user_model, url):
    response = client.get(url, NOVEMBER)
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    patron_like = django_user_model.objects.create_user(username="warga")
    client.force_login(patron_like)
    response = client.get(url, NOVEMBER)
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_only_get_is_allowed(client, desk, manager):
    client.force_login(manager)
    assert client.post(JSON_URL).status_code == 405


# ---- spreadsheet safety

def test_csv_is_excel_safe_bom_crlf_quoting_and_no_formulas():
    rows = [["=1+1", "+62 812", "-5 buku", "@SUM(A1)", "\tdi depan", "biasa, dengan koma", 'kata "kutip"',
             "dua\nbaris", 7, None, "Perpustakaan – ruang baca ñ é"]]
    data = b"".join(csv_chunks(["a"] * 11, rows))
    assert data.startswith(b"\xef\xbb\xbf" + b"a,a,a")
    assert data.count(b"\r\n") == 2  # the header's and the row's ends; the line break inside a cell stays LF
    assert data.endswith(b"\r\n")
    text = data.decode("utf-8-sig")
    assert text.split("\r\n")[1].startswith(
        "'=1+1,'+62 812,'-5 buku,'@SUM(A1),'\tdi depan,"
        "\"biasa, dengan koma\",\"kata \"\"kutip\"\"\",\"dua\nbaris\",7,,")
    parsed = list(csv.reader(io.StringIO(text, newline="")))
    assert parsed[1] == ["'=1+1", "'+62 812", "'-5 buku", "'@SUM(A1)", "'\tdi depan", "biasa, dengan koma",
                         'kata "kutip"', "dua\nbaris", "7", "", "Perpustakaan – ruang baca ñ é"]


def test_csv_response_streams_any_table_as_a_download():
    def table():
        yield ["Senin", 12]
        yield [gettext_lazy("=Selasa"), -3]  # a lazy label is text too; a negative number stays a number

    response = csv_response("volume-2026-11-01-2026-11-30.csv", ["Hari", "Obrolan"], table())
    assert response.streaming and response["Cache-Control"] == "no-store"
    assert response["Content-Disposition"] == 'attachment; filename="volume-2026-11-01-2026-11-30.csv"'
    assert b"".join(response.streaming_content) == "\ufeffHari,Obrolan\r\nSenin,12\r\n'=Selasa,-3\r\n".encode()


def test_csv_is_cut_into_pieces_as_it_goes():
    made = []

    def rows():
        for n in range(5000):
            made.append(n)
            yield [n, "x" * 100]

    pieces = csv_chunks(["n", "text"], rows())
    assert next(pieces).endswith(b"n,text\r\n") and made == []
    second = next(pieces)
    assert 64 * 1024 <= len(second) < 70 * 1024 and len(made) < 1000
    assert sum(len(piece) for piece in pieces) > 0 and len(made) == 5000


# ---- streaming: lazy, a few queries per chunk, never all in memory

def make_busy_month(desk, count, messages_each=3):
    """`count` conversations on 15 November with `messages_each` messages, in bulk."""
    patrons = Patron.objects.bulk_create([Patron(site=desk.site) for _ in range(count)])
    made = Conversation.objects.bulk_create([
        Conversation(patron=patron, site=desk.site, queue=desk.general, status="closed", subject="?",
                     librarian=desk.siti) for patron in patrons])
    Conversation.objects.filter(pk__in=[c.pk for c in made]).update(created_at=at(15, 10))
    Message.objects.bulk_create([
        Message(conversation=c, seq=seq, role="patron", text=f"pesan {seq}") for c in made
        for seq in range(1, messages_each + 1)])
    return made


@pytest.mark.parametrize("url", [CSV_URL, JSON_URL])
def test_a_big_export_reads_a_chunk_at_a_time_with_a_few_queries_each(client, desk, manager, url):
    grant(manager, "export_personal_data")  # the most queries: notes too
    make_busy_month(desk, 1_200)
    client.force_login(manager)
    with CaptureQueriesContext(connection) as before_body:
        response = client.get(url, NOVEMBER)
    assert response.status_code == 200 and response.streaming
    pieces = iter(response.streaming_content)
    with CaptureQueriesContext(connection) as first:
        head = next(pieces)
    assert head  # the header or the query, before any conversation is read
    with CaptureQueriesContext(connection) as chunk_one:
        rest = [next(pieces)]
    with CaptureQueriesContext(connection) as everything_else:
        rest += list(pieces)
    chunks = 3  # 1,203 conversations, 500 at a time
    assert len(first) == 0
    # conversations, topics, survey answers, messages, notes, librarians not met before
    per_chunk = 6
    assert len(chunk_one) <= per_chunk + 2  # and once: the names of queues and sites
    assert len(everything_else) <= per_chunk * (chunks - 1)
    # Nothing before the body but the user, the filters and the one aggregate over conversations.
    assert not any("reference_message" in q["sql"] for q in before_body.captured_queries)
    text = (head + b"".join(rest)).decode("utf-8-sig")
    if url == JSON_URL:
        assert len(json.loads(text)["conversations"]) == 1_203
    else:
        desk_rows = 7 + 1 + 3  # 5 messages and 2 notes, an offline question, 3 messages
        assert len(list(csv.reader(io.StringIO(text, newline="")))) == 1 + 1_200 * 3 + desk_rows


@pytest.mark.django_db  # the pieces are made on the long-read thread, which tidies its database connection
def test_under_asgi_the_body_is_made_one_piece_at_a_time():
    made = []

    def pieces():
        for n in range(3):
            made.append(n)
            yield f"{n}".encode()

    async def first_two():
        seen = []
        async for piece in LazyStreamingResponse(pieces()):
            seen.append((piece, list(made)))
            if len(seen) == 2:
                break
        return seen

    assert asyncio.run(first_two()) == [(b"0", [0]), (b"1", [0, 1])]


@pytest.mark.django_db(transaction=True)
async def test_an_export_over_asgi_streams_from_the_database(async_client, django_user_model):
    from asgiref.sync import sync_to_async

    def setup():
        queue = Queue.objects.create(name="Umum", slug="umum-a")
        site = Site.objects.create(name="Situs", key="asgi-site", default_queue=queue)
        user = django_user_model.objects.create_user(username="asgi", is_staff=True)
        LibrarianProfile.objects.create(user=user, display_name="Asgi", library=site.library)
        grant(user, "view_desk_reports")
        for n in range(3):
            chat = conversation(patron=Patron.objects.create(site=site), site=site, queue=queue, created=at(5, 8 + n))
            message(chat, 1, at(5, 8 + n), "patron", "", f"pertanyaan {n}")
        return user

    user = await sync_to_async(setup)()
    await async_client.aforce_login(user)
    response = await async_client.get(JSON_URL, NOVEMBER, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200 and response.streaming
    # As Django's ASGI handler sends it: through the response's __aiter__.
    data = json.loads(b"".join([piece async for piece in response]))
    await sync_to_async(response.close, thread_sensitive=True)()  # as the handler does: the thread's connection goes
    assert [c["messages"][0]["text"] for c in data["conversations"]] == [f"pertanyaan {n}" for n in range(3)]


def test_the_transfer_count_ignores_offers_that_did_not_move_the_chat(desk, manager):
    Transfer.objects.create(conversation=desk.transferred, from_user=desk.budi, to_queue=desk.general,
                            status="requeued")
    Transfer.objects.create(conversation=desk.transferred, from_user=desk.budi, to_user=desk.siti, status="expired")
    from reference.reports.filters import report_query_or_error

    query = report_query_or_error(manager, NOVEMBER)
    export = exports.check_transcript_export(query, personal=False, viewer=manager)
    by_id = {record["id"]: record for record in exports.records(export)}
    assert by_id[desk.transferred.pk]["transfers"] == 2 and by_id[desk.offline.pk]["transfers"] == 0


def test_a_year_long_period_is_accepted(client, desk, manager):
    response = get(client, manager, JSON_URL, start="2025-12-01", end="2026-11-30")
    assert response.status_code == 200
    assert json_export(response)["query"]["conversations"] == 4  # and the one just before November

