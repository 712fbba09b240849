"""OpenAPI conventions for the JSON faces (the project's DEFAULT_SCHEMA_CLASS).

The errors every operation can answer are added here, in the body of the face that serves it,
so each operation's decorator says only what is special about it. A face's base view sets:
`openapi_error_responses(*statuses)` (its documented error bodies), `openapi_tag` (one tag per
view class), `rate_limited` (the view counts attempts: 429) and, when its bad-body statuses
are not 400/413/415, `openapi_body_errors`.

Both faces read an empty optional number in the query (`?page=`, `?limit=`) as its default:
the schema says so with `allowEmptyValue`. A serializer's `openapi_schema` adds rules about a
whole body (`{"minProperties": 1}`), a DocumentedField's `schema` rules about one field.
"""

from collections.abc import Callable
from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import permissions

from faces.api.fields import DocumentedField

BODY_ERRORS = (400, 413, 415)  # malformed or invalid, too large, not JSON

ErrorResponses = Callable[..., dict[int, OpenApiResponse]]


class FaceAutoSchema(AutoSchema):
    def get_tags(self) -> list[str]:
        tag = getattr(self.view, "openapi_tag", None)
        return [tag] if tag else super().get_tags()

    def _map_basic_serializer(self, serializer: Any, direction: Any) -> dict[str, Any]:
        # A serializer's `openapi_schema` states rules about the whole body (e.g. minProperties).
        schema: dict[str, Any] = super()._map_basic_serializer(serializer, direction)
        return schema | getattr(serializer, "openapi_schema", {})

    def _get_serializer_field_meta(self, field: Any, direction: Any) -> dict[str, Any]:
        # drf-spectacular lays its own `minLength: 1` (a non-blank text) over what a field maps
        # to; a DocumentedField's notes (e.g. a password's minimum length) say more.
        meta: dict[str, Any] = super()._get_serializer_field_meta(field, direction)
        if isinstance(field, DocumentedField):
            for key in field.schema:
                meta.pop(key, None)
        return meta

    def _get_parameters(self) -> list[dict[str, Any]]:
        parameters: list[dict[str, Any]] = super()._get_parameters()
        for parameter in parameters:
            if (
                parameter["in"] == "query"
                and not parameter.get("required", False)
                and parameter.get("schema", {}).get("type") == "integer"
            ):
                parameter["allowEmptyValue"] = True
        return parameters

    def _common_errors(self) -> list[int]:
        statuses: list[int] = []
        if self.method in ("POST", "PUT", "PATCH") and self.get_request_serializer() is not None:
            statuses += getattr(self.view, "openapi_body_errors", BODY_ERRORS)
        perms = {type(permission) for permission in self.view.get_permissions()}
        if permissions.IsAuthenticated in perms or (
            permissions.IsAuthenticatedOrReadOnly in perms and self.method not in permissions.SAFE_METHODS
        ):
            statuses.append(401)
        if getattr(self.view, "rate_limited", False):
            statuses.append(429)
        return statuses

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        bodies: dict[str, Any] = super()._get_response_bodies(direction)
        error_responses: ErrorResponses | None = getattr(self.view, "openapi_error_responses", None)
        if error_responses is None:
            return bodies
        for status, response in error_responses(*self._common_errors()).items():
            if str(status) not in bodies:
                bodies[str(status)] = self._get_response_for_code(response, str(status), direction=direction)
        return dict(sorted(bodies.items(), key=lambda item: int(item[0][:3])))
