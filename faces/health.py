"""/livez (the process answers), /readyz and /healthz (it can serve: the database answers
through the pool, and Redis when configured), and /favicon.ico."""

import logging

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponsePermanentRedirect, JsonResponse
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from redis.exceptions import RedisError

logger = logging.getLogger("quill.health")


@never_cache
@require_safe
def livez(request: HttpRequest) -> JsonResponse:
    # No dependencies: an orchestrator restarts the process only when it is itself stuck.
    return JsonResponse({"status": "ok"})


def _database_answers() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        logger.warning("readiness: database unreachable", extra={"error": str(exc).strip()})
        return False
    return True


def _cache_answers() -> bool:
    try:
        cache.set("readyz", 1, 5)
    except RedisError as exc:
        logger.warning("readiness: cache unreachable", extra={"error": str(exc).strip()})
        return False
    return True


@never_cache
@require_safe
def readyz(request: HttpRequest) -> JsonResponse:
    checks = {"database": "ok" if _database_answers() else "unreachable"}
    if settings.REDIS_URL:
        checks["cache"] = "ok" if _cache_answers() else "unreachable"
    ready = all(state == "ok" for state in checks.values())
    response = JsonResponse({"status": "ok" if ready else "error", **checks}, status=200 if ready else 503)
    if not ready:
        response["Retry-After"] = "2"
    return response


@require_safe
def favicon(request: HttpRequest) -> HttpResponsePermanentRedirect:
    # Browsers ask for /favicon.ico whatever the page links. Resolved per request: the
    # static manifest does not exist yet when migrate imports the URLs on a fresh checkout.
    return HttpResponsePermanentRedirect(static("favicon.svg"))
