"""“Email me this transcript”: after a chat, the patron gets it as HTML and plain text.

In the patron's language, times in the library's time zone, at most
TRANSCRIPT_EMAILS_PER_CONVERSATION times per conversation (a form on a public widget must not
become a way to send mail to anybody, endlessly), to one recipient at most
RT_LIMIT_TRANSCRIPTS_PER_RECIPIENT times whoever asks (reference.limits), and never for a question
left offline: its answer goes to the patron by email anyway. Attachments are listed by name: their links
expire, so they are not in the email.
"""

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.conf import settings
from django.db.models import F
from django.utils.translation import gettext as _

from reference import limits, mail
from reference.errors import ServiceError
from reference.models import Conversation, Role
from reference.validation import clean_email


async def send_transcript(*, patron_id, conversation_id, address):
    """Check, count and compose on the database thread; send off it, so a slow mail server never
    holds up the messages of other chats. A send that fails does not count."""
    email = await database_sync_to_async(compose_transcript)(
        patron_id=patron_id, conversation_id=conversation_id, address=address)
    try:
        await limits.acheck((limits.TRANSCRIPTS_PER_RECIPIENT, limits.recipient_key(email.to[0])))
    except ServiceError:
        await database_sync_to_async(_uncount)(conversation_id)
        raise
    try:
        await sync_to_async(email.send, thread_sensitive=False)()
    except Exception:
        await database_sync_to_async(_uncount)(conversation_id)
        raise ServiceError("email_failed") from None
    return email.to[0]


def compose_transcript(*, patron_id, conversation_id, address):
    address = clean_email(address if isinstance(address, str) else "")
    if not address:
        raise ServiceError("invalid_email")
    conversation = (Conversation.objects.select_related("patron", "site", "queue")
                    .filter(pk=conversation_id, patron_id=patron_id).first())
    if conversation is None:
        raise ServiceError("not_found")
    if not conversation.is_closed:
        raise ServiceError("not_closed")
    if conversation.is_offline:  # its answer goes to the patron by email anyway
        raise ServiceError("transcript_offline")
    limit = settings.TRANSCRIPT_EMAILS_PER_CONVERSATION
    # Counted before sending, in one conditional UPDATE, so parallel requests cannot pass the cap.
    counted = Conversation.objects.filter(pk=conversation.pk, transcript_emails_sent__lt=limit).update(
        transcript_emails_sent=F("transcript_emails_sent") + 1)
    if not counted:
        raise ServiceError("transcript_limit", limit=limit)
    messages = list(conversation.messages.select_related("attachment").order_by("seq"))
    return mail.compose_for_patron(
        patron=conversation.patron, to=address, template="reference/email/transcript",
        subject=lambda: _("Your chat with %(library)s") % {"library": conversation.site.name},
        context={"conversation": conversation, "site": conversation.site, "patron": conversation.patron,
                 "messages": messages, "system": Role.SYSTEM, "time_zone": settings.TIME_ZONE},
    )


def _uncount(conversation_id):
    Conversation.objects.filter(pk=conversation_id).update(transcript_emails_sent=F("transcript_emails_sent") - 1)
