"""Repairs nobody has to trigger (lapsed librarians, patrons who left, unanswered offers, late
chats, idle capacity): run from every socket's heartbeat loop, but one process per SWEEP_EVERY
seconds does the work (a Redis turn when scaled out). Each finds what is due by its own module's
rules and makes the change through reference.lifecycle."""

import time

from django.db import transaction

from reference import cover, dbthreads, duty, handoff, lifecycle, presence, routing, selectors
from reference.presence_store import get_store, off_db_thread

SWEEP_EVERY = 5  # seconds


async def run():
    """Called by every socket's heartbeat: only the winner of the turn touches the database."""
    if await off_db_thread(get_store().take_sweep_turn)(SWEEP_EVERY):
        await dbthreads.change(sweep)(time.time())


def sweep(now, outbox=None):
    requeue_lapsed(now, outbox)
    abandon_waiting(now, outbox)
    handoff.do_expire_transfers(outbox=outbox)
    routing.do_expire_assignments(outbox=outbox)
    roll_over(outbox=outbox)
    routing.do_assign_all(outbox)
    cover.publish_waiting(outbox)  # agreements come into force, chats wait long enough


def requeue_lapsed(now, outbox=None):
    """Librarians gone past the grace period (none of their staff pages open): their chats go back
    to the queue, each recorded for their return in the requeue's own transaction (reference.duty)."""
    for user_id in presence.lapsed_librarians(now, outbox):
        for conversation_id in selectors.held_ids(user_id):
            with transaction.atomic():
                if lifecycle.do_requeue(conversation_id=conversation_id, librarian_id=user_id, outbox=outbox):
                    duty.do_record_requeued(user_id=user_id, conversation_id=conversation_id, outbox=outbox)
        presence.forget_librarian(user_id, now, outbox)


def abandon_waiting(now, outbox=None):
    for conversation_id in presence.abandoned_chats(now):
        lifecycle.do_abandon(conversation_id=conversation_id, outbox=outbox)


def roll_over(now=None, outbox=None):
    """Chats that waited too long in a queue with a fallback move there. Returns their ids."""
    return [conversation_id for conversation_id, queue in routing.late_chats(now)
            if lifecycle.do_roll_over(conversation_id=conversation_id, queue=queue, outbox=outbox)]
