"""Each API accepts only the tokens it issued, and a bad token on a public read counts as none.

API v1's tokens live 15 minutes and are refreshed; RealWorld's live for days and may change the
email and password without the current one (its contract). Either standing in for the other
would widen what a stolen token can do.
"""

from datetime import timedelta

import pytest
from django.test import Client
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import User
from accounts.services import issue_access_token, issue_tokens
from accounts.tests.factories import PASSWORD
from blog_project.tests.realworld.contract import RealWorldClient, client_for, token_for
from faces.api.realworld import FACE as REALWORLD
from faces.api.v1 import FACE as V1
from posts.tests.factories import PostFactory

pytestmark = pytest.mark.django_db

ME = "/api/v1/user/me"


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def test_a_realworld_token_is_no_bearer_token_for_api_v1(user):
    assert bearer(token_for(user)).get(ME).status_code == 401
    response = bearer(issue_tokens(user=user, face=V1.name).access).get(ME)
    assert response.status_code == 200
    assert response.json()["email"] == user.email


def test_an_api_v1_token_cannot_change_the_account_through_realworld(user):
    v1_token = issue_tokens(user=user, face=V1.name).access
    stranger = RealWorldClient(v1_token)
    change = {"user": {"email": "thief@example.com", "password": "a-thiefs-long-passphrase"}}
    assert stranger.put("/user", 401, json_body=change) == {"errors": {"token": ["is invalid"]}}
    user.refresh_from_db()
    assert user.email != "thief@example.com"
    assert user.check_password(PASSWORD)


def test_a_token_that_names_no_face_is_refused_everywhere(user):
    unmarked = AccessToken.for_user(user)  # as issued before tokens named their face
    assert bearer(str(unmarked)).get(ME).status_code == 401
    assert RealWorldClient(str(unmarked)).get("/user", 401) == {"errors": {"token": ["is invalid"]}}


def test_an_api_v1_refresh_token_from_realworld_cannot_be_refreshed(user):
    # RealWorld issues no refresh tokens; a v1 refresh token works, and only on v1.
    pair = issue_tokens(user=user, face=V1.name)
    refreshed = APIClient().post("/api/v1/user/refresh", {"refresh": pair.refresh}, format="json")
    assert refreshed.status_code == 200
    foreign = issue_tokens(user=user, face=REALWORLD.name)
    refused = APIClient().post("/api/v1/user/refresh", {"refresh": foreign.refresh}, format="json")
    assert refused.status_code == 401


def test_a_new_email_through_realworld_ends_every_other_session_and_token(user):
    member = client_for(user)
    other_device = client_for(user)
    v1_client = bearer(issue_tokens(user=user, face=V1.name).access)
    browser = Client()
    browser.force_login(user)
    assert browser.get("/settings/").status_code == 200

    changed = member.put("/user", json_body={"user": {"email": "new@example.com"}})["user"]

    assert changed["email"] == "new@example.com"
    assert RealWorldClient(changed["token"]).get("/user")["user"]["email"] == "new@example.com"
    assert other_device.get("/user", 401) == {"errors": {"token": ["is invalid"]}}
    assert v1_client.get(ME).status_code == 401
    assert browser.get("/settings/").status_code == 302  # signed out: off to the sign-in page


def test_sending_the_same_email_back_signs_nobody_out(user):
    # RealWorld front ends send the whole settings form, email included, to change a bio.
    member = client_for(user)
    other_device = client_for(user)
    answer = member.put("/user", json_body={"user": {"email": user.email.upper(), "bio": "Hi."}})["user"]
    assert answer["bio"] == "Hi."
    assert other_device.get("/user")["user"]["bio"] == "Hi."


@pytest.mark.parametrize(
    "authorization",
    ["Bearer not-a-jwt", "Bearer", "Bearer a b", "expired", "other face", "stale"],
)
def test_api_v1_public_reads_treat_a_bad_token_as_none_and_writes_still_refuse_it(user, authorization):
    open_post = PostFactory(title="Open to all")
    other = User.objects.create_user(email="other@example.com", password=PASSWORD)
    if authorization == "expired":
        authorization = (
            f"Bearer {issue_access_token(user=other, lifetime=timedelta(seconds=-1), face=V1.name)}"
        )
    elif authorization == "other face":
        authorization = f"Bearer {token_for(other)}"
    elif authorization == "stale":
        stale = issue_tokens(user=other, face=V1.name).access
        User.objects.filter(pk=other.pk).update(credentials_version=other.credentials_version + 1)
        authorization = f"Bearer {stale}"
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=authorization)

    listed = client.get("/api/v1/blog/bulk")
    assert listed.status_code == 200
    assert [post["title"] for post in listed.json()["posts"]] == ["Open to all"]
    assert client.get(f"/api/v1/blog/{open_post.pk}").status_code == 200

    assert client.get(ME).status_code == 401
    created = client.post("/api/v1/blog", {"title": "Sneaky", "content": "x"}, format="json")
    assert created.status_code == 401
