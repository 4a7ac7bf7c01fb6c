"""The FAQ's shipped starting lists — synonym groups, informal spellings and topic labels — read
from reference/fixtures/. Migration 0018 installs them, so every install searches with them; staff
then edit them in the admin. Plain functions of the model classes they are given, so the migration
can call them with its historical models."""

from pathlib import Path

from django.utils.text import slugify

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def _lines(name):
    for line in (FIXTURES / name).read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            yield line


def synonym_groups():
    return list(_lines("faq-synonyms.txt"))


def spellings():
    """{informal: standard}"""
    return dict(tuple(part.strip() for part in line.split("=", 1)) for line in _lines("faq-spellings.txt"))


def topic_labels():
    """{slug: (Indonesian label, English label)}"""
    out = {}
    for line in _lines("faq-topics.txt"):
        slug, labels = (part.strip() for part in line.split("=", 1))
        label_id, label_en = (part.strip() for part in labels.split("|", 1))
        out[slug] = (label_id, label_en)
    return out


def default_label(slug):
    """A readable label for a topic nobody has labelled yet: "local-history" → "Local history"."""
    return slug.replace("-", " ").strip().capitalize() or slug


def install(synonym_model, spelling_model, topic_model, entry_model):
    """Add whatever of the shipped lists is missing; change nothing staff made. Returns the counts."""
    existing = set(synonym_model.objects.values_list("words", flat=True))
    synonyms = [synonym_model(words=w) for w in synonym_groups() if w not in existing]
    synonym_model.objects.bulk_create(synonyms)
    known = set(spelling_model.objects.values_list("informal", flat=True))
    spelled = [spelling_model(informal=k, standard=v) for k, v in spellings().items() if k not in known]
    spelling_model.objects.bulk_create(spelled)
    return len(synonyms), len(spelled), ensure_topics(topic_model, entry_model)


def ensure_topics(topic_model, entry_model, slugs=None):
    """A FaqTopic for every topic slug the entries use (or `slugs`), labelled from the shipped list."""
    if slugs is None:
        slugs = {t for topics in entry_model.objects.values_list("topics", flat=True) for t in (topics or [])}
        slugs |= set(topic_labels())
    slugs = {slugify(s) for s in slugs if s and slugify(s)}
    known = set(topic_model.objects.values_list("slug", flat=True))
    labels = topic_labels()
    new = [topic_model(slug=s, label_id=labels.get(s, (default_label(s),) * 2)[0],
                       label_en=labels.get(s, (default_label(s),) * 2)[1]) for s in sorted(slugs - known)]
    topic_model.objects.bulk_create(new)
    return len(new)
