"""Cross-cutting HTTP concerns: request log, security headers, body size limit, core refusals."""

import logging
import time
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control
from django.utils.functional import SimpleLazyObject, empty

from faces.registry import error_response, face_for, view_at
from kernel.exceptions import QuillError

request_logger = logging.getLogger("quill.request")
View = TypeVar("View", bound=Callable[..., Any])


def signed_in_user(request: HttpRequest) -> AbstractBaseUser | None:
    """The signed-in user the request turned out to have, without looking one up: a request
    whose view never asked has not touched the session (nor the database, which may be down)."""
    user = getattr(request, "user", None)
    if isinstance(user, SimpleLazyObject) and user._wrapped is empty:
        return None
    return user if user is not None and user.is_authenticated else None


class TaggedRequest(HttpRequest):
    """The type of a request that RequestLogMiddleware tags with its X-Request-ID (for the type
    checker only: requests stay Django's own class, with one attribute more)."""

    request_id: str


class RequestLogMiddleware:
    """Logs one structured line per request and tags it with an X-Request-ID."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: TaggedRequest) -> HttpResponse:
        started = time.perf_counter()
        incoming_id = request.headers.get("X-Request-ID", "")
        request_id = (
            incoming_id if 0 < len(incoming_id) <= 64 and incoming_id.isprintable() else uuid.uuid4().hex
        )
        request.request_id = request_id
        response = self.get_response(request)
        response["X-Request-ID"] = request_id
        user = signed_in_user(request)
        request_logger.info(
            "%s %s %s",
            request.method,
            request.path,
            response.status_code,
            extra={
                "request_id": request_id,
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                "user_id": user.pk if user is not None else None,
                "remote_addr": request.META.get("REMOTE_ADDR"),
            },
        )
        return response


class SecurityHeadersMiddleware:
    """Adds what Django 5.2 does not set by itself: the Content-Security-Policy and
    Permissions-Policy on every response, and `Cache-Control: private, no-store` on what was
    made for a signed-in user, so no shared cache or back button keeps it.

    nosniff, Referrer-Policy and HSTS come from Django's SecurityMiddleware.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        response.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        if signed_in_user(request) is not None:
            patch_cache_control(response, private=True, no_store=True)
        return response


def allow_body_size(limit: int) -> Callable[[View], View]:
    """Lets a function view take request bodies of up to `limit` bytes (BodySizeLimitMiddleware).
    A class view sets a `max_body_size` attribute instead."""

    def mark(view: View) -> View:
        view.max_body_size = limit  # type: ignore[attr-defined]
        return view

    return mark


def _body_limit(request: HttpRequest) -> int:
    """The largest body the view at the request's path takes: its `max_body_size` (on the
    function, or on the class of a class-based view), or DATA_UPLOAD_MAX_MEMORY_SIZE."""
    match = view_at(request)
    if match is None:
        return settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    view = match.func
    limit = getattr(view, "max_body_size", None) or getattr(getattr(view, "cls", None), "max_body_size", None)
    return int(limit or settings.DATA_UPLOAD_MAX_MEMORY_SIZE)


class BodySizeLimitMiddleware:
    """Answers 413 before reading a body larger than its view takes (DATA_UPLOAD_MAX_MEMORY_SIZE
    unless the view says more, as the image upload does)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return error_response(request, 400, "The Content-Length header is not a number.")
        if length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE and length > (limit := _body_limit(request)):
            return error_response(request, 413, f"The request body is larger than {limit // 1024} KiB.")
        return self.get_response(request)


class CoreRefusalMiddleware:
    """Answers a refusal of the core (no such story, not yours...) that a view let through, in
    the envelope of the face that owns the path. API views map their own before this."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, QuillError):
            return face_for(request).refusal_response(request, exception)
        return None
