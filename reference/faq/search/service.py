"""The search service shared by both backends (the module docstring of the package explains it)."""

import math
import time
from collections import Counter
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F

from reference.faq.search.analysis import analyse, analyse_query, stem_en, stem_id, words

DOCS_KEY = "*"
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def setting(name, default):
    return getattr(settings, name, default)


def get_backend(conn=None):
    conn = conn or connection
    if conn.vendor == "postgresql":
        from reference.faq.search.postgres import PostgresBackend

        return PostgresBackend(conn)
    if conn.vendor == "sqlite":
        from reference.faq.search.sqlite import SqliteBackend

        return SqliteBackend(conn)
    raise RuntimeError(f"FAQ search has no backend for {conn.vendor}")


@dataclass
class Hit:
    entry_id: int
    slug: str
    question: str
    answer: str
    language: str
    score: float
    translation_of_id: int | None = None


@dataclass
class SearchResponse:
    query: str
    results: list = field(default_factory=list)
    took_ms: float = 0.0
    # The query's analysed words: what a search that found nothing is counted by (record_miss).
    words: list = field(default_factory=list)


# --- indexing -------------------------------------------------------------------------------------
def analysed_fields(entry):
    """(question terms, answer terms) of an entry, in its own language."""
    from reference.faq.sanitize import html_to_text

    return " ".join(analyse(entry.question, entry.language)), " ".join(
        analyse(html_to_text(entry.answer), entry.language))


def _bump_terms(terms, delta):
    from reference.models import FaqTerm

    if not terms:
        return
    existing = set(FaqTerm.objects.filter(term__in=terms).values_list("term", flat=True))
    if delta > 0:
        FaqTerm.objects.bulk_create([FaqTerm(term=t, df=0) for t in terms if t not in existing],
                                    ignore_conflicts=True)
    FaqTerm.objects.filter(term__in=terms).update(df=F("df") + delta)
    if delta < 0:
        FaqTerm.objects.filter(term__in=terms, df__lte=0).delete()


@transaction.atomic
def reindex_entry(entry):
    """Bring an entry's analysed fields, the vocabulary and the vendor index up to date."""
    from reference.models import FaqEntry

    q_terms, a_terms = analysed_fields(entry)
    old = set(entry.indexed_terms.split())
    new = set((q_terms + " " + a_terms).split()) | {DOCS_KEY} if entry.is_published else set()
    _bump_terms(sorted(old - new), -1)
    _bump_terms(sorted(new - old), +1)
    entry.search_question, entry.search_answer = q_terms, a_terms
    entry.indexed_terms = " ".join(sorted(new))
    FaqEntry.objects.filter(pk=entry.pk).update(
        search_question=q_terms, search_answer=a_terms, indexed_terms=entry.indexed_terms)
    backend = get_backend()
    if entry.is_published:
        backend.index(entry.pk, q_terms, a_terms)
    else:
        backend.remove(entry.pk)


@transaction.atomic
def rebuild_index(batch=2000):
    """Re-analyse every entry and rebuild the vocabulary and the vendor index (bulk loads)."""
    from reference.models import FaqEntry, FaqTerm

    df = Counter()
    todo = []
    for entry in FaqEntry.objects.only("id", "question", "answer", "language", "status").iterator(chunk_size=batch):
        q_terms, a_terms = analysed_fields(entry)
        terms = set((q_terms + " " + a_terms).split()) | {DOCS_KEY} if entry.is_published else set()
        df.update(terms)
        entry.search_question, entry.search_answer, entry.indexed_terms = q_terms, a_terms, " ".join(sorted(terms))
        todo.append(entry)
        if len(todo) >= batch:
            FaqEntry.objects.bulk_update(todo, ["search_question", "search_answer", "indexed_terms"])
            todo = []
    if todo:
        FaqEntry.objects.bulk_update(todo, ["search_question", "search_answer", "indexed_terms"])
    FaqTerm.objects.all().delete()
    FaqTerm.objects.bulk_create([FaqTerm(term=t[:64], df=n) for t, n in df.items()], batch_size=batch,
                                ignore_conflicts=True)
    get_backend().rebuild()


# --- query expansion ------------------------------------------------------------------------------
_synonym_cache = {"stamp": None, "map": {}, "checked": 0.0}


def forget_synonyms():
    """Called when a synonym group changes in this process; other processes notice within
    FAQ_SEARCH_SYNONYM_TTL seconds."""
    _synonym_cache.update(stamp=None, checked=0.0)


def _synonym_map():
    """stemmed word (or phrase) → set of stemmed words of its synonym groups (both languages)."""
    from reference.models import FaqSynonym

    now = time.monotonic()
    if _synonym_cache["stamp"] is not None and now - _synonym_cache["checked"] < setting(
            "FAQ_SEARCH_SYNONYM_TTL", 5.0):
        return _synonym_cache["map"]
    active = FaqSynonym.objects.filter(is_active=True)
    stamp = active.order_by("-updated_at").values_list("updated_at", flat=True).first(), active.count()
    _synonym_cache["checked"] = now
    if _synonym_cache["stamp"] == stamp:
        return _synonym_cache["map"]
    mapping = {}
    for group in FaqSynonym.objects.filter(is_active=True).values_list("words", flat=True):
        # Single words are matched and added as they are; a phrase ("jatuh tempo") is matched when
        # its words stand together in the query, and is not itself added (its words alone mean
        # something else).
        singles, phrases = set(), set()
        for phrase in group.split(","):
            ws = words(phrase)
            if len(ws) == 1:
                singles |= {stem_id(ws[0]), stem_en(ws[0])}
            elif len(ws) > 1:
                phrases.add(" ".join(stem_id(w) for w in ws))
                phrases.add(" ".join(stem_en(w) for w in ws))
        for key in singles | phrases:
            mapping.setdefault(key, set()).update(singles - {key})
    _synonym_cache.update(stamp=stamp, map=mapping)
    return mapping


def _edits1(term):
    splits = [(term[:i], term[i:]) for i in range(len(term) + 1)]
    out = {a + b[1:] for a, b in splits if b}
    out |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    out |= {a + c + b[1:] for a, b in splits if b for c in _LETTERS}
    out |= {a + c + b for a, b in splits for c in _LETTERS}
    out.discard(term)
    return out


def _document_frequencies(terms):
    """{term: number of published entries containing it} for the terms the index knows."""
    return get_backend().document_frequencies(list(terms))


def expand(query):
    """[(word, {term: weight})] for a query: its own forms, synonyms, typo corrections."""
    synonyms = _synonym_map()
    syn_w = setting("FAQ_SEARCH_SYNONYM_WEIGHT", 0.8)
    typo_w = setting("FAQ_SEARCH_TYPO_WEIGHT", 0.8)
    analysed = analyse_query(query)[: setting("FAQ_SEARCH_MAX_QUERY_WORDS", 40)]
    expanded = []
    for word, forms in analysed:
        weights = dict.fromkeys(forms, 1.0)
        for f in forms:
            for syn in synonyms.get(f, ()):
                weights.setdefault(syn, syn_w)
        expanded.append([word, weights])
    # Phrases of the synonym list, matched on neighbouring words of the full query.
    plain = [(stem_id(w), stem_en(w)) for w in words(query)]
    for i in range(len(plain) - 1):
        for a, b in ((plain[i][0], plain[i + 1][0]), (plain[i][1], plain[i + 1][1])):
            for syn in synonyms.get(f"{a} {b}", ()):
                target = next((e for e in expanded if a in e[1] or b in e[1]), None)
                if target is None:
                    target = [f"{a} {b}", {}]
                    expanded.append(target)
                target[1].setdefault(syn, syn_w)
    all_terms = {t for _, w in expanded for t in w} | {DOCS_KEY}
    df = _document_frequencies(all_terms)
    # Typo tolerance: a word none of whose forms the index knows is matched to the index terms one
    # edit away from it (or from its stems). Numbers and very short words are left alone.
    min_length = setting("FAQ_SEARCH_TYPO_MIN_LENGTH", 5)
    unknown = [(word, w) for word, w in expanded
               if len(word) >= min_length and not word.isdigit() and not any(t in df for t in w)]
    if unknown:
        variants = {}
        for word, w in unknown:
            for base in {word, *[t for t in w if w[t] == 1.0 and len(t) >= min_length]}:
                for v in _edits1(base):
                    variants.setdefault(v, set()).add(word)
        known = _document_frequencies(variants)
        df.update(known)
        for word, w in unknown:
            close = [v for v in known if word in variants[v]]
            close.sort(key=lambda v: -known[v])
            for v in close[:3]:
                w.setdefault(v, typo_w)
                for s in synonyms.get(v, ()):
                    w.setdefault(s, typo_w * syn_w)
    return expanded, df


# --- scoring --------------------------------------------------------------------------------------
def _idf(df, n):
    return math.log(1 + (n - df + 0.5) / (df + 0.5))


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
    query_mass = sum(max((idf[t] for t in w if t in idf), default=unknown_idf) for _, w in expanded) or 1.0
    # Per query word: its known forms with weight × idf, computed once.
    words = [[(t, w[t] * idf[t]) for t in w if t in idf] for _, w in expanded]
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
                if in_q:
                    best_q = t
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


def search(query, lang="id", limit=5, threshold=None):
    """The published entries answering `query`, best first (SearchResponse). Writes nothing: a
    caller that wants a search that found nothing on the staff list calls services.record_miss()."""
    started = time.perf_counter()
    threshold = setting("FAQ_SEARCH_THRESHOLD", 0.2) if threshold is None else threshold
    response = SearchResponse(query=query)
    expanded, df = expand(query)
    response.words = [word for word, _ in expanded]
    terms = sorted({t for _, w in expanded for t in w if t in df and t != DOCS_KEY})
    if terms:
        backend = get_backend()
        budget = setting("FAQ_SEARCH_RANK_BUDGET", 5000)
        ids = backend.candidates(_selective(terms, df, budget), setting("FAQ_SEARCH_CANDIDATES", 60), budget)
        details = _entries(ids=ids)
        rows = [(pk, d["search_question"], d["search_answer"]) for pk, d in details.items()]
        question_terms = {t for _, sq, _ in rows for t in sq.split()} - set(df)
        if question_terms:
            df.update(_document_frequencies(question_terms))
        scores = score_entries(expanded, df, rows)
        response.results = _arrange(scores, details, lang, limit, threshold)
    response.took_ms = (time.perf_counter() - started) * 1000
    return response


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
            "status")


def _entries(*, ids=(), translations_of=()):
    """Published entries by id, and those that are translations of the given ids: {id: dict}.

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
            out.update({row[0]: dict(zip(_COLUMNS, row, strict=True)) for row in c.fetchall()
                        if row[-1] == "published"})
    return out


def _arrange(scores, details, lang, limit, threshold):
    """Translations share their best member's score; the asker's language first in each pair."""
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
    entries.update(_entries(ids=originals - set(entries), translations_of=best))
    group_of = {pk: (e["translation_of_id"] or pk) for pk, e in entries.items()}
    groups = {}
    for pk in best:
        g = group_of[pk]
        groups[g] = max(groups.get(g, 0.0), passing[pk])
    results, seen = [], set()
    for g in sorted(groups, key=lambda g: -groups[g]):
        members = [e for pk, e in entries.items() if group_of[pk] == g]
        members.sort(key=lambda e: (e["language"] != lang, -passing.get(e["id"], 0.0)))
        for rank, e in enumerate(members):
            if e["id"] in seen:
                continue
            seen.add(e["id"])
            score = groups[g] if rank == 0 else min(groups[g], passing.get(e["id"], groups[g] * 0.98))
            results.append(Hit(e["id"], e["slug"], e["question"], e["answer"], e["language"], round(score, 4),
                               e["translation_of_id"]))
    return results[:limit]
