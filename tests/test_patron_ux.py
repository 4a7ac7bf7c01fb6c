"""The patron's side without a browser: the widget's language, the site's pre-chat form, its settings."""

import pytest
from channels.db import database_sync_to_async
from django.core import mail
from django.test import Client

from reference.errors import ServiceError
from reference.models import Conversation, LibraryCard, Patron
from tests.starting import start_chat
from tests.wsclient import librarian_socket, patron_socket


def chat_page(site, query="", **headers):
    return Client().get(f"/widget/sites/{site.key}/chat/{query}", **headers).content.decode()


class TestWidgetLanguage:
    pytestmark = pytest.mark.django_db

    def test_the_embed_tags_language_wins(self, site):
        page = chat_page(site, "?lang=en", HTTP_ACCEPT_LANGUAGE="id")
        assert '<html lang="en">' in page and "Your question" in page

    def test_else_the_browsers_language(self, site):
        assert '<html lang="en">' in chat_page(site, HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
        assert '<html lang="id">' in chat_page(site, "?lang=id", HTTP_ACCEPT_LANGUAGE="en-US")
        assert "Pertanyaan Anda" in chat_page(site, HTTP_ACCEPT_LANGUAGE="id-ID")

    def test_else_indonesian(self, site):
        assert '<html lang="id">' in chat_page(site, "?lang=fr", HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9")
        assert '<html lang="id">' in chat_page(site)

    def test_a_language_chosen_on_the_staff_pages_does_not_leak_into_the_widget(self, site):
        client = Client()
        client.post("/i18n/setlang/", {"language": "en", "next": "/faq/"})
        assert client.cookies["django_language"].value == "en"
        page = client.get(f"/widget/sites/{site.key}/chat/", HTTP_ACCEPT_LANGUAGE="id").content.decode()
        assert '<html lang="id">' in page

    def test_the_launcher_labels_follow_too(self, site):
        config = Client().get(f"/widget/sites/{site.key}/config", HTTP_ACCEPT_LANGUAGE="en").json()
        assert config["launcher_label"] == "Ask a librarian"
        config = Client().get(f"/widget/sites/{site.key}/config?lang=id", HTTP_ACCEPT_LANGUAGE="en").json()
        assert config["launcher_label"] == "Tanya pustakawan"

    def test_the_invitation_is_off_by_default_and_configured_per_site(self, site):
        config = Client().get(f"/widget/sites/{site.key}/config?lang=id").json()
        assert config["invite_after"] is None
        site.invite_after = 30
        site.save()
        config = Client().get(f"/widget/sites/{site.key}/config?lang=id").json()
        assert config["invite_after"] == 30 and config["invite_text"] == "Perlu bantuan? Tanya pustakawan"
        assert (config["unread_one"], config["unread_many"]) == ("1 pesan baru", "{n} pesan baru")

    def test_an_invitation_delay_out_of_range_is_refused(self, site):
        from django.core.exceptions import ValidationError

        for bad in (0, 3601):
            site.invite_after = bad
            with pytest.raises(ValidationError):
                site.full_clean()

    def test_the_widget_shows_times_in_the_librarys_time_zone(self, site, settings):
        settings.TIME_ZONE = "Asia/Makassar"
        assert '"timeZone": "Asia/Makassar"' in chat_page(site)


class TestStaffLanguage:
    pytestmark = pytest.mark.django_db

    def test_the_dashboard_and_the_faq_follow_the_users_choice(self, librarian):
        client = Client()
        client.force_login(librarian)
        assert '<html lang="id">' in client.get("/dashboard/", HTTP_ACCEPT_LANGUAGE="id").content.decode()
        response = client.post("/i18n/setlang/", {"language": "en", "next": "/dashboard/"})
        assert response.status_code == 302
        dashboard = client.get("/dashboard/", HTTP_ACCEPT_LANGUAGE="id").content.decode()
        assert '<html lang="en">' in dashboard and "Log out" in dashboard
        assert '<html lang="en">' in client.get("/faq/", HTTP_ACCEPT_LANGUAGE="id").content.decode()

    def test_the_dashboard_shows_times_in_the_librarys_time_zone(self, librarian):
        client = Client()
        client.force_login(librarian)
        assert 'data-time-zone="Asia/Jakarta"' in client.get("/dashboard/").content.decode()

    def test_transcripts_show_times_in_the_librarys_time_zone_with_the_card_number(self, librarian, identity, site):
        import datetime

        from reference import lifecycle

        site.card_field = "optional"
        site.save()
        conversation, _m, _c = start(identity, card_number="TT-2024-00123")
        lifecycle.do_claim(user=librarian, conversation_id=conversation.pk)
        lifecycle.do_close_by_librarian(user=librarian, conversation_id=conversation.pk)
        late_evening_utc = datetime.datetime(2026, 11, 28, 23, 30, tzinfo=datetime.UTC)
        Conversation.objects.filter(pk=conversation.pk).update(created_at=late_evening_utc)
        client = Client()
        client.force_login(librarian)
        client.post("/i18n/setlang/", {"language": "en", "next": "/dashboard/"})
        page = client.get(f"/staff/transcripts/{conversation.pk}/").content.decode()
        assert "29 Nov 2026 06:30:00" in page  # Jakarta is UTC+7
        assert "Card TT-2024-00123" in page

    def test_an_unknown_language_changes_nothing(self, librarian):
        client = Client()
        client.force_login(librarian)
        client.post("/i18n/setlang/", {"language": "xx", "next": "/dashboard/"})
        assert '<html lang="id">' in client.get("/dashboard/", HTTP_ACCEPT_LANGUAGE="id").content.decode()


class TestPrechatForm:
    pytestmark = pytest.mark.django_db

    def test_the_default_form_asks_name_and_email_optionally_with_a_translated_privacy_notice(self, site):
        page = chat_page(site, "?lang=en")
        assert 'id="name" name="name" type="text" maxlength="100" autocomplete="name">' in page
        assert 'data-mode="optional"' in page
        assert 'class="field" hidden>\n          <label for="card">' in page
        assert "The library keeps this chat" in page
        assert "Perpustakaan menyimpan obrolan ini" in chat_page(site, "?lang=id")

    def test_the_site_chooses_fields_and_notice(self, site, other_queue):
        site.name_field, site.email_field, site.card_field, site.queue_field = (
            "hidden", "required", "required", "required")
        site.privacy_notice = "Kami menyimpan obrolan 6 bulan."
        site.save()
        site.queue_choices.set([other_queue])
        page = chat_page(site, "?lang=en")
        assert 'class="field" hidden>\n          <label for="name">' in page
        assert 'data-mode="required"' in page
        assert 'autocomplete="off" spellcheck="false" required>' in page  # the card number
        assert '<select id="queue-choice" name="queue" required>' in page
        assert '<option value="">Choose…</option>' in page
        assert "Kami menyimpan obrolan 6 bulan." in page and "The library keeps" not in page

    def test_the_admin_edits_the_form_and_the_invitation(self, site, admin_client):
        page = admin_client.get(f"/admin/widgets/site/{site.pk}/change/").content.decode()
        for name in ("name_field", "email_field", "card_field", "queue_field", "privacy_notice", "invite_after"):
            assert f'name="{name}"' in page


def start(identity, **fields):
    return start_chat(identity=identity, text="Apakah buka?", client_id="p-1", **fields)


@pytest.mark.django_db
class TestPrechatRules:
    def test_required_fields_are_checked_and_nothing_is_stored(self, site, identity):
        site.name_field = site.card_field = "required"
        site.save()
        cases = [({}, "name"), ({"name": "Rina"}, "card"), ({"name": " ", "card_number": "TT-1"}, "name")]
        for fields, missing in cases:
            with pytest.raises(ServiceError) as error:
                start(identity, **fields)
            assert (error.value.code, error.value.params["field"]) == ("field_required", missing)
        assert not Conversation.objects.exists() and not Patron.objects.exists()
        conversation, _message, _created = start(identity, name="Rina", card_number=" TT-2024  00123 ")
        assert conversation.patron.name == "Rina"
        assert LibraryCard.objects.get(patron=conversation.patron).number == "TT-2024 00123"

    def test_a_required_email_and_a_bad_card_number(self, site, identity):
        site.email_field, site.card_field = "required", "optional"
        site.save()
        with pytest.raises(ServiceError) as error:
            start(identity)
        assert error.value.params["field"] == "email"
        for bad in ["<script>", "x" * 33, "-12"]:
            with pytest.raises(ServiceError) as error:
                start(identity, email="rina@example.org", card_number=bad)
            assert error.value.code == "invalid_card"
        assert not Conversation.objects.exists()

    def test_fields_the_site_does_not_ask_for_are_not_stored(self, site, identity, other_queue):
        site.name_field = site.email_field = site.queue_field = "hidden"
        site.save()
        site.queue_choices.set([other_queue])
        conversation, _message, _created = start(identity, name="Rina", email="rina@example.org",
                                                 card_number="TT-1", queue_id=other_queue.pk)
        patron = conversation.patron
        assert (patron.name, patron.email, conversation.queue) == ("", "", site.default_queue)
        assert not LibraryCard.objects.exists()

    def test_an_offline_question_needs_an_email_even_where_the_form_hides_it(self, site, identity):
        site.email_field = "hidden"
        site.save()
        with pytest.raises(ServiceError) as error:
            start(identity, offline=True)
        assert error.value.code == "email_required"
        conversation, _message, _created = start(identity, offline=True, email="rina@example.org")
        assert conversation.patron.email == "rina@example.org"
        assert Conversation.objects.get(pk=conversation.pk).is_offline
        assert not mail.outbox

    def test_a_required_queue_choice(self, site, identity, other_queue):
        site.queue_field = "required"
        site.save()
        site.queue_choices.set([other_queue])
        with pytest.raises(ServiceError) as error:
            start(identity)
        assert error.value.params["field"] == "queue"
        conversation, _message, _created = start(identity, queue_id=site.default_queue_id)
        assert conversation.queue == site.default_queue


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_the_start_frame_is_refused_with_the_field_and_a_translated_message(site, identity, token_for, librarian):
    site.card_field = "required"
    await database_sync_to_async(site.save)()
    patron = await patron_socket(token_for(identity), lang="en")
    await patron.send({"type": "start", "client_id": "p-1", "text": "Is it open?", "name": "Rina"})
    error = await patron.receive_type("error")
    assert (error["code"], error["field"], error["ref"]) == ("field_required", "card", "p-1")
    assert error["message"] == "Please fill in “Library card number”."
    await patron.send({"type": "start", "client_id": "p-1", "text": "Is it open?", "card": "PKT 0001 2345"})
    ack = await patron.receive_type("ack")
    desk = await librarian_socket(librarian)
    (waiting,) = desk.welcome["waiting"]
    assert waiting["id"] == ack["conversation"] and waiting["patron"]["card"] == "PKT 0001 2345"
    await patron.close()
    await desk.close()
