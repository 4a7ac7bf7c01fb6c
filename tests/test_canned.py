"""Canned replies: who sees and changes which, what a text may hold, rendering for a chat, counting
uses (reference.canned), and the dashboard's JSON endpoints (reference.canned_views)."""

import json
from datetime import datetime

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone, translation
from django.utils.translation import gettext

from reference import canned
from reference.errors import ServiceError
from reference.models import CannedReply, Library
from tests.starting import held_chat, start_chat

pytestmark = pytest.mark.django_db

Scope = CannedReply.Scope
HOURS_TEXT_ID = "Halo {patron_name}, saya {librarian_name} dari {library_name} ({queue_name})."
HOURS_TEXT_EN = "Hello {patron_name}, I am {librarian_name} of {library_name} ({queue_name})."


def grant_shared(user):
    user.user_permissions.add(Permission.objects.get(codename="manage_shared_cannedreply"))
    return type(user).objects.get(pk=user.pk)  # permissions are cached on the instance


def personal(user, title="Salam", text_id="Halo {patron_name}!", text_en="Hello {patron_name}!"):
    return canned.do_create_reply(user=user, title=title, text_id=text_id, text_en=text_en)


def shared(manager, scope, queue=None, title="Jam buka"):
    return canned.do_create_reply(user=manager, title=title, text_id="Hari ini kami buka {opening_hours_today}.",
                                  text_en="Today we are open {opening_hours_today}.", scope=scope,
                                  queue_id=queue.pk if queue else None)


@pytest.fixture
def manager(make_librarian):
    return grant_shared(make_librarian("kepala", "Kepala"))


def titles(user, **kwargs):
    return sorted(reply.title for reply in canned.usable_replies(user, **kwargs))


def snapshot():
    return list(CannedReply.objects.order_by("pk").values())


class TestVisibility:
    def test_own_personal_the_librarys_and_my_queues(self, librarian, make_librarian, manager, queue, other_queue):
        budi = make_librarian("budi", "Budi", queues=[other_queue])
        personal(librarian, title="Mine")
        personal(budi, title="Budi's")
        shared(manager, Scope.LIBRARY, title="Everyone")
        shared(manager, Scope.QUEUE, queue, title="Umum only")
        shared(manager, Scope.QUEUE, other_queue, title="Anak only")
        assert titles(librarian) == ["Everyone", "Mine", "Umum only"]
        assert titles(budi) == ["Anak only", "Budi's", "Everyone"]

    def test_never_another_librarys(self, librarian, manager):
        elsewhere = Library.objects.create(name="Perpustakaan Medan")
        shared(manager, Scope.LIBRARY, title="Ours")
        other = shared(manager, Scope.LIBRARY, title="Theirs")
        CannedReply.objects.filter(pk=other.pk).update(library=elsewhere)
        assert titles(librarian) == ["Ours"]
        with pytest.raises(ServiceError) as refused:
            canned.do_update_reply(user=manager, reply_id=other.pk, title="Mine now", text_id="a", text_en="b",
                                   scope=Scope.LIBRARY)
        assert refused.value.code == "canned_not_found"

    def test_a_chats_queue_counts_for_that_chat(self, librarian, make_librarian, manager, identity, other_queue):
        """A chat handed over from a queue one is not a member of still offers that queue's replies."""
        shared(manager, Scope.QUEUE, other_queue, title="Anak only")
        conversation = held_chat(identity=identity, librarian=librarian)
        conversation.queue = other_queue
        conversation.save()
        assert titles(librarian) == []
        assert titles(librarian, conversation=conversation) == ["Anak only"]

    def test_most_used_first_and_searchable(self, librarian):
        personal(librarian, title="Alpha", text_en="Renew online")
        used = personal(librarian, title="Zulu", text_id="Perpanjang pinjaman")
        CannedReply.objects.filter(pk=used.pk).update(usage_count=5)
        assert [r.title for r in canned.usable_replies(librarian)] == ["Zulu", "Alpha"]
        assert [r.title for r in canned.usable_replies(librarian, query="pinjaman")] == ["Zulu"]
        assert [r.title for r in canned.usable_replies(librarian, query="RENEW")] == ["Alpha"]


class TestPermission:
    def test_a_librarian_without_the_permission_cannot_share(self, librarian, queue):
        for scope in (Scope.LIBRARY, Scope.QUEUE):
            with pytest.raises(ServiceError) as refused:
                canned.do_create_reply(user=librarian, title="T", text_id="a", text_en="b", scope=scope,
                                       queue_id=queue.pk)
            assert (refused.value.code, refused.value.params["field"]) == ("canned_forbidden", "scope")
        assert not CannedReply.objects.exists()

    def test_shared_ones_are_seen_but_not_changed_without_it(self, librarian, manager):
        reply = shared(manager, Scope.LIBRARY)
        before = snapshot()
        with pytest.raises(ServiceError) as refused:
            canned.do_delete_reply(user=librarian, reply_id=reply.pk)
        assert refused.value.code == "canned_forbidden"
        with pytest.raises(ServiceError):
            canned.do_update_reply(user=librarian, reply_id=reply.pk, title="x", text_id="a", text_en="b",
                                   scope=Scope.LIBRARY)
        assert snapshot() == before
        assert [editable for _reply, editable in canned.listed_replies(librarian)] == [False]
        assert [editable for _reply, editable in canned.listed_replies(manager)] == [True]

    def test_someone_elses_personal_reply_does_not_exist_for_me(self, librarian, manager):
        reply = personal(librarian)
        with pytest.raises(ServiceError) as refused:
            canned.do_delete_reply(user=manager, reply_id=reply.pk)
        assert refused.value.code == "canned_not_found"
        assert CannedReply.objects.filter(pk=reply.pk).exists()

    def test_superusers_manage_shared_ones(self, django_user_model, queue):
        boss = django_user_model.objects.create_superuser("boss", password="pw", is_staff=True)
        reply = canned.do_create_reply(user=boss, title="Antrean", text_id="a", text_en="b", scope=Scope.QUEUE,
                                       queue_id=queue.pk)
        assert (reply.scope, reply.queue, reply.owner) == (Scope.QUEUE, queue, None)

    def test_the_owner_edits_and_deletes_and_the_count_stays(self, librarian):
        reply = personal(librarian)
        CannedReply.objects.filter(pk=reply.pk).update(usage_count=3)
        changed = canned.do_update_reply(user=librarian, reply_id=reply.pk, title="  Salam   pagi ",
                                         text_id="Selamat pagi", text_en="Good morning")
        changed.refresh_from_db()
        assert (changed.title, changed.text_en, changed.usage_count) == ("Salam pagi", "Good morning", 3)
        canned.do_delete_reply(user=librarian, reply_id=reply.pk)
        assert not CannedReply.objects.exists()

    def test_a_manager_turns_a_personal_reply_into_a_shared_one(self, manager):
        reply = personal(manager)
        canned.do_update_reply(user=manager, reply_id=reply.pk, title="Salam", text_id="a", text_en="b",
                               scope=Scope.LIBRARY)
        reply.refresh_from_db()
        assert (reply.scope, reply.owner) == (Scope.LIBRARY, None)


class TestValidation:
    @pytest.mark.parametrize(("fields", "code", "field"), [
        ({"title": ""}, "canned_title_empty", "title"),
        ({"title": "x" * 81}, "canned_title_too_long", "title"),
        ({"title": 5}, "invalid_frame", "title"),
        ({"text_id": "   "}, "canned_text_empty", "text_id"),
        ({"text_en": ""}, "canned_text_empty", "text_en"),
        ({"text_en": "x" * 4001}, "canned_text_too_long", "text_en"),
        ({"text_id": "Halo {nama}"}, "canned_unknown_variable", "text_id"),
        ({"text_en": "Hello {patron_name"}, "canned_bad_brace", "text_en"),
        ({"text_en": "Hello patron_name}"}, "canned_bad_brace", "text_en"),
        ({"scope": "everyone"}, "canned_bad_scope", "scope"),
    ])
    def test_refused_naming_the_field_and_nothing_saved(self, librarian, fields, code, field):
        reply = personal(librarian)
        before = snapshot()
        good = {"title": "Salam", "text_id": "Halo", "text_en": "Hello"}
        with pytest.raises(ServiceError) as refused:
            canned.do_create_reply(user=librarian, **{**good, **fields})
        assert (refused.value.code, refused.value.params["field"]) == (code, field)
        with pytest.raises(ServiceError) as refused:
            canned.do_update_reply(user=librarian, reply_id=reply.pk, **{**good, **fields})
        assert refused.value.code == code
        assert snapshot() == before

    def test_the_message_names_the_unknown_variable_and_the_known_ones(self, librarian):
        with pytest.raises(ServiceError) as refused:
            personal(librarian, text_en="Hi {patron}, see {patron_name}")
        with translation.override("en"):
            message = refused.value.message
        assert "{patron}" in message and "English" in message and "{opening_hours_today}" in message

    def test_the_limit_is_the_chat_messages(self, librarian, settings):
        settings.MESSAGE_MAX_LENGTH = 50
        personal(librarian, text_id="x" * 50)
        with pytest.raises(ServiceError) as refused:
            personal(librarian, text_id="x" * 51)
        assert refused.value.params["limit"] == 50

    def test_a_queue_share_needs_a_real_queue(self, manager, queue):
        for queue_id, code in ((None, "canned_queue_required"), (999, "unknown_queue"), ("x", "unknown_queue")):
            with pytest.raises(ServiceError) as refused:
                canned.do_create_reply(user=manager, title="T", text_id="a", text_en="b", scope=Scope.QUEUE,
                                       queue_id=queue_id)
            assert (refused.value.code, refused.value.params["field"]) == (code, "queue")
        assert not CannedReply.objects.exists()

    def test_doubled_braces_are_braces(self, librarian, identity):
        reply = personal(librarian, text_en="{{patron_name}} is {patron_name}")
        conversation = held_chat(identity=identity, librarian=librarian, name="Rina", language="en")
        assert canned.render(reply, conversation, librarian) == "{patron_name} is Rina"

    def test_the_admin_form_checks_the_texts_too(self, librarian):
        from django.core.exceptions import ValidationError

        reply = CannedReply(library=Library.objects.get(), owner=librarian, title="T", text_id="{x}",
                            text_en="x" * 4001)
        with pytest.raises(ValidationError) as refused:
            reply.full_clean()
        assert set(refused.value.message_dict) == {"text_id", "text_en"}
        assert "{x}" in refused.value.message_dict["text_id"][0]


class TestUse:
    def test_rendered_in_the_patrons_language_with_variables(self, librarian, identity, make_identity):
        reply = canned.do_create_reply(user=librarian, title="Salam", text_id=HOURS_TEXT_ID, text_en=HOURS_TEXT_EN)
        english = held_chat(identity=identity, librarian=librarian, name="Rina", language="en")
        text = canned.do_use_reply(user=librarian, reply_id=reply.pk, conversation_id=english.pk)
        library = english.site.library.name
        assert text == f"Hello Rina, I am Siti of {library} (Umum)."
        lifecycle_close(librarian, english)
        indonesian = held_chat(identity=make_identity(), librarian=librarian, client_id="p-2", language="id")
        text = canned.do_use_reply(user=librarian, reply_id=reply.pk, conversation_id=indonesian.pk)
        with translation.override("id"):
            nameless = gettext("friend")
        assert text == f"Halo {nameless}, saya Siti dari {library} (Umum)."

    def test_a_patron_without_a_name_gets_the_fallback_in_their_language(self, librarian, identity):
        reply = personal(librarian)
        conversation = held_chat(identity=identity, librarian=librarian, language="en")
        text = canned.do_use_reply(user=librarian, reply_id=reply.pk, conversation_id=conversation.pk)
        with translation.override("en"):
            assert text == "Hello friend!"

    def test_the_use_is_counted(self, librarian, identity):
        reply = personal(librarian)
        conversation = held_chat(identity=identity, librarian=librarian)
        for _ in range(2):
            canned.do_use_reply(user=librarian, reply_id=reply.pk, conversation_id=conversation.pk)
        reply.refresh_from_db()
        assert reply.usage_count == 2
        assert (timezone.now() - reply.last_used_at).total_seconds() < 60

    def test_only_in_a_chat_one_holds(self, librarian, make_librarian, identity, make_identity):
        budi = make_librarian("budi", "Budi")
        reply = canned.do_create_reply(user=librarian, title="Semua", text_id="a", text_en="b")
        CannedReply.objects.filter(pk=reply.pk).update(scope=Scope.LIBRARY, owner=None)
        held = held_chat(identity=identity, librarian=librarian)
        waiting, _message, _created = start_chat(identity=make_identity(), text="Halo?", client_id="w-1")
        for conversation_id, code in ((held.pk, "not_assigned"), (waiting.pk, "not_assigned"), (999, "not_found")):
            with pytest.raises(ServiceError) as refused:
                canned.do_use_reply(user=budi, reply_id=reply.pk, conversation_id=conversation_id)
            assert refused.value.code == code
        lifecycle_close(librarian, held)
        with pytest.raises(ServiceError) as refused:
            canned.do_use_reply(user=librarian, reply_id=reply.pk, conversation_id=held.pk)
        assert refused.value.code == "not_assigned"  # not any more
        reply.refresh_from_db()
        assert reply.usage_count == 0

    def test_not_someone_elses_personal_reply(self, librarian, make_librarian, identity):
        theirs = personal(make_librarian("budi", "Budi"))
        conversation = held_chat(identity=identity, librarian=librarian)
        with pytest.raises(ServiceError) as refused:
            canned.do_use_reply(user=librarian, reply_id=theirs.pk, conversation_id=conversation.pk)
        assert refused.value.code == "canned_not_found"
        theirs.refresh_from_db()
        assert theirs.usage_count == 0


def lifecycle_close(librarian, conversation):
    from reference import lifecycle

    lifecycle.do_close_by_librarian(user=librarian, conversation_id=conversation.pk)


class TestOpeningHours:
    MONDAY = timezone.make_aware(datetime(2026, 11, 30, 10, 0))

    @pytest.mark.parametrize(("hours", "lang", "expected"), [
        ("mon-fri 08:00-12:00\nmon 13:00-16:00", "en", "08:00–12:00, 13:00–16:00"),
        ("tue-sat 08:00-16:00", "en", "closed today"),
        ("", "en", "open all day"),
    ])
    def test_today_in_the_active_language(self, queue, hours, lang, expected):
        queue.opening_hours = hours
        with translation.override(lang):
            assert canned.opening_hours_today(queue, at=self.MONDAY) == expected

    def test_indonesian_uses_its_own_words(self, queue):
        queue.opening_hours = "tue-sat 08:00-16:00"
        with translation.override("id"):
            assert canned.opening_hours_today(queue, at=self.MONDAY) == gettext("closed today")

    def test_filled_in_for_the_chats_queue(self, librarian, manager, identity, queue):
        queue.opening_hours = "mon-sun 08:00-16:00"
        queue.save()
        reply = shared(manager, Scope.LIBRARY)
        conversation = held_chat(identity=identity, librarian=librarian, language="en")
        text = canned.do_use_reply(user=librarian, reply_id=reply.pk, conversation_id=conversation.pk)
        assert text == "Today we are open 08:00–16:00."


# ---- HTTP ----------------------------------------------------------------------------------------

URL = "/staff/canned/"


def send(client, method, url, body=None):
    return getattr(client, method)(url, data=json.dumps(body) if body is not None else None,
                                   content_type="application/json")


@pytest.fixture
def desk(client, librarian):
    client.force_login(librarian)
    return client


class TestHttp:
    def test_create_list_update_delete(self, desk):
        created = send(desk, "post", URL, {"title": "Salam", "text_id": "Halo {patron_name}", "text_en": "Hi"})
        assert created.status_code == 201
        reply = created.json()["reply"]
        assert (reply["scope"], reply["editable"], reply["usage_count"]) == ("personal", True, 0)
        listed = desk.get(URL).json()
        assert [r["title"] for r in listed["replies"]] == ["Salam"]
        assert "{opening_hours_today}" in listed["variables"] and listed["can_manage_shared"] is False
        assert listed["queues"] == []
        changed = send(desk, "put", f"{URL}{reply['id']}/", {"title": "Salam 2", "text_id": "a", "text_en": "b"})
        assert changed.status_code == 200 and changed.json()["reply"]["title"] == "Salam 2"
        assert send(desk, "delete", f"{URL}{reply['id']}/").status_code == 200
        assert not CannedReply.objects.exists()

    def test_errors_name_the_field_and_change_nothing(self, desk):
        refused = send(desk, "post", URL, {"title": "Salam", "text_id": "Halo {nama}", "text_en": "Hi"})
        assert refused.status_code == 400
        assert refused.json()["error"] == "canned_unknown_variable" and refused.json()["field"] == "text_id"
        assert "{nama}" in refused.json()["message"]
        assert send(desk, "post", URL, {"title": "x", "text_id": "", "text_en": "Hi"}).json()["field"] == "text_id"
        assert desk.post(URL, data="not json", content_type="application/json").json()["error"] == \
            "canned_bad_request"
        assert send(desk, "post", URL, ["a list"]).status_code == 400
        assert not CannedReply.objects.exists()

    def test_permission_and_visibility(self, desk, manager):
        reply = shared(manager, Scope.LIBRARY)
        refused = send(desk, "delete", f"{URL}{reply.pk}/")
        assert refused.status_code == 403 and refused.json()["error"] == "canned_forbidden"
        assert send(desk, "post", URL, {"title": "t", "text_id": "a", "text_en": "b", "scope": "library"}
                    ).status_code == 403
        assert send(desk, "delete", f"{URL}{personal(manager).pk}/").status_code == 404
        assert [r["editable"] for r in desk.get(URL).json()["replies"]] == [False]
        assert CannedReply.objects.count() == 2

    def test_a_manager_gets_the_queues_to_share_with(self, client, manager, queue, other_queue):
        client.force_login(manager)
        listed = client.get(URL).json()
        assert listed["can_manage_shared"] is True
        assert {q["name"] for q in listed["queues"]} == {"Umum", "Anak-anak"}
        created = send(client, "post", URL, {"title": "t", "text_id": "a", "text_en": "b", "scope": "queue",
                                             "queue": other_queue.pk})
        assert created.status_code == 201 and created.json()["reply"]["queue"]["name"] == "Anak-anak"

    def test_list_for_a_chat_with_previews_and_use(self, desk, librarian, identity):
        reply = personal(librarian)
        conversation = held_chat(identity=identity, librarian=librarian, name="Rina", language="en")
        listed = desk.get(URL, {"conversation": conversation.pk}).json()["replies"]
        assert [(r["title"], r["preview"]) for r in listed] == [("Salam", "Hello Rina!")]
        used = send(desk, "post", f"{URL}{reply.pk}/use", {"conversation": conversation.pk})
        assert used.status_code == 200 and used.json() == {"text": "Hello Rina!"}
        reply.refresh_from_db()
        assert reply.usage_count == 1

    def test_use_on_a_chat_not_held_is_refused(self, client, librarian, make_librarian, identity):
        reply = personal(librarian)
        conversation = held_chat(identity=identity, librarian=librarian)
        client.force_login(make_librarian("budi", "Budi"))
        assert client.get(URL, {"conversation": conversation.pk}).status_code == 403
        refused = send(client, "post", f"{URL}{reply.pk}/use", {"conversation": conversation.pk})
        assert refused.status_code == 403 and refused.json()["error"] == "not_assigned"
        client.force_login(librarian)
        assert send(client, "post", f"{URL}{reply.pk}/use", {"conversation": "x"}).status_code == 400
        reply.refresh_from_db()
        assert reply.usage_count == 0

    def test_staff_only_and_csrf(self, client, django_user_model, librarian):
        assert client.get(URL).status_code == 403
        patron_like = django_user_model.objects.create_user("tamu", password="pw")
        client.force_login(patron_like)
        assert client.get(URL).json()["error"] == "not_authenticated"
        from django.test import Client

        strict = Client(enforce_csrf_checks=True)
        strict.force_login(librarian)
        assert send(strict, "post", URL, {"title": "t", "text_id": "a", "text_en": "b"}).status_code == 403
        assert not CannedReply.objects.exists()

    def test_the_dashboard_offers_the_picker_and_the_dialog(self, desk):
        page = desk.get("/dashboard/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert 'id="canned-dialog"' in page and "canned.js" in page and "Type / for canned replies" in page

    def test_only_managers_are_offered_the_shared_scopes(self, desk, client, manager):
        assert 'value="library"' not in desk.get("/dashboard/").content.decode()
        client.force_login(manager)
        page = client.get("/dashboard/").content.decode()
        assert 'value="library"' in page and 'value="queue"' in page
