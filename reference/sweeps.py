"""Repairs nobody has to trigger (lapsed librarians, unanswered offers, late chats, idle capacity):
run from every socket's heartbeat loop, but one process per
SWEEP_EVERY seconds does the work (a Redis turn when scaled out)."""

import time

from reference import handoff, presence, queueing, routing
from reference.events import on_database_thread
from reference.presence_store import get_store, off_db_thread

SWEEP_EVERY = 5  # seconds


async def run():
    """Called by every socket's heartbeat: only the winner of the turn touches the database."""
    if await off_db_thread(get_store().take_sweep_turn)(SWEEP_EVERY):
        await on_database_thread(sweep)(time.time())


def sweep(now):
    presence.sweep_lapsed(now)
    queueing.abandon_waiting(now)
    handoff.expire_offers()
    routing.sweep()
