"""The notices and the reading list as people meet them, in a real browser (issue 29's walk):
Bo responds to Ada's story mentioning Cy, claps, follows Ada and saves the story; Ada sees
three notices and the bell, Cy the mention, Bo the story in /me/list/; Ada marks all read, gets
the response by email and stops those emails in one click."""

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from accounts.tests.factories import PASSWORD, UserFactory
from jobs.testing import run_ready_jobs
from notifications.models import Delivery, Kind, NotificationSetting
from posts.tests.factories import PostFactory

pytestmark = [pytest.mark.system, pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def signed_in(browser: Browser, url: str, email: str) -> Page:
    page = browser.new_context().new_page()
    page.goto(f"{url}/signin/")
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("link", name="Your stories")).to_be_visible()
    return page


def test_respond_mention_clap_follow_save_then_read_and_unsubscribe(
    browser, live_server, smtp_settings, settings
):
    url = settings.SITE_URL = live_server.url
    ada = UserFactory(name="Ada Author", username="ada")
    cy = UserFactory(name="Cy Named", username="cy")
    bo = UserFactory(name="Bo Reader", username="bo")
    story = PostFactory(author=ada, title="Engines", content="On engines.")

    page = signed_in(browser, url, bo.email)
    page.goto(f"{url}{story.get_absolute_url()}")
    page.get_by_label("Your response").fill("Great read, @cy should see this.")
    page.get_by_role("button", name="Respond").click()
    expect(page.get_by_text("Your response is published.")).to_be_visible()
    page.get_by_role("button", name="Clap", exact=True).click()
    expect(page.get_by_role("button", name="Clap", exact=True)).to_have_attribute("aria-pressed", "true")
    page.get_by_role("button", name="Follow Ada Author").first.click()
    expect(page.get_by_role("button", name="Following Ada Author").first).to_have_attribute(
        "aria-pressed", "true"
    )
    page.get_by_role("button", name="Save “Engines” to read later").click()
    expect(page.get_by_role("button", name="Saved “Engines” to read later")).to_have_attribute(
        "aria-pressed", "true"
    )
    run_ready_jobs()  # the worker

    page.goto(f"{url}/me/list/")
    expect(page.get_by_role("link", name="Engines")).to_be_visible()

    author = signed_in(browser, url, ada.email)
    expect(author.get_by_role("link", name="Notifications, 3 unread")).to_be_visible()
    author.get_by_role("link", name="Notifications, 3 unread").click()
    notices = author.locator(".notice-item")
    expect(notices).to_have_count(3)
    for text in (
        "Bo Reader responded to “Engines”",
        "Bo Reader clapped for “Engines”",
        "Bo Reader started following you",
    ):
        expect(author.get_by_role("link", name=text)).to_be_visible()
    author.get_by_role("button", name="Mark all read").click()
    expect(author.get_by_role("link", name="Notifications", exact=True)).to_be_visible()

    named = signed_in(browser, url, cy.email)
    named.goto(f"{url}/notifications/")
    expect(
        named.get_by_role("link", name="Bo Reader mentioned you in a response to “Engines”")
    ).to_be_visible()

    [mail] = [message for message in smtp_settings.messages if message["To"] == ada.email]
    assert mail["Subject"] == "Bo Reader responded to “Engines”"
    link = re.fullmatch(r"<(.+)>", mail["List-Unsubscribe"].strip())
    assert link
    author.goto(link.group(1))
    author.get_by_role("button", name="Unsubscribe").click()
    expect(author.get_by_text("no more emails about “Responses to my stories”")).to_be_visible()
    assert NotificationSetting.objects.get(member=ada, kind=Kind.COMMENT).delivery == Delivery.SITE
