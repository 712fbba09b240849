"""An account's whole life in a real browser, through pages alone: sign up, profile and
picture, a published story, password change and reset, export, deletion.

Also takes the settings page's screenshots (desktop and phone) into the same folder as
posts/tests/test_browser.py: a temporary one, or QUILL_SCREENSHOTS_DIR.
"""

import json
import re
import time
import zipfile
from pathlib import Path

import pytest
from django.core import mail
from django.test.testcases import _MediaFilesHandler
from PIL import Image
from playwright.sync_api import Browser, Locator, Page, ViewportSize, expect

from accounts.models import User
from jobs.testing import run_ready_jobs
from posts.models import Post

PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
EMAIL = "june@example.com"
FIRST_PASSWORD = "a-long-unusual-passphrase"
SECOND_PASSWORD = "another-unusual-passphrase"
THIRD_PASSWORD = "a-third-passphrase-from-the-link"
NAME = "June Writer"
BIO = "Writes about small towns and long walks."
TITLE = "Notes from a first week"
MARKDOWN = "A first story, written to see my name and picture beside it.\n\n## What I learnt\n\nA lot.\n"
WAIT_MS = 5_000  # nothing in this walk should take a page longer than this

# Playwright, the browser and `screenshots` come from the root conftest.py: per module, and
# with DJANGO_ALLOW_ASYNC_UNSAFE set only while this module runs.
pytestmark = [pytest.mark.system, pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def media_served_by_quill(monkeypatch: pytest.MonkeyPatch) -> None:
    """live_server answers /media/ from MEDIA_ROOT itself (Django's _MediaFilesHandler), before
    any URL pattern: hand those requests to Quill's own view (accounts/media.py) instead,
    so the pictures are served as `make run` serves them."""
    monkeypatch.setattr(_MediaFilesHandler, "_should_handle", lambda self, path: False)


def picture_file(folder: Path) -> Path:
    """A small landscape PNG, as if from the member's own computer (Quill crops it square)."""
    path = folder / "me.png"
    image = Image.new("RGB", (120, 80), "teal")
    image.paste("orange", (40, 20, 80, 60))
    image.save(path, format="PNG")
    return path


def expect_picture_shown(img: Locator) -> None:
    """The avatar <img> is one of Quill's uploads, reserves its space, and really loaded."""
    expect(img).to_have_attribute("src", re.compile(r"^/media/avatars/"))
    expect(img).to_have_attribute("width", re.compile(r"^[1-9]\d*$"))
    expect(img).to_have_attribute("height", re.compile(r"^[1-9]\d*$"))
    img.scroll_into_view_if_needed()  # it loads lazily
    img.page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=img.element_handle(), timeout=WAIT_MS
    )


def sign_in(page: Page, email: str, password: str) -> None:
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("main").get_by_role("button", name="Sign in").click()


def flash(page: Page) -> Locator:
    return page.locator(".flash")


def reset_link(address: str, base_url: str) -> str:
    """The link in the newest email to `address`, sent by the job the browser's request queued
    (run here, as a worker would; allow the server's thread a moment to commit it)."""
    deadline = time.monotonic() + WAIT_MS / 1000
    while not (sent := [message for message in mail.outbox if address in message.to]):
        run_ready_jobs()  # the email goes out by a job
        assert time.monotonic() < deadline, "no password reset email arrived"
        time.sleep(0.05)
    match = re.search(rf"{re.escape(base_url)}/password-reset/\S+/", str(sent[-1].body))
    assert match, sent[-1].body
    return match.group(0)


@pytest.mark.usefixtures("media_served_by_quill")
def test_an_account_from_sign_up_to_deletion(
    page: Page, browser: Browser, live_server, screenshots: Path, tmp_path: Path
):
    url = live_server.url
    page.set_viewport_size(DESKTOP)
    page.set_default_timeout(WAIT_MS)

    # Signs up with an email and a password only.
    page.goto(f"{url}/")
    page.get_by_role("link", name="Get started").click()
    page.get_by_label("Email", exact=True).fill(EMAIL)
    page.get_by_label("Password", exact=True).fill(FIRST_PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(f"{url}/")

    # Opens Settings from the header, and gives a name and a bio.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").click()
    expect(page).to_have_url(f"{url}/settings/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Settings")
    expect(page.locator(".settings-lede")).to_contain_text(f"Signed in as {EMAIL}")
    profile = page.get_by_role("region", name="Profile")
    username = profile.get_by_label("Username", exact=True).input_value()
    assert username  # derived from the email
    profile.get_by_label("Name", exact=True).fill(NAME)
    profile.get_by_label("Bio", exact=True).fill(BIO)
    profile.get_by_role("button", name="Save profile").click()
    expect(flash(page)).to_have_text("Profile saved.")
    expect(profile.get_by_label("Name", exact=True)).to_have_value(NAME)
    expect(profile.get_by_label("Bio", exact=True)).to_have_value(BIO)

    # Uploads a picture: it replaces the initial, here and in the header.
    picture = page.get_by_role("region", name="Picture")
    picture.get_by_label("New picture", exact=True).set_input_files(picture_file(tmp_path))
    picture.get_by_role("button", name="Save picture").click()
    expect(flash(page)).to_have_text("Picture saved.")
    expect_picture_shown(picture.locator(".avatar img"))
    expect_picture_shown(page.get_by_role("navigation", name="Main").locator(".avatar img"))

    # Writes a story and publishes it.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Write").click()
    page.get_by_placeholder("Title").fill(TITLE)
    page.get_by_label("Write", exact=True).fill(MARKDOWN)
    page.get_by_role("button", name="Publish").click()
    expect(page).to_have_url(re.compile(rf"^{re.escape(url)}/p/[\w-]+/$"))
    post_url = page.url
    slug = post_url.rstrip("/").rsplit("/", 1)[-1]

    # The story page shows the name and the picture, at the top and under the story.
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    byline = page.locator(".story-byline")
    expect(byline.get_by_role("link", name=NAME)).to_be_visible()
    expect_picture_shown(byline.locator(".avatar img"))
    about = page.get_by_role("region", name="About the author")
    expect(about).to_contain_text(NAME)
    expect(about).to_contain_text(BIO)
    expect_picture_shown(about.locator(".avatar img"))

    # So does the author page, with the bio, reached from the byline.
    byline.get_by_role("link", name=NAME).click()
    expect(page).to_have_url(f"{url}/@{username}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(NAME)
    expect(page.locator(".profile-handle")).to_have_text(f"@{username}")
    expect(page.locator(".profile-bio")).to_have_text(BIO)
    expect_picture_shown(page.locator(".profile .avatar img"))
    expect(page.get_by_role("link", name=TITLE)).to_be_visible()

    # The settings page, for the README.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").click()
    page.screenshot(path=str(screenshots / "settings.png"), full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(screenshots / "settings-phone.png"), full_page=True)
    page.set_viewport_size(DESKTOP)

    # Another browser (a laptop, say) signs in too.
    laptop_context = browser.new_context(viewport=DESKTOP)
    laptop_context.set_default_timeout(WAIT_MS)
    laptop = laptop_context.new_page()
    laptop.goto(f"{url}/signin/")
    sign_in(laptop, EMAIL, FIRST_PASSWORD)
    expect(laptop).to_have_url(f"{url}/")
    expect(laptop.get_by_role("navigation", name="Main").get_by_role("link", name="Settings")).to_be_visible()

    # The password changes in the first browser, which stays signed in...
    password = page.get_by_role("region", name="Password")
    password.get_by_label("Current password", exact=True).fill(FIRST_PASSWORD)
    password.get_by_label("New password", exact=True).fill(SECOND_PASSWORD)
    password.get_by_role("button", name="Change password").click()
    expect(page).to_have_url(f"{url}/settings/")
    expect(flash(page)).to_have_text("Password changed. Every other device and app is signed out.")

    # ...and the laptop is signed out at its next page, where the old password no longer works.
    laptop.reload()
    expect(laptop.get_by_role("navigation", name="Main").get_by_role("link", name="Sign in")).to_be_visible()
    laptop.goto(f"{url}/settings/")
    expect(laptop).to_have_url(f"{url}/signin/?next=/settings/")
    sign_in(laptop, EMAIL, FIRST_PASSWORD)
    expect(laptop.locator(".form-errors")).to_have_text("That email and password do not match an account.")
    laptop_context.close()

    # Signs out, then resets the password through the emailed link.
    page.get_by_role("navigation", name="Main").get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{url}/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Sign in").click()
    page.get_by_role("link", name="Forgot your password?").click()
    expect(page).to_have_url(f"{url}/password-reset/")
    page.get_by_label(re.compile(r"^Email:?$")).fill(EMAIL)  # Django's form: "Email:"
    page.get_by_role("button", name="Send the link").click()
    expect(page).to_have_url(f"{url}/password-reset/sent/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email.")

    link = reset_link(EMAIL, url)
    page.goto(link)
    expect(page).to_have_url(re.compile(r"/password-reset/[^/]+/set-password/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Set a new password.")
    page.get_by_label(re.compile(r"^New password:?$")).fill(THIRD_PASSWORD)
    page.get_by_label(re.compile(r"^New password confirmation:?$")).fill(THIRD_PASSWORD)
    page.get_by_role("button", name="Save the new password").click()
    expect(page).to_have_url(f"{url}/password-reset/done/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your password is changed.")

    page.goto(link)  # a link works once
    expect(page.get_by_role("heading", level=1)).to_have_text("This link no longer works.")

    page.goto(f"{url}/signin/")
    sign_in(page, EMAIL, SECOND_PASSWORD)
    expect(page.locator(".form-errors")).to_have_text("That email and password do not match an account.")
    sign_in(page, EMAIL, THIRD_PASSWORD)
    expect(page).to_have_url(f"{url}/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").click()

    # Exports the stories: a zip with the story's Markdown and the account.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download my stories").click()
    download = download_info.value
    assert re.fullmatch(
        rf"quill-{re.escape(username)}-\d{{4}}-\d{{2}}-\d{{2}}\.zip", download.suggested_filename
    )
    archive_path = tmp_path / download.suggested_filename
    download.save_as(archive_path)
    with zipfile.ZipFile(archive_path) as archive:
        assert sorted(archive.namelist()) == ["account.json", f"stories/{slug}.md"]
        markdown = archive.read(f"stories/{slug}.md").decode()
        account = json.loads(archive.read("account.json"))
    front_matter, body = markdown.removeprefix("---\n").split("\n---\n", 1)
    assert f"title: {json.dumps(TITLE)}" in front_matter.splitlines()
    assert 'status: "published"' in front_matter.splitlines()
    # As typed; a browser sends a textarea's line breaks as CRLF, and they are kept.
    assert body.replace("\r\n", "\n").strip() == MARKDOWN.strip()
    assert {key: account[key] for key in ("email", "username", "name", "bio")} == {
        "email": EMAIL,
        "username": username,
        "name": NAME,
        "bio": BIO,
    }
    avatar_url = account["image"]
    assert avatar_url.startswith("/media/avatars/")
    picture_response = page.request.get(f"{url}{avatar_url}")
    assert picture_response.ok
    assert picture_response.headers["content-type"] == "image/png"
    assert picture_response.headers["x-content-type-options"] == "nosniff"  # Quill's view sent it

    # Deletes the account: a wrong password is refused (and said so at the top of the page)...
    delete = page.get_by_role("region", name="Delete my account")
    delete.get_by_label("Your password", exact=True).fill(SECOND_PASSWORD)
    delete.get_by_label(re.compile(r"^I understand")).check()
    delete.get_by_role("button", name="Delete my account").click()
    expect(page.get_by_role("alert")).to_have_text("Your account was not deleted: see what to fix.")
    expect(delete).to_contain_text("That is not your current password.")

    # ...the right one and the tick delete it, with a goodbye, signed out.
    delete.get_by_label("Your password", exact=True).fill(THIRD_PASSWORD)
    delete.get_by_label(re.compile(r"^I understand")).check()
    delete.get_by_role("button", name="Delete my account").click()
    expect(page).to_have_url(f"{url}/")
    expect(flash(page)).to_have_text("Your account, your stories and your pictures are deleted. Goodbye.")
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Sign in")).to_be_visible()

    # Nothing of it is left: not the account, not the story, not the pages, not the picture.
    assert not User.objects.filter(email=EMAIL).exists()
    assert not Post.objects.filter(slug=slug).exists()
    for gone in (post_url, f"{url}{avatar_url}"):
        assert page.request.get(gone).status == 404, gone
    author_page = page.goto(f"{url}/@{username}/")
    assert author_page is not None
    assert author_page.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
