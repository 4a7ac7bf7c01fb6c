#!/usr/bin/env python
"""FAQ search relevance on the development set, on both backends.

    .venv/bin/python bench/faq_relevance.py [--backend sqlite|postgres|both] [--per-query]

Imports the corpus (../shared/faq-dev/ if present, else reference/fixtures/) into a scratch
database per backend (a temporary SQLite file; PostgreSQL at FAQ_BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/ruangtanya_faqbench), loads the shipped synonym list, runs every
query through reference.faq.search.search() — what /api/faq/search calls — and prints MRR@10,
Recall@1, Recall@5 and nDCG@10 overall, per style and per language (scorer: bench/faq_score.py,
a copy of the set's score.py), for the half of the queries search changes are tuned on, the half
they are judged on, and the whole set (--half; split() says how the halves are drawn).
"""

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "faq-dev"
PG_DEFAULT = "postgres://postgres@127.0.0.1:5432/ruangtanya_faqbench"


def data_paths():
    if (SHARED / "corpus.json").exists() and (SHARED / "queries-dev.json").exists():
        return SHARED / "corpus.json", SHARED / "queries-dev.json"
    return ROOT / "reference/fixtures/faq-demo.json", ROOT / "reference/fixtures/faq-queries-dev.json"


def ensure_pg_database(url):
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def setup_django(backend):
    """Point settings at a scratch database for `backend`, then migrate."""
    os.environ.pop("REDIS_URL", None)
    if backend == "postgres":
        url = os.environ.get("FAQ_BENCH_DATABASE_URL", PG_DEFAULT)
        ensure_pg_database(url)
        os.environ["DATABASE_URL"] = url
    else:
        os.environ.pop("DATABASE_URL", None)
        os.environ["SQLITE_PATH"] = os.path.join(tempfile.mkdtemp(prefix="faqbench"), "bench.sqlite3")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatserver.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def reset_faq():
    from reference.faq.search import rebuild_index
    from reference.models import FaqEntry, FaqRevision, FaqSynonym

    FaqRevision.objects.all().delete()
    FaqEntry.objects.update(translation_of=None)
    FaqEntry.objects.all().delete()
    FaqSynonym.objects.all().delete()
    rebuild_index()


def run_one(backend, per_query, half="all", synonyms=True):
    setup_django(backend)
    sys.path.insert(0, str(ROOT / "bench"))
    import faq_score
    from django.db import connection

    from reference.faq.services import import_records, load_default_synonyms

    corpus_path, queries_path = data_paths()
    corpus = json.loads(corpus_path.read_text(encoding="utf-8"))
    queries = json.loads(queries_path.read_text(encoding="utf-8"))
    reset_faq()
    if synonyms:
        load_default_synonyms()
    saved, errors = import_records(corpus)
    assert not errors, errors

    from django.conf import settings

    threshold = getattr(settings, "FAQ_SEARCH_THRESHOLD", 0.2)
    reports = {}
    for name, part in split(queries, half).items():
        rankings, scores = faq_score.rank_all(rank, part)
        report = faq_score.evaluate(rankings, scores, threshold=threshold, corpus=corpus, queries=part)
        print(f"== backend: {connection.vendor}, {name} ({len(saved)} entries, {len(part)} queries, "
              f"threshold {threshold}{'' if synonyms else ', without the synonym list'})")
        print(faq_score.format_report(report, per_query, part))
        reports[name] = report
    return reports


def rank(text, lang):
    """The search's ranking for the scorer: a translation pair is one result, and its members count
    at that rank (both are relevant)."""
    from reference.faq.search import search

    return [(slug, h.score) for h in search(text, lang=lang, limit=10).results
            for slug in [h.slug, *(t["slug"] for t in h.translations)]]


def split(queries, half="all"):
    """The development set in two halves by query, each style split evenly by a hash of the id:
    "tune" is the half changes are tuned on, "check" the half they are judged on."""
    halves = {"tune": [], "check": []}
    for style in sorted({q["style"] for q in queries}):
        ordered = sorted((q for q in queries if q["style"] == style),
                         key=lambda q: hashlib.sha1(q["id"].encode()).hexdigest())
        for i, q in enumerate(ordered):
            halves["tune" if i % 2 == 0 else "check"].append(q)
    if half == "all":
        return {"tune half": halves["tune"], "check half": halves["check"], "whole set": queries}
    return {f"{half} half": halves[half]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    ap.add_argument("--per-query", action="store_true")
    ap.add_argument("--half", choices=["tune", "check", "all"], default="all",
                    help="the half of the queries to report (split(): tune on one, judge on the other)")
    ap.add_argument("--without-synonyms", action="store_true",
                    help="search without the shipped synonym list, which was written while looking at this set: "
                         "a rough guide to questions whose words it does not know")
    args = ap.parse_args()
    if args.backend == "both":
        # One process per backend: Django's settings are fixed once set up.
        rc = 0
        for b in ("sqlite", "postgres"):
            cmd = [sys.executable, __file__, "--backend", b, "--half", args.half] + (
                ["--per-query"] if args.per_query else []) + (["--without-synonyms"] if args.without_synonyms else [])
            rc |= subprocess.call(cmd)
        return rc
    try:
        run_one(args.backend, args.per_query, args.half, synonyms=not args.without_synonyms)
    finally:
        from faq_latency import cleanup

        cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
