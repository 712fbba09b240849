"""RSS of the newest published stories: the site's (/feed.xml), an author's
(/@<username>/feed.xml) and a tag's (/tag/<tag>/feed.xml).

A feed reader shows an item's description as HTML, and many show its title and author as
HTML too. So every piece of story text is escaped exactly once as HTML here (the XML
writer then escapes the result for XML, which the reader undoes): nothing an author typed
ever runs as markup in a reader. Descriptions carry the story's sanitised HTML (the site's
feed: its excerpt).
"""

from datetime import datetime

from django.contrib.syndication.views import Feed
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import escape, format_html

from accounts.models import User
from accounts.selectors import get_author
from kernel.exceptions import NotFound
from posts.models import Post, normalize_tag
from posts.selectors import published_posts

FEED_SIZE = 20


class PostsFeed(Feed):
    """The items of every Quill feed."""

    def item_title(self, item: Post) -> str:
        return escape(item.title)

    def item_description(self, item: Post) -> str:
        return format_html("<p>{}</p>", item.excerpt)

    def item_author_name(self, item: Post) -> str:
        return escape(item.author.display_name)

    def item_pubdate(self, item: Post) -> datetime | None:
        return item.published_at

    def item_updateddate(self, item: Post) -> datetime:
        return item.updated_at

    def item_categories(self, item: Post) -> list[str]:
        return [escape(name) for name in item.tag_names]


class LatestPostsFeed(PostsFeed):
    title = "Quill: newest stories"
    description = "The newest stories published on Quill."

    def link(self) -> str:
        return reverse("posts:home")

    def items(self) -> QuerySet[Post]:
        return published_posts(with_html=True)[:FEED_SIZE]


class FullPostsFeed(PostsFeed):
    """Feeds of one author or one tag carry each story whole (its sanitised HTML)."""

    def item_description(self, item: Post) -> str:
        return item.html


class AuthorFeed(FullPostsFeed):
    def get_object(self, request: HttpRequest, username: str) -> User:
        return get_author(username=username)

    def title(self, author: User) -> str:
        return escape(f"{author.display_name} on Quill")

    def description(self, author: User) -> str:
        return escape(f"The newest stories by {author.display_name} (@{author.username}).")

    def link(self, author: User) -> str:
        return reverse("posts:author", args=[author.username])

    def items(self, author: User) -> QuerySet[Post]:
        return published_posts(author=author.username, with_html=True)[:FEED_SIZE]


class TagFeed(FullPostsFeed):
    def get_object(self, request: HttpRequest, tag: str) -> str:
        name = normalize_tag(tag)
        if not name or not published_posts(tag=name).exists():
            raise NotFound("No such tag.", thing="tag")
        return name

    def title(self, tag: str) -> str:
        return f"Quill: stories tagged {tag}"

    def description(self, tag: str) -> str:
        return f"The newest stories tagged {tag} on Quill."

    def link(self, tag: str) -> str:
        return reverse("posts:tag", args=[tag])

    def items(self, tag: str) -> QuerySet[Post]:
        return published_posts(tag=tag, with_html=True)[:FEED_SIZE]
