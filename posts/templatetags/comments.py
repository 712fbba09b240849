"""How a response (comment) reads on a page: plain text, with its paragraphs, links and the
members it mentions linked to their pages."""

import re
from collections.abc import Iterable, Mapping
from typing import Any

from django import template
from django.urls import reverse
from django.utils.html import linebreaks, urlize
from django.utils.safestring import SafeString, mark_safe

from accounts.mentions import active_usernames, mentioned_usernames, mentions

register = template.Library()

# Links members post are theirs, not Quill's: no ranking credit, no window.opener.
LINK_REL = "nofollow noopener ugc"
# Long addresses are shortened in the link text (the link itself is whole), for phone widths.
LINK_TEXT_LIMIT = 60


@register.simple_tag
def mentioned_members(comments: Iterable[Any]) -> dict[str, str]:
    """The active members a page's responses mention, in one query for all of them (none when
    they mention nobody), for comment_html: `{% mentioned_members comments as mentioned %}` then
    `{{ comment.body|comment_html:mentioned }}`. Takes responses, or entries with a `.comment`."""
    return active_usernames(
        name
        for comment in comments
        for name in mentioned_usernames(getattr(comment, "comment", comment).body)
    )


@register.filter(is_safe=True)
def comment_html(body: str, members: Mapping[str, str] | None = None) -> SafeString:
    """Escapes the text, turns its web addresses into links and its blank lines into
    paragraphs (single line breaks into <br>), and links the @usernames of active members to
    their pages. No markup the member typed survives. `members` is mentioned_members' for the
    whole page; without it, the members this response mentions are looked up (one query)."""
    text = str(body)
    names = mentioned_usernames(text)
    if members is None:
        members = active_usernames(names)
    # The rule's own limit per text holds, whatever the other responses on the page mention.
    linked_members = {name: members[name] for name in names if name in members}
    # urlize escapes everything that is not an address, and the addresses' text and hrefs,
    # so the only ` rel="nofollow"` in its output is the one it wrote itself.
    linked = urlize(text, trim_url_limit=LINK_TEXT_LIMIT, nofollow=True, autoescape=True)
    linked = linked.replace(' rel="nofollow"', f' rel="{LINK_REL}"')
    html = linebreaks(linked, autoescape=False)
    return mark_safe(_with_mention_links(html, linked_members) if linked_members else html)


_TAG = re.compile(r"(<[^>]*>)")


def _with_mention_links(html: str, members: Mapping[str, str]) -> str:
    """`html` (escaped text and the tags urlize and linebreaks wrote) with each mention of a
    member outside a link made a link to their page.

    The mention rule reads the text as the member typed it: the text between the tags, each
    <br> the line break it was (blank lines are still between the paragraphs). Escaping keeps
    what the rule sees around a mention, since it makes no letter, digit, "@", "/" or "."."""
    parts = _TAG.split(html)  # text, tag, text, ..., text
    text = ""
    texts: list[tuple[int, int, bool]] = []  # each text part: its index, start in `text`, in a link
    in_link = False
    for index, part in enumerate(parts):
        if index % 2:
            if part.startswith("<a "):
                in_link = True
            elif part == "</a>":
                in_link = False
            elif part in {"<br>", "<br/>", "<br />"}:
                text += "\n"
        else:
            texts.append((index, len(text), in_link))
            text += part

    cuts: dict[int, list[tuple[int, int, str]]] = {}  # text part -> mentions to link in it
    for mention in mentions(text):
        username = members.get(mention[1].lower())
        if username is None:
            continue
        # The text part the mention starts in: the last one starting at or before it.
        index, start, in_link = next(entry for entry in reversed(texts) if entry[1] <= mention.start())
        if in_link or mention.end() > start + len(parts[index]):
            continue  # inside a web address's link, or across a tag
        cuts.setdefault(index, []).append((mention.start() - start, mention.end() - start, username))

    for index, found in cuts.items():
        part, pieces, done = parts[index], [], 0
        for begin, end, username in found:
            href = reverse("posts:author", args=[username])
            pieces += [part[done:begin], f'<a href="{href}">{part[begin:end]}</a>']
            done = end
        parts[index] = "".join([*pieces, part[done:]])
    return "".join(parts)
