"""The one Markdown renderer (story pages and the editor preview): rich enough, and never unsafe."""

import re
from html.parser import HTMLParser

import pytest

from posts.markdown import render_markdown

DANGEROUS_TAGS = {
    "script",
    "iframe",
    "style",
    "svg",
    "math",
    "object",
    "embed",
    "form",
    "input",
    "link",
    "meta",
}
DANGEROUS_SCHEMES = ("javascript:", "vbscript:", "data:")
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "background", "poster"}


class _Elements(HTMLParser):
    """Collects every (tag, attributes) a browser would build from the HTML."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, attrs))

    handle_startendtag = handle_starttag


def elements(html: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    parser = _Elements()
    parser.feed(html)
    parser.close()
    return parser.elements


def assert_safe(html: str) -> None:
    for tag, attrs in elements(html):
        assert tag not in DANGEROUS_TAGS, html
        for name, value in attrs:
            assert not name.startswith("on"), html
            assert name != "style", html  # the CSP forbids inline styles anyway
            if name in URL_ATTRIBUTES and value:
                # Browsers ignore whitespace and control characters inside a scheme.
                squeezed = re.sub(r"[\x00-\x20]", "", value).lower()
                assert not squeezed.startswith(DANGEROUS_SCHEMES), html
    assert "<script" not in html.lower()


XSS_PAYLOADS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>",
    "<scr<script>ipt>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "<img src=x oNeRrOr=alert(1)>",
    '<a href="#" onclick="alert(1)">click</a>',
    "<div onmouseover=alert(1)>hover</div>",
    "<body onload=alert(1)>",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](  javascript:alert(1))",
    "[click](&#106;avascript:alert(1))",
    "[click](&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;:alert(1))",
    "[click](java&#x09;script:alert(1))",
    "[click](java\tscript:alert(1))",
    "[click](<javascript:alert(1)>)",
    "[click][ref]\n\n[ref]: javascript:alert(1)",
    "<javascript:alert(1)>",
    "[click](vbscript:msgbox(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "![x](javascript:alert(1))",
    '![x](https://example.com/a.png "title" onerror="alert(1)")',
    '![x" onerror="alert(1)](https://example.com/a.png)',
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    '<svg><a xlink:href="javascript:alert(1)"><text y="20">x</text></a></svg>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<iframe src=https://evil.example></iframe>",
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    "<style>body{background:url(javascript:alert(1))}</style>",
    '<p style="background:url(javascript:alert(1))">styled</p>',
    "<img src=x onerror=alert(1)//",
    "<a href='javascript:alert(1)'>unclosed",
    '<<img src="x" onerror="alert(1)">>',
    "</p><script>alert(1)</script><p>",
    '<object data="javascript:alert(1)"></object>',
    '<form action="javascript:alert(1)"><input type=submit></form>',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    "```\n</code></pre><script>alert(1)</script>\n```",
    "`<script>alert(1)</script>`",
    "| a |\n|---|\n| <img src=x onerror=alert(1)> |",
    "> <script>alert(1)</script>",
    "- [x](javascript:alert(1))\n- <b onclick=alert(1)>b</b>",
]


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_no_payload_yields_a_script_an_event_handler_or_a_dangerous_link(payload):
    assert_safe(render_markdown(payload))


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_payloads_inside_a_real_story_stay_harmless(payload):
    source = f"# Title\n\nSome **text** before.\n\n{payload}\n\nAnd [a good link](https://example.com) after."
    html = render_markdown(source)
    assert_safe(html)
    assert '<a href="https://example.com"' in html


def test_raw_html_is_shown_as_text_not_run():
    html = render_markdown("Try <script>alert(1)</script> here")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_headings_code_blocks_quotes_links_and_images_render():
    html = render_markdown(
        "## A heading\n\n"
        "Text with `inline code`, *emphasis* and **strength**.\n\n"
        "```python\nprint('<hi>')\n```\n\n"
        "> A quote\n\n"
        "[A link](https://example.com/page) and ![An image](https://example.com/cat.png)\n\n"
        "1. one\n2. two\n\n"
        "- a\n- b\n"
    )
    assert "<h2>A heading</h2>" in html
    assert "<code>inline code</code>" in html and "<em>emphasis</em>" in html
    # Highlighted on the server: classes only (the CSP forbids inline styles), text escaped.
    assert '<pre><code class="language-python"><span class="hl-nb">print</span>' in html
    assert "&lt;hi&gt;" in html and "<hi>" not in html and "style=" not in html
    assert "<blockquote>\n<p>A quote</p>\n</blockquote>" in html
    assert '<a href="https://example.com/page" rel="nofollow noopener noreferrer ugc">A link</a>' in html
    assert '<img src="https://example.com/cat.png" alt="An image" loading="lazy">' in html
    assert "<ol>" in html and "<ul>" in html


def test_table_alignment_uses_classes_because_the_csp_blocks_inline_styles():
    html = render_markdown("| left | middle | right |\n|:--|:-:|--:|\n| 1 | 2 | 3 |")
    assert '<th class="align-left">left</th>' in html
    assert '<td class="align-center">2</td>' in html
    assert '<td class="align-right">3</td>' in html
    assert "style" not in html


def test_mail_links_are_kept_and_relative_links_work():
    html = render_markdown("[mail](mailto:ada@example.com) and [home](/tag/writing/)")
    assert 'href="mailto:ada@example.com"' in html
    assert 'href="/tag/writing/"' in html
