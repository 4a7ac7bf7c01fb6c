"""Topics, READ scale and question type: who may assess a chat, what is refused (and changes
nothing), the library that requires an assessment before a librarian closes, and the frames that
carry it only to the librarian's own sockets."""

import pytest
from channels.db import database_sync_to_async
from django.utils import translation

from reference import assessment, lifecycle
from reference.errors import ServiceError
from reference.models import Conversation, Library, Topic
from tests.starting import held_chat
from tests.wsclient import librarian_socket, open_chat

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def library(site):
    return site.library


@pytest.fixture
def topics(library):
    return [Topic.objects.create(library=library, label_id="Keanggotaan", label_en="Membership"),
            Topic.objects.create(library=library, label_id="Sejarah lokal", label_en="Local history")]


def require_assessment(library):
    library.assessment = Library.Assessment.REQUIRED
    library.save(update_fields=["assessment"])


def stored(conversation):
    conversation = Conversation.objects.get(pk=conversation.pk)
    return (sorted(conversation.topics.values_list("pk", flat=True)), conversation.read_scale,
            conversation.question_type, conversation.status, conversation.last_seq)


def assess(user, conversation, topic_ids=(), read_scale=None, question_type=""):
    return assessment.do_assess(user=user, conversation_id=conversation.pk, topic_ids=list(topic_ids),
                                read_scale=read_scale, question_type=question_type)


# ---- the service

def test_the_holder_assesses_and_a_new_assessment_replaces_the_old(identity, librarian, topics):
    chat = held_chat(identity=identity, librarian=librarian)
    assess(librarian, chat, [t.pk for t in topics], 2, "ready_reference")
    assert stored(chat)[:3] == (sorted(t.pk for t in topics), 2, "ready_reference")
    assess(librarian, chat, [topics[1].pk], 5)
    assert stored(chat)[:3] == ([topics[1].pk], 5, "")


@pytest.mark.parametrize("kind, code", [
    ({"read_scale": 0}, "invalid_read_scale"),
    ({"read_scale": 7}, "invalid_read_scale"),
    ({"read_scale": True}, "invalid_read_scale"),
    ({"read_scale": "3"}, "invalid_read_scale"),
    ({"question_type": "homework"}, "invalid_question_type"),
    ({"topic_ids": [999999]}, "unknown_topic"),
    ({"topic_ids": ["1"]}, "unknown_topic"),
])
def test_bad_values_are_refused_and_change_nothing(identity, librarian, topics, kind, code):
    chat = held_chat(identity=identity, librarian=librarian)
    assess(librarian, chat, [topics[0].pk], 3, "research")
    before = stored(chat)
    values = {"topic_ids": [topics[1].pk], "read_scale": 4, "question_type": "policy", **kind}
    with pytest.raises(ServiceError) as refused:
        assess(librarian, chat, **values)
    assert refused.value.code == code
    assert stored(chat) == before


def test_another_librarys_or_an_inactive_topic_is_refused(identity, librarian, topics):
    chat = held_chat(identity=identity, librarian=librarian)
    elsewhere = Topic.objects.create(library=Library.objects.create(name="Perpustakaan Lain"),
                                     label_id="Keanggotaan", label_en="Membership")
    retired = Topic.objects.create(library=topics[0].library, label_id="Lama", label_en="Old", is_active=False)
    for topic in (elsewhere, retired):
        with pytest.raises(ServiceError) as refused:
            assess(librarian, chat, [topics[0].pk, topic.pk], 2)
        assert refused.value.code == "unknown_topic"
        assert stored(chat)[:2] == ([], None)


def test_a_topic_retired_after_tagging_may_stay_on_the_chat(identity, librarian, topics):
    chat = held_chat(identity=identity, librarian=librarian)
    assess(librarian, chat, [topics[0].pk], 2)
    Topic.objects.filter(pk=topics[0].pk).update(is_active=False)
    assess(librarian, chat, [topics[0].pk], 3)
    assert stored(chat)[:2] == ([topics[0].pk], 3)


def test_only_the_holder_assesses(identity, librarian, make_librarian, topics):
    chat = held_chat(identity=identity, librarian=librarian)
    colleague = make_librarian("budi", "Budi")
    with pytest.raises(ServiceError) as refused:
        assess(colleague, chat, [topics[0].pk], 2)
    assert refused.value.code == "not_assigned"
    with pytest.raises(ServiceError) as refused:
        assessment.do_assess(user=librarian, conversation_id=999999, topic_ids=[], read_scale=1, question_type="")
    assert refused.value.code == "not_found"


def test_required_blocks_the_librarians_close_saying_what_is_missing(identity, librarian, library, topics):
    require_assessment(library)
    chat = held_chat(identity=identity, librarian=librarian)
    before = stored(chat)
    with translation.override("en"), pytest.raises(ServiceError) as refused:
        lifecycle.do_close_by_librarian(user=librarian, conversation_id=chat.pk)
    assert refused.value.code == "assessment_required"
    assert refused.value.params["field"] == "assessment"
    with translation.override("en"):
        assert refused.value.message == ("Before closing this chat, pick a READ scale value and tag at least one "
                                         "topic in the Assessment section.")
    assert stored(chat) == before  # still active, no notice stored

    assess(librarian, chat, [topics[0].pk])
    with translation.override("en"), pytest.raises(ServiceError) as refused:
        lifecycle.do_close_by_librarian(user=librarian, conversation_id=chat.pk)
    with translation.override("en"):
        assert refused.value.message == "Before closing this chat, pick a READ scale value in the Assessment section."

    assess(librarian, chat, [], 3)
    with translation.override("en"), pytest.raises(ServiceError) as refused:
        lifecycle.do_close_by_librarian(user=librarian, conversation_id=chat.pk)
    with translation.override("en"):
        assert refused.value.message == "Before closing this chat, tag at least one topic in the Assessment section."

    assess(librarian, chat, [topics[0].pk], 3)
    lifecycle.do_close_by_librarian(user=librarian, conversation_id=chat.pk)
    assert stored(chat)[3] == "closed"


def test_optional_never_blocks_a_close(identity, librarian):
    chat = held_chat(identity=identity, librarian=librarian)
    lifecycle.do_close_by_librarian(user=librarian, conversation_id=chat.pk)
    assert stored(chat)[3] == "closed"


def test_a_patron_closing_is_never_blocked_and_the_former_holder_assesses_after(
        identity, librarian, make_librarian, library, topics):
    require_assessment(library)
    chat = held_chat(identity=identity, librarian=librarian)
    lifecycle.do_close_by_patron(patron_id=identity.patron_id)
    assert stored(chat)[3] == "closed"
    assess(librarian, chat, [topics[1].pk], 1, "directional")
    assert stored(chat)[:3] == ([topics[1].pk], 1, "directional")
    with pytest.raises(ServiceError) as refused:
        assess(make_librarian("budi", "Budi"), chat, [topics[0].pk], 2)
    assert refused.value.code == "not_assigned"


def test_a_waiting_chat_cannot_be_assessed(identity, librarian, topics):
    from tests.starting import start_chat

    conversation, _message, _created = start_chat(identity=identity, text="Halo?", client_id="p-1")
    with pytest.raises(ServiceError) as refused:
        assess(librarian, conversation, [topics[0].pk], 2)
    assert refused.value.code == "not_assigned"


# ---- on the wire

async def test_an_assessment_reaches_the_librarians_tabs_and_never_the_patron(identity, token_for, librarian,
                                                                              topics):
    patron, desk, conversation_id = await open_chat(librarian, token_for(identity))
    other_tab = await librarian_socket(librarian)
    await desk.send({"type": "assess", "conversation": conversation_id, "topics": [topics[0].pk],
                     "read_scale": 4, "question_type": "research"})
    for socket in (desk, other_tab):
        frame = await socket.receive_type("assessment")
        assert frame["conversation"] == conversation_id
        assert frame["assessment"] == {
            "topics": [{"id": topics[0].pk, "label_id": "Keanggotaan", "label_en": "Membership", "active": True}],
            "read_scale": 4, "question_type": "research"}
    assert await patron.nothing_more()
    for socket in (patron, desk, other_tab):
        await socket.close()


async def test_a_bad_assessment_is_an_error_frame_and_nothing_more(identity, token_for, librarian, topics):
    patron, desk, conversation_id = await open_chat(librarian, token_for(identity))
    await desk.send({"type": "assess", "conversation": conversation_id, "topics": [topics[0].pk], "read_scale": 9})
    error = await desk.receive_type("error")
    assert error["code"] == "invalid_read_scale"
    assert await desk.nothing_more() and await patron.nothing_more()
    assert (await database_sync_to_async(stored)(Conversation(pk=conversation_id)))[:2] == ([], None)
    await patron.close()
    await desk.close()


async def test_required_close_over_the_socket_is_refused_with_a_clear_error(identity, token_for, librarian,
                                                                              library, topics):
    await database_sync_to_async(require_assessment)(library)
    patron, desk, conversation_id = await open_chat(librarian, token_for(identity))
    await desk.send({"type": "close", "conversation": conversation_id})
    error = await desk.receive_type("error")
    assert (error["code"], error["field"]) == ("assessment_required", "assessment")
    assert "READ" in error["message"]
    assert await patron.nothing_more()  # no notice, no closed conversation
    await desk.send({"type": "assess", "conversation": conversation_id, "topics": [topics[0].pk], "read_scale": 2})
    await desk.receive_type("assessment")
    await desk.send({"type": "close", "conversation": conversation_id})
    closed = await desk.receive_type("conversation")
    assert closed["conversation"]["status"] == "closed"
    assert "assessment" not in closed["conversation"]
    while not await patron.nothing_more():
        frame = await patron.receive()
        assert frame["type"] != "assessment" and "assessment" not in frame.get("conversation", {})
    await patron.close()
    await desk.close()


async def test_welcome_and_a_claim_carry_the_setup_and_the_assessment(identity, token_for, librarian, library,
                                                                      topics):
    await database_sync_to_async(require_assessment)(library)
    await database_sync_to_async(Topic.objects.create)(library=library, label_id="Lama", label_en="Old",
                                                       is_active=False)
    patron, desk, conversation_id = await open_chat(librarian, token_for(identity))
    await desk.send({"type": "assess", "conversation": conversation_id, "topics": [topics[1].pk], "read_scale": 6})
    await desk.receive_type("assessment")
    again = await librarian_socket(librarian)
    welcome = again.welcome
    assert welcome["assessment"]["required"] is True
    assert [t["label_en"] for t in welcome["assessment"]["topics"]] == ["Membership", "Local history"]
    (held,) = welcome["conversations"]
    assert held["assessment"]["read_scale"] == 6
    assert [t["id"] for t in held["assessment"]["topics"]] == [topics[1].pk]
    for socket in (patron, desk, again):
        await socket.close()


async def test_topics_staff_change_reach_open_dashboards_with_their_library(librarian, library, topics):
    desk = await librarian_socket(librarian)
    assert desk.welcome["assessment"]["library"] == library.pk
    added = await database_sync_to_async(assessment.do_save_topic)(library=library, label_id="Peta", label_en="Maps")
    frame = await desk.receive_type("assessment.setup")
    assert frame["assessment"]["library"] == library.pk
    # in the order of their Indonesian labels: Keanggotaan, Peta, Sejarah lokal
    assert [t["label_en"] for t in frame["assessment"]["topics"]] == ["Membership", "Maps", "Local history"]
    await database_sync_to_async(assessment.do_set_topic_active)(topic=added, active=False)
    frame = await desk.receive_type("assessment.setup")
    assert "Maps" not in [t["label_en"] for t in frame["assessment"]["topics"]]
    await desk.close()


def test_a_new_holders_chat_carries_the_assessment(identity, librarian, topics):
    from reference import frames, selectors

    chat = held_chat(identity=identity, librarian=librarian)
    assess(librarian, chat, [topics[0].pk], 2, "policy")
    conversation = selectors.conversation_for_holder(chat.pk)
    payload = frames.conversation(conversation, for_librarian=True, messages=conversation.messages.all(),
                                  transfers=conversation.transfers.all())["conversation"]
    assert payload["assessment"]["read_scale"] == 2
    assert payload["assessment"]["question_type"] == "policy"
    assert "assessment" not in frames.conversation(conversation)["conversation"]


# ---- /staff/topics/

@pytest.fixture
def staff_client(client, librarian):
    client.force_login(librarian)
    return client


@pytest.fixture
def keeper_client(client, librarian):
    """A staff member who may add and change topics."""
    from django.contrib.auth.models import Permission

    librarian.user_permissions.add(*Permission.objects.filter(codename__in=["add_topic", "change_topic"]))
    client.force_login(librarian)
    return client


def test_staff_without_the_permission_read_the_list_only(staff_client, topics):
    page = staff_client.get("/staff/topics/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "Keanggotaan" in body and 'id="topics-readonly"' in body and 'name="action"' not in body
    refused = staff_client.post("/staff/topics/", {"action": "add", "new-label_id": "Anak", "new-label_en": "Children"})
    assert refused.status_code == 403
    assert not Topic.objects.filter(label_id="Anak").exists()


def test_a_keeper_adds_renames_and_retires_topics(keeper_client, library, topics):
    added = keeper_client.post("/staff/topics/", {"action": "add", "new-label_id": " Anak-anak ",
                                                  "new-label_en": "Children"})
    assert added.status_code == 302
    topic = Topic.objects.get(label_id="Anak-anak")
    assert (topic.label_en, topic.library_id, topic.is_active) == ("Children", library.pk, True)
    renamed = keeper_client.post(f"/staff/topics/{topic.pk}/", {"label_id": "Layanan anak", "label_en": "Children"})
    assert renamed.status_code == 302
    keeper_client.post("/staff/topics/", {"action": "deactivate", "topic": topic.pk})
    topic.refresh_from_db()
    assert (topic.label_id, topic.is_active) == ("Layanan anak", False)
    keeper_client.post("/staff/topics/", {"action": "reactivate", "topic": topic.pk})
    topic.refresh_from_db()
    assert topic.is_active


def test_a_duplicate_label_is_a_form_error_and_adds_nothing(keeper_client, topics):
    with translation.override("en"):
        page = keeper_client.post("/staff/topics/", {"action": "add", "new-label_id": "keanggotaan",
                                                     "new-label_en": "Members"}, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 400
    body = page.content.decode()
    assert "There is already a topic called “keanggotaan”." in body
    assert 'aria-invalid="true" aria-describedby="id_new-label_id_errors"' in body
    assert Topic.objects.count() == 2
    page = keeper_client.post(f"/staff/topics/{topics[0].pk}/",
                              {"label_id": "Keanggotaan", "label_en": "local HISTORY"})
    assert page.status_code == 400
    assert Topic.objects.get(pk=topics[0].pk).label_en == "Membership"


def test_start_from_the_faqs_topics_adds_those_missing(keeper_client, library, topics):
    from reference.faq.models import FaqEntry

    FaqEntry.objects.create(slug="a", question="?", answer="!", topics=["membership", "e-book", "local-history"])
    FaqEntry.objects.create(slug="b", question="?", answer="!", topics=["lost-and-found", "e-book"])
    FaqEntry.objects.create(slug="c", question="?", answer="!", topics=["old"], status=FaqEntry.Status.ARCHIVED)
    assert assessment.faq_topics_missing(library) == ["E-book", "Lost and found"]
    assert keeper_client.post("/staff/topics/", {"action": "faq"}).status_code == 302
    assert sorted(library.topics.values_list("label_id", "label_en")) == [
        ("E-book", "E-book"), ("Keanggotaan", "Membership"), ("Lost and found", "Lost and found"),
        ("Sejarah lokal", "Local history")]
    assert assessment.do_add_faq_topics(library=library) == 0


def test_the_dashboard_offers_every_question_type(staff_client):
    from reference.models import QuestionType

    body = staff_client.get("/dashboard/").content.decode()
    for value in QuestionType.values:
        assert f'<option value="{value}">' in body
    for level in range(1, 7):
        assert f'id="read-tip-{level}"' in body


def test_transcripts_show_and_filter_by_the_assessment(staff_client, identity, make_identity, librarian, topics):
    tagged = held_chat(identity=identity, librarian=librarian)
    assess(librarian, tagged, [topics[1].pk], 4, "research")
    lifecycle.do_close_by_librarian(user=librarian, conversation_id=tagged.pk)
    other = held_chat(identity=make_identity(), librarian=librarian, text="Jam buka?")
    lifecycle.do_close_by_librarian(user=librarian, conversation_id=other.pk)

    detail = staff_client.get(f"/staff/transcripts/{tagged.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Local history" in detail and "4 · Several sources" in detail and "Research" in detail
    listed = staff_client.get("/staff/transcripts/", {"topic": topics[1].pk}).content.decode()
    assert f"/staff/transcripts/{tagged.pk}/" in listed and f"/staff/transcripts/{other.pk}/" not in listed
    assert "READ 4" in listed


def test_the_former_holder_assesses_a_closed_chat_on_its_transcript(staff_client, identity, librarian,
                                                                   make_librarian, topics):
    conversation = held_chat(identity=identity, librarian=librarian)
    lifecycle.do_close_by_patron(patron_id=conversation.patron_id)
    page = f"/staff/transcripts/{conversation.pk}/"
    assert "Your assessment of this chat" in staff_client.get(page, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    before = stored(conversation)
    refused = staff_client.post(page, {"topics": [topics[0].pk], "read_scale": "9"}, HTTP_ACCEPT_LANGUAGE="en")
    assert refused.status_code == 400 and "Choose a READ scale value from 1 to 6." in refused.content.decode()
    assert staff_client.post(page, {"topics": ["99999999999999999999"]}).status_code == 400
    assert stored(conversation) == before  # nothing changed

    saved = staff_client.post(page, {"topics": [topics[0].pk, topics[1].pk], "read_scale": "3",
                                     "question_type": "policy"}, HTTP_ACCEPT_LANGUAGE="en", follow=True)
    assert "Assessment saved." in saved.content.decode()
    assert stored(conversation)[:3] == (sorted(t.pk for t in topics), 3, "policy")

    colleague = make_librarian("budi", "Budi")
    staff_client.force_login(colleague)  # staff who did not hold it read the assessment, no form
    assert "Your assessment of this chat" not in staff_client.get(page, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert staff_client.post(page, {"read_scale": "1"}).status_code == 403
    assert stored(conversation)[1] == 3


def test_the_demo_library_has_topics_in_both_languages():
    from io import StringIO

    from django.core.management import call_command

    from reference.management.commands.load_demo import DEMO_TOPICS

    call_command("load_demo", stdout=StringIO())
    call_command("load_demo", stdout=StringIO())  # safe to run twice
    library = Library.objects.get(sites__key="tebingtinggi-demo")
    assert sorted(library.topics.values_list("label_id", "label_en")) == sorted(DEMO_TOPICS)
