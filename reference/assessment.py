"""The librarian's assessment of a chat: its topics, its READ scale value and its question type.

The READ scale (Reference Effort Assessment Data, Bella Karr Gerlich) rates the effort and
knowledge an answer took, from 1 (a direction, no expertise) to 6 (extended research, a specialist's
knowledge); docs/assessment.md explains each level.

The librarian who holds a chat assesses it while answering, or after it has closed (the patron may
have closed it first). A library whose `assessment` is `required` asks for a READ value and at
least one topic before its librarians may close a chat: `check_assessed`, called by
`lifecycle.do_close_by_librarian` under the conversation's lock. A patron closing is never blocked.

The assessment is internal to the staff: it goes to the holder's own dashboards only, never to the
conversation's group (the patron's sockets).
"""

import re

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from reference import frames, groups
from reference.errors import ServiceError
from reference.events import outbox_or_direct
from reference.faq.models import FaqEntry
from reference.models import READ_SCALE, Conversation, Library, QuestionType, Topic
from reference.protocol import is_int

# Gerlich's six levels, as the dashboard's tooltips and the transcripts explain them.
READ_LEVELS = [
    (1, _("Directions"), _("Level 1: the least effort. No special knowledge or resources: directions, opening "
                           "hours, where the toilets or the printers are. Usually under five minutes.")),
    (2, _("Quick facts"), _("Level 2: minimal effort and resources, basic knowledge: a call number, where a "
                            "known book is, a simple catalogue search, a library rule, a small problem "
                            "with a computer or the app.")),
    (3, _("Ready reference"), _("Level 3: some time and effort. Ready-reference sources or a database are "
                                "consulted, and the patron may be shown how to search.")),
    (4, _("Several sources"), _("Level 4: several sources consulted, more thorough help or instruction "
                                "(search strategies, several databases); a colleague may be asked.")),
    (5, _("Substantial research"), _("Level 5: substantial time on research with the patron, back and forth; "
                                     "many sources; a subject specialist or a colleague may be consulted.")),
    (6, _("In-depth research"), _("Level 6: the most effort and time: in-depth research over a longer time, "
                                  "specialists consulted, a follow-up or an appointment arranged.")),
]


def read_level_name(value):
    return next((name for level, name, _tip in READ_LEVELS if level == value), "")


def clean_read_scale(value):
    """None (not rated yet) or an integer from 1 to 6."""
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value not in READ_SCALE:
        raise ServiceError("invalid_read_scale")
    return value


def clean_question_type(value):
    """"" (none given) or one of QuestionType."""
    if value in (None, ""):
        return ""
    if value not in QuestionType.values:
        raise ServiceError("invalid_question_type")
    return value


def check_topics(conversation, topic_ids):
    """The topics named, each an active topic of the conversation's library. A topic deactivated
    after the chat was tagged with it may stay on the chat, but nobody adds it anew."""
    if not isinstance(topic_ids, (list, tuple)) or not all(is_int(pk) for pk in topic_ids):
        raise ServiceError("unknown_topic")
    wanted = set(topic_ids)
    kept = set(conversation.topics.values_list("pk", flat=True))
    topics = list(Topic.objects.filter(pk__in=wanted, library_id=conversation.site.library_id))
    if len(topics) != len(wanted) or any(not t.is_active and t.pk not in kept for t in topics):
        raise ServiceError("unknown_topic")
    return topics


def check_may_assess(user, conversation):
    """The holder, or after the chat closed the librarian who held it last."""
    if conversation.librarian_id != user.pk or conversation.status == Conversation.Status.QUEUED:
        raise ServiceError("not_assigned")


def do_assess(*, user, conversation_id, topic_ids, read_scale, question_type, outbox=None):
    """Save the whole assessment (it replaces the previous one) and show it on the holder's dashboards.
    Returns the conversation."""
    read_scale = clean_read_scale(read_scale)
    question_type = clean_question_type(question_type)
    with transaction.atomic():
        conversation = (Conversation.objects.select_for_update(of=("self",)).select_related("site")
                        .filter(pk=conversation_id).first())
        if conversation is None:
            raise ServiceError("not_found")
        check_may_assess(user, conversation)
        topics = check_topics(conversation, topic_ids)
        conversation.read_scale = read_scale
        conversation.question_type = question_type
        conversation.save(update_fields=["read_scale", "question_type"])
        conversation.topics.set(topics)
        # Staff only: the librarian's own tabs, never groups.conversation (the patron is there).
        outbox_or_direct(outbox).publish(groups.librarian(user.pk), frames.assessment(conversation))
    return conversation


MISSING = {
    (True, False): _("pick a READ scale value"),
    (False, True): _("tag at least one topic"),
    (True, True): _("pick a READ scale value and tag at least one topic"),
}


def check_assessed(conversation):
    """A library that requires it: no librarian closes a chat without a READ value and a topic."""
    library = Library.objects.only("assessment").get(sites__pk=conversation.site_id)
    if library.assessment != Library.Assessment.REQUIRED:
        return
    missing = (conversation.read_scale is None, not conversation.topics.exists())
    if any(missing):
        raise ServiceError("assessment_required", missing=MISSING[missing], field="assessment")


# ---- the library's topics, kept by staff on /staff/topics/ (reference/topic_views.py)

LABEL_MAX_LENGTH = Topic._meta.get_field("label_id").max_length


def clean_labels(library, label_id, label_en, topic=None):
    """Both labels present, short enough, and neither used by another topic of the library."""
    labels = {"label_id": (label_id or "").strip(), "label_en": (label_en or "").strip()}
    for name, label in labels.items():
        if not label:
            raise ServiceError("field_required", label=Topic._meta.get_field(name).verbose_name, field=name)
        if len(label) > LABEL_MAX_LENGTH:
            raise ServiceError("topic_label_too_long", limit=LABEL_MAX_LENGTH, field=name)
        others = library.topics.filter(**{f"{name}__iexact": label})
        if topic is not None:
            others = others.exclude(pk=topic.pk)
        if others.exists():
            raise ServiceError("topic_exists", label=label, field=name)
    return labels


def setup(library):
    """What a dashboard's Assessment section offers: the library's active topics, and whether a
    READ value and a topic are required before closing."""
    return {"library": library.pk, "required": library.assessment == Library.Assessment.REQUIRED,
            "topics": [frames.topic_payload(t) for t in library.topics.filter(is_active=True)]}


def announce_setup(library, outbox=None):
    """The library's topics or its requirement changed: open dashboards update without a reload
    (each keeps only its own library's)."""
    outbox_or_direct(outbox).publish(groups.staff(library.pk), frames.assessment_setup(setup(library)))


def do_save_topic(*, library, label_id, label_en, topic=None, outbox=None):
    """Add a topic to the library, or rename one (a chat tagged with it shows the new labels)."""
    labels = clean_labels(library, label_id, label_en, topic)
    with transaction.atomic():
        if topic is None:
            topic = Topic.objects.create(library=library, **labels)
        else:
            topic.label_id, topic.label_en = labels["label_id"], labels["label_en"]
            topic.save(update_fields=["label_id", "label_en"])
        announce_setup(library, outbox)
    return topic


def do_set_topic_active(*, topic, active, outbox=None):
    """An inactive topic is no longer offered; the chats tagged with it keep it."""
    with transaction.atomic():
        topic.is_active = active
        topic.save(update_fields=["is_active"])
        announce_setup(topic.library, outbox)
    return topic


def faq_label(word):
    """An FAQ topic is a word or a hyphenated slug ("local-history"): "Local history"; "e-book" stays."""
    text = re.sub(r"(?<=\w\w)-(?=\w\w)", " ", word.strip())
    return text[:1].upper() + text[1:]


def faq_topics_missing(library):
    """The FAQ entries' topics (archived entries aside) the library has no topic for yet, as labels.
    FAQ topics are single words, so both labels start as the same text for staff to translate."""
    have = {label.casefold() for pair in library.topics.values_list("label_id", "label_en") for label in pair}
    found = {}
    for topics in FaqEntry.objects.exclude(status=FaqEntry.Status.ARCHIVED).values_list("topics", flat=True):
        for word in topics if isinstance(topics, list) else ():
            if isinstance(word, str) and word.strip():
                label = faq_label(word)[:LABEL_MAX_LENGTH]
                if label.casefold() not in have and word.strip().casefold() not in have:
                    found.setdefault(label.casefold(), label)
    return sorted(found.values(), key=str.casefold)


def do_add_faq_topics(*, library, outbox=None):
    """Add every FAQ topic the library does not have yet. Returns how many were added."""
    with transaction.atomic():
        labels = faq_topics_missing(library)
        Topic.objects.bulk_create([Topic(library=library, label_id=label, label_en=label) for label in labels])
        if labels:
            announce_setup(library, outbox)
    return len(labels)
