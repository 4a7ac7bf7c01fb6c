"""Headers and the smaller holes (issue 19): the Content-Security-Policy, HTTPS and HSTS, no-store on
staff pages, the login lockout, static paths, the key file, FAQ draft slugs and staff messages.
The WebSocket origin check and input that is not text: tests/test_origin_and_input.py."""

import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse

from chatserver.env import local_secret_key
from chatserver.middleware import content_security_policy
from reference.faq.models import FaqEntry
from reference.faq.services import unique_slug
from reference.models import Conversation, Message, Patron, Role
from reference.tokens import issue_patron_token
from tests import files
from tests.browser import PASSWORD
from tests.starting import start_chat

ROOT = Path(__file__).resolve().parent.parent


def policy(response):
    """The response's Content-Security-Policy as {directive: [sources]}."""
    directives = {}
    for part in response["Content-Security-Policy"].split(";"):
        words = part.split()
        directives[words[0]] = words[1:]
    return directives


def assert_strict(directives):
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"] and directives["style-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"] and directives["base-uri"] == ["'self'"]
    assert directives["form-action"] == ["'self'"]
    assert not any("unsafe" in source for sources in directives.values() for source in sources)


@pytest.fixture
def superuser(make_librarian):
    """An administrator who is a librarian too (the staff pages need a librarian's profile)."""
    user = make_librarian(username="admin", display_name="Admin")
    user.is_superuser = True
    user.save()
    return user


# ---- Content-Security-Policy


@pytest.mark.django_db
class TestContentSecurityPolicy:
    @pytest.mark.parametrize("path", ["/login/", "/faq/", "/faq/search?q=buku", "/demo/", "/nowhere/"])
    def test_every_public_page_has_the_strict_policy(self, client, site, path):
        directives = policy(client.get(path))
        assert_strict(directives)
        assert directives["frame-ancestors"] == ["'none'"]
        assert directives["connect-src"] == ["'self'", "ws://testserver"]

    @pytest.mark.parametrize("path", ["/dashboard/", "/staff/transcripts/", "/staff/offline/", "/admin/",
                                      "/admin/widgets/site/add/"])
    def test_staff_pages_and_the_admin_have_it_too(self, client, superuser, path):
        client.force_login(superuser)
        response = client.get(path)
        assert response.status_code == 200
        assert_strict(policy(response))

    def test_on_https_the_socket_address_is_wss(self, client):
        assert policy(client.get("/login/", secure=True))["connect-src"] == ["'self'", "wss://testserver"]

    def test_the_chat_panel_keeps_its_sites_frame_ancestors(self, client, site):
        directives = policy(client.get(f"/widget/sites/{site.key}/chat/"))
        assert directives["frame-ancestors"] == ["'self'", "https://perpustakaan.example"]
        assert_strict(directives)

    def test_a_views_complete_policy_is_kept_as_it_is(self):
        request = RequestFactory().get("/attachments/x/")
        own = "default-src 'none'; img-src 'self'; sandbox"
        assert content_security_policy(request, own) == own


TEMPLATE_DIRS = [ROOT / "templates", ROOT / "reference" / "templates", ROOT / "widgets" / "templates"]
INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I), "an inline script"),
    (re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I), "an on… handler"),
    (re.compile(r"<[a-z][^>]*\sstyle\s*=", re.I), "a style attribute"),
    (re.compile(r"<style", re.I), "a <style> element"),
    (re.compile(r"javascript:", re.I), "a javascript: URL"),
]


def test_no_template_served_as_a_page_has_inline_script_or_style():
    """E-mails are not pages (no CSP applies to them): they keep their inline styles."""
    found = []
    for folder in TEMPLATE_DIRS:
        for path in folder.rglob("*.html") if folder.exists() else []:
            if "email" in path.parts:
                continue
            text = path.read_text(encoding="utf-8")
            found += [f"{path.relative_to(ROOT)}: {what}" for pattern, what in INLINE if pattern.search(text)]
    assert not found, found


# ---- HTTPS


def settings_under(env):
    """Settings as a process started with `env` reads them."""
    code = ("import django, json; from django.conf import settings; django.setup(); print(json.dumps("
            "[settings.SECURE_SSL_REDIRECT, settings.SECURE_HSTS_SECONDS, settings.SECURE_HSTS_INCLUDE_SUBDOMAINS,"
            " settings.SECURE_HSTS_PRELOAD, settings.SECURE_PROXY_SSL_HEADER, settings.SESSION_COOKIE_SECURE]))")
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("HTTPS", "HSTS", "SECURE_"))}
    env = {**keep, "DJANGO_SETTINGS_MODULE": "chatserver.settings", **env}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True, cwd=ROOT)
    return __import__("json").loads(out.stdout.strip().splitlines()[-1])


def test_https_turns_on_the_redirect_and_a_years_hsts():
    assert settings_under({"HTTPS": "1"}) == [True, 365 * 24 * 3600, True, False,
                                              ["HTTP_X_FORWARDED_PROTO", "https"], True]
    assert settings_under({"HTTPS": "1", "HSTS_INCLUDE_SUBDOMAINS": "0", "HSTS_PRELOAD": "1"})[2:4] == [False, True]
    assert settings_under({})[:4] == [False, 0, False, False]


@pytest.mark.django_db
@override_settings(SECURE_SSL_REDIRECT=True, SECURE_HSTS_SECONDS=31536000, SECURE_HSTS_INCLUDE_SUBDOMAINS=True,
                   SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"))
def test_with_https_plain_http_is_redirected_and_https_gets_hsts():
    client = Client()
    plain = client.get("/login/?next=/dashboard/")
    assert plain.status_code == 301 and plain["Location"] == "https://testserver/login/?next=/dashboard/"
    secure = client.get("/login/", headers={"x-forwarded-proto": "https", "host": "testserver"})
    assert secure.status_code == 200
    assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert policy(secure)["connect-src"] == ["'self'", "wss://testserver"]


# ---- no-store on staff pages


@pytest.mark.django_db
class TestNoStore:
    @pytest.mark.parametrize("path", ["/dashboard/", "/staff/transcripts/", "/staff/offline/", "/staff/topics/",
                                      "/staff/reports/export/transcripts.csv", "/staff/audit/", "/admin/",
                                      "/admin/auth/user/", "/faq/"])
    def test_staff_pages_and_exports_are_never_stored(self, client, superuser, path):
        client.force_login(superuser)
        response = client.get(path)
        assert response.status_code == 200, path
        assert {"no-store", "private"} <= {v.strip() for v in response["Cache-Control"].split(",")}

    def test_an_attachment_download_is_never_stored(self, client, settings, tmp_path, identity):
        settings.MEDIA_ROOT = str(tmp_path)
        conversation, _message, _created = start_chat(identity=identity, text="Foto ini?", client_id="p-1")
        token = issue_patron_token(identity.site_key, identity.patron_id)
        patron = Client(headers={"authorization": f"Bearer {token}"})
        uploaded = patron.post("/widget/attachments/", {
            "conversation": str(conversation.pk), "file": SimpleUploadedFile("a.png", files.png(), "image/png")})
        download = Client().get(uploaded.json()["attachment"]["url"])
        assert download.status_code == 200 and "no-store" in download["Cache-Control"]
        assert "sandbox" in download["Content-Security-Policy"]  # its own policy, untouched

    def test_public_pages_may_be_cached(self, client, site):
        assert "no-store" not in client.get("/faq/").get("Cache-Control", "")
        assert client.get("/widget.js")["Cache-Control"] == "public, max-age=300"


# ---- login lockout


def log_in(client, username, password, address="10.0.0.5", **headers):
    return client.post(reverse("login"), {"username": username, "password": password, "next": "/dashboard/"},
                       REMOTE_ADDR=address, HTTP_ACCEPT_LANGUAGE="en", **headers)


@pytest.mark.django_db
class TestLoginLockout:
    @pytest.fixture
    def siti(self, django_user_model):
        return django_user_model.objects.create_user("siti", password=PASSWORD, is_staff=True)

    def lock(self, client, settings, username="siti", address="10.0.0.5", **headers):
        for _ in range(settings.AXES_FAILURE_LIMIT - 1):
            assert log_in(client, username, "salah", address, **headers).status_code == 200
        return log_in(client, username, "salah", address, **headers)

    def test_ten_failures_lock_the_account_from_that_address_with_a_clear_message(self, client, settings, siti):
        assert settings.AXES_FAILURE_LIMIT == 10
        locked = self.lock(client, settings)
        assert locked.status_code == 429 and locked["Retry-After"] == "900"
        text = locked.content.decode()
        assert "it is locked for 15 minutes" in text and "ask your library’s administrator to unlock it" in text
        right_password = log_in(client, "siti", PASSWORD)
        assert right_password.status_code == 429 and "_auth_user_id" not in client.session
        # The same account from another address, and another account from this one, are not locked.
        assert log_in(Client(), "siti", PASSWORD, "10.0.0.6").status_code == 302

    def test_an_administrator_unlocks_in_the_admin(self, client, settings, siti, superuser):
        from axes.models import AccessAttempt

        self.lock(client, settings)
        attempt = AccessAttempt.objects.get(username="siti")
        admin = Client()
        admin.force_login(superuser)
        listing = admin.get("/admin/axes/accessattempt/")
        assert listing.status_code == 200 and "siti" in listing.content.decode()
        admin.post("/admin/axes/accessattempt/", {"action": "delete_selected", "_selected_action": [attempt.pk],
                                                 "post": "yes"})
        assert not AccessAttempt.objects.exists()
        assert log_in(client, "siti", PASSWORD).status_code == 302

    def test_a_success_before_the_limit_starts_the_count_again(self, client, settings, siti):
        for _ in range(settings.AXES_FAILURE_LIMIT - 1):
            log_in(client, "siti", "salah")
        assert log_in(client, "siti", PASSWORD).status_code == 302
        client.logout()
        for _ in range(settings.AXES_FAILURE_LIMIT - 1):  # without the reset, the first of these would lock
            assert log_in(client, "siti", "salah").status_code == 200

    @override_settings(TRUSTED_PROXIES=["10.0.0.1"])
    def test_behind_a_trusted_proxy_each_forwarded_address_counts_apart(self, client, settings, siti):
        self.lock(client, settings, address="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.7")
        assert log_in(Client(), "siti", PASSWORD, "10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.7").status_code == 429
        assert log_in(Client(), "siti", PASSWORD, "10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.8").status_code == 302


@pytest.mark.parametrize(("proxies", "remote", "forwarded", "expected"), [
    ([], "198.51.100.1", "203.0.113.7", "198.51.100.1"),                      # no proxy trusted: header ignored
    (["10.0.0.1"], "198.51.100.1", "203.0.113.7", "198.51.100.1"),            # not from the proxy: ignored
    (["10.0.0.1"], "10.0.0.1", "203.0.113.7", "203.0.113.7"),
    (["10.0.0.1"], "10.0.0.1", "1.2.3.4, 203.0.113.7", "203.0.113.7"),        # the client wrote the first one
    (["10.0.0.0/8"], "10.0.0.1", "203.0.113.7, 10.0.0.2", "203.0.113.7"),     # two proxies of ours
    (["10.0.0.1"], "10.0.0.1", "", "10.0.0.1"),
    (["10.0.0.1"], "10.0.0.1", "nonsense", "10.0.0.1"),
    (["::1"], "::1", "2001:db8::7", "2001:db8::7"),
])
def test_the_lockouts_client_address_believes_forwarded_for_only_from_trusted_proxies(
        settings, proxies, remote, forwarded, expected):
    """django-axes counts by reference.limits.request_address (AXES_CLIENT_IP_CALLABLE), the limits' rule."""
    from django.utils.module_loading import import_string

    client_address = import_string(settings.AXES_CLIENT_IP_CALLABLE)
    settings.TRUSTED_PROXIES = proxies
    request = RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_address(request) == expected


# ---- the key file


def test_the_key_file_is_made_readable_by_its_owner_only(tmp_path):
    path = tmp_path / ".secret_key"
    key = local_secret_key(path)
    assert len(key) > 50 and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert local_secret_key(path) == key


def test_a_world_readable_key_file_is_narrowed(tmp_path):
    path = tmp_path / ".secret_key"
    path.write_text("an-old-key\n")
    path.chmod(0o644)
    assert local_secret_key(path) == "an-old-key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


# ---- FAQ drafts and the transcript page's messages


@pytest.mark.parametrize(("text", "slug"), [
    ("Kartu_anggota hilang?", "kartu-anggota-hilang"),
    ("__init__ __", "init"),
    ("a_b-c__d", "a-b-c-d"),
    ("___", "faq"),
    ("Jam buka perpustakaan", "jam-buka-perpustakaan"),
])
@pytest.mark.django_db
def test_draft_slugs_are_letters_digits_and_hyphens(text, slug):
    assert unique_slug(text) == slug


@pytest.mark.django_db
class TestDraftFromTranscript:
    @pytest.fixture
    def conversation(self, site, queue, librarian):
        patron = Patron.objects.create(site=site, name="Budi")
        conversation = Conversation.objects.create(patron=patron, site=site, queue=queue, subject="Kartu",
                                                   status=Conversation.Status.CLOSED, librarian=librarian)
        Message.objects.create(conversation=conversation, seq=1, role=Role.PATRON, text="kartu_anggota saya hilang")
        Message.objects.create(conversation=conversation, seq=2, role=Role.LIBRARIAN, text="Datang ke loket 2.")
        return conversation

    def test_a_question_with_an_underscore_makes_a_draft(self, client, librarian, conversation):
        client.force_login(librarian)
        response = client.post(reverse("faq:draft_from_transcript", args=[conversation.pk]))
        entry = FaqEntry.objects.get(source_conversations=conversation)
        assert response.status_code == 302 and response["Location"] == reverse("faq:staff_edit", args=[entry.pk])
        assert entry.slug == "kartu-anggota-saya-hilang"

    def test_a_refused_draft_is_said_on_the_transcript_page(self, client, librarian, conversation):
        Conversation.objects.filter(pk=conversation.pk).update(status=Conversation.Status.ACTIVE)
        client.force_login(librarian)
        response = client.post(reverse("faq:draft_from_transcript", args=[conversation.pk]),
                               HTTP_ACCEPT_LANGUAGE="en", follow=True)
        assert response.redirect_chain[-1][0] == reverse("reference:transcript", args=[conversation.pk])
        page = response.content.decode()
        assert re.search(r'<p class="notice notice-error" role="alert">[^<]+</p>', page), page
        assert not FaqEntry.objects.exists()



# ---- the same under ASGI (the middleware runs async there, as under daphne)


@pytest.mark.django_db(transaction=True)
async def test_under_asgi_the_policy_no_store_and_the_400_are_the_same(async_client, librarian):
    from asgiref.sync import sync_to_async
    from django.db import connections

    try:
        page = await async_client.get("/faq/")
        assert_strict(policy(page))
        assert "no-store" not in page.get("Cache-Control", "")
        refused = await async_client.get("/faq/search?q=%00", headers={"accept-language": "en"})
        assert refused.status_code == 400 and "not text" in refused.content.decode()
        posted = await async_client.post("/login/", {"username": "siti\x00", "password": "x"})
        assert posted.status_code == 400
        await async_client.aforce_login(librarian)
        assert "no-store" in (await async_client.get("/faq/"))["Cache-Control"]  # logged in: nothing kept
        assert "no-store" in (await async_client.get("/staff/transcripts/"))["Cache-Control"]
    finally:  # the database thread's connection, or PostgreSQL keeps the test database busy
        await sync_to_async(connections.close_all)()
