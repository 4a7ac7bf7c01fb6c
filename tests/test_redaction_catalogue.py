"""The catalogue of chat lines (tests/data/redaction_catalogue.json, measured by bench/redaction.py).

Its lines were split before the rules were tuned: line i is "tune" when i is even. Every "tune" line
must pass exactly; the "report" half is measured against floors set below the figures measured after
tuning (recall 0.986, kept rate 1.000 on 89 lines), with room for a line or two.

tests/data/redaction_fresh.json was written by another hand and measured before any change (recall
0.806, 33/40 lines); the rules were then fixed for its misses, so it is a tuning set now: every line
must pass.

tests/data/redaction_sealed.json (30 lines) was written by the same other hand before those fixes and
run only once they were done: recall 0.960 (24 of 25 fragments), kept rate 1.000, 29/30 lines. It
is the held-out measure; nothing was changed for it, and its floors sit below that measure.
"""

from pathlib import Path

import pytest

from bench.redaction import gone, load, measure, run_line

LINES = load()
TUNE = [line for line in LINES if line["split"] == "tune"]
FRESH = load(Path(__file__).parent / "data" / "redaction_fresh.json")
SEALED = load(Path(__file__).parent / "data" / "redaction_sealed.json")

REPORT_RECALL_FLOOR = 0.95
REPORT_KEPT_FLOOR = 0.97


def test_catalogue_shape():
    assert len(LINES) >= 150
    assert {line["split"] for line in LINES} == {"tune", "report"}
    assert abs(len(TUNE) - (len(LINES) - len(TUNE))) <= 1
    assert [line["split"] for line in LINES] == ["tune" if i % 2 == 0 else "report" for i in range(len(LINES))]
    for line in LINES:
        assert line["must_go"] or line["must_keep"]
        for fragment in line["must_go"] + line["must_keep"]:
            assert fragment in line["text"]
    assert sum(1 for line in LINES if line["must_go"]) >= 100
    assert sum(1 for line in LINES if not line["must_go"]) >= 50


@pytest.mark.parametrize("line", TUNE, ids=lambda line: line["text"][:40])
def test_tune_line(line):
    out, missed, lost = run_line(line)
    assert not missed and not lost, out


def test_report_half_floors():
    r = measure(LINES, "report")
    assert r["lines"] >= 75
    assert r["recall"] >= REPORT_RECALL_FLOOR, r["misses"]
    assert r["kept_rate"] >= REPORT_KEPT_FLOOR, r["misses"]


def test_half_an_address_is_not_gone():
    text = "alamat Jl. Merdeka No. 45, Medan"
    assert not gone("Jl. Merdeka No. 45", text, "alamat [NAMA]. Merdeka No. 45, Medan")
    assert gone("Jl. Merdeka No. 45", text, "alamat [ALAMAT], Medan")


def test_fresh_set_shape():
    assert len(FRESH) == 40
    assert {line["split"] for line in FRESH} == {"fresh"}
    for line in FRESH:
        for fragment in line["must_go"] + line["must_keep"]:
            assert fragment in line["text"]


@pytest.mark.parametrize("line", FRESH, ids=lambda line: line["text"][:40])
def test_fresh_line(line):
    out, missed, lost = run_line(line)
    assert not missed and not lost, out


def test_sealed_set_floors():
    assert len(SEALED) == 30 and {line["split"] for line in SEALED} == {"sealed"}
    r = measure(SEALED, "sealed")
    assert r["recall"] >= 0.9, r["misses"]
    assert r["kept_rate"] >= REPORT_KEPT_FLOOR, r["misses"]
