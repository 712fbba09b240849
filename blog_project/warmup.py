"""What a worker's first request would otherwise do, done once at start (in gunicorn's master,
which preloads the app) so that the first reader waits no longer than the next ones."""

import io
import logging
import sys
import time
from typing import Any

from django.conf import settings
from django.db import connections
from django.template.loader import get_template
from django.urls import get_resolver

logger = logging.getLogger("quill.startup")

# The templates of the pages readers open first.
TEMPLATES = ("posts/home.html", "posts/detail.html", "posts/author.html", "posts/tag.html", "error.html")


def _a_host() -> str:
    named = [host for host in settings.ALLOWED_HOSTS if "*" not in host and not host.startswith(".")]
    return named[0] if named else "localhost"


def _front_page(application: Any) -> str:
    """GET / through the whole stack of middleware, in process: the ORM, templates, JSON log
    and cache code all run once."""
    scheme = "https" if settings.QUILL_HTTPS else "http"
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/",
        "QUERY_STRING": "",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "443" if scheme == "https" else "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": _a_host(),
        "HTTP_X_FORWARDED_PROTO": scheme,  # as the proxy says it (behind TLS: no redirect)
        "wsgi.url_scheme": scheme,
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": sys.stderr,
    }
    statuses: list[str] = []
    body = application(environ, lambda status, headers, *_: statuses.append(status))
    b"".join(body)
    if hasattr(body, "close"):
        body.close()
    return statuses[0] if statuses else "no answer"


def warm_up(application: Any) -> None:
    """Imports every view, compiles the common templates and answers GET / once. The database
    connections it opened are closed before gunicorn forks the workers (a connection must never
    be shared between processes); a database that is down costs nothing but a log line."""
    started = time.perf_counter()
    resolver = get_resolver()
    resolver.url_patterns  # noqa: B018 (imports every view module)
    resolver.reverse_dict  # noqa: B018 (builds the reverse lookup tables)
    for name in TEMPLATES:
        get_template(name)
    try:
        front_page = _front_page(application)
    except Exception:  # warming is an optimisation: never a reason not to start
        logger.warning("Warm-up GET / failed", exc_info=True)
        front_page = "failed"
    finally:
        connections.close_all()
    logger.info("Warmed up in %.0f ms (GET / %s)", (time.perf_counter() - started) * 1000, front_page)
