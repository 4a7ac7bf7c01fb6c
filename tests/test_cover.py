"""Cover agreements (reference.cover): a patron of library A answered by a librarian of library B
under an agreement, and refused without one, through the services and through the sockets."""

from datetime import timedelta

import pytest
from django.utils import timezone

from reference import cover, handoff, lifecycle, offline_questions, selectors
from reference.errors import ServiceError
from reference.models import Conversation, CoverAgreement, LibrarianProfile, Library, Message, Patron, Queue
from reference.presence_store import get_store
from tests.wsclient import ask, librarian_socket, patron_socket

POLICY = "Pinjaman 7 hari; kartu hilang: hubungi meja sirkulasi (0621-555)."
Always, AfterHours, Waiting = CoverAgreement.When.ALWAYS, CoverAgreement.When.AFTER_HOURS, CoverAgreement.When.WAITING


@pytest.fixture
def network(db, queue, site, make_librarian):
    """Library A (the fixtures' queue and site) with its librarian Siti; library B with its own
    queue and librarian Bima; library C with Citra. No agreement yet."""
    home = queue.library
    covering = Library.objects.create(name="Perpustakaan Sekolah B")
    third = Library.objects.create(name="Perpustakaan C")
    queue_b = Queue.objects.create(name="Umum B", slug="umum-b", library=covering)
    queue_c = Queue.objects.create(name="Umum C", slug="umum-c", library=third)
    siti = make_librarian("siti", "Siti")
    bima = make_librarian("bima", "Bima", queues=[queue_b])
    citra = make_librarian("citra", "Citra", queues=[queue_c])
    LibrarianProfile.objects.filter(user=bima).update(library=covering)
    LibrarianProfile.objects.filter(user=citra).update(library=third)
    return {"home": home, "covering": covering, "queue": queue, "queue_b": queue_b, "siti": siti, "bima": bima,
            "citra": citra, "site": site}


def agree(net, when=Always, **fields):
    agreement = CoverAgreement.objects.create(home=net["home"], covering=net["covering"], when=when,
                                              policy_notes=POLICY, **fields)
    agreement.queues.set([net["queue"]])
    return agreement


def asked(net, email="rina@example.org", minutes_ago=0):
    patron = Patron.objects.create(site=net["site"], name="Rina", email=email)
    conversation = Conversation.objects.create(patron=patron, site=net["site"], queue=net["queue"],
                                               subject="Boleh pinjam 5 buku?")
    Message.objects.create(conversation=conversation, seq=1, role="patron", text="Boleh pinjam 5 buku?")
    Conversation.objects.filter(pk=conversation.pk).update(
        last_seq=1, queued_at=timezone.now() - timedelta(minutes=minutes_ago))
    return conversation


def claim_refused(user, conversation):
    with pytest.raises(ServiceError) as refused:
        lifecycle.do_claim(user=user, conversation_id=conversation.pk)
    conversation.refresh_from_db()
    assert (conversation.status, conversation.librarian_id, conversation.cover_agreement_id) == ("queued", None, None)
    return refused.value.code


# ---- who may take a chat

def test_without_an_agreement_another_library_can_neither_see_nor_take_the_chat(network):
    conversation = asked(network)
    assert claim_refused(network["bima"], conversation) == "no_cover_agreement"
    assert cover.coverable({network["covering"].pk}) == []
    assert conversation.pk not in [c["id"] for c in selectors.librarian_welcome(
        network["bima"], queue_ids=[network["queue_b"].pk], since={})["waiting"]]


def test_under_an_agreement_the_covering_librarian_takes_the_chat_and_the_patron_sees_who_answers(network):
    agreement = agree(network)
    conversation = asked(network)
    welcome = selectors.librarian_welcome(network["bima"], queue_ids=[network["queue_b"].pk], since={})
    (covered,) = [c for c in welcome["waiting"] if c["id"] == conversation.pk]
    assert covered["cover"]["home_library"] == {"id": network["home"].pk, "name": network["home"].name}
    assert covered["cover"]["policy_notes"] == POLICY
    assert covered["cover"]["return_queues"] == [{"id": network["queue"].pk, "name": "Umum"}]

    lifecycle.do_claim(user=network["bima"], conversation_id=conversation.pk)
    conversation = selectors.conversation_for_holder(conversation.pk)
    assert (conversation.status, conversation.cover_agreement, conversation.covering_library) == (
        "active", agreement, network["covering"])
    patron_view = lifecycle.frames.conversation_payload(conversation)
    assert patron_view["answered_by"] == {"library": "Perpustakaan Sekolah B", "home_library": network["home"].name}
    assert "cover" not in patron_view


def test_the_transcript_stays_the_home_librarys(network):
    agree(network)
    conversation = asked(network)
    lifecycle.do_claim(user=network["bima"], conversation_id=conversation.pk)
    lifecycle.do_close_by_librarian(user=network["bima"], conversation_id=conversation.pk)
    readers = {name: Conversation.objects.filter(selectors.visible_transcripts(network[name]), pk=conversation.pk)
               .exists() for name in ("siti", "bima", "citra")}
    assert readers == {"siti": True, "bima": True, "citra": False}
    colleague_of_bima = LibrarianProfile.objects.create(
        user=type(network["bima"]).objects.create_user("bayu", is_staff=True), display_name="Bayu",
        library=network["covering"]).user
    unseen = Conversation.objects.filter(selectors.visible_transcripts(colleague_of_bima), pk=conversation.pk)
    assert not unseen.exists()


@pytest.mark.parametrize(("fields", "code"), [
    ({"is_active": False}, "cover_ended"),
    ({"ends_on": timezone.localdate() - timedelta(days=1)}, "cover_ended"),
    ({"starts_on": timezone.localdate() + timedelta(days=2)}, "cover_not_started"),
    ({"hours": "mon-sun 00:00-00:01"}, "cover_outside_hours"),
])
def test_an_agreement_that_ended_has_not_started_or_is_outside_its_hours_gives_a_clear_refusal(network, fields, code):
    agree(network, **fields)
    conversation = asked(network)
    assert claim_refused(network["bima"], conversation) == code
    assert cover.coverable({network["covering"].pk}) == []


def test_an_agreement_for_another_queue_or_another_library_gives_no_access(network, other_queue):
    agreement = agree(network)
    agreement.queues.set([other_queue])
    conversation = asked(network)
    assert claim_refused(network["bima"], conversation) == "no_cover_agreement"
    assert claim_refused(network["citra"], conversation) == "no_cover_agreement"


def test_after_hours_the_partner_covers_only_while_the_home_queue_is_closed(network):
    agree(network, when=AfterHours)
    conversation = asked(network)
    assert claim_refused(network["bima"], conversation) == "cover_home_open"  # no hours: always open
    Queue.objects.filter(pk=network["queue"].pk).update(opening_hours="mon-sun 00:00-00:01")
    conversation.refresh_from_db()
    lifecycle.do_claim(user=network["bima"], conversation_id=conversation.pk)
    assert Conversation.objects.get(pk=conversation.pk).librarian_id == network["bima"].pk


def test_a_waiting_agreement_lets_the_partner_in_only_after_the_minutes_set(network):
    agree(network, when=Waiting, wait_minutes=5)
    fresh, old = asked(network, minutes_ago=1), asked(network, minutes_ago=6)
    assert claim_refused(network["bima"], fresh) == "cover_not_due"
    assert [c.pk for c, _agreement in cover.coverable({network["covering"].pk})] == [old.pk]
    lifecycle.do_claim(user=network["bima"], conversation_id=old.pk)


def test_the_home_librarys_own_members_claim_as_before(network):
    agree(network)
    conversation = asked(network)
    lifecycle.do_claim(user=network["siti"], conversation_id=conversation.pk)
    conversation.refresh_from_db()
    assert (conversation.cover_agreement_id, conversation.covering_library_id) == (None, None)


# ---- handing back

@pytest.fixture
def covered(network):
    agree(network)
    conversation = asked(network)
    lifecycle.do_claim(user=network["bima"], conversation_id=conversation.pk)
    return conversation


def test_a_covering_librarian_sends_the_chat_back_to_a_home_queue_with_a_note(network, covered):
    handoff.do_transfer_to_queue(user=network["bima"], conversation_id=covered.pk, queue_id=network["queue"].pk,
                                 note="Perlu cek status kartu di sistem A.")
    covered.refresh_from_db()
    assert (covered.status, covered.queue_id, covered.librarian_id) == ("queued", network["queue"].pk, None)
    assert (covered.cover_agreement_id, covered.covering_library_id) == (None, network["covering"].pk)
    assert covered.transfers.get().note == "Perlu cek status kartu di sistem A."


def test_a_covering_librarian_cannot_move_the_chat_into_their_own_librarys_queues(network, covered):
    with pytest.raises(ServiceError) as refused:
        handoff.do_transfer_to_queue(user=network["bima"], conversation_id=covered.pk,
                                     queue_id=network["queue_b"].pk)
    assert refused.value.code == "unknown_queue"
    covered.refresh_from_db()
    assert (covered.status, covered.queue_id) == ("active", network["queue"].pk)


def test_a_chat_is_offered_only_to_librarians_of_its_library_or_the_covering_one(network, covered):
    for user in (network["siti"], network["citra"]):
        get_store().beat(user.pk, f"tab-{user.pk}", 60)
    with pytest.raises(ServiceError) as refused:
        handoff.do_offer_transfer(user=network["bima"], conversation_id=covered.pk, to_user_id=network["citra"].pk)
    assert refused.value.code == "unknown_librarian"
    offer = handoff.do_offer_transfer(user=network["bima"], conversation_id=covered.pk,
                                      to_user_id=network["siti"].pk)
    handoff.do_accept_transfer(user=network["siti"], transfer_id=offer.pk)
    covered.refresh_from_db()
    assert (covered.librarian_id, covered.cover_agreement_id, covered.covering_library_id) == (
        network["siti"].pk, None, network["covering"].pk)


def test_a_covering_librarian_leaves_the_question_for_the_home_library_to_answer_by_email(network, covered):
    handoff.do_return_offline(user=network["bima"], conversation_id=covered.pk, note="Tanya soal denda.")
    covered.refresh_from_db()
    assert (covered.status, covered.is_offline, covered.first_response_at) == ("closed", True, None)
    assert covered.pk in [c.pk for c in offline_questions.waiting_questions(network["home"])]
    assert covered.pk not in [c.pk for c in offline_questions.waiting_questions(network["covering"])]
    notice = covered.messages.order_by("seq").last().text
    assert network["home"].name in notice and "rina@example.org" in notice
    answer = lifecycle.do_answer_offline_question(user=network["siti"], conversation_id=covered.pk,
                                                  text="Denda Rp500 per hari.")
    assert answer.author_id == network["siti"].pk


@pytest.mark.parametrize(("who", "email", "code"), [
    ("bima", "", "patron_email_missing"), ("siti", "rina@example.org", "not_assigned"),
])
def test_leaving_for_email_needs_an_address_and_the_holder(network, who, email, code):
    agree(network)
    conversation = asked(network, email=email)
    lifecycle.do_claim(user=network["bima"], conversation_id=conversation.pk)
    with pytest.raises(ServiceError) as refused:
        handoff.do_return_offline(user=network[who], conversation_id=conversation.pk)
    assert refused.value.code == code
    assert Conversation.objects.get(pk=conversation.pk).status == "active"


def test_leaving_for_email_is_only_for_a_covered_chat(network):
    conversation = asked(network)
    lifecycle.do_claim(user=network["siti"], conversation_id=conversation.pk)
    with pytest.raises(ServiceError) as refused:
        handoff.do_return_offline(user=network["siti"], conversation_id=conversation.pk)
    assert refused.value.code == "not_covered"


# ---- the desk stays open while a partner covers it

def test_after_the_home_librarys_hours_the_desk_is_open_when_a_partner_is_on_duty(network):
    Queue.objects.filter(pk=network["queue"].pk).update(opening_hours="mon-sun 00:00-00:01")
    offline_questions.forget_desk_states()
    assert offline_questions.desk_state(network["queue"].pk)["open"] is False
    agree(network, when=AfterHours)
    get_store().beat(network["bima"].pk, "tab-bima", 60)
    offline_questions.forget_desk_states()
    assert offline_questions.desk_state(network["queue"].pk) == {
        "open": True, "reason": None, "hours": "mon-sun 00:00-00:01"}


# ---- through the sockets

@pytest.mark.django_db(transaction=True)
async def test_a_new_chat_reaches_the_covering_librarys_dashboards_and_no_others(network, token_for, make_identity):
    from channels.db import database_sync_to_async

    await database_sync_to_async(agree)(network)
    bima = await librarian_socket(network["bima"])
    citra = await librarian_socket(network["citra"])
    siti = await librarian_socket(network["siti"])
    patron = await patron_socket(token_for(make_identity()))
    conversation_id = await ask(patron, text="Boleh pinjam 5 buku?", name="Rina", email="rina@example.org")
    added = await bima.receive_type("queue.added")
    assert (added["conversation"]["id"], added["conversation"]["cover"]["policy_notes"]) == (conversation_id, POLICY)
    own = await siti.receive_type("queue.added")
    assert own["conversation"]["cover"] is None
    assert await citra.nothing_more()

    await bima.send({"type": "claim", "conversation": conversation_id})
    held = await bima.receive_type("conversation")
    assert held["conversation"]["cover"]["home_library"]["name"] == network["home"].name
    while True:
        seen = (await patron.receive_type("conversation"))["conversation"]
        if seen["status"] == "active":
            break
    assert seen["answered_by"]["library"] == "Perpustakaan Sekolah B"
    for socket in (bima, citra, siti, patron):
        await socket.close()


@pytest.mark.django_db(transaction=True)
async def test_a_claim_without_an_agreement_is_an_error_frame_and_changes_nothing(network, token_for, make_identity):
    citra = await librarian_socket(network["citra"])
    patron = await patron_socket(token_for(make_identity()))
    conversation_id = await ask(patron)
    await citra.send({"type": "claim", "conversation": conversation_id})
    error = await citra.receive_type("error")
    assert error["code"] == "no_cover_agreement" and error["message"]
    from channels.db import database_sync_to_async
    status = await database_sync_to_async(lambda: Conversation.objects.get(pk=conversation_id).status)()
    assert status == "queued"
    await citra.close()
    await patron.close()


@pytest.mark.django_db(transaction=True)
async def test_the_sweep_sends_the_covered_list_when_an_agreement_comes_into_force(network, token_for, make_identity):
    from channels.db import database_sync_to_async

    from reference import sweeps

    bima = await librarian_socket(network["bima"])
    patron = await patron_socket(token_for(make_identity()))
    conversation_id = await ask(patron)
    assert await bima.nothing_more()
    await database_sync_to_async(agree)(network)
    await database_sync_to_async(sweeps.sweep)(timezone.now().timestamp())
    listed = await bima.receive_type("cover.waiting")
    assert [c["id"] for c in listed["conversations"]] == [conversation_id]
    await database_sync_to_async(CoverAgreement.objects.update)(is_active=False)
    await database_sync_to_async(sweeps.sweep)(timezone.now().timestamp())
    assert (await bima.receive_type("cover.waiting"))["conversations"] == []
    await bima.close()
    await patron.close()



def test_a_covering_librarian_sees_the_chat_but_not_the_home_librarys_notes_about_the_patron(network):
    from reference.notes import do_add_note

    agree(network)
    earlier = asked(network)
    lifecycle.do_claim(user=network["siti"], conversation_id=earlier.pk)
    do_add_note(user=network["siti"], conversation_id=earlier.pk, text="Sering terlambat mengembalikan.",
                about="patron")
    lifecycle.do_close_by_librarian(user=network["siti"], conversation_id=earlier.pk)
    conversation = Conversation.objects.create(patron=earlier.patron, site=network["site"], queue=network["queue"],
                                               subject="Perpanjang pinjaman?")
    lifecycle.do_claim(user=network["bima"], conversation_id=conversation.pk)
    do_add_note(user=network["bima"], conversation_id=conversation.pk, text="Sudah dijelaskan aturan A.")
    seen = selectors.holder_workbench(selectors.conversation_for_holder(conversation.pk))
    assert [n.text for n in seen["notes"]] == ["Sudah dijelaskan aturan A."]
    assert seen["history"] == []
    (held,) = selectors.librarian_welcome(network["bima"], queue_ids=[], since={})["conversations"]
    assert [n["text"] for n in held["notes"]] == ["Sudah dijelaskan aturan A."]
    at_home = selectors.holder_workbench(selectors.conversation_for_holder(conversation.pk), viewer=network["siti"])
    assert "Sering terlambat mengembalikan." in [n.text for n in at_home["notes"]]


def test_only_the_home_librarys_staff_answer_a_question_left_for_it(network, covered):
    handoff.do_return_offline(user=network["bima"], conversation_id=covered.pk)
    with pytest.raises(ServiceError) as refused:
        lifecycle.do_answer_offline_question(user=network["citra"], conversation_id=covered.pk, text="Jawaban C")
    assert refused.value.code == "not_found"
    covered.refresh_from_db()
    assert (covered.first_response_at, covered.messages.filter(text="Jawaban C").exists()) == (None, False)
