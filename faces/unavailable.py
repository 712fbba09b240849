"""The database is down or unreachable: every face answers 503 with Retry-After, never a 500.

One warning is logged per interval with the cause, not a traceback per request: when the
pool is down, every request fails the same way.
"""

import logging
import time
from collections.abc import Callable

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse

from faces.registry import error_response

RETRY_AFTER_SECONDS = 2
WARNING_INTERVAL_SECONDS = 10.0

logger = logging.getLogger("quill.database")
_last_warning = 0.0


def is_database_unavailable(error: BaseException | None) -> bool:
    """Connection refused or lost, the pool saturated or gone, a server restarting."""
    return isinstance(error, (OperationalError, InterfaceError))


def unavailable_response(request: HttpRequest | None, error: BaseException) -> HttpResponse:
    global _last_warning
    now = time.monotonic()
    if now - _last_warning >= WARNING_INTERVAL_SECONDS:
        _last_warning = now
        logger.warning("database unavailable: answering 503", extra={"error": str(error).strip()})
    response = error_response(request, 503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class DatabaseUnavailableMiddleware:
    """Turns a database outage inside a view into the owning face's 503."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if is_database_unavailable(exception):
            return unavailable_response(request, exception)
        return None


class DropUnavailableTracebacks(logging.Filter):
    """Keeps Django's request log from adding a traceback for each 503 (logged once above)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return getattr(record, "status_code", None) != 503
