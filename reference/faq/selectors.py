"""Reads for the FAQ pages and the API: each of one library's FAQ (reference.faq.libraries).

The pages keep to one language: a translation pair (an entry and its published translations, linked
by `translation_of`) is listed once, by its member in the reader's language, and a question that
exists only in the other language is listed too, marked with its language (`Listed`).
"""

from dataclasses import dataclass, field

from django.db.models import Q, Sum
from django.urls import reverse
from django.utils.text import slugify

from reference.faq.defaults import default_label
from reference.faq.models import FaqEntry, FaqSearchMiss, FaqTopic
from reference.faq.sanitize import excerpt

# What a list of questions needs: not the answers, the index columns nor the embeddings.
_LISTED_FIELDS = ("id", "slug", "question", "language", "topics", "translation_of_id", "view_count")


def published(library=None):
    """The published entries of `library` (a Library or its id), or of every library with None."""
    entries = FaqEntry.objects.filter(status=FaqEntry.Status.PUBLISHED)
    return entries if library is None else entries.filter(library_id=getattr(library, "pk", library))


@dataclass
class Topic:
    slug: str
    label: str


@dataclass
class Listed:
    """One question as a page lists it: `entry` is the pair's member in the reader's language, else
    the only one there is (`other_language`, which the page marks)."""

    entry: FaqEntry
    other_language: bool
    views: int  # the pair's, in both languages
    topics: list = field(default_factory=list)  # the slugs of every member's topics


def pair_key(entry):
    """The id the members of a translation pair share (the original's)."""
    return entry.translation_of_id or entry.id


def topic_slugs(topics):
    """Topic slugs as entries hold them, in order, each once ("Jam Buka" counts as "jam-buka")."""
    return list(dict.fromkeys(s for s in (slugify(t) for t in topics or []) if s))


def listed_entries(language, library):
    """Every published question of the library once, in `language` where the pair has it, most
    viewed first."""
    pairs = {}
    for entry in published(library).only(*_LISTED_FIELDS):
        pairs.setdefault(pair_key(entry), []).append(entry)
    listed = [_listed(members, language) for members in pairs.values()]
    listed.sort(key=lambda item: (-item.views, item.entry.question.casefold(), item.entry.id))
    return listed


def _listed(members, language):
    members.sort(key=lambda e: (e.language != language, -e.view_count, e.id))
    shown = members[0]
    topics = topic_slugs(t for e in members for t in e.topics or [])
    return Listed(shown, shown.language != language, sum(e.view_count for e in members), topics)


def topic_labels(language):
    """{slug: label in `language`} of the labelled topics."""
    return {t.slug: t.label(language) for t in FaqTopic.objects.all()}


def topics_with_entries(listed, language):
    """[(Topic, [Listed])] of the topics the `listed` questions have, by their label in `language`;
    the questions with no topic last, under Topic("", "")."""
    labels = topic_labels(language)
    by_topic = {}
    for item in listed:
        for slug in item.topics or [""]:
            by_topic.setdefault(slug, []).append(item)
    topics = sorted((Topic(s, labels.get(s) or default_label(s)) for s in by_topic if s),
                    key=lambda t: (t.label.casefold(), t.slug))
    if "" in by_topic:
        topics.append(Topic("", ""))
    return [(t, by_topic[t.slug]) for t in topics]


def topic_page(slug, language, library):
    """(Topic, [Listed]) of the library's questions for /faq/topic/<slug>/, or None for a topic
    neither labelled (topic labels are the network's) nor used."""
    entries = [item for item in listed_entries(language, library) if slug in item.topics]
    row = FaqTopic.objects.filter(slug=slug).first()
    if row is None and not entries:
        return None
    return Topic(slug, row.label(language) if row else default_label(slug)), entries


def entry_topics(entry, language):
    """The entry's topics as [Topic], labelled in `language`."""
    slugs = topic_slugs(entry.topics)
    labels = {t.slug: t.label(language) for t in FaqTopic.objects.filter(slug__in=slugs)}
    return [Topic(s, labels.get(s) or default_label(s)) for s in slugs]


def translations_of(entry):
    """The other published members of the entry's translation pair (of its library)."""
    key = pair_key(entry)
    return list(published(entry.library_id).filter(Q(pk=key) | Q(translation_of_id=key)).exclude(pk=entry.pk)
                .only(*_LISTED_FIELDS).order_by("language", "pk"))


def most_viewed(listed, limit):
    """The most viewed of the `listed` questions (listed_entries() order) that have been viewed at all."""
    return [item for item in listed if item.views][:limit]


def search_misses(library, limit=100):
    """The library's searches that found nothing, most frequent first."""
    return list(FaqSearchMiss.objects.filter(resolved=False, library_id=getattr(library, "pk", library))
                .order_by("-count", "-last_seen")[:limit])


def _entry_url(slug, request, home):
    url = f"{home}{slug}/" if home else reverse("faq:detail", args=[slug])
    return request.build_absolute_uri(url) if request is not None else url


def hit_payload(hit, request=None, home=None):
    """One result of /api/faq/search: the entry in the reader's language where its translation pair
    has one, the pair's other member under "translations". `home`: the path of the library's FAQ
    (reference.faq.libraries.home_path), which the links start from; /faq/ without it."""
    return {"slug": hit.slug, "question": hit.question, "answer_excerpt": excerpt(hit.answer, 240),
            "language": hit.language, "score": hit.score, "confident": hit.confident,
            "url": _entry_url(hit.slug, request, home),
            "translations": [{"slug": t["slug"], "question": t["question"], "language": t["language"],
                              "url": _entry_url(t["slug"], request, home)} for t in hit.translations]}


def totals(library=None):
    return published(library).aggregate(views=Sum("view_count"), answered=Sum("answered_in_widget"))
