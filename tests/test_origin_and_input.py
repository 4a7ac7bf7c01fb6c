"""Who may open our WebSockets (the Origin, scheme and port included), static paths that climb out
of the static folders, and input that is not text (a NUL, other control characters) answered 400
on every HTTP path, never 500: on SQLite and, with DATABASE_URL, on PostgreSQL, which cannot store
a NUL at all."""

import asyncio
import http.client
import json
from urllib.parse import urlsplit

import pytest
from django.test import override_settings
from websockets.exceptions import InvalidStatus

from bench.client import open_socket
from chatserver.websocket_origin import origin_allowed
from reference.models import Conversation, Message, Patron, Role

MESSAGE = "characters that are not text"


def scope(origin, host="chat.example.org", scheme="ws"):
    headers = [(b"origin", origin.encode())] if origin is not None else []
    if host is not None:
        headers.append((b"host", host.encode()))
    return {"type": "websocket", "scheme": scheme, "headers": headers}


@override_settings(ALLOWED_HOSTS=["chat.example.org", "127.0.0.1", "[::1]"], HTTPS=False,
                   WEBSOCKET_ALLOWED_ORIGINS=[])
@pytest.mark.parametrize(("origin", "host", "scheme", "allowed"), [
    ("http://chat.example.org", "chat.example.org", "ws", True),
    ("http://chat.example.org:8000", "chat.example.org:8000", "ws", True),
    ("http://CHAT.example.org:8000", "chat.example.org:8000", "ws", True),
    ("http://chat.example.org:80", "chat.example.org", "ws", True),           # the default port, spelt out
    ("https://chat.example.org", "chat.example.org", "wss", True),
    ("http://[::1]:8000", "[::1]:8000", "ws", True),
    ("http://chat.example.org:1", "chat.example.org:8000", "ws", False),      # another port of our host
    ("http://chat.example.org:1", "chat.example.org", "ws", False),
    ("https://chat.example.org", "chat.example.org", "ws", False),            # another scheme
    ("http://chat.example.org", "chat.example.org", "wss", False),
    ("http://evil.example", "chat.example.org", "ws", False),
    ("http://evil.example", "evil.example", "ws", False),                     # not one of ALLOWED_HOSTS
    ("http://chat.example.org.evil.example", "chat.example.org", "ws", False),
    ("http://chat.example.org/path", "chat.example.org", "ws", False),
    ("null", "chat.example.org", "ws", False),
    ("", "chat.example.org", "ws", False),
    (None, "chat.example.org", "ws", False),
    ("http://chat.example.org:99999", "chat.example.org", "ws", False),
    ("http://chat.example.org", None, "ws", True),       # no Host (only test clients): ALLOWED_HOSTS, default port
    ("http://chat.example.org:1", None, "ws", False),
])
def test_the_origin_must_be_our_own_with_its_scheme_and_port(origin, host, scheme, allowed):
    assert origin_allowed(scope(origin, host, scheme)) is allowed


@override_settings(ALLOWED_HOSTS=["chat.example.org"], HTTPS=True, WEBSOCKET_ALLOWED_ORIGINS=[])
def test_with_https_only_the_https_origin_is_ours():
    """TLS ends at the proxy, which talks ws:// to daphne: the page was on https all the same."""
    assert origin_allowed(scope("https://chat.example.org", "chat.example.org", "ws"))
    assert not origin_allowed(scope("http://chat.example.org", "chat.example.org", "ws"))
    assert not origin_allowed(scope("https://chat.example.org:8443", "chat.example.org", "ws"))


@override_settings(ALLOWED_HOSTS=["chat.example.org"], HTTPS=False,
                   WEBSOCKET_ALLOWED_ORIGINS=["https://desk.example.org"])
def test_extra_origins_may_be_allowed():
    assert origin_allowed(scope("https://desk.example.org"))
    assert not origin_allowed(scope("https://desk.example.org:444"))


def opens(service, origin, path="/ws/patron/"):
    """Whether the live server accepts a socket from `origin` (a refusal is the handshake's 403)."""
    async def attempt():
        try:
            socket = await open_socket(service + path, origin)
        except InvalidStatus as refused:
            assert refused.response.status_code == 403
            return False
        await socket.close()
        return True

    return asyncio.run(attempt())


@pytest.mark.django_db(transaction=True)
def test_the_live_server_refuses_another_port_and_scheme_before_accepting(live_daphne):
    service = live_daphne({"WEBSOCKET_ALLOWED_ORIGINS": "http://localhost:9"})
    port = urlsplit(service).port
    assert opens(service, service)
    assert opens(service, service, "/ws/librarian/")  # accepted, then closed 4401 by the consumer: no session
    assert not opens(service, "http://127.0.0.1:1")
    assert not opens(service, "http://127.0.0.1")
    assert not opens(service, f"https://127.0.0.1:{port}")
    assert not opens(service, "http://127.0.0.1:1", "/ws/librarian/")
    assert opens(service, "http://localhost:9")  # WEBSOCKET_ALLOWED_ORIGINS


def raw_get(service, path):
    """GET `path` exactly as written (no client-side normalising of ..%2f)."""
    parts = urlsplit(service)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    connection.request("GET", path)
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, body


@pytest.mark.django_db(transaction=True)
def test_static_paths_outside_the_static_folders_are_404_under_daphne(live_daphne):
    service = live_daphne()
    for path in ["/static/..%2f..%2f.secret_key", "/static/..%2F..%2Fchatserver%2Fsettings.py",
                 "/static/%2e%2e/%2e%2e/.secret_key", "/static/reference/..%2f..%2f..%2f..%2fpyproject.toml",
                 "/static/%00", "/static/reference/staff.css%00.js", "/static/..%5c..%5c.secret_key"]:
        status, body = raw_get(service, path)
        assert status == 404, (path, status)
        assert b"SECRET" not in body.upper() or b"secret_key" not in body
    assert raw_get(service, "/static/reference/staff.css")[0] == 200


# ---- input that is not text


@pytest.fixture
def staff_client(client, make_librarian):
    from django.contrib.auth.models import Permission

    user = make_librarian(username="pdp", display_name="Petugas")
    user.is_superuser = True
    user.save()
    user.user_permissions.add(Permission.objects.get(codename="manage_patron_data"))
    client.force_login(user)
    return client


@pytest.fixture
def closed_chat(site, queue, librarian):
    patron = Patron.objects.create(site=site, name="Budi")
    conversation = Conversation.objects.create(patron=patron, site=site, queue=queue, subject="Parkir",
                                               status=Conversation.Status.CLOSED, librarian=librarian)
    Message.objects.create(conversation=conversation, seq=1, role=Role.PATRON, text="Parkir di mana?")
    Message.objects.create(conversation=conversation, seq=2, role=Role.LIBRARIAN, text="Di belakang.")
    return conversation


BAD = ["\x00", "a\x00b", "\x01", "\x08", "\x0b", "\x1b[31m", "\x7f"]


@pytest.mark.django_db
class TestControlCharacters:
    @pytest.mark.parametrize("bad", BAD)
    @pytest.mark.parametrize("path", ["/faq/search?q={}", "/faq/?q={}", "/api/faq/search?q={}&lang=id",
                                      "/staff/transcripts/?text={}", "/staff/canned/?q={}",
                                      "/staff/patron-data/?email={}%40example.org", "/staff/audit/?user={}",
                                      "/staff/reports/export/transcripts.csv?queue={}", "/demo/?{}=1"])
    def test_a_query_with_control_characters_is_a_400_with_a_message(self, staff_client, site, path, bad):
        from urllib.parse import quote

        response = staff_client.get(path.format(quote(bad)), HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 400
        text = response.content.decode()
        assert MESSAGE in (response.json()["message"] if response["Content-Type"] == "application/json" else text)

    def test_json_apis_answer_json(self, client, site):
        response = client.get("/api/faq/search?q=%00", HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 400 and response.json()["error"] == "bad_characters"
        response = client.post("/api/faq/opt-out", json.dumps({"token": "abc\u0000", "conversation": 1}),
                               content_type="application/json", HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 400 and response.json()["error"] == "bad_characters"

    @pytest.mark.parametrize(("path", "data"), [
        ("/staff/offline/", {"conversation": "1", "answer": "Jawaban\x00"}),
        ("/staff/topics/", {"action": "add", "new-label_id": "Topik\x00", "new-label_en": "Topic"}),
        ("/staff/patron-data/export/", {"email": "rina\x00@example.org"}),
        ("/staff/transcripts/{chat}/", {"read_scale": "2", "question_type": "\x00"}),
        ("/staff/transcripts/{chat}/faq-draft", {"message\x00": "1"}),
        ("/staff/reports/monthly-summary", {"monthly_summary": "on", "query": "a=\x00"}),
        ("/login/", {"username": "siti\x00", "password": "x"}),
        ("/admin/reference/queue/add/", {"name": "Antrean\x00", "slug": "antrean"}),
    ])
    def test_a_form_with_control_characters_is_a_400(self, staff_client, closed_chat, path, data):
        response = staff_client.post(path.format(chat=closed_chat.pk), data, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 400 and MESSAGE in response.content.decode()

    def test_a_json_body_with_a_nul_is_a_400(self, staff_client):
        response = staff_client.post("/staff/canned/", json.dumps({"title": "Salam", "text": "Halo\u0000"}),
                                     content_type="application/json", HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 400 and response.json()["error"] == "bad_characters"

    def test_a_path_with_a_nul_is_a_400(self, client, site):
        assert client.get("/faq/a%00b/").status_code == 400

    def test_tabs_and_line_breaks_are_text(self, client, site):
        assert client.get("/faq/search?q=buku%09perpustakaan%0D%0Abaru").status_code == 200
        assert client.get("/api/faq/search?q=jam%0Abuka&lang=id").status_code == 200

    def test_a_search_with_a_nul_never_reaches_the_database(self, client, site, django_assert_num_queries):
        with django_assert_num_queries(0):
            assert client.get("/faq/search?q=%00").status_code == 400

    def test_a_long_email_address_is_refused_not_a_500(self, staff_client):
        email = "a" * 250 + "@example.org"  # 262 characters: more than the column holds
        response = staff_client.get(f"/staff/patron-data/?email={email}", HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code in (200, 400)
