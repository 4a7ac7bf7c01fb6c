"""A waiting patron sees their place in the queue and an estimate, updated live."""

from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from reference import waiting
from reference.models import Conversation, Patron
from reference.presence_store import get_store
from tests.wsclient import librarian_socket, patron_socket


def make_waiting(site, queue, count, **fields):
    made = []
    for _ in range(count):
        patron = Patron.objects.create(site=site)
        made.append(Conversation.objects.create(patron=patron, site=site, queue=queue, subject="?", **fields))
    return made


def test_positions_are_oldest_first_with_no_estimate_without_history(site, queue):
    first, second = make_waiting(site, queue, 2)
    assert waiting.positions(queue.pk) == [(first.pk, 1, None), (second.pk, 2, None)]


def test_the_estimate_is_the_typical_wait_per_round_of_available_librarians(site, queue, make_librarian):
    # Recent history: chats in this queue were claimed after 60, 120 and 180 seconds (median 120).
    siti = make_librarian("siti", "Siti")
    for seconds in (60, 120, 180):
        (done,) = make_waiting(site, queue, 1)
        Conversation.objects.filter(pk=done.pk).update(
            status="closed", librarian=siti, assigned_at=done.created_at + timedelta(seconds=seconds),
            closed_at=timezone.now())
    waiting_now = make_waiting(site, queue, 3)
    assert [wait for _c, _p, wait in waiting.positions(queue.pk)] == [120, 240, 360]  # nobody on duty: 1 round each
    get_store().beat(siti.pk, "tab", 60)
    budi = make_librarian("budi", "Budi")
    get_store().beat(budi.pk, "tab", 60)
    assert [(c, p, w) for c, p, w in waiting.positions(queue.pk)] == [
        (waiting_now[0].pk, 1, 120), (waiting_now[1].pk, 2, 120), (waiting_now[2].pk, 3, 240)]


@pytest.mark.django_db(transaction=True)
async def test_patrons_see_their_place_move_up_live(make_identity, token_for, librarian):
    patrons = [await patron_socket(token_for(make_identity())) for _ in range(2)]
    ids = []
    for n, patron in enumerate(patrons):
        await patron.send({"type": "start", "client_id": f"p{n}", "text": f"Pertanyaan {n}"})
        place = await patron.receive_type("queue.position")
        ids.append(place["conversation"])
        assert (place["position"], place["estimated_wait"]) == (n + 1, None)
    desk = await librarian_socket(librarian)
    await desk.send({"type": "claim", "conversation": ids[0]})
    moved = await patrons[1].receive_type("queue.position")
    while moved["position"] != 1:
        moved = await patrons[1].receive_type("queue.position")
    assert moved["conversation"] == ids[1]
    # A reload while waiting says where the patron stands at once.
    again = await patron_socket(token_for(await database_sync_to_async(identity_of)(ids[1])))
    assert (await again.receive_type("queue.position"))["position"] == 1
    for socket in (*patrons, desk, again):
        await socket.close()


def identity_of(conversation_id):
    from reference.tokens import PatronIdentity

    conversation = Conversation.objects.select_related("site").get(pk=conversation_id)
    return PatronIdentity(site_key=conversation.site.key, patron_id=conversation.patron_id)


@pytest.mark.django_db(transaction=True)
async def test_a_patron_who_left_while_waiting_is_marked_abandoned_after_the_grace(
        make_identity, token_for, settings):
    import time

    from reference.sweeps import abandon_waiting

    stays, leaves, returns = (make_identity() for _ in range(3))
    sockets, ids = {}, {}
    for name, who in (("stays", stays), ("leaves", leaves), ("returns", returns)):
        sockets[name] = await patron_socket(token_for(who))
        await sockets[name].send({"type": "start", "client_id": "p", "text": f"Pertanyaan {name}"})
        ids[name] = (await sockets[name].receive_type("ack"))["conversation"]
    await sockets["leaves"].close()
    await sockets["returns"].close()
    sockets["returns"] = await patron_socket(token_for(returns))  # back within the grace period

    later = time.time() + settings.ABANDON_GRACE + 1
    await database_sync_to_async(abandon_waiting)(later)
    states = await database_sync_to_async(
        lambda: dict(Conversation.objects.values_list("pk", "status")))()
    assert (states[ids["stays"]], states[ids["leaves"]], states[ids["returns"]]) == ("queued", "closed", "queued")
    abandoned = await database_sync_to_async(Conversation.objects.get)(pk=ids["leaves"])
    assert abandoned.closed_by_role == "system"
    notice = await database_sync_to_async(lambda: abandoned.messages.last().text)()
    assert notice == "Pemustaka pergi sebelum pustakawan sempat menjawab."
    moved = await sockets["returns"].receive_type("queue.position")
    while moved["position"] != 2:  # the one who left no longer counts ahead
        moved = await sockets["returns"].receive_type("queue.position")
    for socket in (sockets["stays"], sockets["returns"]):
        await socket.close()


@pytest.mark.django_db(transaction=True)
async def test_a_patron_chooses_one_of_the_sites_queues(identity, token_for, site, other_queue, make_identity):
    await database_sync_to_async(site.queue_choices.set)([other_queue])
    patron = await patron_socket(token_for(identity))
    await patron.send({"type": "start", "client_id": "p", "text": "Buku anak?", "queue": other_queue.pk})
    conversation_id = (await patron.receive_type("ack"))["conversation"]
    chosen = await database_sync_to_async(lambda: Conversation.objects.get(pk=conversation_id).queue_id)()
    assert chosen == other_queue.pk
    stranger = await patron_socket(token_for(make_identity()))
    for queue_id in (999999, "2"):
        await stranger.send({"type": "start", "client_id": "s", "text": "Halo", "queue": queue_id})
        assert (await stranger.receive_type("error"))["code"] in {"unknown_queue", "invalid_frame"}
    assert await database_sync_to_async(Conversation.objects.count)() == 1
    for socket in (patron, stranger):
        await socket.close()
