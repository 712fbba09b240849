"""Story reads shared by pages, feeds and the API. Drafts never leak: they are 404 to others."""

from uuid import UUID

from django.db.models import Q, QuerySet
from django.http import Http404

from accounts.models import User
from posts.models import Post
from posts.search import clean_query, filter_by_search
from posts.services import normalize_tag


def _with_relations(queryset: QuerySet[Post]) -> QuerySet[Post]:
    # Lists show the author and tags of every row: two queries in all, never one per row.
    return queryset.select_related("author").prefetch_related("tags")


def published_posts(
    *, author: str | None = None, tag: str | None = None, query: str | None = None
) -> QuerySet[Post]:
    """Published stories, newest first, optionally by author username, tag and search text."""
    posts = Post.objects.published()
    if author:
        posts = posts.filter(author__username__iexact=author)
    if tag:
        posts = posts.filter(tags__name=normalize_tag(tag))
    query = clean_query(query)
    posts = filter_by_search(posts, query) if query else posts.order_by("-published_at", "-created_at")
    return _with_relations(posts)


def stories_of(user: User) -> QuerySet[Post]:
    """All of an author's stories, drafts included, most recently edited first."""
    return _with_relations(Post.objects.filter(author=user).order_by("-updated_at"))


def _visible_to(user: User | None) -> QuerySet[Post]:
    visible = Q(status=Post.Status.PUBLISHED)
    if user is not None and user.is_authenticated:
        visible |= Q(author=user)
    return _with_relations(Post.objects.filter(visible))


def get_post_by_id(*, post_id: str | UUID, user: User | None) -> Post:
    """A story the user may read; a draft is 404 for anyone but its author, as is a malformed id."""
    try:
        post_uuid = post_id if isinstance(post_id, UUID) else UUID(str(post_id))
    except ValueError:
        raise Http404("No such story.") from None
    try:
        return _visible_to(user).get(pk=post_uuid)
    except Post.DoesNotExist:
        raise Http404("No such story.") from None


def get_post_by_slug(*, slug: str, user: User | None) -> Post:
    try:
        return _visible_to(user).get(slug=slug)
    except Post.DoesNotExist:
        raise Http404("No such story.") from None


def get_author(username: str) -> User:
    try:
        return User.objects.get(username__iexact=username, is_active=True)
    except User.DoesNotExist:
        raise Http404("No such author.") from None
