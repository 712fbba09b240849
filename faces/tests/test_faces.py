"""Faces coexist: two API faces with different auth schemes and error envelopes share the
/api/ prefix family, and neither leaks into the other (nor into the pages)."""

import pytest
from django.test import Client

from accounts.services import issue_tokens
from blog_project.tests.throwaway_face import FACE as THROWAWAY
from faces.api.v1 import FACE as V1
from faces.registry import STATUS_OF, status_of
from kernel import exceptions

pytestmark = [pytest.mark.django_db, pytest.mark.urls("blog_project.tests.throwaway_face")]


@pytest.fixture
def access(user) -> str:
    """A token the throwaway face issued."""
    return issue_tokens(user=user, face=THROWAWAY.name).access


def test_each_face_reads_only_its_own_auth_scheme_and_tokens(client: Client, user, access):
    token = client.get("/api/throwaway/whoami", HTTP_AUTHORIZATION=f"Token {access}")
    assert token.status_code == 200
    assert token.json() == {"user": {"username": user.username}}
    v1_access = issue_tokens(user=user, face=V1.name).access
    bearer = client.get("/api/v1/user/me", HTTP_AUTHORIZATION=f"Bearer {v1_access}")
    assert bearer.status_code == 200

    # Each face's scheme means nothing to the other: 401 in the other face's own envelope.
    bearer_on_token_face = client.get("/api/throwaway/whoami", HTTP_AUTHORIZATION=f"Bearer {v1_access}")
    assert bearer_on_token_face.status_code == 401
    assert set(bearer_on_token_face.json()) == {"errors"}
    token_on_bearer_face = client.get("/api/v1/user/me", HTTP_AUTHORIZATION=f"Token {v1_access}")
    assert token_on_bearer_face.status_code == 401
    assert set(token_on_bearer_face.json()) == {"error"}
    assert token_on_bearer_face["WWW-Authenticate"].startswith("Bearer ")
    # Nor does one face take the other's tokens under its own scheme.
    assert client.get("/api/v1/user/me", HTTP_AUTHORIZATION=f"Bearer {access}").status_code == 401
    assert client.get("/api/throwaway/whoami", HTTP_AUTHORIZATION=f"Token {v1_access}").status_code == 401


def test_each_face_maps_the_cores_refusals_in_its_own_envelope(client: Client, access):
    auth = {"Authorization": f"Token {access}"}
    missing = client.get("/api/throwaway/profiles/nobody", headers=auth)
    assert missing.status_code == 404
    assert missing.json() == {"errors": {"body": ["No such author."]}}

    invalid = client.post("/api/throwaway/profiles/nobody", {}, content_type="application/json", headers=auth)
    assert invalid.status_code == 422
    assert invalid.json() == {"errors": {"bio": ["can't be blank"]}}

    v1_missing = client.get("/api/v1/blog/00000000-0000-0000-0000-000000000000")
    assert v1_missing.status_code == 404
    assert v1_missing.json() == {"error": "No such story."}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/api/throwaway/no-such-route", {"errors": {"body": ["Nothing at this address."]}}),
        ("/api/v1/no-such-route", {"error": "Not found."}),
        ("/api/no-such-route", {"errors": {"resource": ["not found"]}}),
    ],
)
def test_unknown_paths_answer_in_the_envelope_of_the_face_that_owns_them(client: Client, path, expected):
    response = client.get(path)
    assert response.status_code == 404
    assert response.json() == expected


def test_paths_no_face_claims_get_the_friendly_page(client: Client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert "There is nothing here." in response.content.decode()


def test_a_body_too_large_is_refused_in_the_owning_faces_envelope(client: Client, settings, access):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    body = "x" * 2048
    token_face = client.post("/api/throwaway/whoami", body, content_type="application/json")
    assert token_face.status_code == 413
    assert token_face.json() == {"errors": {"body": ["The request body is larger than 1 KiB."]}}
    v1 = client.post("/api/v1/blog", body, content_type="application/json")
    assert v1.status_code == 413
    assert v1.json() == {"error": "The request body is larger than 1 KiB."}


@pytest.mark.parametrize(
    ("path", "envelope"),
    [("/", None), ("/signin/", None), ("/api/v1/blog/bulk", "error"), ("/api/throwaway/whoami", "errors")],
)
def test_a_host_that_is_not_allowed_gets_400_in_the_owning_faces_envelope(path, envelope):
    response = Client(raise_request_exception=False).get(path, HTTP_HOST="evil.example")
    assert response.status_code == 400
    if envelope is None:
        assert "The request could not be understood." in response.content.decode()
    else:
        assert set(response.json()) == {envelope}


def test_every_refusal_of_the_core_has_a_status_in_every_face():
    refusals = [
        exceptions.NotFound(),
        exceptions.NotAllowed(),
        exceptions.Suspended(),
        exceptions.Conflict({"email": "taken"}),
        exceptions.InvalidToken(),
        exceptions.RateLimited(retry_after=3),
        exceptions.TooLarge(),
        exceptions.StaleWrite(current=None),
    ]
    assert {type(refusal) for refusal in refusals} >= set(STATUS_OF)
    assert [status_of(refusal) for refusal in refusals] == [404, 403, 403, 409, 401, 429, 413, 409]
