"""POST /api/v1/media and the pages' /media/upload/, against local files and a real
S3-compatible server: 201 with the URL and size of the re-encoded image, or a clear 400/413
that stores nothing."""

import urllib.request
from io import BytesIO

import pytest
from django.test import Client
from PIL import Image

from accounts.models import Upload
from accounts.tests import images

pytestmark = pytest.mark.django_db
MEDIA = "/api/v1/media"
PAGE_UPLOAD = "/media/upload/"
MiB = 1024 * 1024


def fetch(url: str) -> tuple[str, bytes]:
    """The content type and bytes at an image URL that the API returned, as a browser gets them."""
    response = Client().get(url)
    if response.status_code == 302:  # a private bucket: a fresh presigned URL
        with urllib.request.urlopen(response["Location"], timeout=10) as fetched:
            return fetched.headers["Content-Type"], fetched.read()
    assert response.status_code == 200, url
    return response["Content-Type"], response.getvalue()


def test_an_uploaded_jpeg_comes_back_re_encoded_without_exif(media, user, bearer_client):
    response = bearer_client(user).post(MEDIA, {"file": images.upload(images.jpeg_with_exif())})

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"url", "width", "height", "size"}
    assert (body["width"], body["height"]) == (20, 40)
    [upload] = Upload.objects.all()
    assert body["url"] == f"http://testserver/media/{upload.file}" and body["size"] == upload.size
    content_type, data = fetch(body["url"])
    assert content_type == "image/jpeg" and data == media.read(upload.file)
    image = Image.open(BytesIO(data))
    assert image.size == (20, 40) and dict(image.getexif()) == {} and b"SecretCam" not in data


def test_a_body_over_1_mib_is_taken_here_and_what_trails_the_image_is_dropped(media, user, bearer_client):
    padded = images.encode(images.two_colours(), "JPEG") + b"<script>" * (3 * MiB // 8)
    response = bearer_client(user).post(MEDIA, {"file": images.upload(padded)})
    assert response.status_code == 201, response.content
    assert response.json()["size"] < 10_000


REFUSED = {
    "svg": (images.SVG, "x.svg", "Upload a JPEG, PNG, WebP or GIF image."),
    "html renamed to .png": (images.HTML, "x.png", "Upload a JPEG, PNG, WebP or GIF image."),
    "truncated jpeg": (images.truncated_jpeg(), "x.jpg", "The image is damaged or incomplete"),
    "bomb": (images.bomb_png(), "x.png", "The image is too large: at most 40 megapixels"),
}


@pytest.mark.parametrize("kind", REFUSED)
def test_refused_kinds_get_400_and_store_nothing(media, user, bearer_client, kind):
    data, name, message = REFUSED[kind]
    response = bearer_client(user).post(MEDIA, {"file": images.upload(data, name=name)})

    assert response.status_code == 400
    body = response.json()
    assert body["error"].startswith(f"file: {message}")
    assert body["details"]["file"][0].startswith(message)
    assert Upload.objects.count() == 0 and media.names() == []


def test_a_body_over_10_mib_gets_413_before_the_view(media, user, bearer_client):
    data = images.encode(images.two_colours(), "JPEG") + b"\0" * (11 * MiB)
    response = bearer_client(user).post(MEDIA, {"file": images.upload(data)})

    assert response.status_code == 413
    assert response.json() == {"error": "The request body is larger than 10240 KiB."}
    assert Upload.objects.count() == 0 and media.names() == []


def test_other_routes_still_refuse_bodies_over_1_mib(user, bearer_client):
    response = bearer_client(user).post("/api/v1/blog", {"file": images.upload(b"\0" * (2 * MiB))})
    assert response.status_code == 413
    assert response.json() == {"error": "The request body is larger than 1024 KiB."}


def test_over_quota_gets_413_and_stores_nothing(media, user, bearer_client, settings):
    settings.QUILL_UPLOAD_QUOTA_MB = 1
    Upload.objects.create(owner=user, file="old", content_type="image/png", size=MiB - 50, width=1, height=1)
    response = bearer_client(user).post(MEDIA, {"file": images.upload(images.png())})

    assert response.status_code == 413
    assert response.json() == {
        "error": "This image would pass your upload quota of 1 MiB. Delete some images first."
    }
    assert Upload.objects.count() == 1 and media.names() == []


def test_the_image_itself_over_10_mib_gets_413(media, user, bearer_client, settings):
    settings.QUILL_UPLOAD_MAX_MB = 1  # the body limit stays 10 MiB: the service refuses
    data = images.encode(images.two_colours(), "JPEG") + b"\0" * (2 * MiB)
    response = bearer_client(user).post(MEDIA, {"file": images.upload(data)})
    assert response.status_code == 413
    assert response.json() == {"error": "The image is larger than 1 MiB."}
    assert media.names() == []


def test_no_file_json_and_no_token_are_refused(api_client, user, bearer_client):
    client = bearer_client(user)
    missing = client.post(MEDIA, {"other": "x"})
    assert missing.status_code == 400
    assert missing.json()["details"] == {"file": ["Choose an image to upload."]}
    assert client.post(MEDIA, {"file": "x"}, format="json").status_code == 415
    anonymous = api_client.post(MEDIA, {"file": images.upload(images.png())})
    assert anonymous.status_code == 401 and anonymous.json()["error"]
    assert client.get(MEDIA, HTTP_ACCEPT="application/json").status_code == 405
    assert Upload.objects.count() == 0


def test_the_browsable_api_offers_an_upload_form(client, user):
    client.force_login(user)
    html = client.get(MEDIA, headers={"Accept": "text/html"}).content.decode()
    assert "<title>Upload an image · Quill API v1</title>" in html
    assert 'enctype="multipart/form-data"' in html and 'type="file"' in html
    assert Client().get("/api/v1/", HTTP_ACCEPT="application/json").json()["media"] == {
        "upload": "http://testserver/api/v1/media"
    }


# --- The pages' upload endpoint (the editor calls it with fetch) ----------------------------


def test_the_page_upload_takes_a_signed_in_post_with_its_csrf_token(media, user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.get("/")  # the CSRF cookie, as a page sets it
    token = client.cookies["csrftoken"].value

    refused = client.post(PAGE_UPLOAD, {"file": images.upload(images.png())})
    assert refused.status_code == 403 and Upload.objects.count() == 0

    response = client.post(PAGE_UPLOAD, {"file": images.upload(images.png())}, headers={"X-CSRFToken": token})
    assert response.status_code == 201, response.content
    body = response.json()
    [upload] = Upload.objects.all()
    assert body == {"url": f"/media/{upload.file}", "width": 40, "height": 20, "size": upload.size}
    assert fetch(body["url"])[0] == "image/png"


def test_the_page_upload_answers_errors_in_json(media, user, settings):
    client = Client()
    anonymous = client.post(PAGE_UPLOAD, {"file": images.upload(images.png())})
    assert anonymous.status_code == 401 and anonymous.json() == {"error": "Sign in to upload images."}

    client.force_login(user)
    assert client.get(PAGE_UPLOAD).status_code == 405
    assert client.post(PAGE_UPLOAD, {}).json() == {"error": "Choose an image to upload."}
    svg = client.post(PAGE_UPLOAD, {"file": images.upload(images.SVG, name="x.svg")})
    assert svg.status_code == 400
    assert svg.json() == {
        "error": "Upload a JPEG, PNG, WebP or GIF image.",
        "details": {"file": ["Upload a JPEG, PNG, WebP or GIF image."]},
    }
    big = client.post(PAGE_UPLOAD, {"file": images.upload(b"\0" * (11 * MiB))})
    assert big.status_code == 413 and "larger than 10240 KiB" in big.content.decode()

    settings.QUILL_UPLOAD_QUOTA_MB = 0
    quota = client.post(PAGE_UPLOAD, {"file": images.upload(images.png())})
    assert quota.status_code == 413 and "upload quota" in quota.json()["error"]
    assert Upload.objects.count() == 0 and media.names() == []
