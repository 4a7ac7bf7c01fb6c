"""Query expansion: a query's analysed words, each with its synonyms (FaqSynonym) and, for a word
the index does not know, the index terms one edit away (typo tolerance). Reads only."""

import time

from django.db.models.signals import post_delete, post_save

from reference.faq.models import FaqSynonym
from reference.faq.search.analysis import analyse_query, stem_en, stem_id, words
from reference.faq.search.backends import get_backend
from reference.faq.search.base import DOCS_KEY, setting

_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_synonym_cache = {"stamp": None, "map": {}, "checked": 0.0}


def forget_synonyms():
    """Called when a synonym group changes in this process; other processes notice within
    FAQ_SEARCH_SYNONYM_TTL seconds."""
    _synonym_cache.update(stamp=None, checked=0.0)


def _synonyms_changed(**kwargs):
    forget_synonyms()


# Connected here, with the cache they clear: a process that never loads this module has no cache.
post_save.connect(_synonyms_changed, sender=FaqSynonym, dispatch_uid="faq_synonyms_saved")
post_delete.connect(_synonyms_changed, sender=FaqSynonym, dispatch_uid="faq_synonyms_deleted")


def _synonym_map():
    """stemmed word (or phrase) → set of stemmed words of its synonym groups (both languages)."""
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


def expand(query, backend=None):
    """([[word, {term: weight}]], {term: df}) for a query: each word with its own forms, synonyms
    and typo corrections, and the document frequencies of the terms the index knows."""
    backend = backend or get_backend()
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
    df = backend.document_frequencies(list(all_terms))
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
        known = backend.document_frequencies(list(variants))
        df.update(known)
        for word, w in unknown:
            close = [v for v in known if word in variants[v]]
            close.sort(key=lambda v: -known[v])
            for v in close[:3]:
                w.setdefault(v, typo_w)
                for s in synonyms.get(v, ()):
                    w.setdefault(s, typo_w * syn_w)
    return expanded, df
