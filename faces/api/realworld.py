"""The RealWorld ("Conduit") API face: `Authorization: Token <jwt>`, JSON envelopes named
after what they hold ({"user": ...}, {"article": ...}), and every error as
{"errors": {"<what>": ["<message>"]}} with the status codes of the RealWorld OpenAPI
document (401, 403, 404, 409, 422).

accounts.api.realworld and posts.api.realworld build their views on `RealWorldAPIView`.
"""

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, JsonResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema_field
from rest_framework import exceptions, serializers, status
from rest_framework.authentication import BaseAuthentication
from rest_framework.parsers import BaseParser
from rest_framework.permissions import IsAuthenticatedOrReadOnly
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from faces.api.auth import JWTSchemeAuthentication, OptionalAuthentication
from faces.api.parsers import JSONParser
from faces.registry import MESSAGES, Face
from kernel import exceptions as core

if TYPE_CHECKING:
    from rest_framework.permissions import _PermissionClass

# What the core calls a thing, as the RealWorld API names it in its errors.
RESOURCE_NAMES = {"post": "article", "author": "profile", "comment": "comment"}


# GenericErrorModel: each key names what is wrong, each message says how (documentation
# only; built with type() because a serializer class cannot declare a field named "errors").
ErrorSerializer = type(
    "GenericErrorModelSerializer",
    (serializers.Serializer,),
    {
        "errors": serializers.DictField(
            child=serializers.ListField(child=serializers.CharField()),
            help_text='e.g. {"title": ["can\'t be blank"]}, {"article": ["not found"]}',
        )
    },
)


ERROR_DESCRIPTIONS = {
    401: 'No token, or an invalid or expired one: {"errors": {"token": [...]}}.',
    403: 'Signed in, but not yours: {"errors": {"article": ["forbidden"]}}.',
    404: 'No such article, profile or comment: {"errors": {"article": ["not found"]}}.',
    409: 'The email or username is taken: {"errors": {"username": ["has already been taken"]}}.',
    422: "Bad input (missing or invalid fields, malformed JSON): the messages name the fields.",
    429: "Too many attempts; retry after the number of seconds in the `Retry-After` header.",
}
BODY_ERRORS = (422,)  # the RealWorld API answers 422 for every kind of bad body


def error_responses(*statuses: int) -> dict[int, OpenApiResponse]:
    """OpenAPI responses for the given error statuses, in this face's error body."""
    return {code: OpenApiResponse(ErrorSerializer, description=ERROR_DESCRIPTIONS[code]) for code in statuses}


def errors(status_code: int, fields: Mapping[str, Sequence[str]]) -> Response:
    """{"errors": {"<what>": ["<message>", ...]}} with the given status."""
    body = {field: list(messages) for field, messages in fields.items()}
    return Response({"errors": body}, status=status_code)


def _texts(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [f"{key}: {message}" for key, item in value.items() for message in _texts(item)]
    if isinstance(value, list):
        return [message for item in value for message in _texts(item)]
    return [str(value)]


def _field_messages(detail: Any) -> dict[str, list[str]]:
    """DRF's field errors as the flat fields RealWorld clients show: {"article": {"title":
    [...]}} becomes {"title": [...]} (the envelope's name is left out)."""
    if not isinstance(detail, dict):
        return {"body": _texts(detail)}
    flat: dict[str, list[str]] = {}
    for key, value in detail.items():
        if key in ENVELOPES and isinstance(value, dict):
            for field, messages in _field_messages(value).items():
                flat.setdefault(field, []).extend(messages)
        else:
            field = "body" if key in ("non_field_errors", "__all__") else str(key)
            flat.setdefault(field, []).extend(_texts(value))
    return flat


ENVELOPES = {"user", "article", "comment"}  # the request bodies' single keys


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        fields = exc.message_dict if hasattr(exc, "error_dict") else {"body": exc.messages}
        return errors(422, {RENAMED.get(field, field): messages for field, messages in fields.items()})
    if isinstance(exc, core.Suspended):
        return errors(401, {"credentials": ["belong to a suspended account"]})
    if isinstance(exc, core.NotFound):
        return errors(404, {RESOURCE_NAMES.get(exc.thing, exc.thing): ["not found"]})
    if isinstance(exc, core.NotAllowed):
        return errors(403, {RESOURCE_NAMES.get(exc.thing, exc.thing): ["forbidden"]})
    if isinstance(exc, core.Conflict):
        return errors(409, {field: ["has already been taken"] for field in exc.errors})
    if isinstance(exc, core.InvalidToken):
        return errors(401, {"token": ["is invalid"]})
    if isinstance(exc, core.RateLimited):
        refusal = errors(429, {"request": [f"too many attempts, retry in {exc.retry_after} seconds"]})
        refusal["Retry-After"] = str(exc.retry_after)
        return refusal
    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return None  # unexpected: the face's JSON 500 answers and the error is logged
    response.data = {"errors": _drf_refusal(exc)}
    if isinstance(exc, BAD_BODY):
        response.status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    return response


BAD_BODY = (exceptions.ValidationError, exceptions.ParseError, exceptions.UnsupportedMediaType)


def _drf_refusal(exc: exceptions.APIException) -> dict[str, list[str]]:
    """DRF's own refusals (auth, bad bodies, unknown methods) in this face's words."""
    if isinstance(exc, exceptions.NotAuthenticated):
        return {"token": ["is missing"]}
    if isinstance(exc, exceptions.AuthenticationFailed):
        return {"token": ["is invalid"]}
    if isinstance(exc, exceptions.ParseError):
        return {"body": ["is not valid JSON"]}
    if isinstance(exc, exceptions.UnsupportedMediaType):
        return {"body": ["must be JSON (Content-Type: application/json)"]}
    if isinstance(exc, exceptions.ValidationError):
        return _field_messages(exc.detail)
    if isinstance(exc, exceptions.NotFound):
        return {"resource": ["not found"]}
    return {"request": [str(exc.detail)]}


# The core's field names, as the RealWorld API calls them.
RENAMED = {"content": "body", "tags": "tagList", "new_password": "password"}


def render_error(request: HttpRequest | None, status_code: int, message: str) -> JsonResponse:
    key = "resource" if status_code == 404 else "request"
    return JsonResponse({"errors": {key: [message]}}, status=status_code)


FACE = Face("realworld", render_error, messages={**MESSAGES, 404: "not found"})


class TokenAuthentication(JWTSchemeAuthentication):
    scheme = "Token"
    openapi_name = "Token"
    face = FACE.name


def timestamp(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds, as RealWorld clients parse it: 2016-02-18T03:22:56.637Z."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@extend_schema_field({"type": "string", "format": "date-time"})
class TimestampField(serializers.Field):
    def to_representation(self, value: datetime) -> str:
        return timestamp(value)


@extend_schema_field({"type": "string", "nullable": True})
class OptionalTextField(serializers.Field):
    """Empty text goes out as null, as RealWorld clients expect of `bio` and `image`."""

    def __init__(self, **kwargs: Any):
        super().__init__(read_only=True, **kwargs)

    def to_representation(self, value: Any) -> Any:
        return str(value) or None


class RealWorldView(OptionalAuthentication):
    authentication_classes: Sequence[type[BaseAuthentication]] = (TokenAuthentication,)
    permission_classes: "Sequence[_PermissionClass]" = (IsAuthenticatedOrReadOnly,)
    parser_classes: Sequence[type[BaseParser]] = (JSONParser,)
    renderer_classes: Sequence[type[BaseRenderer]] = (JSONRenderer,)
    openapi_error_responses = staticmethod(error_responses)
    openapi_body_errors = BODY_ERRORS
    openapi_tag = "RealWorld"
    rate_limited = False
    # Cross-origin front ends call this face (faces.cors).
    cross_origin = True

    def get_exception_handler(self) -> Callable[[Exception, dict[str, Any]], Response | None]:
        return exception_handler


class RealWorldAPIView(RealWorldView, APIView):
    pass
