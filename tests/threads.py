"""Races on the real database: calls released at the same instant, each on its own thread and
database connection."""

import threading

from django.db import connection


def at_once(*calls, timeout=30):
    """Run every call on its own thread, all released together; returns when all have ended."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        try:
            barrier.wait(timeout)
            call()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
