"""Removing patrons' personal data while the desk's figures stay correct.

Used by the retention periods (reference.retention) and by a patron's request (reference.patron_data).
What an anonymised conversation keeps: its queue, site, librarian, times, status, rating number,
survey choices and scores, topics, READ scale and question type, the number and order of its
messages and who (patron or librarian) sent each. What goes: the link to the patron, every text
(question, messages and their search terms, rating comment, survey texts, transfer notes), internal
notes and files.
"""

from django.db import transaction
from django.utils import timezone

from reference.faq.models import FaqEntry
from reference.models import Attachment, Conversation, InternalNote, Message, Patron, SurveyAnswer, Transfer

BATCH = 500


def remove_attachments(attachments):
    """Delete the files from storage, then their rows; each message that sent one says so.
    Returns how many. The file goes first: a row without a file is harmless, a file without a row
    would be kept forever."""
    count = 0
    for attachment in attachments.iterator(chunk_size=BATCH):
        attachment.file.delete(save=False)
        with transaction.atomic():
            Message.objects.filter(attachment=attachment).update(attachment_removed=True)
            attachment.delete()
        count += 1
    return count


def anonymise_conversations(conversation_ids):
    """Anonymise these conversations (closed ones only; the rest are left alone). Returns how many.
    Their patrons stay: the caller deletes those left without a chat (delete_patrons)."""
    ids = list(Conversation.objects.filter(pk__in=list(conversation_ids), status=Conversation.Status.CLOSED,
                                           anonymised_at__isnull=True).values_list("pk", flat=True))
    for start in range(0, len(ids), BATCH):
        _anonymise_batch(ids[start:start + BATCH])
    return len(ids)


def _anonymise_batch(ids):
    remove_attachments(Attachment.objects.filter(conversation_id__in=ids))
    with transaction.atomic():
        Message.objects.filter(conversation_id__in=ids).update(text="", search_terms="", client_id="")
        Message.objects.filter(conversation_id__in=ids, role="patron").update(author_name="")
        InternalNote.objects.filter(conversation_id__in=ids).delete()
        Transfer.objects.filter(conversation_id__in=ids).exclude(note="").update(note="")
        SurveyAnswer.objects.filter(conversation_id__in=ids).exclude(text="").update(text="")
        FaqEntry.source_conversations.through.objects.filter(conversation_id__in=ids).delete()
        Conversation.objects.filter(pk__in=ids).update(
            patron=None, subject="", rating_comment="", anonymised_at=timezone.now())


def delete_patrons(patrons):
    """Delete patrons (their card number and notes about them go with them) with the files they
    uploaded. Their conversations must have been anonymised first; any left are detached.
    Returns how many."""
    patron_ids = list(patrons.values_list("pk", flat=True))
    remove_attachments(Attachment.objects.filter(patron_id__in=patron_ids))
    deleted, _rows = Patron.objects.filter(pk__in=patron_ids).delete()
    return len(patron_ids) if deleted else 0
