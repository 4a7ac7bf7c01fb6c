"""The retention periods: each library's data is anonymised or deleted when its period ends.

`apply_retention(now=..., dry_run=...)` is run daily by the scheduler (`manage.py apply_retention`).
Periods are the Library's `*_retention_days` fields; an empty one keeps that data. Periods count
from when a thing was made: a chat from when it was asked, a file from its upload, a comment from
when it was written, a search from when it last failed, a revision from when it was saved.

Data that belongs to no library (the FAQ's searches that found nothing and its older revisions) is
kept for the shortest period any library sets. Open conversations are never touched.
"""

from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from reference import audit
from reference.anonymise import anonymise_conversations, delete_patrons, remove_attachments
from reference.faq.models import FaqEntry, FaqRevision, FaqSearchMiss
from reference.models import AgeGroup, Attachment, AuditEvent, Conversation, Library, Patron, SurveyAnswer

# What apply_retention counts, in the order the command prints them.
KINDS = {
    "conversations": "chats anonymised",
    "offline_questions": "offline questions anonymised",
    "children": "children's chats anonymised",
    "attachments": "files deleted",
    "rating_comments": "rating comments removed",
    "survey_texts": "survey texts removed",
    "patrons": "patrons without chats deleted",
    "search_misses": "searches that found nothing deleted",
    "faq_revisions": "older FAQ revisions deleted",
    "faq_sources": "FAQ links to source chats removed",
    "audit_events": "audit entries deleted",
}


@dataclass
class RetentionResult:
    dry_run: bool
    counts: dict = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    # {library name: {kind: count}} for the log
    by_library: dict = field(default_factory=dict)

    def add(self, library, kind, count):
        self.counts[kind] += count
        if count:
            self.by_library.setdefault(library.name if library else "-", {})[kind] = count

    def lines(self):
        return [f"{count:>8}  {KINDS[kind]}" for kind, count in self.counts.items()]


def apply_retention(*, now=None, dry_run=False, libraries=None):
    """Anonymise or delete what has outlived its library's periods. With dry_run nothing changes
    and the counts say what would. Each real run leaves one audit entry per library it changed."""
    now = now or timezone.now()
    libraries = list(libraries if libraries is not None else Library.objects.all())
    result = RetentionResult(dry_run=dry_run)
    for library in libraries:
        for kind, action, queryset in _library_data(library, now):
            result.add(library, kind, queryset.count() if dry_run else action(queryset))
    for kind, action, queryset in _shared_data(libraries, now):
        result.add(None, kind, queryset.count() if dry_run else action(queryset))
    if not dry_run:
        for library in libraries:
            if result.by_library.get(library.name):
                audit.record(audit.Action.RETENTION, actor=audit.SCHEDULER, library_id=library.pk,
                             counts=result.by_library[library.name])
    return result


def _before(now, days):
    return now - timedelta(days=days) if days is not None else None


def _library_data(library, now):
    """(kind, what to do, queryset) for each of one library's kinds of data past its period."""
    closed = Conversation.objects.filter(site__library=library, status=Conversation.Status.CLOSED,
                                         anonymised_at__isnull=True)
    if (cutoff := _before(now, library.retention_days)) is not None:
        yield "conversations", _anonymise, closed.filter(is_offline=False, created_at__lt=cutoff).exclude(
            age_group=AgeGroup.CHILD)
    if (cutoff := _before(now, library.offline_retention_days)) is not None:
        yield "offline_questions", _anonymise, closed.filter(is_offline=True, created_at__lt=cutoff).exclude(
            age_group=AgeGroup.CHILD)
    if (cutoff := _before(now, _shortest(library.child_retention_days, library.retention_days))) is not None:
        yield "children", _anonymise, closed.filter(age_group=AgeGroup.CHILD, created_at__lt=cutoff)
    if (cutoff := _before(now, library.attachment_retention_days)) is not None:
        yield "attachments", remove_attachments, Attachment.objects.filter(
            conversation__site__library=library, created_at__lt=cutoff)
    if (cutoff := _before(now, library.feedback_retention_days)) is not None:
        yield "rating_comments", _emptied("rating_comment"), Conversation.objects.filter(
            site__library=library, rated_at__lt=cutoff).exclude(rating_comment="")
        yield "survey_texts", _emptied("text"), SurveyAnswer.objects.filter(
            conversation__site__library=library, answered_at__lt=cutoff).exclude(text="")
    if (cutoff := _before(now, library.faq_source_retention_days)) is not None:
        yield "faq_sources", _delete, FaqEntry.source_conversations.through.objects.filter(
            conversation__site__library=library, conversation__created_at__lt=cutoff)
    if (cutoff := _before(now, library.audit_retention_days)) is not None:
        yield "audit_events", _delete, AuditEvent.objects.filter(library=library, at__lt=cutoff)
    shortest = _shortest(library.retention_days, library.offline_retention_days, library.child_retention_days)
    if (cutoff := _before(now, shortest)) is not None:
        # Widget identities that never asked anything, or whose chats were all anonymised above
        # (so a dry run counts only those already without a chat).
        yield "patrons", delete_patrons, Patron.objects.filter(site__library=library, created_at__lt=cutoff,
                                                              conversations=None)


def _shared_data(libraries, now):
    """(kind, what to do, queryset) for data no library owns, kept for the shortest period any sets."""
    if (cutoff := _before(now, _shortest(*(lib.search_log_retention_days for lib in libraries)))) is not None:
        yield "search_misses", _delete, FaqSearchMiss.objects.filter(last_seen__lt=cutoff)
    if (cutoff := _before(now, _shortest(*(lib.faq_source_retention_days for lib in libraries)))) is not None:
        newer = FaqRevision.objects.filter(entry=OuterRef("entry"), pk__gt=OuterRef("pk"))
        # An entry's newest revision is what it says now: it stays whatever its age.
        yield "faq_revisions", _delete, FaqRevision.objects.filter(Q(created_at__lt=cutoff), Exists(newer))
    if (cutoff := _before(now, _shortest(*(lib.audit_retention_days for lib in libraries)))) is not None:
        yield "audit_events", _delete, AuditEvent.objects.filter(library=None, at__lt=cutoff)


def _shortest(*days):
    known = [d for d in days if d is not None]
    return min(known) if known else None


def _anonymise(conversations):
    return anonymise_conversations(conversations.values_list("pk", flat=True))


def _emptied(field):
    def empty(queryset):
        return queryset.update(**{field: ""})
    return empty


def _delete(queryset):
    _total, by_model = queryset.delete()
    return by_model.get(queryset.model._meta.label, 0)
