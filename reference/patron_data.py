"""A patron's rights under UU PDP 27/2022: staff find every record of one patron, then give them a
copy (`export_zip`) or erase it (`erase`). Both are recorded in the audit trail.

One person is found as the history finds them (reference.history): by their widget identity (the
patron of a conversation), the same e-mail address (any case) or the same library card number, on
the sites of one library (the staff page's current one). Erasing anonymises their conversations
(the figures stay, reference.anonymise), deletes their files from storage, their notes and card
number, and then the patrons themselves.
"""

import json
import tempfile
import zipfile
from dataclasses import dataclass

from django.db.models import Q
from django.db.models.functions import Lower, Upper
from django.template.loader import render_to_string
from django.utils import timezone

from reference import audit
from reference.anonymise import anonymise_conversations, delete_patrons
from reference.errors import ServiceError
from reference.models import Attachment, Conversation, InternalNote, Patron
from reference.prechat import clean_card_number
from reference.presence import librarian_profile
from reference.validation import clean_email


@dataclass(frozen=True)
class Lookup:
    """What staff searched by: at least one of an e-mail, a card number or a conversation number."""

    email: str = ""
    card_number: str = ""
    conversation_id: int | None = None

    def masked(self):
        """For the audit trail: enough to recognise the request, not the address itself."""
        out = {}
        if self.email:
            name, _at, domain = self.email.partition("@")
            out["email"] = f"{name[:1]}***@{domain}"
        if self.card_number:
            out["card_number"] = f"***{self.card_number[-3:]}"
        if self.conversation_id:
            out["conversation"] = self.conversation_id
        return out


def clean_lookup(*, email="", card_number="", conversation_id=""):
    """The search form's values as a Lookup; raises ServiceError naming the bad field."""
    email = clean_email(email) if (email or "").strip() else ""
    card = clean_card_number(card_number) if (card_number or "").strip() else ""
    conversation = str(conversation_id or "").strip().lstrip("#")
    if conversation and not (conversation.isdigit() and 0 < int(conversation) < 2**63):
        raise ServiceError("invalid_conversation_number", field="conversation")
    if not (email or card or conversation):
        raise ServiceError("patron_lookup_empty")
    return Lookup(email=email, card_number=card, conversation_id=int(conversation) if conversation else None)


@dataclass
class PatronRecords:
    library: object
    lookup: Lookup
    patrons: list
    conversations: list  # newest first
    notes: list  # about the patron and on their conversations
    attachments: list

    @property
    def found(self):
        return bool(self.patrons or self.conversations)

    @property
    def open_conversations(self):
        return [c for c in self.conversations if c.status != Conversation.Status.CLOSED]


def find(user, lookup, library=None):
    """Every record of the person `lookup` describes, in `library` (the staff page's current library;
    by default the staff member's home library)."""
    library = library if library is not None else librarian_profile(user).library
    in_library = Patron.objects.filter(site__library=library)
    same = Q(pk__in=[])
    if lookup.email:
        same |= Q(email__iexact=lookup.email)
    if lookup.card_number:
        same |= Q(card=lookup.card_number.upper())
    if lookup.conversation_id:
        same |= Q(conversations__pk=lookup.conversation_id, conversations__site__library=library)
    in_library = in_library.annotate(card=Upper("library_card__number"), email_lower=Lower("email"))
    patrons = list(in_library.filter(same).distinct())
    # One step further, as the history does: the e-mail or card the found identities gave.
    emails = {p.email.lower() for p in patrons if p.email}
    cards = {p.card for p in patrons if p.card}
    if emails or cards:
        patrons = list(in_library.filter(
            same | Q(email_lower__in=emails) | Q(card__in=cards) | Q(pk__in=[p.pk for p in patrons]))
            .select_related("library_card", "site").distinct().order_by("created_at"))
    patron_ids = [p.pk for p in patrons]
    conversations = list(Conversation.objects.filter(patron_id__in=patron_ids)
                         .select_related("queue", "site", "librarian__librarian_profile")
                         .prefetch_related("messages__attachment", "survey_answers__question", "topics")
                         .order_by("-created_at"))
    notes = list(InternalNote.objects.filter(Q(patron_id__in=patron_ids)).select_related("conversation")
                 .order_by("created_at"))
    attachments = list(Attachment.objects.filter(Q(patron_id__in=patron_ids) | Q(
        conversation__patron_id__in=patron_ids)).distinct().order_by("created_at"))
    return PatronRecords(library=library, lookup=lookup, patrons=patrons, conversations=conversations,
                         notes=notes, attachments=attachments)


def record_lookup(user, records):
    audit.record(audit.Action.FIND_PATRON, user=user, library_id=records.library.pk,
                 found_patrons=len(records.patrons), found_conversations=len(records.conversations),
                 **records.lookup.masked())


def export_zip(user, records):
    """A ZIP for the patron: README.txt (readable, in the active language), data.json and their
    files. Returns an open temporary file positioned at its start."""
    if not records.found:
        raise ServiceError("patron_not_found")
    made_at = timezone.now()
    spooled = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    with zipfile.ZipFile(spooled, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.txt", render_to_string("reference/patron_data/export.txt", {
            "records": records, "made_at": made_at, "library": records.library}))
        archive.writestr("data.json", json.dumps(_as_data(records, made_at), ensure_ascii=False, indent=2))
        for attachment in records.attachments:
            try:
                with attachment.file.open("rb") as source:
                    archive.writestr(f"files/{attachment.pk}-{attachment.name}", source.read())
            except FileNotFoundError:  # gone from storage already: the README still lists it
                continue
    spooled.seek(0)
    audit.record(audit.Action.EXPORT_PATRON, user=user, library_id=records.library.pk,
                 patrons=len(records.patrons), conversation_ids=[c.pk for c in records.conversations],
                 files=len(records.attachments), **records.lookup.masked())
    return spooled


def _as_data(records, made_at):
    return {
        "library": records.library.name,
        "made_at": made_at.isoformat(),
        "patrons": [{"name": p.name, "email": p.email, "language": p.language, "first_seen": p.created_at.isoformat(),
                     "library_card": getattr(getattr(p, "library_card", None), "number", ""),
                     "site": p.site.name} for p in records.patrons],
        "conversations": [{
            "number": c.pk, "asked_at": c.created_at.isoformat(), "status": c.status, "queue": c.queue.name,
            "question": c.subject, "left_offline": c.is_offline, "age_group": c.age_group,
            "faq_opt_out": c.faq_opt_out, "rating": c.rating, "rating_comment": c.rating_comment,
            "closed_at": c.closed_at.isoformat() if c.closed_at else None,
            "messages": [{"at": m.created_at.isoformat(), "from": m.role, "name": m.author_name, "text": m.text,
                          "file": m.attachment.name if m.attachment else ""} for m in c.messages.all()],
            "survey": [{"question": a.question.text_id, "answer": a.choice or a.score or a.text}
                       for a in c.survey_answers.all()],
        } for c in records.conversations],
        "notes": [{"at": n.created_at.isoformat(), "by": n.author_name, "conversation": n.conversation_id,
                   "text": n.text} for n in records.notes],
        "files": [{"name": a.name, "type": a.content_type, "size": a.size, "uploaded_at": a.created_at.isoformat()}
                  for a in records.attachments],
    }


def erase(user, records):
    """Anonymise every conversation of the person, delete their files, notes, card numbers and
    identities. Refused while one of their chats is still open. Returns the counts."""
    if not records.found:
        raise ServiceError("patron_not_found")
    if records.open_conversations:
        raise ServiceError("patron_chat_open", number=records.open_conversations[0].pk)
    counts = {"conversations": anonymise_conversations(c.pk for c in records.conversations),
              "notes": len(records.notes), "files": len(records.attachments), "patrons": len(records.patrons)}
    # Identities with no chat left were deleted with their last one; these are the rest.
    delete_patrons(Patron.objects.filter(pk__in=[p.pk for p in records.patrons]))
    audit.record(audit.Action.ERASE_PATRON, user=user, library_id=records.library.pk,
                 conversation_ids=[c.pk for c in records.conversations], counts=counts, **records.lookup.masked())
    return counts


def erase_identities(user, patrons):
    """Erase these widget identities (the admin's delete): their closed chats anonymised, open ones
    detached, everything else deleted with them."""
    patrons = list(patrons)
    library_ids = {p.site.library_id for p in patrons}
    conversation_ids = list(Conversation.objects.filter(patron__in=patrons).values_list("pk", flat=True))
    counts = {"conversations": anonymise_conversations(conversation_ids), "patrons": len(patrons)}
    delete_patrons(Patron.objects.filter(pk__in=[p.pk for p in patrons]))
    for library_id in library_ids:
        audit.record(audit.Action.ERASE_PATRON, user=user, library_id=library_id,
                     conversation_ids=conversation_ids, counts=counts, via="admin")
    return counts
