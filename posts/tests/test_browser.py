"""The whole story in a real browser: sign up, write, preview, publish, edit, sign out, moderate.

Also takes the screenshots that the README shows: into a temporary folder, or, with
`make screenshots` (QUILL_SCREENSHOTS_DIR=docs/screenshots), into the README's folder.
"""

from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, ViewportSize, expect

from accounts.models import User
from posts.models import Post

PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
PASSWORD = "a-long-unusual-passphrase"
STORY = """Every story starts with a single line. This one is about **writing in the open**.

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
    page.get_by_label("Write", exact=True).fill(STORY)
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
    unsaved = STORY + "\nA closing line typed just before a reload.\n"
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
