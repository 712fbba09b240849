"""Story reads shared by pages, feeds and the API. Drafts never leak: they are not found by others."""

from uuid import UUID

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q, QuerySet

from accounts.models import User
from blog_project.exceptions import NotFound
from posts.models import Post, normalize_tag
from posts.search import clean_query, filter_by_search

STORY_NOT_FOUND = "No such story."


def _with_relations(queryset: QuerySet[Post]) -> QuerySet[Post]:
    # Lists show the author and tags of every row: two queries in all, never one per row.
    return queryset.select_related("author").prefetch_related("tags")


def published_posts(
    *, author: str | None = None, tag: str | None = None, query: str | None = None
) -> QuerySet[Post]:
    """Published stories, newest first, optionally by author username, tag and search text."""
    posts: QuerySet[Post] = Post.objects.published()
    if author:
        posts = posts.filter(author__username__iexact=author)
    if tag:
        posts = posts.filter(tags__name=normalize_tag(tag))
    query = clean_query(query)
    posts = filter_by_search(posts, query) if query else posts.order_by("-published_at", "-created_at")
    return _with_relations(posts)


def sitemap_stories() -> QuerySet[Post]:
    """Published stories with just what a sitemap entry needs: no authors, no tags."""
    return Post.objects.published().order_by("-published_at").only("slug", "updated_at")


def stories_of(*, user: User) -> QuerySet[Post]:
    """All of an author's stories, drafts included, most recently edited first."""
    return _with_relations(Post.objects.filter(author=user).order_by("-updated_at"))


def _visible_to(user: User | AnonymousUser | None) -> QuerySet[Post]:
    visible = Q(status=Post.Status.PUBLISHED)
    if user is not None and user.is_authenticated:
        visible |= Q(author=user)
    return _with_relations(Post.objects.filter(visible))


def get_post_by_id(*, post_id: str | UUID, user: User | AnonymousUser | None) -> Post:
    """A story the user may read; a draft is not found for anyone but its author, nor is a
    malformed id."""
    try:
        post_uuid = post_id if isinstance(post_id, UUID) else UUID(str(post_id))
    except ValueError:
        raise NotFound(STORY_NOT_FOUND) from None
    try:
        return _visible_to(user).get(pk=post_uuid)
    except Post.DoesNotExist:
        raise NotFound(STORY_NOT_FOUND) from None


def get_post_by_slug(*, slug: str, user: User | AnonymousUser | None) -> Post:
    try:
        return _visible_to(user).get(slug=slug)
    except Post.DoesNotExist:
        raise NotFound(STORY_NOT_FOUND) from None
