"""Repairs nobody has to trigger (lapsed librarians, unanswered offers, late chats, idle capacity):
run from every socket's heartbeat loop, but one process per
SWEEP_EVERY seconds does the work (a Redis turn when scaled out)."""

import time

from reference import handoff, presence, queueing, routing
from reference.presence_store import get_store

SWEEP_EVERY = 5  # seconds


def run():
    if get_store().take_sweep_turn(SWEEP_EVERY):
        now = time.time()
        presence.sweep_lapsed(now)
        queueing.abandon_waiting(now)
        handoff.expire_offers()
        routing.sweep()
