"""Shapes of API v1's story bodies.

Input serializers check types only: blank titles, lengths and tag rules belong to
posts.services, whose ValidationError reaches the client as a 400 with the same messages the
HTML editor shows.
"""

from datetime import datetime
from typing import Any

from django.utils import timezone
from rest_framework import serializers

from accounts.api.fields import IMAGE_URL_SCHEMA
from accounts.api.v1_serializers import AuthorSerializer
from faces.api.fields import (
    LETTER_OR_DIGIT_PATTERN,
    NOT_BLANK_PATTERN,
    DocumentedField,
    StrictBooleanField,
    StrictCharField,
    StrictListField,
    year_at_most_pattern,
)
from posts import services
from posts.models import (
    CONTENT_MAX_LENGTH,
    COVER_MAX_LENGTH,
    MAX_TAGS,
    TAG_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    Post,
    Tag,
)
from posts.services import TITLE_REQUIRED

TITLE_HELP = f"Up to {TITLE_MAX_LENGTH} characters."
CONTENT_HELP = f"Markdown, up to {CONTENT_MAX_LENGTH:,} characters."
PUBLISHED_HELP = "true publishes the story, false keeps (or turns) it into a draft."
TAGS_HELP = f"Up to {MAX_TAGS} tags of up to {TAG_MAX_LENGTH} characters; normalised to lower-case slugs."


class ScheduleField(DocumentedField, serializers.DateTimeField):
    """A publication time; the schema states the latest year posts.services takes, as of when
    the schema is made."""

    def __init__(self, **kwargs: Any):
        super().__init__(
            schema=lambda: {"pattern": year_at_most_pattern(services.latest_schedule_year())}, **kwargs
        )


# The rules posts.services enforces, as the schema states them (a title needs a visible
# character, a tag a letter or digit).
TITLE_SCHEMA = {"maxLength": TITLE_MAX_LENGTH, "pattern": NOT_BLANK_PATTERN}
CONTENT_SCHEMA = {"maxLength": CONTENT_MAX_LENGTH}
TAG_SCHEMA = {"maxLength": TAG_MAX_LENGTH, "pattern": LETTER_OR_DIGIT_PATTERN}


def _text(**kwargs: Any) -> StrictCharField:
    # Whitespace is kept as sent (it matters in Markdown); the service trims titles itself.
    return StrictCharField(allow_blank=True, trim_whitespace=False, **kwargs)


def _title(**kwargs: Any) -> StrictCharField:
    # Not blank, so that the schema offers no empty alternative; the message is the editor's.
    return StrictCharField(
        trim_whitespace=False,
        error_messages={"blank": TITLE_REQUIRED},
        schema=TITLE_SCHEMA,
        help_text=TITLE_HELP,
        **kwargs,
    )


def _tags(**kwargs: Any) -> StrictListField:
    tag = StrictCharField(
        trim_whitespace=False, error_messages={"blank": "A tag cannot be empty."}, schema=TAG_SCHEMA
    )
    return StrictListField(child=tag, schema={"maxItems": MAX_TAGS}, help_text=TAGS_HELP, **kwargs)


class PostSerializer(serializers.ModelSerializer):
    """A story as this face sends it (the schema; post_json writes it)."""

    # True for a scheduled story too: published_at says when it goes up.
    published = serializers.BooleanField(source="is_published_or_scheduled", read_only=True)
    tags = serializers.SlugRelatedField[Tag](many=True, read_only=True, slug_field="name")
    author = AuthorSerializer(read_only=True)

    class Meta:
        model = Post
        fields = [
            "id",
            "title",
            "slug",
            "content",
            "excerpt",
            "published",
            "published_at",
            "created_at",
            "updated_at",
            "reading_time",
            "tags",
            "author",
            "cover_image",
            "version",
        ]
        read_only_fields = fields


def _json_time(value: datetime | None) -> str | None:
    # As DRF's DateTimeField writes it (Quill's time zone is UTC): ISO 8601, "Z" for +00:00.
    if value is None:
        return None
    text = timezone.localtime(value).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def post_json(post: Post) -> dict[str, Any]:
    """PostSerializer's output, written out: every story this face sends goes through here, and
    DRF would build the serializer's fields anew (model introspection) and walk them one by one
    for each. The tests hold the two equal."""
    author = post.author
    return {
        "id": str(post.pk),
        "title": post.title,
        "slug": post.slug,
        "content": post.content,
        "excerpt": post.excerpt,
        "published": post.is_published_or_scheduled,
        "published_at": _json_time(post.published_at),
        "created_at": _json_time(post.created_at),
        "updated_at": _json_time(post.updated_at),
        "reading_time": post.reading_time,
        "tags": post.tag_names,
        "author": {"id": author.pk, "username": author.username, "name": author.name},
        "cover_image": post.cover_image,
        "version": post.version,
    }


class PostUpdateSerializer(serializers.Serializer):
    """Any of the fields; the ones left out keep their value."""

    title = _title(required=False)
    content = _text(required=False, schema=CONTENT_SCHEMA, help_text=CONTENT_HELP)
    published = StrictBooleanField(source="publish", required=False, help_text=PUBLISHED_HELP)
    tags = _tags(required=False)
    cover_image = StrictCharField(
        required=False,
        allow_blank=True,
        schema=IMAGE_URL_SCHEMA | {"maxLength": COVER_MAX_LENGTH},
        help_text="An https:// URL, a URL from POST /api/v1/media, or empty for none.",
    )
    published_at = ScheduleField(
        required=False,
        help_text="When the story goes up, with its time zone: a future time schedules it, a past one "
        "is the date readers see. Ignored when `published` is false (a draft has no time). At most "
        f"{services.SCHEDULE_YEARS_AHEAD} years ahead, counted in whole years.",
    )


class PostCreateSerializer(PostUpdateSerializer):
    title = _title()
    content = _text(schema=CONTENT_SCHEMA, help_text=CONTENT_HELP)
    published = StrictBooleanField(source="publish", default=True, help_text=PUBLISHED_HELP)


class PostUpdateByIdSerializer(PostUpdateSerializer):
    """The original app's update: the story's id travels in the body."""

    id = StrictCharField(help_text="The story's id.")


class PostFilterSerializer(serializers.Serializer):
    author = StrictCharField(required=False, allow_blank=True, help_text="Only stories by this username.")
    tag = StrictCharField(required=False, allow_blank=True, help_text="Only stories with this tag.")
    q = StrictCharField(required=False, allow_blank=True, help_text="Full-text search, best match first.")


class PostEnvelopeSerializer(serializers.Serializer):
    """{"post": post_json(post)} (the schema of it)."""

    post = PostSerializer()


class PostCreatedSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    post = PostSerializer()


class PostUpdatedSerializer(PostCreatedSerializer):
    updated = serializers.BooleanField()
