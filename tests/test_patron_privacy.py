"""The patron's side of UU PDP 27/2022: the pre-chat form's age group, the privacy notice with the
library's retention periods, and keeping one's question out of the FAQ for every kind of chat."""

import json

import pytest
from channels.db import database_sync_to_async
from django.test import Client
from django.utils import translation

from reference.errors import ServiceError
from reference.faq import curation
from reference.models import AuditEvent, Conversation, Patron
from tests.starting import start_chat
from tests.wsclient import librarian_socket, patron_socket
from widgets import privacy


def start(identity, **fields):
    return start_chat(identity=identity, text="Apakah ada buku cerita bergambar?", client_id="p-1", **fields)


def set_fields(site, **fields):
    for name, value in fields.items():
        setattr(site, name, value)
    site.save()


def keep(site, **days):
    """The site's library keeps things this many days (the model's defaults unless given)."""
    library = site.library
    for name, value in {"retention_days": 365, "offline_retention_days": 365, "attachment_retention_days": 90,
                        "feedback_retention_days": 365, "child_retention_days": 30, **days}.items():
        setattr(library, name, value)
    library.save()
    return library


def opt_out_events():
    return list(AuditEvent.objects.filter(action=AuditEvent.Action.OPT_OUT).order_by("pk"))


# ---- the age group ---------------------------------------------------------------------------------

@pytest.mark.django_db
class TestAgeGroup:
    def test_asked_it_is_stored_with_the_conversation(self, site, identity):
        set_fields(site, age_group_field="optional")
        conversation, _message, _created = start(identity, age_group="child")
        assert Conversation.objects.get(pk=conversation.pk).age_group == "child"

    def test_not_asked_it_is_not_stored(self, site, identity):
        conversation, _message, _created = start(identity, age_group="child")
        assert Conversation.objects.get(pk=conversation.pk).age_group == ""

    def test_a_bad_value_is_refused_and_nothing_is_stored(self, site, identity):
        set_fields(site, age_group_field="optional")
        for bad in ("teen", "CHILD", "17"):
            with pytest.raises(ServiceError) as error:
                start(identity, age_group=bad)
            assert (error.value.code, error.value.params["field"]) == ("invalid_age_group", "age_group")
        assert not Conversation.objects.exists() and not Patron.objects.exists()

    def test_required_it_must_be_answered(self, site, identity):
        set_fields(site, age_group_field="required")
        with pytest.raises(ServiceError) as error:
            start(identity)
        assert (error.value.code, error.value.params["field"]) == ("field_required", "age_group")
        conversation, _message, _created = start(identity, age_group="adult")
        assert conversation.age_group == "adult"

    def test_a_child_needs_no_email_where_the_site_requires_one(self, site, identity):
        set_fields(site, age_group_field="optional", email_field="required")
        with pytest.raises(ServiceError) as error:
            start(identity, age_group="adult")
        assert error.value.params["field"] == "email"
        conversation, _message, _created = start(identity, age_group="child")
        assert (conversation.age_group, conversation.patron.email) == ("child", "")

    def test_a_child_leaving_a_question_offline_gives_a_parents_email(self, site, identity):
        set_fields(site, age_group_field="optional", email_field="hidden")
        with pytest.raises(ServiceError) as error:
            start(identity, age_group="child", offline=True)
        assert (error.value.code, error.value.params["field"]) == ("guardian_email_required", "email")
        with translation.override("en"):
            assert "parent or guardian" in error.value.message
        assert not Conversation.objects.exists()
        conversation, _message, _created = start(identity, age_group="child", offline=True, email="ibu@example.org")
        conversation.refresh_from_db()
        assert (conversation.is_offline, conversation.age_group, conversation.patron.email) == (
            True, "child", "ibu@example.org")

    def test_the_form_shows_the_question_and_the_parents_notice_only_when_asked(self, site):
        keep(site)
        page = Client().get(f"/widget/sites/{site.key}/chat/?lang=en").content.decode()
        assert 'name="age_group"' not in page and "ask a parent or guardian" not in page
        set_fields(site, age_group_field="required")
        page = Client().get(f"/widget/sites/{site.key}/chat/?lang=en").content.decode()
        assert "<legend>Are you under 18?</legend>" in page
        assert 'id="age-group-child" name="age_group" value="child" required> Under 18' in page
        assert 'value="adult" required> 18 or older' in page
        assert ("If you are under 18, ask a parent or guardian to read this first: the library keeps this chat and "
                "the details you give for 30 days") in page
        assert 'id="chat-strings-parentEmail" type="application/json">"Email of a parent or guardian"' in page

    def test_the_admin_edits_the_setting(self, site, admin_client):
        page = admin_client.get(f"/admin/widgets/site/{site.pk}/change/").content.decode()
        assert 'name="age_group_field"' in page


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_the_start_frame_carries_the_age_group(site, identity, token_for):
    await database_sync_to_async(set_fields)(site, age_group_field="required", email_field="required")
    patron = await patron_socket(token_for(identity), lang="en")
    await patron.send({"type": "start", "client_id": "p-1", "text": "Is it open?", "age_group": "teen"})
    error = await patron.receive_type("error")
    assert (error["code"], error["field"], error["ref"]) == ("invalid_age_group", "age_group", "p-1")
    assert error["message"] == "The age group must be “child” (under 18) or “adult”."
    await patron.send({"type": "start", "client_id": "p-1", "text": "Is it open?"})
    error = await patron.receive_type("error")
    assert (error["code"], error["field"]) == ("field_required", "age_group")
    await patron.send({"type": "start", "client_id": "p-1", "text": "Is it open?", "age_group": 1})
    assert (await patron.receive_type("error"))["code"] == "invalid_frame"
    assert not await database_sync_to_async(Conversation.objects.exists)()
    # A child: no email, though the site requires one for chats.
    await patron.send({"type": "start", "client_id": "p-1", "text": "Is it open?", "age_group": "child"})
    ack = await patron.receive_type("ack")
    conversation = await database_sync_to_async(Conversation.objects.get)(pk=ack["conversation"])
    assert (conversation.age_group, conversation.status) == ("child", "queued")
    await patron.close()


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_the_librarian_sees_that_the_patron_is_a_child_and_the_patron_is_not_told(site, identity, token_for,
                                                                                        librarian):
    await database_sync_to_async(set_fields)(site, age_group_field="optional")
    patron = await patron_socket(token_for(identity), lang="en")
    await patron.send({"type": "start", "client_id": "p-1", "text": "Is it open?", "age_group": "child"})
    conversation = (await patron.receive_type("conversation"))["conversation"]
    assert "age_group" not in conversation["patron"]
    desk = await librarian_socket(librarian)
    (waiting,) = desk.welcome["waiting"]
    assert waiting["patron"]["age_group"] == "child"
    await patron.close()
    await desk.close()


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_an_offline_child_is_asked_for_a_parents_email_over_the_socket(site, identity, token_for):
    await database_sync_to_async(set_fields)(site, age_group_field="optional")
    patron = await patron_socket(token_for(identity), lang="en")
    assert patron.welcome["desk"]["open"] is False  # nobody on duty
    frame = {"type": "start", "client_id": "q-1", "text": "Do you lend comics?", "offline": True, "age_group": "child"}
    await patron.send(frame)
    error = await patron.receive_type("error")
    assert (error["code"], error["field"]) == ("guardian_email_required", "email")
    assert error["message"].startswith("Please give the email address of a parent or guardian")
    await patron.send({**frame, "email": "ayah@example.org"})
    await patron.receive_type("ack")
    left = (await patron.receive_type("conversation"))["conversation"]
    assert (left["status"], left["offline"]) == ("closed", True)
    await patron.close()


# ---- the FAQ opt-out ---------------------------------------------------------------------------------

def post_opt_out(token, **body):
    return Client().post("/api/faq/opt-out", json.dumps({"token": token, **body}), content_type="application/json")


@pytest.mark.django_db
class TestFaqOptOut:
    def test_after_leaving_a_question_offline_the_endpoint_marks_it(self, site, identity, token_for):
        offline, _message, _created = start(identity, offline=True, email="rina@example.org")
        r = post_opt_out(token_for(identity))
        assert r.status_code == 200 and r.json() == {"marked": True}
        offline.refresh_from_db()
        assert offline.faq_opt_out
        (event,) = opt_out_events()
        assert (event.actor, event.conversation_id, event.library_id, event.detail) == (
            "patron", offline.pk, site.library_id, {"opt_out": True})
        with pytest.raises(ServiceError) as error:
            curation.check_transcript_usable(offline)
        assert error.value.code == "faq_opted_out"

    def test_opting_in_again_is_recorded_and_a_repeat_is_not(self, site, identity, token_for):
        offline, _message, _created = start(identity, offline=True, email="rina@example.org")
        token = token_for(identity)
        post_opt_out(token, opt_out=True)
        post_opt_out(token, opt_out=True)
        assert post_opt_out(token, opt_out=False).json() == {"marked": True}
        assert [e.detail["opt_out"] for e in opt_out_events()] == [True, False]
        offline.refresh_from_db()
        assert not offline.faq_opt_out
        assert post_opt_out(token, opt_out="no").status_code == 400

    def test_the_open_conversation_comes_before_an_older_one(self, site, identity, token_for):
        earlier, _message, _created = start(identity, offline=True, email="rina@example.org")
        live, _message, _created = start_chat(identity=identity, text="Dan majalah?", client_id="p-2")
        post_opt_out(token_for(identity))
        earlier.refresh_from_db()
        live.refresh_from_db()
        assert (earlier.faq_opt_out, live.faq_opt_out) == (False, True)

    def test_another_patrons_token_marks_nothing_of_theirs(self, site, identity, make_identity, token_for):
        mine, _message, _created = start(identity, offline=True, email="rina@example.org")
        assert post_opt_out(token_for(make_identity())).json() == {"marked": False}
        mine.refresh_from_db()
        assert not mine.faq_opt_out and not opt_out_events()

    def test_chosen_up_front_it_is_stored_at_creation_with_its_audit_row(self, site, identity):
        conversation, _message, _created = start(identity, offline=True, email="rina@example.org", faq_opt_out=True)
        assert Conversation.objects.get(pk=conversation.pk).faq_opt_out
        (event,) = opt_out_events()
        assert (event.actor, event.conversation_id, event.detail) == ("patron", conversation.pk, {"opt_out": True})
        plain, _message, _created = start_chat(identity=identity, text="Dan majalah?", client_id="p-2")
        assert not plain.faq_opt_out and len(opt_out_events()) == 1

    def test_opting_out_after_a_draft_unlinks_the_draft_from_the_chat(self, site, identity, token_for):
        from reference.faq.models import FaqEntry

        offline, _message, _created = start(identity, offline=True, email="rina@example.org")
        entry = FaqEntry.objects.create(slug="komik", question="Komik?", answer="Ada.")
        entry.source_conversations.add(offline)
        post_opt_out(token_for(identity))
        assert not entry.source_conversations.exists()
        assert FaqEntry.objects.filter(pk=entry.pk).exists()  # the curator's wording stays

    def test_opted_out_questions_are_no_candidate_faqs(self, site, make_identity):
        for n, opt_out in enumerate([True, True, True]):
            start_chat(identity=make_identity(), text="Apakah perpustakaan meminjamkan buku komik anak?",
                       client_id=f"p-{n}", offline=True, email="rina@example.org", faq_opt_out=opt_out)
        assert curation.candidate_faqs() == []
        Conversation.objects.update(faq_opt_out=False)
        assert curation.candidate_faqs()[0]["count"] == 3

    def test_the_form_offers_it(self, site):
        page = Client().get(f"/widget/sites/{site.key}/chat/?lang=en").content.decode()
        assert ('<input type="checkbox" id="faq-opt-out" name="faq_opt_out" aria-describedby="faq-reuse-hint"> '
                "Don’t use my question in the public FAQ") in page


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_the_start_frame_carries_the_opt_out(site, identity, token_for):
    patron = await patron_socket(token_for(identity))
    await patron.send({"type": "start", "client_id": "q-1", "text": "Ada komik?", "offline": True,
                       "email": "rina@example.org", "faq_opt_out": True})
    conversation_id = (await patron.receive_type("ack"))["conversation"]
    conversation = await database_sync_to_async(Conversation.objects.get)(pk=conversation_id)
    assert conversation.faq_opt_out and conversation.is_offline
    events = await database_sync_to_async(opt_out_events)()
    assert [(e.conversation_id, e.actor, e.detail) for e in events] == [(conversation_id, "patron", {"opt_out": True})]
    await patron.send({"type": "start", "client_id": "q-2", "text": "Ada komik?", "faq_opt_out": "yes"})
    assert (await patron.receive_type("error"))["code"] == "invalid_frame"
    await patron.close()


# ---- the privacy notice --------------------------------------------------------------------------------

@pytest.mark.django_db
class TestPrivacyNotice:
    def test_the_librarys_periods_in_english(self, site):
        keep(site)
        with translation.override("en"):
            text = privacy.notice(site).text
        assert text.startswith("The library keeps this chat and the details you give")
        assert "until the library deletes them" not in text
        assert ("How long the library keeps it: Chats: 365 days; Questions left while nobody was on duty, and "
                "their answers: 365 days; Files sent in a chat: 90 days; Rating comments and survey answers: "
                "365 days.") in text
        assert "under 18" not in text  # the site does not ask, so no chat is a child's
        assert text.endswith("To get a copy of your data or to have it deleted, ask a librarian in the chat.")

    def test_the_librarys_periods_in_indonesian(self, site):
        library = keep(site)
        library.public_contacts = "perpustakaan@tebingtinggikota.go.id\n\n 0621-21000 \n"
        library.save()
        set_fields(site, age_group_field="optional")
        with translation.override("id"):
            text = privacy.notice(site).text
            parent = privacy.parent_notice(site)
        assert text.startswith("Perpustakaan menyimpan obrolan ini")
        assert ("Berapa lama perpustakaan menyimpannya: Obrolan: 365 hari; Obrolan pemustaka di bawah 18 tahun: "
                "30 hari; Pertanyaan yang ditinggalkan saat tidak ada petugas, beserta jawabannya: 365 hari; "
                "Berkas yang dikirim dalam obrolan: 90 hari; Komentar penilaian dan jawaban survei: 365 hari.") in text
        assert text.endswith("hubungi perpustakaan: perpustakaan@tebingtinggikota.go.id, 0621-21000.")
        assert "mintalah orang tua atau wali membaca ini terlebih dahulu" in parent and "selama 30 hari" in parent

    def test_periods_left_empty_and_a_sites_own_text(self, site):
        keep(site, retention_days=None, child_retention_days=None, attachment_retention_days=1)
        set_fields(site, age_group_field="required", privacy_notice="Kami menyimpan obrolan untuk layanan.")
        with translation.override("en"):
            text = privacy.notice(site).text
            parent = privacy.parent_notice(site)
        assert text.startswith("Kami menyimpan obrolan untuk layanan.\n\nHow long the library keeps it: Chats: "
                               "until the library deletes them; Chats of patrons under 18: until the library "
                               "deletes them;")
        assert "Files sent in a chat: 1 day;" in text
        assert "until a librarian deletes them" in parent

    def test_the_chat_page_shows_it(self, site):
        library = keep(site)
        library.public_contacts = "0621-21000"
        library.save()
        page = Client().get(f"/widget/sites/{site.key}/chat/?lang=en").content.decode()
        assert "<li>Files sent in a chat: 90 days</li>" in page
        assert "ask a librarian in the chat or contact the library: 0621-21000." in page
        assert "kept until the library deletes them" not in page
        page = Client().get(f"/widget/sites/{site.key}/chat/?lang=id").content.decode()
        assert "<li>Berkas yang dikirim dalam obrolan: 90 hari</li>" in page
