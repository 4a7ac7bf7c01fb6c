"""The audit trail (reference.audit): each act on patrons' data writes one row; transcripts limited to
a librarian's queues where the library says so (selectors.visible_transcripts); the trail's page."""

import datetime as dt
import json
import zoneinfo
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from reference import attachments, audit, selectors
from reference.models import (
    AuditEvent,
    Conversation,
    InternalNote,
    LibrarianProfile,
    Library,
    Message,
    Patron,
    Transfer,
)
from reference.transcript_search import terms_for
from tests.files import pdf
from widgets.models import Site

pytestmark = pytest.mark.django_db
Action = AuditEvent.Action


def grant(user, *codenames):
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return type(user).objects.get(pk=user.pk)  # a fresh user: permissions are cached on the instance


def closed(*, site, queue, subject, librarian=None, patron=None):
    patron = patron or Patron.objects.create(site=site, name="Rina", email="rina@example.id")
    chat = Conversation.objects.create(patron=patron, site=site, queue=queue, subject=subject, librarian=librarian,
                                       status=Conversation.Status.CLOSED, closed_at=timezone.now(), last_seq=1)
    Message.objects.create(conversation=chat, seq=1, role="patron", author_name="Rina", text=subject,
                           search_terms=terms_for(subject))  # as reference.messaging stores it
    return chat


@pytest.fixture
def desk(site, queue, other_queue, make_librarian):
    """One library with two queues: Siti answers in Umum, Budi in Anak-anak; a closed chat in each."""
    library = site.library
    siti = make_librarian("siti", "Siti", queues=[queue])
    budi = make_librarian("budi", "Budi", queues=[other_queue])
    in_a = closed(site=site, queue=queue, subject="Jam buka perpustakaan?", librarian=siti)
    in_b = closed(site=site, queue=other_queue, subject="Buku cerita anak?", librarian=budi)
    return SimpleNamespace(library=library, site=site, a=queue, b=other_queue, siti=siti, budi=budi,
                           in_a=in_a, in_b=in_b)


def by_queue(library, on=True):
    Library.objects.filter(pk=library.pk).update(transcripts_by_queue=on)


def events(**match):
    return list(AuditEvent.objects.filter(**match))


def today(library):
    return timezone.now().astimezone(zoneinfo.ZoneInfo(library.time_zone)).date()


def period(library):
    return {"start": (today(library) - dt.timedelta(days=1)).isoformat(), "end": today(library).isoformat()}


# ---- each act writes exactly one row

def test_opening_a_transcript_is_one_row_with_who_where_and_which(client, desk):
    client.force_login(desk.siti)
    assert client.get(f"/staff/transcripts/{desk.in_a.pk}/").status_code == 200
    [event] = AuditEvent.objects.all()
    assert (event.action, event.user, event.actor, event.library_id, event.conversation_id, event.detail) == (
        Action.VIEW_TRANSCRIPT, desk.siti, "Siti (siti)", desk.library.pk, desk.in_a.pk, {})


def test_saving_an_assessment_on_the_transcript_is_not_an_opening(client, desk):
    client.force_login(desk.siti)
    response = client.post(f"/staff/transcripts/{desk.in_a.pk}/", {"question_type": "directional"})
    assert response.status_code == 302
    assert not AuditEvent.objects.exists()


def test_the_plain_list_is_not_a_search_but_words_or_filters_are(client, desk):
    client.force_login(desk.siti)
    client.get("/staff/transcripts/")
    client.get("/staff/transcripts/?page=1")
    assert not AuditEvent.objects.exists()
    client.get("/staff/transcripts/", {"text": "jam buka", "queue": desk.a.pk, "date_from": "2026-01-02"})
    [event] = AuditEvent.objects.all()
    assert (event.action, event.user, event.library_id, event.conversation_id) == (
        Action.SEARCH_TRANSCRIPTS, desk.siti, desk.library.pk, None)
    assert event.detail == {"text": "jam buka", "filters": {"queue": "Umum", "date_from": "2026-01-02"},
                            "conversations": 1}
    client.get("/staff/transcripts/", {"librarian": desk.budi.pk})
    assert events(action=Action.SEARCH_TRANSCRIPTS)[0].detail == {
        "text": "", "filters": {"librarian": "Budi"}, "conversations": 1}


def test_a_bad_filter_searches_nothing_and_records_nothing(client, desk):
    client.force_login(desk.siti)
    client.get("/staff/transcripts/", {"date_from": "kemarin"})
    assert not AuditEvent.objects.exists()


def test_opening_an_earlier_chat_in_the_dashboard_pane_is_one_row(client, desk, identity):
    from tests.starting import held_chat

    patron = Patron.objects.create(pk=identity.patron_id, site=desk.site, name="Rina")
    before = closed(site=desk.site, queue=desk.a, subject="Dulu", librarian=desk.siti, patron=patron)
    Conversation.objects.filter(pk=before.pk).update(created_at=timezone.now() - dt.timedelta(days=2))
    now = held_chat(identity=identity, librarian=desk.siti)
    client.force_login(desk.siti)
    assert client.get(f"/staff/history/{now.pk}/{before.pk}/").status_code == 200
    [event] = AuditEvent.objects.all()
    assert (event.action, event.user, event.library_id, event.conversation_id, event.detail) == (
        Action.VIEW_TRANSCRIPT, desk.siti, desk.library.pk, before.pk, {"opened_from": "history", "current": now.pk})


@pytest.mark.parametrize("extension", ["csv", "json"])
def test_a_transcript_export_is_one_row_with_filters_format_and_personal_data(client, desk, extension):
    manager = grant(desk.budi, "view_desk_reports", "export_personal_data")
    client.force_login(manager)
    response = client.get(f"/staff/reports/export/transcripts.{extension}",
                          {**period(desk.library), "queue": desk.b.pk})
    assert response.status_code == 200
    b"".join(response.streaming_content)
    [event] = AuditEvent.objects.all()
    assert (event.action, event.user, event.library_id, event.conversation_id) == (
        Action.EXPORT, desk.budi, desk.library.pk, None)
    assert event.detail == {"filters": {**period(desk.library), "queue": "Anak-anak"}, "format": extension,
                            "personal_data": True, "conversations": 1}


def test_an_export_without_the_personal_data_permission_says_so(client, desk):
    client.force_login(desk.siti)  # own figures only
    client.get("/staff/reports/export/transcripts.json", period(desk.library))
    [event] = AuditEvent.objects.all()
    assert event.detail["personal_data"] is False
    assert event.detail["filters"]["librarian"] == "Siti"


def test_a_refused_export_records_nothing(client, desk):
    client.force_login(desk.siti)
    assert client.get("/staff/reports/export/transcripts.csv", {"start": "x"}).status_code == 400
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db(transaction=True)  # an async view: its database work runs on another thread
def test_a_report_table_as_csv_is_one_export_row(client, desk):
    client.force_login(desk.siti)
    response = client.get("/staff/reports/export/daily.csv", period(desk.library))
    assert response.status_code == 200
    [event] = AuditEvent.objects.all()
    assert (event.action, event.user, event.library_id) == (Action.EXPORT, desk.siti, desk.library.pk)
    assert event.detail["table"] == "daily" and event.detail["format"] == "csv"


def test_staff_downloading_a_file_is_one_row_naming_it_a_patron_is_not_recorded(client, desk, identity):
    from tests.starting import held_chat

    chat = held_chat(identity=identity, librarian=desk.siti)
    attachment = attachments.upload_for_librarian(
        user=desk.siti, conversation_id=chat.pk,
        uploaded=SimpleUploadedFile("denah.pdf", pdf(), content_type="application/pdf"))
    url = attachments.signed_url(attachment)
    assert client.get(url).status_code == 200  # the patron, by the link alone
    assert not AuditEvent.objects.exists()
    client.force_login(desk.siti)
    assert client.get(url).status_code == 200
    [event] = AuditEvent.objects.all()
    assert (event.action, event.user, event.library_id, event.conversation_id, event.detail) == (
        Action.VIEW_TRANSCRIPT, desk.siti, desk.library.pk, chat.pk, {"file": "denah.pdf"})


# ---- transcripts limited to a librarian's queues

def test_by_queue_a_librarian_neither_lists_nor_opens_nor_finds_another_queues_chats(client, desk):
    by_queue(desk.library)
    client.force_login(desk.siti)
    listed = client.get("/staff/transcripts/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Jam buka perpustakaan?" in listed and "Buku cerita anak?" not in listed
    assert client.get(f"/staff/transcripts/{desk.in_b.pk}/").status_code == 404
    assert client.post(f"/staff/transcripts/{desk.in_b.pk}/", {"question_type": ""}).status_code == 404
    assert client.get(f"/staff/transcripts/{desk.in_a.pk}/").status_code == 200
    found = client.get("/staff/transcripts/", {"text": "buku"}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Buku cerita anak?" not in found and "0 conversations" in found
    assert [e.conversation_id for e in events(action=Action.VIEW_TRANSCRIPT)] == [desk.in_a.pk]  # not the 404


def test_a_hidden_transcript_is_told_apart_from_a_missing_one_by_nothing(client, desk):
    by_queue(desk.library)
    client.force_login(desk.siti)
    hidden, missing = client.get(f"/staff/transcripts/{desk.in_b.pk}/"), client.get("/staff/transcripts/999999/")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.content == missing.content


def test_with_the_setting_off_every_librarian_reads_every_transcript(client, desk):
    client.force_login(desk.siti)
    assert client.get(f"/staff/transcripts/{desk.in_b.pk}/").status_code == 200
    assert "Buku cerita anak?" in client.get("/staff/transcripts/").content.decode()


def test_a_chat_they_held_or_were_handed_stays_readable_in_another_queue(client, desk):
    by_queue(desk.library)
    held = closed(site=desk.site, queue=desk.b, subject="Dulu saya pegang", librarian=desk.siti)
    handed = closed(site=desk.site, queue=desk.b, subject="Saya oper", librarian=desk.budi)
    Transfer.objects.create(conversation=handed, from_user=desk.siti, to_user=desk.budi, status="accepted")
    client.force_login(desk.siti)
    for chat in (held, handed):
        assert client.get(f"/staff/transcripts/{chat.pk}/").status_code == 200
    listed = client.get("/staff/transcripts/").content.decode()
    assert "Dulu saya pegang" in listed and "Saya oper" in listed and "Buku cerita anak?" not in listed


def test_the_permission_and_superusers_read_everything(client, desk, django_user_model):
    by_queue(desk.library)
    reader = grant(desk.siti, "view_all_transcripts")
    root = django_user_model.objects.create_superuser("root", password="pw", is_staff=True)
    for user in (reader, root):
        assert Conversation.objects.filter(selectors.visible_transcripts(user)).count() == 2
        client.force_login(user)
        assert client.get(f"/staff/transcripts/{desk.in_b.pk}/").status_code == 200


def test_the_rule_follows_each_conversations_own_library(desk, queue, make_librarian):
    other = Library.objects.create(name="Perpustakaan Provinsi")
    their_site = Site.objects.create(name="Provinsi", key="provinsi", default_queue=queue, library=other,
                                     allowed_origins="https://provinsi.example")
    theirs = closed(site=their_site, queue=desk.b, subject="Di sana")
    by_queue(desk.library)  # only here
    visible = set(Conversation.objects.filter(selectors.visible_transcripts(desk.siti)).values_list("pk", flat=True))
    assert visible == {desk.in_a.pk}  # another library's chats: not even the rule applies (reference.tenancy)
    desk.siti.librarian_profile.other_libraries.add(other)  # Siti works for both libraries
    del desk.siti._library_ids
    visible = set(Conversation.objects.filter(selectors.visible_transcripts(desk.siti)).values_list("pk", flat=True))
    assert visible == {desk.in_a.pk, theirs.pk}


def test_exports_leave_out_other_queues_chats(client, desk):
    by_queue(desk.library)
    manager = grant(desk.siti, "view_desk_reports")
    client.force_login(manager)
    response = client.get("/staff/reports/export/transcripts.json", period(desk.library))
    ids = [c["id"] for c in json.loads(b"".join(response.streaming_content))["conversations"]]
    assert ids == [desk.in_a.pk]
    assert events(action=Action.EXPORT)[0].detail["conversations"] == 1
    by_queue(desk.library, on=False)
    response = client.get("/staff/reports/export/transcripts.json", period(desk.library))
    ids = [c["id"] for c in json.loads(b"".join(response.streaming_content))["conversations"]]
    assert sorted(ids) == sorted([desk.in_a.pk, desk.in_b.pk])


def test_the_history_pane_hides_and_refuses_another_queues_earlier_chat(client, desk, identity):
    from tests.starting import held_chat

    by_queue(desk.library)
    patron = Patron.objects.create(pk=identity.patron_id, site=desk.site, name="Rina")
    mine = closed(site=desk.site, queue=desk.a, subject="Di Umum", patron=patron)
    theirs = closed(site=desk.site, queue=desk.b, subject="Di Anak-anak", librarian=desk.budi, patron=patron)
    Conversation.objects.filter(pk__in=[mine.pk, theirs.pk]).update(created_at=timezone.now() - dt.timedelta(days=1))
    now = held_chat(identity=identity, librarian=desk.siti)
    assert [c.pk for c in selectors.holder_workbench(now)["history"]] == [mine.pk]
    client.force_login(desk.siti)
    assert client.get(f"/staff/history/{now.pk}/{theirs.pk}/").status_code == 404
    assert client.get(f"/staff/history/{now.pk}/{mine.pk}/").status_code == 200
    page = client.get(f"/staff/transcripts/{now.pk}/").content.decode()
    assert "Di Umum" in page and "Di Anak-anak" not in page


# ---- erased patrons, anonymised chats, removed files

def test_an_anonymised_chat_of_an_erased_patron_shows_so(client, desk):
    Message.objects.create(conversation=desk.in_a, seq=2, role="patron", text="", attachment_removed=True)
    InternalNote.objects.filter(conversation=desk.in_a).delete()
    Conversation.objects.filter(pk=desk.in_a.pk).update(
        patron=None, anonymised_at=dt.datetime(2026, 3, 4, 5, tzinfo=dt.UTC))
    client.force_login(desk.siti)
    page = client.get(f"/staff/transcripts/{desk.in_a.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Erased patron" in page and "Anonymised on 4 Mar 2026" in page and "File removed" in page
    listed = client.get("/staff/transcripts/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Erased patron" in listed and "Anonymised on 4 Mar 2026" in listed


# ---- the trail's page

@pytest.fixture
def auditor(desk):
    return grant(desk.budi, "view_audit_trail")


def test_only_staff_with_the_permission_read_the_trail(client, desk, auditor):
    client.force_login(desk.siti)
    assert client.get("/staff/audit/").status_code == 403
    assert "/staff/audit/" not in client.get("/staff/transcripts/").content.decode()
    client.logout()
    assert client.get("/staff/audit/").status_code == 302  # to log in
    client.force_login(auditor)
    assert client.get("/staff/audit/").status_code == 200
    assert 'href="/staff/audit/"' in client.get("/staff/transcripts/").content.decode()
    assert not events(action=Action.VIEW_AUDIT, user=desk.siti)


def test_the_trail_lists_newest_first_in_the_librarys_time_zone_with_readable_detail(client, desk, auditor):
    Library.objects.filter(pk=desk.library.pk).update(time_zone="Asia/Jayapura")  # UTC+9
    first = audit.record(Action.VIEW_TRANSCRIPT, user=desk.siti, library_id=desk.library.pk,
                         conversation_id=desk.in_a.pk)
    AuditEvent.objects.filter(pk=first.pk).update(at=dt.datetime(2026, 5, 1, 20, 30, tzinfo=dt.UTC))
    audit.record(Action.SEARCH_TRANSCRIPTS, user=desk.siti, library_id=desk.library.pk, text="koran lama",
                 filters={"queue": "Umum"}, conversations=3)
    audit.record(Action.VIEW_TRANSCRIPT, user=desk.siti, library_id=desk.library.pk, conversation_id=424242)
    client.force_login(auditor)
    whole = client.get("/staff/audit/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<label for="id_action">' in whole and '<label for="id_user">' in whole
    page = whole[whole.index("audit-table"):]  # the table, not the filters' choices
    order = [page.index(text) for text in ("Read the audit trail", "#424242", "Searched transcripts", "2 May 2026")]
    assert order == sorted(order)  # newest first: this very reading, then what was recorded
    assert "05:30:00" in page  # 20:30 UTC is 05:30 the next day in Jayapura
    assert f'href="/staff/transcripts/{desk.in_a.pk}/"' in page
    assert "#424242 <span class=\"muted\">(deleted)</span>" in page
    assert "koran lama" in page and "queue: Umum" in page and "Siti (siti)" in page
    assert "<caption" in page


def test_reading_the_trail_is_recorded_with_its_filters(client, desk, auditor):
    client.force_login(auditor)
    client.get("/staff/audit/", {"action": "export", "user": desk.siti.pk, "date_from": "2026-01-01",
                                 "conversation": desk.in_a.pk})
    [event] = events(action=Action.VIEW_AUDIT)
    assert (event.user, event.library_id) == (desk.budi, desk.library.pk)
    assert event.detail == {"filters": {"date_from": "2026-01-01", "user": "Siti", "action": "export",
                                        "conversation": desk.in_a.pk}}


def test_the_filters_narrow_the_trail(client, desk, auditor):
    for user, action, conversation in ((desk.siti, Action.VIEW_TRANSCRIPT, desk.in_a.pk),
                                       (desk.siti, Action.EXPORT, None),
                                       (desk.budi, Action.VIEW_TRANSCRIPT, desk.in_b.pk)):
        audit.record(action, user=user, library_id=desk.library.pk, conversation_id=conversation)
    old = audit.record(Action.EXPORT, user=desk.siti, library_id=desk.library.pk, table="daily")
    AuditEvent.objects.filter(pk=old.pk).update(at=dt.datetime(2026, 1, 15, 3, tzinfo=dt.UTC))
    client.force_login(auditor)

    def listed(**params):
        response = client.get("/staff/audit/", params)
        assert response.status_code == 200
        return [(row["event"].user_id, row["event"].action, row["event"].conversation_id)
                for row in response.context["rows"] if row["event"].action != Action.VIEW_AUDIT]

    assert listed(user=desk.siti.pk, action="view_transcript") == [(desk.siti.pk, "view_transcript", desk.in_a.pk)]
    assert listed(conversation=desk.in_b.pk) == [(desk.budi.pk, "view_transcript", desk.in_b.pk)]
    assert listed(date_from="2026-01-15", date_to="2026-01-15") == [(desk.siti.pk, "export", None)]
    assert len(listed()) == 4


@pytest.mark.parametrize("params, field, says", [
    ({"date_from": "kemarin"}, "date_from", "Enter a valid date."),
    ({"date_from": "2026-02-02", "date_to": "2026-02-01"}, "__all__", "“From” must not be after “To”."),
    ({"action": "delete_everything"}, "action", "Select a valid choice."),
    ({"conversation": "abc"}, "conversation", "Enter a whole number."),
    ({"user": "999999"}, "user", "Select a valid choice."),
])
def test_bad_filters_are_a_400_saying_why_and_list_nothing(client, desk, auditor, params, field, says):
    audit.record(Action.EXPORT, user=desk.siti, library_id=desk.library.pk)
    client.force_login(auditor)
    response = client.get("/staff/audit/", params, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert says in str(response.context["form"].errors[field])
    assert response.context["rows"] == [] and "audit-table" not in response.content.decode()
    assert 'role="alert"' in response.content.decode()
    assert not events(action=Action.VIEW_AUDIT)


def test_the_trail_shows_this_librarys_events_only(client, desk, auditor):
    other = Library.objects.create(name="Perpustakaan Provinsi")
    audit.record(Action.EXPORT, user=desk.siti, library_id=other.pk, table="elsewhere")
    audit.record(Action.EXPORT, user=desk.siti, library_id=desk.library.pk, table="here")
    client.force_login(auditor)
    page = client.get("/staff/audit/").content.decode()
    assert "here" in page and "elsewhere" not in page


def test_the_admin_shows_the_trail_read_only(client, desk, django_user_model):
    event = audit.record(Action.EXPORT, user=desk.siti, library_id=desk.library.pk, table="daily")
    root = django_user_model.objects.create_superuser("root", password="pw", is_staff=True)
    client.force_login(root)
    assert client.get("/admin/reference/auditevent/").status_code == 200
    assert client.get(f"/admin/reference/auditevent/{event.pk}/change/").status_code == 200
    assert client.get("/admin/reference/auditevent/add/").status_code == 403
    assert client.post(f"/admin/reference/auditevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_describe_reads_values_as_words():
    detail = {"personal_data": False, "conversations": 1, "filters": {"action": "export", "queue": "Umum"},
              "format": "json", "unknown_key": [1, 2]}
    from django.utils import translation

    with translation.override("en"):
        assert audit.describe(detail) == [
            ("personal data included", "no"), ("conversations", "1"), ("filters", "action: Exported; queue: Umum"),
            ("format", "JSON"), ("unknown_key", "1, 2")]


def test_a_new_staff_member_without_a_profile_is_named_by_user_name(django_user_model):
    user = django_user_model.objects.create_user("tamu", is_staff=True)
    assert audit.record(Action.EXPORT, user=user).actor == "tamu"
    LibrarianProfile.objects.create(user=user, display_name="Tamu")
    assert audit.record(Action.EXPORT, user=type(user).objects.get(pk=user.pk)).actor == "Tamu (tamu)"
