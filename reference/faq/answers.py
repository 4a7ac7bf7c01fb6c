"""FAQ answers as staff write them (Markdown) and as pages show them (safe HTML).

render_markdown() is the one way Markdown becomes an answer: Python-Markdown with raw HTML
switched off (what staff type is shown, never run), then sanitize_html() like every answer.
html_to_markdown() turns an answer written as HTML before the Markdown editor (or imported as
HTML) back into Markdown for the editor; it knows the tags sanitize_html() lets through
(reference/faq/sanitize.py ALLOWED_TAGS) and reads any other tag as its text.
"""

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

import markdown
from django.utils.translation import gettext_lazy as _

from reference.errors import ServiceError
from reference.faq.sanitize import sanitize_html

MAX_SOURCE_LENGTH = 20_000
# nl2br: a single line break stays a line break, as librarians expect from chat and e-mail.
EXTENSIONS = ["sane_lists", "nl2br"]
TOO_LONG = _("The answer is too long (at most %(limit)s characters).")


def check_source(source):
    if not isinstance(source, str):
        raise ServiceError("faq_answer_empty", field="answer")
    if len(source) > MAX_SOURCE_LENGTH:
        raise ServiceError("faq_answer_too_long", TOO_LONG, limit=MAX_SOURCE_LENGTH)


def render_markdown(source):
    """Safe HTML of staff's Markdown."""
    md = markdown.Markdown(extensions=EXTENSIONS)
    md.preprocessors.deregister("html_block")
    md.inlinePatterns.deregister("html")
    # The page's h1 is the question: "#" becomes h2, and levels below h4 stay h4.
    html = re.sub(r"<(/?)h1>", r"<\1h2>", md.convert(source or ""))
    return sanitize_html(re.sub(r"<(/?)h[56]>", r"<\1h4>", html))


def source_for_editing(entry):
    """The Markdown the editor opens: what staff wrote, or the older HTML answer converted."""
    return entry.answer_source or html_to_markdown(entry.answer)


# --- HTML → Markdown --------------------------------------------------------------------------------
@dataclass
class _Node:
    tag: str
    attrs: dict
    children: list = field(default_factory=list)


class _TreeBuilder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = _Node("root", {})
        self.stack = [self.root]

    def handle_starttag(self, tag, attrs):
        node = _Node(tag, dict(attrs))
        self.stack[-1].children.append(node)
        if tag != "br":
            self.stack.append(node)

    def handle_endtag(self, tag):
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data):
        self.stack[-1].children.append(data)


BLOCK_TAGS = {"p", "ul", "ol", "li", "h2", "h3", "h4"}
EMPHASIS = {"em": "*", "i": "*", "strong": "**", "b": "**"}


def html_to_markdown(value):
    builder = _TreeBuilder()
    builder.feed(value or "")
    builder.close()
    return "\n\n".join(_blocks(builder.root.children)).strip()


def _blocks(children):
    """Markdown blocks of a run of nodes; inline nodes between blocks make a paragraph."""
    blocks, inline = [], []
    for child in children:
        if isinstance(child, _Node) and child.tag in BLOCK_TAGS:
            blocks.append(_inline(inline))
            blocks.append(_block(child))
            inline = []
        else:
            inline.append(child)
    blocks.append(_inline(inline))
    return [b for b in blocks if b.strip()]


def _block(node):
    if node.tag in ("h2", "h3", "h4"):
        return "#" * int(node.tag[1]) + " " + _inline(node.children).replace("\n", " ")
    if node.tag in ("ul", "ol"):
        return _list(node)
    if node.tag == "li":  # an item outside any list
        return _list(_Node("ul", {}, [node]))
    return _inline(node.children)


def _list(node):
    items = [c for c in node.children if isinstance(c, _Node) and c.tag == "li"]
    lines = []
    for number, item in enumerate(items, 1):
        body = "\n".join(_blocks(item.children))
        if body:
            marker = f"{number}. " if node.tag == "ol" else "- "
            # Python-Markdown reads a line indented by four spaces as part of the item above.
            lines.append(marker + body.replace("\n", "\n    "))
    return "\n".join(lines)


def _inline(children, outermost=True):
    text = ""
    for child in children:
        at_line_start = not text or text.endswith("\n")
        if isinstance(child, str):
            text += _escape(re.sub(r"\s+", " ", child), at_line_start)
        elif child.tag == "br":
            text = text.rstrip(" ") + "\n"
        else:
            text += _inline_node(child)
    return "\n".join(line.strip() for line in text.split("\n")).strip() if outermost else text


def _inline_node(node):
    raw = _inline(node.children, outermost=False)
    inner = raw.strip()
    if not inner:
        return raw
    if node.tag in EMPHASIS:  # "*a *b" is no emphasis: spaces go outside the marks
        lead, trail = " " * raw[:1].isspace(), " " * raw[-1:].isspace()
        return f"{lead}{EMPHASIS[node.tag]}{inner}{EMPHASIS[node.tag]}{trail}"
    href = node.attrs.get("href") if node.tag == "a" else None
    if not href:
        return inner
    if _unescaped(inner) == href:  # a bare address (linkified): Markdown shows it as it is
        return href
    inner = re.sub(r"(?<!\\)([\[\]])", r"\\\1", inner)  # brackets in a link's text would end it
    title = node.attrs.get("title")
    title = ' "' + title.replace('"', "&quot;") + '"' if title else ""
    return f"[{inner}]({href.replace(' ', '%20').replace('(', '%28').replace(')', '%29')}{title})"


def _escape(text, at_line_start):
    """Text that Markdown shows as it is: no emphasis, link, entity, heading, quote or list."""
    text = re.sub(r"([\\`*_])", r"\\\1", text)
    text = re.sub(r"\[(?=[^\]]*\][(\[])", r"\\[", text)
    text = re.sub(r"&(?=#?\w+;)", "&amp;", text)
    if at_line_start:
        text = re.sub(r"^([#>+-])", r"\\\1", text.lstrip())
        text = re.sub(r"^(\d+)\.(?=\s|$)", r"\1\\.", text)
    return text


def _unescaped(markdown_text):
    return re.sub(r"\\(.)", r"\1", markdown_text).replace("&amp;", "&")
