"""Attachments: the type comes from the content, uploads and downloads over HTTP, links expire."""

import pytest
from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from reference import attachments, lifecycle
from reference.errors import ServiceError
from reference.models import Attachment
from reference.tokens import issue_patron_token
from tests import files
from tests.starting import start_chat

MB = 1024 * 1024


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    return tmp_path


def upload(name, content, content_type="application/octet-stream"):
    return SimpleUploadedFile(name, content, content_type=content_type)


# ---- the type, from the content


@pytest.mark.parametrize(("content", "content_type", "size"), [
    (files.png(2, 1), "image/png", (2, 1)),
    (files.png(640, 480), "image/png", (640, 480)),
    (files.GIF, "image/gif", (1, 1)),
    (files.WEBP_LOSSLESS, "image/webp", (1, 1)),
    (files.WEBP_LOSSY, "image/webp", (1, 1)),
    (files.jpeg(3, 2), "image/jpeg", (3, 2)),
    (files.jpeg(4000, 3000, metadata_segments=3), "image/jpeg", (4000, 3000)),  # ~200 KB of metadata first
    (files.pdf(), "application/pdf", (None, None)),
])
def test_accepted_files_are_known_by_their_content(content, content_type, size):
    kind = attachments.check_file(upload("file", content))
    assert (kind.content_type, (kind.width, kind.height)) == (content_type, size)


def test_a_png_named_pdf_is_a_png_and_keeps_a_png_name():
    uploaded = upload("scan.pdf", files.png(), "application/pdf")
    kind = attachments.check_file(uploaded)
    assert kind.content_type == "image/png"
    assert attachments.clean_name(uploaded.name, kind) == "scan.png"


@pytest.mark.parametrize(("name", "content", "claimed"), [
    ("setup.png", files.EXE, "image/png"),
    ("page.pdf", files.HTML, "application/pdf"),
    ("logo.svg", files.SVG, "image/svg+xml"),
    ("logo.png", files.SVG, "image/png"),
    ("broken.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 8, "image/png"),  # a signature and no header
    ("zero.gif", b"GIF89a\x00\x00\x00\x00" + files.GIF[10:], "image/gif"),  # 0×0
    ("text.jpg", b"\xff\xd8\xff" + b"hello", "image/jpeg"),
])
def test_anything_else_is_refused_whatever_its_name_or_claimed_type(name, content, claimed):
    with pytest.raises(ServiceError) as refused:
        attachments.check_file(upload(name, content, claimed))
    assert refused.value.code == "attachment_type"


def test_an_empty_file_is_refused():
    with pytest.raises(ServiceError) as refused:
        attachments.check_file(upload("empty.pdf", b"", "application/pdf"))
    assert refused.value.code == "attachment_empty"


def test_five_megabytes_pass_and_one_byte_more_does_not():
    exact = files.pdf()
    exact = files.pdf(padding=5 * MB - len(exact))
    assert len(exact) == 5 * MB
    assert attachments.check_file(upload("big.pdf", exact)).content_type == "application/pdf"
    with pytest.raises(ServiceError) as refused:
        attachments.check_file(upload("big.pdf", exact + b"\n"))
    assert refused.value.code == "attachment_too_large"
    assert "5 MB" in refused.value.message


@pytest.mark.parametrize(("name", "expected"), [
    ("../../etc/passwd.png", "passwd.png"),
    ("C:\\Users\\rina\\foto kucing.jpeg", "foto kucing.png"),
    ("\x00\x1b[31m.png", "[31m.png"),
    ("", "file.png"),
])
def test_names_lose_paths_and_control_characters(name, expected):
    assert attachments.clean_name(name, attachments.sniff(files.png())) == expected


# ---- over HTTP


@pytest.fixture
def conversation(db, identity):
    conversation, _message, _created = start_chat(
        identity=identity, text="Bisa lihat foto ini?", client_id="p-1")
    return conversation


@pytest.fixture
def patron_client(identity):
    token = issue_patron_token(identity.site_key, identity.patron_id)
    return Client(headers={"authorization": f"Bearer {token}"})


def post_file(client, conversation_id, name, content, url="/widget/attachments/", **extra):
    return client.post(url, {"conversation": str(conversation_id), "file": upload(name, content, "image/png"),
                             **extra})


def test_a_patron_uploads_an_image_and_downloads_it_through_an_expiring_link(patron_client, conversation,
                                                                               media_root):
    response = post_file(patron_client, conversation.pk, "kucing.png", files.png(4, 3))
    assert response.status_code == 201
    body = response.json()["attachment"]
    assert {k: body[k] for k in ("name", "size", "type", "width", "height")} == {
        "name": "kucing.png", "size": len(files.png(4, 3)), "type": "image/png", "width": 4, "height": 3}
    stored = Attachment.objects.get()
    assert stored.conversation == conversation and stored.role == "patron" and not hasattr(stored, "message")
    assert "kucing" not in stored.file.name  # stored under a random name
    assert (media_root / stored.file.name).read_bytes() == files.png(4, 3)

    download = Client().get(body["url"])  # the link is the permission: no session, no token
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == files.png(4, 3)
    assert download["Content-Type"] == "image/png"
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download["Content-Disposition"].startswith("inline")
    assert "sandbox" in download["Content-Security-Policy"]


def test_a_pdf_downloads_as_a_file_with_its_name(patron_client, conversation):
    response = post_file(patron_client, conversation.pk, "jadwal.pdf", files.pdf())
    url = response.json()["attachment"]["url"]
    download = Client().get(url)
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"] == 'attachment; filename="jadwal.pdf"'


def test_an_expired_link_says_so(patron_client, conversation, settings, monkeypatch):
    url = post_file(patron_client, conversation.pk, "a.png", files.png()).json()["attachment"]["url"]
    now = signing.time.time()
    monkeypatch.setattr(signing.time, "time", lambda: now + settings.ATTACHMENT_LINK_MAX_AGE + 1)
    response = Client().get(url)
    assert response.status_code == 410
    assert "kedaluwarsa" in response.content.decode()  # a readable page, in Indonesian by default


@pytest.mark.parametrize("forge", [
    lambda url: url[:-2] + ("A" if url[-2] != "A" else "B") + "/",   # one character changed
    lambda url: url.replace("/attachments/", "/attachments/2:") ,   # another id in front
    lambda url: "/attachments/" + signing.TimestampSigner(salt="other").sign("1") + "/",
    lambda url: "/attachments/garbage/",
])
def test_a_forged_link_is_refused(patron_client, conversation, forge):
    url = post_file(patron_client, conversation.pk, "a.png", files.png()).json()["attachment"]["url"]
    response = Client().get(forge(url))
    assert response.status_code == 403
    assert "<h1>" in response.content.decode()


@pytest.mark.parametrize(("name", "content", "code", "status"), [
    ("setup.png", files.EXE, "attachment_type", 400),
    ("page.png", files.HTML, "attachment_type", 400),
    ("logo.png", files.SVG, "attachment_type", 400),
    ("empty.png", b"", "attachment_empty", 400),
])
def test_refused_uploads_store_nothing_and_say_why(patron_client, conversation, media_root, name, content,
                                                    code, status):
    response = post_file(patron_client, conversation.pk, name, content)
    assert (response.status_code, response.json()["error"]) == (status, code)
    assert response.json()["message"]
    assert not Attachment.objects.exists()
    assert not any(path.is_file() for path in media_root.rglob("*"))


def test_an_oversized_upload_is_refused_before_it_is_parsed(patron_client, conversation):
    response = post_file(patron_client, conversation.pk, "big.pdf", files.pdf(padding=5 * MB + 70 * 1024))
    assert (response.status_code, response.json()["error"]) == (413, "attachment_too_large")
    assert not Attachment.objects.exists()


def test_errors_are_translated_to_the_widgets_language(patron_client, conversation):
    indonesian = post_file(patron_client, conversation.pk, "x.png", files.EXE).json()["message"]
    english = post_file(patron_client, conversation.pk, "x.png", files.EXE, lang="en").json()["message"]
    assert english == "Only images (JPEG, PNG, GIF, WebP) and PDF files can be sent."
    assert indonesian != english and "PDF" in indonesian


def test_a_patron_cannot_upload_into_someone_elses_conversation(conversation, make_identity):
    stranger = make_identity()
    start_chat(identity=stranger, text="Pertanyaan lain", client_id="s-1")
    client = Client(headers={"authorization": "Bearer " + issue_patron_token(stranger.site_key, stranger.patron_id)})
    response = post_file(client, conversation.pk, "a.png", files.png())
    assert (response.status_code, response.json()["error"]) == (404, "not_found")
    assert not Attachment.objects.exists()


@pytest.mark.parametrize(("header", "code"), [
    (None, "token_invalid"), ("Bearer nonsense", "token_invalid"), ("Bearer ", "token_invalid")])
def test_an_upload_without_a_valid_token_is_refused(conversation, header, code):
    client = Client(headers={"authorization": header} if header else {})
    response = post_file(client, conversation.pk, "a.png", files.png())
    assert (response.status_code, response.json()["error"]) == (401, code)


def test_no_upload_into_a_closed_conversation(patron_client, conversation):
    lifecycle.do_close_by_patron(patron_id=conversation.patron.pk)
    response = post_file(patron_client, conversation.pk, "a.png", files.png())
    assert (response.status_code, response.json()["error"]) == (400, "conversation_closed")


def test_bad_requests_are_refused(patron_client, conversation):
    assert patron_client.get("/widget/attachments/").status_code == 405
    missing = patron_client.post("/widget/attachments/", {"conversation": str(conversation.pk)})
    assert missing.json()["error"] == "attachment_missing"
    no_conversation = patron_client.post("/widget/attachments/", {"file": upload("a.png", files.png())})
    assert no_conversation.json()["error"] == "invalid_frame"


def test_a_librarian_uploads_into_a_chat_they_hold(client, conversation, librarian, make_librarian):
    lifecycle.do_claim(user=librarian, conversation_id=conversation.pk)
    client.force_login(librarian)
    response = post_file(client, conversation.pk, "peta.jpg", files.jpeg(), url="/staff/attachments/")
    assert response.status_code == 201
    assert response.json()["attachment"]["type"] == "image/jpeg"
    assert Attachment.objects.get().user == librarian

    colleague = make_librarian(username="budi", display_name="Budi")
    client.force_login(colleague)
    refused = post_file(client, conversation.pk, "peta.jpg", files.jpeg(), url="/staff/attachments/")
    assert (refused.status_code, refused.json()["error"]) == (403, "not_assigned")
    assert Attachment.objects.count() == 1


def test_the_staff_upload_needs_a_staff_session_and_the_csrf_token(conversation, librarian, make_librarian):
    lifecycle.do_claim(user=librarian, conversation_id=conversation.pk)
    anonymous = post_file(Client(), conversation.pk, "a.png", files.png(), url="/staff/attachments/")
    assert (anonymous.status_code, anonymous.json()["error"]) == (403, "not_authenticated")
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(librarian)
    assert post_file(strict, conversation.pk, "a.png", files.png(), url="/staff/attachments/").status_code == 403
    assert not Attachment.objects.exists()


def test_uploads_never_sent_are_purged_and_sent_ones_kept(conversation, media_root):
    from datetime import timedelta

    from django.core.management import call_command
    from django.utils import timezone

    from reference.messaging import do_send_patron_message

    def stored(name):
        return attachments.upload_for_patron(patron=conversation.patron, conversation_id=conversation.pk,
                                             uploaded=upload(name, files.png()))

    sent, unsent, recent = stored("sent.png"), stored("unsent.png"), stored("recent.png")
    do_send_patron_message(patron_id=conversation.patron_id, text="", client_id="p-2", attachment_id=sent.pk)
    Attachment.objects.filter(pk__in=[sent.pk, unsent.pk]).update(created_at=timezone.now() - timedelta(days=2))
    call_command("purge_attachments", "--hours", "24")
    assert sorted(Attachment.objects.values_list("name", flat=True)) == ["recent.png", "sent.png"]
    assert not (media_root / unsent.file.name).exists()
    assert (media_root / sent.file.name).exists() and (media_root / recent.file.name).exists()
