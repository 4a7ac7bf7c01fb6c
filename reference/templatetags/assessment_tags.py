"""What the Assessment section and the transcripts show of reference.assessment: the READ scale's
levels and the question types, in the active language."""

from django import template
from django.utils import translation

from reference.assessment import READ_LEVELS, read_level_name
from reference.models import QuestionType

register = template.Library()


@register.simple_tag
def read_scale_levels():
    return READ_LEVELS


@register.simple_tag
def question_types():
    return QuestionType.choices


@register.filter
def read_level(value):
    """The READ value with its level's short name: "3 · Ready reference"."""
    return f"{value} · {read_level_name(value)}" if value else ""


@register.filter
def topic_label(topic):
    """The topic's label in the active language."""
    return topic.label_en if (translation.get_language() or "").startswith("en") else topic.label_id
