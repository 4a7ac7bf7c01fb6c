"""The HTTP side: the widget's loader, site settings and chat page; dashboard and transcripts."""

import re

import pytest
from django.urls import reverse

from reference import lifecycle
from reference.messaging import do_send_librarian_message, do_send_patron_message
from reference.models import Patron
from reference.tokens import read_patron_token
from tests.starting import held_chat, start_chat

pytestmark = pytest.mark.django_db


class TestWidget:
    def test_the_loader_is_small_javascript(self, client):
        response = client.get("/widget.js")
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/javascript")
        import gzip

        assert len(gzip.compress(response.content)) < 5 * 1024

    def test_config_for_an_allowed_host_page(self, client, site):
        response = client.get(f"/widget/sites/{site.key}/config",
                              headers={"origin": "https://perpustakaan.example"})
        assert response.status_code == 200
        assert response["Access-Control-Allow-Origin"] == "https://perpustakaan.example"
        body = response.json()
        assert body["name"] == site.name
        assert body["chat_url"].endswith(f"/widget/sites/{site.key}/chat/")

    def test_config_refuses_an_unknown_site_and_a_foreign_page(self, client, site):
        unknown = client.get("/widget/sites/nope/config", headers={"origin": "https://perpustakaan.example"})
        assert unknown.status_code == 404 and unknown.json()["error"] == "unknown_site"
        foreign = client.get(f"/widget/sites/{site.key}/config", headers={"origin": "https://evil.example"})
        assert foreign.status_code == 403 and foreign.json()["error"] == "origin_not_allowed"
        assert "Access-Control-Allow-Origin" not in foreign

    def test_config_speaks_the_requested_language(self, client, site):
        english = client.get(f"/widget/sites/{site.key}/config?lang=en").json()
        indonesian = client.get(f"/widget/sites/{site.key}/config?lang=id").json()
        assert english["launcher_label"] == "Ask a librarian"
        assert indonesian["launcher_label"] != english["launcher_label"]

    def test_the_chat_page_may_be_framed_only_by_allowed_origins(self, client, site):
        response = client.get(f"/widget/sites/{site.key}/chat/")
        assert response.status_code == 200
        assert "frame-ancestors 'self' https://perpustakaan.example;" in response["Content-Security-Policy"]
        assert "X-Frame-Options" not in response
        assert "no-cache" in response["Cache-Control"]

    def test_the_chat_page_carries_a_fresh_token_for_its_site(self, client, site):
        first = client.get(f"/widget/sites/{site.key}/chat/").content.decode()
        second = client.get(f"/widget/sites/{site.key}/chat/").content.decode()
        tokens = [re.search(r'"token": "([^"]+)"', page).group(1) for page in (first, second)]
        identities = [read_patron_token(token) for token in tokens]
        assert all(identity.site_key == site.key for identity in identities)
        assert identities[0].patron_id != identities[1].patron_id
        assert not Patron.objects.exists()  # nobody is stored until they ask

    def test_an_unknown_or_inactive_site_has_no_chat_page(self, client, site):
        assert client.get("/widget/sites/nope/chat/").status_code == 404
        site.is_active = False
        site.save()
        assert client.get(f"/widget/sites/{site.key}/chat/").status_code == 404

    def test_the_demo_page_embeds_the_widget_with_one_tag(self, client, site):
        page = client.get("/demo/").content.decode()
        assert f'data-site="{site.key}"' in page and "/widget.js" in page

    def test_site_origins_are_normalised_and_checked(self, site):
        from django.core.exceptions import ValidationError

        site.allowed_origins = "https://Perpustakaan.example/halaman\nhttp://localhost:8080"
        site.full_clean()
        assert site.origins == ["https://perpustakaan.example", "http://localhost:8080"]
        assert site.allows_origin("http://localhost:8080") and not site.allows_origin("http://localhost")
        site.allowed_origins = "javascript:alert(1)"
        with pytest.raises(ValidationError):
            site.full_clean()


class TestStaffPages:
    @pytest.fixture
    def closed(self, identity, librarian):
        conversation = held_chat(identity=identity, librarian=librarian,
                                 text="Bagaimana cara <b>daftar</b> anggota?", name="Rina")
        do_send_librarian_message(user=librarian, conversation_id=conversation.pk,
                                  text="Isi formulir di https://perpustakaan.example/daftar ya.",
                                  client_id="l-1")
        do_send_patron_message(patron_id=identity.patron_id,
                               text="<script>alert('x')</script> terima kasih", client_id="p-2")
        return lifecycle.do_close_by_librarian(user=librarian, conversation_id=conversation.pk)

    def test_staff_pages_need_a_staff_login(self, client, make_librarian):
        for url in ("/dashboard/", "/staff/transcripts/", "/staff/transcripts/1/"):
            response = client.get(url)
            assert response.status_code == 302 and "login" in response["Location"]
        client.force_login(make_librarian("tamu", "Tamu", is_staff=False))
        assert client.get("/staff/transcripts/").status_code == 302

    def test_the_dashboard_opens_for_a_librarian(self, client, librarian):
        client.force_login(librarian)
        response = client.get("/dashboard/")
        assert response.status_code == 200
        assert b"/ws/librarian/" in response.content or b"dashboard.js" in response.content

    def test_the_transcript_shows_every_message_escaped_with_links(self, client, librarian, closed):
        client.force_login(librarian)
        page = client.get(reverse("reference:transcript", args=[closed.pk])).content.decode()
        assert "&lt;script&gt;alert(" in page and "<script>alert(" not in page
        assert '<a href="https://perpustakaan.example/daftar"' in page
        assert "Bagaimana cara &lt;b&gt;daftar&lt;/b&gt; anggota?" in page
        for text in ("Siti", "Rina"):
            assert text in page

    @pytest.mark.parametrize(("query", "found"), [
        ("", True),
        ("?text=formulir", True),
        ("?text=perpanjang", False),
        ("?queue={queue}", True),
        ("?queue={other_queue}", False),
        ("?librarian={librarian}", True),
        ("?date_from=2000-01-01&date_to=2000-01-02", False),
        ("?date_from={today}&date_to={today}", True),
    ])
    def test_the_transcript_list_filters(self, client, librarian, closed, other_queue, query, found):
        from django.utils import timezone

        client.force_login(librarian)
        url = "/staff/transcripts/" + query.format(
            queue=closed.queue_id, other_queue=other_queue.pk, librarian=librarian.pk,
            today=timezone.localdate().isoformat())
        response = client.get(url)
        assert response.status_code == 200
        link = reverse("reference:transcript", args=[closed.pk])
        assert (link in response.content.decode()) is found

    def test_a_bad_filter_is_reported_not_ignored(self, client, librarian, closed):
        client.force_login(librarian)
        response = client.get("/staff/transcripts/?date_from=2030-01-02&date_to=2030-01-01")
        assert response.status_code == 200
        assert response.context["form"].errors

    def test_open_conversations_are_not_transcripts(self, client, librarian, identity):
        start_chat(identity=identity, text="Masih menunggu", client_id="p-1")
        client.force_login(librarian)
        assert "Masih menunggu" not in client.get("/staff/transcripts/").content.decode()

    def test_a_number_no_id_can_be_is_not_found_or_refused_not_an_error(self, client, librarian):
        client.force_login(librarian)
        huge = "9" * 30
        for path in [f"/staff/transcripts/{huge}/", f"/staff/history/{huge}/1/", f"/staff/canned/{huge}/",
                     f"/staff/topics/{huge}/", f"/staff/faq/{huge}/"]:
            assert client.get(path).status_code == 404, path
        upload = client.post("/staff/attachments/", {"conversation": huge})
        assert upload.status_code == 400 and upload.json()["error"] == "invalid_frame"
        from reference import canned

        reply = canned.do_create_reply(user=librarian, title="Halo", text_id="Halo!", text_en="Hello!")
        use = client.post(f"/staff/canned/{reply.pk}/use", {"conversation": int(huge)},
                          content_type="application/json")
        assert use.status_code == 400 and use.json()["error"] == "invalid_frame"
