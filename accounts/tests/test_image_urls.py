"""The image addresses members give (accounts.uploads.clean_image_url), and a profile's
`image` on each face that takes one: API v1's PATCH /api/v1/user/me and the RealWorld API's
PUT /api/user. (The pages set the avatar by upload only: their profile form has no address
field.) Covers are in posts/tests/test_cover_urls.py."""

import pytest
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient

from accounts import uploads
from accounts.models import Upload, User
from accounts.services import issue_tokens
from accounts.tests import images
from blog_project.tests.realworld.contract import client_for
from faces.api.v1 import FACE as V1

pytestmark = pytest.mark.django_db
ME = "/api/v1/user/me"
NO_UPLOAD = "/media/uploads/2026/11/AAAAAAAAAAAAAAAAAAAAAA.png"  # well-formed, but no upload has it

# Refused, each with its message; the first ones were taken (and given back verbatim) before.
REFUSED = {
    "dot-dot": ("/media/../etc/passwd", uploads.NO_SUCH_UPLOAD),
    "quote": ('/media/uploads/x" onerror="alert(1)', uploads.NO_SUCH_UPLOAD),
    "space": ("/media/uploads/has space.png", uploads.NO_SUCH_UPLOAD),
    "no such upload": (NO_UPLOAD, uploads.NO_SUCH_UPLOAD),
    "query after a name": ("/media/uploads/2026/11/AAAAAAAAAAAAAAAAAAAAAA.png?x=1", uploads.NO_SUCH_UPLOAD),
    "no such upload on this host": (f"http://testserver{NO_UPLOAD}", uploads.NO_SUCH_UPLOAD),
    "control character": ("https://example.com/a\x01.png", uploads.CONTROL_CHARACTERS),
    "credentials": ("https://user:secret@example.com/a.png", uploads.CREDENTIALS),
    "http": ("http://example.com/a.png", uploads.USE_HTTPS),
    "javascript": ("javascript:alert(1)", uploads.USE_HTTPS),
    "data": ("data:image/png;base64,iVBORw0KGgo=", uploads.USE_HTTPS),
    "scheme-relative": ("//example.com/a.png", uploads.USE_HTTPS),
    "bad host": ("https://exa mple.com/a.png", uploads.USE_HTTPS),
    "too long": ("https://example.com/" + "a" * 500, uploads.URL_TOO_LONG),
}
# https:// addresses are kept, percent-encoded where they need to be.
HTTPS = {
    "plain": ("  https://example.com/a.png\n", "https://example.com/a.png"),
    "escapes kept": (
        "https://example.com/a%20b.png?size=2&x=%2F",
        "https://example.com/a%20b.png?size=2&x=%2F",
    ),
    "quotes and spaces": (
        "https://example.com/a b\"c<d>'.png",
        "https://example.com/a%20b%22c%3Cd%3E%27.png",
    ),
    "a lone percent": ("https://example.com/100%.png#top", "https://example.com/100%25.png#top"),
    "beyond ascii": ("https://bücher.example/é.png", "https://xn--bcher-kva.example/%C3%A9.png"),
}


@pytest.fixture
def upload(user) -> Upload:
    return uploads.store_image(owner=user, file=images.upload(images.png()))


def v1_client(user: User) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_tokens(user=user, face=V1.name).access}")
    return client


# --- The rule ---------------------------------------------------------------------------------


@pytest.mark.parametrize("case", REFUSED)
def test_addresses_that_are_no_upload_nor_https_are_refused(case):
    url, message = REFUSED[case]
    with pytest.raises(ValidationError) as refusal:
        uploads.clean_image_url(url, max_length=500)
    assert refusal.value.messages == [message]


@pytest.mark.parametrize("case", HTTPS)
def test_https_addresses_are_kept_percent_encoded(case):
    url, stored = HTTPS[case]
    assert uploads.clean_image_url(url, max_length=500) == stored


def test_an_upload_is_taken_by_its_path_or_its_absolute_url_on_this_site(upload, settings):
    path = f"/media/{upload.file}"
    assert uploads.media_url(upload) == path
    assert uploads.clean_image_url(f" {path} ", max_length=500) == path
    assert uploads.clean_image_url(f"http://testserver{path}", max_length=500) == path
    assert uploads.clean_image_url(f"https://TestServer:8443{path}", max_length=500) == path
    # Another site's /media/ is just an https image; "*" does not make every host this site.
    settings.ALLOWED_HOSTS = ["*"]
    assert uploads.clean_image_url(f"https://elsewhere.example{path}", max_length=500) == (
        f"https://elsewhere.example{path}"
    )


def test_another_members_upload_may_be_given(upload, other_user):
    response = v1_client(other_user).patch(ME, {"image": f"/media/{upload.file}"}, format="json")
    assert response.status_code == 200 and response.json()["image"] == f"/media/{upload.file}"


def test_empty_clears():
    assert uploads.clean_image_url("   ", max_length=500) == ""


# --- API v1: PATCH /api/v1/user/me ------------------------------------------------------------


@pytest.mark.parametrize(
    "case", ["dot-dot", "quote", "space", "no such upload", "credentials", "http", "javascript"]
)
def test_api_v1_refuses_a_bad_image_with_400(user, case):
    url, message = REFUSED[case]
    response = v1_client(user).patch(ME, {"image": url}, format="json")

    assert response.status_code == 400, response.content
    assert response.json()["details"] == {"image": [message]}
    user.refresh_from_db()
    assert user.image == ""


def test_api_v1_takes_an_upload_the_media_api_answered_and_https(user, upload):
    client = v1_client(user)
    absolute = f"http://testserver/media/{upload.file}"  # as POST /api/v1/media answers

    response = client.patch(ME, {"image": absolute}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["image"] == f"/media/{upload.file}"

    response = client.patch(ME, {"image": "https://example.com/a b.png"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["image"] == "https://example.com/a%20b.png"
    user.refresh_from_db()
    assert user.image == "https://example.com/a%20b.png"


# --- RealWorld: PUT /api/user -----------------------------------------------------------------


@pytest.mark.parametrize(
    "case", ["dot-dot", "quote", "space", "no such upload", "credentials", "http", "javascript"]
)
def test_realworld_refuses_a_bad_image_with_422(user, case):
    url, message = REFUSED[case]
    answer = client_for(user).put("/user", 422, json_body={"user": {"image": url}})

    assert answer == {"errors": {"image": [message]}}
    user.refresh_from_db()
    assert user.image == ""


def test_realworld_takes_an_upload_and_https_and_answers_them_as_stored(user, upload):
    member = client_for(user)
    path = f"/media/{upload.file}"

    assert member.put("/user", json_body={"user": {"image": path}})["user"]["image"] == path
    assert (
        member.put("/user", json_body={"user": {"image": f"http://testserver{path}"}})["user"]["image"]
        == path
    )
    quoted = member.put("/user", json_body={"user": {"image": 'https://example.com/"x".png'}})["user"]
    assert quoted["image"] == "https://example.com/%22x%22.png"
    assert member.get("/profiles/{username}", username=user.username)["profile"]["image"] == quoted["image"]
