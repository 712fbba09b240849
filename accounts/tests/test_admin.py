"""Moderation of accounts in /admin/: find users, suspend them, add and edit them by email."""

import re

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import Client, override_settings

from accounts.models import User
from accounts.services import issue_tokens, rotate_refresh_token
from accounts.tests.factories import UserFactory
from faces.api.v1 import FACE as V1
from kernel.exceptions import InvalidToken

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/accounts/user/"


def listed_emails(response) -> list[str]:
    return re.findall(r'<th class="field-email"><a href="[^"]+">([^<]+)</a>', response.content.decode())


def test_users_are_listed_with_their_details(moderator_client, user):
    response = moderator_client.get(CHANGELIST)
    assert response.status_code == 200
    html = response.content.decode()
    assert user.email in listed_emails(response)
    for column in ("username", "name", "is_active", "is_staff", "date_joined"):
        assert f"column-{column}" in html
    assert user.username in html and user.name in html


@pytest.mark.parametrize("query", ["kestrel@", "kestrel_k", "Kes Trel"])
def test_users_can_be_searched_by_email_username_and_name(moderator_client, query):
    UserFactory(email="kestrel@example.com", username="kestrel_k", name="Kes Trel")
    UserFactory(email="other@example.com", username="other", name="Someone")
    assert listed_emails(moderator_client.get(CHANGELIST, {"q": query})) == ["kestrel@example.com"]


def test_suspending_selected_users_blocks_them_and_their_api_tokens(moderator_client, user, other_user):
    tokens = issue_tokens(user=user, face=V1.name)

    response = moderator_client.post(
        CHANGELIST, {"action": "suspend_selected", ACTION_CHECKBOX_NAME: [user.pk]}, follow=True
    )

    assert "Suspended 1 user;" in response.content.decode()
    user.refresh_from_db()
    other_user.refresh_from_db()
    assert not user.is_active and other_user.is_active
    with pytest.raises(InvalidToken):
        rotate_refresh_token(refresh=tokens.refresh, face=V1.name)
    me = Client().get("/api/v1/user/me", HTTP_AUTHORIZATION=f"Bearer {tokens.access}")
    assert me.status_code == 401


def test_a_moderator_cannot_suspend_themselves(moderator_client, moderator, user):
    response = moderator_client.post(
        CHANGELIST, {"action": "suspend_selected", ACTION_CHECKBOX_NAME: [moderator.pk, user.pk]}, follow=True
    )
    assert "You cannot suspend your own account." in response.content.decode()
    moderator.refresh_from_db()
    user.refresh_from_db()
    assert moderator.is_active and not user.is_active


def test_a_user_is_added_by_email_with_a_derived_username(moderator_client):
    response = moderator_client.post(
        "/admin/accounts/user/add/",
        {
            "email": "New.Person@Example.com",
            "username": "",
            "name": "New Person",
            "usable_password": "true",
            "password1": "a-long-unusual-passphrase",
            "password2": "a-long-unusual-passphrase",
        },
    )
    assert response.status_code == 302, response.content.decode()
    created = User.objects.get(email="new.person@example.com")
    assert created.username == "new_person"
    assert created.check_password("a-long-unusual-passphrase")


def test_adding_a_user_with_a_taken_email_is_refused(moderator_client, user):
    response = moderator_client.post(
        "/admin/accounts/user/add/",
        {
            "email": user.email.upper(),
            "usable_password": "true",
            "password1": "a-long-unusual-passphrase",
            "password2": "a-long-unusual-passphrase",
        },
    )
    assert response.status_code == 200
    assert "User with this Email address already exists." in response.content.decode()


def test_a_user_is_changed_and_unticking_active_revokes_their_tokens(moderator_client, user):
    tokens = issue_tokens(user=user, face=V1.name)
    page = moderator_client.get(f"/admin/accounts/user/{user.pk}/change/")
    assert page.status_code == 200

    response = moderator_client.post(
        f"/admin/accounts/user/{user.pk}/change/",
        {
            "email": user.email,
            "username": user.username,
            "name": "Renamed",
            "bio": "",
            "is_active": "",
            "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
            "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
        },
    )

    assert response.status_code == 302, response.content.decode()
    user.refresh_from_db()
    assert (user.name, user.is_active) == ("Renamed", False)
    with pytest.raises(InvalidToken):
        rotate_refresh_token(refresh=tokens.refresh, face=V1.name)


def test_the_user_list_uses_a_fixed_number_of_queries(moderator_client, django_assert_max_num_queries):
    UserFactory.create_batch(15)
    with django_assert_max_num_queries(8):
        response = moderator_client.get(CHANGELIST)
    assert len(listed_emails(response)) == 16


def test_suspended_users_can_be_reinstated(moderator_client, user):
    user.is_active = False
    user.save(update_fields=["is_active"])
    response = moderator_client.post(
        CHANGELIST, {"action": "reinstate_selected", ACTION_CHECKBOX_NAME: [user.pk]}, follow=True
    )
    assert "Reinstated 1 user; they can sign in again." in response.content.decode()
    user.refresh_from_db()
    assert user.is_active


def test_unticking_active_on_ones_own_account_is_refused(moderator_client, moderator):
    response = moderator_client.post(
        f"/admin/accounts/user/{moderator.pk}/change/",
        {
            "email": moderator.email,
            "username": moderator.username,
            "name": "",
            "bio": "",
            "is_active": "",
            "is_staff": "on",
            "is_superuser": "on",
            "date_joined_0": moderator.date_joined.strftime("%Y-%m-%d"),
            "date_joined_1": moderator.date_joined.strftime("%H:%M:%S"),
        },
        follow=True,
    )
    assert "You cannot suspend your own account." in response.content.decode()
    moderator.refresh_from_db()
    assert moderator.is_active


ADMIN_LOGIN = "/admin/login/"


def test_the_admin_sign_in_works_for_moderators(client, moderator):
    response = client.post(
        ADMIN_LOGIN, {"username": moderator.email.upper(), "password": "moderator-pass-2026"}
    )
    assert response.status_code == 302
    assert client.get(CHANGELIST).status_code == 200


@override_settings(QUILL_AUTH_RATE="3/minute")
def test_the_admin_sign_in_is_rate_limited_like_the_sites(client, moderator):
    for attempt in range(3):
        wrong = client.post(ADMIN_LOGIN, {"username": moderator.email, "password": f"guess-{attempt}"})
        assert "Please enter the correct" in wrong.content.decode()
    refused = client.post(ADMIN_LOGIN, {"username": moderator.email, "password": "moderator-pass-2026"})
    assert "Too many attempts from here. Please wait" in refused.content.decode()
    assert client.get(CHANGELIST).status_code == 302  # still signed out
