"""The patron's rating of a chat that has ended: 1 to 5 and an optional comment.

Stored on the conversation; rating again replaces the earlier rating. Only the patron of the
conversation rates, and only once it is closed.
"""

from django.db import transaction
from django.utils import timezone

from reference.errors import ServiceError
from reference.models import Conversation

COMMENT_MAX_LENGTH = 1000


def check_rating(rating, comment):
    if not isinstance(rating, int) or isinstance(rating, bool) or not 1 <= rating <= 5:
        raise ServiceError("invalid_rating")
    if not isinstance(comment, str):
        raise ServiceError("invalid_frame", field="comment")
    comment = comment.strip()
    if len(comment) > COMMENT_MAX_LENGTH:
        raise ServiceError("comment_too_long", limit=COMMENT_MAX_LENGTH)
    return rating, comment


def locked_closed_conversation(*, patron_id, conversation_id):
    """The patron's own conversation, locked, once it has ended: what a rating or survey is about.
    Call it inside a transaction."""
    conversation = Conversation.objects.select_for_update().filter(pk=conversation_id, patron_id=patron_id).first()
    if conversation is None or patron_id is None:  # an anonymised chat belongs to nobody
        raise ServiceError("not_found")
    if not conversation.is_closed:
        raise ServiceError("not_closed")
    return conversation


def do_rate(*, patron_id, conversation_id, rating, comment=""):
    rating, comment = check_rating(rating, comment)
    with transaction.atomic():
        conversation = locked_closed_conversation(patron_id=patron_id, conversation_id=conversation_id)
        conversation.rating, conversation.rating_comment = rating, comment
        conversation.rated_at = timezone.now()
        conversation.save(update_fields=["rating", "rating_comment", "rated_at"])
    return conversation
