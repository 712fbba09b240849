"""PATCH /api/v1/user/me and POST /api/v1/user/password, with token and session hygiene."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db
ME = "/api/v1/user/me"
PASSWORD_URL = "/api/v1/user/password"
REFRESH = "/api/v1/user/refresh"
NEW_PASSWORD = "another-long-passphrase"


def signed_in(user: User) -> tuple[APIClient, dict]:
    client = APIClient()
    tokens = client.post(
        "/api/v1/user/signin", {"email": user.email, "password": PASSWORD}, format="json"
    ).json()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['jwt']}")
    return client, tokens


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def test_a_member_changes_only_the_profile_fields_sent(user):
    client, _ = signed_in(user)
    response = client.patch(
        ME, {"bio": "I write about birds.", "image": "https://example.com/me.png"}, format="json"
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["bio"], body["image"], body["name"]) == (
        "I write about birds.",
        "https://example.com/me.png",
        user.name,
    )
    user.refresh_from_db()
    assert user.bio == "I write about birds."


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"username": "has space"}, "username"),
        ({"username": ""}, "username"),
        ({"bio": "x" * 2001}, "bio"),
        ({"image": "javascript:alert(1)"}, "image"),
        ({"image": "http://example.com/plain-http.png"}, "image"),
        ({"name": 42}, "name"),
    ],
)
def test_bad_profile_input_is_a_400_naming_the_field(user, change, field):
    client, _ = signed_in(user)
    response = client.patch(ME, change, format="json")
    assert response.status_code == 400
    assert list(response.json()["details"]) == [field]


def test_a_taken_username_is_a_409_and_ones_own_in_another_case_is_fine(user, other_user):
    client, _ = signed_in(user)
    taken = client.patch(ME, {"username": other_user.username.upper()}, format="json")
    assert taken.status_code == 409
    assert taken.json()["details"] == {"username": ["This username is taken."]}
    assert client.patch(ME, {"username": user.username.upper()}, format="json").status_code == 200


def test_a_password_change_ends_every_earlier_token_and_session_at_once(user):
    client, old = signed_in(user)
    _, other = signed_in(user)
    browser = Client()
    browser.force_login(user)
    assert browser.get(ME).status_code == 200

    response = client.post(
        PASSWORD_URL, {"current_password": PASSWORD, "new_password": NEW_PASSWORD}, format="json"
    )
    assert response.status_code == 200
    fresh = response.json()
    assert set(fresh) == {"jwt", "refresh"}

    for token in (old["jwt"], other["jwt"]):
        assert bearer(token).get(ME).status_code == 401
    for refresh in (old["refresh"], other["refresh"]):
        assert APIClient().post(REFRESH, {"refresh": refresh}, format="json").status_code == 401
    assert browser.get(ME).status_code in (401, 403)  # the other browser's session is over

    assert bearer(fresh["jwt"]).get(ME).status_code == 200
    assert APIClient().post(REFRESH, {"refresh": fresh["refresh"]}, format="json").status_code == 200
    signin = APIClient().post(
        "/api/v1/user/signin", {"email": user.email, "password": NEW_PASSWORD}, format="json"
    )
    assert signin.status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"current_password": "wrong-one", "new_password": NEW_PASSWORD}, "current_password"),
        ({"current_password": PASSWORD, "new_password": "short"}, "new_password"),
        ({"current_password": PASSWORD, "new_password": "12345678901"}, "new_password"),
    ],
)
def test_a_refused_password_change_changes_nothing(user, body, field):
    client, tokens = signed_in(user)
    response = client.post(PASSWORD_URL, body, format="json")
    assert response.status_code == 400
    assert list(response.json()["details"]) == [field]
    assert bearer(tokens["jwt"]).get(ME).status_code == 200
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_profile_and_password_need_a_token():
    assert APIClient().patch(ME, {"bio": "x"}, format="json").status_code == 401
    assert APIClient().post(PASSWORD_URL, {}, format="json").status_code == 401


def test_other_members_keep_their_tokens(user):
    other = UserFactory()
    _, theirs = signed_in(other)
    client, _ = signed_in(user)
    client.post(PASSWORD_URL, {"current_password": PASSWORD, "new_password": NEW_PASSWORD}, format="json")
    assert bearer(theirs["jwt"]).get(ME).status_code == 200
