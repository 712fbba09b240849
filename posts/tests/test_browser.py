"""The whole story in a real browser: sign up, write, preview, publish, edit, sign out, moderate;
and the editor's harder parts: a conflict between two tabs, images by drag-and-drop, a cover,
a story scheduled a few seconds ahead, an older version restored, a save after signing out.

Also takes the screenshots that the README shows: into a temporary folder, or, with
`make screenshots` (QUILL_SCREENSHOTS_DIR=docs/screenshots), into the README's folder.
"""

import re
from datetime import datetime, timedelta
from io import BytesIO
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.utils import timezone
from PIL import Image
from playwright.sync_api import Browser, Dialog, Locator, Page, ViewportSize, expect

from accounts.models import User
from accounts.tests.factories import PASSWORD as MEMBER_PASSWORD
from accounts.tests.factories import UserFactory
from posts.models import Post
from posts.tests.factories import PostFactory

PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
PASSWORD = "a-long-unusual-passphrase"
MARKDOWN = """Every story starts with a single line. This one is about **writing in the open**.

## Why write in public

- You think more clearly.
- Readers teach you things.

> The first draft is just you telling yourself the story. — *Terry Pratchett*

```python
def publish(story):
    return story.strip()
```
"""

# Playwright, the browser and `screenshots` come from the root conftest.py: per module, and
# with DJANGO_ALLOW_ASYNC_UNSAFE set only while this module runs.
pytestmark = [pytest.mark.system, pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def screenshot(page: Page, path: Path) -> None:
    page.screenshot(path=str(path), full_page=True)


def stored_drafts(page: Page) -> list[str]:
    return page.evaluate("Object.keys(localStorage).filter((key) => key.startsWith('quill:draft:'))")


def test_a_story_from_sign_up_to_moderation(page: Page, live_server, screenshots: Path):
    call_command("seed_demo", verbosity=0)  # other writers' stories, so the home page looks lived in
    page.set_viewport_size(DESKTOP)
    url = live_server.url

    # A new visitor signs up and lands on the home page, signed in.
    page.goto(f"{url}/")
    page.get_by_role("link", name="Get started").click()
    page.get_by_label("Name (optional)", exact=True).fill("Rosa Writer")
    page.get_by_label("Email", exact=True).fill("rosa@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(f"{url}/")
    expect(page.get_by_role("link", name="Your stories")).to_be_visible()

    # Writes a draft; the preview pane shows the rendered Markdown as they type.
    page.locator(".nav-write").click()
    page.get_by_placeholder("Title").fill("Writing in the open")
    page.get_by_label("Write", exact=True).fill(MARKDOWN)
    preview = page.locator("[data-preview]")
    expect(preview.locator("h2")).to_have_text("Why write in public")
    expect(preview.locator("strong")).to_have_text("writing in the open")
    expect(preview.locator("pre code")).to_contain_text("def publish(story):")
    page.get_by_label("Tags", exact=True).fill("Writing, Open Source")
    page.get_by_role("button", name="Save draft").click()

    post = Post.objects.get(title="Writing in the open")
    edit_url = f"{url}/p/{post.slug}/edit/"
    expect(page).to_have_url(edit_url)
    expect(page.locator(".flash")).to_have_text("Draft saved.")
    assert post.status == Post.Status.DRAFT
    assert stored_drafts(page) == []  # saved on the server: the copy on this device is gone
    screenshot(page, screenshots / "editor.png")

    # Unsaved typing survives a reload, with a notice.
    unsaved = MARKDOWN + "\nA closing line typed just before a reload.\n"
    page.get_by_label("Write", exact=True).fill(unsaved)
    expect(page.locator("[data-autosave-status]")).to_contain_text("kept on this device")
    page.reload()
    expect(page.locator("[data-restored-notice]")).to_be_visible()
    expect(page.get_by_label("Write", exact=True)).to_have_value(unsaved)

    # Publishes: the story page shows it, and so does the home page.
    page.get_by_role("button", name="Publish").click()
    expect(page).to_have_url(f"{url}/p/{post.slug}/")
    expect(page.locator("h1")).to_have_text("Writing in the open")
    expect(page.locator(".prose")).to_contain_text("A closing line typed just before a reload.")
    expect(page.locator(".tags")).to_contain_text("open-source")
    assert stored_drafts(page) == []
    page.reload()  # without the one-time "published" message
    screenshot(page, screenshots / "story.png")
    page.emulate_media(color_scheme="dark")
    screenshot(page, screenshots / "story-dark.png")
    page.emulate_media(color_scheme="light")

    page.get_by_role("link", name="Quill, home").click()
    expect(page.locator(".story-card-title").first).to_have_text("Writing in the open")

    # Edits it from the story page.
    page.goto(f"{url}/p/{post.slug}/")
    page.get_by_role("link", name="Edit", exact=True).click()
    expect(page).to_have_url(edit_url)
    page.get_by_placeholder("Title").fill("Writing in the open, revised")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator("h1")).to_have_text("Writing in the open, revised")

    # Signs out, and can no longer edit it.
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()
    response = page.goto(edit_url)
    assert response is not None
    assert response.status == 403
    expect(page.locator("h1")).to_have_text("Not allowed")

    page.goto(f"{url}/")
    expect(page.locator(".story-card-title").first).to_have_text("Writing in the open, revised")
    screenshot(page, screenshots / "home.png")
    page.set_viewport_size(PHONE)
    screenshot(page, screenshots / "home-phone.png")
    page.set_viewport_size(DESKTOP)

    # A moderator unpublishes it in the admin, and it leaves the home page.
    User.objects.create_superuser(email="moderator@example.com", password=PASSWORD)
    page.goto(f"{url}/admin/login/?next=/admin/posts/post/")
    page.locator("#id_username").fill("moderator@example.com")
    page.locator("#id_password").fill(PASSWORD)
    page.locator("input[type=submit]").click()
    page.locator(f'input[name="_selected_action"][value="{post.pk}"]').check()
    page.locator('select[name="action"]').select_option("unpublish_selected")
    page.locator('button[name="index"]').click()
    expect(page.locator(".messagelist")).to_contain_text("Unpublished 1 story;")

    page.goto(f"{url}/")
    expect(page.locator(".story-list")).not_to_contain_text("Writing in the open")
    response = page.goto(f"{url}/p/{post.slug}/")
    assert response is not None
    assert response.status == 404


# --- The editor's harder parts ------------------------------------------------------------

MEDIA_URL = re.compile(r"^/media/uploads/\d{4}/\d{2}/[\w-]+\.png$")


def sign_in(page: Page, url: str, email: str) -> None:
    page.goto(f"{url}/signin/")
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(MEMBER_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("link", name="Your stories")).to_be_visible()


def png(color: tuple[int, int, int], size: tuple[int, int] = (240, 126)) -> bytes:
    buffer = BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


def drop_file(page: Page, selector: str, data: bytes, name: str, kind: str = "image/png") -> None:
    """Drops a file on an element, as dragging it from the desktop does."""
    transfer = page.evaluate_handle(
        """([bytes, name, kind]) => {
            const transfer = new DataTransfer();
            transfer.items.add(new File([new Uint8Array(bytes)], name, { type: kind }));
            return transfer;
        }""",
        [list(data), name, kind],
    )
    page.dispatch_event(selector, "dragover", {"dataTransfer": transfer})
    page.dispatch_event(selector, "drop", {"dataTransfer": transfer})


def expect_image_loaded(image: Locator) -> None:
    """The image is there and was served as an image (a broken one has no natural width)."""
    expect(image).to_have_js_property("complete", True)
    expect(image).not_to_have_js_property("naturalWidth", 0)


def test_the_editor_keeps_every_text_and_schedules_and_restores(
    page: Page, browser: Browser, live_server, screenshots: Path, tmp_path: Path
):
    url = live_server.url
    writer = UserFactory(name="Wren Writer")
    post = PostFactory(author=writer, title="Two tabs", content="The first paragraph.", publish=False)
    edit_url = f"{url}/p/{post.slug}/edit/"
    page.set_viewport_size(DESKTOP)
    sign_in(page, url, writer.email)

    # The story is open in two tabs. The first saves with Ctrl+S and stays in the editor.
    first = page
    second = page.context.new_page()
    second.set_viewport_size(DESKTOP)
    first.goto(edit_url)
    second.goto(edit_url)
    first.get_by_label("Write", exact=True).fill("The first paragraph, from the first tab.")
    first.keyboard.press("Control+s")
    expect(first.locator(".flash")).to_have_text("Draft saved.")
    expect(first).to_have_url(edit_url)
    post.refresh_from_db()
    assert post.content == "The first paragraph, from the first tab."

    # The second saves over it: refused, with both texts shown, its own kept and in focus order.
    mine = "The first paragraph, from the second tab.\n\nAnd a second one."
    second.get_by_label("Write", exact=True).fill(mine)
    second.get_by_role("button", name="Save draft").click()
    expect(second.get_by_role("heading", name="This story changed since you opened it")).to_be_focused()
    expect(second.get_by_label("Your version", exact=True)).to_have_value(mine)
    expect(second.get_by_label("Saved text", exact=True)).to_have_value(
        "The first paragraph, from the first tab."
    )
    screenshot(second, screenshots / "conflict.png")
    post.refresh_from_db()
    assert post.content == "The first paragraph, from the first tab."  # nothing overwritten
    second.get_by_role("button", name="Keep mine").click()
    expect(second.locator(".flash")).to_have_text("Draft saved.")
    expect(second.get_by_label("Write", exact=True)).to_have_value(mine)
    post.refresh_from_db()
    assert post.content == mine.replace("\r\n", "\n")
    second.close()

    # An image dropped on the text is uploaded and shows in the preview; a bad one says why.
    first.goto(edit_url)
    text = first.get_by_label("Write", exact=True)
    text.focus()
    first.keyboard.press("Control+End")
    drop_file(first, "#id_content", png((40, 120, 200)), "dropped.png")
    expect(first.locator("[data-upload-status]")).to_have_text("dropped.png is uploaded and in the story.")
    expect(text).to_have_value(re.compile(r"And a second one\.\n\n!\[\]\(/media/uploads/[^)]+\.png\)\n$"))
    preview_image = first.locator("[data-preview] img")
    expect(preview_image).to_have_attribute("src", MEDIA_URL)
    expect_image_loaded(preview_image)
    drop_file(first, "#id_content", b"not really a picture", "broken.png")
    expect(first.locator("[data-upload-status]")).to_have_text(
        "broken.png was not uploaded: Upload a JPEG, PNG, WebP or GIF image."
    )
    expect(text).not_to_have_value(re.compile("Uploading"))  # the placeholder went with it

    # A cover, uploaded from the editor, with its preview; then published with the story.
    cover_file = tmp_path / "cover.png"
    cover_file.write_bytes(png((230, 170, 40), (1200, 630)))
    first.get_by_label("Upload a cover", exact=True).set_input_files(cover_file)
    expect(first.locator("[data-cover-status]")).to_have_text("The cover is uploaded: save to keep it.")
    expect(first.get_by_label("or give its address", exact=True)).to_have_value(MEDIA_URL)
    cover_preview = first.get_by_role("img", name="The cover, as readers will see it")
    expect(cover_preview).to_be_visible()
    first.get_by_role("button", name="Publish").click()
    expect(first.locator("h1")).to_have_text("Two tabs")
    post.refresh_from_db()
    assert MEDIA_URL.match(post.cover_image)
    expect(first.locator("img.story-cover")).to_have_attribute("src", post.cover_image)
    expect_image_loaded(first.locator("img.story-cover"))
    expect(first.locator(".prose img")).to_have_attribute("src", MEDIA_URL)

    # Unpublish asks first: "no" changes nothing.
    first.goto(edit_url)
    questions: list[str] = []

    def answer(dialog: Dialog, accept: bool) -> None:
        questions.append(f"{dialog.type}: {dialog.message}")
        dialog.accept() if accept else dialog.dismiss()

    first.once("dialog", lambda dialog: answer(dialog, accept=False))
    first.get_by_role("button", name="Unpublish").click()
    expect(first.get_by_role("button", name="Unpublish")).to_be_visible()
    assert questions and questions[0].startswith("confirm: Unpublish “Two tabs”?")
    assert Post.objects.get(pk=post.pk).is_published

    # Leaving with unsaved changes asks first too.
    first.get_by_label("Write", exact=True).fill(mine + "\n\nTyped, not saved.")
    first.once("dialog", lambda dialog: answer(dialog, accept=False))
    first.get_by_role("link", name="History").click()
    expect(first).to_have_url(edit_url)
    assert questions[-1].startswith("beforeunload")

    # An older version comes back from the history, after a confirmation; nothing is lost.
    first.once("dialog", lambda dialog: answer(dialog, accept=True))
    first.get_by_role("link", name="History").click()
    expect(first.get_by_role("heading", level=1)).to_have_text("Two tabs")
    expect(first.locator(".history-entry")).to_have_count(4)
    first.get_by_role("link", name="Version 1", exact=True).click()
    expect(first.locator(".prose")).to_have_text("The first paragraph.")
    first.get_by_role("link", name="Restore this version…").click()
    first.get_by_role("button", name="Restore version 1").click()
    expect(first.locator(".flash")).to_have_text("Version 1 is restored: it is now version 5.")
    expect(first.locator("[data-restored-notice]")).to_be_visible()  # the typing kept on this device...
    first.get_by_role("button", name="Discard it").click()  # ...which the author drops
    expect(first.get_by_label("Write", exact=True)).to_have_value("The first paragraph.")
    post.refresh_from_db()
    assert (post.content, post.version) == ("The first paragraph.", 5)

    # On a phone, Write and Preview are tabs.
    first.set_viewport_size(PHONE)
    expect(first.get_by_label("Write", exact=True)).to_be_visible()
    expect(first.locator("[data-preview]")).to_be_hidden()
    first.get_by_role("button", name="Preview", exact=True).click()
    expect(first.locator("[data-preview]")).to_contain_text("The first paragraph.")
    expect(first.get_by_label("Write", exact=True)).to_be_hidden()
    assert first.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    first.get_by_role("button", name="Write", exact=True).click()
    first.set_viewport_size(DESKTOP)

    # A save after the session ended (signed out in another tab) goes to sign in, says the
    # text is kept, and comes back to the editor with it.
    other_tab = page.context.new_page()
    other_tab.goto(f"{url}/")
    other_tab.get_by_role("button", name="Sign out").click()
    other_tab.close()
    late = "The first paragraph.\n\nWritten after the session ended."
    first.get_by_label("Write", exact=True).fill(late)
    first.get_by_role("button", name="Save changes").click()
    expect(first).to_have_url(f"{url}/signin/?next=/p/{post.slug}/edit/")
    expect(first.locator(".flash")).to_have_text("Your text is kept in this browser; sign in to save it.")
    first.get_by_label("Email", exact=True).fill(writer.email)
    first.get_by_label("Password", exact=True).fill(MEMBER_PASSWORD)
    first.get_by_role("button", name="Sign in").click()
    expect(first).to_have_url(edit_url)
    expect(first.locator("[data-restored-notice]")).to_be_visible()
    expect(first.get_by_label("Write", exact=True)).to_have_value(late)
    first.keyboard.press("Control+s")
    expect(first.locator(".flash")).to_have_text("Changes saved.")
    assert Post.objects.get(pk=post.pk).content == late


def test_a_story_scheduled_seconds_ahead_appears_by_itself(browser: Browser, live_server):
    url = live_server.url
    writer = UserFactory(name="Sam Scheduler")
    # The author writes in Auckland: the time typed is theirs, and the server gets it as such.
    author_context = browser.new_context(viewport=DESKTOP, timezone_id="Pacific/Auckland")
    reader_context = browser.new_context(viewport=DESKTOP)
    author = author_context.new_page()
    reader = reader_context.new_page()
    try:
        sign_in(author, url, writer.email)
        author.goto(f"{url}/write/")
        author.get_by_placeholder("Title").fill("Right on time")
        author.get_by_label("Write", exact=True).fill("It went up by itself.")
        author.locator("[data-schedule] > summary").click()  # a disclosure: works without a script
        expect(author.get_by_text("In your time zone (Pacific/Auckland).", exact=False)).to_be_visible()
        when = (datetime.now(ZoneInfo("Pacific/Auckland")) + timedelta(seconds=8)).replace(microsecond=0)
        when += timedelta(seconds=when.second == 0)  # the input shows :00 as no seconds at all
        author.get_by_label("Publish at", exact=True).fill(when.strftime("%Y-%m-%dT%H:%M:%S"))
        author.locator('button[value="schedule"]').click()
        expect(author.locator(".flash")).to_contain_text("Scheduled for")
        expect(author.locator(".badge-scheduled")).to_have_text("Scheduled")
        post = Post.objects.get(title="Right on time")
        assert post.published_at == when
        assert post.is_scheduled

        author.get_by_role("link", name="Your stories").click()
        expect(author.get_by_role("region", name="Scheduled")).to_contain_text("Right on time")

        # Nobody else sees it until its time; then it is on the home page, nothing else running.
        reader.goto(f"{url}/")
        titles = reader.locator(".story-card-title", has_text="Right on time")
        expect(titles).to_have_count(0)
        assert timezone.now() < when, "the scheduling took longer than the margin"
        deadline = when + timedelta(seconds=20)
        while titles.count() == 0 and timezone.now() < deadline:
            reader.wait_for_timeout(500)
            reader.reload()
        expect(titles).to_have_count(1)
        assert timezone.now() >= when
        author.reload()
        expect(author.get_by_role("region", name="Published")).to_contain_text("Right on time")
    finally:
        author_context.close()
        reader_context.close()
