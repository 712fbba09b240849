"""What the posts services announce (kernel.events): after the write commits."""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from kernel.events import Event


@dataclass(frozen=True)
class PostPublished(Event):
    """A story went up, or was scheduled to go up at `published_at` (created so, published
    from a draft, or a scheduled story given another time). The scheduled moment itself is no
    write and announces nothing: a subscriber that must act then enqueues a job for
    `published_at`, which checks the story is still published at that time."""

    post_id: UUID
    author_id: int
    published_at: datetime


@dataclass(frozen=True)
class PostChanged(Event):
    """Its author saved the story without publishing or unpublishing it (draft or not)."""

    post_id: UUID
    slug: str


@dataclass(frozen=True)
class PostUnpublished(Event):
    """Its author turned a published (or scheduled) story back into a draft."""

    post_id: UUID
    slug: str
    author_id: int


@dataclass(frozen=True)
class PostsTakenDown(Event):
    """A moderator turned these published (or scheduled) stories back into drafts."""

    post_ids: tuple[UUID, ...]


@dataclass(frozen=True)
class PostsRerendered(Event):
    """These stories' HTML, excerpt or reading time changed with the renderer (not their text)."""

    post_ids: tuple[UUID, ...]


@dataclass(frozen=True)
class PostDeleted(Event):
    post_id: UUID
    slug: str
    author_id: int


@dataclass(frozen=True)
class CommentAdded(Event):
    comment_id: int
    post_id: UUID
    author_id: int


@dataclass(frozen=True)
class CommentDeleted(Event):
    comment_id: int
    post_id: UUID
    author_id: int


@dataclass(frozen=True)
class Clapped(Event):
    """A member clapped for a story (clapping again announces nothing)."""

    post_id: UUID
    member_id: int


@dataclass(frozen=True)
class Unclapped(Event):
    post_id: UUID
    member_id: int
