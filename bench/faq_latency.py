#!/usr/bin/env python
"""FAQ search latency with many entries, on both backends.

    .venv/bin/python bench/faq_latency.py [--entries 100000] [--queries 600] [--backend sqlite|postgres|both]

Generates N entries from the demo corpus' vocabulary (Zipf-distributed words, so common words are
common, as in a real FAQ), plus the demo corpus itself, in a scratch database (temporary SQLite
file; PostgreSQL at FAQ_BENCH_DATABASE_URL, default .../ruangtanya_faqbench), then times
reference.faq.search.search() — what the API calls — over the development queries and generated
ones, after one warm-up pass. Prints p50 / p95 / p99 / max in milliseconds.
"""

import argparse
import json
import random
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from faq_relevance import data_paths, reset_faq, setup_django  # noqa: E402


def vocabulary(corpus):
    counts = {}
    for d in corpus:
        for w in re.findall(r"[A-Za-zÀ-ÿ]+", d["question"] + " " + d["answer"]):
            counts[w.lower()] = counts.get(w.lower(), 0) + 1
    words = sorted(counts, key=lambda w: -counts[w])
    weights = [1 / (rank + 1) for rank in range(len(words))]
    return words, weights


def generate(n, corpus, rng):
    from reference.faq.sanitize import sanitize_html
    from reference.models import FaqEntry

    words, weights = vocabulary(corpus)
    batch = []
    for i in range(n):
        q = " ".join(rng.choices(words, weights, k=rng.randint(6, 12))).capitalize() + "?"
        a = " ".join(rng.choices(words, weights, k=rng.randint(30, 70))).capitalize() + "."
        batch.append(FaqEntry(slug=f"gen-{i}", language="id" if i % 4 else "en", question=q[:500],
                              answer=sanitize_html(a), status=FaqEntry.Status.PUBLISHED))
        if len(batch) == 5000:
            FaqEntry.objects.bulk_create(batch)
            batch = []
    if batch:
        FaqEntry.objects.bulk_create(batch)
    return words, weights


def percentile(values, p):
    values = sorted(values)
    k = max(0, min(len(values) - 1, round(p / 100 * (len(values) - 1))))
    return values[k]


def run_one(backend, n, n_queries):
    setup_django(backend)
    from django.db import connection

    from reference.faq.search import rebuild_index, search
    from reference.faq.services import import_records, load_default_synonyms
    from reference.models import FaqEntry

    corpus_path, queries_path = data_paths()
    corpus = json.loads(corpus_path.read_text(encoding="utf-8"))
    dev = [q["query"] for q in json.loads(queries_path.read_text(encoding="utf-8"))]
    rng = random.Random(5)
    reset_faq()
    load_default_synonyms()
    import_records(corpus)
    t0 = time.perf_counter()
    words, weights = generate(n, corpus, rng)
    rebuild_index()
    if connection.vendor == "postgresql":
        with connection.cursor() as c:
            c.execute("ANALYZE reference_faqentry")
    load_s = time.perf_counter() - t0
    queries = list(dev)
    while len(queries) < n_queries:
        queries.append(" ".join(rng.choices(words, weights, k=rng.randint(2, 10))))
    for q in queries[:50]:
        search(q, lang="id", limit=5)  # warm caches
    times, empty = [], 0
    for q in queries:
        t = time.perf_counter()
        r = search(q, lang="id", limit=5)
        times.append((time.perf_counter() - t) * 1000)
        empty += not r.results
    total = FaqEntry.objects.count()
    print(f"== backend: {connection.vendor}: {total} entries (generated and indexed in {load_s:.0f} s), "
          f"{len(queries)} queries ({empty} answered nothing)")
    print(f"   p50 {statistics.median(times):.1f} ms   p95 {percentile(times, 95):.1f} ms   "
          f"p99 {percentile(times, 99):.1f} ms   max {max(times):.1f} ms")


def cleanup():
    """Remove the scratch SQLite database (setup_django put it in a temporary folder)."""
    import os
    import shutil

    path = os.environ.get("SQLITE_PATH", "")
    if path and os.path.basename(os.path.dirname(path)).startswith("faqbench"):
        shutil.rmtree(os.path.dirname(path), ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--entries", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=600)
    ap.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    args = ap.parse_args()
    if args.backend == "both":
        rc = 0
        for b in ("sqlite", "postgres"):
            rc |= subprocess.call([sys.executable, __file__, "--backend", b, "--entries", str(args.entries),
                                   "--queries", str(args.queries)])
        return rc
    try:
        run_one(args.backend, args.entries, args.queries)
    finally:
        cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
