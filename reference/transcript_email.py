"""“Email me this transcript”: after a chat, the patron gets it as HTML and plain text.

In the patron's language, times in the library's time zone, at most
TRANSCRIPT_EMAILS_PER_CONVERSATION times per conversation (a form on a public widget must not
become a way to send mail to anybody, endlessly). Attachments are listed by name: their links
expire, so they are not in the email.
"""

from django.conf import settings
from django.db.models import F
from django.utils.translation import gettext as _

from reference import mail
from reference.errors import ServiceError
from reference.models import Conversation, Role
from reference.validation import clean_email


def send_transcript(*, patron_id, conversation_id, address):
    address = clean_email(address if isinstance(address, str) else "")
    if not address:
        raise ServiceError("invalid_email")
    conversation = (Conversation.objects.select_related("patron", "site", "queue")
                    .filter(pk=conversation_id, patron_id=patron_id).first())
    if conversation is None:
        raise ServiceError("not_found")
    if not conversation.is_closed:
        raise ServiceError("not_closed")
    limit = settings.TRANSCRIPT_EMAILS_PER_CONVERSATION
    # Counted before sending, in one conditional UPDATE, so parallel requests cannot pass the cap.
    counted = Conversation.objects.filter(pk=conversation.pk, transcript_emails_sent__lt=limit).update(
        transcript_emails_sent=F("transcript_emails_sent") + 1)
    if not counted:
        raise ServiceError("transcript_limit", limit=limit)
    try:
        _send(conversation, address)
    except Exception:
        Conversation.objects.filter(pk=conversation.pk).update(
            transcript_emails_sent=F("transcript_emails_sent") - 1)
        raise ServiceError("email_failed") from None
    return address


def _send(conversation, address):
    messages = list(conversation.messages.select_related("attachment").order_by("seq"))
    mail.send_to_patron(
        patron=conversation.patron, to=address, template="reference/email/transcript",
        subject=lambda: _("Your chat with %(library)s") % {"library": conversation.site.name},
        context={"conversation": conversation, "site": conversation.site, "patron": conversation.patron,
                 "messages": messages, "system": Role.SYSTEM, "time_zone": settings.TIME_ZONE},
    )
