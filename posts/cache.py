"""What the posts app's writes change for anonymous readers (faces.readcache): every
model of the app, the events of its writes that send no signals, and when lists change by
themselves (a scheduled story going up)."""

from typing import Any
from uuid import UUID

from django.db.models import Model

from faces.readcache import ALL, LISTS, EventScopes, RowScopes, everywhere, nothing, post_scope
from kernel.events import Event
from posts.events import PostsRerendered, PostsTakenDown
from posts.models import Bookmark, Clap, Comment, CreateRequest, Post, Revision, Tag
from posts.selectors import next_scheduled_publication


def _post_scopes(post_id: UUID, slug: str | None) -> tuple[str, ...]:
    """A story's reads (by its id and its slug) and the lists."""
    return (LISTS, post_scope(post_id), *([post_scope(slug)] if slug else []))


def _post(post: Post, fields: frozenset[str] | None) -> tuple[str, ...]:
    return _post_scopes(post.pk, post.slug)


def _of_its_post(row: Any, fields: frozenset[str] | None) -> tuple[str, ...]:
    """A response or a clap shows on its story's reads (and counts in the lists)."""
    if type(row).post.is_cached(row):  # the service's own copy: no query
        return _post_scopes(row.post.pk, row.post.slug)
    return _post_scopes(
        row.post_id, Post.objects.filter(pk=row.post_id).values_list("slug", flat=True).first()
    )


MODELS: dict[type[Model], RowScopes] = {
    Post: _post,
    Comment: _of_its_post,
    Clap: _of_its_post,
    Tag: everywhere,  # a tag renamed or deleted changes every story that has it
    # What readers see is unchanged: the story's own save says what is.
    Revision: nothing,
    Bookmark: nothing,  # a member's own list; readers' pages show no saves
    CreateRequest: nothing,
}

# Moderation and re-rendering write many stories with update()/bulk_update(): no signals.
EVENTS: dict[type[Event], EventScopes] = {
    PostsTakenDown: lambda event: (ALL,),
    PostsRerendered: lambda event: (ALL,),
}

# Lists change by themselves when a scheduled story goes up.
UPCOMING = next_scheduled_publication
