"""Cross-origin requests are allowed for the views of faces meant for browsers on other
origins (the RealWorld API), decided by the view, not by a path pattern."""

from typing import Any

from corsheaders.signals import check_request_enabled
from django.conf import settings
from django.http import HttpRequest
from django.urls import Resolver404, resolve


def view_allows_cross_origin(sender: Any, request: HttpRequest, **kwargs: Any) -> bool:
    """Whether this request may be answered cross-origin: its view says `cross_origin`, and its
    Origin is one of CORS_ALLOWED_ORIGINS. (django-cors-headers asks this signal both whether
    CORS applies and whether to let an origin through, so the origin is checked here too.)"""
    origin = request.headers.get("Origin")
    if origin is not None and origin not in settings.CORS_ALLOWED_ORIGINS:
        return False
    try:
        view = resolve(request.path_info, getattr(request, "urlconf", None)).func
    except Resolver404:
        return False
    view_class = getattr(view, "cls", None) or getattr(view, "view_class", None)
    return bool(getattr(view_class, "cross_origin", False))


check_request_enabled.connect(view_allows_cross_origin)
