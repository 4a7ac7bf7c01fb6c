#!/usr/bin/env python
"""FAQ search latency with many entries, on both backends.

    .venv/bin/python bench/faq_latency.py [--entries 100000] [--queries 600] [--repeat 3]
        [--backend sqlite|postgres|both] [--corpus zipf|library|both]

Generates N entries plus the demo corpus in a scratch database (temporary SQLite file; PostgreSQL
at FAQ_BENCH_DATABASE_URL, default .../ruangtanya_faqbench), then times
reference.faq.search.search() — what the API calls — over the development queries and generated
ones, after one warm-up pass, `--repeat` times. Prints p50 / p95 / p99 / max in milliseconds.

Two generated corpora:

* `zipf` (the stress case): every word drawn from the demo corpus' ~1,200-word vocabulary with
  Zipf weights, and queries of 2–10 words drawn the same way. 100,000 entries sharing so few
  words put every content word in thousands of entries.
* `library` (what a real FAQ of that size looks like): a 40,000-word vocabulary (the corpus'
  words first, then made-up words; Heaps' law puts 6 million words of text at 40,000–80,000
  distinct ones), still Zipf-distributed, and entries about topics: 5,000 topics of 8 content
  words, each entry's question and answer mixing its topic's words with common ones. Queries are
  what patrons type about an entry: 2–5 words of its question in any order, chat filler, and a
  typo in one query of five.

With the semantic leg on (FAQ_SEMANTIC, the default) every entry needs a vector, and computing
100,000 of them with the model would take about ten minutes: the bench embeds `--embedded`
(default 2,000) generated entries with the real model and derives the others' vectors from them
(each a normalised mix of two embedded ones plus noise: spread like real vectors, not texts'
meanings). The query path is the real one: every query is embedded by the model and scanned
against all 100,000 vectors. It also prints the memory the vectors take in the search process and
the recall of the reduced scan (semantic.VectorIndex) against an exact one.
"""

import argparse
import itertools
import json
import os
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
    return sorted(counts, key=lambda w: -counts[w])


def zipf_cumulative_weights(words):
    """Cumulative Zipf weights (rank r drawn with weight 1/r), computed once for rng.choices()."""
    return list(itertools.accumulate(1 / (rank + 1) for rank in range(len(words))))


def made_up_words(n, taken, rng):
    """n distinct pronounceable words (2–4 syllables) that are not in `taken`."""
    onsets, vowels, codas = "bcdfghjklmnprstwy", "aeiou", ["", "", "", "n", "r", "k", "l", "s", "ng"]
    out, seen = [], set(taken)
    while len(out) < n:
        w = "".join(rng.choice(onsets) + rng.choice(vowels) + rng.choice(codas) for _ in range(rng.randint(2, 4)))
        if w not in seen:
            seen.add(w)
            out.append(w)
    return out


def sentence(ws, end):
    return " ".join(ws).capitalize() + end


class ZipfCorpus:
    """The stress case: the demo corpus' vocabulary only."""

    def __init__(self, corpus, rng):
        self.rng = rng
        self.words = vocabulary(corpus)
        self.cum = zipf_cumulative_weights(self.words)

    def entry(self, i):
        rng, ws, cum = self.rng, self.words, self.cum
        return (sentence(rng.choices(ws, cum_weights=cum, k=rng.randint(6, 12)), "?"),
                sentence(rng.choices(ws, cum_weights=cum, k=rng.randint(30, 70)), "."))

    def query(self):
        return " ".join(self.rng.choices(self.words, cum_weights=self.cum, k=self.rng.randint(2, 10)))


class LibraryCorpus:
    """A realistic vocabulary size and entries about topics (see the module docstring)."""

    VOCABULARY, TOPICS, TOPIC_WORDS, COMMON = 40_000, 5_000, 8, 100

    def __init__(self, corpus, rng):
        self.rng = rng
        head = vocabulary(corpus)
        self.words = head + made_up_words(self.VOCABULARY - len(head), head, rng)
        self.cum = zipf_cumulative_weights(self.words)
        content, skipped = self.words[self.COMMON:], self.cum[self.COMMON - 1]
        content_cum = [c - skipped for c in self.cum[self.COMMON:]]
        self.topics = [list(dict.fromkeys(rng.choices(content, cum_weights=content_cum, k=self.TOPIC_WORDS)))
                       for _ in range(self.TOPICS)]
        self.questions = []

    def entry(self, i):
        rng, topic = self.rng, self.topics[i % self.TOPICS]
        q = rng.sample(topic, min(len(topic), rng.randint(2, 4))) + rng.choices(self.words, cum_weights=self.cum,
                                                                               k=rng.randint(4, 8))
        a = rng.choices(topic, k=rng.randint(6, 12)) + rng.choices(self.words, cum_weights=self.cum,
                                                                   k=rng.randint(24, 58))
        rng.shuffle(q)
        rng.shuffle(a)
        self.questions.append(q)
        return sentence(q, "?"), sentence(a, ".")

    def query(self):
        rng = self.rng
        q = rng.sample(rng.choice(self.questions), rng.randint(2, 5)) + rng.choices(
            ["kak", "min", "gmn", "ya", "dong", "tolong", "mau", "tanya", "please", "how"], k=rng.randint(0, 3))
        rng.shuffle(q)
        if rng.random() < 0.2:
            long_words = [k for k, w in enumerate(q) if len(w) >= 5]
            if long_words:
                k = rng.choice(long_words)
                j = rng.randrange(len(q[k]) - 1)
                q[k] = q[k][:j] + q[k][j + 1] + q[k][j] + q[k][j + 2:]
        return " ".join(q)


CORPORA = {"zipf": ZipfCorpus, "library": LibraryCorpus}


def generate(n, generator):
    from reference.faq.sanitize import sanitize_html
    from reference.models import FaqEntry

    batch = []
    for i in range(n):
        q, a = generator.entry(i)
        batch.append(FaqEntry(slug=f"gen-{i}", language="id" if i % 4 else "en", question=q[:500],
                              answer=sanitize_html(a), status=FaqEntry.Status.PUBLISHED))
        if len(batch) == 5000:
            FaqEntry.objects.bulk_create(batch)
            batch = []
    if batch:
        FaqEntry.objects.bulk_create(batch)


def give_vectors(n_embedded, rng):
    """Vectors for the generated entries: n_embedded computed by the model, the rest derived."""
    import numpy as np

    from reference.faq.search import semantic
    from reference.models import FaqEntry

    ids = list(FaqEntry.objects.filter(slug__startswith="gen-").order_by("id").values_list("id", flat=True))
    real = FaqEntry.objects.filter(pk__in=ids[:n_embedded]).only("id", "question", "answer").order_by("id")
    base = semantic.embed([semantic.entry_text(e) for e in real])
    noise = np.random.default_rng(rng.randrange(2**32))
    for start in range(0, len(ids), 5000):
        chunk = ids[start:start + 5000]
        pairs = noise.integers(0, len(base), size=(len(chunk), 2))
        mixed = base[pairs[:, 0]] + noise.uniform(0.2, 1.0, (len(chunk), 1)) * base[pairs[:, 1]]
        mixed += noise.normal(0, 0.02, mixed.shape)
        mixed /= np.linalg.norm(mixed, axis=1, keepdims=True)
        if start == 0:
            mixed[:len(base)] = base
        rows = [FaqEntry(pk=pk, embedding=semantic.to_bytes(v)) for pk, v in zip(chunk, mixed, strict=True)]
        FaqEntry.objects.bulk_update(rows, ["embedding"], batch_size=1000)
    semantic.forget_vectors()


def report_vectors(queries):
    """Memory of the in-process vectors, the time to load them, and the reduced scan's recall@20."""
    import numpy as np

    from reference.faq.search import semantic

    t = time.perf_counter()
    semantic.forget_vectors()
    index = semantic.vector_index()
    load_s = time.perf_counter() - t
    full = index.rows.astype(np.float32)
    found = wanted = 0
    for q in queries[:100]:
        v = semantic.query_vector(q)
        exact = set(index.ids[np.argsort(-(full @ v))[:20]].tolist())
        found += len(exact & {pk for pk, _ in index.nearest(v, 20)})
        wanted += len(exact)
    reduced = f"scanned in {index.scanned.shape[1]} dimensions" if index.projection is not None else "scanned exactly"
    print(f"   vectors: {len(index.ids)} in {index.nbytes / 2**20:.0f} MiB ({index.rows.nbytes / 2**20:.0f} MiB "
          f"float16 rows + {index.scanned.nbytes / 2**20:.0f} MiB float32 scan matrix), {reduced}; "
          f"loaded in {load_s:.1f} s; recall@20 against an exact scan {found / max(wanted, 1):.3f}")


def percentile(values, p):
    values = sorted(values)
    k = max(0, min(len(values) - 1, round(p / 100 * (len(values) - 1))))
    return values[k]


def run_one(backend, corpus_kind, n, n_queries, repeat, n_embedded):
    setup_django(backend)
    from django.db import connection

    from reference.faq.search import rebuild_index, search, semantic
    from reference.faq.services import import_records, load_default_synonyms
    from reference.models import FaqEntry

    corpus_path, queries_path = data_paths()
    corpus = json.loads(corpus_path.read_text(encoding="utf-8"))
    dev = [q["query"] for q in json.loads(queries_path.read_text(encoding="utf-8"))]
    generator = CORPORA[corpus_kind](corpus, random.Random(5))
    reset_faq()
    load_default_synonyms()
    import_records(corpus)
    t0 = time.perf_counter()
    generate(n, generator)
    semantic_on = semantic.enabled()
    if semantic_on:
        give_vectors(n_embedded, generator.rng)
    rebuild_index()
    if connection.vendor == "postgresql":
        # As autovacuum would soon after a bulk load: the rows deleted by reset_faq() and the
        # versions rebuild_index() replaced would otherwise stay in the indexes, to be skipped by
        # every scan.
        with connection.cursor() as c:
            c.execute("VACUUM ANALYZE reference_faqentry")
            c.execute("VACUUM ANALYZE reference_faqterm")
    load_s = time.perf_counter() - t0
    queries = list(dev)
    while len(queries) < n_queries:
        queries.append(generator.query())
    for q in queries[:50]:
        search(q, lang="id", limit=5)  # warm caches
    total = FaqEntry.objects.count()
    print(f"== backend: {connection.vendor}, corpus: {corpus_kind}: {total} entries (generated and indexed in "
          f"{load_s:.0f} s), {len(queries)} queries, semantic leg {'on' if semantic_on else 'off'}")
    if semantic_on:
        report_vectors(queries)
        for q in queries[:50]:
            search(q, lang="id", limit=5)
    for run in range(1, repeat + 1):
        times, empty = [], 0
        for q in queries:
            t = time.perf_counter()
            r = search(q, lang="id", limit=5)
            times.append((time.perf_counter() - t) * 1000)
            empty += not r.results
        print(f"   run {run}: p50 {statistics.median(times):.1f} ms   p95 {percentile(times, 95):.1f} ms   "
              f"p99 {percentile(times, 99):.1f} ms   max {max(times):.1f} ms   ({empty} answered nothing; "
              f"load {os.getloadavg()[0]:.2f})")


def cleanup():
    """Remove the scratch SQLite database (setup_django put it in a temporary folder)."""
    import shutil

    path = os.environ.get("SQLITE_PATH", "")
    if path and os.path.basename(os.path.dirname(path)).startswith("faqbench"):
        shutil.rmtree(os.path.dirname(path), ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--entries", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=600)
    ap.add_argument("--repeat", type=int, default=1, help="timed passes over the queries")
    ap.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    ap.add_argument("--corpus", choices=["zipf", "library", "both"], default="both")
    ap.add_argument("--embedded", type=int, default=2000,
                    help="generated entries embedded by the model (the others' vectors are derived)")
    args = ap.parse_args()
    if args.backend == "both" or args.corpus == "both":
        # One process per run: Django's settings are fixed once set up.
        rc = 0
        for b in (("sqlite", "postgres") if args.backend == "both" else (args.backend,)):
            for c in (("zipf", "library") if args.corpus == "both" else (args.corpus,)):
                rc |= subprocess.call([sys.executable, __file__, "--backend", b, "--corpus", c, "--entries",
                                       str(args.entries), "--queries", str(args.queries), "--repeat",
                                       str(args.repeat), "--embedded", str(args.embedded)])
        return rc
    try:
        run_one(args.backend, args.corpus, args.entries, args.queries, args.repeat, args.embedded)
    finally:
        cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
