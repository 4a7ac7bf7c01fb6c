"""From transcripts to FAQ drafts: drafts from selected messages, and candidate FAQs.

Opted-out conversations (Conversation.faq_opt_out) never feed either.
"""

import html
import re
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db import transaction
from django.utils import timezone

from reference import audit
from reference.errors import ServiceError
from reference.faq.models import FaqEntry
from reference.faq.redaction import LABELS, redact, review_html
from reference.faq.search import search
from reference.faq.search.analysis import analyse
from reference.faq.search.service import library_id_of
from reference.faq.services import save_entry, unique_slug
from reference.models import Conversation, Role
from reference.selectors import visible_transcripts

PLACEHOLDER_RE = re.compile("|".join(re.escape(label) for label in LABELS.values()))


def check_transcript_usable(conversation):
    if conversation.anonymised_at is not None:
        raise ServiceError("faq_transcript_anonymised")
    if conversation.status != Conversation.Status.CLOSED:
        raise ServiceError("faq_transcript_open")
    if conversation.faq_opt_out:
        raise ServiceError("faq_opted_out")


def set_opt_out(conversation, opt_out=True):
    """The patron's choice, for this conversation only."""
    type(conversation).objects.filter(pk=conversation.pk).update(faq_opt_out=bool(opt_out))
    conversation.faq_opt_out = bool(opt_out)


def redaction_context(conversation):
    """What redact() needs to know about a conversation: the patron's own form data (name, e-mail,
    library card number) to remove, and the library's public contacts to keep."""
    patron = conversation.patron
    names, emails, cards = [], [], []
    if patron is not None:
        names = [patron.name] if patron.name else []
        emails = [patron.email] if patron.email else []
        try:
            cards = [patron.library_card.number] if patron.library_card.number else []
        except ObjectDoesNotExist:
            pass
    return {"names": names, "emails": emails, "card_numbers": cards, "allow": allow_list(conversation.site.library)}


@transaction.atomic
def create_draft_from_transcript(*, conversation, message_ids, editor=None, language=None):
    """A draft entry of the conversation's library: the selected patron messages as its question,
    the librarian's as its answer, with personal data replaced by placeholders ([EMAIL], [NIK]…)
    that the review page highlights. The audit trail records who drafted it and how many
    placeholders it holds. The caller checks that `editor` may read the transcript
    (reference.selectors.visible_transcript)."""
    check_transcript_usable(conversation)
    messages = list(conversation.messages.filter(pk__in=message_ids).order_by("seq"))
    if not messages:
        raise ServiceError("faq_no_messages")
    context = redaction_context(conversation)
    patron_parts = [redact(m.text, **context) for m in messages if m.role == Role.PATRON]
    # A message that only sends a file has no text to reuse.
    answer_parts = [redact(m.text, **context) for m in messages if m.role == Role.LIBRARIAN and m.text]
    question = " ".join(r.text for r in patron_parts).strip()
    if not question:
        raise ServiceError("faq_no_patron_message")
    if not answer_parts:
        raise ServiceError("faq_no_librarian_message")
    patron_language = conversation.patron.language if conversation.patron is not None else None
    language = language or (patron_language if patron_language in ("id", "en") else "id")
    # Each librarian message a Markdown paragraph: their line breaks and numbered steps stay.
    entry = save_entry(slug=unique_slug(question), language=language, question=question[:500],
                       answer_source="\n\n".join(r.text for r in answer_parts), topics=[], editor=editor,
                       action="draft from transcript", library=conversation.site.library_id)
    entry.source_conversations.add(conversation)
    audit.record(audit.Action.REDACT, user=editor, actor=None if editor is not None else "system",
                 library_id=conversation.site.library_id, conversation_id=conversation.pk, entry_id=entry.pk,
                 placeholders=redaction_count(entry))
    return entry


def allow_list(library):
    """Strings redaction keeps: the library's public contacts (one per line) and FAQ_REDACTION_ALLOW."""
    contacts = library.contact_list if library is not None else []
    return contacts + [a for a in getattr(settings, "FAQ_REDACTION_ALLOW", []) if a]


def _plain(answer_html):
    text = re.sub(r"(?i)</p>|<br\s*/?>|</li>", "\n", answer_html or "")
    return html.unescape(re.sub(r"<[^>]*>", "", text)).strip()


def draft_review(entry):
    """For the edit page: the question and the answer (as text) in HTML, each placeholder highlighted
    and each leftover that may still be personal data (redaction.suspicious) marked with its reason,
    and the leftovers as a list [{"text", "reason", "part"}]."""
    conversation = entry.source_conversations.select_related("site__library").first()
    allow = allow_list(conversation.site.library if conversation is not None else None)
    question_html, in_question = review_html(entry.question, allow=allow)
    answer = _plain(entry.answer)
    answer_html, in_answer = review_html(answer, allow=allow)
    leftovers = ([{"text": entry.question[x.start:x.end], "reason": x.reason, "part": "question"} for x in in_question]
                 + [{"text": answer[x.start:x.end], "reason": x.reason, "part": "answer"} for x in in_answer])
    return {"question_html": question_html, "answer_html": answer_html, "leftovers": leftovers}


def redaction_count(entry):
    return len(PLACEHOLDER_RE.findall(entry.question)) + len(PLACEHOLDER_RE.findall(entry.answer))


def candidate_faqs(*, library=None, user=None, days=30, min_size=2, similarity=0.34, limit=50):
    """Groups of similar opening questions from the library's (None: the first library's) recent
    conversations (of those `user`
    may read, when given) that no published entry of the library answers well (no confident search
    result), largest first.

    Returns [{"count", "question", "conversation_ids"}].
    """
    since = timezone.now() - timedelta(days=days)
    library_id = library_id_of(library)
    conversations = Conversation.objects.filter(site__library_id=library_id)
    if user is not None:
        conversations = conversations.filter(visible_transcripts(user))
    rows = (conversations.filter(created_at__gte=since, faq_opt_out=False, anonymised_at__isnull=True)
            .order_by("created_at").values_list("pk", "subject", "patron__language"))
    groups = []
    for pk, subject, lang in rows:
        terms = set(analyse(subject, lang if lang in ("id", "en") else "id"))
        if not terms:
            continue
        hits = search(subject, lang=lang or "id", limit=1, threshold=0, library=library_id)
        if hits.results and hits.results[0].confident:
            continue
        for g in groups:
            if len(terms & g["terms"]) / len(terms | g["terms"]) >= similarity:
                g["conversation_ids"].append(pk)
                g["terms"] |= terms
                break
        else:
            groups.append({"question": subject, "terms": terms, "conversation_ids": [pk]})
    out = [{"count": len(g["conversation_ids"]), "question": g["question"], "conversation_ids": g["conversation_ids"]}
           for g in groups if len(g["conversation_ids"]) >= min_size]
    out.sort(key=lambda g: -g["count"])
    return out[:limit]


def opt_out_conversation(identity):
    """The conversation a patron's FAQ opt-out is about: their open one, else their most recent one
    from that site (a question left offline is closed at once)."""
    mine = Conversation.objects.filter(patron_id=identity.patron_id, site__key=identity.site_key)
    return (mine.exclude(status=Conversation.Status.CLOSED).select_related("site").first()
            or mine.select_related("site").order_by("-created_at", "-pk").first())


def do_opt_out(*, identity, opt_out=True):
    """The patron (from their signed token) keeps their conversation out of FAQ reuse, or lets it
    back in. A change is recorded in the audit trail; a repeat that changes nothing is not.

    Returns the conversation, or None when they have none yet."""
    conversation = opt_out_conversation(identity)
    if conversation is None:
        return None
    opt_out = bool(opt_out)
    with transaction.atomic():
        changed = Conversation.objects.filter(pk=conversation.pk).exclude(faq_opt_out=opt_out).update(
            faq_opt_out=opt_out)
        if changed and opt_out:
            # A draft made before the patron said no no longer names this chat as its source.
            FaqEntry.source_conversations.through.objects.filter(conversation_id=conversation.pk).delete()
        if changed:
            audit.record(audit.Action.OPT_OUT, actor=audit.PATRON, library_id=conversation.site.library_id,
                         conversation_id=conversation.pk, opt_out=opt_out)
    conversation.faq_opt_out = opt_out
    return conversation
