"""Claps, follows and responses in a real browser: quill.js toggles claps and follows in place
(no reload, the counts and pressed states follow), the Following feed shows the followed
author's story, the story's author deletes a response, and the signed-in header fits a phone."""

import pytest
from playwright.sync_api import Page, ViewportSize, expect

from accounts.models import Follow
from accounts.tests.factories import PASSWORD, UserFactory
from posts import services
from posts.models import Clap, Comment
from posts.tests.factories import PostFactory

PHONE: ViewportSize = {"width": 390, "height": 844}
SMALL_PHONE: ViewportSize = {"width": 320, "height": 640}

# Playwright and the browser come from the root conftest.py, per module.
pytestmark = [pytest.mark.system, pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page: Page, url: str, email: str) -> None:
    page.goto(f"{url}/signin/")
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("link", name="Your stories")).to_be_visible()


def test_claps_and_follows_change_in_place_and_responses_post(page: Page, live_server):
    url = live_server.url
    reader = UserFactory(name="Rosa Reader")
    writer = UserFactory(name="Wendy Writer")
    post = PostFactory(author=writer, title="Worth a clap", content="Some words.")
    services.clap(post=post, member=UserFactory())
    sign_in(page, url, reader.email)

    page.goto(f"{url}{post.get_absolute_url()}")
    reloads: list[str] = []
    page.on("load", lambda _: reloads.append(page.url))

    clap = page.get_by_role("button", name="Clap", exact=True)
    expect(clap).to_have_attribute("aria-pressed", "false")
    expect(page.locator("#clap-count")).to_have_text("1 clap")
    clap.click()
    expect(clap).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#clap-count")).to_have_text("2 claps")
    assert Clap.objects.filter(post=post, member=reader).exists()
    clap.click()
    expect(clap).to_have_attribute("aria-pressed", "false")
    expect(page.locator("#clap-count")).to_have_text("1 clap")

    # The byline and the author box both offer to follow; pressing one updates both.
    follow_buttons = page.get_by_role("button", name="Follow Wendy Writer")
    expect(follow_buttons).to_have_count(2)
    follow_buttons.first.click()
    following = page.get_by_role("button", name="Following Wendy Writer")
    expect(following).to_have_count(2)
    for index in range(2):
        expect(following.nth(index)).to_have_attribute("aria-pressed", "true")
    assert Follow.objects.filter(follower=reader, followed=writer).exists()
    assert reloads == []  # all of it without leaving the page

    # Responding is an ordinary form: the page comes back at the new response.
    page.get_by_label("Your response").fill("A fine story.\n\nSee https://example.com/.")
    page.get_by_role("button", name="Respond").click()
    comment = Comment.objects.get()
    expect(page).to_have_url(f"{url}{post.get_absolute_url()}#response-{comment.pk}")
    expect(page.locator(".flash")).to_have_text("Your response is published.")
    link = page.locator(f"#response-{comment.pk} .response-body a")
    expect(link).to_have_attribute("href", "https://example.com/")

    # Following her, the reader finds her story in the Following feed.
    page.goto(f"{url}/following/")
    expect(page.get_by_role("link", name="Worth a clap")).to_be_visible()

    # The story's author deletes the response, after confirming, in her own browser.
    browser = page.context.browser
    assert browser is not None
    author_context = browser.new_context()
    author = author_context.new_page()
    sign_in(author, url, writer.email)
    author.goto(f"{url}{post.get_absolute_url()}")
    author.get_by_role("link", name="Delete this response by Rosa Reader").click()
    expect(author.get_by_role("heading", name="Delete this response?")).to_be_visible()
    author.get_by_role("button", name="Delete response").click()
    expect(author).to_have_url(f"{url}{post.get_absolute_url()}#responses")
    assert not Comment.objects.exists()
    author_context.close()

    # The author's page counts the new follower, and unfollowing there updates it in place.
    page.goto(f"{url}/@{writer.username}/")
    expect(page.locator("[data-follower-count]")).to_have_text("1 follower")
    page.get_by_role("button", name="Following Wendy Writer").click()
    expect(page.locator("[data-follower-count]")).to_have_text("0 followers")
    expect(page.get_by_role("button", name="Follow Wendy Writer")).to_have_attribute("aria-pressed", "false")

    # And the Following feed suggests her again, as someone to follow.
    page.get_by_role("link", name="Following", exact=True).click()
    expect(page.get_by_role("heading", name="Authors to follow")).to_be_visible()


@pytest.mark.parametrize("viewport", [PHONE, SMALL_PHONE], ids=["phone", "small-phone"])
def test_the_signed_in_header_fits_a_phone(page: Page, live_server, viewport):
    member = UserFactory()
    sign_in(page, live_server.url, member.email)
    page.set_viewport_size(viewport)
    for path in ("/", "/following/"):
        page.goto(f"{live_server.url}{path}")
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"], path
        # One line: the brand, Write, Following and the menu side by side.
        row = [
            page.locator(selector)
            for selector in (".site-header .brand", ".nav-write", ".nav-following", ".nav-menu summary")
        ]
        middles = [box["y"] + box["height"] / 2 for item in row if (box := item.bounding_box())]
        assert len(middles) == 4 and max(middles) - min(middles) < 8, (path, middles)
        for name in ("Write", "Following"):
            expect(page.locator(".site-nav").get_by_text(name, exact=True)).to_be_in_viewport()
        # The rest is in the menu, which opens without a script.
        page.locator(".nav-menu summary").click()
        for name in ("Search", "Your stories", "Settings", "Your profile", "Sign out"):
            expect(page.locator(".nav-menu-list").get_by_text(name, exact=True)).to_be_in_viewport()
        page.keyboard.press("Escape")
        expect(page.locator(".nav-menu-list")).to_be_hidden()
