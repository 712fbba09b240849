"""Shapes of the posts API's bodies.

Input serializers check types only: blank titles, lengths and tag rules belong to
posts.services, whose ValidationError reaches the client as a 400 with the same messages the
HTML editor shows.
"""

from typing import Any

from rest_framework import serializers

from accounts.serializers import AuthorSerializer, StrictCharField
from posts.models import Post

TITLE_HELP = "Up to 200 characters."
CONTENT_HELP = "Markdown, up to 100,000 characters."
PUBLISHED_HELP = "true publishes the story, false keeps (or turns) it into a draft."
TAGS_HELP = "Up to 5 tags of up to 32 characters; normalised to lower-case slugs."


class StrictBooleanField(serializers.BooleanField):
    """JSON true or false only: DRF's BooleanField would also take "yes", "0" or 1."""

    # DRF's own message ('"true" is not a valid boolean.') would puzzle a client sending "true".
    default_error_messages = {"invalid": "Must be true or false."}

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


def _text(**kwargs: Any) -> StrictCharField:
    # Whitespace is kept as sent (it matters in Markdown); the service trims titles itself.
    return StrictCharField(allow_blank=True, trim_whitespace=False, **kwargs)


def _tags(**kwargs: Any) -> serializers.ListField:
    return serializers.ListField(child=_text(), help_text=TAGS_HELP, **kwargs)


class PostSerializer(serializers.ModelSerializer):
    published = serializers.BooleanField(source="is_published", read_only=True)
    tags = serializers.SlugRelatedField(many=True, read_only=True, slug_field="name")
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
        ]
        read_only_fields = fields


class PostUpdateSerializer(serializers.Serializer):
    """Any of the fields; the ones left out keep their value."""

    title = _text(required=False, help_text=TITLE_HELP)
    content = _text(required=False, help_text=CONTENT_HELP)
    published = StrictBooleanField(source="publish", required=False, help_text=PUBLISHED_HELP)
    tags = _tags(required=False)


class PostCreateSerializer(PostUpdateSerializer):
    title = _text(help_text=TITLE_HELP)
    content = _text(help_text=CONTENT_HELP)
    published = StrictBooleanField(source="publish", default=True, help_text=PUBLISHED_HELP)


class PostUpdateByIdSerializer(PostUpdateSerializer):
    """The original app's update: the story's id travels in the body."""

    id = StrictCharField(help_text="The story's id.")


class PostFilterSerializer(serializers.Serializer):
    author = StrictCharField(required=False, allow_blank=True, help_text="Only stories by this username.")
    tag = StrictCharField(required=False, allow_blank=True, help_text="Only stories with this tag.")
    q = StrictCharField(required=False, allow_blank=True, help_text="Full-text search, best match first.")


class PostEnvelopeSerializer(serializers.Serializer):
    post = PostSerializer()


class PostCreatedSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    post = PostSerializer()


class PostUpdatedSerializer(PostCreatedSerializer):
    updated = serializers.BooleanField()
