"""API v1's notifications (SPEC §9.2): GET /api/v1/notifications, POST /api/v1/notifications/read."""

from typing import Any

from django.db.models import QuerySet
from django.urls import path
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.api.v1_serializers import AuthorSerializer
from accounts.selectors import signed_in_user
from faces.api.fields import StrictBooleanField, StrictIntegerField, StrictListField
from faces.api.v1 import V1APIView, V1ListAPIView, error_responses
from notifications import selectors, services
from notifications.models import Kind
from posts.api.v1 import PostPagination


class NotificationFilterSerializer(serializers.Serializer):
    unread = serializers.BooleanField(required=False, default=False, help_text="Only the unread ones.")


class NotificationPostSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    slug = serializers.CharField()
    title = serializers.CharField()


class NotificationSerializer(serializers.Serializer):
    """One notice (documentation; answers are made by notification_json)."""

    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=Kind.choices)
    actors = AuthorSerializer(many=True, help_text="The latest few who did it, newest first.")
    actor_count = serializers.IntegerField(help_text="Everyone who did it (claps of a day gather).")
    post = NotificationPostSerializer(required=False, help_text="The story it is about, if any.")
    comment_id = serializers.IntegerField(required=False, help_text="The response it is about, if any.")
    created_at = serializers.DateTimeField()
    read = serializers.BooleanField()


ID_MAX = 2**63 - 1  # a bigint: larger would be the database's error, not the client's
IDS_PER_REQUEST = 1000


class MarkReadSerializer(serializers.Serializer):
    ids = StrictListField(
        child=StrictIntegerField(min_value=1, max_value=ID_MAX),
        required=False,
        max_length=IDS_PER_REQUEST,
        help_text="These notices.",
    )
    all = StrictBooleanField(required=False, default=False, help_text="Every notice.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs.get("all") and "ids" not in attrs:
            raise serializers.ValidationError({"ids": ['Give "ids" (a list) or "all": true.']})
        return attrs


# {"ids": [...]} or {"all": true}: the serializer's fields, with one of the two required.
MARK_READ_SCHEMA = {
    "type": "object",
    "properties": {
        "ids": {
            "type": "array",
            "items": {"type": "integer", "minimum": 1, "maximum": ID_MAX},
            "maxItems": IDS_PER_REQUEST,
            "description": "These notices.",
        },
        "all": {"type": "boolean", "description": "Every notice."},
    },
    "anyOf": [{"required": ["ids"]}, {"required": ["all"], "properties": {"all": {"enum": [True]}}}],
}


def notification_json(notice: "selectors.ShownNotification") -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": notice.pk,
        "kind": notice.kind,
        "actors": [
            {"id": link.actor.pk, "username": link.actor.username, "name": link.actor.name}
            for link in notice.shown_actors
        ],
        "actor_count": notice.actor_count,
        "created_at": notice.created_at.isoformat().replace("+00:00", "Z"),
        "read": notice.read_at is not None,
    }
    if notice.post is not None:
        body["post"] = {"id": str(notice.post.pk), "slug": notice.post.slug, "title": notice.post.title}
    if notice.comment_id is not None:
        body["comment_id"] = notice.comment_id
    return body


class NotificationPagination(PostPagination):
    page_size_query_description = "Notices per page: 20 unless given, at most 100."

    def get_paginated_response(self, data: list[dict[str, Any]]) -> Response:
        response = super().get_paginated_response(data)
        body = {"notifications": response.data.pop("posts"), **response.data}
        assert self.request is not None  # set by paginate_queryset
        body["unread"] = selectors.unread_count(member=signed_in_user(self.request.user))
        return Response(body)

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        envelope = super().get_paginated_response_schema(schema)
        properties = dict(envelope["properties"])
        properties["notifications"] = properties.pop("posts")
        properties["unread"] = {"type": "integer", "description": "Unread notices in all."}
        return {
            **envelope,
            "required": ["notifications", "count", "unread", "next", "previous"],
            "properties": properties,
        }


@extend_schema_view(
    get=extend_schema(
        operation_id="notifications_list",
        summary="My notifications, newest first",
        parameters=[NotificationFilterSerializer],
        responses={200: NotificationSerializer(many=True), **error_responses(400, 401, 404)},
    )
)
class NotificationListView(V1ListAPIView):
    """Your notices, newest first, 20 a page; `unread=true` for the unread ones only."""

    name = "Notifications"
    openapi_tag = "notifications"
    permission_classes = (IsAuthenticated,)
    serializer_class = NotificationSerializer
    pagination_class = NotificationPagination

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        assert page is not None  # the view always paginates
        return self.get_paginated_response([notification_json(notice) for notice in page])

    def get_queryset(self) -> "QuerySet[selectors.ShownNotification]":
        filters = NotificationFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        notices = selectors.notifications_of(member=signed_in_user(self.request.user))
        return notices.filter(read_at__isnull=True) if filters.validated_data["unread"] else notices


class MarkReadView(V1APIView):
    """Marks notices read: `{"ids": [...]}` or `{"all": true}`."""

    name = "Mark notifications read"
    openapi_tag = "notifications"
    permission_classes = (IsAuthenticated,)
    request_serializers = {"POST": MarkReadSerializer}

    @extend_schema(
        operation_id="notifications_read",
        summary="Mark notifications read",
        request={"application/json": MARK_READ_SCHEMA},
        responses={204: OpenApiResponse(description="Marked."), **error_responses(400, 401, 415)},
    )
    def post(self, request: Request) -> Response:
        body = MarkReadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        ids = None if body.validated_data["all"] else body.validated_data["ids"]
        services.mark_read(member=signed_in_user(request.user), ids=ids)
        return Response(status=status.HTTP_204_NO_CONTENT)


urlpatterns = [
    path("notifications", NotificationListView.as_view(), name="api-notifications"),
    path("notifications/read", MarkReadView.as_view(), name="api-notifications-read"),
]
