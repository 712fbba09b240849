"""Django's error handlers and CSRF failure view: each answers in the envelope of the face that
owns the path (see faces.registry)."""

import sys

from django.http import HttpRequest, HttpResponse

from faces.registry import error_response
from faces.unavailable import is_database_unavailable, unavailable_response


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_response(request, 400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_response(request, 403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_response(request, 404)


def server_error(request: HttpRequest) -> HttpResponse:
    # Reached for failures outside a view too (a session saved after the response, say).
    error = sys.exc_info()[1]
    if is_database_unavailable(error):
        assert error is not None
        return unavailable_response(request, error)
    return error_response(request, 500)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return error_response(
        request,
        403,
        "This form has expired or came from another site. Go back, reload the page and try again.",
    )
