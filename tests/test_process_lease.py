"""A killed server process's librarians go offline for their colleagues without waiting for their
beats to run out: each process holds a lease in Redis, and its sockets count only while it lives
(reference.leases, docs/presence.md#dead-processes)."""

import time
import uuid

import pytest
from channels.db import database_sync_to_async
from django.conf import settings

from bench.client import Client
from reference.presence_store import MemoryPresenceStore, RedisPresenceStore
from tests.wsclient import login_cookie

needs_redis = pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL: leases are kept in Redis")


def _stores(*processes):
    prefix = f"rt:test-lease:{uuid.uuid4().hex[:8]}"
    return [RedisPresenceStore(settings.REDIS_URL, prefix, leases=True, process=p) for p in processes]


@needs_redis
def test_a_socket_counts_only_while_its_process_holds_its_lease():
    first, second = _stores("first", "second")
    first.beat(1, "socket-a", 60)  # a beat renews its process's lease
    second.beat(2, "socket-b", 60)
    second.beat(1, "socket-c", 60)  # librarian 1 has a tab on each process
    assert first.connected([1, 2]) == {1, 2}

    second.redis.delete(second._lease("second"))  # its lease ran out: the process died

    assert first.connected([1, 2]) == {1}
    assert second.reap() == set()  # a process never reaps itself
    assert first.reap() == {"1", "2"}
    assert first.reap() == set()  # once
    now = time.time()
    assert first.lapsed(now + 1) == ["2"]  # 2 is gone since the reap; 1 still has a live tab
    assert first.connected([1, 2], now=now) == {1}


@needs_redis
def test_a_reaped_process_that_was_only_slow_comes_back_with_its_next_beat():
    first, second = _stores("first", "second")
    first.renew_lease(30)
    second.beat(2, "socket-b", 60)
    second.redis.delete(second._lease("second"))
    assert first.reap() == {"2"}
    assert second.beat(2, "socket-b", 60) is True  # connected again: colleagues are told
    assert first.connected([2]) == {2}


def test_in_one_process_there_is_no_lease():
    store = MemoryPresenceStore()
    store.beat(1, "socket-a", 60)
    assert store.leases is False
    assert store.connected([1]) == {1}


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
@pytest.mark.skipif(not (settings.REDIS_URL and settings.DATABASE_URL),
                    reason="needs REDIS_URL and DATABASE_URL (the scale-out run of `make test`)")
async def test_colleagues_see_a_killed_process_librarian_offline(live_daphne, make_librarian):
    # Beats would keep a socket counted for five minutes: only the dead process's lease can end it.
    slow_beats = {"RT_PRESENCE_TIMEOUT": "300"}
    doomed, survivor = live_daphne(slow_beats), live_daphne(slow_beats)
    siti = await database_sync_to_async(make_librarian)("siti", "Siti")
    budi = await database_sync_to_async(make_librarian)("budi", "Budi")
    siti_desk = await Client.connect(doomed, "/ws/librarian/", await database_sync_to_async(login_cookie)(siti))
    await siti_desk.hello(lang="en")
    colleague = await Client.connect(survivor, "/ws/librarian/", await database_sync_to_async(login_cookie)(budi))
    welcome = await colleague.hello(lang="en")
    assert {p["id"]: p["connected"] for p in welcome["colleagues"]}[siti.pk] is True

    live_daphne.kill(doomed)

    # Generous: the lease (15 s), a renewal period and the surviving process's first reaping.
    gone = await colleague.wait_for(lambda f: f["type"] == "presence" and f["librarian"]["id"] == siti.pk
                                    and not f["librarian"]["connected"], timeout=90)
    assert gone["librarian"]["presence"] == "offline"
    await colleague.close()


@pytest.mark.django_db(transaction=True)
def test_a_librarian_on_duty_who_lapses_is_announced_and_their_spell_ends(librarian):
    """The sweep's clock is the stores' (seconds): the duty spell still ends as a datetime."""
    from reference import presence, sweeps
    from reference.models import DutySpell, LibrarianProfile
    from reference.presence_store import get_store

    then = time.time() - 100
    get_store().beat(librarian.pk, "socket-a", 60, now=then)
    presence.announce(LibrarianProfile.objects.get(user=librarian), now=then)
    assert LibrarianProfile.objects.get(user=librarian).on_duty_since is not None

    sweeps.requeue_lapsed(time.time())

    spell = DutySpell.objects.get(user=librarian)
    assert spell.ended_at > spell.started_at
    assert LibrarianProfile.objects.get(user=librarian).on_duty_since is None
