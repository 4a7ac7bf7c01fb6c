"""A patron's rights (reference.patron_data): staff find every record of one person, export it as a
readable ZIP and erase it — files from storage too, the figures kept, each step in the audit trail."""

import io
import json
import zipfile

import pytest
from django.contrib.auth.models import Permission
from django.utils import translation

from reference import audit, patron_data
from reference.errors import ServiceError
from reference.models import (
    Attachment,
    AuditEvent,
    Conversation,
    InternalNote,
    LibraryCard,
    Message,
    Patron,
    Transfer,
)
from reference.reports import figures, filters
from tests.privacy_data import full_chat, offline_question
from tests.starting import start_chat
from widgets.models import Site

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path, site):
    settings.MEDIA_ROOT = str(tmp_path)
    Site.objects.update(card_field="optional")  # Rina gives her card number
    return tmp_path


@pytest.fixture
def colleague(make_librarian):
    return make_librarian(username="dewi", display_name="Dewi")


@pytest.fixture
def officer(make_librarian):
    """The library's data protection officer: may manage patrons' data."""
    user = make_librarian(username="pdp", display_name="Petugas PDP")
    user.user_permissions.add(Permission.objects.get(codename="manage_patron_data"))
    return type(user).objects.get(pk=user.pk)


@pytest.fixture
def rina(identity, make_identity, librarian, colleague):
    """Rina's two identities: a full chat, and an offline question from another device, same e-mail."""
    chat = full_chat(identity=identity, librarian=librarian, colleague=colleague)
    offline = offline_question(identity=make_identity(), email="RINA.SITEPU@gmail.com")
    return chat, offline


@pytest.fixture
def someone_else(make_identity):
    return offline_question(identity=make_identity(), email="budi@example.org", text="Ada buku tentang kopi?")


def lookup(**values):
    return patron_data.clean_lookup(**values)


def test_found_by_email_card_or_conversation_across_identities(rina, someone_else, officer):
    chat, offline = rina
    for values in [{"email": "rina.sitepu@GMAIL.com"}, {"card_number": "tt-2024-00123"},
                   {"conversation_id": str(offline.pk)}, {"conversation_id": f"#{chat.pk}"}]:
        records = patron_data.find(officer, lookup(**values))
        assert sorted(c.pk for c in records.conversations) == sorted([chat.pk, offline.pk]), values
        assert len(records.patrons) == 2 and len(records.notes) == 2 and len(records.attachments) == 1
    assert someone_else.pk not in [c.pk for c in patron_data.find(officer, lookup(email="rina.sitepu@gmail.com"))
                                   .conversations]


@pytest.mark.parametrize("values, code", [
    ({}, "patron_lookup_empty"),
    ({"email": "   "}, "patron_lookup_empty"),
    ({"email": "not-an-address"}, "invalid_email"),
    ({"conversation_id": "12a"}, "invalid_conversation_number"),
    ({"conversation_id": "-3"}, "invalid_conversation_number"),
    ({"conversation_id": "9" * 30}, "invalid_conversation_number"),
    ({"card_number": "<script>"}, "invalid_card"),
])
def test_a_bad_lookup_is_refused_with_a_reason(values, code):
    with pytest.raises(ServiceError) as refused:
        lookup(**values)
    assert refused.value.code == code and refused.value.message


def test_another_librarys_patron_is_not_found(rina, officer, queue):
    from reference.models import Library

    other = Library.objects.create(name="Perpustakaan Provinsi")
    Site.objects.all().update(library=other)  # Rina's site now belongs to another library
    assert not patron_data.find(officer, lookup(email="rina.sitepu@gmail.com")).found


def test_the_export_is_a_readable_zip_with_the_files(rina, officer):
    chat, offline = rina
    records = patron_data.find(officer, lookup(email="rina.sitepu@gmail.com"))
    with translation.override("en"):
        archive = zipfile.ZipFile(io.BytesIO(patron_data.export_zip(officer, records).read()))
    names = archive.namelist()
    assert {"README.txt", "data.json"} <= set(names)
    assert [n for n in names if n.startswith("files/")] == [f"files/{records.attachments[0].pk}-ktp-saya.png"]
    readme = archive.read("README.txt").decode()
    assert "Rina Sitepu" in readme and "TT-2024-00123" in readme and "Laskar Pelangi" in readme
    assert "Sering lupa kartu" in readme and "Terima kasih Kak Dewi" in readme and "Jl. Sudirman" in readme
    assert "Kapan perpustakaan buka hari Sabtu?" in readme and "&amp;" not in readme
    data = json.loads(archive.read("data.json"))
    assert sorted(c["number"] for c in data["conversations"]) == sorted([chat.pk, offline.pk])
    event = AuditEvent.objects.get(action=AuditEvent.Action.EXPORT_PATRON)
    assert event.user == officer and event.detail["email"] == "r***@gmail.com"
    assert "rina.sitepu" not in json.dumps(event.detail)  # the trail does not copy the address
    with translation.override("en"):
        shown = dict(audit.describe(event.detail))
    assert shown["e-mail"] == "r***@gmail.com" and shown["files"] == "1"


def test_erasing_keeps_the_figures_and_leaves_nothing_personal(rina, someone_else, officer, media_root,
                                                              django_user_model):
    manager = django_user_model.objects.create_superuser("kepala", password="pw")
    _form, query = filters.report_query(manager, {})
    before = figures.build_report(query).headline
    chat, offline = rina
    counts = patron_data.erase(officer, patron_data.find(officer, lookup(card_number="TT-2024-00123")))
    assert counts == {"conversations": 2, "notes": 2, "files": 1, "patrons": 2}
    assert not list(media_root.rglob("*.png"))
    for conversation in Conversation.objects.filter(pk__in=[chat.pk, offline.pk]):
        assert conversation.patron is None and conversation.anonymised_at and conversation.subject == ""
    assert not Message.objects.filter(conversation__in=[chat, offline]).exclude(text="").exists()
    assert not InternalNote.objects.exists() and not Attachment.objects.exists()
    assert not LibraryCard.objects.exists() and not Transfer.objects.exclude(note="").exists()
    assert Patron.objects.count() == 1  # Budi's
    assert Conversation.objects.get(pk=someone_else.pk).subject == "Ada buku tentang kopi?"
    _form, query = filters.report_query(manager, {})
    assert figures.build_report(query).headline == before
    event = AuditEvent.objects.get(action=AuditEvent.Action.ERASE_PATRON)
    assert event.detail["conversation_ids"] == sorted([chat.pk, offline.pk], reverse=True)
    assert not patron_data.find(officer, lookup(email="rina.sitepu@gmail.com")).found


def test_erasing_is_refused_while_a_chat_is_open_and_changes_nothing(identity, officer):
    waiting, _message, _created = start_chat(identity=identity, text="Halo, saya Rina", client_id="o-1",
                                             email="rina@example.org")
    records = patron_data.find(officer, lookup(email="rina@example.org"))
    with pytest.raises(ServiceError) as refused:
        patron_data.erase(officer, records)
    assert refused.value.code == "patron_chat_open" and str(waiting.pk) in refused.value.message
    assert Conversation.objects.get(pk=waiting.pk).patron_id == identity.patron_id


def test_deleting_a_patron_who_sent_a_file_never_fails_and_takes_the_file(rina, media_root,
                                                                           django_capture_on_commit_callbacks):
    chat, _offline = rina
    with django_capture_on_commit_callbacks(execute=True):
        chat.patron.delete()  # by hand, outside the service: related rows do not block it
    assert Conversation.objects.get(pk=chat.pk).patron is None
    assert not Attachment.objects.exists() and not list(media_root.rglob("*.png"))


def test_the_admin_deletes_a_patron_through_the_erasure(rina, client, django_user_model, media_root):
    chat, _offline = rina
    admin_user = django_user_model.objects.create_superuser("admin", password="pw")
    client.force_login(admin_user)
    response = client.post(f"/admin/reference/patron/{chat.patron_id}/delete/", {"post": "yes"})
    assert response.status_code == 302
    chat.refresh_from_db()
    assert chat.patron is None and chat.anonymised_at is not None and chat.subject == ""
    assert not list(media_root.rglob("*.png"))
    assert AuditEvent.objects.filter(action=AuditEvent.Action.ERASE_PATRON, user=admin_user).exists()


# ---- the staff page


def test_the_page_is_for_staff_with_the_permission(client, librarian, officer):
    client.force_login(librarian)
    assert client.get("/staff/patron-data/").status_code == 403
    assert client.post("/staff/patron-data/erase/", {"email": "a@b.org", "confirm": "yes"}).status_code == 403
    client.force_login(officer)
    assert client.get("/staff/patron-data/").status_code == 200


def test_finding_shows_the_records_and_is_recorded(client, rina, officer):
    chat, offline = rina
    client.force_login(officer)
    response = client.get("/staff/patron-data/", {"email": "rina.sitepu@gmail.com"}, HTTP_ACCEPT_LANGUAGE="en")
    page = response.content.decode()
    assert response.status_code == 200 and "2 conversations found" in page
    assert f"#{chat.pk}" in page and f"#{offline.pk}" in page
    assert AuditEvent.objects.get(action=AuditEvent.Action.FIND_PATRON).detail["found_conversations"] == 2


def test_bad_input_on_the_page_says_why_and_changes_nothing(client, rina, officer):
    client.force_login(officer)
    response = client.get("/staff/patron-data/", {"conversation": "abc"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400 and "digits only" in response.content.decode()
    response = client.post("/staff/patron-data/erase/", {"email": "rina.sitepu@gmail.com"},
                           HTTP_ACCEPT_LANGUAGE="en")  # not confirmed
    assert response.status_code == 400 and "Tick the box" in response.content.decode()
    assert Conversation.objects.filter(anonymised_at__isnull=False).count() == 0
    response = client.post("/staff/patron-data/export/", {"email": "nobody@example.org"})
    assert response.status_code == 404
    assert not AuditEvent.objects.filter(action__in=["erase_patron", "export_patron"]).exists()


def test_download_and_erase_over_http(client, rina, officer):
    client.force_login(officer)
    response = client.post("/staff/patron-data/export/", {"email": "rina.sitepu@gmail.com"})
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert "README.txt" in zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))).namelist()
    response = client.post("/staff/patron-data/erase/", {"email": "rina.sitepu@gmail.com", "confirm": "yes"},
                           HTTP_ACCEPT_LANGUAGE="en", follow=True)
    assert "Conversations anonymised: 2; files deleted: 1" in response.content.decode()
    assert Conversation.objects.filter(anonymised_at__isnull=False).count() == 2
