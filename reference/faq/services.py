"""FAQ workflows: write, publish, archive, import; drafts from transcripts; votes and counters.

check_… functions validate and raise reference.errors.ServiceError (codes faq_…, messages in
reference/errors.py) before anything is changed; the rest perform the change and record a
revision. Views, commands and tests call these only.
"""

import re
from pathlib import Path

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from reference.errors import ServiceError
from reference.faq.answers import check_source, render_markdown
from reference.faq.defaults import ensure_topics
from reference.faq.models import FaqEntry, FaqRevision, FaqSearchMiss, FaqSynonym, FaqTopic
from reference.faq.sanitize import html_to_text, sanitize_html
from reference.faq.search import reindex_entry
from reference.faq.search.analysis import analyse_query
from reference.faq.search.service import library_id_of
from reference.models import FaqActivity

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# Slugs are unique across the network (their pages' addresses stay short): a slug another library's
# entry has is refused, never taken over.
SLUG_TAKEN = _("Another library's FAQ already uses this slug: choose another.")


def check_entry_fields(*, slug, language, question, answer, topics):
    if not isinstance(slug, str) or not SLUG_RE.match(slug) or len(slug) > 120:
        raise ServiceError("faq_bad_slug", field="slug")
    if language not in ("id", "en"):
        raise ServiceError("faq_bad_language", field="language")
    if not isinstance(question, str) or not question.strip():
        raise ServiceError("faq_question_empty", field="question")
    if len(question) > FaqEntry._meta.get_field("question").max_length:
        raise ServiceError("faq_question_too_long", field="question")
    if not isinstance(answer, str) or not html_to_text(sanitize_html(answer)).strip():
        raise ServiceError("faq_answer_empty", field="answer")
    if not isinstance(topics, list) or not all(isinstance(t, str) for t in topics):
        raise ServiceError("faq_bad_topics", field="topics")


def _snapshot(entry, editor, action):
    FaqRevision.objects.create(entry=entry, editor=editor, action=action, question=entry.question,
                               answer=entry.answer, status=entry.status, topics=entry.topics)


def _answer_html(answer, answer_source):
    """The stored answer: rendered from Markdown when staff wrote Markdown, else the HTML given."""
    if answer_source is None:
        return answer if not isinstance(answer, str) else sanitize_html(answer)
    check_source(answer_source)
    return render_markdown(answer_source)


def _plain_newlines(text):
    """A form's textarea sends CRLF; the Markdown is kept with plain line feeds."""
    return text.replace("\r\n", "\n").replace("\r", "\n") if isinstance(text, str) else text


@transaction.atomic
def save_entry(*, slug, language, question, answer=None, answer_source=None, topics=(), translation_of=None,
               status=None, editor=None, entry=None, action="edit", library=None):
    """Create or update an entry of `library` (by slug when `entry` is not given); revision kept.
    `library` (a Library or its id; None: the first library) is the new entry's; an existing
    entry stays in its own, and a slug of another library's entry is refused (faq_slug_taken).

    The answer is either `answer_source` (Markdown, kept and rendered) or `answer` (HTML, as
    imports may hold: sanitized, and the entry then has no Markdown until the editor opens it).
    Topics without a FaqTopic get one, labelled from the shipped list or from their slug."""
    topics = [t.strip() for t in topics if t and t.strip()]
    answer_source = _plain_newlines(answer_source)
    answer = _answer_html(answer, answer_source)
    check_entry_fields(slug=slug, language=language, question=question, answer=answer, topics=topics)
    library_id = entry.library_id if entry is not None and entry.pk else library_id_of(library)
    if translation_of is not None and (translation_of.slug == slug or translation_of.language == language
                                       or translation_of.library_id != library_id):
        raise ServiceError("faq_bad_translation", field="translation_of")
    if entry is None:
        entry = FaqEntry.objects.select_for_update().filter(slug=slug).first()
        if entry is not None and entry.library_id != library_id:
            raise ServiceError("faq_slug_taken", SLUG_TAKEN, field="slug")
    elif FaqEntry.objects.filter(slug=slug).exclude(pk=entry.pk).exclude(library_id=library_id).exists():
        raise ServiceError("faq_slug_taken", SLUG_TAKEN, field="slug")
    created = entry is None
    if created:
        entry = FaqEntry(slug=slug, author=editor, library_id=library_id)
    entry.slug, entry.language, entry.question = slug, language, question.strip()
    entry.answer, entry.answer_source = answer, answer_source or ""
    entry.topics, entry.translation_of = topics, translation_of
    if status is not None:
        if status == FaqEntry.Status.PUBLISHED and not entry.is_published:
            entry.published_by, entry.published_at = editor, timezone.now()
        entry.status = status
    entry.save()
    ensure_topics(FaqTopic, FaqEntry, topics)
    # A new entry's first revision says how it came: created, imported or drafted from a transcript.
    _snapshot(entry, editor, "create" if created and action == "edit" else action)
    reindex_entry(entry)
    return entry


@transaction.atomic
def set_status(entry, status, *, editor=None):
    if status not in FaqEntry.Status.values:
        raise ServiceError("faq_unknown_status", field="status")
    if status == FaqEntry.Status.PUBLISHED and not entry.is_published:
        entry.published_by, entry.published_at = editor, timezone.now()
    entry.status = status
    entry.save()
    _snapshot(entry, editor, status)
    reindex_entry(entry)
    return entry


def publish(entry, *, editor=None):
    return set_status(entry, FaqEntry.Status.PUBLISHED, editor=editor)


def archive(entry, *, editor=None):
    return set_status(entry, FaqEntry.Status.ARCHIVED, editor=editor)


# --- import / export ------------------------------------------------------------------------------
def import_records(records, *, publish=True, editor=None, library=None):
    """Upsert records by slug into `library`'s FAQ (a Library or its id; None: the first library).
    Returns (saved slugs, [(index, message)] of bad records); a slug of another library's entry is
    a bad record.

    A record's answer is "answer_markdown" (Markdown) when it has one, else "answer" (HTML).

    Translation links are set after every record is in, so a translation may come before its original.
    """
    if not isinstance(records, list):
        raise ServiceError("faq_import_not_list")
    status = FaqEntry.Status.PUBLISHED if publish else FaqEntry.Status.DRAFT
    library_id = library_id_of(library)
    saved, errors, links = [], [], []
    for index, rec in enumerate(records):
        try:
            if not isinstance(rec, dict):
                raise ServiceError("faq_import_not_object")
            link = rec.get("translation_of")
            if link is not None and not isinstance(link, str):
                raise ServiceError("faq_import_bad_link", field="translation_of")
            with transaction.atomic():
                save_entry(slug=rec.get("slug"), language=rec.get("language"), question=rec.get("question"),
                           answer=rec.get("answer"), answer_source=rec.get("answer_markdown"),
                           topics=rec.get("topics") or [], status=status, editor=editor, action="import",
                           library=library_id)
            saved.append(rec["slug"])
            if link:
                links.append((index, rec["slug"], link))
        except ServiceError as e:
            errors.append((index, e.message))
    for index, slug, link in links:
        entry = FaqEntry.objects.get(slug=slug)
        target = FaqEntry.objects.filter(slug=link, library_id=library_id).first()
        if target is None or target.language == entry.language:
            errors.append((index, ServiceError("faq_import_unknown_link", slug=link).message))
            continue
        FaqEntry.objects.filter(pk=entry.pk).update(translation_of=target)
    return saved, errors


def export_records(queryset=None):
    queryset = FaqEntry.objects.all() if queryset is None else queryset
    out = []
    for e in queryset.select_related("translation_of").order_by("pk"):
        rec = {"slug": e.slug, "language": e.language, "question": e.question, "answer": e.answer,
               "topics": list(e.topics)}
        if e.answer_source:
            rec["answer_markdown"] = e.answer_source
        if e.translation_of_id:
            rec["translation_of"] = e.translation_of.slug
        out.append(rec)
    return out


# --- counters ---------------------------------------------------------------------------------------
def record_activity(kind, *, entry=None, site_id=None, now=None):
    """Count one use of the FAQ in its hour (reference.models.FaqActivity), for the reports. Two
    processes adding the first count of an hour at once may make two rows: reports add them up."""
    hour = (now or timezone.now()).replace(minute=0, second=0, microsecond=0)
    bucket = FaqActivity.objects.filter(hour=hour, kind=kind, entry=entry, site_id=site_id)
    if not bucket.update(count=F("count") + 1):
        FaqActivity.objects.create(hour=hour, kind=kind, entry=entry, site_id=site_id, count=1)


def record_view(entry):
    type(entry).objects.filter(pk=entry.pk).update(view_count=F("view_count") + 1)
    record_activity(FaqActivity.Kind.VIEW, entry=entry)


def record_vote(entry, helpful):
    field = "helpful_yes" if helpful else "helpful_no"
    type(entry).objects.filter(pk=entry.pk).update(**{field: F(field) + 1})
    record_activity(FaqActivity.Kind.HELPFUL if helpful else FaqActivity.Kind.NOT_HELPFUL, entry=entry)


def record_answered_in_widget(entry, site_id=None):
    type(entry).objects.filter(pk=entry.pk).update(answered_in_widget=F("answered_in_widget") + 1)
    record_activity(FaqActivity.Kind.ANSWERED, entry=entry, site_id=site_id)


def record_search(*, found, site_id=None):
    """A patron's search (not the widget's suggestions while they type), for the reports."""
    record_activity(FaqActivity.Kind.SEARCH, site_id=site_id)
    if not found:
        record_activity(FaqActivity.Kind.MISS, site_id=site_id)


def miss_key(library_id, words, query):
    """The row of a search that found nothing: the library's id and the query's analysed words
    (so spellings merge), e.g. "3|buka jam"; the query itself when no word is left."""
    words = " ".join(sorted(set(words))) or query.strip().lower()
    return f"{library_id}|{words}"[:255]


def record_miss(query, *, language, words=None, library=None):
    """Count a search that found nothing on `library`'s staff list (a Library or its id; None: the
    first library), keyed by the library and its analysed words (miss_key). The caller decides:
    search() itself writes nothing.

    `words` is the search's SearchResponse.words (the key the search itself used to record);
    without it the query is analysed again, which gives the same key unless a synonym phrase of the
    query added a word of its own. A blank query is not counted."""
    if not query.strip():
        return
    if words is None:
        words = [w for w, _forms in analyse_query(query)]
    library_id = library_id_of(library)
    miss, _created = FaqSearchMiss.objects.get_or_create(
        key=miss_key(library_id, words, query),
        defaults={"query": query.strip()[:500], "language": language or "", "library_id": library_id})
    FaqSearchMiss.objects.filter(pk=miss.pk).update(count=F("count") + 1, last_seen=timezone.now(),
                                                    resolved=False)


def unique_slug(text):
    """A free slug made of the text's words: lower-case letters, digits and single hyphens only
    (SLUG_RE), so `_` and other leftovers of slugify() become hyphens."""
    base = re.sub(r"[^a-z0-9]+", "-", slugify(text))[:60].strip("-") or "faq"
    slug, n = base, 2
    while FaqEntry.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


# --- synonyms ---------------------------------------------------------------------------------------
DEFAULT_SYNONYMS_FILE = "faq-synonyms.txt"


def load_default_synonyms():
    """Add the shipped synonym groups (reference/fixtures/faq-synonyms.txt) that are not there yet."""
    path = Path(__file__).resolve().parent.parent / "fixtures" / DEFAULT_SYNONYMS_FILE
    existing = set(FaqSynonym.objects.values_list("words", flat=True))
    added = 0
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#") and line not in existing:
            FaqSynonym.objects.create(words=line)
            added += 1
    return added
