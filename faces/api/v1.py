"""API v1, the face compatible with the original app's routes: `Authorization: Bearer <jwt>`
(or a signed-in browser's session), JSON bodies, and every error as
{"error": "<one readable sentence>", "details": {...}?}.

accounts.api.v1 and posts.api.v1 build their views on `V1APIView` / `V1ListAPIView`.
"""

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, JsonResponse
from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.authentication import BaseAuthentication, SessionAuthentication
from rest_framework.generics import ListAPIView
from rest_framework.parsers import BaseParser
from rest_framework.permissions import AllowAny, IsAuthenticatedOrReadOnly
from rest_framework.renderers import BaseRenderer, BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from kernel import exceptions as core

if TYPE_CHECKING:
    from rest_framework.permissions import _PermissionClass

from faces.api.auth import JWTSchemeAuthentication, OptionalAuthentication
from faces.api.parsers import JSONParser
from faces.registry import MESSAGES, Face


class ErrorSerializer(serializers.Serializer):
    """The body of every error response (documentation only)."""

    error = serializers.CharField(help_text="One readable sentence saying what went wrong.")
    details = serializers.DictField(
        required=False,
        help_text='Field name to its messages on bad input, e.g. {"title": ["Give your story a title."]}; '
        '{"code": "..."} on token errors.',
    )


ERROR_DESCRIPTIONS = {
    400: "Bad input: malformed JSON, a wrong type, or a field breaking a rule (messages in `details`).",
    401: "No token, or the token is invalid, expired, revoked or belongs to a suspended account.",
    403: "Signed in, but this is not yours to change.",
    404: "No such thing (a draft of someone else and a malformed id are also 404).",
    409: "The email or username is already taken.",
    412: "The story changed since the version in If-Match: nothing was saved; the current story "
    "is in `details.post`.",
    413: "The request body is larger than 1 MiB.",
    415: "The body is not JSON: send it with `Content-Type: application/json`.",
    429: "Too many attempts; retry after the number of seconds in the `Retry-After` header.",
}


def error_responses(*statuses: int) -> dict[int, OpenApiResponse]:
    """OpenAPI responses for the given error statuses, all in this face's error body."""
    return {code: OpenApiResponse(ErrorSerializer, description=ERROR_DESCRIPTIONS[code]) for code in statuses}


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "too_large"


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "That conflicts with an existing resource."
    default_code = "conflict"


def _first_message(detail: Any) -> str:
    if isinstance(detail, dict):
        for value in detail.values():
            return _first_message(value)
        return ""
    if isinstance(detail, list):
        return _first_message(detail[0]) if detail else ""
    return str(detail)


def _messages(detail: Any) -> list[str]:
    """Flattens nested field errors (e.g. one per list item) into readable strings."""
    if isinstance(detail, dict):
        return [f"{key}: {message}" for key, value in detail.items() for message in _messages(value)]
    if isinstance(detail, list):
        return [message for item in detail for message in _messages(item)]
    return [str(detail)]


def _sentence(exc: exceptions.APIException) -> str:
    detail = exc.detail
    if isinstance(exc, exceptions.ValidationError) and isinstance(detail, dict):
        fields = [name for name in detail if name not in ("non_field_errors", "__all__")]
        message = _first_message(detail)
        if len(fields) == 1 and len(detail) == 1:
            return f"{fields[0]}: {message}"
        if fields:
            return f"Invalid input in: {', '.join(fields)}."
        return message or "Invalid input."
    if isinstance(detail, dict) and "detail" in detail:  # SimpleJWT's token errors
        return str(detail["detail"])
    if isinstance(exc, exceptions.ParseError):
        return f"Malformed request body: {_first_message(detail)}"
    return _first_message(detail) or str(exc.default_detail)


def _details(exc: exceptions.APIException) -> dict[str, Any] | None:
    detail = exc.detail
    if not isinstance(detail, dict):
        return None
    if "detail" in detail:  # SimpleJWT's token errors: keep only their machine-readable code
        return {"code": str(detail["code"])} if "code" in detail else None
    # Field messages: bad input (400) and taken email or username (409).
    return {str(key): _messages(value) for key, value in detail.items()}


def _as_api_exception(exc: Exception) -> Exception:
    """The core's refusals (and Django's bad-input errors) as the DRF errors this face answers."""
    if isinstance(exc, DjangoValidationError):
        return exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    if isinstance(exc, RequestDataTooBig):
        return PayloadTooLarge()
    if isinstance(exc, core.TooLarge):
        return PayloadTooLarge(exc.message)
    if isinstance(exc, core.NotFound):
        return exceptions.NotFound(exc.message)
    if isinstance(exc, core.Suspended):  # sign-in refused: 401, as for wrong credentials
        return exceptions.AuthenticationFailed(exc.message)
    if isinstance(exc, core.NotAllowed):
        return exceptions.PermissionDenied(exc.message)
    if isinstance(exc, core.Conflict):
        return Conflict({field: [message] for field, message in exc.errors.items()})
    if isinstance(exc, core.InvalidToken):
        return exceptions.AuthenticationFailed(exc.message, code=exc.code)
    if isinstance(exc, core.RateLimited):
        return exceptions.Throttled(wait=exc.retry_after)
    return exc


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    exc = _as_api_exception(exc)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # unexpected: the face's JSON 500 answers and the error is logged
    assert isinstance(exc, exceptions.APIException)  # DRF answers nothing else
    body: dict[str, Any] = {"error": _sentence(exc)}
    details = _details(exc)
    if details:
        body["details"] = details
    response.data = body
    return response


def render_error(request: HttpRequest | None, status: int, message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


FACE = Face("api-v1", render_error, messages={**MESSAGES, 404: "Not found."})


class BearerAuthentication(JWTSchemeAuthentication):
    scheme = "Bearer"
    openapi_name = "jwtAuth"
    face = FACE.name


class V1BrowsableAPIRenderer(BrowsableAPIRenderer):
    """The browsable API in Quill's words: a sign-in link, the route list, the docs."""

    template = "api/v1_browsable.html"


# The face's conventions, mixed into each DRF view class it serves. (A comment, not a
# docstring: the schema would show it as every operation's description.)
class V1View(OptionalAuthentication):
    authentication_classes: Sequence[type[BaseAuthentication]] = (BearerAuthentication, SessionAuthentication)
    permission_classes: "Sequence[_PermissionClass]" = (IsAuthenticatedOrReadOnly,)
    parser_classes: Sequence[type[BaseParser]] = (JSONParser,)
    renderer_classes: Sequence[type[BaseRenderer]] = (JSONRenderer, V1BrowsableAPIRenderer)
    # The body each writing method takes, so the browsable API offers it as a JSON template.
    request_serializers: dict[str, type[serializers.Serializer]] = {}
    openapi_error_responses = staticmethod(error_responses)
    openapi_tag = "api"
    rate_limited = False

    def get_exception_handler(self) -> Callable[[Exception, dict[str, Any]], Response | None]:
        return exception_handler


class V1APIView(V1View, APIView):
    def get_serializer(self, *args: Any, **kwargs: Any) -> serializers.Serializer:
        """An empty body for the browsable API's form (DRF asks with the form's method set);
        a method that takes no body (PUT .../save) has none to offer."""
        serializer_class = self.request_serializers.get(self.request.method or "", serializers.Serializer)
        return serializer_class(*args, **kwargs)

    def http_method_not_allowed(  # type: ignore[override]  # DRF hands its own Request
        self, request: Request, *args: Any, **kwargs: Any
    ) -> Response:
        # A person opening a write-only address in a browser gets its forms with a note, not
        # a red 405; programs asking for JSON still get the 405.
        if request.method == "GET" and isinstance(request.accepted_renderer, BrowsableAPIRenderer):
            methods = [method for method in self.allowed_methods if method != "OPTIONS"]
            return Response({"note": f"This address takes {' and '.join(methods)}: use the form below."})
        return super().http_method_not_allowed(request, *args, **kwargs)


class RootView(V1APIView):
    """Every route of API v1. Sign in (top right) to try the writing routes from this browser,
    or send `Authorization: Bearer <jwt>` from a program."""

    name = "Quill API v1"
    permission_classes = (AllowAny,)

    @extend_schema(exclude=True)
    def get(self, request: Request) -> Response:
        def link(name: str, *args: str) -> str:
            return request.build_absolute_uri(reverse(name, args=args))

        return Response(
            {
                "user": {
                    "signup": link("api-signup"),
                    "signin": link("api-signin"),
                    "refresh": link("api-refresh"),
                    "signout": link("api-signout"),
                    "me": link("api-me"),
                },
                "blog": {
                    "write_or_edit": link("api-posts"),
                    "published": link("api-posts-bulk"),
                    "story": link("api-post", "{id}").replace("%7B", "{").replace("%7D", "}"),
                },
                "media": {"upload": link("api-media")},
                "docs": link("api-docs"),
                "schema": link("api-schema"),
            }
        )


class V1ListAPIView(V1View, ListAPIView):
    pass
