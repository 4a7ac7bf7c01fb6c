#!/usr/bin/env python
"""Lexical bridges compared: the FAQ search with word lists from Debian's dictionaries in place of
(or beside) the shipped synonym list, on the development set's halves (bench/faq_relevance.py).

    apt-get install dict-freedict-eng-ind mythes-id
    .venv/bin/python bench/faq_bridges.py [--backend sqlite|postgres]

- freedict: the English–Indonesian FreeDict/WikDict dictionary (CC BY-SA 3.0), each single-word
  English headword grouped with its single-word Indonesian translations;
- mythes: the Indonesian thesaurus (mythes-id), each word grouped with its single-word synonyms.
Each list is loaded as FaqSynonym groups, the way staff would, so it goes through the same
expansion as the shipped list. Measures only; nothing here ships with the service.
"""

import argparse
import gzip
import re
import sys
from pathlib import Path

import faq_relevance

FREEDICT = Path("/usr/share/dictd/freedict-eng-ind")
MYTHES = Path("/usr/share/mythes/th_id_ID_v2.dat")
SINGLE_WORD = re.compile(r"^[a-z]{3,}$")


def _b64(text):
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    value = 0
    for ch in text:
        value = value * 64 + alphabet.index(ch)
    return value


def freedict_groups(max_translations=3):
    """English word → its first single-word Indonesian translations, one group each."""
    data = gzip.decompress(FREEDICT.with_suffix(".dict.dz").read_bytes())
    groups = []
    for line in FREEDICT.with_suffix(".index").read_text(encoding="utf-8").splitlines():
        head, offset, length = line.split("\t")[:3]
        if not SINGLE_WORD.match(head):
            continue
        body = data[_b64(offset):_b64(offset) + _b64(length)].decode("utf-8", "ignore").splitlines()
        if len(body) < 2:
            continue
        words = [w.strip().lower() for w in body[1].split(",")]
        words = [w for w in words if SINGLE_WORD.match(w) and w != head][:max_translations]
        if words:
            groups.append(", ".join([head, *words]))
    return groups


def mythes_groups(max_synonyms=4):
    """Indonesian word → its first single-word synonyms (mythes .dat: "word|n" then "[pos]|s|s…" lines)."""
    groups, lines = [], MYTHES.read_text(encoding="iso-8859-1").splitlines()[1:]
    i = 0
    while i < len(lines):
        head, _, count = lines[i].partition("|")
        senses = lines[i + 1:i + 1 + int(count or 0)]
        i += 1 + int(count or 0)
        if not SINGLE_WORD.match(head):
            continue
        words = []
        for sense in senses:
            if sense.startswith("[ant]"):  # antonyms
                continue
            words += [w for w in sense.split("|")[1:] if SINGLE_WORD.match(w) and w != head]
        if words:
            groups.append(", ".join([head, *dict.fromkeys(words)][:max_synonyms + 1]))
    return groups


def measure(backend):
    faq_relevance.setup_django(backend)
    sys.path.insert(0, str(faq_relevance.ROOT / "bench"))
    import faq_score

    from reference.faq.search.expansion import forget_synonyms
    from reference.faq.services import import_records
    from reference.models import FaqSynonym

    corpus_path, queries_path = faq_relevance.data_paths()
    import json

    corpus = json.loads(corpus_path.read_text(encoding="utf-8"))
    queries = json.loads(queries_path.read_text(encoding="utf-8"))
    from reference.faq import defaults

    lists = {"no list": [], "shipped list": defaults.synonym_groups(), "freedict": freedict_groups(),
             "mythes": mythes_groups()}
    lists["freedict + mythes"] = lists["freedict"] + lists["mythes"]
    lists["shipped + freedict"] = lists["shipped list"] + lists["freedict"]

    faq_relevance.reset_faq()
    import_records(corpus)
    halves = faq_relevance.split(queries)
    print(f"backend {backend}; MRR@10 (paraphrase, crosslingual) per half")
    for name, groups in lists.items():
        FaqSynonym.objects.all().delete()
        FaqSynonym.objects.bulk_create([FaqSynonym(words=g) for g in groups])
        forget_synonyms()  # bulk_create sends no signal
        row = [f"{name:20} {len(groups):6} groups"]
        for half in ("tune half", "check half"):
            part = halves[half]
            rankings, scores = faq_score.rank_all(faq_relevance.rank, part)
            report = faq_score.evaluate(rankings, scores, corpus=corpus, queries=part)
            styles = report["by_style"]
            row.append(f"{half}: {report['overall']['mrr@10']:.3f} ({styles['paraphrase']['mrr@10']:.3f}, "
                       f"{styles['crosslingual']['mrr@10']:.3f})")
        print("  ".join(row))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    args = ap.parse_args()
    if not FREEDICT.with_suffix(".index").exists() or not MYTHES.exists():
        sys.exit("needs Debian's dict-freedict-eng-ind and mythes-id: apt-get install dict-freedict-eng-ind mythes-id")
    try:
        measure(args.backend)
    finally:
        from faq_latency import cleanup

        cleanup()


if __name__ == "__main__":
    main()
