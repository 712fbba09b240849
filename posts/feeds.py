"""RSS of the newest published stories, at /feed.xml."""

from datetime import datetime

from django.contrib.syndication.views import Feed
from django.db.models import QuerySet
from django.urls import reverse_lazy

from posts.models import Post
from posts.selectors import published_posts

FEED_SIZE = 20


class LatestStoriesFeed(Feed):
    title = "Quill: newest stories"
    link = reverse_lazy("posts:home")
    description = "The newest stories published on Quill."

    def items(self) -> QuerySet[Post]:
        return published_posts()[:FEED_SIZE]

    def item_title(self, item: Post) -> str:
        return item.title

    def item_description(self, item: Post) -> str:
        return item.excerpt

    def item_author_name(self, item: Post) -> str:
        return item.author.display_name

    def item_pubdate(self, item: Post) -> datetime | None:
        return item.published_at

    def item_updateddate(self, item: Post) -> datetime:
        return item.updated_at

    def item_categories(self, item: Post) -> list[str]:
        return [tag.name for tag in item.tags.all()]
