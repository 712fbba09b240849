"""A story's cover address (accounts.uploads.clean_image_url) on each face that takes one:
API v1's POST and PATCH /api/v1/blog and the editor page. (The RealWorld API's articles have
no cover.) Profile images are in accounts/tests/test_image_urls.py."""

import pytest

from accounts import uploads
from accounts.models import Upload
from accounts.tests import images
from posts.models import Post
from posts.tests.factories import PostFactory

pytestmark = pytest.mark.django_db
BLOG = "/api/v1/blog"
NO_UPLOAD = "/media/uploads/2026/11/AAAAAAAAAAAAAAAAAAAAAA.png"  # well-formed, but no upload has it
REFUSED = [
    ("/media/../etc/passwd", uploads.NO_SUCH_UPLOAD),
    ('/media/uploads/x" onerror="alert(1)', uploads.NO_SUCH_UPLOAD),
    ("/media/uploads/has space.png", uploads.NO_SUCH_UPLOAD),
    (NO_UPLOAD, uploads.NO_SUCH_UPLOAD),
    ("http://example.com/a.png", uploads.USE_HTTPS),
    ("javascript:alert(1)", uploads.USE_HTTPS),
]


@pytest.fixture
def writer(api_client_for, user):
    return api_client_for(user)


@pytest.fixture
def upload(other_user) -> Upload:
    """An image another member uploaded: public, so anyone may use it as a cover."""
    return uploads.store_image(owner=other_user, file=images.upload(images.png()))


def edit_url(post: Post) -> str:
    return f"/p/{post.slug}/edit/"


def editor_form(post: Post, **changes: object) -> dict[str, object]:
    """What the editor sends for `post` as it was loaded, with `changes`."""
    return {"title": post.title, "content": post.content, "version": post.version, "action": "save"} | changes


# --- API v1 -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("url", "message"), REFUSED)
def test_api_v1_refuses_a_bad_cover_on_create_and_update(writer, user, url, message):
    created = writer.post(BLOG, {"title": "T", "content": "c", "cover_image": url}, format="json")
    assert created.status_code == 400, created.content
    assert created.json()["details"] == {"cover_image": [message]}
    assert not Post.objects.exists()

    post = PostFactory(author=user)
    updated = writer.patch(f"{BLOG}/{post.pk}", {"cover_image": url}, format="json")
    assert updated.status_code == 400, updated.content
    assert updated.json()["details"] == {"cover_image": [message]}
    post.refresh_from_db()
    assert post.cover_image == ""


def test_api_v1_takes_the_url_the_media_api_answered_and_https(writer, user, upload):
    uploaded = f"http://testserver/media/{upload.file}"  # as POST /api/v1/media answers
    created = writer.post(BLOG, {"title": "T", "content": "c", "cover_image": uploaded}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["post"]["cover_image"] == f"/media/{upload.file}"

    post_id = created.json()["id"]
    updated = writer.patch(f"{BLOG}/{post_id}", {"cover_image": "https://example.com/a'b.png"}, format="json")
    assert updated.status_code == 200, updated.content
    assert Post.objects.get(pk=post_id).cover_image == "https://example.com/a%27b.png"


# --- The editor page --------------------------------------------------------------------------


@pytest.mark.parametrize(("url", "message"), REFUSED)
def test_the_editor_refuses_a_bad_cover_beside_its_field_and_keeps_the_text(
    author_client, user, url, message
):
    post = PostFactory(author=user)
    response = author_client.post(edit_url(post), editor_form(post, content="Kept.", cover_image=url))

    html = response.content.decode()
    assert response.status_code == 200 and message in html
    assert "Kept." in html
    post.refresh_from_db()
    assert post.cover_image == "" and post.content != "Kept."


def test_the_editor_takes_an_uploads_address(author_client, user, upload):
    post = PostFactory(author=user)
    response = author_client.post(edit_url(post), editor_form(post, cover_image=f" /media/{upload.file} "))

    assert response.status_code == 302
    post.refresh_from_db()
    assert post.cover_image == f"/media/{upload.file}"
