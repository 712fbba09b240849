import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils import timezone
from django.utils.text import slugify

from faces.reversing import remembered_reverse
from posts.markdown import render_markdown

TITLE_MAX_LENGTH = 200
CONTENT_MAX_LENGTH = 100_000
TAG_MAX_LENGTH = 32
MAX_TAGS = 5
DESCRIPTION_MAX_LENGTH = 300
COVER_MAX_LENGTH = 500
REVISIONS_KEPT = 50
COMMENT_MAX_LENGTH = 5000


def normalize_tag(raw: str) -> str:
    """'Web Development ' -> 'web-development'; tags are stored and compared in this form."""
    return slugify(raw, allow_unicode=True)


class Tag(models.Model):
    # Stored normalised (normalize_tag), so the name is also the URL part.
    name = models.CharField(max_length=TAG_MAX_LENGTH, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return remembered_reverse("posts:tag", (self.name,))


def _author_not_suspended(via: str) -> Q:
    # Suspension hides a member's stories and responses without changing them: reinstating
    # the member brings them back as they were.
    return Q(**{f"{via}author__is_active": True})


def readers_see(via: str = "") -> Q:
    """The one rule for which stories readers can see: published, whose time has come, and
    whose author is not suspended. A scheduled story (published_at in the future) appears by
    itself at that moment: the database's clock decides, in every query, so no job runs and no
    cache shows it early. `via` reaches the story from another model (e.g. "posts__" from a tag)."""
    published = Q(**{f"{via}status": Post.Status.PUBLISHED, f"{via}published_at__lte": Now()})
    return published & _author_not_suspended(via)


def readers_see_comment() -> Q:
    """The one rule for which responses readers can see on a story they can see: those whose
    author is not suspended."""
    return _author_not_suspended("")


class PostQuerySet(models.QuerySet["Post"]):
    def published(self) -> "PostQuerySet":
        """Stories readers can see (readers_see)."""
        return self.filter(readers_see())


class Post(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="posts")
    title = models.CharField(max_length=TITLE_MAX_LENGTH)
    description = models.CharField(
        max_length=DESCRIPTION_MAX_LENGTH,
        blank=True,
        help_text="The author's own summary; the excerpt is derived from the text when blank.",
    )
    # Set once from the first title and never changed, so links keep working after edits.
    slug = models.SlugField(max_length=120, unique=True, editable=False)
    content = models.TextField(blank=True, max_length=CONTENT_MAX_LENGTH, help_text="Markdown source.")
    excerpt = models.CharField(max_length=300, blank=True, editable=False)
    # The sanitised HTML of `content`, rendered when it is saved (manage.py rerender_stories
    # renders every story again after the renderer changes).
    body_html = models.TextField(blank=True, editable=False)
    cover_image = models.CharField(
        max_length=COVER_MAX_LENGTH, blank=True, help_text="An https URL or one of Quill's media URLs."
    )
    # Grows with every change: the ETag of API v1, and what the editor checks before saving
    # so that nothing is overwritten silently.
    version = models.PositiveIntegerField(default=1, editable=False)
    reading_time = models.PositiveSmallIntegerField(default=1, editable=False, help_text="Minutes.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    published_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    tags = models.ManyToManyField(Tag, related_name="posts", blank=True)

    objects = PostQuerySet.as_manager()

    class Meta:
        verbose_name = "story"
        verbose_name_plural = "stories"
        ordering = ["-published_at", "-created_at"]
        indexes = [
            # Home page and feeds: published, newest first.
            models.Index(
                fields=["-published_at"], name="post_published_newest_idx", condition=Q(status="published")
            ),
            # Author pages and "my stories".
            models.Index(fields=["author", "status", "-published_at"], name="post_author_status_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="draft") | Q(published_at__isnull=False),
                name="post_published_has_date",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return remembered_reverse("posts:detail", (self.slug,))

    @property
    def tag_names(self) -> list[str]:
        """The story's tags by name, A to Z: from its query when that brought them along
        (posts.selectors on Postgres), else from its tags."""
        brought = self.__dict__.get("tag_list")
        if brought is not None:
            return list(brought)
        return [tag.name for tag in self.tags.all()]

    @property
    def is_published_or_scheduled(self) -> bool:
        """The author published it: it is up, or will be at `published_at`."""
        return self.status == self.Status.PUBLISHED

    @property
    def is_published(self) -> bool:
        """Readers can see it now."""
        return (
            self.is_published_or_scheduled
            and self.published_at is not None
            and self.published_at <= timezone.now()
        )

    @property
    def is_scheduled(self) -> bool:
        """Published for a time still to come: only its author sees it until then."""
        return self.is_published_or_scheduled and not self.is_published

    @property
    def html(self) -> str:
        """The story's sanitised HTML (rendered at save; a story saved before that is rendered now)."""
        return self.body_html or render_markdown(self.content)


class CreateRequest(models.Model):
    """A create sent with an Idempotency-Key, and the answer it got, kept for a day so that a
    client retrying after a lost response gets that answer again instead of a second story."""

    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the request body.")
    response = models.JSONField(help_text="The body of the first answer.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["author", "key"], name="create_request_once_per_key")]

    def __str__(self) -> str:
        return f"{self.author_id}:{self.key}"


class Comment(models.Model):
    """A member's response to a published story: plain text (paragraphs and links shown)."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="comments")
    body = models.TextField(max_length=COMMENT_MAX_LENGTH)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["post", "created_at"], name="comment_post_oldest_idx")]

    def __str__(self) -> str:
        return f"{self.author_id} on {self.post_id}"


class Clap(models.Model):
    """One member's applause for a story (the RealWorld API calls it a favorite)."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="claps")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="claps")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["post", "member"], name="clap_once")]
        # "Stories a member clapped for" (?favorited=); the unique index serves per-story counts.
        indexes = [models.Index(fields=["member", "post"], name="clap_member_idx")]

    def __str__(self) -> str:
        return f"{self.member_id} claps for {self.post_id}"


class Bookmark(models.Model):
    """A story a member saved to read later: their reading list (/me/list/)."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="bookmarks")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="bookmarks")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["member", "post"], name="bookmark_once")]
        # The reading list: a member's, newest saved first.
        indexes = [models.Index(fields=["member", "-created_at"], name="bookmark_member_newest_idx")]

    def __str__(self) -> str:
        return f"{self.member_id} saved {self.post_id}"


class Revision(models.Model):
    """A story's title and text as they were before a save changed them."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="revisions")
    title = models.CharField(max_length=TITLE_MAX_LENGTH)
    content = models.TextField(blank=True)
    version = models.PositiveIntegerField(help_text="The story's version this text belonged to.")
    saved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    saved_at = models.DateTimeField(help_text="When this text was saved (replaced later).")

    class Meta:
        ordering = ["-version"]
        indexes = [models.Index(fields=["post", "-version"], name="revision_post_newest_idx")]

    def __str__(self) -> str:
        return f"{self.post_id} v{self.version}"
