"""/settings/ and /password-reset/, tried as a member would, through pages alone."""

import io
import re
import zipfile
from datetime import timedelta

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.test import Client, override_settings
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from PIL import Image
from rest_framework.test import APIClient

from accounts.models import User
from accounts.services import issue_tokens
from accounts.tests.factories import PASSWORD, UserFactory
from faces.api.v1 import FACE as V1
from jobs.testing import run_ready_jobs
from posts.models import Post
from posts.tests.factories import PostFactory

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "another-long-passphrase"


def text_of(response) -> str:
    return response.content.decode()


def signed_in_user_id(client: Client) -> int | None:
    return int(client.session["_auth_user_id"]) if "_auth_user_id" in client.session else None


@pytest.fixture
def member(client, user) -> Client:
    client.force_login(user)
    return client


def test_settings_need_a_signed_in_member(client):
    response = client.get("/settings/")
    assert response.status_code == 302
    assert response["Location"].startswith("/signin/?next=/settings/")


def test_the_settings_page_offers_every_action(member):
    html = text_of(member.get("/settings/"))
    for action in ("profile", "avatar", "email", "password", "sessions", "delete"):
        assert f'action="/settings/{action}/"' in html
    assert 'href="/settings/export/"' in html
    assert html.count('name="csrfmiddlewaretoken"') == 7


def test_the_profile_is_saved_and_shown_on_the_author_page(member, user):
    response = member.post(
        "/settings/profile/", {"name": "Ada L.", "username": "ada_l", "bio": "Notes on engines."}, follow=True
    )
    assert "Profile saved." in text_of(response)
    user.refresh_from_db()
    assert (user.name, user.username, user.bio) == ("Ada L.", "ada_l", "Notes on engines.")
    author_page = text_of(Client().get("/@ada_l/"))
    assert "Ada L." in author_page and "Notes on engines." in author_page


def test_a_refused_profile_keeps_what_was_typed_and_says_why(member, user, other_user):
    response = member.post(
        "/settings/profile/", {"name": "Kept", "username": other_user.username, "bio": "Also kept."}
    )
    assert response.status_code == 400
    html = text_of(response)
    assert "This username is taken." in html
    assert "Also kept." in html and 'value="Kept"' in html
    user.refresh_from_db()
    assert user.bio != "Also kept."


def test_the_email_changes_only_with_the_password(member, user):
    wrong = member.post("/settings/email/", {"email": "new@example.com", "password": "not-it"})
    assert wrong.status_code == 400
    assert "That is not your current password." in text_of(wrong)

    right = member.post("/settings/email/", {"email": "New@Example.com", "password": PASSWORD}, follow=True)
    assert "Your email is now new@example.com." in text_of(right)
    user.refresh_from_db()
    assert user.email == "new@example.com"


def test_a_password_change_keeps_this_browser_and_signs_out_the_others(member, user):
    other_browser = Client()
    other_browser.force_login(user)
    tokens = issue_tokens(user=user, face=V1.name)

    refused = member.post("/settings/password/", {"current_password": "nope", "new_password": NEW_PASSWORD})
    assert "That is not your current password." in text_of(refused)

    done = member.post(
        "/settings/password/", {"current_password": PASSWORD, "new_password": NEW_PASSWORD}, follow=True
    )
    assert "Password changed. Every other device and app is signed out." in text_of(done)
    assert signed_in_user_id(member) == user.pk
    assert member.get("/settings/").status_code == 200
    assert other_browser.get("/settings/").status_code == 302  # signed out
    bearer = APIClient()
    bearer.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens.access}")
    assert bearer.get("/api/v1/user/me").status_code == 401

    fresh = Client()
    assert fresh.post("/signin/", {"email": user.email, "password": PASSWORD}).status_code == 200  # old one
    assert fresh.post("/signin/", {"email": user.email, "password": NEW_PASSWORD}).status_code == 302


def test_signing_out_everywhere_keeps_only_this_browser(member, user):
    other_browser = Client()
    other_browser.force_login(user)
    response = member.post("/settings/sessions/", follow=True)
    assert "Signed out everywhere else" in text_of(response)
    assert member.get("/settings/").status_code == 200
    assert other_browser.get("/settings/").status_code == 302


def test_the_export_is_a_zip_of_markdown_stories_with_front_matter(member, user):
    PostFactory(author=user, title='A "quoted" title', content="# Hi\n\nBody text.", tags=["birds"])
    PostFactory(author=user, title="Still a draft", content="Draft body.", publish=False)
    PostFactory(author=UserFactory(), title="Someone else's")

    response = member.get("/settings/export/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert f"quill-{user.username}-" in response["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = sorted(archive.namelist())
    assert names == ["account.json", "stories/a-quoted-title.md", "stories/still-a-draft.md"]
    markdown = archive.read("stories/a-quoted-title.md").decode()
    assert markdown.startswith('---\ntitle: "A \\"quoted\\" title"\n')
    assert 'tags: ["birds"]\n---\n\n# Hi\n\nBody text.\n' in markdown
    assert 'status: "draft"' in archive.read("stories/still-a-draft.md").decode()
    assert f'"email": "{user.email}"' in archive.read("account.json").decode()


def test_deleting_the_account_asks_for_the_password_and_a_tick_then_removes_everything(member, user):
    PostFactory(author=user, title="Mine")
    kept = PostFactory(author=UserFactory(), title="Theirs")

    unticked = member.post("/settings/delete/", {"password": PASSWORD})
    assert "Tick the box to confirm." in text_of(unticked)
    wrong = member.post("/settings/delete/", {"password": "not-it", "confirm": "on"})
    assert "That is not your current password." in text_of(wrong)
    assert User.objects.filter(pk=user.pk).exists()

    done = member.post("/settings/delete/", {"password": PASSWORD, "confirm": "on"}, follow=True)
    assert "Your account, your stories and your pictures are deleted." in text_of(done)
    assert not User.objects.filter(pk=user.pk).exists()
    assert list(Post.objects.all()) == [kept]
    assert signed_in_user_id(member) is None


def _png() -> io.BytesIO:
    buffer = io.BytesIO()
    Image.new("RGB", (300, 200), "teal").save(buffer, "PNG")
    buffer.seek(0)
    buffer.name = "me.png"
    return buffer


def test_a_picture_is_uploaded_shown_with_its_size_and_removed(member, user, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    response = member.post("/settings/avatar/", {"avatar": _png()}, follow=True)
    assert "Picture saved." in text_of(response)
    user.refresh_from_db()
    assert user.image
    author_page = text_of(Client().get(f"/@{user.username}/"))
    assert re.search(rf'<img[^>]+src="{re.escape(user.image)}"[^>]+width="\d+"[^>]+height="\d+"', author_page)

    removed = member.post("/settings/avatar/", {"remove": "on"}, follow=True)
    assert "Picture removed" in text_of(removed)
    user.refresh_from_db()
    assert user.image == ""


def test_a_file_that_is_not_an_image_is_refused_with_a_message(member, user, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    fake = io.BytesIO(b"<html><script>alert(1)</script></html>")
    fake.name = "me.png"
    response = member.post("/settings/avatar/", {"avatar": fake})
    assert response.status_code == 400
    assert "image" in text_of(response).lower()
    user.refresh_from_db()
    assert user.image == ""


# --- Password reset ---------------------------------------------------------------------------


def reset_link(email_body: str) -> str:
    match = re.search(r"http://testserver(/password-reset/[^/\s]+/[^/\s]+/)", email_body)
    assert match, email_body
    return match[1]


def test_a_forgotten_password_is_reset_through_the_emailed_link_once(client, user):
    other_browser = Client()
    other_browser.force_login(user)

    response = client.post("/password-reset/", {"email": user.email.upper()})
    assert response.status_code == 302 and response["Location"] == "/password-reset/sent/"
    run_ready_jobs()  # the email goes out by a job
    assert len(mail.outbox) == 1
    link = reset_link(str(mail.outbox[0].body))

    form = client.get(link, follow=True)
    assert "Set a new password." in text_of(form)
    set_url = form.redirect_chain[-1][0]
    done = client.post(set_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}, follow=True)
    assert "Your password is changed." in text_of(done)

    assert other_browser.get("/settings/").status_code == 302  # every session ended
    assert "This link no longer works." in text_of(Client().get(link, follow=True))
    assert Client().post("/signin/", {"email": user.email, "password": NEW_PASSWORD}).status_code == 302


def test_the_reset_answer_is_the_same_for_an_unknown_email(client):
    response = client.post("/password-reset/", {"email": "nobody@example.com"})
    assert response.status_code == 302 and response["Location"] == "/password-reset/sent/"
    run_ready_jobs()
    assert mail.outbox == []


def test_a_reset_link_expires(client, user, settings):
    generator = default_token_generator
    two_hours_ago = generator._num_seconds(generator._now()) - 2 * 3600
    old = generator._make_token_with_timestamp(user, two_hours_ago, settings.SECRET_KEY)
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    response = client.get(f"/password-reset/{uid}/{old}/", follow=True)
    assert "This link no longer works." in text_of(response)


@override_settings(QUILL_AUTH_RATE="2/minute")
def test_reset_requests_are_rate_limited(client, user):
    for _ in range(2):
        assert client.post("/password-reset/", {"email": user.email}).status_code == 302
    refused = client.post("/password-reset/", {"email": user.email})
    assert refused.status_code == 429
    assert "Too many attempts from here." in text_of(refused)
    run_ready_jobs()
    assert len(mail.outbox) == 2


def test_the_reset_timeout_is_an_hour(settings):
    assert settings.PASSWORD_RESET_TIMEOUT == 3600
    assert timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT) == timedelta(hours=1)


def test_deleting_the_account_deletes_its_picture_files_too(
    member, user, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    member.post("/settings/avatar/", {"avatar": _png()})
    stored = [path for path in tmp_path.rglob("*") if path.is_file()]
    assert len(stored) == 2  # the picture and its square thumbnail
    with django_capture_on_commit_callbacks(execute=True):
        member.post("/settings/delete/", {"password": PASSWORD, "confirm": "on"})
    assert not [path for path in tmp_path.rglob("*") if path.is_file()]


def test_a_bio_typed_in_a_browser_is_stored_with_plain_newlines(member, user):
    member.post("/settings/profile/", {"name": "", "username": user.username, "bio": "One.\r\nTwo."})
    user.refresh_from_db()
    assert user.bio == "One.\nTwo."


def test_the_delete_forms_password_has_its_own_label(member):
    html = text_of(member.get("/settings/"))
    assert html.count('id="id_password"') == 1  # the email form's
    assert '<label for="id_delete_password">' in html


@override_settings(QUILL_AUTH_RATE="2/minute")
def test_password_guesses_through_email_change_and_deletion_are_rate_limited(member, user):
    for _ in range(2):
        member.post("/settings/email/", {"email": "x@example.com", "password": "guess"})
    refused = member.post("/settings/delete/", {"password": PASSWORD, "confirm": "on"})
    assert "Too many attempts from here." in text_of(refused)
    assert User.objects.filter(pk=user.pk).exists()


def test_a_moderators_password_change_in_the_admin_ends_the_members_tokens(moderator_client, user):
    tokens = issue_tokens(user=user, face=V1.name)
    response = moderator_client.post(
        f"/admin/accounts/user/{user.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )
    assert response.status_code == 302, response.content.decode()[:500]
    bearer = APIClient()
    bearer.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens.access}")
    assert bearer.get("/api/v1/user/me").status_code == 401
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
