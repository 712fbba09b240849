"""QUILL_PASSWORD_POLICY: Django's validators by default; "length" (8 or more characters, as the
RealWorld reference back end) for deployments whose clients expect that. On every face."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import User
from blog_project import settings as production_settings
from blog_project.tests.realworld.contract import client_for
from blog_project.tests.test_settings import run_django

pytestmark = pytest.mark.django_db

# What the official RealWorld suite sends: refused as too common by Django's validators.
SUITE_PASSWORD = "password123"


@pytest.fixture
def length_policy(settings):
    settings.AUTH_PASSWORD_VALIDATORS = production_settings.PASSWORD_POLICIES["length"]


def register_everywhere(password: str) -> list[int]:
    """The status of a sign-up with `password` on each face: RealWorld, API v1, the page."""
    realworld = Client().post(
        "/api/users",
        {"user": {"username": "rw", "email": "rw@example.com", "password": password}},
        content_type="application/json",
    )
    v1 = APIClient().post(
        "/api/v1/user/signup", {"email": "v1@example.com", "password": password}, format="json"
    )
    page = Client().post(
        "/signup/", {"email": "page@example.com", "password": password, "name": "Page", "username": "page"}
    )
    return [realworld.status_code, v1.status_code, page.status_code]


def test_by_default_a_common_password_is_refused_on_every_face():
    assert register_everywhere(SUITE_PASSWORD) == [422, 400, 200]  # the page shows the form again
    assert not User.objects.exists()


@pytest.mark.usefixtures("length_policy")
def test_the_length_policy_takes_any_password_of_8_characters_on_every_face():
    assert register_everywhere(SUITE_PASSWORD) == [201, 201, 302]
    assert User.objects.count() == 3


@pytest.mark.usefixtures("length_policy")
@pytest.mark.parametrize(("password", "status"), [("bonjour1", 200), ("x" * 64, 200), ("bonjour", 422)])
def test_the_length_policy_on_a_realworld_password_change(user, password, status):
    client_for(user).put("/user", status, json_body={"user": {"password": password}})
    user.refresh_from_db()
    assert user.check_password(password) is (status == 200)


def test_by_default_a_simple_word_is_refused_as_a_new_password(user):
    client_for(user).put("/user", 422, json_body={"user": {"password": "bonjour1"}})


@pytest.mark.system
def test_the_setting_is_read_from_the_environment_and_a_typo_stops_the_start():
    show = ["shell", "-c", "from django.conf import settings; print(len(settings.AUTH_PASSWORD_VALIDATORS))"]
    base = {"DEBUG": "true"}
    assert run_django(show, **base).stdout.split()[-1] == "4"
    assert run_django(show, **base, QUILL_PASSWORD_POLICY="length").stdout.split()[-1] == "1"
    typo = run_django(["check"], **base, QUILL_PASSWORD_POLICY="lenght")
    assert typo.returncode != 0
    assert "QUILL_PASSWORD_POLICY must be one of: django, length" in typo.stderr
