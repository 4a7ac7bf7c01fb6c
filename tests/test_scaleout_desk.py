"""Presence, queue position, transfer and a crashed process, across two daphne processes on the
real PostgreSQL and Redis (the scale-out run of `make test`)."""

import asyncio
import contextlib
import time

import pytest
from channels.db import database_sync_to_async
from django.conf import settings

from bench.client import Client
from reference.models import Queue
from reference.tokens import issue_patron_token
from tests.wsclient import login_cookie

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not (settings.REDIS_URL and settings.DATABASE_URL),
                       reason="needs REDIS_URL and DATABASE_URL (the scale-out run of `make test`)"),
]

FAST = {"RT_HEARTBEAT_INTERVAL": "1", "RT_PRESENCE_TIMEOUT": "4", "RT_REQUEUE_GRACE": "2"}


async def librarian(url, user):
    client = await Client.connect(url, "/ws/librarian/", await database_sync_to_async(login_cookie)(user))
    await client.hello()

    async def beat():  # the dashboard's own heartbeat, as dashboard.js sends it
        with contextlib.suppress(Exception):
            while True:
                await asyncio.sleep(1)
                await client.send(type="heartbeat")
    client.beats = asyncio.create_task(beat())
    return client


def presence_of(name, state):
    return lambda f: f["type"] == "presence" and f["librarian"]["name"] == name and f["librarian"]["presence"] == state


async def test_the_desk_agrees_across_processes_and_survives_a_killed_one(live_daphne, site, make_librarian):
    first, second = live_daphne(FAST), live_daphne(FAST)
    budi = await database_sync_to_async(make_librarian)("budi", "Budi")
    siti = await database_sync_to_async(make_librarian)("siti", "Siti")
    on_first = await librarian(first, budi)
    on_second = await librarian(second, siti)
    await on_first.wait_for(presence_of("Siti", "available"))  # presence crosses processes

    patron = await Client.connect(first, "/ws/patron/")
    welcome = await patron.hello(token=issue_patron_token(site.key))
    assert welcome["desk"]["open"] is True  # Siti and Budi are on duty, whichever process they use
    await patron.send(type="start", client_id="p-1", text="Arsip koran 1970?")
    conversation_id = (await patron.wait_for(lambda f: f["type"] == "ack"))["conversation"]
    assert (await patron.wait_for(lambda f: f["type"] == "queue.position"))["position"] == 1
    await on_second.wait_for(lambda f: f["type"] == "queue.added" and f["conversation"]["id"] == conversation_id)

    # Budi claims on the first process and hands the chat to Siti on the second.
    await on_first.send(type="claim", conversation=conversation_id)
    await on_first.wait_for(lambda f: f["type"] == "conversation" and f["conversation"].get("messages"))
    await on_first.send(type="transfer", conversation=conversation_id, to_librarian=siti.pk, note="Koran lama")
    offer = await on_second.wait_for(lambda f: f["type"] == "transfer" and f["transfer"]["status"] == "offered")
    assert offer["transfer"]["note"] == "Koran lama"
    await on_second.send(type="transfer.accept", transfer=offer["transfer"]["id"])
    await patron.wait_for(lambda f: f["type"] == "conversation"
                          and (f["conversation"]["librarian"] or {}).get("name") == "Siti")
    await on_first.wait_for(lambda f: f["type"] == "conversation.released")

    # Automatic routing: a chat asked on the second process is offered to the less busy Budi on
    # the first (Siti holds one), who accepts by claiming.
    await database_sync_to_async(Queue.objects.filter(pk=site.default_queue_id).update)(routing="auto")
    second_patron = await Client.connect(second, "/ws/patron/")
    await second_patron.hello(token=issue_patron_token(site.key))
    await second_patron.send(type="start", client_id="p-2", text="Jam buka Sabtu?")
    routed_id = (await second_patron.wait_for(lambda f: f["type"] == "ack"))["conversation"]
    offer = await on_first.wait_for(lambda f: f["type"] == "assignment" and f["offer"]["status"] == "offered")
    assert offer["offer"]["conversation"]["id"] == routed_id
    await on_first.send(type="claim", conversation=routed_id)
    await second_patron.wait_for(lambda f: f["type"] == "conversation"
                                 and (f["conversation"]["librarian"] or {}).get("name") == "Budi")
    await second_patron.close()

    # The second process dies with Siti's chat: she goes offline and the chat goes back to the queue.
    killed_at = time.monotonic()
    live_daphne.kill(second)
    await on_first.wait_for(presence_of("Siti", "offline"), timeout=30)
    offline_after = time.monotonic() - killed_at
    back = await on_first.wait_for(lambda f: f["type"] == "queue.added" and f["conversation"]["id"] == conversation_id,
                                   timeout=30)
    assert back["conversation"]["status"] == "queued"
    notice = await patron.wait_for(lambda f: f["type"] == "message" and "Siti" in f["message"]["text"]
                                   and f["message"]["role"] == "system" and f["message"]["seq"] > 3)
    assert "antrean" in notice["message"]["text"]
    assert offline_after < 4 + 5 + 2  # presence timeout + one sweep period + slack
    print(f"\nSiti was shown offline {offline_after:.1f} s after her process was killed")

    # Budi goes away: nobody is on duty, so a new patron is offered to leave a question instead.
    await on_first.send(type="status", status="away")
    await on_first.wait_for(presence_of("Budi", "away"))
    deadline = time.monotonic() + 20  # each process caches the desk state for 10 s
    while True:
        late = await Client.connect(first, "/ws/patron/")
        desk = (await late.hello(token=issue_patron_token(site.key)))["desk"]
        if desk["open"] is False or time.monotonic() > deadline:
            break
        await late.close()
        await asyncio.sleep(1)
    assert desk == {"open": False, "reason": "nobody", "hours": ""}
    await late.send(type="start", client_id="q-1", text="Bisa perpanjang lewat telepon?", offline=True,
                    email="rina@example.org")
    left = await late.wait_for(lambda f: f["type"] == "conversation")
    assert left["conversation"]["offline"] is True
    await late.close()
    for client in (on_first, patron):
        await client.close()
    on_second.beats.cancel()
    on_first.beats.cancel()
