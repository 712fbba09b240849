"""Sign-in and sign-up attempts, counted per client IP and per account in the shared cache.

The rate is settings.QUILL_AUTH_RATE (DRF's syntax, e.g. "10/minute"). Each count is one
atomic increment of a cache key that lives for one period from the first attempt, so the
limit holds exactly across every worker and under parallel bursts. The cache is Redis, or
without it a SQLite file that every process on the machine shares (blog_project.sqlite_cache).
"""

import hashlib
import logging
import math
import sqlite3
import time

from django.conf import settings
from django.core.cache import cache
from redis.exceptions import RedisError

from accounts.models import User
from kernel.exceptions import RateLimited

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# With the shared cache down, attempts cannot be counted: auth fails closed for this long.
UNCOUNTED_RETRY_SECONDS = 5
# What the shared cache raises when it cannot count: Redis down, or the SQLite file unwritable.
CACHE_ERRORS = (RedisError, sqlite3.Error)

logger = logging.getLogger("quill.ratelimit")


def parse_rate(rate: str) -> tuple[int, int]:
    """ "10/minute" -> (10, 60): attempts allowed, and the period in seconds."""
    count, period = rate.split("/")
    return int(count), PERIODS[period.strip()[0].lower()]


def _count(key: str, limit: int, period: int) -> int | None:
    """Counts one attempt under `key`; the seconds to wait when it is over the limit."""
    now = time.time()
    cache.add(f"{key}:start", now, period)
    cache.add(key, 0, period)
    try:
        attempts = cache.incr(key)
    except ValueError:  # the period ended between add and incr: this attempt opens a new one
        cache.add(key, 1, period)
        return None
    if attempts == 1:
        # The first of a period: make sure the counter expires even if a period ended between
        # the backend's existence check and its increment (which then creates a bare key).
        cache.touch(key, period)
    if attempts <= limit:
        return None
    started = cache.get(f"{key}:start") or now
    return max(1, math.ceil(started + period - now))


def _digest(text: str) -> str:
    # No emails or addresses in cache keys; surrogatepass: any text a JSON body can carry.
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def count_attempt(*, scope: str, ident: str, rate: str) -> None:
    """Counts one attempt at `scope` by `ident` (a member's id, say) against `rate`.

    Raises RateLimited when over the rate. Fails open when the shared cache is down: only
    sign-in and sign-up fail closed.
    """
    limit, period = parse_rate(rate)
    try:
        wait = _count(f"{scope}:{_digest(ident)}", limit, period)
    except CACHE_ERRORS as exc:
        logger.warning(
            "attempts cannot be counted: letting them through", extra={"scope": scope, "error": str(exc)}
        )
        return
    if wait is not None:
        raise RateLimited(retry_after=wait)


def count_auth_attempt(*, ip: str, email: str) -> None:
    """Counts one sign-in or sign-up attempt from `ip` for the account `email`.

    Raises RateLimited when either is over the rate; the attempt is counted all the same.
    Fails closed: when the shared cache is down, every attempt is refused.
    """
    limit, period = parse_rate(settings.QUILL_AUTH_RATE)
    keys = [f"auth-ip:{_digest(ip)}"]
    account = User.objects.normalize_email(email)
    if account:
        keys.append(f"auth-account:{_digest(account)}")
    try:
        waits = [wait for key in keys if (wait := _count(key, limit, period)) is not None]
    except CACHE_ERRORS as exc:
        logger.warning("auth attempts cannot be counted: refusing them", extra={"error": str(exc)})
        raise RateLimited(retry_after=UNCOUNTED_RETRY_SECONDS) from exc
    if waits:
        raise RateLimited(retry_after=max(waits))
