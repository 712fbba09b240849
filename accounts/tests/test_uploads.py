"""The upload service (accounts.uploads), against local files and a real S3-compatible server:
what is accepted comes back re-encoded without metadata, what is refused stores nothing.
Also the MEDIA_STORAGE_URL format and the /media/ view that serves uploads."""

import re
import urllib.request
from io import BytesIO

import pytest
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.test import Client
from PIL import Image

from accounts import uploads
from accounts.models import Upload
from accounts.tests import images
from accounts.tests.factories import UserFactory
from blog_project.storage_url import storage_from_url
from kernel.exceptions import TooLarge

pytestmark = pytest.mark.django_db
NAME = re.compile(r"uploads/\d{4}/\d{2}/[A-Za-z0-9_-]{22}\.(jpg|png|webp|gif)")


def stored_image(media, upload: Upload) -> Image.Image:
    return Image.open(BytesIO(media.read(upload.file)))


def pixel(image: Image.Image, xy: tuple[int, int]) -> tuple[int, ...]:
    value = image.convert("RGBA").getpixel(xy)
    assert isinstance(value, tuple)
    return value


def test_a_jpeg_comes_back_upright_and_without_its_exif(media, user):
    original = images.jpeg_with_exif()
    upload = uploads.store_image(owner=user, file=images.upload(original))

    assert NAME.fullmatch(upload.file)
    assert media.names() == [upload.file]
    assert (upload.owner, upload.content_type, upload.width, upload.height) == (user, "image/jpeg", 20, 40)
    data = media.read(upload.file)
    assert upload.size == len(data) and data != original
    image = Image.open(BytesIO(data))
    assert image.format == "JPEG" and image.size == (20, 40)
    assert dict(image.getexif()) == {} and "exif" not in image.info and "comment" not in image.info
    for secret in (b"Exif", b"SecretCam", b"my home address"):
        assert secret not in data
    # Orientation 6 (turn 90° clockwise): the red left half is now the top.
    red, blue = pixel(image, (10, 5)), pixel(image, (10, 35))
    assert red[0] > 200 > red[2] and blue[2] > 200 > blue[0]


@pytest.mark.parametrize(
    ("make", "format", "content_type"),
    [(images.png, "PNG", "image/png"), (images.webp, "WEBP", "image/webp"), (images.gif, "GIF", "image/gif")],
)
def test_png_webp_and_gif_keep_their_format(media, user, make, format, content_type):
    upload = uploads.store_image(owner=user, file=images.upload(make(), name="x.bin"))

    assert upload.content_type == content_type and upload.file.endswith(f".{format.lower()}")
    image = stored_image(media, upload)
    assert (image.format, image.size, upload.width, upload.height) == (format, (40, 20), 40, 20)


def test_png_keeps_its_transparency(media, user):
    image = stored_image(media, uploads.store_image(owner=user, file=images.upload(images.png())))
    assert pixel(image, (0, 0))[3] == 0 and pixel(image, (1, 1))[3] == 255


def test_an_animated_gif_keeps_its_frames_and_timing_but_not_its_comment(media, user):
    upload = uploads.store_image(owner=user, file=images.upload(images.animated_gif()))

    image = stored_image(media, upload)
    assert getattr(image, "n_frames", 1) == 3 and image.info.get("loop") == 0
    durations = []
    for frame in range(3):
        image.seek(frame)
        durations.append(image.info["duration"])
    assert durations == [100, 200, 300]
    assert b"secret comment" not in media.read(upload.file)


def test_a_polyglot_loses_what_follows_the_image(media, user):
    polyglot = images.encode(images.two_colours(), "JPEG") + images.HTML
    upload = uploads.store_image(owner=user, file=images.upload(polyglot))
    assert b"<script" not in media.read(upload.file)


REFUSED = {
    "svg": (images.SVG, "x.svg", uploads.NOT_AN_IMAGE),
    "html renamed to .png": (images.HTML, "x.png", uploads.NOT_AN_IMAGE),
    "empty": (b"", "x.png", uploads.NOT_AN_IMAGE),
    "truncated jpeg": (images.truncated_jpeg(), "x.jpg", uploads.DAMAGED),
    "bomb": (images.bomb_png(), "x.png", "The image is too large: at most 40 megapixels"),
    "bomb between 40 and 89 megapixels": (images.bomb_png((8000, 6000)), "x.png", "at most 40 megapixels"),
    "too many frames": (images.too_long_gif(), "x.gif", "at most 40 megapixels"),
    "bmp": (images.encode(images.two_colours(), "BMP"), "x.png", uploads.NOT_AN_IMAGE),
}


@pytest.mark.parametrize("kind", REFUSED)
def test_what_is_not_an_allowed_image_is_refused_and_nothing_is_stored(media, user, kind):
    data, name, message = REFUSED[kind]
    with pytest.raises(ValidationError) as refusal:
        uploads.store_image(owner=user, file=images.upload(data, name=name, content_type="image/png"))
    [text] = refusal.value.message_dict["file"]
    assert message in text
    assert Upload.objects.count() == 0 and media.names() == []


def test_the_bomb_is_small_but_big(media):
    data = images.bomb_png()
    with pytest.warns(Image.DecompressionBombWarning):
        assert len(data) < 20_000 and Image.open(BytesIO(data)).size == (10_000, 10_000)


def test_an_image_over_10_mib_is_too_large(media, user, settings):
    data = images.encode(images.two_colours(), "JPEG") + b"\0" * (10 * 1024 * 1024)
    with pytest.raises(TooLarge, match="larger than 10 MiB"):
        uploads.store_image(owner=user, file=images.upload(data))
    # ...also from a file that does not say its size.
    with pytest.raises(TooLarge):
        uploads.store_image(owner=user, file=BytesIO(data))
    assert Upload.objects.count() == 0 and media.names() == []


def test_the_quota_counts_the_members_own_uploads(media, user, other_user, settings):
    settings.QUILL_UPLOAD_QUOTA_MB = 1
    Upload.objects.create(owner=other_user, file="x", content_type="image/png", size=2**20, width=1, height=1)
    first = uploads.store_image(owner=user, file=images.upload(images.png()))
    Upload.objects.create(
        owner=user, file="y", content_type="image/png", size=2**20 - first.size, width=1, height=1
    )

    with pytest.raises(TooLarge, match="upload quota of 1 MiB"):
        uploads.store_image(owner=user, file=images.upload(images.png()))
    assert Upload.objects.filter(owner=user).count() == 2 and media.names() == [first.file]


def test_a_storage_failure_records_nothing(media, user, monkeypatch):
    def fail(**kwargs):
        raise RuntimeError("database gone")

    monkeypatch.setattr(Upload.objects, "create", fail)
    with pytest.raises(RuntimeError):
        uploads.store_image(owner=user, file=images.upload(images.png()))
    assert media.names() == []


def test_an_avatar_is_kept_with_a_square_thumbnail_and_replaces_the_previous_one(
    media, user, django_capture_on_commit_callbacks
):
    uploads.store_avatar(user=user, file=images.upload(images.jpeg_with_exif()))
    first = list(Upload.objects.filter(owner=user).order_by("pk"))
    assert [(u.width, u.height) for u in first] == [(20, 40), (256, 256)]
    original, thumbnail = first
    assert thumbnail.file == original.file.replace(".jpg", "-256.jpg")
    assert user.image == uploads.media_url(thumbnail)
    user.refresh_from_db()
    assert user.image == uploads.media_url(thumbnail)
    square = stored_image(media, thumbnail)
    assert square.size == (256, 256) and dict(square.getexif()) == {}

    # The previous avatar's files go once the new one is committed.
    with django_capture_on_commit_callbacks(execute=True):
        uploads.store_avatar(user=user, file=images.upload(images.animated_gif()))
    second = list(Upload.objects.filter(owner=user).order_by("-content_type"))
    assert [u.content_type for u in second] == ["image/png", "image/gif"]  # a still thumbnail
    assert media.names() == sorted(u.file for u in second)
    user.refresh_from_db()
    assert user.image == uploads.media_url(second[0])

    with django_capture_on_commit_callbacks(execute=True):
        uploads.remove_avatar(user=user)
    user.refresh_from_db()
    assert user.image == "" and Upload.objects.count() == 0 and media.names() == []


def test_a_refused_avatar_keeps_the_previous_one(media, user, settings):
    uploads.store_avatar(user=user, file=images.upload(images.png()))
    user.refresh_from_db()
    before, names = user.image, media.names()
    with pytest.raises(ValidationError):
        uploads.store_avatar(user=user, file=images.upload(images.SVG))
    settings.QUILL_UPLOAD_QUOTA_MB = 0
    with pytest.raises(TooLarge):
        uploads.store_avatar(user=user, file=images.upload(images.png()))
    user.refresh_from_db()
    assert user.image == before and media.names() == names and Upload.objects.count() == 2


def test_uploads_are_served_with_their_type_and_nothing_else_is(media, user):
    upload = uploads.store_image(owner=user, file=images.upload(images.png()))
    url = uploads.media_url(upload)
    assert url == f"/media/{upload.file}"  # lasting, even where the storage's URLs expire

    response = Client().get(url)
    if media.kind == "s3":
        # A private bucket: Quill redirects to a fresh presigned URL, which the server honours.
        assert response.status_code == 302 and "private" in response["Cache-Control"]
        location = response["Location"]
        assert location.startswith(f"{media.server.endpoint}/") and "Signature=" in location
        with urllib.request.urlopen(location, timeout=10) as fetched:
            assert fetched.headers["Content-Type"] == "image/png"
            assert fetched.read() == media.read(upload.file)
        assert media.object(upload.file)["ContentType"] == "image/png"
    else:
        assert response.status_code == 200
        assert response["Content-Type"] == "image/png"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
        assert response["Cache-Control"] == "public, max-age=31536000, immutable"
        assert response.getvalue() == media.read(upload.file)

    assert Client().post(url).status_code == 405
    for missing in (
        f"/media/{upload.file.replace('.png', '.gif')}",  # not recorded
        "/media/uploads/2026/11/../../../blog_project/settings.py",
        "/media/uploads/2026/11/%2e%2e%2f%2e%2e%2fquill.sqlite3",
        "/media/var/quill.sqlite3",
    ):
        assert Client().get(missing).status_code == 404, missing


def test_a_file_in_the_media_folder_that_is_no_upload_is_not_served(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    (tmp_path / "uploads/2026/11").mkdir(parents=True)
    (tmp_path / "uploads/2026/11/AAAAAAAAAAAAAAAAAAAAAA.png").write_bytes(images.HTML)
    assert Client().get("/media/uploads/2026/11/AAAAAAAAAAAAAAAAAAAAAA.png").status_code == 404


def test_media_storage_url_gives_django_storages_options():
    storage = storage_from_url(
        "s3://AKIA%2Fkey:se%2Fcr%2Bet@minio.internal:9000/quill-media/site/one?region=eu-west-1"
        "&secure=false&addressing=path&expire=600"
    )
    assert storage["BACKEND"] == "storages.backends.s3.S3Storage"
    options = storage["OPTIONS"]
    assert options["bucket_name"] == "quill-media" and options["location"] == "site/one"
    assert options["endpoint_url"] == "http://minio.internal:9000"
    assert (options["access_key"], options["secret_key"]) == ("AKIA/key", "se/cr+et")
    assert options["region_name"] == "eu-west-1" and options["addressing_style"] == "path"
    assert options["querystring_auth"] is True and options["querystring_expire"] == 600
    assert options["file_overwrite"] is False and options["default_acl"] is None

    amazon = storage_from_url("s3://@/bucket?public=true")["OPTIONS"]
    assert amazon["endpoint_url"] is None and amazon["access_key"] is None
    assert amazon["querystring_auth"] is False and amazon["region_name"] == "us-east-1"


@pytest.mark.parametrize(
    "url",
    [
        "https://host/bucket",
        "s3://host/",
        "s3://host/bucket?regoin=x",
        "s3://h/b?secure=maybe",
        "s3://h/b?expire=x",
    ],
)
def test_a_bad_media_storage_url_stops_the_start(url):
    with pytest.raises(ImproperlyConfigured, match="MEDIA_STORAGE_URL"):
        storage_from_url(url)


def test_another_members_uploads_do_not_count(media, settings):
    settings.QUILL_UPLOAD_QUOTA_MB = 1
    owner, other = UserFactory(), UserFactory()
    Upload.objects.create(owner=other, file="z", content_type="image/png", size=2**20, width=1, height=1)
    assert uploads.store_image(owner=owner, file=images.upload(images.gif())).owner == owner


def test_a_new_avatar_does_not_count_the_one_it_replaces(media, user, settings):
    settings.QUILL_UPLOAD_QUOTA_MB = 1
    old = Upload.objects.create(
        owner=user, file="avatars/2026/11/old-avatar-000000.jpg", content_type="image/jpeg",
        size=2**20 - 100, width=1, height=1,
    )  # fmt: skip
    uploads.store_avatar(user=user, file=images.upload(images.gif()))
    assert not Upload.objects.filter(pk=old.pk).exists() and Upload.objects.count() == 2
