"""What an upload may cost: QUILL_UPLOAD_RATE uploads per member (429 with Retry-After on
every face that uploads: API v1's POST /api/v1/media, the pages' /media/upload/, the avatar
in /settings/ and images sent with the editor's form), and an avatar's smaller pixel budget,
QUILL_AVATAR_MAX_PIXELS, checked from the header before any decoding."""

import re

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from PIL import ImageFile

from accounts import uploads
from accounts.models import Upload
from accounts.tests import images
from kernel.exceptions import RateLimited
from posts.tests.factories import PostFactory

pytestmark = pytest.mark.django_db
HOUR = 3600
# 4,100 x 4,000: over the avatar budget (16 megapixels), within an image's (40); 1-bit and all
# black, so it is a few KB and decodes fast when it is taken.
BIG = (4100, 4000)
AVATAR_TOO_LARGE = (
    "The picture is too large for a profile picture: at most 16 megapixels (an animation's frames "
    "count together). Make it smaller and upload it again."
)


@pytest.fixture
def member(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def two_an_hour(settings):
    settings.QUILL_UPLOAD_RATE = "2/hour"


def assert_retry_after(response) -> None:
    assert response.status_code == 429, response.content
    assert 0 < int(response["Retry-After"]) <= HOUR


# --- The rate ---------------------------------------------------------------------------------


def test_the_31st_upload_in_an_hour_is_refused_refused_ones_and_avatars_counting(user, other_user, settings):
    assert settings.QUILL_UPLOAD_RATE == "30/hour"
    for _ in range(29):
        with pytest.raises(ValidationError):  # cheap to refuse, but counted all the same
            uploads.store_image(owner=user, file=images.upload(images.SVG, name="x.svg"))
    uploads.store_avatar(user=user, file=images.upload(images.png()))

    with pytest.raises(RateLimited) as refusal:
        uploads.store_image(owner=user, file=images.upload(images.png()))
    assert 0 < refusal.value.retry_after <= HOUR
    with pytest.raises(RateLimited):
        uploads.store_avatar(user=user, file=images.upload(images.png()))
    assert Upload.objects.filter(owner=user).count() == 2  # the avatar and its thumbnail
    # Each member has their own count.
    assert uploads.store_image(owner=other_user, file=images.upload(images.png())).owner == other_user


def test_api_v1_media_answers_429_with_retry_after(two_an_hour, user, bearer_client):
    client = bearer_client(user)
    for _ in range(2):
        assert client.post("/api/v1/media", {"file": images.upload(images.png())}).status_code == 201

    response = client.post("/api/v1/media", {"file": images.upload(images.png())})
    assert_retry_after(response)
    assert response.json()["error"]
    assert Upload.objects.count() == 2


def test_the_pages_upload_answers_429_in_json_with_retry_after(two_an_hour, member):
    for _ in range(2):
        assert member.post("/media/upload/", {"file": images.upload(images.png())}).status_code == 201

    response = member.post("/media/upload/", {"file": images.upload(images.png())})
    assert_retry_after(response)
    assert re.fullmatch(
        r"You have uploaded many images in a short time\. Please wait \d+ seconds and try again\.",
        response.json()["error"],
    )
    assert Upload.objects.count() == 2


def test_the_settings_avatar_answers_429_with_the_reason(two_an_hour, member, user):
    for _ in range(2):
        member.post("/media/upload/", {"file": images.upload(images.png())})

    response = member.post("/settings/avatar/", {"avatar": images.upload(images.png(), name="me.png")})
    assert_retry_after(response)
    assert "You have uploaded many images in a short time." in response.content.decode()
    user.refresh_from_db()
    assert user.image == "" and Upload.objects.count() == 2


def test_the_editor_answers_429_and_keeps_the_text(two_an_hour, member, user):
    for _ in range(2):
        member.post("/media/upload/", {"file": images.upload(images.png())})
    post = PostFactory(author=user)

    form = {
        "title": post.title,
        "content": "Typed, not saved yet.",
        "version": post.version,
        "action": "save",
    }
    response = member.post(
        f"/p/{post.slug}/edit/", form | {"cover_file": images.upload(images.png(), name="c.png")}
    )
    assert_retry_after(response)
    html = response.content.decode()
    assert "You have uploaded many images in a short time." in html and "Typed, not saved yet." in html
    post.refresh_from_db()
    assert post.cover_image == "" and post.content != "Typed, not saved yet."


# --- The avatar's pixel budget ----------------------------------------------------------------


def test_a_big_avatar_is_refused_before_decoding_and_the_same_image_is_taken_for_a_story(user, monkeypatch):
    big = images.bomb_png(BIG)
    with monkeypatch.context() as patch:
        patch.setattr(ImageFile.ImageFile, "load", lambda self: pytest.fail("the pixels were decoded"))
        with pytest.raises(ValidationError) as refusal:
            uploads.store_avatar(user=user, file=images.upload(big, name="me.png"))
    assert refusal.value.message_dict == {"file": [AVATAR_TOO_LARGE]}
    user.refresh_from_db()
    assert user.image == "" and not Upload.objects.exists()

    upload = uploads.store_image(owner=user, file=images.upload(big, name="story.png"))
    assert (upload.width, upload.height) == BIG


def test_the_settings_page_says_why_a_big_avatar_is_refused(member, user, bearer_client):
    big = images.bomb_png(BIG)
    response = member.post("/settings/avatar/", {"avatar": images.upload(big, name="me.png")})

    assert response.status_code == 400
    assert AVATAR_TOO_LARGE.replace("'", "&#x27;") in response.content.decode()
    user.refresh_from_db()
    assert user.image == ""
    uploaded = bearer_client(user).post("/api/v1/media", {"file": images.upload(big, name="story.png")})
    assert uploaded.status_code == 201, uploaded.content
