"""The RealWorld API on stories: articles, the feed, favorites (claps), comments and tags.
Thin views over posts.services and posts.selectors; an article is a Quill story."""

from typing import Any

from django.db.models import QuerySet
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.selectors import signed_in_user
from faces.api.fields import NO_NUL_PATTERN
from faces.api.realworld import RealWorldAPIView, error_responses
from faces.readcache import by_slug, cached_for_readers
from posts import selectors, services
from posts.api.realworld_serializers import (
    MultipleArticlesSerializer,
    MultipleCommentsSerializer,
    NewArticleRequestSerializer,
    NewCommentRequestSerializer,
    SingleArticleSerializer,
    SingleCommentSerializer,
    TagsSerializer,
    UpdateArticleRequestSerializer,
)
from posts.models import Post

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
# Any offset past this skips every article (the database refuses offsets past 64 bits).
MAX_OFFSET = 2**31 - 1
PAGE_PARAMETERS = [
    OpenApiParameter(
        "limit",
        {"type": "integer", "minimum": 1},
        description=f"Articles to return: {DEFAULT_LIMIT} unless given, at most {MAX_LIMIT}.",
    ),
    OpenApiParameter(
        "offset", {"type": "integer", "minimum": 0}, description="Articles to skip first (0 unless given)."
    ),
]
# Text without NUL characters (Postgres cannot compare with them: 422, not a crash).
FILTER_TEXT = {"type": "string", "pattern": NO_NUL_PATTERN}
FILTER_PARAMETERS = [
    OpenApiParameter("tag", FILTER_TEXT, description="Only articles with this tag."),
    OpenApiParameter("author", FILTER_TEXT, description="Only articles by this username."),
    OpenApiParameter("favorited", FILTER_TEXT, description="Only articles this username favorited."),
]
SLUG_PARAMETER = OpenApiParameter(
    "slug", OpenApiTypes.STR, OpenApiParameter.PATH, description="The article's slug."
)
# The core's names for an article's fields.
ARTICLE_FIELDS = {"title": "title", "description": "description", "body": "content", "tagList": "tags"}


def _whole_number(request: Request, name: str, default: int, minimum: int) -> int:
    raw = request.query_params.get(name, "")
    if raw == "":
        return default
    try:
        number = int(raw)
    except ValueError:
        number = minimum - 1
    if number < minimum:
        raise ValidationError({name: [f"must be a whole number of {minimum} or more"]})
    return number


def _filter_text(request: Request, name: str) -> str | None:
    value = request.query_params.get(name)
    if value is not None and "\x00" in value:
        raise ValidationError({name: ["must not contain NUL characters"]})
    return value


def _page(request: Request, posts: QuerySet[Post]) -> Response:
    """{"articles": [...], "articlesCount": <all that match>} for ?limit= and ?offset=."""
    limit = min(_whole_number(request, "limit", DEFAULT_LIMIT, 1), MAX_LIMIT)
    offset = min(_whole_number(request, "offset", 0, 0), MAX_OFFSET)
    social = selectors.with_social(posts, viewer=request.user)
    page = list(social[offset : offset + limit])
    body = {"articles": page, "articlesCount": posts.count()}
    return Response(MultipleArticlesSerializer(body).data)


def _article(request: Request, slug: str) -> Post:
    return selectors.get_post_by_slug(slug=slug, user=request.user, social=True)


def _article_response(request: Request, slug: str, status_code: int = status.HTTP_200_OK) -> Response:
    return Response(SingleArticleSerializer({"article": _article(request, slug)}).data, status=status_code)


def _changes(fields: dict[str, Any]) -> dict[str, Any]:
    return {ARTICLE_FIELDS[name]: value for name, value in fields.items()}


class ArticlesView(RealWorldAPIView):
    openapi_tag = "RealWorld: Articles"


class ArticleListView(ArticlesView):
    @extend_schema(
        operation_id="realworld_list_articles",
        summary="Recent articles",
        description="Published articles, newest first, each without its body. `articlesCount` counts "
        "all that match.",
        parameters=[*FILTER_PARAMETERS, *PAGE_PARAMETERS],
        responses={200: MultipleArticlesSerializer, **error_responses(401, 422)},
    )
    def get(self, request: Request) -> Response:
        posts = selectors.published_posts(
            author=_filter_text(request, "author"),
            tag=_filter_text(request, "tag"),
            clapped_by=_filter_text(request, "favorited"),
        )
        return _page(request, posts)

    @extend_schema(
        operation_id="realworld_create_article",
        summary="Write an article",
        description="Published at once. A title already used gets a slug of its own.",
        request=NewArticleRequestSerializer,
        responses={201: SingleArticleSerializer},
    )
    def post(self, request: Request) -> Response:
        serializer = NewArticleRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        post = services.create_post(
            author=signed_in_user(request.user),
            publish=True,
            **_changes(serializer.validated_data["article"]),
        )
        return _article_response(request, post.slug, status.HTTP_201_CREATED)


class FeedView(ArticlesView):
    permission_classes = (IsAuthenticated,)

    @extend_schema(
        operation_id="realworld_feed",
        summary="Articles by the members you follow",
        parameters=PAGE_PARAMETERS,
        responses={200: MultipleArticlesSerializer, **error_responses(422)},
    )
    def get(self, request: Request) -> Response:
        return _page(request, selectors.feed_posts(viewer=signed_in_user(request.user)))


class ArticleDetailView(ArticlesView):
    @extend_schema(
        operation_id="realworld_get_article",
        summary="An article",
        parameters=[SLUG_PARAMETER],
        responses={200: SingleArticleSerializer, **error_responses(404)},
    )
    def get(self, request: Request, slug: str) -> Response:
        return _article_response(request, slug)

    @extend_schema(
        operation_id="realworld_update_article",
        summary="Change an article",
        description="Any of title, description, body, tagList. Without tagList the tags stay; [] removes "
        "them; null is refused. The slug stays the same, so links keep working.",
        parameters=[SLUG_PARAMETER],
        request=UpdateArticleRequestSerializer,
        responses={200: SingleArticleSerializer, **error_responses(403, 404)},
    )
    def put(self, request: Request, slug: str) -> Response:
        serializer = UpdateArticleRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        post = selectors.get_post_by_slug(slug=slug, user=request.user)
        changes = _changes(serializer.validated_data["article"])
        services.update_post(post=post, editor=signed_in_user(request.user), **changes)
        return _article_response(request, slug)

    @extend_schema(
        operation_id="realworld_delete_article",
        summary="Delete an article",
        parameters=[SLUG_PARAMETER],
        responses={204: OpenApiResponse(description="Deleted."), **error_responses(403, 404)},
    )
    def delete(self, request: Request, slug: str) -> Response:
        post = selectors.get_post_by_slug(slug=slug, user=request.user)
        services.delete_post(post=post, editor=signed_in_user(request.user))
        return Response(status=status.HTTP_204_NO_CONTENT)


class FavoriteView(RealWorldAPIView):
    openapi_tag = "RealWorld: Favorites"
    permission_classes = (IsAuthenticated,)

    @extend_schema(
        operation_id="realworld_favorite",
        summary="Favorite (clap for) an article",
        parameters=[SLUG_PARAMETER],
        request=None,
        responses={200: SingleArticleSerializer, **error_responses(404)},
    )
    def post(self, request: Request, slug: str) -> Response:
        post = selectors.get_post_by_slug(slug=slug, user=request.user)
        services.clap(post=post, member=signed_in_user(request.user))
        return _article_response(request, slug)

    @extend_schema(
        operation_id="realworld_unfavorite",
        summary="Take back a favorite",
        parameters=[SLUG_PARAMETER],
        responses={200: SingleArticleSerializer, **error_responses(404)},
    )
    def delete(self, request: Request, slug: str) -> Response:
        post = selectors.get_post_by_slug(slug=slug, user=request.user)
        services.unclap(post=post, member=signed_in_user(request.user))
        return _article_response(request, slug)


class CommentsView(RealWorldAPIView):
    openapi_tag = "RealWorld: Comments"


class CommentListView(CommentsView):
    @extend_schema(
        operation_id="realworld_list_comments",
        summary="An article's comments",
        parameters=[SLUG_PARAMETER],
        responses={200: MultipleCommentsSerializer, **error_responses(401, 404)},
    )
    def get(self, request: Request, slug: str) -> Response:
        post = selectors.get_post_by_slug(slug=slug, user=request.user)
        comments = selectors.comments_of(post=post, viewer=request.user)
        return Response(MultipleCommentsSerializer({"comments": comments}).data)

    @extend_schema(
        operation_id="realworld_create_comment",
        summary="Comment on an article",
        parameters=[SLUG_PARAMETER],
        request=NewCommentRequestSerializer,
        responses={201: SingleCommentSerializer, **error_responses(404, 429)},
    )
    def post(self, request: Request, slug: str) -> Response:
        serializer = NewCommentRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        post = selectors.get_post_by_slug(slug=slug, user=request.user)
        author = signed_in_user(request.user)
        comment = services.add_comment(
            post=post, author=author, body=serializer.validated_data["comment"]["body"]
        )
        created = selectors.get_comment(post=post, comment_id=comment.pk, viewer=author)
        return Response(SingleCommentSerializer({"comment": created}).data, status=status.HTTP_201_CREATED)


class CommentDetailView(CommentsView):
    permission_classes = (IsAuthenticated,)

    @extend_schema(
        operation_id="realworld_delete_comment",
        summary="Delete a comment",
        description="By its author, the article's author or a moderator.",
        parameters=[SLUG_PARAMETER, OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)],
        responses={204: OpenApiResponse(description="Deleted."), **error_responses(403, 404)},
    )
    def delete(self, request: Request, slug: str, **path: str) -> Response:
        post = selectors.get_post_by_slug(slug=slug, user=request.user)
        comment = selectors.get_comment(post=post, comment_id=self.kwargs["id"], viewer=request.user)
        services.delete_comment(comment=comment, user=signed_in_user(request.user))
        return Response(status=status.HTTP_204_NO_CONTENT)


class TagListView(RealWorldAPIView):
    openapi_tag = "RealWorld: Tags"
    authentication_classes = ()  # public, and the document lists no 401 here: tokens are ignored
    permission_classes = (AllowAny,)

    @extend_schema(operation_id="realworld_tags", summary="Tags in use", responses={200: TagsSerializer})
    def get(self, request: Request) -> Response:
        return Response(TagsSerializer({"tags": selectors.tags_in_use()}).data)


# Mounted at /api/ beside the users; "feed" comes before <slug> so it is not taken for one.
urlpatterns = [
    path("articles", cached_for_readers()(ArticleListView.as_view()), name="realworld-articles"),
    path("articles/feed", FeedView.as_view(), name="realworld-feed"),
    path(
        "articles/<str:slug>",
        cached_for_readers(by_slug)(ArticleDetailView.as_view()),
        name="realworld-article",
    ),
    path("articles/<str:slug>/favorite", FavoriteView.as_view(), name="realworld-favorite"),
    path(
        "articles/<str:slug>/comments",
        cached_for_readers(by_slug)(CommentListView.as_view()),
        name="realworld-comments",
    ),
    path("articles/<str:slug>/comments/<str:id>", CommentDetailView.as_view(), name="realworld-comment"),
    path("tags", cached_for_readers()(TagListView.as_view()), name="realworld-tags"),
]
