"""Story rules: creating, editing, publishing and deleting. Pages, API and admin all call these."""

import secrets
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import User
from accounts.ratelimit import count_attempt
from accounts.uploads import clean_image_url
from kernel.events import Event, announce
from kernel.exceptions import Conflict, NotAllowed, NotFound, StaleWrite
from kernel.text import normalize_newlines
from posts.events import (
    Clapped,
    CommentAdded,
    CommentDeleted,
    PostChanged,
    PostDeleted,
    PostPublished,
    PostsRerendered,
    PostsTakenDown,
    PostUnpublished,
    Unclapped,
)
from posts.markdown import excerpt_of, render_post
from posts.models import (
    COMMENT_MAX_LENGTH,
    CONTENT_MAX_LENGTH,
    COVER_MAX_LENGTH,
    DESCRIPTION_MAX_LENGTH,
    MAX_TAGS,
    REVISIONS_KEPT,
    TAG_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    Bookmark,
    Clap,
    Comment,
    CreateRequest,
    Post,
    Revision,
    Tag,
    normalize_tag,
)

SLUG_BASE_LENGTH = 80
TITLE_REQUIRED = "Give your story a title."


def _text_problem(value: str) -> str | None:
    if "\x00" in value:
        return "Remove the NUL characters from this text."
    if any("\ud800" <= char <= "\udfff" for char in value):
        return "This text is not valid Unicode."
    return None


def clean_tags(raw_tags: Iterable[str]) -> list[str]:
    """Normalised, de-duplicated tags in the order given. Raises ValidationError on bad tags."""
    raw_tags = list(raw_tags)
    if len(raw_tags) > MAX_TAGS:
        raise ValidationError({"tags": [f"Use at most {MAX_TAGS} tags."]})
    tags: list[str] = []
    for raw in raw_tags:
        problem = _text_problem(raw)
        tag = normalize_tag(raw) if problem is None else ""
        if problem or not tag:
            raise ValidationError(
                {"tags": [problem or f"“{raw}” is not a usable tag: use letters or digits."]}
            )
        if max(len(tag), len(raw)) > TAG_MAX_LENGTH:
            raise ValidationError({"tags": [f"Keep each tag to {TAG_MAX_LENGTH} characters or fewer."]})
        if tag not in tags:
            tags.append(tag)
    return tags


def _validate_text(title: str | None, content: str | None, description: str | None = None) -> None:
    errors: dict[str, list[str]] = {}
    if description is not None:
        if problem := _text_problem(description):
            errors["description"] = [problem]
        elif len(description.strip()) > DESCRIPTION_MAX_LENGTH:
            errors["description"] = [f"Keep the summary to {DESCRIPTION_MAX_LENGTH} characters or fewer."]
    if title is not None:
        if problem := _text_problem(title):
            errors["title"] = [problem]
        elif not title.strip():
            errors["title"] = [TITLE_REQUIRED]
        elif len(title) > TITLE_MAX_LENGTH:
            errors["title"] = [
                f"Keep the title to {TITLE_MAX_LENGTH} characters or fewer (it has {len(title)})."
            ]
    if content is not None:
        if problem := _text_problem(content):
            errors["content"] = [problem]
        elif len(content) > CONTENT_MAX_LENGTH:
            errors["content"] = [
                f"Keep the story to {CONTENT_MAX_LENGTH:,} characters or fewer (it has {len(content):,})."
            ]
    if errors:
        raise ValidationError(errors)


def _apply_content(post: Post, content: str) -> None:
    post.content = normalize_newlines(content)
    rendered = render_post(post.content)
    post.body_html = rendered.html
    post.reading_time = rendered.reading_minutes
    post.excerpt = rendered.excerpt(post.description)


def _apply_excerpt(post: Post) -> None:
    post.excerpt = excerpt_of(post.description) if post.description else render_post(post.content).excerpt()


# What unpublishing sets, for one story (the editor) and many at once (moderation).
UNPUBLISHED: dict[str, object] = {"status": Post.Status.DRAFT, "published_at": None}


def _apply_status(
    post: Post, publish: bool | None, published_at: datetime | None, schedule_at: datetime | None
) -> None:
    """publish False: a draft, whatever `published_at` says (a draft has no publication time).
    publish True: up at `published_at` (a future time schedules it, a past one is kept as the
    date readers see), or without one up now: a draft, and a scheduled story too; a story
    already up keeps its date. Neither (None): a `published_at` alone publishes at that time.
    `schedule_at`: the story goes up then, which must be still to come (the faces' Schedule)."""
    if schedule_at is not None:
        if publish is False or published_at is not None:
            raise ValueError("schedule_at is given alone: it publishes at that time")
        try:
            in_the_past = schedule_at <= timezone.now()
        except OverflowError:  # the first hours of year 1, in a zone ahead of UTC
            in_the_past = True
        if in_the_past:
            raise ValidationError({"published_at": [SCHEDULE_IN_PAST]})
        published_at = schedule_at
    if publish is False:
        for field, value in UNPUBLISHED.items():
            setattr(post, field, value)
    elif published_at is not None:
        post.status = Post.Status.PUBLISHED
        post.published_at = published_at
    elif publish and not post.is_published:
        post.status = Post.Status.PUBLISHED
        post.published_at = timezone.now()


SCHEDULE_IN_PAST = "Choose a time in the future (to publish now, press Publish)."
# Scheduling further ahead is a typo. The limit is a year, as the time is written (in its own
# zone), so that the API schemas can state it exactly.
SCHEDULE_YEARS_AHEAD = 10


def latest_schedule_year() -> int:
    """The last year a story may be published or scheduled in."""
    return timezone.now().year + SCHEDULE_YEARS_AHEAD


def _validate_schedule(published_at: datetime | None) -> None:
    if published_at is None:
        return
    if published_at.year > latest_schedule_year():
        raise ValidationError(
            {"published_at": [f"Choose a time no later than the end of {latest_schedule_year()}."]}
        )
    if timezone.is_naive(published_at):
        raise ValidationError(
            {"published_at": ["Give the time with its time zone (e.g. 2026-12-24T09:00:00Z)."]}
        )


def _clean_cover(cover_image: str) -> str:
    """The cover's address as it is stored (accounts.uploads.clean_image_url has the rule)."""
    try:
        return clean_image_url(cover_image, max_length=COVER_MAX_LENGTH)
    except ValidationError as refusal:
        raise ValidationError({"cover_image": refusal.messages}) from None


def _set_tags(post: Post, tags: list[str]) -> None:
    Tag.objects.bulk_create([Tag(name=name) for name in tags], ignore_conflicts=True)
    post.tags.set(Tag.objects.filter(name__in=tags))
    # Readers of this copy see the new tags, not the ones its query brought (Post.tag_names).
    getattr(post, "_prefetched_objects_cache", {}).pop("tags", None)
    post.__dict__.pop("tag_list", None)


def _save_with_unique_slug(post: Post) -> None:
    base = slugify(post.title)[:SLUG_BASE_LENGTH].strip("-") or "story"
    slug = base
    for _ in range(10):
        if not Post.objects.filter(slug=slug).exists():
            post.slug = slug
            try:
                with transaction.atomic():
                    post.save(force_insert=True)
                return
            except IntegrityError:
                pass  # someone took the slug between our check and insert: try another
        slug = f"{base}-{secrets.token_hex(3)}"
    raise RuntimeError("Could not find a free slug")  # ten random suffixes all taken: not reachable


@transaction.atomic
def create_post(
    *,
    author: User,
    title: str,
    content: str = "",
    description: str = "",
    tags: Iterable[str] = (),
    publish: bool | None = None,
    cover_image: str = "",
    published_at: datetime | None = None,
    schedule_at: datetime | None = None,
) -> Post:
    """A new story: a draft, published now (`publish`), or scheduled (`published_at` ahead,
    or `schedule_at`, which must be ahead); `publish=False` is a draft even with a
    `published_at` (_apply_status)."""
    _validate_text(title, content, description)
    cover_image = _clean_cover(cover_image)
    _validate_schedule(published_at or schedule_at)
    tag_names = clean_tags(tags)
    post = Post(author=author, title=title.strip(), description=description.strip(), cover_image=cover_image)
    _apply_content(post, content)
    _apply_status(post, publish, published_at, schedule_at)
    _save_with_unique_slug(post)
    _set_tags(post, tag_names)
    if (published := _published(post, before=None)) is not None:
        announce(published)
    return post


def _published(post: Post, *, before: Post | None) -> PostPublished | None:
    """The announcement of a save that published or scheduled the story: from a draft (or
    new), or a scheduled story given another time. `before`: the story as it was stored."""
    if not post.is_published_or_scheduled or post.published_at is None:
        return None
    rescheduled = before is not None and before.is_scheduled and before.published_at != post.published_at
    if before is None or not before.is_published_or_scheduled or rescheduled:
        return PostPublished(post_id=post.pk, author_id=post.author_id, published_at=post.published_at)
    return None


# How long a create's Idempotency-Key is remembered (SPEC: 24 hours).
IDEMPOTENCY_WINDOW = timedelta(hours=24)
KEY_REUSED = "This Idempotency-Key was already used with a different request body."


@transaction.atomic
def create_post_once(
    *,
    author: User,
    key: str,
    fingerprint: str,
    answer: Callable[[Post], dict[str, Any]],
    title: str,
    content: str = "",
    description: str = "",
    tags: Iterable[str] = (),
    publish: bool | None = None,
    cover_image: str = "",
    published_at: datetime | None = None,
) -> tuple[dict[str, Any], bool]:
    """Creates a story once per (author, key) in 24 hours, remembering `answer(post)`.

    Returns the first answer and whether this call created the story. A repeat with the same
    body (`fingerprint`) creates nothing; with another body it raises Conflict. A repeat that
    arrives while the first is still being created waits for it (the unique key row), so
    simultaneous retries create one story.
    """
    CreateRequest.objects.filter(
        author=author, key=key, created_at__lt=timezone.now() - IDEMPOTENCY_WINDOW
    ).delete()
    try:
        with transaction.atomic():
            claim = CreateRequest.objects.create(author=author, key=key, fingerprint=fingerprint, response={})
    except IntegrityError:
        first = CreateRequest.objects.get(author=author, key=key)
        if first.fingerprint != fingerprint:
            raise Conflict({"idempotency_key": KEY_REUSED}) from None
        return first.response, False
    post = create_post(
        author=author,
        title=title,
        content=content,
        description=description,
        tags=tags,
        publish=publish,
        cover_image=cover_image,
        published_at=published_at,
    )
    claim.response = answer(post)
    claim.save(update_fields=["response"])
    return claim.response, True


def is_author(*, post: Post, user: User | AnonymousUser) -> bool:
    """Only a story's author may change it (pages use this to offer Edit and Delete)."""
    return user.is_authenticated and post.author_id == user.pk


def ensure_author(*, post: Post, user: User | AnonymousUser) -> None:
    """Only a story's author may change it; everyone else is refused."""
    if not is_author(post=post, user=user):
        raise NotAllowed("Only the author can change this story.", thing="post")


@transaction.atomic
def update_post(
    *,
    post: Post,
    editor: User,
    title: str | None = None,
    content: str | None = None,
    description: str | None = None,
    tags: Iterable[str] | None = None,
    publish: bool | None = None,
    cover_image: str | None = None,
    published_at: datetime | None = None,
    schedule_at: datetime | None = None,
    expected_version: int | None = None,
) -> Post:
    """Changes only the fields given (None leaves a field as it is) and makes a new version;
    `publish`, `published_at` and `schedule_at` as for create_post.

    With `expected_version` (the version the editor or client loaded), a story changed since
    is not overwritten: StaleWrite carries the current one. A change of title or text keeps
    the previous ones as a revision.
    """
    ensure_author(post=post, user=editor)
    _validate_text(title, content, description)
    cover_image = None if cover_image is None else _clean_cover(cover_image)
    _validate_schedule(published_at or schedule_at)
    tag_names = clean_tags(tags) if tags is not None else None
    # The row lock makes the version check and the save one step for simultaneous saves.
    try:
        stored = Post.objects.select_for_update().get(pk=post.pk)
    except Post.DoesNotExist:  # deleted since the page loaded it
        raise NotFound("No such story.", thing="post") from None
    if expected_version is not None and expected_version != stored.version:
        raise StaleWrite(current=stored)
    # Changes apply to the story as it is now (a moderator may have unpublished it since the
    # caller loaded it), never to the caller's older copy.
    for field in Post._meta.concrete_fields:
        setattr(post, field.attname, getattr(stored, field.attname))
    previous = Revision(
        post=post, title=stored.title, content=stored.content, version=stored.version,
        saved_by_id=stored.author_id, saved_at=stored.updated_at,
    )  # fmt: skip
    if description is not None:
        post.description = description.strip()
        _apply_excerpt(post)
    if title is not None:
        post.title = title.strip()
    if content is not None:
        _apply_content(post, content)
    if cover_image is not None:
        post.cover_image = cover_image
    _apply_status(post, publish, published_at, schedule_at)
    post.version = stored.version + 1
    post.save()
    if (post.title, post.content) != (previous.title, previous.content):
        _keep_revision(previous)
    if tag_names is not None:
        _set_tags(post, tag_names)
    announce(_saved(post, before=stored))
    return post


def _saved(post: Post, *, before: Post) -> Event:
    """What an editor's save of a story announces, `before` being the story as it was stored."""
    if (published := _published(post, before=before)) is not None:
        return published
    if before.is_published_or_scheduled and not post.is_published_or_scheduled:
        return PostUnpublished(post_id=post.pk, slug=post.slug, author_id=post.author_id)
    return PostChanged(post_id=post.pk, slug=post.slug)


def _keep_revision(revision: Revision) -> None:
    revision.save()
    older = Revision.objects.filter(post_id=revision.post_id).order_by("-version")[REVISIONS_KEPT:]
    Revision.objects.filter(pk__in=list(older.values_list("pk", flat=True))).delete()


@transaction.atomic
def restore_revision(*, revision: Revision, editor: User, expected_version: int | None = None) -> Post:
    """Brings back an earlier title and text; the text replaced is kept as a revision too."""
    return update_post(
        post=revision.post,
        editor=editor,
        title=revision.title,
        content=revision.content,
        expected_version=expected_version,
    )


@transaction.atomic
def delete_post(*, post: Post, editor: User) -> None:
    ensure_author(post=post, user=editor)
    deleted = PostDeleted(post_id=post.pk, slug=post.slug, author_id=post.author_id)
    post.delete()
    announce(deleted)


@transaction.atomic
def unpublish_posts(*, posts: QuerySet[Post]) -> int:
    """Moderation: turns published (or scheduled) stories back into drafts, as a new version
    of each, so an editor open on one cannot save over the change. Returns how many changed."""
    # Locked, so that the stories announced are the ones changed.
    up = Post.objects.filter(pk__in=posts.values("pk"), status=Post.Status.PUBLISHED).select_for_update()
    post_ids = tuple(up.values_list("pk", flat=True))
    Post.objects.filter(pk__in=post_ids).update(
        **UNPUBLISHED, version=F("version") + 1, updated_at=timezone.now()
    )
    if post_ids:
        announce(PostsTakenDown(post_ids=post_ids))
    return len(post_ids)


# --- Claps and comments ---------------------------------------------------------------------

NOT_PUBLISHED = "No such story."
COMMENT_REQUIRED = "Write something first."


def _ensure_published(post: Post) -> None:  # also not before its scheduled time
    # Claps and responses are for what readers can see; a draft is not there for them.
    if not post.is_published:
        raise NotFound(NOT_PUBLISHED, thing="post")


@transaction.atomic
def clap(*, post: Post, member: User) -> None:
    """The member claps for the story (once; clapping again changes nothing)."""
    _ensure_published(post)
    _, created = Clap.objects.get_or_create(post=post, member=member)
    if created:
        announce(Clapped(post_id=post.pk, member_id=member.pk))


@transaction.atomic
def unclap(*, post: Post, member: User) -> None:
    deleted, _ = Clap.objects.filter(post=post, member=member).delete()
    if deleted:
        announce(Unclapped(post_id=post.pk, member_id=member.pk))


@transaction.atomic
def bookmark(*, post: Post, member: User) -> None:
    """Saves a story readers can see to the member's reading list (saving again changes nothing)."""
    _ensure_published(post)
    Bookmark.objects.get_or_create(post=post, member=member)


@transaction.atomic
def unbookmark(*, post: Post, member: User) -> None:
    """Takes a story off the member's reading list (whatever the story's state now)."""
    Bookmark.objects.filter(post=post, member=member).delete()


@transaction.atomic
def add_comment(*, post: Post, author: User, body: str) -> Comment:
    """A response to a published story. Raises NotFound, ValidationError or RateLimited
    (settings.QUILL_COMMENT_RATE per member)."""
    _ensure_published(post)
    body = body.strip()
    if problem := _text_problem(body):
        raise ValidationError({"body": [problem]})
    if not body:
        raise ValidationError({"body": [COMMENT_REQUIRED]})
    if len(body) > COMMENT_MAX_LENGTH:
        raise ValidationError(
            {
                "body": [
                    f"Keep a response to {COMMENT_MAX_LENGTH:,} characters or fewer (it has {len(body):,})."
                ]
            }
        )
    count_attempt(scope="comment", ident=str(author.pk), rate=settings.QUILL_COMMENT_RATE)
    comment = Comment.objects.create(post=post, author=author, body=body)
    announce(CommentAdded(comment_id=comment.pk, post_id=post.pk, author_id=author.pk))
    return comment


def can_delete_comment(*, comment: Comment, user: User | AnonymousUser) -> bool:
    """Its author, the story's author and moderators may delete a response."""
    if not user.is_authenticated:
        return False
    return user.pk in (comment.author_id, comment.post.author_id) or bool(user.is_staff)


@transaction.atomic
def delete_comment(*, comment: Comment, user: User) -> None:
    if not can_delete_comment(comment=comment, user=user):
        raise NotAllowed(
            "Only the response's author, the story's author or a moderator can delete it.", thing="comment"
        )
    deleted = CommentDeleted(comment_id=comment.pk, post_id=comment.post_id, author_id=comment.author_id)
    comment.delete()
    announce(deleted)


@transaction.atomic
def rerender(*, post_ids: list[UUID]) -> int:
    """Renders these stories again with the current renderer (HTML, excerpt, reading time),
    without a new version: the text is the same. Returns how many changed."""
    posts = list(Post.objects.filter(pk__in=post_ids).only("pk", "content", "description"))
    fields = ["body_html", "excerpt", "reading_time"]
    changed = []
    for post in posts:
        before = [getattr(post, field) for field in fields]
        _apply_content(post, post.content)
        if [getattr(post, field) for field in fields] != before:
            changed.append(post)
    Post.objects.bulk_update(changed, fields)
    if changed:
        announce(PostsRerendered(post_ids=tuple(post.pk for post in changed)))
    return len(changed)
