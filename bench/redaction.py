"""How well redaction does on the catalogue of chat lines (tests/data/redaction_catalogue.json).

    .venv/bin/python bench/redaction.py [--catalogue PATH] [--show-tune-misses]

Per split ("tune": the half the rules were tuned on; "report": the half that measures them): lines,
fragments, recall (share of must_go fragments that disappeared, see `gone()`), kept rate (share of must_keep
fragments still there), false-redaction rate (1 − kept rate), lines passing exactly, and the
report half's misses. No database is used.
"""

import argparse
import json
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "tests" / "data" / "redaction_catalogue.json"


def _django():
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatserver.settings")
    import django
    from django.apps import apps
    if not apps.ready:
        django.setup()


def load(path=CATALOGUE):
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


# Words that only say what a fragment is ("Jl.", "No.", "kelas"): they may stay.
STRUCTURAL = {"jl", "jln", "jalan", "gg", "gang", "no", "nomor", "rt", "rw", "kel", "kec", "kelurahan", "kecamatan",
              "blok", "perum", "komplek", "kelas", "grade", "at", "dot", "com", "co", "id", "gmail", "yahoo",
              "outlook", "https", "http", "www"}


def _tokens(fragment):
    return [t for t in re.findall(r"\w+", fragment.lower())
            if t not in STRUCTURAL and (len(t) >= 2 if t.isdigit() else len(t) >= 3)]


def gone(fragment, text, out):
    """A fragment has gone when it is not in the output and each of its telling words and numbers
    (see STRUCTURAL) occurs there fewer times than in the input: half an address is not gone."""
    if fragment in out:
        return False
    def count(token, s):
        return len(re.findall(r"(?<![^\W_])" + re.escape(token) + r"(?![^\W_])", s.lower()))
    return all(count(t, out) < count(t, text) for t in _tokens(fragment))


def run_line(line):
    """(redacted text, must_go fragments still there, must_keep fragments gone)."""
    from reference.faq.redaction import redact
    out = redact(line["text"], line.get("names", ()), emails=line.get("emails", ()),
                 card_numbers=line.get("cards", ()), allow=line.get("allow", ())).text
    missed = [f for f in line["must_go"] if not gone(f, line["text"], out)]
    lost = [f for f in line["must_keep"] if f not in out]
    return out, missed, lost


def measure(lines, split):
    rows = [(line, *run_line(line)) for line in lines if line["split"] == split]
    go = sum(len(line["must_go"]) for line, *_ in rows)
    keep = sum(len(line["must_keep"]) for line, *_ in rows)
    missed = sum(len(m) for _l, _o, m, _k in rows)
    lost = sum(len(k) for _l, _o, _m, k in rows)
    untouched = [(line, out) for line, out, _m, _k in rows if not line["must_go"]]
    return {
        "split": split, "lines": len(rows), "must_go": go, "must_keep": keep,
        "recall": (go - missed) / go if go else 1.0,
        "kept_rate": (keep - lost) / keep if keep else 1.0,
        "false_redaction_rate": lost / keep if keep else 0.0,
        "lines_passing": sum(1 for _l, _o, m, k in rows if not m and not k),
        "clean_lines": len(untouched),
        "clean_lines_changed": sum(1 for line, out in untouched if out != line["text"]),
        "misses": [{"text": line["text"], "redacted": out, "still_there": m, "lost": k}
                   for line, out, m, k in rows if m or k],
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--catalogue", default=str(CATALOGUE))
    parser.add_argument("--show-tune-misses", action="store_true")
    args = parser.parse_args(argv)
    _django()
    lines = load(args.catalogue)
    for split in sorted({line["split"] for line in lines}, key=["tune", "report", "fresh", "sealed"].index):
        r = measure(lines, split)
        print(f"{split:7} lines {r['lines']:3}  must_go {r['must_go']:3}  must_keep {r['must_keep']:3}  "
              f"recall {r['recall']:.3f}  kept {r['kept_rate']:.3f}  false-redaction {r['false_redaction_rate']:.3f}  "
              f"passing {r['lines_passing']}/{r['lines']}  "
              f"clean lines changed {r['clean_lines_changed']}/{r['clean_lines']}")
        if split != "tune" or args.show_tune_misses:
            for miss in r["misses"]:
                print(f"  - {miss['text']}\n    → {miss['redacted']}")
                if miss["still_there"]:
                    print(f"    still there: {miss['still_there']}")
                if miss["lost"]:
                    print(f"    lost: {miss['lost']}")


if __name__ == "__main__":
    main()
