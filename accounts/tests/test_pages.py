"""Sign-up, sign-in and sign-out pages: where visitors land, what they are told, what is refused."""

import re

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client, override_settings

from accounts.models import User
from accounts.tests.factories import PASSWORD

pytestmark = pytest.mark.django_db
GOOD_PASSWORD = "a-long-unusual-passphrase"
WRONG_CREDENTIALS = "That email and password do not match an account."


def text_of(response) -> str:
    return response.content.decode()


def signed_in_user_id(client: Client) -> str | None:
    return client.session.get(SESSION_KEY)


# --- Sign up ------------------------------------------------------------------------------


def test_the_sign_up_page_has_the_form(client):
    response = client.get("/signup/")
    assert response.status_code == 200
    html = text_of(response)
    assert "<title>Create your account · Quill</title>" in html
    for field in ("name", "email", "username", "password"):
        assert f'name="{field}"' in html
    assert 'name="csrfmiddlewaretoken"' in html


def test_signing_up_creates_the_account_and_signs_in(client):
    response = client.post(
        "/signup/", {"name": "Ada", "email": "Ada@Example.com", "username": "", "password": GOOD_PASSWORD}
    )
    assert response.status_code == 302 and response["Location"] == "/"
    user = User.objects.get()
    assert (user.email, user.username, user.name) == ("ada@example.com", "ada", "Ada")
    assert signed_in_user_id(client) == str(user.pk)


def test_signing_up_returns_to_where_the_visitor_was_going(client):
    response = client.post("/signup/?next=/write/", {"email": "new@example.com", "password": GOOD_PASSWORD})
    assert response["Location"] == "/write/"


def test_sign_up_problems_are_shown_next_to_the_fields_and_the_input_is_kept(client):
    response = client.post(
        "/signup/", {"name": "Bo", "email": "bo@example.com", "username": "bad name", "password": "12345678"}
    )
    assert response.status_code == 200
    html = text_of(response)
    assert "Use only letters, digits and underscores in a username." in html
    assert "This password is entirely numeric." in html
    assert 'value="bo@example.com"' in html and 'value="bad name"' in html
    assert "12345678" not in html  # a password is never echoed back
    assert not User.objects.exists()


def test_a_taken_email_or_username_is_reported(client, user):
    response = client.post(
        "/signup/", {"email": user.email.upper(), "username": user.username, "password": GOOD_PASSWORD}
    )
    assert response.status_code == 200
    assert "An account with this email already exists." in text_of(response)
    assert "This username is taken." in text_of(response)
    assert User.objects.count() == 1


# --- Sign in ------------------------------------------------------------------------------


def test_the_sign_in_page_has_the_form(client):
    html = text_of(client.get("/signin/"))
    assert "<title>Sign in · Quill</title>" in html
    assert 'name="email"' in html and 'name="password"' in html and 'name="csrfmiddlewaretoken"' in html


def test_signing_in_goes_home_by_default(client, user):
    response = client.post("/signin/", {"email": user.email.upper(), "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/"
    assert signed_in_user_id(client) == str(user.pk)


def test_signing_in_returns_to_where_the_visitor_was_going(client, user):
    page = client.get("/signin/?next=/me/stories/")
    assert '<input type="hidden" name="next" value="/me/stories/">' in text_of(page)

    response = client.post("/signin/?next=/me/stories/", {"email": user.email, "password": PASSWORD})
    assert response["Location"] == "/me/stories/"

    client.logout()
    response = client.post("/signin/", {"email": user.email, "password": PASSWORD, "next": "/write/"})
    assert response["Location"] == "/write/"


def test_a_protected_page_sends_the_visitor_through_sign_in_and_back(client, user):
    to_signin = client.get("/me/stories/")
    assert to_signin["Location"] == "/signin/?next=/me/stories/"
    back = client.post(to_signin["Location"], {"email": user.email, "password": PASSWORD})
    assert back["Location"] == "/me/stories/"
    assert client.get(back["Location"]).status_code == 200


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "http://testserver.evil.example/",
        "/\\evil.example/",
        "javascript:alert(1)",
        "https:///evil.example/",
    ],
)
def test_signing_in_never_redirects_off_site(client, user, target):
    page = client.get("/signin/", {"next": target})
    assert 'name="next"' not in text_of(page)  # the form does not carry it along

    response = client.post("/signin/", {"email": user.email, "password": PASSWORD, "next": target})
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_the_header_sign_in_link_remembers_the_current_page(client, user):
    html = text_of(client.get(f"/@{user.username}/"))
    assert f'href="/signin/?next=/%40{user.username}/"' in html


def test_wrong_credentials_get_one_message_whatever_was_wrong(client, user):
    for email, password in ((user.email, "wrong-password"), ("nobody@example.com", PASSWORD)):
        response = client.post("/signin/", {"email": email, "password": password})
        assert response.status_code == 200
        assert WRONG_CREDENTIALS in text_of(response)
        assert f'value="{email}"' in text_of(response)
        assert signed_in_user_id(client) is None


def test_a_suspended_user_is_told_so_but_only_with_the_right_password(client, user):
    user.is_active = False
    user.save()
    response = client.post("/signin/", {"email": user.email, "password": PASSWORD})
    assert "This account is suspended." in text_of(response)
    assert signed_in_user_id(client) is None
    wrong = client.post("/signin/", {"email": user.email, "password": "not-the-password"})
    assert WRONG_CREDENTIALS in text_of(wrong) and "suspended" not in text_of(wrong)


@override_settings(QUILL_AUTH_RATE="3/minute")
def test_too_many_sign_in_attempts_get_429_with_the_form_and_retry_after(client, user):
    for _ in range(3):
        assert client.post("/signin/", {"email": user.email, "password": "wrong"}).status_code == 200

    response = client.post("/signin/", {"email": user.email, "password": PASSWORD})

    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 60
    html = text_of(response)
    assert "Too many attempts from here. Please wait" in html
    assert 'name="password"' in html and f'value="{user.email}"' in html
    assert signed_in_user_id(client) is None  # even the right password waits


@override_settings(QUILL_AUTH_RATE="3/minute")
def test_too_many_sign_up_attempts_get_429(client):
    for number in range(3):
        client.post("/signup/", {"email": f"bad{number}@example.com", "password": "short"})
    response = client.post("/signup/", {"email": "fine@example.com", "password": GOOD_PASSWORD})
    assert response.status_code == 429
    assert "Retry-After" in response
    assert not User.objects.exists()


# --- Sign out -----------------------------------------------------------------------------


def test_sign_out_is_a_button_that_posts(client, user):
    client.force_login(user)
    html = text_of(client.get("/"))
    assert re.search(
        r'<form class="inline-form" action="/signout/" method="post">\s*<input type="hidden"', html
    )


def test_signing_out_needs_a_post(client, user):
    client.force_login(user)

    response = client.get("/signout/")
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert signed_in_user_id(client) == str(user.pk)

    response = client.post("/signout/")
    assert response.status_code == 302 and response["Location"] == "/"
    assert signed_in_user_id(client) is None


# --- CSRF and headers ---------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/signin/", "/signup/", "/signout/"])
def test_account_forms_refuse_a_post_without_the_csrf_token(user, path):
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(user)
    response = csrf_client.post(path, {"email": user.email, "password": PASSWORD})
    assert response.status_code == 403
    assert "This form has expired or came from another site." in text_of(response)
    assert signed_in_user_id(csrf_client) == str(user.pk)  # not signed out either


def test_signing_in_works_with_the_csrf_token_the_form_carries(user):
    csrf_client = Client(enforce_csrf_checks=True)
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', text_of(csrf_client.get("/signin/")))
    assert match is not None
    token = match[1]
    response = csrf_client.post(
        "/signin/", {"csrfmiddlewaretoken": token, "email": user.email, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert signed_in_user_id(csrf_client) == str(user.pk)


@pytest.mark.parametrize("path", ["/signin/", "/signup/"])
def test_account_pages_carry_the_security_headers(client, path):
    response = client.get(path)
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"
