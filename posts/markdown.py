"""Markdown to safe HTML: one renderer for story pages, the editor preview and excerpts."""

import html
import math
import re
from itertools import pairwise

import nh3
from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore

WORDS_PER_MINUTE = 200
EXCERPT_LENGTH = 240

# Raw HTML in the source is shown as text (html=False); nh3 is the second, independent wall.
_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": True}).enable(
    ["table", "strikethrough"]
)

# The Content-Security-Policy forbids inline styles, so table column alignment (which
# markdown-it writes as style="text-align:...") travels as a class that quill.css styles.
ALIGN_CLASSES = {f"text-align:{side}": f"align-{side}" for side in ("left", "center", "right")}


def _alignment_as_class(state: StateCore) -> None:
    for token in state.tokens:
        style = token.attrs.pop("style", None)
        if style in ALIGN_CLASSES:
            token.attrSet("class", ALIGN_CLASSES[style])


_md.core.ruler.push("alignment_as_class", _alignment_as_class)

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "del", "em", "figcaption", "figure", "h1", "h2",
    "h3", "h4", "h5", "h6", "hr", "i", "img", "li", "ol", "p", "pre", "s", "strong", "sub", "sup",
    "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "code": {"class"},
    "ol": {"start"},
}
ALLOWED_ATTRIBUTE_VALUES = {cell: {"class": set(ALIGN_CLASSES.values())} for cell in ("th", "td")}
URL_SCHEMES = {"http", "https", "mailto"}


def render_markdown(source: str) -> str:
    """Sanitised HTML for Markdown source: no scripts, no event handlers, no javascript: links."""
    return nh3.clean(
        _md.render(source),
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        tag_attribute_values=ALLOWED_ATTRIBUTE_VALUES,
        set_tag_attribute_values={"img": {"loading": "lazy"}},
        link_rel="nofollow noopener noreferrer ugc",
    )


def plain_text(source: str) -> str:
    """The words a reader sees, without markup."""
    text = html.unescape(nh3.clean(_md.render(source), tags=set()))
    return re.sub(r"\s+", " ", text).strip()


def prose_text(source: str) -> str:
    """The text of the paragraphs only: no headings, code blocks or tables (for excerpts)."""
    tokens = _md.parse(source)
    paragraphs = [
        _md.renderInline(inline.content)
        for opening, inline in pairwise(tokens)
        if opening.type == "paragraph_open" and inline.type == "inline"
    ]
    text = html.unescape(nh3.clean(" ".join(paragraphs), tags=set()))
    return re.sub(r"\s+", " ", text).strip()


def excerpt_of(text: str) -> str:
    """The opening of a plain text, cut at a word boundary."""
    if len(text) <= EXCERPT_LENGTH:
        return text
    cut = text[:EXCERPT_LENGTH].rsplit(" ", 1)[0]
    return cut.rstrip(" .,;:") + "…"


def reading_minutes(text: str) -> int:
    """Minutes to read a plain text, at least 1."""
    return max(1, math.ceil(len(text.split()) / WORDS_PER_MINUTE))
