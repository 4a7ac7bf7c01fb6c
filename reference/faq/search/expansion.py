"""Query expansion: a query's analysed words, each with its synonyms (FaqSynonym) and, for a word
the index does not know, the index terms one edit away (typo tolerance). Also the staff-edited
informal spellings (FaqSpelling) that analysis.py applies to entries and queries alike. Reads only,
except that a changed spelling re-analyses the entries it concerns."""

import time

from django.db import transaction
from django.db.models import Q
from django.db.models.signals import post_delete, post_save, pre_save

from reference.faq.models import FaqEntry, FaqSpelling, FaqSynonym
from reference.faq.search import analysis
from reference.faq.search.analysis import WORD_RE, analyse_query, fold, is_indonesian, stem_en, stem_id, words
from reference.faq.search.backends import get_backend
from reference.faq.search.base import DOCS_KEY, setting
from reference.faq.search.indexing import reindex_entry

_LETTERS = "abcdefghijklmnopqrstuvwxyz"


class _ListCache:
    """A map built from the active rows of a staff-edited model, rebuilt when they change: at once
    in this process (forget(), from the model's save/delete receivers), within
    FAQ_SEARCH_SYNONYM_TTL seconds in the others (the newest updated_at and the count are checked)."""

    def __init__(self, model, build):
        self.model, self.build = model, build
        self.stamp, self.value, self.checked = None, {}, 0.0

    def forget(self):
        self.stamp, self.checked = None, 0.0

    def get(self):
        now = time.monotonic()
        if self.stamp is not None and now - self.checked < setting("FAQ_SEARCH_SYNONYM_TTL", 5.0):
            return self.value
        active = self.model.objects.filter(is_active=True)
        stamp = active.order_by("-updated_at").values_list("updated_at", flat=True).first(), active.count()
        self.checked = now
        if stamp != self.stamp:
            self.value, self.stamp = self.build(active), stamp
        return self.value


def _terms_of(word):
    """{term: language} of a synonym-list word, as analyse_query() would give it: an Indonesian
    word only its Indonesian root (the English stripper would cut it), any other word both stems,
    marked English (loanwords the root list lacks, such as reservasi, are analysed alike both ways)."""
    if is_indonesian(word):
        return {stem_id(word): "id"}
    return {stem_id(word): "en", stem_en(word): "en"}


def _build_synonyms(active):
    """stemmed word (or phrase) → {term: language} of its synonym groups (both languages).

    A word whose stem is a word another group lists ("booking" → book, listed with buku) adds its
    own form instead of that stem, so the reservation group does not reach every question about
    books."""
    groups = [[words(p) for p in g.split(",")] for g in active.values_list("words", flat=True)]
    listed = {}
    for i, group in enumerate(groups):
        for ws in group:
            if len(ws) == 1:
                listed.setdefault(ws[0], set()).add(i)
    mapping = {}
    for i, group in enumerate(groups):
        # Single words are matched and added as they are; a phrase ("jatuh tempo") is matched when
        # its words stand together in the query, and is not itself added (its words alone mean
        # something else).
        singles, keys = {}, set()
        for ws in group:
            if len(ws) > 1:
                keys.add(" ".join(stem_id(w) for w in ws))
                keys.add(" ".join(stem_en(w) for w in ws))
                continue
            if not ws:
                continue
            for term, lang in _terms_of(ws[0]).items():
                if listed.get(term, {i}) - {i}:
                    term = ws[0]
                singles[term] = lang
                keys.add(term)
        for key in keys:
            mapping.setdefault(key, {}).update({t: lang for t, lang in singles.items() if t != key})
    return mapping


def _build_spellings(active):
    """{informal word: (standard words)}, both folded as text is; a standard of several words
    ("ortu" → "orang tua") stands for the one."""
    out = {}
    for informal, standard in active.values_list("informal", "standard"):
        key, replacement = WORD_RE.findall(fold(informal)), tuple(WORD_RE.findall(fold(standard)))
        if len(key) == 1 and replacement:
            out[key[0]] = replacement
    return out


_synonyms = _ListCache(FaqSynonym, _build_synonyms)
_spellings = _ListCache(FaqSpelling, _build_spellings)
# Index and query read the same spellings: analysis.py asks this cache for them.
analysis.set_spellings_source(_spellings.get)


def forget_synonyms():
    """Called when a synonym group changes in this process."""
    _synonyms.forget()


def forget_spellings():
    """Called when the informal spellings were changed without signals (bulk writes, a flush)."""
    _spellings.forget()


def _synonyms_changed(**kwargs):
    forget_synonyms()


def _spelling_will_change(sender, instance, **kwargs):
    instance._old_informal = sender.objects.filter(pk=instance.pk).values_list("informal", flat=True).first()


def _spelling_changed(sender, instance, **kwargs):
    """Entries whose text holds the spelling were indexed with the old list: analyse them again."""
    _spellings.forget()
    spelled = {s.lower() for s in (instance.informal, getattr(instance, "_old_informal", None)) if s}
    transaction.on_commit(lambda: _reindex_containing(spelled))


def _reindex_containing(spelled):
    found = Q()
    for s in spelled:
        found |= Q(question__icontains=s) | Q(answer__icontains=s)
    for entry in FaqEntry.objects.filter(found).iterator():
        if spelled & set(WORD_RE.findall(fold(entry.question + " " + entry.answer))):
            reindex_entry(entry)


# Connected here, with the caches they clear: a process that never loads this module has none.
post_save.connect(_synonyms_changed, sender=FaqSynonym, dispatch_uid="faq_synonyms_saved")
post_delete.connect(_synonyms_changed, sender=FaqSynonym, dispatch_uid="faq_synonyms_deleted")
pre_save.connect(_spelling_will_change, sender=FaqSpelling, dispatch_uid="faq_spellings_saving")
post_save.connect(_spelling_changed, sender=FaqSpelling, dispatch_uid="faq_spellings_saved")
post_delete.connect(_spelling_changed, sender=FaqSpelling, dispatch_uid="faq_spellings_deleted")


def _edits1(term):
    splits = [(term[:i], term[i:]) for i in range(len(term) + 1)]
    out = {a + b[1:] for a, b in splits if b}
    out |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    out |= {a + c + b[1:] for a, b in splits if b for c in _LETTERS}
    out |= {a + c + b for a, b in splits for c in _LETTERS}
    out.discard(term)
    return out


def _synonym_weight(word, lang):
    """A synonym in the other language than the query word's is its translation and counts like
    the word itself (its idf then weighs it, as any term's); one in the same language is a
    paraphrase and counts FAQ_SEARCH_SYNONYM_WEIGHT."""
    own = "id" if is_indonesian(word) else "en"
    return setting("FAQ_SEARCH_TRANSLATION_WEIGHT", 1.0) if lang != own else setting("FAQ_SEARCH_SYNONYM_WEIGHT", 0.5)


def expand(query, backend=None):
    """([[word, {term: weight}]], {term: df}) for a query: each word with its own forms, synonyms
    and typo corrections, and the document frequencies of the terms the index knows."""
    backend = backend or get_backend()
    synonyms = _synonyms.get()
    typo_w = setting("FAQ_SEARCH_TYPO_WEIGHT", 0.8)
    analysed = analyse_query(query)[: setting("FAQ_SEARCH_MAX_QUERY_WORDS", 40)]
    expanded = []
    for word, forms in analysed:
        weights = dict.fromkeys(forms, 1.0)
        for f in (word, *forms):
            for syn, lang in synonyms.get(f, {}).items():
                weights.setdefault(syn, _synonym_weight(word, lang))
        expanded.append([word, weights])
    # Phrases of the synonym list, matched on neighbouring words of the full query.
    plain = [(w, stem_id(w), stem_en(w)) for w in words(query)]
    for i in range(len(plain) - 1):
        for a, b in ((plain[i][1], plain[i + 1][1]), (plain[i][2], plain[i + 1][2])):
            for syn, lang in synonyms.get(f"{a} {b}", {}).items():
                target = next((e for e in expanded if a in e[1] or b in e[1]), None)
                if target is None:
                    target = [f"{a} {b}", {}]
                    expanded.append(target)
                target[1].setdefault(syn, _synonym_weight(plain[i][0], lang))
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
            close = sorted((v for v in known if word in variants[v]), key=lambda v: (-known[v], v))
            for v in close[:3]:
                w.setdefault(v, typo_w)
                for s, lang in synonyms.get(v, {}).items():
                    w.setdefault(s, typo_w * _synonym_weight(v, lang))
    return expanded, df
