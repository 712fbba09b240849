"""Shapes of the RealWorld API's article, comment and tag bodies
(../shared/realworld/openapi.yml). Rules stay in posts.services."""

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.api.realworld_serializers import envelope, text
from faces.api.fields import LETTER_OR_DIGIT_PATTERN, StrictListField
from faces.api.realworld import OptionalTextField, TimestampField
from posts.models import (
    COMMENT_MAX_LENGTH,
    CONTENT_MAX_LENGTH,
    DESCRIPTION_MAX_LENGTH,
    MAX_TAGS,
    TAG_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    Comment,
    Post,
)

# The rules posts.services enforces, as the schema states them.
TITLE = {"maxLength": TITLE_MAX_LENGTH}
DESCRIPTION = {"maxLength": DESCRIPTION_MAX_LENGTH}
BODY = {"maxLength": CONTENT_MAX_LENGTH}
COMMENT = {"maxLength": COMMENT_MAX_LENGTH}


def _tag_list(**kwargs: Any) -> StrictListField:
    return StrictListField(
        child=text(schema={"maxLength": TAG_MAX_LENGTH, "pattern": LETTER_OR_DIGIT_PATTERN}),
        error_messages={"not_a_list": "must be an array of strings", "null": "can't be null"},
        schema={"maxItems": MAX_TAGS},
        **kwargs,
    )


class NewArticleSerializer(serializers.Serializer):
    title = text(schema=TITLE)
    # Required and not blank, as the RealWorld suite expects (the site and API v1 derive an
    # excerpt from the body instead).
    description = text(schema=DESCRIPTION)
    body = text(trim_whitespace=False, schema=BODY)
    tagList = _tag_list(required=False)


class UpdateArticleSerializer(serializers.Serializer):
    title = text(required=False, schema=TITLE)
    description = text(required=False, schema=DESCRIPTION)
    body = text(required=False, trim_whitespace=False, schema=BODY)
    # Left out: the tags stay; []: no tags; null: refused.
    tagList = _tag_list(required=False)


class NewCommentSerializer(serializers.Serializer):
    body = text(schema=COMMENT)


NewArticleRequestSerializer = envelope("article", NewArticleSerializer, "NewArticleRequestSerializer")
UpdateArticleRequestSerializer = envelope(
    "article", UpdateArticleSerializer, "UpdateArticleRequestSerializer"
)
NewCommentRequestSerializer = envelope("comment", NewCommentSerializer, "NewCommentRequestSerializer")


class AuthorProfileSerializer(serializers.Serializer):
    """The author of an article or comment, with whether the viewer follows them (annotated
    on the article or comment by posts.selectors)."""

    username = serializers.CharField(source="author.username")
    bio = OptionalTextField(source="author.bio")
    image = OptionalTextField(source="author.image")
    following = serializers.BooleanField(source="author_followed")


class ArticleListItemSerializer(serializers.ModelSerializer):
    """An article in a list: everything but its body (RealWorld lists leave it out)."""

    description = serializers.SerializerMethodField()
    tagList = serializers.SerializerMethodField()
    createdAt = TimestampField(source="created_at")
    updatedAt = TimestampField(source="updated_at")
    favorited = serializers.BooleanField(source="clapped")
    favoritesCount = serializers.IntegerField(source="clap_count")
    author = serializers.SerializerMethodField()

    class Meta:
        model = Post
        fields = [
            "slug",
            "title",
            "description",
            "tagList",
            "createdAt",
            "updatedAt",
            "favorited",
            "favoritesCount",
            "author",
        ]
        read_only_fields = fields

    def get_description(self, post: Post) -> str:
        # The author's own summary, whole; the excerpt when they wrote none.
        return post.description or post.excerpt

    def get_tagList(self, post: Post) -> list[str]:
        return post.tag_names

    @extend_schema_field(AuthorProfileSerializer)
    def get_author(self, post: Post) -> dict[str, Any]:
        return dict(AuthorProfileSerializer(post).data)


class ArticleSerializer(ArticleListItemSerializer):
    body = serializers.CharField(source="content")

    class Meta(ArticleListItemSerializer.Meta):
        fields = [
            *ArticleListItemSerializer.Meta.fields[:3],
            "body",
            *ArticleListItemSerializer.Meta.fields[3:],
        ]
        read_only_fields = fields


class SingleArticleSerializer(serializers.Serializer):
    article = ArticleSerializer()


class MultipleArticlesSerializer(serializers.Serializer):
    articles = ArticleListItemSerializer(many=True)
    articlesCount = serializers.IntegerField()


class CommentSerializer(serializers.ModelSerializer):
    createdAt = TimestampField(source="created_at")
    updatedAt = TimestampField(source="updated_at")
    author = serializers.SerializerMethodField()

    class Meta:
        model = Comment
        fields = ["id", "createdAt", "updatedAt", "body", "author"]
        read_only_fields = fields

    @extend_schema_field(AuthorProfileSerializer)
    def get_author(self, comment: Comment) -> dict[str, Any]:
        return dict(AuthorProfileSerializer(comment).data)


class SingleCommentSerializer(serializers.Serializer):
    comment = CommentSerializer()


class MultipleCommentsSerializer(serializers.Serializer):
    comments = CommentSerializer(many=True)


class TagsSerializer(serializers.Serializer):
    tags = serializers.ListField(child=serializers.CharField())
