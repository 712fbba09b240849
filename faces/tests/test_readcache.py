"""The readers' cache: anonymous readers get stored answers, and after every kind of write
returns, the next anonymous read (page and API) shows the change."""

import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import connection
from django.http import HttpResponse
from django.test import Client, RequestFactory, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from rest_framework.test import APIClient

from accounts import services as account_services
from accounts.models import User
from accounts.tests.factories import UserFactory
from faces import readcache
from faces.api.v1 import FACE as V1
from posts import services
from posts.models import Post
from posts.tests.factories import PostFactory

# Real commits: the cache hears of a write when its transaction commits, as in production.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def reader() -> Client:
    return Client()


@pytest.fixture
def post(user) -> Post:
    return PostFactory(author=user, title="The first telling", content="Words before the edit.")


def post_page(post: Post) -> str:
    return reverse("posts:detail", args=[post.slug])


def api_post(post: Post) -> str:
    return reverse("api-post", args=[post.pk])


def reads(reader: Client, post: Post) -> dict[str, str]:
    """What an anonymous reader gets at each address that shows the story."""
    answers = {
        "home": reader.get("/"),
        "page": reader.get(post_page(post)),
        "api": reader.get(api_post(post)),
        "bulk": reader.get(reverse("api-posts-bulk")),
        "realworld": reader.get(reverse("realworld-article", args=[post.slug])),
        "realworld list": reader.get(reverse("realworld-articles")),
    }
    return {name: f"{response.status_code} {response.content.decode()}" for name, response in answers.items()}


def test_a_second_anonymous_read_is_served_from_the_cache_without_a_query(
    readers_cache, reader, post, django_assert_num_queries
):
    first = reader.get(post_page(post))
    reader.get(api_post(post))
    with django_assert_num_queries(0):
        second = reader.get(post_page(post))
        api = reader.get(api_post(post))
    assert second.status_code == 200 and second.content == first.content
    assert api.status_code == 200 and api.json()["post"]["title"] == "The first telling"
    # Browsers are told to ask again each time, with the ETag the answer carries.
    assert second["Cache-Control"] == "no-cache"
    assert second["ETag"] == first["ETag"]


def test_with_the_cache_off_every_read_asks_the_database(reader, post):
    reader.get(post_page(post))
    with CaptureQueriesContext(connection) as queries:
        reader.get(post_page(post))
    assert len(queries) > 0


def test_signed_in_readers_are_never_served_the_anonymous_copy(readers_cache, reader, user, post):
    reader.get(post_page(post))  # cached for anonymous readers
    member = Client()
    member.force_login(UserFactory())
    page = member.get(post_page(post))
    assert b"Sign out" in page.content or b"signout" in page.content
    assert "private" in page["Cache-Control"]
    token = account_services.issue_tokens(user=user, face=V1.name).access
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    draft = PostFactory(author=user, publish=False, title="Only mine")
    assert api.get(api_post(draft)).status_code == 200  # the author's draft, not a cached 404
    assert reader.get(api_post(draft)).status_code == 404


def author_api(user: User) -> APIClient:
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Bearer {account_services.issue_tokens(user=user, face=V1.name).access}"
    )
    return client


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def edit(post: Post) -> Callable[[], str]:
    response = author_api(post.author).patch(
        api_post(post), {"title": "The second telling", "content": "Words after the edit."}, format="json"
    )
    assert response.status_code == 200
    return lambda: "The second telling"


def unpublish(post: Post) -> None:
    response = author_api(post.author).patch(api_post(post), {"published": False}, format="json")
    assert response.status_code == 200


def moderate(post: Post) -> None:
    assert services.unpublish_posts(posts=Post.objects.filter(pk=post.pk)) == 1


def delete(post: Post) -> None:
    assert author_api(post.author).delete(api_post(post)).status_code == 204


def comment(post: Post) -> None:
    response = signed_in(UserFactory()).post(
        reverse("posts:comment", args=[post.slug]), {"body": "A response worth reading."}
    )
    assert response.status_code == 302


def clap(post: Post) -> None:
    response = signed_in(UserFactory()).post(reverse("posts:clap", args=[post.slug]), {"action": "clap"})
    assert response.status_code == 302


def rename_author(post: Post) -> None:
    account_services.update_profile(user=post.author, name="Ada Renamed")


@pytest.mark.parametrize(
    ("write", "shows"),
    [
        (edit, {"page": "The second telling", "api": "Words after the edit.", "bulk": "The second telling",
                "home": "The second telling", "realworld": "The second telling",
                "realworld list": "The second telling"}),
        (comment, {"page": "A response worth reading."}),
        (rename_author, {"page": "Ada Renamed", "api": "Ada Renamed", "bulk": "Ada Renamed",
                         "home": "Ada Renamed"}),
    ],
    ids=["edit", "comment", "profile"],
)  # fmt: skip
def test_after_a_write_returns_the_next_anonymous_read_shows_it(readers_cache, reader, post, write, shows):
    before = reads(reader, post)
    assert reads(reader, post) == before  # served again, unchanged
    write(post)
    after = reads(reader, post)
    for address, text in shows.items():
        assert text not in before[address]
        assert text in after[address], f"{address} still shows the story as it was"


def test_a_clap_shows_in_the_counts_at_once(readers_cache, reader, post):
    def claps() -> tuple[str, int]:
        page = reader.get(post_page(post)).content.decode()
        counted = "1 clap" in page
        realworld_post = reader.get(reverse("realworld-article", args=[post.slug])).json()["article"]
        return str(counted), realworld_post["favoritesCount"]

    assert claps() == ("False", 0)
    clap(post)
    assert claps() == ("True", 1)


@pytest.mark.parametrize("write", [unpublish, moderate, delete], ids=["unpublish", "moderation", "delete"])
def test_a_story_taken_down_is_gone_for_readers_at_once(readers_cache, reader, post, write):
    before = reads(reader, post)
    assert before["page"].startswith("200") and before["api"].startswith("200")
    assert "The first telling" in before["bulk"] and "The first telling" in before["home"]
    write(post)
    after = reads(reader, post)
    for address in ("page", "api", "realworld"):
        assert after[address].startswith("404"), f"{address} still shows the story"
    for address in ("home", "bulk", "realworld list"):
        assert "The first telling" not in after[address], f"{address} still lists the story"


def test_a_story_published_from_a_draft_appears_at_once(readers_cache, reader, user):
    draft = PostFactory(author=user, publish=False, title="Out of the drawer")
    before = reads(reader, draft)
    assert before["page"].startswith("404") and "Out of the drawer" not in before["bulk"]
    response = author_api(user).patch(api_post(draft), {"published": True}, format="json")
    assert response.status_code == 200
    after = reads(reader, draft)
    assert after["page"].startswith("200") and after["api"].startswith("200")
    assert "Out of the drawer" in after["home"] and "Out of the drawer" in after["bulk"]


def test_a_scheduled_story_appears_when_its_time_comes_without_any_write(readers_cache, reader, user):
    goes_up = timezone.now() + timedelta(seconds=2)
    response = author_api(user).post(
        reverse("api-posts"),
        {"title": "Right on time", "content": "Scheduled words.", "published_at": goes_up.isoformat()},
        format="json",
    )
    assert response.status_code == 201
    assert "Right on time" not in reader.get("/").content.decode()
    assert "Right on time" not in reader.get(reverse("api-posts-bulk")).content.decode()
    time.sleep(max(0.0, (goes_up - timezone.now()).total_seconds()) + 0.1)
    assert "Right on time" in reader.get("/").content.decode()
    assert "Right on time" in reader.get(reverse("api-posts-bulk")).content.decode()


def test_a_conditional_get_with_the_etag_gets_304_until_the_story_changes(readers_cache, reader, post):
    for address in (post_page(post), reverse("api-posts-bulk"), "/"):
        first = reader.get(address)
        again = reader.get(address, HTTP_IF_NONE_MATCH=first["ETag"])
        assert again.status_code == 304 and again.content == b""
    etag = reader.get(post_page(post))["ETag"]
    edit(post)
    changed = reader.get(post_page(post), HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and b"The second telling" in changed.content


def test_conditional_get_works_with_the_cache_off_too(reader, post):
    first = reader.get(reverse("api-posts-bulk"))
    assert reader.get(reverse("api-posts-bulk"), HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304


def test_readers_are_answered_from_the_database_when_the_cache_is_down(
    readers_cache, reader, post, unused_tcp_port
):
    unreachable = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{unused_tcp_port}",
        }
    }
    with override_settings(CACHES=unreachable):
        page = reader.get(post_page(post))
        edit(post)  # a write goes through, though it cannot tell the cache
        again = reader.get(post_page(post))
    assert page.status_code == 200 and b"The first telling" in page.content
    assert again.status_code == 200 and b"The second telling" in again.content


def test_each_worker_keeps_its_recent_answers_within_its_budget():
    recent = readcache._Recent(budget=800)
    later = time.time() + 60
    for number in range(10):
        recent.put(f"key{number}", (200, {}, b"x" * 100, later))
    assert recent.used <= 800
    assert recent.get("key0") is None and recent.get("key9") is not None  # the oldest went first
    recent.put("big", (200, {}, b"x" * 200, later))  # over an eighth of the budget: not kept
    assert recent.get("big") is None
    recent.put("gone", (200, {}, b"x", time.time() - 1))  # its time is up
    assert recent.get("gone") is None


def never_kept(request):
    return never_cache(lambda request: HttpResponse(f"made {time.monotonic_ns()}"))(request)


urlpatterns = [path("never-kept/", readcache.cached_for_readers()(never_kept))]


def test_an_answer_whose_view_says_how_it_may_be_kept_is_not_kept(readers_cache):
    middleware = readcache.ReadersCacheMiddleware(lambda request: never_kept(request))
    answers = []
    for _ in range(2):
        request = RequestFactory().get("/never-kept/")
        request.urlconf = __name__  # this module's urlpatterns
        answers.append(middleware(request))
    assert answers[0].content != answers[1].content  # made anew each time
    assert "no-store" in answers[1]["Cache-Control"]
