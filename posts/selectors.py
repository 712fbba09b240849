"""Story reads shared by pages, feeds and the API. Drafts never leak: they are not found by others."""

from datetime import datetime
from typing import TYPE_CHECKING, TypedDict
from uuid import UUID

from django.contrib.auth.models import AnonymousUser
from django.contrib.postgres.expressions import ArraySubquery
from django.db import connection
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    F,
    IntegerField,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce, Now

from accounts.models import Follow, User
from kernel.exceptions import NotFound
from posts.models import Bookmark, Clap, Comment, Post, Tag, normalize_tag, readers_see, readers_see_comment
from posts.search import clean_query, filter_by_search

POST_NOT_FOUND = "No such story."


def _with_relations(queryset: QuerySet[Post]) -> QuerySet[Post]:
    # Lists show the author and tags of every row: never a query per row. On Postgres the tag
    # names come in the same query (Post.tag_names), elsewhere in a second one.
    queryset = queryset.select_related("author")
    if connection.vendor != "postgresql":
        return queryset.prefetch_related("tags")
    names = Tag.objects.filter(posts=OuterRef("pk")).order_by("name").values("name")
    return queryset.annotate(tag_list=ArraySubquery(names))


Viewer = User | AnonymousUser | None


class Social(TypedDict):
    """What with_social adds to each story."""

    clap_count: int
    comment_count: int
    clapped: bool
    author_followed: bool
    saved: bool


class Followed(TypedDict):
    author_followed: bool


if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

    SocialPost = WithAnnotations[Post, Social]
    CommentWithFollow = WithAnnotations[Comment, Followed]


def _count_of(model: type[Clap] | type[Comment], *, visible: Q | None = None) -> Coalesce:
    per_post = model.objects.filter(visible or Q(), post=OuterRef("pk")).order_by().values("post")
    return Coalesce(Subquery(per_post.annotate(n=Count("*")).values("n")), 0, output_field=IntegerField())


def _signed_in(viewer: Viewer) -> User | None:
    return viewer if isinstance(viewer, User) else None


def with_social(posts: QuerySet[Post], *, viewer: Viewer) -> "QuerySet[SocialPost]":
    """Adds to each story `clap_count`, `comment_count`, and for the viewer `clapped`, `saved`
    and `author_followed`: subqueries in the same query, so a page costs the same whatever its size."""
    posts = posts.annotate(
        clap_count=_count_of(Clap), comment_count=_count_of(Comment, visible=readers_see_comment())
    )
    member = _signed_in(viewer)
    if member is None:
        no = Value(False, output_field=BooleanField())
        return posts.annotate(clapped=no, author_followed=no, saved=no)
    return posts.annotate(
        clapped=Exists(Clap.objects.filter(post=OuterRef("pk"), member=member)),
        saved=Exists(Bookmark.objects.filter(post=OuterRef("pk"), member=member)),
        author_followed=Exists(Follow.objects.filter(follower=member, followed=OuterRef("author_id"))),
    )


def published_posts(
    *,
    author: str | None = None,
    tag: str | None = None,
    query: str | None = None,
    clapped_by: str | None = None,
    with_html: bool = False,
) -> QuerySet[Post]:
    """Published stories, newest first, optionally by author username, tag, search text and
    the username of a member who clapped for them. Their rendered HTML only `with_html` (a feed):
    a list shows excerpts, and the HTML is the largest column."""
    posts: QuerySet[Post] = Post.objects.published()
    if not with_html:
        posts = posts.defer("body_html")
    if author:
        posts = posts.filter(author__username__iexact=author)
    if tag:
        posts = posts.filter(tags__name=normalize_tag(tag))
    if clapped_by:
        posts = posts.filter(claps__member__username__iexact=clapped_by)
    query = clean_query(query)
    posts = filter_by_search(posts, query) if query else posts.order_by("-published_at", "-created_at")
    return _with_relations(posts)


def reading_list(*, member: User) -> "QuerySet[SocialPost]":
    """The stories the member saved that readers can see now, newest saved first (a story
    unpublished since drops out, and comes back if it is published again)."""
    posts = (
        Post.objects.published()
        .defer("body_html")
        .filter(bookmarks__member=member)
        .annotate(saved_at=F("bookmarks__created_at"))
        .order_by("-saved_at", "-pk")
    )
    return with_social(_with_relations(posts), viewer=member)


def next_scheduled_publication() -> datetime | None:
    """When the next scheduled story goes up (readers' lists change then without a write)."""
    upcoming = Post.objects.filter(status=Post.Status.PUBLISHED, published_at__gt=Now())
    return upcoming.aggregate(at=Min("published_at"))["at"]


def sitemap_posts() -> QuerySet[Post]:
    """Published stories with just what a sitemap entry needs: no authors, no tags."""
    return Post.objects.published().order_by("-published_at", "pk").only("slug", "updated_at")


def sitemap_authors() -> QuerySet[User]:
    """Active members with at least one published story."""
    authors = Post.objects.published().values("author")
    return User.objects.filter(is_active=True, pk__in=authors).order_by("username").only("username")


def sitemap_tags() -> QuerySet[Tag]:
    """Tags of published stories."""
    return Tag.objects.filter(pk__in=Tag.objects.filter(readers_see("posts__")).values("pk")).order_by("name")


def feed_posts(*, viewer: User) -> QuerySet[Post]:
    """Published stories by the authors the viewer follows, newest first."""
    followed = Follow.objects.filter(follower=viewer).values("followed")
    posts = Post.objects.published().filter(author__in=followed).order_by("-published_at", "-created_at")
    return _with_relations(posts.defer("body_html"))


def comments_of(*, post: Post, viewer: Viewer) -> "QuerySet[CommentWithFollow]":
    """A story's responses readers can see, oldest first, each with `author_followed` for the viewer."""
    comments = (
        Comment.objects.filter(readers_see_comment(), post=post)
        .select_related("author", "post")
        .order_by("created_at", "id")
    )
    member = _signed_in(viewer)
    if member is None:
        return comments.annotate(author_followed=Value(False, output_field=BooleanField()))
    return comments.annotate(
        author_followed=Exists(Follow.objects.filter(follower=member, followed=OuterRef("author_id")))
    )


def get_comment(*, post: Post, comment_id: str | int, viewer: Viewer) -> "CommentWithFollow":
    try:
        return comments_of(post=post, viewer=viewer).get(pk=int(comment_id))
    except (Comment.DoesNotExist, ValueError, OverflowError):
        raise NotFound("No such response.", thing="comment") from None


def tags_in_use() -> list[str]:
    """Tags of published stories, the most used first."""
    live = readers_see("posts__")
    tags = Tag.objects.filter(live).annotate(uses=Count("posts", filter=live))
    return list(tags.order_by("-uses", "name").values_list("name", flat=True))


def posts_of(*, user: User) -> QuerySet[Post]:
    """All of an author's stories, drafts included, most recently edited first."""
    return _with_relations(Post.objects.filter(author=user).order_by("-updated_at"))


def _visible_to(user: User | AnonymousUser | None) -> QuerySet[Post]:
    # What readers see, or the reader's own.
    visible = readers_see()
    if user is not None and user.is_authenticated:
        visible |= Q(author=user)
    return _with_relations(Post.objects.filter(visible))


def get_post_by_id(*, post_id: str | UUID, user: User | AnonymousUser | None) -> Post:
    """A story the user may read; a draft is not found for anyone but its author, nor is a
    malformed id."""
    try:
        post_uuid = post_id if isinstance(post_id, UUID) else UUID(str(post_id))
    except ValueError:
        raise NotFound(POST_NOT_FOUND, thing="post") from None
    try:
        return _visible_to(user).get(pk=post_uuid)
    except Post.DoesNotExist:
        raise NotFound(POST_NOT_FOUND, thing="post") from None


def get_post_by_slug(*, slug: str, user: User | AnonymousUser | None, social: bool = False) -> Post:
    """A story the user may read (`social`: with with_social's counts and flags for them)."""
    posts = _visible_to(user)
    if social:
        posts = with_social(posts, viewer=user)
    try:
        return posts.get(slug=slug)
    except Post.DoesNotExist:
        raise NotFound(POST_NOT_FOUND, thing="post") from None


def authors_to_follow(*, viewer: User, limit: int = 5) -> list[User]:
    """Active authors the viewer does not follow (nor the viewer), who published most recently
    first, each with `latest_at`, `latest_title` and `latest_slug` (their newest published
    story) and `follower_count`: one query."""
    latest = Post.objects.published().filter(author=OuterRef("pk")).order_by("-published_at", "-created_at")
    followers = Follow.objects.filter(followed=OuterRef("pk")).order_by().values("followed")
    authors = (
        User.objects.filter(is_active=True)
        .exclude(pk=viewer.pk)
        .exclude(pk__in=Follow.objects.filter(follower=viewer).values("followed"))
        .annotate(
            latest_at=Subquery(latest.values("published_at")[:1]),
            latest_title=Subquery(latest.values("title")[:1]),
            latest_slug=Subquery(latest.values("slug")[:1]),
            follower_count=Coalesce(
                Subquery(followers.annotate(n=Count("*")).values("n")), 0, output_field=IntegerField()
            ),
        )
        .filter(latest_at__isnull=False)
        .order_by("-latest_at", "username")
    )
    return list(authors[:limit])
