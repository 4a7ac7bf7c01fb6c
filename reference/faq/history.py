"""An FAQ entry's revisions told in words, in the staff member's language:
"Published by Siti on 3 Dec 2026 14:05: changed the question; the answer gained 2 sentences and
lost 1; topics: added Loans."

describe_change() compares two snapshots (FaqRevision, or anything with question, answer and
topics) and says what changed; revision_sentences() adds who did it and when.
"""

import re
from collections import Counter

from django.core.exceptions import ObjectDoesNotExist
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from reference.faq.defaults import default_label
from reference.faq.models import FaqTopic
from reference.faq.sanitize import html_to_text

# FaqRevision.action → the start of its sentence, with and without an editor (set_status records
# the status itself as the action). Whole sentences, so each language can order its words.
HEADS = {
    "create": (gettext_lazy("Created by %(who)s on %(when)s"), gettext_lazy("Created on %(when)s")),
    "edit": (gettext_lazy("Edited by %(who)s on %(when)s"), gettext_lazy("Edited on %(when)s")),
    "admin": (gettext_lazy("Edited in the admin by %(who)s on %(when)s"),
              gettext_lazy("Edited in the admin on %(when)s")),
    "publish": (gettext_lazy("Published by %(who)s on %(when)s"), gettext_lazy("Published on %(when)s")),
    "archive": (gettext_lazy("Archived by %(who)s on %(when)s"), gettext_lazy("Archived on %(when)s")),
    "draft": (gettext_lazy("Returned to draft by %(who)s on %(when)s"),
              gettext_lazy("Returned to draft on %(when)s")),
    "import": (gettext_lazy("Imported by %(who)s on %(when)s"), gettext_lazy("Imported on %(when)s")),
    "draft from transcript": (gettext_lazy("Drafted from a transcript by %(who)s on %(when)s"),
                              gettext_lazy("Drafted from a transcript on %(when)s")),
}
SAME_AS = {"save": "edit", "published": "publish", "archived": "archive"}


def sentences(answer_html):
    """The sentences of an answer, for counting what an edit added and removed."""
    text = html_to_text(answer_html)
    parts = re.split(r"(?<=[.!?])\s+|\n+", text)
    return [re.sub(r"\s+", " ", p).strip() for p in parts if p.strip()]


def describe_change(before, after, *, labels):
    """The changes from one snapshot to the next as phrases, e.g. ["changed the question",
    "the answer gained 2 sentences and lost 1", "topics: added Loans"]. `labels` maps topic
    slugs to the labels to show."""
    changes = []
    if before.question != after.question:
        changes.append(_("changed the question"))
    if before.answer != after.answer:
        changes.append(_answer_change(sentences(before.answer), sentences(after.answer)))
    topics = _topic_change(before.topics or [], after.topics or [], labels)
    if topics:
        changes.append(topics)
    return changes


def _answer_change(old, new):
    gained = sum((Counter(new) - Counter(old)).values())
    lost = sum((Counter(old) - Counter(new)).values())
    if gained and lost:
        return ngettext("the answer gained %(gained)d sentence and lost %(lost)d",
                        "the answer gained %(gained)d sentences and lost %(lost)d", gained) % {
            "gained": gained, "lost": lost}
    if gained:
        return ngettext("the answer gained %(n)d sentence", "the answer gained %(n)d sentences", gained) % {"n": gained}
    if lost:
        return ngettext("the answer lost %(n)d sentence", "the answer lost %(n)d sentences", lost) % {"n": lost}
    return _("changed the answer's wording or layout")


def _topic_change(old, new, labels):
    added = ", ".join(labels.get(t, default_label(t)) for t in new if t not in old)
    removed = ", ".join(labels.get(t, default_label(t)) for t in old if t not in new)
    if added and removed:
        return _("topics: added %(added)s, removed %(removed)s") % {"added": added, "removed": removed}
    if added:
        return _("topics: added %(added)s") % {"added": added}
    if removed:
        return _("topics: removed %(removed)s") % {"removed": removed}
    return ""


def editor_name(user):
    if user is None:
        return ""
    try:
        return user.librarian_profile.display_name or user.get_username()
    except ObjectDoesNotExist:
        return user.get_full_name() or user.get_username()


def describe_revision(revision, previous, *, labels):
    """One revision as a sentence in the active language; `previous` is the snapshot before it
    (None for the first)."""
    with_who, without_who = HEADS.get(SAME_AS.get(revision.action, revision.action), HEADS["edit"])
    when = formats.date_format(timezone.localtime(revision.created_at), "j M Y H:i")
    who = editor_name(revision.editor)
    head = with_who % {"who": who, "when": when} if who else without_who % {"when": when}
    changes = describe_change(previous, revision, labels=labels) if previous is not None else []
    return head + (": " + "; ".join(changes) if changes else "") + "."


def revision_sentences(entry, *, language, limit=20):
    """The entry's newest `limit` revisions, newest first, each as a sentence in `language`."""
    revisions = list(entry.revisions.select_related("editor__librarian_profile")[:limit + 1])
    slugs = {t for r in revisions for t in (r.topics or [])}
    topics = FaqTopic.objects.filter(slug__in=slugs)
    with translation.override(language):
        labels = {t.slug: t.label(language) for t in topics}
        return [describe_revision(r, revisions[i + 1] if i + 1 < len(revisions) else None, labels=labels)
                for i, r in enumerate(revisions[:limit])]
