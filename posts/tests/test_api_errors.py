"""The API's error contract: JSON {"error", "details"?} with the right status, never a 500."""

import json

import pytest
from django.test import Client

from posts.models import Post
from posts.tests.factories import PostFactory

pytestmark = pytest.mark.django_db

BODY_ROUTES = [
    ("post", "/api/v1/user/signup"),
    ("post", "/api/v1/user/signin"),
    ("post", "/api/v1/user/refresh"),
    ("post", "/api/v1/user/signout"),
    ("post", "/api/v1/blog"),
    ("put", "/api/v1/blog"),
    ("patch", "/api/v1/blog/{id}"),
    ("put", "/api/v1/blog/{id}"),
]


@pytest.fixture
def send(api_client_for, user):
    """Sends a raw body, as the author of a published post, to one of the routes taking a body."""
    post = PostFactory(author=user)
    client = api_client_for(user)

    def send(method: str, path: str, body: bytes | str, content_type: str = "application/json"):
        if method == "get":
            return client.get(path.format(id=post.pk))
        return getattr(client, method)(path.format(id=post.pk), body, content_type=content_type)

    return send


def assert_error(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert isinstance(body["error"], str) and body["error"]
    assert set(body) <= {"error", "details"}
    return body


@pytest.mark.parametrize(("method", "path"), BODY_ROUTES)
@pytest.mark.parametrize(
    "raw",
    ['{"title": ', "{'title': 'single quotes'}", "NaN", b"\xff\xfe not utf-8", "[" * 100_000],
    ids=["truncated", "single-quotes", "nan", "not-utf8", "nested-too-deep"],
)
def test_malformed_json_is_400(send, method, path, raw):
    body = assert_error(send(method, path, raw), 400)
    assert body["error"].startswith("Malformed request body")


@pytest.mark.parametrize(("method", "path"), BODY_ROUTES)
@pytest.mark.parametrize("raw", ["[]", '"x"', "null", "42", "true", '[{"title": "T"}]'])
def test_json_that_is_not_an_object_is_400(send, method, path, raw):
    assert_error(send(method, path, raw), 400)


@pytest.mark.parametrize(("method", "path"), BODY_ROUTES)
@pytest.mark.parametrize(
    ("raw", "content_type"),
    [
        ("title=T&content=c", "application/x-www-form-urlencoded"),
        ('{"title": "T", "content": "c"}', "text/plain"),
        ("<post/>", "application/xml"),
    ],
)
def test_bodies_that_are_not_json_are_415(send, method, path, raw, content_type):
    assert_error(send(method, path, raw, content_type), 415)


def test_nul_in_json_strings_is_400(send):
    body = assert_error(send("post", "/api/v1/blog", r'{"title": "nul \u0000", "content": "c"}'), 400)
    assert body["details"] == {"title": ["Null characters are not allowed."]}
    assert Post.objects.count() == 1  # the fixture's


@pytest.mark.parametrize(("method", "path"), BODY_ROUTES)
@pytest.mark.parametrize(
    "raw",
    [
        r'{"email": "\ud800", "title": "T", "content": "c"}',
        r'{"password": "x\udfff", "refresh": "\udc00"}',
        r'{"tags": ["ok", "\ud83d"], "published": "\ud800"}',
        r'{"\ud800": 1}',
        r'[[[{"deep": ["\ud800"]}]]]',
    ],
)
def test_lone_surrogates_are_400_as_invalid_unicode(send, method, path, raw):
    body = assert_error(send(method, path, raw), 400)
    assert "not valid Unicode" in body["error"]


def test_surrogate_pairs_are_fine(send):
    response = send("post", "/api/v1/blog", r'{"title": "Smile \ud83d\ude00", "content": "c"}')
    assert response.status_code == 201
    assert response.json()["post"]["title"] == "Smile \N{GRINNING FACE}"


def test_bodies_over_1_mib_are_413(send):
    raw = json.dumps({"title": "Big", "content": "x" * (1024 * 1024)})
    body = assert_error(send("post", "/api/v1/blog", raw), 413)
    assert "1024 KiB" in body["error"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/user/signup"),
        ("get", "/api/v1/user/signin"),
        ("put", "/api/v1/user/refresh"),
        ("get", "/api/v1/user/signout"),
        ("post", "/api/v1/user/me"),
        ("get", "/api/v1/blog"),
        ("delete", "/api/v1/blog"),
        ("post", "/api/v1/blog/bulk"),
        ("delete", "/api/v1/blog/bulk"),
        ("post", "/api/v1/blog/{id}"),
    ],
)
def test_methods_a_route_does_not_have_are_405(send, method, path):
    body = assert_error(send(method, path, "{}"), 405)
    assert method.upper() in body["error"]


@pytest.mark.parametrize("path", ["/api/v1/nothing", "/api/v1/blog/1/2", "/api/v1/user/", "/api/v1/blog/"])
def test_unknown_api_v1_paths_are_json_404(path):
    for method in ("get", "post"):
        assert_error(getattr(Client(), method)(path), 404)


@pytest.mark.parametrize("path", ["/api/", "/api/v2/blog", "/api/nothing"])
def test_other_unknown_api_paths_are_404_in_the_realworld_apis_shape(path):
    # The RealWorld API owns the rest of /api/ (SPEC 7).
    for method in ("get", "post"):
        response = getattr(Client(), method)(path)
        assert response.status_code == 404
        assert response.json() == {"errors": {"resource": ["not found"]}}


@pytest.mark.parametrize(("method", "path"), [*BODY_ROUTES, ("get", "/api/v1/blog/bulk")])
def test_options_describe_a_route(send, method, path):
    response = send("options", path, "")
    assert response.status_code == 200
    assert "name" in response.json()


ROUTE_FIELDS = {
    ("post", "/api/v1/user/signup"): ["email", "password", "name", "username"],
    ("post", "/api/v1/user/signin"): ["email", "password"],
    ("post", "/api/v1/user/refresh"): ["refresh"],
    ("post", "/api/v1/user/signout"): ["refresh"],
    ("post", "/api/v1/blog"): ["title", "content", "published", "tags"],
    ("put", "/api/v1/blog"): ["id", "title", "content", "published", "tags"],
    ("patch", "/api/v1/blog/{id}"): ["title", "content", "published", "tags"],
}
ODD_VALUES: list[object] = [
    None,
    0,
    -1.5,
    True,
    [],
    {},
    "",
    " ",
    "\x00",
    "x" * 300,
    ["\x00"],
    [None],
    [[]],
    {"k": "v"},
    10**30,
]


@pytest.mark.parametrize(("method", "path"), ROUTE_FIELDS)
def test_no_field_value_breaks_a_route(send, user, settings, method, path):
    settings.QUILL_AUTH_RATE = "1000/minute"  # many attempts from one client, on purpose
    valid = {"email": user.email, "password": "a-long-unusual-passphrase", "title": "T", "content": "c"}
    for field in ROUTE_FIELDS[method, path]:
        for value in ODD_VALUES:
            response = send(method, path, json.dumps(valid | {field: value}))
            assert response.status_code in {200, 201, 400, 401, 404, 409}, (field, value, response.content)
            assert response.status_code < 300 or "error" in response.json()
