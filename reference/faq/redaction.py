"""Removing personal data from transcript text before it becomes an FAQ draft.

redact(text, names=[...]) → Redacted(text, spans): the text with each piece of personal data
replaced by a placeholder such as [EMAIL], and where the placeholders are, for highlighting.
"""

import re
from dataclasses import dataclass, field

from django.conf import settings
from django.utils.html import escape

EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# A 16-digit NIK (Indonesian national id number), optionally grouped by spaces or dots.
NIK_RE = re.compile(r"(?<!\d)\d{6}[ .-]?\d{6}[ .-]?\d{4}(?!\d)")
# Indonesian phone numbers: +62 / 62 / 0 then 8–12 more digits, spaces or dashes allowed.
PHONE_RE = re.compile(r"(?<![\w])(?:\+62|62|0)[\s-]?\d{2,4}(?:[\s-]?\d{2,4}){2,3}(?!\d)")
# Library card numbers: FAQ_CARD_NUMBER_PATTERN (a regular expression) in settings.
DEFAULT_CARD_PATTERN = r"\b(?:TT|PKT)[- ]?\d{4}[- ]?\d{4,6}\b"


@dataclass
class Redacted:
    text: str
    spans: list = field(default_factory=list)  # (start, end, kind) in the redacted text


def _patterns(names):
    card = re.compile(getattr(settings, "FAQ_CARD_NUMBER_PATTERN", DEFAULT_CARD_PATTERN), re.I)
    pats = [("email", EMAIL_RE), ("card", card), ("nik", NIK_RE), ("phone", PHONE_RE)]
    parts = sorted({p for n in names for p in re.split(r"\s+", n or "") if len(p) >= 2}, key=len, reverse=True)
    if parts:
        pats.append(("name", re.compile(r"\b(?:" + "|".join(re.escape(p) for p in parts) + r")\b", re.I)))
    return pats


LABELS = {"email": "[EMAIL]", "card": "[NO. KARTU]", "nik": "[NIK]", "phone": "[TELEPON]", "name": "[NAMA]"}


def redact(text, names=()):
    """Replace emails, library card numbers, NIKs, phone numbers and the given names."""
    found = []
    for kind, pattern in _patterns(names):
        for m in pattern.finditer(text):
            if not any(m.start() < e and s < m.end() for s, e, _ in found):
                found.append((m.start(), m.end(), kind))
    found.sort()
    out, spans, pos = [], [], 0
    length = 0
    for start, end, kind in found:
        out.append(text[pos:start])
        length += start - pos
        label = LABELS[kind]
        spans.append((length, length + len(label), kind))
        out.append(label)
        length += len(label)
        pos = end
    out.append(text[pos:])
    return Redacted("".join(out), spans)


def highlight_html(redacted):
    """The redacted text as escaped HTML with each placeholder in a <mark>."""
    out, pos = [], 0
    for start, end, kind in redacted.spans:
        out.append(escape(redacted.text[pos:start]))
        out.append(f'<mark class="redacted" data-kind="{kind}">{escape(redacted.text[start:end])}</mark>')
        pos = end
    out.append(escape(redacted.text[pos:]))
    return "".join(out)
