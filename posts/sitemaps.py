"""The sitemap: an index at /sitemap.xml of stories (in pages), authors and tags.

It is cached for as long as what it lists is unchanged: the cache key holds the number of
live stories and the latest change, one cheap query, so a story that goes up (published
now, or its scheduled time come), is edited or taken down shows at once, and nothing
renders 100,000 entries twice.
"""

from collections.abc import Callable
from datetime import datetime

from django.contrib.sitemaps import Sitemap
from django.contrib.sitemaps import views as sitemap_views
from django.core.cache import cache
from django.db.models import Count, Max, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from accounts.models import User
from posts.models import Post, Tag
from posts.selectors import sitemap_authors, sitemap_posts, sitemap_tags

CACHE_SECONDS = 3600


class PostSitemap(Sitemap):
    changefreq = "weekly"
    limit = 5000  # entries per page of the index

    def items(self) -> QuerySet[Post]:
        return sitemap_posts()

    def lastmod(self, post: Post) -> datetime:
        return post.updated_at


class AuthorSitemap(Sitemap):
    changefreq = "weekly"
    limit = 5000

    def items(self) -> QuerySet[User]:
        return sitemap_authors()

    def location(self, author: User) -> str:
        return f"/@{author.username}/"


class TagSitemap(Sitemap):
    changefreq = "weekly"
    limit = 5000

    def items(self) -> QuerySet[Tag]:
        return sitemap_tags()


SITEMAPS: dict[str, type[Sitemap]] = {"stories": PostSitemap, "authors": AuthorSitemap, "tags": TagSitemap}


def _state() -> str:
    live = Post.objects.published().aggregate(count=Count("pk"), changed=Max("updated_at"))
    return f"{live['count']}:{live['changed'].timestamp() if live['changed'] else 0}"


def _cached(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    def cached_view(request: HttpRequest, **kwargs: str) -> HttpResponse:
        key = f"sitemap:{_state()}:{request.get_full_path()}"
        response = cache.get(key)
        if response is None:
            response = view(request, sitemaps=SITEMAPS, **kwargs)
            assert isinstance(response, TemplateResponse)  # what Django's sitemap views return
            response.render()
            cache.set(key, response, CACHE_SECONDS)
        return response

    return cached_view


def _index(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return sitemap_views.index(request, sitemap_url_name="posts:sitemap_section", **kwargs)  # type: ignore[arg-type]


index = _cached(_index)
section = _cached(sitemap_views.sitemap)
