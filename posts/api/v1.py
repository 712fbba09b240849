"""API v1 on stories, compatible with the original app's routes. Thin views over
posts.services and posts.selectors."""

import hashlib
import json
import re
from typing import Any

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.selectors import signed_in_user
from faces.api.v1 import ErrorSerializer, V1APIView, V1ListAPIView, error_responses
from faces.readcache import by_id, cached_for_readers
from kernel.exceptions import StaleWrite
from posts import selectors, services
from posts.api.v1_serializers import (
    PostCreatedSerializer,
    PostCreateSerializer,
    PostEnvelopeSerializer,
    PostFilterSerializer,
    PostSerializer,
    PostUpdateByIdSerializer,
    PostUpdatedSerializer,
    PostUpdateSerializer,
    post_json,
)
from posts.models import CreateRequest, Post

ID_PARAMETER = OpenApiParameter("id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The story's id.")
ENTITY_TAG = re.compile(r'(?:W/)?"(\d{1,9})"')
IF_MATCH_PARAMETER = OpenApiParameter(
    "If-Match",
    {"type": "string", "pattern": '^(?:W/)?"[0-9]{1,9}"$'},  # an ETag of this API (ENTITY_TAG)
    OpenApiParameter.HEADER,
    description='The ETag of the version you edited (e.g. "3"): the save is refused if the story '
    "changed since.",
)
IDEMPOTENCY_KEY = "Idempotency-Key"
IDEMPOTENCY_KEY_MAX_LENGTH = CreateRequest._meta.get_field("key").max_length or 255
IDEMPOTENCY_KEY_PARAMETER = OpenApiParameter(
    IDEMPOTENCY_KEY,
    # Printable ASCII (a header's ends are trimmed, so no spaces there), as the view checks.
    {
        "type": "string",
        "minLength": 1,
        "maxLength": IDEMPOTENCY_KEY_MAX_LENGTH,
        "pattern": "^[!-~](?:[ -~]*[!-~])?$",
    },
    OpenApiParameter.HEADER,
    description="Any unique string per story you mean to create (e.g. a UUID), so a retry after a "
    "lost answer cannot create it twice.",
)


def _fingerprint(data: Any) -> str:
    """The same JSON body, however its keys were ordered or spaced, has the same fingerprint."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


class PostPagination(PageNumberPagination):
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100  # a larger page_size gets 100 rows, not an error
    page_size_query_description = "Stories per page: 20 unless given, at most 100."
    invalid_page_message = "Page {page_number} is past the last page."

    @staticmethod
    def _whole_number(request: Request, name: str, default: int) -> int:
        raw = request.query_params.get(name) or str(default)
        try:
            number = int(raw)
        except ValueError:
            number = 0
        if number < 1:
            raise ValidationError({name: ["Use a whole number of 1 or more."]})
        return number

    def get_page_number(self, request: Request, paginator: Paginator) -> int:
        return self._whole_number(request, self.page_query_param, 1)

    def get_page_size(self, request: Request) -> int:
        size = self._whole_number(request, self.page_size_query_param, self.page_size)
        return min(size, self.max_page_size)

    def get_schema_operation_parameters(self, view: APIView) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] in (self.page_query_param, self.page_size_query_param):
                parameter["schema"]["minimum"] = 1  # 0, negatives and words are a 400
        return parameters

    def get_paginated_response(self, data: list[dict[str, Any]]) -> Response:
        assert self.page is not None  # paginate_queryset ran first
        return Response(
            {
                "posts": data,
                "count": self.page.paginator.count,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
            }
        )

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        envelope = super().get_paginated_response_schema(schema)
        properties = dict(envelope["properties"])
        properties["posts"] = properties.pop("results")
        return {**envelope, "required": ["posts", "count", "next", "previous"], "properties": properties}


def _tagged(response: Response, post: Post) -> Response:
    """Every answer that carries one story carries its version as ETag."""
    response["ETag"] = f'"{post.version}"'
    return response


def _expected_version(request: Request) -> int | None:
    """The version an If-Match header names ("3" or W/"3"), or None without one."""
    header = request.headers.get("If-Match")
    if header is None:
        return None
    match = ENTITY_TAG.fullmatch(header.strip())
    if match is None:
        raise ValidationError({"If-Match": ['Use the ETag this API sent, e.g. "3".']})
    return int(match[1])


def _updated(request: Request, post: Post, changes: dict[str, Any]) -> Response:
    try:
        post = services.update_post(
            post=post,
            editor=signed_in_user(request.user),
            expected_version=_expected_version(request),
            **changes,
        )
    except StaleWrite as refusal:
        # 412 with the story as it is now, so the client can show both and choose.
        current = refusal.current
        body = {
            "error": "The story changed since the version in If-Match; nothing was saved.",
            "details": {"post": post_json(current)},
        }
        return _tagged(Response(body, status=status.HTTP_412_PRECONDITION_FAILED), current)
    return _tagged(Response({"id": str(post.pk), "post": post_json(post), "updated": True}), post)


class BlogAPIView(V1APIView):
    openapi_tag = "blog"


class PostCollectionView(BlogAPIView):
    """Write a story (POST), or edit one named by `id` in the body (PUT, the original app's
    route). To read stories, see the published list at /api/v1/blog/bulk."""

    name = "Write or edit a story"
    request_serializers = {"POST": PostCreateSerializer, "PUT": PostUpdateByIdSerializer}

    @extend_schema(
        operation_id="blog_create",
        summary="Write a story",
        description="`published` defaults to true here (the editor's default is a draft). With an "
        "`Idempotency-Key`, a retry (same key, same body, within 24 hours) creates nothing and gets "
        "the first answer again, marked `Idempotent-Replayed: true`.",
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        request=PostCreateSerializer,
        responses={
            201: PostCreatedSerializer,
            409: OpenApiResponse(ErrorSerializer, description=services.KEY_REUSED),
        },
    )
    def post(self, request: Request) -> Response:
        serializer = PostCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        author = signed_in_user(request.user)

        def answer(post: Post) -> dict[str, Any]:
            return {"id": str(post.pk), "post": post_json(post)}

        key = request.headers.get(IDEMPOTENCY_KEY)
        if key is None:
            post = services.create_post(author=author, **serializer.validated_data)
            return _tagged(Response(answer(post), status=status.HTTP_201_CREATED), post)
        if not 0 < len(key) <= IDEMPOTENCY_KEY_MAX_LENGTH or not key.isascii() or not key.isprintable():
            raise ValidationError(
                {IDEMPOTENCY_KEY: [f"Use 1 to {IDEMPOTENCY_KEY_MAX_LENGTH} printable ASCII characters."]}
            )
        body, created = services.create_post_once(
            author=author,
            key=key,
            fingerprint=_fingerprint(request.data),
            answer=answer,
            **serializer.validated_data,
        )
        response = Response(body, status=status.HTTP_201_CREATED)
        response["ETag"] = f'"{body["post"]["version"]}"'  # the version the first answer had
        if not created:
            response["Idempotent-Replayed"] = "true"
        return response

    @extend_schema(
        operation_id="blog_update_by_body_id",
        summary="Edit a story named by id in the body",
        description="The original app's update route; same as PATCH /api/v1/blog/{id}. Author only.",
        request=PostUpdateByIdSerializer,
        parameters=[IF_MATCH_PARAMETER],
        responses={200: PostUpdatedSerializer, **error_responses(403, 404, 412)},
    )
    def put(self, request: Request) -> Response:
        serializer = PostUpdateByIdSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        changes = dict(serializer.validated_data)
        post = selectors.get_post_by_id(post_id=changes.pop("id"), user=request.user)
        return _updated(request, post, changes)


# A page of stories as API v1 lists them (a comment, not a docstring: the schema would show it).
class PostListView(V1ListAPIView):
    serializer_class = PostSerializer
    pagination_class = PostPagination

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        assert page is not None  # the view always paginates
        return self.get_paginated_response([post_json(post) for post in page])


@extend_schema_view(
    get=extend_schema(
        operation_id="blog_bulk",
        summary="Published stories, newest first",
        description="Public. With `q`, best matches come first.",
        parameters=[PostFilterSerializer],
        responses={200: PostSerializer(many=True), **error_responses(400, 404)},
    )
)
class PostBulkView(PostListView):
    """Published stories, newest first; filter with `author`, `tag` and `q` (full-text search)."""

    name = "Published stories"
    openapi_tag = "blog"

    def get_queryset(self) -> QuerySet[Post]:
        filters = PostFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return selectors.published_posts(
            author=filters.validated_data.get("author"),
            tag=filters.validated_data.get("tag"),
            query=filters.validated_data.get("q"),
        )


EDIT_SCHEMA: dict[str, Any] = {
    "summary": "Edit a story",
    "description": "Send any of the fields; PUT and PATCH both change only what is sent. Author only. "
    "With If-Match, a story changed since that version is not overwritten (412).",
    "parameters": [ID_PARAMETER, IF_MATCH_PARAMETER],
    "request": PostUpdateSerializer,
    "responses": {200: PostUpdatedSerializer, **error_responses(403, 404, 412)},
}


class PostDetailView(BlogAPIView):
    """One story: anyone may read a published one; its author may edit or delete it."""

    name = "Story"
    request_serializers = {"PUT": PostUpdateSerializer, "PATCH": PostUpdateSerializer}

    def _post(self, request: Request) -> Post:
        return selectors.get_post_by_id(post_id=self.kwargs["id"], user=request.user)

    @extend_schema(
        operation_id="blog_retrieve",
        summary="One story",
        description="Public when published; a draft is 404 for anyone but its author.",
        parameters=[ID_PARAMETER],
        responses={200: PostEnvelopeSerializer, **error_responses(401, 404)},
    )
    def get(self, request: Request, **path: str) -> Response:
        post = self._post(request)
        return _tagged(Response({"post": post_json(post)}), post)

    @extend_schema(**EDIT_SCHEMA, operation_id="blog_update")
    def put(self, request: Request, **path: str) -> Response:
        serializer = PostUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return _updated(request, self._post(request), dict(serializer.validated_data))

    @extend_schema(**EDIT_SCHEMA, operation_id="blog_partial_update")
    def patch(self, request: Request, **path: str) -> Response:
        return self.put(request)

    @extend_schema(
        operation_id="blog_delete",
        summary="Delete a story",
        description="Author only.",
        parameters=[ID_PARAMETER],
        responses={204: OpenApiResponse(description="Deleted."), **error_responses(403, 404)},
    )
    def delete(self, request: Request, **path: str) -> Response:
        services.delete_post(post=self._post(request), editor=signed_in_user(request.user))
        return Response(status=status.HTTP_204_NO_CONTENT)


class SaveView(BlogAPIView):
    """Your reading list: save a story readers can see (PUT), or take it off (DELETE)."""

    name = "Save for later"
    permission_classes = (IsAuthenticated,)

    @extend_schema(
        operation_id="blog_save",
        summary="Save a story to my reading list",
        description="Saving again changes nothing. A story readers cannot see is 404.",
        parameters=[ID_PARAMETER],
        request=None,
        responses={204: OpenApiResponse(description="Saved."), **error_responses(401, 404)},
    )
    def put(self, request: Request, **path: str) -> Response:
        member = signed_in_user(request.user)
        post = selectors.get_post_by_id(post_id=self.kwargs["id"], user=member)
        services.bookmark(post=post, member=member)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        operation_id="blog_unsave",
        summary="Take a story off my reading list",
        parameters=[ID_PARAMETER],
        request=None,
        responses={
            204: OpenApiResponse(description="Not on the list (any more)."),
            **error_responses(401, 404),
        },
    )
    def delete(self, request: Request, **path: str) -> Response:
        member = signed_in_user(request.user)
        post = selectors.get_post_by_id(post_id=self.kwargs["id"], user=member)
        services.unbookmark(post=post, member=member)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    get=extend_schema(
        operation_id="user_list",
        summary="My reading list, newest saved first",
        responses={200: PostSerializer(many=True), **error_responses(400, 401, 404)},
    )
)
class ReadingListView(PostListView):
    """The stories you saved to read later that readers can see, newest saved first."""

    name = "Reading list"
    openapi_tag = "user"
    permission_classes = (IsAuthenticated,)

    def get_queryset(self) -> QuerySet[Post]:
        return selectors.reading_list(member=signed_in_user(self.request.user))


# Mounted at /api/v1/; no trailing slashes, as in the original app's routes. "bulk" comes
# before <id> so it is not taken for a story id.
urlpatterns = [
    path("blog", PostCollectionView.as_view(), name="api-posts"),
    path("blog/bulk", cached_for_readers()(PostBulkView.as_view()), name="api-posts-bulk"),
    path("blog/<str:id>", cached_for_readers(by_id)(PostDetailView.as_view()), name="api-post"),
    path("blog/<str:id>/save", SaveView.as_view(), name="api-post-save"),
    # Beside accounts' /user/ routes (mounted first), as SPEC §9.3 places it.
    path("user/list", ReadingListView.as_view(), name="api-reading-list"),
]
