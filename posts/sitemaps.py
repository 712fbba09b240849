"""Sitemap of published stories, at /sitemap.xml."""

from datetime import datetime

from django.contrib.sitemaps import Sitemap
from django.db.models import QuerySet

from posts.models import Post
from posts.selectors import sitemap_stories


class StorySitemap(Sitemap):
    changefreq = "weekly"

    def items(self) -> QuerySet[Post]:
        return sitemap_stories()

    def lastmod(self, post: Post) -> datetime:
        return post.updated_at


SITEMAPS = {"stories": StorySitemap}
