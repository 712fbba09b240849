"""Cross-origin front ends call the RealWorld API from the origins in CORS_ALLOWED_ORIGINS;
no other origin is let in, and API v1 and the site never answer cross-origin (SPEC §7)."""

import pytest
from django.test import Client

from blog_project.tests.realworld.contract import RealWorldClient, check_answer
from posts.tests.factories import PostFactory

pytestmark = pytest.mark.django_db

FRONT_END = "http://localhost:4200"
OTHER_FRONT_END = "http://localhost:5173"
REFUSED = "https://elsewhere.example"


@pytest.fixture(autouse=True)
def allowed_origins(settings):
    settings.CORS_ALLOWED_ORIGINS = [FRONT_END, OTHER_FRONT_END]


def browser() -> Client:
    """A plain client (no token) that shares RealWorldClient's request handler."""
    return RealWorldClient().http


def preflight(path: str, origin: str, method: str = "POST"):
    return browser().options(
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )


def listed(header: str) -> set[str]:
    return {item.strip().lower() for item in header.split(",")}


@pytest.mark.parametrize(
    ("path", "method"),
    [
        ("/api/articles", "POST"),
        ("/api/user", "PUT"),
        ("/api/articles/some-story/comments/12", "DELETE"),
        ("/api/users/login", "POST"),
    ],
)
def test_a_preflight_from_an_allowed_origin_allows_the_methods_and_the_authorization_header(path, method):
    for origin in (FRONT_END, OTHER_FRONT_END):
        response = preflight(path, origin, method)
        assert response.status_code == 200
        assert response["Access-Control-Allow-Origin"] == origin
        assert {"get", "post", "put", "delete", "options"} <= listed(response["Access-Control-Allow-Methods"])
        assert {"authorization", "content-type"} <= listed(response["Access-Control-Allow-Headers"])
        assert int(response["Access-Control-Max-Age"]) > 0
        # Tokens travel in a header, never in cookies: credentials are not allowed.
        assert "Access-Control-Allow-Credentials" not in response


def test_cross_origin_answers_from_an_allowed_origin_carry_allow_origin_errors_included():
    post = PostFactory()
    front_end = RealWorldClient()
    origin = {"Origin": FRONT_END}
    listing = front_end.get("/articles", headers=origin)
    assert listing["articlesCount"] == 1
    assert front_end.last is not None
    assert front_end.last["Access-Control-Allow-Origin"] == FRONT_END
    assert "origin" in listed(front_end.last["Vary"])
    # A front end reads refusals too (Retry-After included).
    front_end.get("/user", 401, headers=origin)
    assert front_end.last["Access-Control-Allow-Origin"] == FRONT_END
    assert "retry-after" in listed(front_end.last["Access-Control-Expose-Headers"])
    front_end.get("/articles/{slug}", 404, slug=f"{post.slug}-gone", headers=origin)
    assert front_end.last["Access-Control-Allow-Origin"] == FRONT_END


def test_answers_to_a_refused_origin_carry_no_cors_headers():
    PostFactory()
    front_end = RealWorldClient()
    front_end.get("/articles", headers={"Origin": REFUSED})
    assert front_end.last is not None
    assert "Access-Control-Allow-Origin" not in front_end.last
    response = preflight("/api/articles", REFUSED)
    assert "Access-Control-Allow-Origin" not in response
    assert "Access-Control-Allow-Methods" not in response


def test_api_v1_and_the_site_never_answer_cross_origin_even_to_an_allowed_origin():
    PostFactory()
    for path in ("/api/v1/blog/bulk", "/api/v1/", "/"):
        response = browser().get(path, headers={"Origin": FRONT_END})
        assert response.status_code == 200, path
        assert "Access-Control-Allow-Origin" not in response, path
        asked = preflight(path, FRONT_END, "GET")
        assert "Access-Control-Allow-Origin" not in asked, path
        assert "Access-Control-Allow-Methods" not in asked, path
    assert browser().get("/api/v1/blog/bulk", headers={"Origin": FRONT_END}).json()["count"] == 1


def test_the_realworld_answer_to_a_cross_origin_request_is_the_documented_one():
    PostFactory(tags=["cors"])
    response = browser().get("/api/tags", headers={"Origin": FRONT_END})
    assert check_answer("get", "/tags", response) == {"tags": ["cors"]}
    assert response["Access-Control-Allow-Origin"] == FRONT_END
