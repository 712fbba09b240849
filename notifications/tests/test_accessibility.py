"""axe-core finds no violation on the notifications pages, the reading list, the header's bell
and the Save buttons, in a real browser, in the light and the dark colour scheme (issue 29).

Each page carries data that shows what the issue is about: notices of several kinds, some
unread (the bell's count badge, the list's unread highlight), a saved and an unsaved story
(both states of the Save button). axe runs its default rules (WCAG 2 A and AA, and its best
practices); the colour-contrast rule must also have judged the badge, the highlight and the
Save buttons, not skipped them."""

from typing import Literal

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from accounts import services as account_services
from accounts.tests.factories import PASSWORD, UserFactory
from jobs.testing import run_ready_jobs
from notifications import services as notification_services
from notifications.models import Kind, Notification
from posts import services as post_services
from posts.tests.factories import PostFactory

pytestmark = [pytest.mark.system, pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Axe()
SCHEMES: tuple[Literal["light", "dark"], ...] = ("light", "dark")


def report(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"]:
            summary = node.get("failureSummary", "").replace("\n", " ")
            lines.append(f"    {' > '.join(map(str, node['target']))}: {summary}")
    return "\n".join(lines)


def assert_contrast(page: Page, selector: str, *, state: str) -> None:
    """axe's colour-contrast rule judged what `selector` matches and found it enough."""
    judged = AXE.run(page, context=selector, options={"runOnly": ["color-contrast"]}).response
    assert not judged["violations"], f"axe, {state}, {page.url}:\n{report(judged['violations'])}"
    passed = [rule for rule in judged["passes"] if rule["id"] == "color-contrast"]
    assert passed, f"color-contrast did not judge {selector} ({state}): {report(judged['incomplete'])}"


def assert_accessible(
    page: Page, *, contrast_of: tuple[str, ...] = (), hovered: tuple[str, ...] = ()
) -> None:
    """No axe violation on the page as shown, in either colour scheme; the colour-contrast rule
    judged each selector in `contrast_of` as shown, and each in `hovered` under the pointer
    (axe alone sees no hover colours)."""
    for scheme in SCHEMES:
        page.emulate_media(color_scheme=scheme)
        page.mouse.move(0, 0)
        violations = AXE.run(page).response["violations"]
        assert not violations, f"axe, {scheme} scheme, {page.url}:\n{report(violations)}"
        for selector in contrast_of:
            expect(page.locator(selector).first).to_be_visible()
            assert_contrast(page, selector, state=f"{scheme} scheme")
        for selector in hovered:
            page.locator(selector).first.hover()
            assert_contrast(page, selector, state=f"{scheme} scheme, hovered")
            page.mouse.move(0, 0)
    page.emulate_media(color_scheme="light")


@pytest.fixture
def scene(db):
    """Ada, with notices of four kinds or more (the newest two unread), her story "Engines"
    saved, and unsaved stories by her and by Bo on the home page."""
    ada = UserFactory(name="Ada Author", username="ada")
    bo = UserFactory(name="Bo Reader", username="bo")
    story = PostFactory(author=ada, title="Engines", content="On engines.\n\nAnd on *gears*.")
    PostFactory(author=bo, title="Looms", content="On looms.")
    PostFactory(author=ada, title="Mills", content="On mills.")
    account_services.follow(follower=ada, followed=bo)
    account_services.follow(follower=bo, followed=ada)
    post_services.clap(post=story, member=bo)
    post_services.add_comment(post=story, author=bo, body="Great read.")
    post_services.bookmark(post=story, member=ada)
    PostFactory(author=bo, title="Wheels", content="On wheels.")  # ada follows bo: a notice
    run_ready_jobs()
    kinds = set(Notification.objects.filter(recipient=ada).values_list("kind", flat=True))
    assert {Kind.FOLLOW, Kind.CLAP, Kind.COMMENT, Kind.PUBLISHED} <= kinds
    older = Notification.objects.filter(recipient=ada).order_by("-updated_at", "-pk")[2:]
    notification_services.mark_read(member=ada, ids=[notice.pk for notice in older])
    assert Notification.objects.filter(recipient=ada, read_at=None).count() == 2
    return {"ada": ada, "story": story}


def signed_in(page: Page, url: str, email: str) -> Page:
    page.goto(f"{url}/signin/")
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("link", name="Your stories")).to_be_visible()
    return page


SAVE_BUTTONS = ('.save-button[aria-pressed="true"]', '.save-button[aria-pressed="false"]')


def test_home_cards_with_the_bell_and_save_buttons(page, live_server, scene):
    signed_in(page, live_server.url, scene["ada"].email)
    page.goto(f"{live_server.url}/")
    expect(page.get_by_role("link", name="Notifications, 2 unread")).to_be_visible()
    assert_accessible(page, contrast_of=(".bell-count", *SAVE_BUTTONS), hovered=SAVE_BUTTONS)


def test_story_page_with_its_save_button(page, live_server, scene):
    signed_in(page, live_server.url, scene["ada"].email)
    page.goto(f"{live_server.url}{scene['story'].get_absolute_url()}")
    expect(page.get_by_role("button", name="Saved “Engines” to read later")).to_be_visible()
    assert_accessible(page, contrast_of=(".bell-count", SAVE_BUTTONS[0]))


def test_notifications_list_with_unread_and_read_notices(page, live_server, scene):
    signed_in(page, live_server.url, scene["ada"].email)
    page.goto(f"{live_server.url}/notifications/")
    expect(page.locator(".notice-item")).to_have_count(
        Notification.objects.filter(recipient=scene["ada"]).count()
    )
    expect(page.locator(".notice-unread")).to_have_count(2)
    assert_accessible(
        page,
        contrast_of=(".notice-unread a", ".notice-unread time", ".bell-count"),
        hovered=(".notice-unread a", ".notice-item:not(.notice-unread) a"),
    )


def test_notification_settings(page, live_server, scene):
    signed_in(page, live_server.url, scene["ada"].email)
    page.goto(f"{live_server.url}/settings/notifications/")
    expect(page.get_by_role("group", name="Responses to my stories")).to_be_visible()
    assert_accessible(page)


def test_reading_list(page, live_server, scene):
    signed_in(page, live_server.url, scene["ada"].email)
    page.goto(f"{live_server.url}/me/list/")
    expect(page.get_by_role("link", name="Engines")).to_be_visible()
    assert_accessible(page, contrast_of=(SAVE_BUTTONS[0],))


def test_unsubscribe_page_signed_out_before_and_after(page, live_server, scene):
    token = notification_services.unsubscribe_token(member_id=scene["ada"].pk, kind=Kind.COMMENT)
    page.goto(f"{live_server.url}/notifications/unsubscribe/{token}/")
    expect(page.get_by_role("button", name="Unsubscribe")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.get_by_role("status")).to_contain_text("no more emails")
    assert_accessible(page)
    page.goto(f"{live_server.url}/notifications/unsubscribe/not-a-token/")
    expect(page.get_by_role("alert")).to_be_visible()
    assert_accessible(page)
