#!/usr/bin/env python
"""Staff transcript search on a year of data: what the transcript list runs for one search (the count
and the first page of 25), by words (reference.transcript_search) and, for comparison, by the
substring match it replaced. Fill the database with bench/year_of_data.py, then index it:

    SQLITE_PATH=/tmp/year.sqlite3 .venv/bin/python manage.py index_transcripts
    SQLITE_PATH=/tmp/year.sqlite3 .venv/bin/python bench/transcript_search.py
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/rt_bench_year .venv/bin/python bench/transcript_search.py

Searches as the year's manager, who reads every transcript of the library.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as `python bench/transcript_search.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import django_ready  # noqa: E402

# A frequent word, an informal spelling of it, a name, two words, a word no chat holds (every
# message is read), and an English word.
QUERIES = ["pinjam", "minjem", "Pramoedya", "sejarah medan", "kopi", "library"]


def substring_search(user, text):
    """The transcript list's text filter before it searched by words."""
    from django.db.models import Exists, OuterRef, Q

    from reference import selectors
    from reference.models import Message

    matching = Message.objects.filter(conversation=OuterRef("pk"), text__icontains=text)
    return selectors.transcripts(user=user).filter(Q(subject__icontains=text) | Exists(matching))


def timed(conversations):
    """(how many, milliseconds) for the list's count and first page."""
    started = time.perf_counter()
    count = conversations.count()
    list(conversations[:25])
    return count, (time.perf_counter() - started) * 1000


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5, help="runs of each search; the median is shown")
    args = parser.parse_args()
    django_ready()
    from django.contrib.auth import get_user_model
    from django.db import connection

    from bench.year_of_data import MANAGER_USERNAME
    from reference import selectors

    user = get_user_model().objects.get(username=MANAGER_USERNAME)
    print(f"{connection.vendor}: query, how, chats found, median ms of {args.repeat}")
    for query in QUERIES:
        for how, search in (("words", lambda q=query: selectors.transcripts(user=user, text=q)),
                            ("substring", lambda q=query: substring_search(user, q))):
            runs = [timed(search()) for _ in range(args.repeat)]
            print(f"{query:>14}  {how:<9} {runs[0][0]:>7}  {statistics.median(ms for _n, ms in runs):>8.0f}")


if __name__ == "__main__":
    main()
