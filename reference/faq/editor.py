"""The staff FAQ editor (templates/faq/edit.html): what its form shows and how a post is saved.

The answer is written in Markdown (reference/faq/answers.py renders it); topics are chosen from
the FaqTopic labels in the staff member's language, or added by typing a new label.
"""

from django.db import transaction
from django.db.models import Q
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from reference.errors import ServiceError
from reference.faq import services
from reference.faq.answers import MAX_SOURCE_LENGTH, render_markdown, source_for_editing
from reference.faq.defaults import default_label, ensure_topics
from reference.faq.models import FaqEntry, FaqTopic

ACTIONS = {"save": None, "publish": FaqEntry.Status.PUBLISHED, "archive": FaqEntry.Status.ARCHIVED}
LABEL_LENGTH = FaqTopic._meta.get_field("label_id").max_length
SLUG_LENGTH = FaqTopic._meta.get_field("slug").max_length
BAD_LABEL = _("A new topic needs a label of letters or digits, at most %(limit)s characters.")


def form_values(entry, data=None):
    """The form's fields: the entry's (the answer as Markdown), or what was posted when the save
    was refused, so nothing typed is lost."""
    if data is None:
        return {"slug": entry.slug, "language": entry.language, "question": entry.question,
                "answer": source_for_editing(entry), "topics": list(entry.topics), "new_topic": ""}
    return {"slug": data.get("slug", entry.slug), "language": data.get("language", entry.language),
            "question": data.get("question", ""), "answer": data.get("answer", ""),
            "topics": posted_topics(data), "new_topic": data.get("new_topic", "")}


def preview_html(source):
    """The answer as the public page will show it; nothing for a text too long to save."""
    return render_markdown(source) if len(source) <= MAX_SOURCE_LENGTH else ""


def posted_topics(data):
    """The ticked topic slugs (a value may also list several, separated by commas)."""
    slugs = (t.strip() for value in data.getlist("topics") for t in value.split(","))
    return list(dict.fromkeys(s for s in slugs if s))


def topic_choices(selected, language):
    """[{"slug", "label", "checked"}] of every topic, the entry's first (in view above a long list),
    then by label in `language`; a topic of the entry that has no FaqTopic yet is listed too."""
    labels = {t.slug: t.label(language) for t in FaqTopic.objects.all()}
    for slug in selected:
        labels.setdefault(slug, default_label(slug))
    return sorted(({"slug": s, "label": label, "checked": s in selected} for s, label in labels.items()),
                  key=lambda c: (not c["checked"], c["label"].casefold()))


def add_topic(label, language):
    """The slug of the topic a staff member typed: an existing one with that label (in either
    language) or that slug, else a new FaqTopic (ensure_topics) labelled so in `language`."""
    label = " ".join(label.split())
    slug = slugify(label)[:SLUG_LENGTH].strip("-")
    if not slug or len(label) > LABEL_LENGTH:
        raise ServiceError("faq_bad_topic_label", BAD_LABEL, field="new_topic", limit=LABEL_LENGTH)
    existing = FaqTopic.objects.filter(Q(label_id__iexact=label) | Q(label_en__iexact=label) | Q(slug=slug)).first()
    if existing is not None:
        return existing.slug
    ensure_topics(FaqTopic, FaqEntry, [slug])
    FaqTopic.objects.filter(slug=slug).update(**{f"label_{language}": label})
    return slug


@transaction.atomic
def save_from_form(entry, data, *, editor, language):
    """Save a post of the editor form; `language` is the staff member's, for a new topic's label.
    A refused save (ServiceError) changes nothing, a new topic included."""
    action = data.get("action", "save")
    if action not in ACTIONS:
        action = "save"
    topics = posted_topics(data)
    if data.get("new_topic", "").strip():
        topics.append(add_topic(data["new_topic"], language))
    return services.save_entry(
        entry=entry, slug=data.get("slug", entry.slug).strip(), language=data.get("language", entry.language),
        question=data.get("question", ""), answer_source=data.get("answer", ""), topics=list(dict.fromkeys(topics)),
        translation_of=entry.translation_of, status=ACTIONS[action], editor=editor, action=action)
