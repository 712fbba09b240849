"""Sign-in and sign-up rate limits, per client IP and per account, counted in the shared cache.

The rate is settings.QUILL_AUTH_RATE (DRF syntax, e.g. "10/minute"). The API uses the two
throttle classes directly; the HTML views call `auth_attempt_wait`.
"""

import hashlib
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from rest_framework.throttling import SimpleRateThrottle


def _account_of(request: Any) -> str:
    # DRF requests carry parsed JSON in .data; HTML form posts carry .POST.
    data = getattr(request, "data", None)
    if data is None:
        data = request.POST
    email = data.get("email") if hasattr(data, "get") else None
    return email.strip().lower() if isinstance(email, str) else ""


class _AuthThrottle(SimpleRateThrottle):
    def get_rate(self) -> str:
        return settings.QUILL_AUTH_RATE


class AuthIPThrottle(_AuthThrottle):
    scope = "auth-ip"

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class AuthAccountThrottle(_AuthThrottle):
    scope = "auth-account"

    def get_cache_key(self, request, view) -> str | None:
        account = _account_of(request)
        if not account:
            return None
        digest = hashlib.sha256(account.encode("utf-8", "surrogatepass")).hexdigest()[
            :32
        ]  # no emails in cache keys
        return self.cache_format % {"scope": self.scope, "ident": digest}


AUTH_THROTTLES = (AuthIPThrottle, AuthAccountThrottle)


def auth_attempt_wait(request: HttpRequest) -> float | None:
    """Counts one attempt. Returns the seconds to wait when over the limit, otherwise None."""
    waits = []
    for throttle_class in AUTH_THROTTLES:
        throttle = throttle_class()
        if not throttle.allow_request(request, None):
            waits.append(throttle.wait() or 1)
    return max(waits) if waits else None
