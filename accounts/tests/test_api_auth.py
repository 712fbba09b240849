"""The auth API through the whole stack: sign-up, sign-in, token rotation, sign-out, suspension."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from accounts.models import User
from accounts.services import suspend_users
from accounts.tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

SIGNUP = "/api/v1/user/signup"
SIGNIN = "/api/v1/user/signin"
REFRESH = "/api/v1/user/refresh"
SIGNOUT = "/api/v1/user/signout"
ME = "/api/v1/user/me"
GOOD_PASSWORD = "a-long-unusual-passphrase"
USER_KEYS = {"id", "email", "username", "name", "bio", "image"}


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def sign_in(client: APIClient, user: User) -> dict:
    response = client.post(SIGNIN, {"email": user.email, "password": PASSWORD}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


@pytest.mark.usefixtures("production_password_hashers")
def test_sign_up_returns_working_tokens_and_the_user(api_client):
    response = api_client.post(
        SIGNUP, {"email": "Ada@Example.com", "password": GOOD_PASSWORD, "name": "Ada"}, format="json"
    )
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"jwt", "refresh", "user"}
    assert set(body["user"]) == USER_KEYS
    assert body["user"] | {"id": None} == {
        "id": None,
        "email": "ada@example.com",
        "username": "ada",
        "name": "Ada",
        "bio": "",
        "image": "",
    }
    assert User.objects.get(email="ada@example.com").password.startswith("argon2$")

    me = bearer(body["jwt"]).get(ME)
    assert me.status_code == 200
    assert me.json() == body["user"]


def test_sign_up_takes_a_chosen_username(api_client):
    response = api_client.post(
        SIGNUP, {"email": "b@example.com", "password": GOOD_PASSWORD, "username": "Bee_1"}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["user"]["username"] == "Bee_1"


def test_a_taken_email_or_username_is_409_with_the_field_named(api_client):
    UserFactory(email="taken@example.com", username="taken")

    by_email = api_client.post(
        SIGNUP, {"email": "TAKEN@example.com", "password": GOOD_PASSWORD}, format="json"
    )
    assert by_email.status_code == 409
    assert by_email.json() == {
        "error": "An account with this email already exists.",
        "details": {"email": ["An account with this email already exists."]},
    }

    by_username = api_client.post(
        SIGNUP, {"email": "new@example.com", "password": GOOD_PASSWORD, "username": "Taken"}, format="json"
    )
    assert by_username.status_code == 409
    assert set(by_username.json()["details"]) == {"username"}
    assert User.objects.count() == 1


@pytest.mark.parametrize(
    ("fields", "bad_field"),
    [
        ({"password": "short"}, "password"),
        ({"password": "password123"}, "password"),
        ({"password": "12345678901"}, "password"),
        ({"email": "not-an-email"}, "email"),
        ({"email": "a" * 64 + "@" + ("b" * 63 + ".") * 3 + "com"}, "email"),  # valid form, too long
        ({"username": "has space"}, "username"),
        ({"name": "x" * 101}, "name"),
        ({"name": "nul\x00"}, "name"),
        ({"email": 42}, "email"),
        ({"password": ["a-long-unusual-passphrase"]}, "password"),
        ({"name": None}, "name"),
    ],
)
def test_bad_sign_up_input_is_400_with_field_messages(api_client, fields, bad_field):
    data = {"email": "new@example.com", "password": GOOD_PASSWORD} | fields
    response = api_client.post(SIGNUP, data, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["error"].startswith(f"{bad_field}: ")
    assert list(body["details"]) == [bad_field]
    assert not User.objects.exists()


def test_sign_up_requires_email_and_password(api_client):
    response = api_client.post(SIGNUP, {}, format="json")
    assert response.status_code == 400
    assert set(response.json()["details"]) == {"email", "password"}


def test_sign_in_returns_tokens_and_the_user(api_client, user):
    body = sign_in(api_client, user)
    assert set(body) == {"jwt", "refresh", "user"}
    assert body["user"] == {
        "id": user.pk,
        "email": user.email,
        "username": user.username,
        "name": user.name,
        "bio": user.bio,
        "image": user.image,
    }
    assert bearer(body["jwt"]).get(ME).json()["id"] == user.pk


def test_sign_in_gives_one_401_for_unknown_email_and_wrong_password(api_client, user):
    suspended = UserFactory()
    suspend_users(users=[suspended])
    attempts = [
        {"email": "nobody@example.com", "password": PASSWORD},
        {"email": user.email, "password": "not-the-password"},
        {"email": suspended.email, "password": "not-the-password"},  # reveals nothing
    ]
    responses = [api_client.post(SIGNIN, attempt, format="json") for attempt in attempts]
    assert [r.status_code for r in responses] == [401, 401, 401]
    assert all(r.json() == {"error": "Incorrect email or password."} for r in responses)
    assert all(r["WWW-Authenticate"].startswith("Bearer") for r in responses)


def test_a_suspended_member_with_the_right_password_is_told_the_account_is_suspended(api_client):
    suspended = UserFactory()
    suspend_users(users=[suspended])
    response = api_client.post(SIGNIN, {"email": suspended.email, "password": PASSWORD}, format="json")
    assert response.status_code == 401
    assert response.json()["error"].startswith("This account is suspended.")


def test_sign_in_email_is_case_insensitive(api_client, user):
    response = api_client.post(SIGNIN, {"email": user.email.upper(), "password": PASSWORD}, format="json")
    assert response.status_code == 200


@pytest.mark.parametrize(
    "body",
    [{"email": "a@example.com"}, {"email": 1, "password": "x"}, {"email": "a\x00@b.c", "password": "x"}],
)
def test_bad_sign_in_input_is_400(api_client, body):
    assert api_client.post(SIGNIN, body, format="json").status_code == 400


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer", "Bearer not-a-token", "Token abc", "Bearer a b"],
)
def test_me_without_a_valid_token_is_401(authorization):
    client = APIClient()
    if authorization:
        client.credentials(HTTP_AUTHORIZATION=authorization)
    response = client.get(ME)
    assert response.status_code == 401
    assert isinstance(response.json()["error"], str)


def test_an_expired_access_token_is_refused(user):
    token = AccessToken.for_user(user)
    token.set_exp(from_time=timezone.now() - timedelta(hours=1))
    response = bearer(str(token)).get(ME)
    assert response.status_code == 401
    assert response.json()["details"] == {"code": "token_not_valid"}


def test_a_refresh_token_is_not_an_access_token(api_client, user):
    tokens = sign_in(api_client, user)
    assert bearer(tokens["refresh"]).get(ME).status_code == 401


def test_refresh_rotates_and_the_old_token_stops_working(api_client, user):
    first = sign_in(api_client, user)

    response = api_client.post(REFRESH, {"refresh": first["refresh"]}, format="json")
    assert response.status_code == 200
    second = response.json()
    assert set(second) == {"jwt", "refresh"}
    assert second["refresh"] != first["refresh"]
    assert bearer(second["jwt"]).get(ME).status_code == 200

    reused = api_client.post(REFRESH, {"refresh": first["refresh"]}, format="json")
    assert reused.status_code == 401
    assert reused.json()["error"] == "Token is blacklisted"

    third = api_client.post(REFRESH, {"refresh": second["refresh"]}, format="json")
    assert third.status_code == 200


def test_refresh_ignores_a_stale_access_token_in_the_header(api_client, user):
    # Clients refresh exactly when their access token has expired, often still sending it.
    tokens = sign_in(api_client, user)
    expired = AccessToken.for_user(user)
    expired.set_exp(from_time=timezone.now() - timedelta(hours=1))
    response = bearer(str(expired)).post(REFRESH, {"refresh": tokens["refresh"]}, format="json")
    assert response.status_code == 200


def test_refresh_refuses_expired_wrong_type_and_garbage_tokens(api_client, user):
    expired = RefreshToken.for_user(user)
    expired.set_exp(from_time=timezone.now() - timedelta(days=30))
    access = str(AccessToken.for_user(user))
    for token in (str(expired), access, "garbage", ""):
        response = api_client.post(REFRESH, {"refresh": token}, format="json")
        assert response.status_code == (400 if token == "" else 401), token
    assert api_client.post(REFRESH, {}, format="json").status_code == 400


def test_sign_out_revokes_the_refresh_token(api_client, user):
    tokens = sign_in(api_client, user)

    response = api_client.post(SIGNOUT, {"refresh": tokens["refresh"]}, format="json")
    assert response.status_code == 204
    assert response.content == b""

    assert api_client.post(REFRESH, {"refresh": tokens["refresh"]}, format="json").status_code == 401
    assert api_client.post(SIGNOUT, {"refresh": tokens["refresh"]}, format="json").status_code == 401
    assert api_client.post(SIGNOUT, {"refresh": "garbage"}, format="json").status_code == 401


def test_a_suspended_users_tokens_stop_working_at_once(api_client, user):
    tokens = sign_in(api_client, user)
    suspend_users(users=[user])

    me = bearer(tokens["jwt"]).get(ME)
    assert me.status_code == 401
    assert api_client.post(REFRESH, {"refresh": tokens["refresh"]}, format="json").status_code == 401
    assert (
        api_client.post(SIGNIN, {"email": user.email, "password": PASSWORD}, format="json").status_code == 401
    )


def test_a_deactivated_or_deleted_users_refresh_token_is_refused(api_client, user, other_user):
    # Unticking "active" in the admin revokes nothing by itself; refresh still checks the account.
    deactivated = sign_in(api_client, user)
    user.is_active = False
    user.save(update_fields=["is_active"])
    response = api_client.post(REFRESH, {"refresh": deactivated["refresh"]}, format="json")
    assert response.status_code == 401
    assert response.json()["error"] == "No active account found for the given token."

    deleted = sign_in(api_client, other_user)
    other_user.delete()
    assert api_client.post(REFRESH, {"refresh": deleted["refresh"]}, format="json").status_code == 401
    assert bearer(deleted["jwt"]).get(ME).status_code == 401


def test_me_works_for_a_signed_in_browser_session(client, user):
    client.force_login(user)
    response = client.get(ME)
    assert response.status_code == 200
    assert response.json()["email"] == user.email
