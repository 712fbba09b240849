"""DRF exception handler: every API error becomes {"error": "<sentence>", "details": {...}?}."""

from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, status
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
    if isinstance(exc, exceptions.ValidationError):
        if isinstance(detail, dict):
            return {str(key): _messages(value) for key, value in detail.items()}
        return None
    if isinstance(detail, dict) and "code" in detail:
        return {"code": str(detail["code"])}
    return None


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    elif isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # unexpected: Django's JSON 500 handler answers and the error is logged
    body: dict[str, Any] = {"error": _sentence(exc)}
    details = _details(exc)
    if details:
        body["details"] = details
    response.data = body
    return response
