"""Suspension hides a member's stories and responses on every face and in every feed, through
the readers' cache, without changing them: reinstating brings them back as they were. Anyone
may still stop following a suspended member; nobody may start."""

from collections.abc import Callable

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import Client

from accounts import services as account_services
from accounts.models import Follow, User
from accounts.tests.factories import UserFactory
from blog_project.tests.realworld.contract import client_for
from kernel.exceptions import NotFound
from posts import services
from posts.models import Post
from posts.tests.factories import PostFactory

CHANGELIST = "/admin/accounts/user/"
TITLE = "A hushed telling"
COMMENT = "A hushed response, worth hiding."
JSON = {"Accept": "application/json"}


@pytest.fixture
def writer(db) -> User:
    return UserFactory(username="hushed_writer")


@pytest.fixture
def follower(writer) -> User:
    member = UserFactory()
    account_services.follow(follower=member, followed=writer)
    return member


@pytest.fixture
def post(writer) -> Post:
    return PostFactory(
        author=writer, title=TITLE, content="By the lighthouse at dusk.", tags=["hushed", "open"]
    )


@pytest.fixture
def other_post(writer) -> Post:
    """Another author's story, with the writer's response under it."""
    post = PostFactory(title="A lasting telling", content="By the lighthouse at dawn.", tags=["open"])
    services.add_comment(post=post, author=writer, body=COMMENT)
    return post


def readers_addresses(post: Post, other_post: Post) -> dict[str, tuple[str, str]]:
    """Every address an anonymous reader reaches the writer's story or response at, with what
    shows it there."""
    slug = post.slug
    return {
        "home": ("/", TITLE),
        "home counts": ("/", "1 response<"),
        "story page": (f"/p/{slug}/", TITLE),
        "author page": ("/@hushed_writer/", TITLE),
        "tag page": ("/tag/open/", TITLE),
        "only tag page": ("/tag/hushed/", TITLE),
        "search": ("/search/?q=lighthouse", TITLE),
        "rss": ("/feed.xml", TITLE),
        "author rss": ("/@hushed_writer/feed.xml", TITLE),
        "tag rss": ("/tag/open/feed.xml", TITLE),
        "only tag rss": ("/tag/hushed/feed.xml", TITLE),
        "sitemap stories": ("/sitemap-stories.xml", f"/p/{slug}/"),
        "sitemap tags": ("/sitemap-tags.xml", "/tag/hushed/"),
        "sitemap authors": ("/sitemap-authors.xml", "/@hushed_writer/"),
        "v1 list": ("/api/v1/blog/bulk", TITLE),
        "v1 by tag": ("/api/v1/blog/bulk?tag=hushed", TITLE),
        "v1 by author": ("/api/v1/blog/bulk?author=hushed_writer", TITLE),
        "v1 story": (f"/api/v1/blog/{post.pk}", TITLE),
        "realworld list": ("/api/articles", TITLE),
        "realworld by tag": ("/api/articles?tag=open", TITLE),
        "realworld by author": ("/api/articles?author=hushed_writer", TITLE),
        "realworld article": (f"/api/articles/{slug}", TITLE),
        "realworld tags": ("/api/tags", '"hushed"'),
        "response": (f"/p/{other_post.slug}/", COMMENT),
        "realworld comments": (f"/api/articles/{other_post.slug}/comments", COMMENT),
    }


def shown(client: Client, addresses: dict[str, tuple[str, str]]) -> dict[str, bool]:
    """Where the writer's story or response shows; any answer but 200 or 404 fails."""
    seen = {}
    for name, (address, mark) in addresses.items():
        response = client.get(address)
        assert response.status_code in (200, 404), f"{name}: {response.status_code}"
        seen[name] = response.status_code == 200 and mark in response.content.decode()
    return seen


def shown_to_follower(follower: User, post: Post) -> dict[str, bool]:
    member = Client()
    member.force_login(follower)
    feed = client_for(follower).get("/articles/feed")["articles"]
    return {
        "following page": TITLE in member.get("/following/").content.decode(),
        "realworld feed": [item["title"] for item in feed] == [TITLE],
        "story page, signed in": member.get(f"/p/{post.slug}/").status_code == 200,
    }


def by_service(writer: User, moderator: User) -> None:
    account_services.suspend_users(users=[writer], moderator=moderator)


def reinstated_by_service(writer: User, moderator: User) -> None:
    account_services.reinstate_users(users=[writer])


def admin_action(action: str) -> Callable[[User, User], None]:
    def act(writer: User, moderator: User) -> None:
        admin = Client()
        admin.force_login(moderator)
        response = admin.post(CHANGELIST, {"action": action, ACTION_CHECKBOX_NAME: [writer.pk]}, follow=True)
        assert response.status_code == 200

    return act


# Real commits: the readers' cache hears of a write when its transaction commits.
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("suspend", "reinstate"),
    [
        (by_service, reinstated_by_service),
        (admin_action("suspend_selected"), admin_action("reinstate_selected")),
    ],
    ids=["service", "admin"],
)
def test_suspension_hides_stories_and_responses_everywhere_until_reinstated(
    readers_cache, writer, follower, post, other_post, moderator, suspend, reinstate
):
    reader = Client()
    addresses = readers_addresses(post, other_post)

    def seen() -> dict[str, bool]:
        return shown(reader, addresses) | shown_to_follower(follower, post)

    everywhere = seen()
    assert everywhere == dict.fromkeys(everywhere, True)
    assert seen() == everywhere  # the second time from the readers' cache

    suspend(writer, moderator)

    assert seen() == dict.fromkeys(everywhere, False)
    # Hidden, not changed: the stories and the response are as they were.
    post.refresh_from_db()
    assert (post.status, post.published_at is not None) == (Post.Status.PUBLISHED, True)
    assert other_post.comments.filter(author=writer).exists()

    reinstate(writer, moderator)

    assert seen() == everywhere


@pytest.mark.django_db
def test_a_follower_unfollows_a_suspended_member_on_the_realworld_api(writer, follower):
    account_services.suspend_users(users=[writer])
    member = client_for(follower)

    unfollowed = member.delete("/profiles/{username}/follow", 200, username="hushed_writer")

    assert (unfollowed["profile"]["username"], unfollowed["profile"]["following"]) == ("hushed_writer", False)
    assert not Follow.objects.exists()
    # Unfollowing again changes nothing; following is refused, as the profile is not found.
    member.delete("/profiles/{username}/follow", 200, username="hushed_writer")
    refused = member.post("/profiles/{username}/follow", 404, username="hushed_writer")
    assert refused == {"errors": {"profile": ["not found"]}}
    member.get("/profiles/{username}", 404, username="hushed_writer")
    assert not Follow.objects.exists()


@pytest.mark.django_db
def test_a_follower_unfollows_a_suspended_member_on_the_site(writer, follower):
    account_services.suspend_users(users=[writer])
    member = Client()
    member.force_login(follower)

    response = member.post("/@hushed_writer/follow/", {"action": "unfollow"})

    assert response.status_code == 302
    assert response["Location"] == "/following/"  # the author's page is not found
    assert not Follow.objects.exists()
    assert member.post("/@hushed_writer/follow/", {"action": "follow"}).status_code == 404
    assert member.post("/@hushed_writer/follow/").status_code == 404  # a bare post would follow
    assert not Follow.objects.exists()


@pytest.mark.django_db
def test_a_follower_unfollows_a_suspended_member_in_place(writer, follower):
    account_services.suspend_users(users=[writer])
    member = Client()
    member.force_login(follower)

    response = member.post("/@hushed_writer/follow/", {"action": "unfollow"}, headers=JSON)

    assert response.status_code == 200
    assert response.json() == {
        "username": "hushed_writer",
        "following": False,
        "follower_count": 0,
        "count_text": "0 followers",
    }
    assert member.post("/@hushed_writer/follow/", {"action": "follow"}, headers=JSON).status_code == 404


@pytest.mark.django_db
def test_following_a_suspended_member_is_refused_by_the_core(writer, follower):
    account_services.suspend_users(users=[writer])
    newcomer = UserFactory()
    with pytest.raises(NotFound):
        account_services.follow(follower=newcomer, followed=writer)
    account_services.unfollow(follower=follower, followed=writer)
    assert not Follow.objects.exists()
