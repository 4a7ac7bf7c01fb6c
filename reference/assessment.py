"""The librarian's assessment of a chat: its topics, its READ scale value and its question type.

The READ scale (Reference Effort Assessment Data, Bella Karr Gerlich) rates the effort and
knowledge an answer took, from 1 (a direction, no expertise) to 6 (extended research, a specialist's
knowledge); docs/workbench-assessment.md explains each level.

The librarian who holds a chat assesses it while answering, or after it has closed (the patron may
have closed it first). A library whose `assessment` is `required` asks for a READ value and at
least one topic before its librarians may close a chat: `check_assessed`, called by
`lifecycle.do_close_by_librarian` under the conversation's lock. A patron closing is never blocked.

The assessment is internal to the staff: it goes to the holder's own dashboards only, never to the
conversation's group (the patron's sockets).
"""

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from reference import frames, groups
from reference.errors import ServiceError
from reference.events import outbox_or_direct
from reference.models import READ_SCALE, Conversation, Library, QuestionType, Topic


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
    if not isinstance(topic_ids, (list, tuple)) or not all(
            isinstance(pk, int) and not isinstance(pk, bool) for pk in topic_ids):
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
