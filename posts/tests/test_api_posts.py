"""The posts API through the whole stack: writing, reading, editing, deleting, listing."""

import uuid
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts.tests.factories import UserFactory
from posts import selectors, services
from posts.api.v1_serializers import PostSerializer, post_json
from posts.models import Post
from posts.tests.api_contract import POST_KEYS
from posts.tests.factories import PostFactory
from posts.tests.queries import tag_queries

pytestmark = pytest.mark.django_db

BLOG = "/api/v1/blog"
BULK = "/api/v1/blog/bulk"


def detail(post_or_id) -> str:
    return f"{BLOG}/{getattr(post_or_id, 'pk', post_or_id)}"


@pytest.fixture
def writer(api_client_for, user):
    return api_client_for(user)


@pytest.fixture
def stranger(api_client_for, other_user):
    return api_client_for(other_user)


# --- writing --------------------------------------------------------------------------------


def test_create_publishes_by_default_and_returns_the_post(writer, user):
    body = {"title": "  Hello, API  ", "content": "# Hi\n\nSome **words**.", "tags": ["Python", "Web Dev"]}
    response = writer.post(BLOG, body, format="json")
    assert response.status_code == 201
    data = response.json()
    assert set(data) == {"id", "post"}
    post = data["post"]
    assert set(post) == POST_KEYS
    assert post["id"] == data["id"]
    assert post["title"] == "Hello, API"
    assert post["slug"] == "hello-api"
    assert post["content"] == body["content"]
    assert post["excerpt"] == "Some words."  # the opening prose, without the heading
    assert post["published"] is True
    assert post["published_at"] is not None
    assert post["reading_time"] == 1
    assert sorted(post["tags"]) == ["python", "web-dev"]
    assert post["author"] == {"id": user.pk, "username": user.username, "name": user.name}
    assert Post.objects.get(pk=data["id"]).is_published


def test_create_can_save_a_draft(writer):
    response = writer.post(BLOG, {"title": "Draft", "content": "", "published": False}, format="json")
    assert response.status_code == 201
    post = response.json()["post"]
    assert (post["published"], post["published_at"], post["tags"]) == (False, None, [])


def test_create_needs_a_signed_in_user(api_client):
    response = api_client.post(BLOG, {"title": "T", "content": "c"}, format="json")
    assert response.status_code == 401
    assert response.json() == {"error": "Authentication credentials were not provided."}
    assert not Post.objects.exists()


@pytest.mark.parametrize(
    ("fields", "bad_field", "message"),
    [
        ({"title": ""}, "title", "Give your story a title."),
        ({"title": "x" * 201}, "title", "200 characters or fewer"),
        ({"content": "x" * 100_001}, "content", "100,000 characters or fewer"),
        ({"tags": ["a", "b", "c", "d", "e", "f"]}, "tags", "at most 5 tags"),
        ({"tags": ["x" * 33]}, "tags", "32 characters or fewer"),
        ({"tags": ["!!!"]}, "tags", "not a usable tag"),
        ({"title": 123}, "title", "Not a valid string."),
        ({"title": None}, "title", "may not be null"),
        ({"content": ["a"]}, "content", "Not a valid string."),
        ({"published": "true"}, "published", "Must be true or false."),
        ({"published": 1}, "published", "Must be true or false."),
        ({"tags": "python"}, "tags", "Expected a list"),
        ({"tags": [1]}, "tags", "Not a valid string."),
        ({"tags": [["nested"]]}, "tags", "Not a valid string."),
        ({"tags": {"a": "b"}}, "tags", "Expected a list"),
        ({"title": "nul \x00 byte"}, "title", "Null characters are not allowed."),
    ],
)
def test_bad_post_input_is_400_with_the_field_named(writer, fields, bad_field, message):
    response = writer.post(BLOG, {"title": "T", "content": "c"} | fields, format="json")
    assert response.status_code == 400
    body = response.json()
    assert list(body["details"]) == [bad_field]
    assert message in body["error"]
    assert not Post.objects.exists()


def test_create_requires_title_and_content(writer):
    response = writer.post(BLOG, {}, format="json")
    assert response.status_code == 400
    assert set(response.json()["details"]) == {"title", "content"}


# --- reading one ----------------------------------------------------------------------------


def test_a_published_post_is_public(api_client, django_assert_num_queries):
    post = PostFactory(tags=["django"])
    with django_assert_num_queries(1 + tag_queries()):  # the post with its author (and tags)
        response = api_client.get(detail(post))
    assert response.status_code == 200
    data = response.json()
    assert set(data) == {"post"}
    assert data["post"]["id"] == str(post.pk)
    assert data["post"]["tags"] == ["django"]


def test_a_signed_in_read_costs_one_more_query(writer, user, django_assert_num_queries):
    post = PostFactory(author=user)
    with django_assert_num_queries(2 + tag_queries()):  # the token's user, the post (and tags)
        assert writer.get(detail(post)).status_code == 200


def test_a_draft_is_visible_to_its_author_only(writer, stranger, api_client, user):
    draft = PostFactory(author=user, publish=False)
    assert writer.get(detail(draft)).json()["post"]["published"] is False
    for client in (stranger, api_client):
        response = client.get(detail(draft))
        assert response.status_code == 404
        assert response.json() == {"error": "No such story."}


@pytest.mark.parametrize("post_id", [uuid.uuid4(), "not-a-uuid", "123", "%00", "%F0%9F%92%A9", "x" * 300])
def test_unknown_and_malformed_ids_are_404(api_client, post_id):
    response = api_client.get(f"{BLOG}/{post_id}")
    assert response.status_code == 404
    assert "error" in response.json()


# --- editing --------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["patch", "put"])
def test_author_edits_only_the_fields_sent(writer, user, method):
    post = PostFactory(author=user, title="Before", content="Old body.", tags=["one"])
    response = getattr(writer, method)(detail(post), {"title": "After", "tags": ["Two"]}, format="json")
    assert response.status_code == 200
    data = response.json()
    assert set(data) == {"id", "post", "updated"}
    assert (data["id"], data["updated"]) == (str(post.pk), True)
    assert data["post"]["title"] == "After"
    assert data["post"]["content"] == "Old body."
    assert data["post"]["tags"] == ["two"]
    assert data["post"]["slug"] == post.slug  # links survive title edits
    post.refresh_from_db()
    assert post.title == "After"


def test_put_on_the_collection_edits_the_post_named_in_the_body(writer, user):
    post = PostFactory(author=user)
    response = writer.put(BLOG, {"id": str(post.pk), "content": "New body."}, format="json")
    assert response.status_code == 200
    data = response.json()
    assert (data["id"], data["updated"], data["post"]["content"]) == (str(post.pk), True, "New body.")


def test_unpublishing_and_republishing(writer, user, api_client):
    post = PostFactory(author=user)
    unpublished = writer.patch(detail(post), {"published": False}, format="json").json()["post"]
    assert (unpublished["published"], unpublished["published_at"]) == (False, None)
    assert api_client.get(detail(post)).status_code == 404

    republished = writer.put(BLOG, {"id": str(post.pk), "published": True}, format="json").json()["post"]
    assert republished["published"] is True and republished["published_at"]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({}, 400),
        ({"id": 7}, 400),
        ({"id": None}, 400),
        ({"id": "not-a-uuid"}, 404),
        ({"id": str(uuid.uuid4())}, 404),
    ],
)
def test_put_on_the_collection_needs_a_known_id(writer, body, status):
    response = writer.put(BLOG, body | {"title": "New"}, format="json")
    assert response.status_code == status
    assert "error" in response.json()


def test_edit_limits_come_from_the_same_rules(writer, user):
    post = PostFactory(author=user, title="Kept")
    response = writer.patch(detail(post), {"title": "x" * 201}, format="json")
    assert response.status_code == 400
    assert response.json()["details"]["title"][0].startswith("Keep the title to 200 characters")
    post.refresh_from_db()
    assert post.title == "Kept"


def test_another_users_edit_is_refused_on_every_path(stranger, user):
    post = PostFactory(author=user, title="Mine")
    attempts = [
        stranger.put(BLOG, {"id": str(post.pk), "title": "Stolen"}, format="json"),
        stranger.put(detail(post), {"title": "Stolen"}, format="json"),
        stranger.patch(detail(post), {"title": "Stolen"}, format="json"),
        stranger.delete(detail(post)),
    ]
    assert [r.status_code for r in attempts] == [403, 403, 403, 403]
    assert all(r.json() == {"error": "Only the author can change this story."} for r in attempts)
    post.refresh_from_db()
    assert post.title == "Mine"


def test_another_users_draft_is_404_on_every_path(stranger, user):
    draft = PostFactory(author=user, publish=False)
    attempts = [
        stranger.put(BLOG, {"id": str(draft.pk), "title": "Stolen"}, format="json"),
        stranger.put(detail(draft), {"title": "Stolen"}, format="json"),
        stranger.patch(detail(draft), {"title": "Stolen"}, format="json"),
        stranger.delete(detail(draft)),
    ]
    assert [r.status_code for r in attempts] == [404, 404, 404, 404]
    assert Post.objects.filter(pk=draft.pk, title=draft.title).exists()


def test_anonymous_changes_are_401(api_client):
    post = PostFactory()
    attempts = [
        api_client.put(BLOG, {"id": str(post.pk), "title": "X"}, format="json"),
        api_client.put(detail(post), {"title": "X"}, format="json"),
        api_client.patch(detail(post), {"title": "X"}, format="json"),
        api_client.delete(detail(post)),
    ]
    assert [r.status_code for r in attempts] == [401, 401, 401, 401]
    assert all(r["WWW-Authenticate"].startswith("Bearer") for r in attempts)


def test_author_deletes_a_post(writer, user):
    post = PostFactory(author=user)
    response = writer.delete(detail(post))
    assert response.status_code == 204
    assert response.content == b""
    assert writer.get(detail(post)).status_code == 404
    assert writer.delete(detail(post)).status_code == 404


# --- listing --------------------------------------------------------------------------------


def test_bulk_lists_published_posts_newest_first(api_client, user):
    older = PostFactory(author=user)
    newer = PostFactory()
    PostFactory(author=user, publish=False)

    response = api_client.get(BULK)
    assert response.status_code == 200
    data = response.json()
    assert set(data) == {"posts", "count", "next", "previous"}
    assert [p["id"] for p in data["posts"]] == [str(newer.pk), str(older.pk)]
    assert (data["count"], data["next"], data["previous"]) == (2, None, None)
    assert all(set(p) == POST_KEYS for p in data["posts"])


def test_bulk_filters_by_author_tag_and_search(api_client, user):
    by_user = PostFactory(author=user, title="Tuning PgBouncer pools", tags=["Databases"])
    PostFactory(title="Baking sourdough bread", content="Flour, water and patience.", tags=["food"])

    def ids(**params):
        response = api_client.get(BULK, params)
        assert response.status_code == 200
        return [p["id"] for p in response.json()["posts"]]

    assert ids(author=user.username.upper()) == [str(by_user.pk)]
    assert ids(tag="databases") == [str(by_user.pk)]
    assert ids(q="pgbouncer pool") == [str(by_user.pk)]
    assert ids(q="pgbouncer", tag="food") == []
    assert ids(author="nobody") == []


def test_bulk_pages_with_links(api_client):
    posts = [PostFactory() for _ in range(5)]
    first = api_client.get(BULK, {"page_size": 2}).json()
    assert first["count"] == 5
    assert [p["id"] for p in first["posts"]] == [str(p.pk) for p in posts[::-1][:2]]
    assert first["previous"] is None
    assert "page=2" in first["next"] and "page_size=2" in first["next"]

    second = api_client.get(first["next"].replace("http://testserver", "")).json()
    assert second["previous"] and second["next"]
    third = api_client.get(BULK, {"page_size": 2, "page": 3}).json()
    assert [p["id"] for p in third["posts"]] == [str(posts[0].pk)]
    assert third["next"] is None


def test_bulk_caps_page_size_at_100(api_client, user):
    for n in range(101):
        PostFactory(author=user, title=f"Story {n}", content="x")
    data = api_client.get(BULK, {"page_size": 1000}).json()
    assert (len(data["posts"]), data["count"]) == (100, 101)


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("page=abc", 400),
        ("page=0", 400),
        ("page=-1", 400),
        ("page=1.5", 400),
        ("page=" + "9" * 5000, 400),
        ("page=99999999999999999999999999", 404),
        ("page=2", 404),
        ("page=", 200),
        ("page_size=-1", 400),
        ("page_size=abc", 400),
        ("page_size=0", 400),
        ("page_size=" + "9" * 5000, 400),
        ("page_size=", 200),
        ("author=%00", 400),
        ("tag=a%00b", 400),
        ("q=%00", 400),
        ("q=" + "x" * 5000, 200),
        ("q=%27%22%26%7C%21%3A%2A%28%29%3C%3E", 200),
        ("tag=%ED%A0%80&author=%FF", 200),  # not UTF-8: decoded to U+FFFD
    ],
)
def test_bulk_query_parameters_never_break_it(api_client, query, status):
    PostFactory()
    response = api_client.get(f"{BULK}?{query}")
    assert response.status_code == status
    assert ("error" in response.json()) is (status != 200)


def test_bulk_runs_a_fixed_number_of_queries(api_client_for, user, django_assert_max_num_queries):
    authors = [user, *UserFactory.create_batch(4)]
    for n in range(50):
        PostFactory(author=authors[n % 5], tags=["alpha", f"tag{n}"])
    client = api_client_for(user)
    with django_assert_max_num_queries(4):  # token user, count, page with authors, tags
        response = client.get(BULK, {"page_size": 50})
    assert len(response.json()["posts"]) == 50
    assert all(len(p["tags"]) == 2 for p in response.json()["posts"])


# --- the browsable API, with a browser session ----------------------------------------------


def test_browsable_api_works_with_a_session_and_csrf(user):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)

    page = browser.get(BULK, HTTP_ACCEPT="text/html")
    assert page.status_code == 200
    assert b"<html" in page.content and b"Published stories" in page.content

    body = {"title": "From the browser", "content": "Hi"}
    refused = browser.post(BLOG, body, content_type="application/json")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["error"]

    csrf_token = browser.cookies["csrftoken"].value  # set by the page's forms
    created = browser.post(BLOG, body, content_type="application/json", HTTP_X_CSRFTOKEN=csrf_token)
    assert created.status_code == 201
    assert created.json()["post"]["author"]["id"] == user.pk


def test_the_story_json_written_out_is_what_its_serializer_documents(user):
    # post_json writes out PostSerializer (the schema): the two must never drift apart.
    published = PostFactory(author=user, tags=["zeta", "alpha"], content="Some *words*.")
    draft = PostFactory(author=user, publish=False, tags=[])
    scheduled = services.create_post(
        author=user, title="Later", content="Soon.", cover_image="https://example.com/c.png",
        published_at=timezone.now() + timedelta(days=1),
    )  # fmt: skip
    for post in (published, draft, scheduled):
        for copy in (post, selectors.get_post_by_id(post_id=post.pk, user=user)):
            assert post_json(copy) == dict(PostSerializer(copy).data)
    assert post_json(published)["tags"] == ["alpha", "zeta"]
