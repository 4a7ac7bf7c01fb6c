"""Handoff: to a colleague who accepts or declines in time, or to another queue, with a note."""

import json
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from reference import frames, handoff
from reference.errors import ServiceError
from reference.lifecycle import do_claim
from reference.models import Conversation, LibrarianProfile, Message, Patron, Transfer
from reference.presence_store import get_store
from tests.wsclient import ask, librarian_socket, patron_socket

NOTE = "Pemustaka mencari arsip koran 1970-an; sudah saya cek katalog umum."


def on_duty(user):
    get_store().beat(user.pk, f"tab-{user.pk}", 60)
    return user


@pytest.fixture
def desk(site, queue, make_librarian):
    """Siti holds a chat; Budi is on duty in the same queue."""
    siti = on_duty(make_librarian("siti", "Siti"))
    budi = on_duty(make_librarian("budi", "Budi"))
    patron = Patron.objects.create(site=site, name="Rina")
    conversation = Conversation.objects.create(patron=patron, site=site, queue=queue, subject="Arsip koran?")
    Message.objects.create(conversation=conversation, seq=1, role="patron", text="Arsip koran?")
    Conversation.objects.filter(pk=conversation.pk).update(last_seq=1)
    do_claim(user=siti, conversation_id=conversation.pk)
    return siti, budi, conversation


def state(conversation):
    conversation.refresh_from_db()
    return conversation.status, conversation.librarian_id, conversation.queue_id, conversation.last_seq


def test_an_accepted_transfer_moves_the_chat_with_its_history(desk):
    siti, budi, conversation = desk
    offer = handoff.do_offer_transfer(user=siti, conversation_id=conversation.pk, to_user_id=budi.pk, note=NOTE)
    assert state(conversation)[1] == siti.pk  # Siti holds it until Budi answers
    handoff.do_accept_transfer(user=budi, transfer_id=offer.pk)
    assert state(conversation)[:2] == ("active", budi.pk)
    last = conversation.messages.order_by("seq").last()
    assert (last.role, last.text) == ("system", "Budi telah mengambil alih obrolan.")
    assert list(conversation.messages.values_list("seq", flat=True)) == [1, 2, 3]  # join notice, takeover
    (record,) = [frames.transfer_payload(t, conversation) for t in conversation.transfers.all()]
    assert (record["status"], record["from"], record["to"], record["note"]) == ("accepted", "Siti", "Budi", NOTE)


def test_a_declined_or_unanswered_offer_leaves_the_chat_with_the_sender(desk):
    siti, budi, conversation = desk
    before = state(conversation)
    offer = handoff.do_offer_transfer(user=siti, conversation_id=conversation.pk, to_user_id=budi.pk)
    handoff.do_decline_transfer(user=budi, transfer_id=offer.pk)
    assert state(conversation) == before
    offer = handoff.do_offer_transfer(user=siti, conversation_id=conversation.pk, to_user_id=budi.pk)
    handoff.do_expire_transfers(now=timezone.now() + timedelta(minutes=5))
    assert Transfer.objects.get(pk=offer.pk).status == "expired"
    with pytest.raises(ServiceError) as error:
        handoff.do_accept_transfer(user=budi, transfer_id=offer.pk)
    assert error.value.code == "offer_expired"
    assert state(conversation) == before
    assert list(Transfer.objects.values_list("status", flat=True)) == ["declined", "expired"]


def test_a_transfer_to_another_queue_waits_there_with_its_note(desk, other_queue):
    siti, _budi, conversation = desk
    handoff.do_transfer_to_queue(user=siti, conversation_id=conversation.pk, queue_id=other_queue.pk, note=NOTE)
    assert state(conversation)[:3] == ("queued", None, other_queue.pk)
    assert "Anak-anak" in conversation.messages.order_by("seq").last().text
    assert Transfer.objects.get().status == "requeued"


@pytest.mark.parametrize(("target", "code"), [
    ("nobody", "unknown_librarian"),
    ("self", "transfer_to_self"),
    ("offline", "librarian_unavailable"),
    ("away", "librarian_unavailable"),
    ("full", "librarian_full"),
])
def test_a_transfer_to_someone_who_cannot_take_it_is_refused(desk, make_librarian, target, code):
    siti, budi, conversation = desk
    if target == "nobody":
        to_user_id = 999999
    elif target == "self":
        to_user_id = siti.pk
    elif target == "offline":
        to_user_id = make_librarian("dewi", "Dewi").pk  # never connected
    elif target == "away":
        LibrarianProfile.objects.filter(user=budi).update(status="away")
        to_user_id = budi.pk
    else:
        LibrarianProfile.objects.filter(user=budi).update(max_chats=1)
        other = Conversation.objects.create(patron=Patron.objects.create(site=conversation.site),
                                            site=conversation.site, queue=conversation.queue, subject="?")
        do_claim(user=budi, conversation_id=other.pk)
        to_user_id = budi.pk
    before = state(conversation)
    with pytest.raises(ServiceError) as error:
        handoff.do_offer_transfer(user=siti, conversation_id=conversation.pk, to_user_id=to_user_id)
    assert error.value.code == code and error.value.message
    assert state(conversation) == before and not Transfer.objects.exists()


def test_other_bad_transfers_change_nothing(desk):
    siti, budi, conversation = desk
    before = state(conversation)
    cases = [
        (lambda: handoff.do_transfer_to_queue(user=siti, conversation_id=conversation.pk, queue_id=999999),
         "unknown_queue"),
        (lambda: handoff.do_transfer_to_queue(user=budi, conversation_id=conversation.pk,
                                              queue_id=conversation.queue_id), "not_assigned"),
        (lambda: handoff.do_offer_transfer(user=siti, conversation_id=conversation.pk, to_user_id=budi.pk,
                                           note="x" * 2001), "note_too_long"),
        (lambda: handoff.do_offer_transfer(user=siti, conversation_id=999999, to_user_id=budi.pk), "not_found"),
        (lambda: handoff.do_accept_transfer(user=budi, transfer_id=999999), "not_found"),
    ]
    for attempt, code in cases:
        with pytest.raises(ServiceError) as error:
            attempt()
        assert error.value.code == code
    assert state(conversation) == before and not Transfer.objects.exists()
    offer = handoff.do_offer_transfer(user=siti, conversation_id=conversation.pk, to_user_id=budi.pk)
    with pytest.raises(ServiceError) as error:
        handoff.do_offer_transfer(user=siti, conversation_id=conversation.pk, to_user_id=budi.pk)
    assert error.value.code == "transfer_pending"
    with pytest.raises(ServiceError) as error:
        handoff.do_accept_transfer(user=siti, transfer_id=offer.pk)  # not offered to her
    assert error.value.code == "not_found"


@pytest.mark.django_db(transaction=True)
async def test_a_transfer_over_websockets_while_the_patron_watches(identity, token_for, make_librarian):
    siti = await database_sync_to_async(make_librarian)("siti", "Siti")
    budi = await database_sync_to_async(make_librarian)("budi", "Budi")
    sender, receiver = await librarian_socket(siti), await librarian_socket(budi)
    patron = await patron_socket(token_for(identity))
    conversation_id = await ask(patron, "Arsip koran 1970?", "p-1")
    await sender.send({"type": "claim", "conversation": conversation_id})
    await sender.receive_type("conversation")

    await sender.send({"type": "transfer", "conversation": conversation_id, "to_librarian": budi.pk, "note": NOTE})
    offer = (await receiver.receive_type("transfer"))["transfer"]
    assert (offer["status"], offer["from"], offer["note"], offer["conversation"]) == (
        "offered", "Siti", NOTE, conversation_id)
    await receiver.send({"type": "transfer.accept", "transfer": offer["id"]})
    taken = await receiver.receive_type("conversation")
    while taken["conversation"].get("messages") is None:
        taken = await receiver.receive_type("conversation")
    assert [m["seq"] for m in taken["conversation"]["messages"]] == [1, 2, 3]
    assert taken["conversation"]["transfers"][0]["note"] == NOTE
    released = await sender.receive_type("conversation.released")
    assert (released["conversation"], released["reason"], released["to"]) == (conversation_id, "transferred", "Budi")

    seen = await patron.receive_type("conversation")
    while seen["conversation"]["librarian"] != {"name": "Budi"}:
        seen = await patron.receive_type("conversation")
    patron_frames = json.dumps(seen)
    assert "Pemustaka" not in patron_frames  # the note is for librarians only
    await receiver.send({"type": "message", "conversation": conversation_id, "client_id": "b-1", "text": "Halo"})
    assert (await patron.receive_message(role="librarian"))["seq"] == 4  # no gap
    await sender.send({"type": "message", "conversation": conversation_id, "client_id": "s-9", "text": "Masih?"})
    assert (await sender.receive_type("error"))["code"] == "not_assigned"
    for socket in (sender, receiver, patron):
        await socket.close()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("frame", "code"), [
    ({"type": "transfer", "conversation": 1}, "invalid_frame"),
    ({"type": "transfer", "conversation": 1, "to_librarian": 2, "to_queue": 3}, "invalid_frame"),
    ({"type": "transfer", "conversation": 1, "to_queue": "3"}, "invalid_frame"),
    ({"type": "transfer.accept"}, "invalid_frame"),
    ({"type": "transfer.accept", "transfer": 999999}, "not_found"),
    ({"type": "transfer.decline", "transfer": 999999}, "not_found"),
])
async def test_malformed_transfer_frames_are_refused(librarian, frame, code):
    socket = await librarian_socket(librarian)
    await socket.send(frame)
    assert (await socket.receive_type("error"))["code"] == code
    await socket.close()


def test_transfers_are_recorded_in_the_transcript(desk, other_queue, client):
    siti, _budi, conversation = desk
    handoff.do_transfer_to_queue(user=siti, conversation_id=conversation.pk, queue_id=other_queue.pk, note="<b>" + NOTE)
    client.force_login(siti)
    page = client.get(f"/staff/transcripts/{conversation.pk}/").content.decode()
    assert "Siti →" in page and "Anak-anak" in page
    assert "&lt;b&gt;" + NOTE in page  # the note is escaped
