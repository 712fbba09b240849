"""The auth rate limiter counts attempts per IP and per account, whatever text the account holds."""

from django.test import override_settings

from accounts.ratelimit import auth_attempt_wait


@override_settings(QUILL_AUTH_RATE="2/minute")
def test_attempts_past_the_rate_must_wait_and_other_accounts_from_other_ips_do_not(rf):
    def attempt(email: str, ip: str) -> float | None:
        return auth_attempt_wait(rf.post("/signin/", {"email": email}, REMOTE_ADDR=ip))

    assert attempt("a@example.com", "10.0.0.1") is None
    assert attempt("A@example.com", "10.0.0.2") is None
    wait = attempt("a@example.com", "10.0.0.3")  # third try on one account, from a third IP
    assert wait is not None and 0 < wait <= 60
    assert attempt("b@example.com", "10.0.0.4") is None


def test_an_account_name_that_is_not_valid_unicode_is_still_counted(rf):
    request = rf.post("/signin/")
    request.data = {"email": "x\ud800@example.com"}  # what a JSON body could carry
    assert auth_attempt_wait(request) is None
