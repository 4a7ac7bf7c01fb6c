#!/usr/bin/env python
"""The retention command on a year of a busy library (bench/year_of_data.py made the database).

Sets the library's transcript and offline periods to DAYS (default 180, so about half the year is
past them), then runs apply_retention: a dry run, the real run, and a second run (which should find
nothing). Prints each run's time and counts, and checks that the year's report headline is the same
before and after.

    SQLITE_PATH=/tmp/year.sqlite3 .venv/bin/python bench/retention.py [--days 180]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/rt_bench_year .venv/bin/python bench/retention.py

It changes the database: run it on a copy.
"""

import argparse
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatserver.settings")


def sorted_if_list(value):
    return sorted(value) if isinstance(value, list) else value


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=180)
    args = parser.parse_args()

    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from reference.models import Conversation, Library, Message
    from reference.reports import figures, filters
    from reference.retention import apply_retention

    def headline():
        users = get_user_model().objects
        manager = users.filter(is_superuser=True).first() or users.create_superuser("bench-retention", password="x")
        today = timezone.localdate()
        _form, query = filters.report_query(manager, {"start": str(today - timedelta(days=364)),
                                                      "end": str(today)})
        return figures.build_report(query).headline

    Library.objects.update(retention_days=args.days, offline_retention_days=args.days)
    print(f"conversations {Conversation.objects.count():,}, messages {Message.objects.count():,}; "
          f"periods for chats and offline questions: {args.days} days")
    before = headline()
    for label, dry_run in [("dry run", True), ("first run", False), ("second run", False)]:
        started = time.perf_counter()
        result = apply_retention(dry_run=dry_run)
        seconds = time.perf_counter() - started
        done = {kind: count for kind, count in result.counts.items() if count}
        print(f"{label:10} {seconds:8.1f} s  {done}")
    after = headline()
    # Lists compared as sorted: the ratings come in the rows' order, which an UPDATE may change.
    changed = [name for name, value in vars(before).items()
               if sorted_if_list(value) != sorted_if_list(getattr(after, name))]
    print("report headline for the year unchanged:", not changed, changed or "")
    print(f"anonymised conversations now: {Conversation.objects.filter(anonymised_at__isnull=False).count():,}")


if __name__ == "__main__":
    main()
