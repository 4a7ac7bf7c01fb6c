"""The one place FAQ answer HTML is cleaned: paragraphs, lists, links, emphasis, headings; nothing else.

reference/faq/answers.py renders staff's Markdown into these tags and converts them back."""

import html
import re

import bleach
from bleach.linkifier import DEFAULT_CALLBACKS

# Headings start at h2: the page's own h1 is the question.
ALLOWED_TAGS = ["p", "br", "ul", "ol", "li", "a", "em", "strong", "b", "i", "h2", "h3", "h4"]
ALLOWED_ATTRIBUTES = {"a": ["href", "title"]}
ALLOWED_PROTOCOLS = ["http", "https", "mailto", "tel"]


def _nofollow_external(attrs, new=False):
    return attrs


def sanitize_html(value):
    """Safe HTML for an FAQ answer. Plain text (no tags) becomes paragraphs; links get rel=nofollow."""
    value = (value or "").strip()
    if not re.search(r"<[a-zA-Z/][^>]*>", value):
        paragraphs = [p.strip() for p in re.split(r"\n\s*\n", value) if p.strip()]
        value = "".join("<p>" + html.escape(p).replace("\n", "<br>") + "</p>" for p in paragraphs)
    cleaned = bleach.clean(value, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, protocols=ALLOWED_PROTOCOLS,
                           strip=True, strip_comments=True)
    return bleach.linkify(cleaned, callbacks=[*DEFAULT_CALLBACKS], skip_tags=["a"], parse_email=False).strip()


def html_to_text(value):
    """The readable text of sanitized HTML (for the search index and excerpts)."""
    text = re.sub(r"<\s*(br|/p|/li|/h[2-4])\s*/?>", "\n", value or "", flags=re.I)
    text = re.sub(r"<[^>]+>", " ", text)
    return re.sub(r"[ \t]+", " ", html.unescape(text)).strip()


def excerpt(value, length=200):
    text = re.sub(r"\s+", " ", html_to_text(value))
    if len(text) <= length:
        return text
    cut = text[:length].rsplit(" ", 1)[0]
    return cut + "…"
