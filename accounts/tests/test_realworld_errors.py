"""The RealWorld API's refusals on accounts (register, log in, the current user, profiles and
follows), each answer checked against the RealWorld OpenAPI document
(blog_project/tests/realworld): 401, 404, 409, 422 and 429, as {"errors": {...}}."""

import pytest

from accounts import services
from accounts.models import Follow, User
from accounts.tests.factories import PASSWORD, UserFactory
from blog_project.tests.realworld.contract import RealWorldClient, bad_authorizations, client_for

pytestmark = pytest.mark.django_db

# Operations on accounts that need a token, with what a valid call would send.
NEEDS_TOKEN = [
    ("get", "/user", {}),
    ("put", "/user", {"json_body": {"user": {"bio": "Hello."}}}),
    ("post", "/profiles/{username}/follow", {"username": "author"}),
    ("delete", "/profiles/{username}/follow", {"username": "author"}),
]


@pytest.fixture
def author(db) -> User:
    return UserFactory(username="author", email="author@example.com")


@pytest.mark.parametrize(("method", "template", "call"), NEEDS_TOKEN, ids=lambda value: str(value))
def test_operations_that_need_a_token_answer_401_without_a_valid_one(method, template, call, user, author):
    for authorization, message in bad_authorizations(user):
        answer = RealWorldClient().call(method, template, 401, authorization=authorization, **call)
        assert answer == {"errors": {"token": [message]}}, authorization
    user.refresh_from_db()
    assert (user.bio, Follow.objects.exists()) == ("", False)  # nothing changed


def test_reads_where_a_token_is_optional_read_a_bad_one_or_another_scheme_as_anyone(user, author):
    services.follow(follower=user, followed=author)
    anonymous = RealWorldClient()
    for authorization, _ in bad_authorizations(user):
        profile = anonymous.get("/profiles/{username}", username="author", authorization=authorization)
        assert profile["profile"]["following"] is False, authorization
    assert client_for(user).get("/profiles/{username}", username="author")["profile"]["following"] is True


def test_a_token_ends_with_a_password_change_sign_out_everywhere_and_suspension(user):
    member = client_for(user)
    changed = member.put("/user", json_body={"user": {"password": "a-new-and-long-passphrase"}})["user"]
    assert changed["token"] != member.token
    assert member.get("/user", 401) == {"errors": {"token": ["is invalid"]}}
    member = RealWorldClient(changed["token"])
    assert member.get("/user")["user"]["email"] == user.email
    new_login = {"email": user.email, "password": "a-new-and-long-passphrase"}
    assert RealWorldClient().post("/users/login", json_body={"user": new_login})["user"]["username"]

    user.refresh_from_db()  # the services change what they are given: give them the current account
    services.sign_out_everywhere(user=user)
    member.get("/user", 401)

    member = client_for(user)
    services.suspend_users(users=[user])
    member.get("/user", 401)
    refused = RealWorldClient().post("/users/login", 401, json_body={"user": new_login})
    assert refused == {"errors": {"credentials": ["belong to a suspended account"]}}


def test_log_in_refuses_wrong_credentials_and_bad_bodies(user):
    anonymous = RealWorldClient()
    wrong_password = {"email": user.email, "password": "not-the-password"}
    unknown_email = {"email": "no@example.com", "password": PASSWORD}
    for credentials in (wrong_password, unknown_email):
        assert anonymous.post("/users/login", 401, json_body={"user": credentials}) == {
            "errors": {"credentials": ["invalid"]}
        }
    bad_bodies = [
        ({}, {"user"}),
        ({"user": {}}, {"email", "password"}),
        ({"user": {"email": " ", "password": ""}}, {"email", "password"}),
        ({"user": {"email": 42, "password": [PASSWORD]}}, {"email", "password"}),
        ({"user": {"email": user.email, "password": None}}, {"password"}),
        ({"user": "me"}, {"body"}),
        ([], {"body"}),
    ]
    for body, fields in bad_bodies:
        assert set(anonymous.post("/users/login", 422, json_body=body)["errors"]) == fields, body
    malformed = anonymous.post("/users/login", 422, data="{'user': ")
    assert malformed == {"errors": {"body": ["is not valid JSON"]}}


def test_register_refuses_bad_bodies_weak_passwords_and_taken_names(author):
    anonymous = RealWorldClient()
    valid = {"username": "newcomer", "email": "newcomer@example.com", "password": PASSWORD}
    bad_bodies = [
        ({}, {"user"}),
        ({"user": {}}, {"username", "email", "password"}),
        ({"user": {"username": " ", "email": "", "password": ""}}, {"username", "email", "password"}),
        ({"user": {**valid, "username": 42, "email": None}}, {"username", "email"}),
        ({"user": {**valid, "email": "not-an-email"}}, {"email"}),
        ({"user": {**valid, "username": "no spaces!"}}, {"username"}),
        ({"user": {**valid, "username": "x" * 200}}, {"username"}),
        ({"user": {**valid, "password": "password"}}, {"password"}),
        ({"user": {**valid, "password": "12345678"}}, {"password"}),
        ({"user": {**valid, "password": "short"}}, {"password"}),
        ({"user": {**valid, "password": "newcomer"}}, {"password"}),  # like the username
    ]
    for body, fields in bad_bodies:
        assert set(anonymous.post("/users", 422, json_body=body)["errors"]) == fields, body
    assert anonymous.post("/users", 422, data="not json") == {"errors": {"body": ["is not valid JSON"]}}

    taken_email = anonymous.post("/users", 409, json_body={"user": {**valid, "email": "author@example.com"}})
    assert taken_email == {"errors": {"email": ["has already been taken"]}}
    taken_name = anonymous.post("/users", 409, json_body={"user": {**valid, "username": "AUTHOR"}})
    assert taken_name == {"errors": {"username": ["has already been taken"]}}
    assert not User.objects.filter(email="newcomer@example.com").exists()
    assert anonymous.post("/users", 201, json_body={"user": valid})["user"]["username"] == "newcomer"


def test_update_the_current_user_refuses_taken_names_and_bad_fields(user, author):
    member = client_for(user)
    assert member.put("/user", 409, json_body={"user": {"email": "author@example.com"}}) == {
        "errors": {"email": ["has already been taken"]}
    }
    assert member.put("/user", 409, json_body={"user": {"username": "Author"}}) == {
        "errors": {"username": ["has already been taken"]}
    }
    bad_bodies = [
        ({}, {"user"}),
        ({"user": {}}, {"user"}),
        ({"user": None}, {"user"}),
        ({"user": {"bio": 42}}, {"bio"}),
        ({"user": {"image": ["https://images.example.com/a.png"]}}, {"image"}),
        ({"user": {"image": "http://images.example.com/a.png"}}, {"image"}),
        ({"user": {"image": "javascript:alert(1)"}}, {"image"}),
        ({"user": {"email": "nope"}}, {"email"}),
        ({"user": {"email": None}}, {"email"}),
        ({"user": {"username": ""}}, {"username"}),
        ({"user": {"username": "no spaces!"}}, {"username"}),
        ({"user": {"password": "password"}}, {"password"}),
        ({"user": {"password": ""}}, {"password"}),
        # All or nothing: a good bio does not go through beside a bad email.
        ({"user": {"bio": "Changed.", "email": "nope"}}, {"email"}),
    ]
    for body, fields in bad_bodies:
        assert set(member.put("/user", 422, json_body=body)["errors"]) == fields, body
    member.put("/user", 422, data="{")
    user.refresh_from_db()
    assert (user.bio, user.email.startswith("writer")) == ("", True)
    # Its own names, in another case, are not taken.
    same_names = {"username": user.username.upper(), "email": user.email}
    assert member.put("/user", json_body={"user": same_names})["user"]["username"] == user.username.upper()


def test_profiles_and_follows_of_unknown_or_suspended_members_are_404_and_self_follow_is_422(user, author):
    member = client_for(user)
    for username in ("nobody", "author"):
        if username == "author":
            services.suspend_users(users=[author])
        not_found = {"errors": {"profile": ["not found"]}}
        assert RealWorldClient().get("/profiles/{username}", 404, username=username) == not_found
        assert member.post("/profiles/{username}/follow", 404, username=username) == not_found
    assert member.delete("/profiles/{username}/follow", 404, username="nobody") == not_found
    # A suspended member can still be unfollowed (accounts/tests/test_suspension_visibility.py).
    member.delete("/profiles/{username}/follow", 200, username="author")
    refused = member.post("/profiles/{username}/follow", 422, username=user.username)
    assert set(refused["errors"]) == {"username"}
    unfollowed = member.delete("/profiles/{username}/follow", 200, username=user.username)
    assert unfollowed["profile"]["following"] is False


def test_repeated_log_ins_are_429_with_retry_after(settings, user):
    settings.QUILL_AUTH_RATE = "3/minute"
    anonymous = RealWorldClient()
    wrong = {"email": user.email, "password": "not-the-password"}
    for _ in range(3):
        anonymous.post("/users/login", 401, json_body={"user": wrong})
    right = {"email": user.email, "password": PASSWORD}
    refused = anonymous.post("/users/login", 429, json_body={"user": right})
    assert set(refused["errors"]) == {"request"}
    assert anonymous.last is not None and 1 <= int(anonymous.last["Retry-After"]) <= 60
    # Registering counts against the same limit, per address.
    new_user = {"username": "late", "email": "late@example.com", "password": PASSWORD}
    anonymous.post("/users", 429, json_body={"user": new_user})
    assert anonymous.last is not None and int(anonymous.last["Retry-After"]) >= 1
