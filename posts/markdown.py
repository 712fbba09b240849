"""Markdown to safe HTML: one renderer for story pages, the editor preview and excerpts."""

import html
import math
import re
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import nh3
from django.urls import reverse
from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from mdit_py_plugins.footnote import footnote_plugin
from mdit_py_plugins.tasklists import tasklists_plugin
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

from accounts.mentions import active_usernames, mentioned_usernames, mentions

WORDS_PER_MINUTE = 200
EXCERPT_LENGTH = 240

# Fenced code is highlighted here, on the server, as spans with classes that
# static/css/highlight.css colours (light and dark): inline styles would break the CSP.
HIGHLIGHT_CLASS_PREFIX = "hl-"
_formatter = HtmlFormatter(nowrap=True, classprefix=HIGHLIGHT_CLASS_PREFIX)


def _highlight(code: str, language: str, attributes: str) -> str:
    try:
        lexer = get_lexer_by_name(language.strip().split()[0]) if language.strip() else None
    except ClassNotFound:
        lexer = None
    # markdown-it escapes the code itself when this returns "" (no lexer: plain code).
    return highlight(code, lexer, _formatter) if lexer is not None else ""


# Raw HTML in the source is shown as text (html=False); nh3 is the second, independent wall.
_md = (
    MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": True, "highlight": _highlight})
    .enable(["table", "strikethrough"])
    .use(tasklists_plugin)
    .use(footnote_plugin)
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

# "@username" of an active member links to their author page: in the text a reader sees, not
# in code (its own tokens) nor inside a link. Which names are members is looked up before the
# parse, in one query for all of them, and travels in the env under this key.
MEMBERS_ENV_KEY = "quill_mentioned_members"


def _mention_links(state: StateCore) -> None:
    members: dict[str, str] = state.env.get(MEMBERS_ENV_KEY) or {}
    if not members:
        return
    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        children: list[Token] = []
        links_open = 0
        for token in block.children:
            links_open += {"link_open": 1, "link_close": -1}.get(token.type, 0)
            if token.type == "text" and not links_open:
                children.extend(_linked(token, members))
            else:
                children.append(token)
        block.children = children


def _linked(token: Token, members: dict[str, str]) -> list[Token]:
    """A text token, split around the mentions of members into links to their pages."""
    text, pieces, done = token.content, [], 0
    for mention in mentions(text):
        username = members.get(mention[1].lower())
        if username is None:
            continue
        link = Token("link_open", "a", 1, attrs={"href": reverse("posts:author", args=[username])})
        pieces += [
            *_text(text[done : mention.start()]),
            link,
            *_text(mention[0]),
            Token("link_close", "a", -1),
        ]
        done = mention.end()
    return [*pieces, *_text(text[done:])] if pieces else [token]


def _text(content: str) -> list[Token]:
    return [Token("text", "", 0, content=content)] if content else []


_md.core.ruler.push("mention_links", _mention_links)

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "del", "em", "figcaption", "figure", "h1", "h2",
    "h3", "h4", "h5", "h6", "hr", "i", "img", "input", "li", "ol", "p", "pre", "s", "section",
    "span", "strong", "sub", "sup", "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title", "id", "class"},
    "img": {"src", "alt", "title"},
    "code": {"class"},
    "ol": {"start", "class"},
    "ul": {"class"},
    "li": {"class", "id"},
    "input": {"type", "checked", "disabled", "class"},
    "section": {"class"},
    "sup": {"class"},
    "hr": {"class"},
    "span": {"class"},
    "th": {"class"},
    "td": {"class"},
}
# Classes and ids the renderer itself writes; anything else an author smuggles in is dropped.
RENDERER_CLASSES = {
    *ALIGN_CLASSES.values(),
    "contains-task-list", "task-list-item", "task-list-item-checkbox", "footnotes",
    "footnotes-list", "footnote-item", "footnote-ref", "footnote-backref", "footnotes-sep",
}  # fmt: skip
FOOTNOTE_ID = re.compile(r"^fn(ref)?\d+(:\d+)?$")
URL_SCHEMES = {"http", "https", "mailto"}


def _keep_attribute(tag: str, attribute: str, value: str) -> str | None:
    if attribute == "class":
        classes = value.split()
        if tag == "span":
            allowed = all(name.startswith(HIGHLIGHT_CLASS_PREFIX) for name in classes)
        elif tag == "code":
            allowed = all(name.startswith("language-") for name in classes)
        else:
            allowed = all(name in RENDERER_CLASSES for name in classes)
        return value if allowed else None
    if attribute == "id":
        return value if FOOTNOTE_ID.match(value) else None
    if tag == "input":
        # Only the disabled checkboxes of task lists.
        return (
            value
            if (attribute, value) in {("type", "checkbox"), ("checked", "checked"), ("disabled", "disabled")}
            else None
        )
    return value


def _sanitised(raw_html: str) -> str:
    return nh3.clean(
        raw_html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        attribute_filter=_keep_attribute,
        url_schemes=URL_SCHEMES,
        set_tag_attribute_values={"img": {"loading": "lazy"}},
        link_rel="nofollow noopener noreferrer ugc",
    )


def _env(source: str) -> dict[str, Any]:
    """What a rendering starts from: the members the source mentions (one query, none when it
    mentions nobody). Footnotes too pass from the parse to the rendering through it."""
    return {MEMBERS_ENV_KEY: active_usernames(mentioned_usernames(source))}


def render_markdown(source: str) -> str:
    """Sanitised HTML for Markdown source: no scripts, no event handlers, no javascript: links;
    fenced code highlighted, task lists and footnotes, members' @usernames linked."""
    return _sanitised(_md.render(source, _env(source)))


@dataclass(frozen=True)
class RenderedPost:
    html: str  # render_markdown's
    text: str  # the words a reader sees, without markup (reading time)
    prose: str  # the text of the paragraphs only: no headings, code or tables (excerpts)

    @property
    def reading_minutes(self) -> int:
        return reading_minutes(self.text)

    def excerpt(self, description: str = "") -> str:
        """The author's own summary, else the opening prose (not a heading or a code block run
        into it), else the text."""
        return excerpt_of(description or self.prose or self.text)


def render_post(source: str) -> RenderedPost:
    """What a story's save derives from its Markdown, from one parse and one rendering."""
    env = _env(source)
    tokens = _md.parse(source, env)
    raw_html = _md.renderer.render(tokens, _md.options, env)
    return RenderedPost(html=_sanitised(raw_html), text=_text_of(raw_html), prose=_prose_of(tokens))


def highlight_stylesheet() -> str:
    """The CSS for highlighted code, light and dark (static/css/highlight.css is made from it)."""

    # Token colours only: the code block's own box and background come from quill.css.
    def rules(style: str) -> list[str]:
        formatter = HtmlFormatter(style=style, classprefix=HIGHLIGHT_CLASS_PREFIX)
        return formatter.get_token_style_defs(".prose pre")

    light = "\n".join(rules("friendly"))
    dark = "\n".join(f"  {rule}" for rule in rules("monokai"))
    return f"{light}\n@media (prefers-color-scheme: dark) {{\n{dark}\n}}\n"


def _text_of(raw_html: str) -> str:
    text = html.unescape(nh3.clean(raw_html, tags=set()))
    return re.sub(r"\s+", " ", text).strip()


def _prose_of(tokens: list[Token]) -> str:
    paragraphs = [
        _md.renderInline(inline.content)
        for opening, inline in pairwise(tokens)
        if opening.type == "paragraph_open" and inline.type == "inline"
    ]
    return _text_of(" ".join(paragraphs))


SENTENCE_END = re.compile(r"[.!?…][\"”’)\]]*\s")


def excerpt_of(text: str) -> str:
    """The opening of a plain text: whole sentences when at least half the room holds some,
    otherwise cut at a word boundary."""
    if len(text) <= EXCERPT_LENGTH:
        return text
    room = text[: EXCERPT_LENGTH + 1]
    ends = [match.end() for match in SENTENCE_END.finditer(room)]
    if ends and ends[-1] >= EXCERPT_LENGTH // 2:
        return room[: ends[-1]].rstrip()
    cut = text[:EXCERPT_LENGTH].rsplit(" ", 1)[0]
    return cut.rstrip(" .,;:") + "…"


def reading_minutes(text: str) -> int:
    """Minutes to read a plain text, at least 1."""
    return max(1, math.ceil(len(text.split()) / WORDS_PER_MINUTE))
