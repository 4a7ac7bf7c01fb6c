"""The search itself: a query through expansion, the backend's candidates, the shared scorer and
the arranging of linked translations (the package docstring explains the steps). Reads only: a
search that found nothing is recorded by its caller (reference.faq.services.record_miss).

The steps live in their own modules — indexing.py, expansion.py, scoring.py, and the backends
(base.py, sqlite.py, postgres.py, chosen in backends.py) — and their public names are importable
from here as before.
"""

import time
from dataclasses import dataclass, field

from django.db import connection

from reference.faq.search import semantic
from reference.faq.search.backends import get_backend
from reference.faq.search.base import DOCS_KEY, setting
from reference.faq.search.expansion import expand, forget_synonyms
from reference.faq.search.indexing import analysed_fields, rebuild_index, reindex_entry
from reference.faq.search.scoring import score_entries
from reference.models import default_library

__all__ = ["DOCS_KEY", "Hit", "SearchResponse", "analysed_fields", "expand", "forget_synonyms", "get_backend",
           "rebuild_index", "reindex_entry", "score_entries", "search"]


@dataclass
class Hit:
    entry_id: int
    slug: str
    question: str
    answer: str
    language: str
    score: float
    translation_of_id: int | None = None
    # Good enough to show as the answer; otherwise only "related" (FAQ_SEARCH_CONFIDENT).
    confident: bool = False
    # The other published members of the entry's translation pair ({id, slug, question, language}):
    # a pair fills one result, in the reader's language where it has one.
    translations: list = field(default_factory=list)


@dataclass
class SearchResponse:
    query: str
    results: list = field(default_factory=list)
    took_ms: float = 0.0
    # The query's analysed words: what a search that found nothing is counted by (record_miss).
    words: list = field(default_factory=list)


def search(query, lang="id", limit=5, threshold=None, library=None):
    """The published entries of one library answering `query`, best first (SearchResponse).
    `library`: a Library or its id; None is the first library (the embedded default). Writes nothing.

    Candidates are taken from that library's entries only, by the engine and by the semantic leg,
    before anything is ranked or cut, so another library's entries never take a place. The words'
    idf stays the network's (FaqTerm counts every library's published entries): docs/search.md."""
    started = time.perf_counter()
    library_id = library_id_of(library)
    threshold = setting("FAQ_SEARCH_THRESHOLD", 0.2) if threshold is None else threshold
    response = SearchResponse(query=query)
    backend = get_backend()
    expanded, df = expand(query, backend)
    response.words = [word for word, _ in expanded]
    terms = sorted({t for _, w in expanded for t in w if t in df and t != DOCS_KEY})
    ids = []
    if terms:
        ids = _candidates(backend, terms, df, library_id)
    vector, nearest = _meaning(query, library_id)
    details = _entries(ids=set(ids) | set(nearest), library_id=library_id)
    lexical = _lexical_scores(expanded, df, details, backend) if terms else {}
    cosines = semantic.vector_index().similarities(vector, details) if vector is not None else {}
    scores = fuse(lexical, cosines)
    response.results = _arrange(scores, details, lang, limit, threshold, _confidence(lexical, cosines, details),
                                library_id)
    response.took_ms = (time.perf_counter() - started) * 1000
    return response


def library_id_of(library):
    """The id of a Library (or an id); None: the first library's."""
    if library is None:
        return default_library()
    return getattr(library, "pk", library)


def _meaning(query, library_id):
    """(the query's vector, {entry id: cosine} of the library's nearest entries), or (None, {}) when
    the semantic leg is off or the query is blank."""
    if not semantic.enabled() or not query.strip():
        return None, {}
    vector = semantic.query_vector(query)
    return vector, dict(semantic.vector_index().nearest(vector, setting("FAQ_SEMANTIC_CANDIDATES", 20),
                                                        library=library_id))


def _lexical_scores(expanded, df, details, backend):
    rows = [(pk, d["search_question"], d["search_answer"]) for pk, d in details.items()]
    question_terms = {t for _, sq, _ in rows for t in sq.split()} - set(df)
    if question_terms:
        df.update(backend.document_frequencies(list(question_terms)))
    return score_entries(expanded, df, rows)


def _candidates(backend, terms, df, library_id):
    """The library's candidate entries from the engine: first for the selective terms (_selective);
    when they bring fewer than FAQ_SEARCH_CANDIDATES, also for the terms left out. The document
    frequencies are the network's, so the rarest terms of the network may be absent from this
    library while its entries hold the common ones: the second ask (rank budget as the first) keeps
    them from being lost. On one library's index it only runs where the first ask fell short."""
    budget, wanted = setting("FAQ_SEARCH_RANK_BUDGET", 5000), setting("FAQ_SEARCH_CANDIDATES", 60)
    chosen = _selective(terms, df, budget)
    ids = backend.candidates(chosen, wanted, budget, library_id=library_id)
    rest = sorted(set(terms) - set(chosen))
    if rest and len(ids) < wanted:
        found = set(ids)
        ids += [pk for pk in backend.candidates(rest, wanted, budget, library_id=library_id) if pk not in found]
    return ids[:wanted]


def fuse(lexical, cosines):
    """One score in [0, 1] per entry from the two legs, as a probabilistic OR: the cosine, rescaled
    from FAQ_SEMANTIC_FLOOR (what unrelated texts reach: counts nothing) to FAQ_SEMANTIC_FULL (a
    close paraphrase: counts fully) and weighted by FAQ_SEMANTIC_WEIGHT, fills part of what the
    lexical score leaves. Meaning never lowers a lexical score, and an entry only the semantic leg
    found can rank. With the leg off the lexical scores stay as they are."""
    if not cosines:
        return lexical
    weight = setting("FAQ_SEMANTIC_WEIGHT", 0.5)
    floor, full = setting("FAQ_SEMANTIC_FLOOR", 0.2), setting("FAQ_SEMANTIC_FULL", 0.5)

    def meaning(pk):
        return min(1.0, max(0.0, cosines.get(pk, 0.0) - floor) / (full - floor))

    return {pk: 1 - (1 - lexical.get(pk, 0.0)) * (1 - weight * meaning(pk)) for pk in set(lexical) | set(cosines)}


def _confidence(lexical, cosines, details):
    """Whether a result (its translation group and the ids of its entries) is good enough to show
    as the answer rather than as related: its words match well (FAQ_SEARCH_CONFIDENT, on the
    lexical score), or its meaning is a near paraphrase (FAQ_SEARCH_CONFIDENT_COSINE), or both legs
    rank it first and its words match fairly (FAQ_SEARCH_CONFIDENT_AGREED). A cosine alone says
    little below a paraphrase: two questions about the library share much of their meaning."""
    words_at, meaning_at = setting("FAQ_SEARCH_CONFIDENT", 0.4), setting("FAQ_SEARCH_CONFIDENT_COSINE", 0.6)
    agreed_at = setting("FAQ_SEARCH_CONFIDENT_AGREED", 0.3)
    first = {_group(details, max(leg, key=leg.get)) for leg in (lexical, cosines) if leg}
    agreed = first.pop() if len(first) == 1 and lexical and cosines else None

    def confident(group, ids):
        words, meaning = max(lexical.get(i, 0.0) for i in ids), max(cosines.get(i, 0.0) for i in ids)
        return words >= words_at or meaning >= meaning_at or (group == agreed and words >= agreed_at)

    return confident


def _group(details, pk):
    return details[pk]["translation_of_id"] or pk


def _selective(terms, df, budget):
    """The terms worth asking the engine for, rarest first.

    In a large index, a term in more than FAQ_SEARCH_CANDIDATE_MAX_DF of the entries (and more than
    1,000 of them) selects nothing and costs a long posting list; it still counts when candidates
    are scored. Terms are taken rarest first while the entries containing them stay within the rank
    budget (the engine ranks every entry it matches); the rarest one is always asked for."""
    n = df.get(DOCS_KEY, 0)
    common = max(setting("FAQ_SEARCH_CANDIDATE_MAX_DF_FLOOR", 1000), n * setting("FAQ_SEARCH_CANDIDATE_MAX_DF", 0.01))
    chosen, matched = [], 0
    for t in sorted(terms, key=lambda t: (df.get(t, 0), t)):
        matched += df.get(t, 0)
        if chosen and (df.get(t, 0) > common or matched > budget):
            break
        chosen.append(t)
    return chosen


_COLUMNS = ("id", "slug", "question", "answer", "language", "translation_of_id", "search_question", "search_answer",
            "library_id", "status")


def _entries(*, ids=(), translations_of=(), library_id):
    """The library's published entries by id, and those that are translations of the given ids:
    {id: dict}.

    Two indexed lookups (primary key, translation_of_id), not one OR that scans the table."""
    out = {}
    with connection.cursor() as c:
        for column, values in (("id", list(ids)), ("translation_of_id", list(translations_of))):
            if not values:
                continue
            marks = ",".join(["%s"] * len(values))
            # The status is checked here, not in SQL: given `status = …` SQLite's planner may
            # prefer the status index and scan every published entry.
            c.execute(f"SELECT {', '.join(_COLUMNS)} FROM reference_faqentry WHERE {column} IN ({marks})", values)
            rows = (dict(zip(_COLUMNS, row, strict=True)) for row in c.fetchall())
            out.update({row["id"]: row for row in rows
                        if row["status"] == "published" and row["library_id"] == library_id})
    return out


def _arrange(scores, details, lang, limit, threshold, confident, library_id):
    """One result per translation pair, scored by its best member and shown in the reader's
    language where the pair has one; `confident(group, ids)` (_confidence) marks the answers."""
    # The threshold decides whether the query is answered at all (its best match must pass);
    # then the entries scoring at least FAQ_SEARCH_RELATIVE_CUT of the best one come along.
    top = max(scores.values(), default=0.0)
    if top < threshold or top <= 0:
        return []
    floor = min(threshold, top * setting("FAQ_SEARCH_RELATIVE_CUT", 0.4))
    passing = {i: s for i, s in scores.items() if s >= floor}
    best = sorted(passing, key=lambda i: -passing[i])[: limit * 2]
    entries = {pk: details[pk] for pk in best}
    # The other members of each pair: originals of matched translations, translations of matches.
    originals = {e["translation_of_id"] for e in entries.values() if e["translation_of_id"]}
    entries.update(_entries(ids=originals - set(entries), translations_of=best, library_id=library_id))
    group_of = {pk: (e["translation_of_id"] or pk) for pk, e in entries.items()}
    groups = {}
    for pk in best:
        g = group_of[pk]
        groups[g] = max(groups.get(g, 0.0), passing[pk])
    results = []
    for g in sorted(groups, key=lambda g: -groups[g])[:limit]:
        members = [e for pk, e in entries.items() if group_of[pk] == g]
        members.sort(key=lambda e: (e["language"] != lang, -passing.get(e["id"], 0.0), e["id"]))
        shown, others = members[0], members[1:]
        answer = confident(g, [e["id"] for e in members])
        results.append(Hit(shown["id"], shown["slug"], shown["question"], shown["answer"], shown["language"],
                           round(groups[g], 4), shown["translation_of_id"], confident=answer,
                           translations=[{k: e[k] for k in ("id", "slug", "question", "language")} for e in others]))
    return results
