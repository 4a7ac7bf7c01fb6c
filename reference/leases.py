"""This process's lease: how colleagues learn within seconds that a server process died.

A process killed outright (SIGKILL, out of memory, the machine gone) closes none of its sockets, so
its librarians would count as connected until their last beat ran out (RT_PRESENCE_TIMEOUT, 60 s).
Scaled out, every process that holds a librarian's socket keeps a lease instead: a Redis key with a
TTL of RT_PRESENCE_LEASE (15 s), renewed every third of that by one task per process, started with
the first librarian socket's beat. A socket counts only while its process's lease is alive
(reference.presence_store). The same task, in every process, reaps the processes whose lease ran
out: their sockets are dropped as if they had closed, and the sweep then announces those librarians
offline (and later requeues their chats, as for a closed laptop). A killed process's librarians are
offline for colleagues within the lease plus one renewal period (20 s at most, docs/presence.md).

Redis trouble must not look like everyone dying: a process reaps only after renewing its own lease
without a failure for a whole lease period, so every live process has had the time to renew too.
In one process (no REDIS_URL) none of this runs: the process's sockets live as long as it does.
"""

import asyncio
import logging
import time

from django.conf import settings

from reference import dbthreads
from reference.presence_store import off_db_thread

logger = logging.getLogger(__name__)

_holders = {}  # (store, event loop) -> the task renewing that store's lease from that loop


async def hold(store):
    """Make sure this process's lease in `store` is renewed from now on (each beat also renews it)."""
    if not store.leases:
        return
    loop = asyncio.get_running_loop()
    task = _holders.get((store, loop))
    if task is not None and not task.done():
        return
    for key in [key for key, held in _holders.items() if held.done() or held.get_loop().is_closed()]:
        del _holders[key]
    _holders[(store, loop)] = loop.create_task(_keep(store, healthy_since=time.monotonic()))


async def _keep(store, healthy_since):
    every = settings.PRESENCE_LEASE / 3
    while True:
        await asyncio.sleep(every)
        try:
            await off_db_thread(store.renew_lease)(settings.PRESENCE_LEASE)
        except Exception:  # Redis down or failing over: nobody can renew; reap nothing until it is back
            logger.warning("could not renew this process's presence lease", exc_info=True)
            healthy_since = None
            continue
        if healthy_since is None:
            healthy_since = time.monotonic()
        if time.monotonic() - healthy_since < settings.PRESENCE_LEASE:
            continue
        try:
            if await off_db_thread(store.reap)():
                await _sweep_now()
        except Exception:
            logger.exception("reaping dead processes' sockets failed")


async def _sweep_now():
    """Announce the librarians of a dead process now, not at the next socket's heartbeat."""
    from reference import sweeps  # sweeps → presence → leases

    await dbthreads.change(sweeps.sweep)(time.time())
