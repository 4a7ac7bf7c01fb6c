#!/usr/bin/env python
"""How well `Hit.confident` tells an answer from a guess, on the development set.

    .venv/bin/python bench/faq_confidence.py [--backend sqlite|postgres|both] [--half tune|check|all]

Same scratch databases and corpus as bench/faq_relevance.py. Per half: of the answerable queries,
how many get a confident top result and how many a confident top result that is right (a member
of its translation pair counts); of the no-answer queries, how many get no confident result
(goal: at least half); and how many answerable queries have a wrong confident top result.
"""

import argparse
import json
import subprocess
import sys

from faq_relevance import data_paths, reset_faq, setup_django, split


def run_one(backend, half):
    setup_django(backend)
    from django.db import connection

    from reference.faq.search import search
    from reference.faq.services import import_records, load_default_synonyms

    corpus_path, queries_path = data_paths()
    queries = json.loads(queries_path.read_text(encoding="utf-8"))
    reset_faq()
    load_default_synonyms()
    import_records(json.loads(corpus_path.read_text(encoding="utf-8")))
    for name, part in split(queries, half).items():
        answerable = [q for q in part if not q["no_answer"]]
        unanswerable = [q for q in part if q["no_answer"]]
        tops = {q["id"]: (search(q["query"], lang=q["language"], limit=5).results or [None])[0] for q in part}
        confident = [q for q in answerable if tops[q["id"]] and tops[q["id"]].confident]
        right = [q for q in confident if {tops[q["id"]].slug, *(t["slug"] for t in tops[q["id"]].translations)}
                 & set(q["relevant"])]
        silent = [q for q in unanswerable if not (tops[q["id"]] and tops[q["id"]].confident)]
        print(f"== {connection.vendor}, {name}: answerable {len(answerable)}: confident top {len(confident)} "
              f"(right {len(right)}, wrong {len(confident) - len(right)}); no-answer {len(unanswerable)}: "
              f"no confident result {len(silent)}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    ap.add_argument("--half", choices=["tune", "check", "all"], default="all")
    args = ap.parse_args()
    if args.backend == "both":
        return max(subprocess.call([sys.executable, __file__, "--backend", b, "--half", args.half])
                   for b in ("sqlite", "postgres"))
    try:
        run_one(args.backend, args.half)
    finally:
        from faq_latency import cleanup

        cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
