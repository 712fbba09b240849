"""Faces: the ways in to Quill's core (the site's pages, API v1, ...), and who owns which path.

A face owns its auth, parsers, envelopes and error mapping. Inside its views it answers errors
itself; this registry is for failures outside any view (an unknown path, a body too large, a
host not allowed, a crash, a core refusal escaping a page view), so they too answer in the
envelope of the face that owns the path. A face is mounted in the root URLconf with `mount`;
every path no face claims belongs to the pages.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template import loader
from django.urls import Resolver404, ResolverMatch, URLResolver, get_resolver, include, path, resolve

from kernel.exceptions import (
    Conflict,
    InvalidToken,
    NotAllowed,
    NotFound,
    QuillError,
    RateLimited,
    StaleWrite,
    TooLarge,
)

TITLES = {
    400: "Bad request",
    401: "Sign in needed",
    403: "Not allowed",
    404: "Page not found",
    405: "Method not allowed",
    409: "Already taken",
    413: "Too large",
    429: "Too many requests",
    500: "Something went wrong",
    503: "Unavailable",
}
MESSAGES = {
    400: "The request could not be understood.",
    401: "Sign in to do that.",
    403: "You do not have permission to do that.",
    404: "There is nothing here. The story may have moved or been unpublished.",
    500: "Sorry, something broke on our side. Please try again in a moment.",
    503: "Quill cannot reach its database right now. Please try again in a few seconds.",
}
# How a refusal of the core reads as HTTP, for the faces that have no mapping of their own.
STATUS_OF: Mapping[type[QuillError], int] = {
    NotFound: 404,
    NotAllowed: 403,
    Conflict: 409,
    InvalidToken: 401,
    RateLimited: 429,
    TooLarge: 413,
    StaleWrite: 409,
}


def status_of(error: QuillError) -> int:
    """The HTTP status a refusal of the core reads as (STATUS_OF)."""
    return next(code for kind, code in STATUS_OF.items() if isinstance(error, kind))


ErrorRenderer = Callable[[HttpRequest | None, int, str], HttpResponse]


@dataclass(frozen=True)
class Face:
    name: str
    render_error: ErrorRenderer
    messages: Mapping[int, str] = field(default_factory=lambda: MESSAGES)

    def error_response(
        self, request: HttpRequest | None, status: int, message: str | None = None
    ) -> HttpResponse:
        return self.render_error(request, status, message or self.messages.get(status) or TITLES[status])

    def refusal_response(self, request: HttpRequest, error: QuillError) -> HttpResponse:
        status = status_of(error)
        # The face's own wording for the common statuses; the core's sentence otherwise.
        response = self.error_response(request, status, self.messages.get(status) or error.message)
        if isinstance(error, RateLimited):
            response["Retry-After"] = str(error.retry_after)
        return response


def render_error_page(request: HttpRequest | None, status: int, message: str) -> HttpResponse:
    context = {"status": status, "title": TITLES.get(status, "Error"), "message": message}
    # The 500 and 503 pages are rendered without the request: its context processors may
    # need the database, which could be what failed. So is the 400 page: the request may
    # carry a host that is not allowed, which every use of it would raise again.
    bare = status in (400, 500, 503)
    html = loader.render_to_string("error.html", context, request=None if bare else request)
    return HttpResponse(html, status=status)


PAGES = Face("pages", render_error_page)


def mount(prefix: str, face: Face, urls: Any) -> URLResolver:
    """Mounts a face's URLs at `prefix` (as `path(prefix, include(urls))` would)."""
    resolver = path(prefix, include(urls))
    assert isinstance(resolver, URLResolver)
    resolver.face = face  # type: ignore[attr-defined]
    return resolver


def face_for(request: HttpRequest | None) -> Face:
    """The face mounted at the request's path (the longest match), or the pages."""
    if request is None:
        return PAGES
    relative = request.path_info.lstrip("/")
    matches = [
        (len(str(pattern.pattern)), face)
        for pattern in get_resolver(getattr(request, "urlconf", None)).url_patterns
        if (face := getattr(pattern, "face", None)) is not None and pattern.pattern.match(relative)
    ]
    return max(matches, key=lambda match: match[0])[1] if matches else PAGES


def error_response(request: HttpRequest | None, status: int, message: str | None = None) -> HttpResponse:
    """An error in the envelope of the face that owns the request's path."""
    return face_for(request).error_response(request, status, message)


def client_ip(request: HttpRequest) -> str:
    """The client's address: the peer's, or the one the trusted proxies in front report
    (settings.NUM_PROXIES of them append to X-Forwarded-For)."""
    remote_addr = str(request.META.get("REMOTE_ADDR", ""))
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if not settings.NUM_PROXIES or not forwarded:
        return remote_addr
    addresses = forwarded.split(",")
    return addresses[-min(settings.NUM_PROXIES, len(addresses))].strip()


@lru_cache(maxsize=4096)
def _resolved(path_info: str, urlconf: str | None, root_urlconf: str) -> ResolverMatch | None:
    try:
        return resolve(path_info, urlconf)
    except Resolver404:
        return None


def view_at(request: HttpRequest) -> ResolverMatch | None:
    """The view (and URL arguments) the request's path leads to, for middleware that asks what
    a view says of itself before Django calls it; remembered per path, since several ask."""
    return _resolved(request.path_info, getattr(request, "urlconf", None), settings.ROOT_URLCONF)
