"""How the API refuses input: every error becomes {"error": "<sentence>", "details": {...}?}."""

import re
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, parsers, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "That conflicts with an existing resource."
    default_code = "conflict"


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "too_large"


LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _has_lone_surrogate(data: Any) -> bool:
    # Iterative: the document may be nested nearly as deep as the recursion limit.
    pending = [data]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if LONE_SURROGATE.search(item):
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, also answering 400 to JSON nested too deeply for Python to decode and
    to invalid Unicode: a "\\ud800" escape decodes to a lone surrogate, which no UTF-8 encoder
    (hashing, cache keys, rendering) accepts, so it must not get past the parser.
    """

    def parse(self, stream, media_type=None, parser_context=None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError("JSON parse error - the document is nested too deeply.") from None
        if _has_lone_surrogate(data):
            raise exceptions.ParseError(
                "JSON parse error - a \\u escape is a lone surrogate, not valid Unicode."
            )
        return data


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
    413: "The request body is larger than 1 MiB.",
    415: "The body is not JSON: send it with `Content-Type: application/json`.",
    429: "Too many attempts; retry after the number of seconds in the `Retry-After` header.",
}


def error_responses(*statuses: int) -> dict[int, OpenApiResponse]:
    """OpenAPI responses for the given error statuses, all in the {"error", "details"} shape."""
    return {code: OpenApiResponse(ErrorSerializer, description=ERROR_DESCRIPTIONS[code]) for code in statuses}


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


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    elif isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge()
    elif isinstance(exc, Http404):  # raised by selectors, with a message worth keeping
        exc = exceptions.NotFound(*exc.args)
    elif isinstance(exc, DjangoPermissionDenied):  # raised by services for non-authors
        exc = exceptions.PermissionDenied(*exc.args)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # unexpected: Django's JSON 500 handler answers and the error is logged
    body: dict[str, Any] = {"error": _sentence(exc)}
    details = _details(exc)
    if details:
        body["details"] = details
    response.data = body
    return response
