"""FAQ data: entries, their revisions, the staff synonym list, searches that found nothing.

Imported by reference/models.py so the models belong to the `reference` app. Workflows live in
reference/faq/services.py; the search index in reference/faq/search/ (whose expansion.py listens
for synonym changes). Imports nothing of the FAQ package: the rest of it imports these.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from reference.models import default_library


class FaqLanguage(models.TextChoices):
    INDONESIAN = "id", _("Indonesian")
    ENGLISH = "en", _("English")


class FaqEntry(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")
        ARCHIVED = "archived", _("Archived")

    # Each library has its own FAQ; slugs are unique across the network all the same.
    library = models.ForeignKey("reference.Library", on_delete=models.CASCADE, related_name="faq_entries",
                                default=default_library, verbose_name=_("library"))
    slug = models.SlugField(_("slug"), max_length=120, unique=True)
    language = models.CharField(_("language"), max_length=2, choices=FaqLanguage, default=FaqLanguage.INDONESIAN)
    question = models.CharField(_("question"), max_length=500)
    # Safe HTML only: always stored through reference.faq.sanitize.sanitize_html().
    answer = models.TextField(_("answer"))
    # What staff write (Markdown); `answer` is rendered from it. Empty for entries written as HTML
    # before the Markdown editor: the editor converts those when they are opened.
    answer_source = models.TextField(_("answer (Markdown)"), blank=True, default="")
    topics = models.JSONField(_("topics"), default=list, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.DRAFT)
    translation_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="translations",
        verbose_name=_("translation of"),
    )
    source_conversations = models.ManyToManyField(
        "reference.Conversation", blank=True, related_name="faq_entries", verbose_name=_("source transcripts"),
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                               related_name="+", verbose_name=_("author"))
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="+", verbose_name=_("published by"))
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    view_count = models.PositiveIntegerField(_("views"), default=0)
    helpful_yes = models.PositiveIntegerField(_("helpful"), default=0)
    helpful_no = models.PositiveIntegerField(_("not helpful"), default=0)
    answered_in_widget = models.PositiveIntegerField(_("answered a question in the widget"), default=0)
    # The analysed terms (reference.faq.search.analysis) the index holds: the question, the
    # answer, and which terms are counted in the vocabulary for this entry.
    search_question = models.TextField(default="", editable=False)
    search_answer = models.TextField(default="", editable=False)
    indexed_terms = models.TextField(default="", editable=False)
    # The entry's meaning as a unit-length float32 vector (reference.faq.search.semantic), or null
    # when the semantic leg is off or the entry has not been embedded yet.
    embedding = models.BinaryField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["slug"]
        verbose_name = _("FAQ entry")
        verbose_name_plural = _("FAQ entries")
        indexes = [models.Index(fields=["status", "language"], name="faq_status_lang_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(language__in=["id", "en"]), name="faq_language_id_or_en"),
        ]

    def __str__(self):
        return self.question

    @property
    def is_published(self):
        return self.status == self.Status.PUBLISHED


class FaqRevision(models.Model):
    """Who changed what and when: a snapshot after every change."""

    entry = models.ForeignKey(FaqEntry, on_delete=models.CASCADE, related_name="revisions")
    editor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                               related_name="+", verbose_name=_("editor"))
    created_at = models.DateTimeField(_("when"), auto_now_add=True)
    action = models.CharField(_("action"), max_length=40)
    question = models.CharField(_("question"), max_length=500)
    answer = models.TextField(_("answer"))
    status = models.CharField(_("status"), max_length=10)
    topics = models.JSONField(_("topics"), default=list, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("FAQ revision")
        verbose_name_plural = _("FAQ revisions")

    def __str__(self):
        return f"{self.entry_id} {self.action} {self.created_at:%Y-%m-%d %H:%M}"


class FaqTerm(models.Model):
    """The vocabulary of published entries: document frequency per analysed term.

    Feeds IDF weights and typo correction on both backends; the row with term "*" holds the number
    of published entries.
    """

    term = models.CharField(max_length=64, primary_key=True)
    df = models.PositiveIntegerField(default=0)

    def __str__(self):
        return f"{self.term} ({self.df})"


class FaqSynonym(models.Model):
    """A staff-editable group of words that mean the same (in either language)."""

    words = models.TextField(
        _("words"), help_text=_("Words or short phrases that mean the same, separated by commas."))
    is_active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["words"]
        verbose_name = _("FAQ synonym group")
        verbose_name_plural = _("FAQ synonym groups")

    def __str__(self):
        return self.words[:80]


class FaqSpelling(models.Model):
    """A staff-editable informal spelling or abbreviation and the standard word it stands for
    (“gmn” → “bagaimana”), applied to queries and entries alike."""

    informal = models.CharField(_("informal spelling"), max_length=40, unique=True)
    standard = models.CharField(_("standard word"), max_length=40)
    is_active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["informal"]
        verbose_name = _("informal spelling")
        verbose_name_plural = _("informal spellings")

    def __str__(self):
        return f"{self.informal} → {self.standard}"


class FaqTopic(models.Model):
    """A topic of FAQ entries (FaqEntry.topics holds slugs), with its label in both languages."""

    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    label_id = models.CharField(_("label in Indonesian"), max_length=80)
    label_en = models.CharField(_("label in English"), max_length=80)

    class Meta:
        ordering = ["slug"]
        verbose_name = _("FAQ topic")
        verbose_name_plural = _("FAQ topics")

    def __str__(self):
        return self.label_id

    def label(self, language):
        return self.label_en if language == "en" else self.label_id


class FaqSearchMiss(models.Model):
    """A search that found nothing, counted by its analysed form: the staff to-do list."""

    library = models.ForeignKey("reference.Library", on_delete=models.CASCADE, related_name="+",
                                default=default_library, verbose_name=_("library"))
    key = models.CharField(max_length=255, unique=True)
    query = models.CharField(_("query"), max_length=500)
    language = models.CharField(_("language"), max_length=2, blank=True)
    count = models.PositiveIntegerField(_("times"), default=0)
    first_seen = models.DateTimeField(_("first seen"), auto_now_add=True)
    last_seen = models.DateTimeField(_("last seen"), auto_now=True)
    resolved = models.BooleanField(_("resolved"), default=False)

    class Meta:
        ordering = ["-count", "-last_seen"]
        verbose_name = _("search that found nothing")
        verbose_name_plural = _("searches that found nothing")

    def __str__(self):
        return self.query

