"""Cross-origin requests are allowed for the views of faces meant for browsers on other
origins (the RealWorld API), decided by the view, not by a path pattern."""

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from faces.registry import view_at


def view_allows_cross_origin(sender: Any, request: HttpRequest, **kwargs: Any) -> bool:
    """Whether this request may be answered cross-origin: its view says `cross_origin`, and its
    Origin is one of CORS_ALLOWED_ORIGINS. (django-cors-headers asks this signal both whether
    CORS applies and whether to let an origin through, so the origin is checked here too.)"""
    origin = request.headers.get("Origin")
    if origin is not None and origin not in settings.CORS_ALLOWED_ORIGINS:
        return False
    match = view_at(request)
    if match is None:
        return False
    view_class = getattr(match.func, "cls", None) or getattr(match.func, "view_class", None)
    return bool(getattr(view_class, "cross_origin", False))
