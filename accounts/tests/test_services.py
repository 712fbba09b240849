"""Account rules in accounts.services: sign-up, usernames, password storage, suspension."""

import pytest
from django.core.exceptions import ValidationError
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts import services
from accounts.models import User
from accounts.tests.factories import PASSWORD
from faces.api.v1 import FACE as V1
from kernel.exceptions import Conflict, Suspended

pytestmark = pytest.mark.django_db
GOOD_PASSWORD = "a-long-unusual-passphrase"
IP = "192.0.2.1"


@pytest.mark.usefixtures("production_password_hashers")
def test_sign_up_derives_a_username_from_the_email_and_hashes_with_argon2():
    user = services.sign_up(ip=IP, email="Ada.Lovelace@Example.com", password=GOOD_PASSWORD, name="Ada")
    assert user.email == "ada.lovelace@example.com"
    assert user.username == "ada_lovelace"
    assert user.password.startswith("argon2$")
    assert GOOD_PASSWORD not in user.password
    assert user.check_password(GOOD_PASSWORD)


def test_derived_usernames_stay_unique():
    first = services.sign_up(ip=IP, email="sam@one.example", password=GOOD_PASSWORD)
    second = services.sign_up(ip=IP, email="SAM@two.example", password=GOOD_PASSWORD)
    assert first.username == "sam"
    assert second.username.startswith("sam_") and second.username != "sam"


def test_email_and_username_conflicts_are_reported_per_field():
    services.sign_up(ip=IP, email="taken@example.com", password=GOOD_PASSWORD, username="Taken")
    with pytest.raises(Conflict) as conflict:
        services.sign_up(ip=IP, email="TAKEN@example.com", password=GOOD_PASSWORD, username="taken")
    assert set(conflict.value.errors) == {"email", "username"}
    assert User.objects.count() == 1


@pytest.mark.parametrize(
    ("fields", "bad_field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"password": "short"}, "password"),
        ({"password": "12345678901"}, "password"),
        ({"password": "password123"}, "password"),
        ({"email": "marguerite@example.com", "password": "marguerite1"}, "password"),
        ({"username": "has space"}, "username"),
        ({"username": "x" * 31}, "username"),
    ],
)
def test_bad_sign_up_input_is_refused_with_field_messages(fields, bad_field):
    data = {"email": "new@example.com", "password": GOOD_PASSWORD} | fields
    with pytest.raises(ValidationError) as error:
        services.sign_up(ip=IP, **data)
    assert bad_field in error.value.message_dict
    assert not User.objects.exists()


def test_sign_in_gives_the_same_answer_for_unknown_email_and_wrong_password():
    services.sign_up(ip=IP, email="reader@example.com", password=GOOD_PASSWORD)
    assert services.sign_in(ip=IP, email="READER@example.com", password=GOOD_PASSWORD) is not None
    assert services.sign_in(ip=IP, email="reader@example.com", password="wrong-password") is None
    assert services.sign_in(ip=IP, email="nobody@example.com", password=GOOD_PASSWORD) is None


def test_suspending_a_user_blocks_sign_in_and_revokes_refresh_tokens(user):
    services.issue_tokens(user=user, face=V1.name)
    services.issue_tokens(user=user, face=V1.name)
    assert services.suspend_users(users=[user]).suspended == 1
    user.refresh_from_db()
    assert not user.is_active
    outstanding = OutstandingToken.objects.filter(user=user)
    assert outstanding.count() == 2
    assert BlacklistedToken.objects.filter(token__in=outstanding).count() == 2
    with pytest.raises(Suspended):
        services.sign_in(ip=IP, email=user.email, password=PASSWORD)
    assert services.sign_in(ip=IP, email=user.email, password="a-wrong-guess") is None
