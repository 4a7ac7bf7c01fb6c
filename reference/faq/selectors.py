"""Reads for the FAQ pages and the API."""

from django.db.models import Sum
from django.urls import reverse

from reference.faq.models import FaqEntry, FaqSearchMiss
from reference.faq.sanitize import excerpt


def published():
    return FaqEntry.objects.filter(status=FaqEntry.Status.PUBLISHED)


def topics_with_entries(language=None):
    """{topic: [entries]} of published entries, topics sorted, entries most viewed first."""
    qs = published().order_by("-view_count", "question")
    if language:
        qs = qs.filter(language=language)
    out = {}
    for e in qs:
        for t in e.topics or [""]:
            out.setdefault(t, []).append(e)
    return dict(sorted(out.items()))


def most_viewed(limit=10, language=None):
    qs = published().order_by("-view_count", "question")
    if language:
        qs = qs.filter(language=language)
    return list(qs[:limit])


def search_misses(limit=100):
    return list(FaqSearchMiss.objects.filter(resolved=False).order_by("-count", "-last_seen")[:limit])


def _entry_url(slug, request):
    url = reverse("faq:detail", args=[slug])
    return request.build_absolute_uri(url) if request is not None else url


def hit_payload(hit, request=None):
    """One result of /api/faq/search: the entry in the reader's language where its translation pair
    has one, the pair's other member under "translations"."""
    return {"slug": hit.slug, "question": hit.question, "answer_excerpt": excerpt(hit.answer, 240),
            "language": hit.language, "score": hit.score, "confident": hit.confident,
            "url": _entry_url(hit.slug, request),
            "translations": [{"slug": t["slug"], "question": t["question"], "language": t["language"],
                              "url": _entry_url(t["slug"], request)} for t in hit.translations]}


def totals():
    return published().aggregate(views=Sum("view_count"), answered=Sum("answered_in_widget"))
