"""Scoring, shared by both backends: candidates ranked in Python, whatever engine found them."""

import math
from collections import Counter

from reference.faq.search.base import DOCS_KEY, setting


def _idf(df, n):
    return math.log(1 + (n - df + 0.5) / (df + 0.5))


def _word_idf(forms, df, n):
    """One idf for all the forms of a query word, from the most frequent of them: "library" is as
    common a word as "perpustakaan", though an index of mostly Indonesian entries holds it rarely,
    so a match in either language is the same evidence."""
    return _idf(max((df[t] for t in forms if t in df), default=0), n)


def score_entries(expanded, df, rows):
    """Score candidate rows (id, search_question, search_answer) → {id: score in [0, 1]}."""
    n = max(df.get(DOCS_KEY, 1), 1)
    q_weight = setting("FAQ_SEARCH_QUESTION_WEIGHT", 1.0)
    a_weight = setting("FAQ_SEARCH_ANSWER_WEIGHT", 0.7)
    cover_weight = setting("FAQ_SEARCH_COVERAGE_WEIGHT", 0.3)
    idf = {t: _idf(df[t], n) for _, w in expanded for t in w if t in df and t != DOCS_KEY}
    # A query word the index does not know at all still counts in the query's weight: a question
    # about something the FAQ never mentions must not score high on the one common word it shares
    # with an entry.
    unknown_idf = _idf(0, n) * setting("FAQ_SEARCH_UNKNOWN_WORD_WEIGHT", 0.5)
    # Per query word: its known forms with weight × idf (the evidence each brings), best first.
    words = [sorted(((t, w[t] * _word_idf(w, df, n)) for t in w if t in idf), key=lambda f: (-f[1], f[0]))
             for _, w in expanded]
    # What the query asks for: per word, the evidence of its best form, whatever the language it
    # is in — an entry matching every word in either language covers the whole query.
    query_mass = sum(ws[0][1] if ws else unknown_idf for ws in words) or 1.0
    words = [ws for ws in words if ws]
    term_idf = {}
    scores = {}
    for entry_id, sq, sa in rows:
        q_set = set(sq.split())
        a_counts = Counter(sa.split())
        raw, covered = 0.0, 0.0
        for forms in words:
            best, best_q = 0.0, None
            for t, wi in forms:
                in_q = t in q_set
                tf_a = a_counts.get(t, 0)
                if not in_q and not tf_a:
                    continue
                s = wi * (q_weight * in_q + a_weight * tf_a / (tf_a + 0.8))
                if s > best:
                    best = s
                if in_q and best_q is None:
                    best_q = t  # the strongest form found in the question (forms are best first)
            raw += best
            if best_q is not None:
                covered += idf[best_q]
        # How much of the entry's question the query accounts for (a short question fully matched
        # beats a long one matched on one word).
        q_mass = 0.0
        for t in q_set:
            v = term_idf.get(t)
            if v is None:
                v = term_idf[t] = _idf(df[t], n) if t in df else 0.0
            q_mass += v
        coverage = covered / (q_mass or 1.0)
        relevance = raw / (q_weight * query_mass)
        scores[entry_id] = (1 - cover_weight) * min(relevance, 1.0) + cover_weight * min(coverage, 1.0) * min(
            1.0, 2 * relevance)
    return scores
