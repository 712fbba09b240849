"""How a response (comment) reads on a page: plain text, with its paragraphs and links."""

from django import template
from django.utils.html import linebreaks, urlize
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

# Links members post are theirs, not Quill's: no ranking credit, no window.opener.
LINK_REL = "nofollow noopener ugc"
# Long addresses are shortened in the link text (the link itself is whole), for phone widths.
LINK_TEXT_LIMIT = 60


@register.filter(is_safe=True)
def comment_html(body: str) -> SafeString:
    """Escapes the text, turns its web addresses into links and its blank lines into
    paragraphs (single line breaks into <br>). No markup the member typed survives."""
    # urlize escapes everything that is not an address, and the addresses' text and hrefs,
    # so the only ` rel="nofollow"` in its output is the one it wrote itself.
    linked = urlize(str(body), trim_url_limit=LINK_TEXT_LIMIT, nofollow=True, autoescape=True)
    linked = linked.replace(' rel="nofollow"', f' rel="{LINK_REL}"')
    return mark_safe(linebreaks(linked, autoescape=False))
