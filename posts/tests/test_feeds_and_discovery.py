"""RSS feeds as a feed reader reads them, robots.txt, canonical links, covers."""

from html.parser import HTMLParser
from xml.etree import ElementTree

import pytest
from django.test import Client

from accounts.tests.factories import UserFactory
from posts.tests.factories import PostFactory

pytestmark = pytest.mark.django_db

PAYLOADS = [
    '<img src=x onerror="alert(1)">',
    "<script>alert(1)</script>",
    '"><svg onload=alert(1)>',
    '<a href="javascript:alert(1)">x</a>',
]


class _LiveMarkup(HTMLParser):
    """What a feed reader would run or load if it rendered the text as HTML."""

    def __init__(self) -> None:
        super().__init__()
        self.dangerous: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        scripted = any(
            name.startswith("on") or (value or "").strip().startswith("javascript:") for name, value in attrs
        )
        if tag in {"script", "svg", "iframe", "object"} or scripted:
            self.dangerous.append(tag)


def live_markup(html: str) -> list[str]:
    parser = _LiveMarkup()
    parser.feed(html)
    return parser.dangerous


def items(response) -> list[ElementTree.Element]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/rss+xml")
    channel = ElementTree.fromstring(response.content).find("channel")
    assert channel is not None
    return channel.findall("item")


@pytest.mark.parametrize("payload", PAYLOADS)
def test_no_feed_lets_story_text_run_as_markup_in_a_reader(payload):
    author = UserFactory(username="evil_writer", name=payload)
    PostFactory(
        author=author,
        title=f"Title {payload}",
        content=f"Opening {payload} and `{payload}` in code.\n\n```\n{payload}\n```\n",
        tags=["xss"],
    )
    for path in ("/feed.xml", "/@evil_writer/feed.xml", "/tag/xss/feed.xml"):
        [item] = items(Client().get(path))
        for field in ("title", "description", "{http://purl.org/dc/elements/1.1/}creator", "author"):
            text = item.findtext(field) or ""
            assert live_markup(text) == [], (path, field, text)
        description = item.findtext("description") or ""
        # Escaped exactly once: the reader shows the characters the author typed.
        assert "&lt;" in description and "&amp;lt;" not in description, (path, description)


def test_author_and_tag_feeds_carry_whole_stories_of_that_author_or_tag(user, other_user):
    PostFactory(author=user, title="Mine", content="## Heading\n\nAll of it.", tags=["birds"])
    PostFactory(author=other_user, title="Theirs", tags=["fish"])
    PostFactory(author=user, title="Draft", publish=False, tags=["birds"])
    [mine] = items(Client().get(f"/@{user.username}/feed.xml"))
    assert mine.findtext("title") == "Mine"
    assert "<h2>Heading</h2>" in (mine.findtext("description") or "")
    assert [item.findtext("title") for item in items(Client().get("/tag/birds/feed.xml"))] == ["Mine"]
    assert Client().get("/tag/no-such-tag/feed.xml").status_code == 404
    assert Client().get("/@nobody_here/feed.xml").status_code == 404


def test_robots_txt_points_crawlers_at_the_sitemap():
    response = Client().get("/robots.txt")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert "User-agent: *" in text
    assert "Sitemap: http://testserver/sitemap.xml" in text
    assert "Disallow: /write/" in text and "Disallow: /settings/" in text


@pytest.mark.parametrize(
    ("path", "canonical"),
    [
        ("/", "http://testserver/"),
        ("/?utm_source=x", "http://testserver/"),
        ("/?page=1", "http://testserver/"),
        ("/?page=2", "http://testserver/?page=2"),
        ("/search/?q=birds&utm_medium=y", "http://testserver/search/?q=birds"),
    ],
)
def test_every_page_has_one_canonical_address(path, canonical):
    PostFactory.create_batch(11)
    html = Client().get(path).content.decode()
    assert f'<link rel="canonical" href="{canonical}">' in html


def test_a_cover_shows_on_the_story_and_its_card_and_is_the_og_image(user):
    post = PostFactory(author=user, title="Covered")
    post.cover_image = "https://images.example.com/cover.jpg"
    post.save(update_fields=["cover_image"])
    page_html = Client().get(post.get_absolute_url()).content.decode()
    assert 'class="story-cover" src="https://images.example.com/cover.jpg"' in page_html
    assert '<meta property="og:image" content="https://images.example.com/cover.jpg">' in page_html
    assert 'src="https://images.example.com/cover.jpg"' in Client().get("/").content.decode()
