"""The auth rate limiter counts attempts per IP and per account, exactly, in the shared cache."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.test import override_settings

from accounts.ratelimit import count_auth_attempt
from kernel.exceptions import RateLimited


def waits(email: str, ip: str) -> int | None:
    """Counts one attempt; the seconds to wait when it was refused."""
    try:
        count_auth_attempt(ip=ip, email=email)
    except RateLimited as refusal:
        return refusal.retry_after
    return None


@override_settings(QUILL_AUTH_RATE="2/minute")
def test_an_account_is_limited_across_ips_whatever_the_case_of_its_email():
    assert waits("a@example.com", "10.0.0.1") is None
    assert waits("A@Example.com", "10.0.0.2") is None
    wait = waits(" a@example.com", "10.0.0.3")  # third try on one account, from a third IP
    assert wait is not None and 0 < wait <= 60
    assert waits("b@example.com", "10.0.0.4") is None  # another account from another IP


@override_settings(QUILL_AUTH_RATE="2/minute")
def test_an_ip_is_limited_across_accounts():
    assert waits("one@example.com", "10.0.0.9") is None
    assert waits("two@example.com", "10.0.0.9") is None
    assert waits("three@example.com", "10.0.0.9") is not None
    assert waits("three@example.com", "10.0.0.10") is None


@override_settings(QUILL_AUTH_RATE="10/minute")
def test_the_limit_is_exact_under_a_parallel_burst():
    def attempt(number: int) -> bool:
        return waits("burst@example.com", f"10.1.0.{number}") is None

    with ThreadPoolExecutor(max_workers=20) as pool:
        allowed = sum(pool.map(attempt, range(40)))
    assert allowed == 10


@pytest.mark.parametrize("email", ["x\ud800@example.com", "", "   "])
def test_any_account_text_is_counted_safely(email):
    with override_settings(QUILL_AUTH_RATE="1/minute"):
        assert waits(email, "10.2.0.1") is None
        assert waits(email, "10.2.0.1") is not None  # the IP still counts


def test_attempts_are_refused_when_the_shared_cache_is_down(unused_tcp_port):
    unreachable = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{unused_tcp_port}",
        }
    }
    with override_settings(CACHES=unreachable):
        assert waits("a@example.com", "10.3.0.1") is not None
