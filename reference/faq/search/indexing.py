"""Indexing: an entry's analysed fields, the vocabulary (FaqTerm document frequencies), the
vendor index and, with the semantic leg on, the entry's vector (semantic.py), kept in step with
every change (reindex_entry) or rebuilt in bulk (rebuild_index, embed_entries)."""

from collections import Counter

from django.db import transaction
from django.db.models import F

from reference.faq.models import FaqEntry, FaqTerm
from reference.faq.sanitize import html_to_text
from reference.faq.search import semantic
from reference.faq.search.analysis import analyse
from reference.faq.search.backends import get_backend
from reference.faq.search.base import DOCS_KEY


def analysed_fields(entry):
    """(question terms, answer terms) of an entry, in its own language."""
    return " ".join(analyse(entry.question, entry.language)), " ".join(
        analyse(html_to_text(entry.answer), entry.language))


def _bump_terms(terms, delta):
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
    q_terms, a_terms = analysed_fields(entry)
    old = set(entry.indexed_terms.split())
    new = set((q_terms + " " + a_terms).split()) | {DOCS_KEY} if entry.is_published else set()
    _bump_terms(sorted(old - new), -1)
    _bump_terms(sorted(new - old), +1)
    entry.search_question, entry.search_answer = q_terms, a_terms
    entry.indexed_terms = " ".join(sorted(new))
    entry.embedding = _vector(entry)
    FaqEntry.objects.filter(pk=entry.pk).update(
        search_question=q_terms, search_answer=a_terms, indexed_terms=entry.indexed_terms,
        embedding=entry.embedding)
    semantic.vectors_changed()
    backend = get_backend()
    if entry.is_published:
        backend.index(entry.pk, q_terms, a_terms)
    else:
        backend.remove(entry.pk)


@transaction.atomic
def rebuild_index(batch=2000):
    """Re-analyse every entry and rebuild the vocabulary and the vendor index (bulk loads)."""
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
    if semantic.enabled():
        embed_entries(missing_only=True)


def _vector(entry):
    """The entry's vector bytes: none unless it is published and the semantic leg is on (an entry
    changed while the leg is off loses its vector, so `faq_embed --missing` finds it later)."""
    if entry.is_published and semantic.enabled():
        return semantic.entry_vectors([entry])[0]
    return None


def embed_entries(*, missing_only=False, batch=256):
    """Write the vectors of published entries (with missing_only, of those without one) and clear
    those of the others. Returns (vectors written, vectors cleared)."""
    published = FaqEntry.Status.PUBLISHED
    cleared = FaqEntry.objects.exclude(status=published).filter(embedding__isnull=False).update(embedding=None)
    todo = FaqEntry.objects.filter(status=published)
    if missing_only:
        todo = todo.filter(embedding__isnull=True)
    written = 0
    # Ids first, then the rows batch by batch: no cursor left open on the table being written.
    ids = list(todo.order_by("id").values_list("id", flat=True))
    for start in range(0, len(ids), batch):
        entries = list(FaqEntry.objects.filter(pk__in=ids[start:start + batch]).only("id", "question", "answer"))
        for entry, vector in zip(entries, semantic.entry_vectors(entries), strict=True):
            entry.embedding = vector
        FaqEntry.objects.bulk_update(entries, ["embedding"])
        written += len(entries)
    semantic.vectors_changed()
    return written, cleared
