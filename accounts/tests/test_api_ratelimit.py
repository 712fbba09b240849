"""Sign-in and sign-up over the API are rate limited per client IP and per account."""

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from accounts.tests.factories import PASSWORD

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_three_a_minute")]

SIGNIN = "/api/v1/user/signin"
SIGNUP = "/api/v1/user/signup"


@pytest.fixture
def _three_a_minute():
    with override_settings(QUILL_AUTH_RATE="3/minute"):
        yield


def from_ip(ip: str) -> APIClient:
    return APIClient(REMOTE_ADDR=ip)


def assert_throttled(response) -> None:
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 60
    assert response.json()["error"].startswith("Request was throttled.")


def test_sign_in_is_limited_per_ip(user):
    client = from_ip("203.0.113.1")
    for n in range(3):
        attempt = {"email": f"guess{n}@example.com", "password": "wrong-password"}
        assert client.post(SIGNIN, attempt, format="json").status_code == 401

    assert_throttled(client.post(SIGNIN, {"email": user.email, "password": PASSWORD}, format="json"))
    # Another client is not affected.
    ok = from_ip("203.0.113.2").post(SIGNIN, {"email": user.email, "password": PASSWORD}, format="json")
    assert ok.status_code == 200


def test_sign_in_is_limited_per_account_across_ips(user):
    for n in range(3):
        wrong = {"email": user.email, "password": f"wrong-{n}"}
        assert from_ip(f"198.51.100.{n}").post(SIGNIN, wrong, format="json").status_code == 401

    right = {"email": user.email.upper(), "password": PASSWORD}
    assert_throttled(from_ip("198.51.100.99").post(SIGNIN, right, format="json"))


def test_sign_up_is_limited_per_ip():
    client = from_ip("203.0.113.7")
    for n in range(3):
        body = {"email": f"new{n}@example.com", "password": "a-long-unusual-passphrase"}
        assert client.post(SIGNUP, body, format="json").status_code == 201

    body = {"email": "one-more@example.com", "password": "a-long-unusual-passphrase"}
    assert_throttled(client.post(SIGNUP, body, format="json"))
