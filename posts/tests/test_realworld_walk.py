"""A RealWorld front end's whole session against Quill's /api/, every answer checked against
the RealWorld OpenAPI document (blog_project/tests/realworld); and a story made through any
face shows in the others (SPEC §7)."""

import re
from datetime import UTC

import pytest
from django.test import Client

from accounts.models import User
from accounts.services import issue_tokens
from accounts.tests.factories import PASSWORD
from blog_project.tests.realworld.contract import QUILL_TIMESTAMP, REALWORLD_TIMESTAMP, RealWorldClient
from faces.api.v1 import FACE as V1
from posts.models import Comment, Post

pytestmark = pytest.mark.django_db


def register(username: str) -> RealWorldClient:
    anonymous = RealWorldClient()
    email = f"{username}@example.com"
    new_user = {"username": username, "email": email, "password": PASSWORD}
    user = anonymous.post("/users", 201, json_body={"user": new_user})["user"]
    assert (user["username"], user["email"], user["bio"], user["image"]) == (username, email, None, None)
    return RealWorldClient(user["token"])


def log_in(username: str) -> RealWorldClient:
    credentials = {"email": f"{username}@example.com", "password": PASSWORD}
    user = RealWorldClient().post("/users/login", json_body={"user": credentials})["user"]
    assert user["username"] == username
    return RealWorldClient(user["token"])


def assert_timestamps(item: dict) -> None:
    for field in ("createdAt", "updatedAt"):
        assert re.match(REALWORLD_TIMESTAMP, item[field]), item[field]
        assert re.match(QUILL_TIMESTAMP, item[field]), item[field]


def slugs(listing: dict) -> list[str]:
    for article in listing["articles"]:
        assert "body" not in article  # RealWorld lists leave the body out
        assert_timestamps(article)
    return [article["slug"] for article in listing["articles"]]


def test_a_realworld_front_end_walks_through_the_whole_api_and_the_other_faces_see_it():
    anonymous = RealWorldClient()
    register("alice")
    register("bob")
    alice, bob = log_in("alice"), log_in("bob")

    # The profile: bio and an https image, then null and "" both clear them (null in the answer).
    me = alice.get("/user")["user"]
    assert (me["username"], me["email"], me["token"]) == ("alice", "alice@example.com", alice.token)
    image = "https://images.example.com/alice.png"
    me = alice.put("/user", json_body={"user": {"bio": "I train dragons.", "image": image}})["user"]
    assert (me["bio"], me["image"], me["token"]) == ("I train dragons.", image, alice.token)
    me = alice.put("/user", json_body={"user": {"bio": None, "image": ""}})["user"]
    assert (me["bio"], me["image"]) == (None, None)
    assert anonymous.get("/profiles/{username}", username="alice")["profile"] == {
        "username": "alice",
        "bio": None,
        "image": None,
        "following": False,
    }
    alice.put("/user", json_body={"user": {"bio": "I train dragons.", "image": image}})

    # An article with tags; the same title again gets a slug of its own.
    new_article = {
        "title": "How to train your dragon",
        "description": "Ever wonder how?",
        "body": "You have to *believe*.",
        "tagList": ["dragons", "training"],
    }
    article = alice.post("/articles", 201, json_body={"article": new_article})["article"]
    slug = article["slug"]
    assert slug == "how-to-train-your-dragon"
    assert {key: article[key] for key in ("title", "description", "body")} == {
        "title": "How to train your dragon",
        "description": "Ever wonder how?",
        "body": "You have to *believe*.",
    }
    assert sorted(article["tagList"]) == ["dragons", "training"]
    assert (article["favorited"], article["favoritesCount"]) == (False, 0)
    assert article["author"] == {
        "username": "alice",
        "bio": "I train dragons.",
        "image": image,
        "following": False,
    }
    assert_timestamps(article)
    again = alice.post("/articles", 201, json_body={"article": {**new_article, "tagList": []}})["article"]
    assert again["slug"] != slug and again["slug"].startswith("how-to-train-your-dragon")
    assert "dragons" in anonymous.get("/tags")["tags"]

    # Lists: by tag and by author; articlesCount counts them all, whatever the page holds.
    assert slugs(anonymous.get("/articles", query={"tag": "dragons"})) == [slug]
    by_alice = anonymous.get("/articles", query={"author": "alice"})
    assert (slugs(by_alice), by_alice["articlesCount"]) == ([again["slug"], slug], 2)
    first_page = anonymous.get("/articles", query={"author": "alice", "limit": 1})
    second_page = anonymous.get("/articles", query={"author": "alice", "limit": 1, "offset": 1})
    assert (slugs(first_page), first_page["articlesCount"]) == ([again["slug"]], 2)
    assert (slugs(second_page), second_page["articlesCount"]) == ([slug], 2)
    assert anonymous.get("/articles", query={"author": "nobody"}) == {"articles": [], "articlesCount": 0}

    # Bob favorites it: each viewer sees their own `favorited` and the same count.
    favorited = bob.post("/articles/{slug}/favorite", slug=slug)["article"]
    assert (favorited["favorited"], favorited["favoritesCount"]) == (True, 1)
    for viewer, mine in ((alice, False), (anonymous, False), (bob, True)):
        seen = viewer.get("/articles/{slug}", slug=slug)["article"]
        assert (seen["favorited"], seen["favoritesCount"]) == (mine, 1)
    by_bob = bob.get("/articles", query={"favorited": "bob"})
    assert slugs(by_bob) == [slug] and by_bob["articles"][0]["favorited"] is True
    assert anonymous.get("/articles", query={"favorited": "bob"})["articles"][0]["favorited"] is False

    # Bob follows alice: her articles fill his feed; her own feed stays empty.
    assert bob.get("/articles/feed") == {"articles": [], "articlesCount": 0}
    profile = bob.post("/profiles/{username}/follow", username="alice")["profile"]
    assert (profile["username"], profile["following"]) == ("alice", True)
    assert bob.get("/profiles/{username}", username="alice")["profile"]["following"] is True
    assert anonymous.get("/profiles/{username}", username="alice")["profile"]["following"] is False
    feed = bob.get("/articles/feed")
    assert (slugs(feed), feed["articlesCount"]) == ([again["slug"], slug], 2)
    assert all(item["author"]["following"] for item in feed["articles"])
    assert bob.get("/articles/{slug}", slug=slug)["article"]["author"]["following"] is True
    assert alice.get("/articles/feed") == {"articles": [], "articlesCount": 0}

    # A comment, seen by everyone, then deleted by its author.
    comment = bob.post(
        "/articles/{slug}/comments", 201, slug=slug, json_body={"comment": {"body": "Thank you!"}}
    )
    comment = comment["comment"]
    assert (comment["body"], comment["author"]["username"], comment["author"]["following"]) == (
        "Thank you!",
        "bob",
        False,
    )
    assert_timestamps(comment)
    for viewer in (alice, anonymous, bob):
        assert viewer.get("/articles/{slug}/comments", slug=slug)["comments"] == [comment]

    # The same story on Quill's pages and in API v1.
    site = Client()
    page_html = site.get(f"/p/{slug}/").content.decode()
    assert "How to train your dragon" in page_html and "<em>believe</em>" in page_html
    author_page = site.get("/@alice/").content.decode()
    assert "How to train your dragon" in author_page and "I train dragons." in author_page
    v1 = site.get("/api/v1/blog/bulk", {"author": "alice"}).json()
    v1_post = next(post for post in v1["posts"] if post["slug"] == slug)
    assert (v1_post["title"], v1_post["content"]) == ("How to train your dragon", "You have to *believe*.")
    assert sorted(v1_post["tags"]) == ["dragons", "training"]
    assert v1["count"] == 2

    bob.delete("/articles/{slug}/comments/{id}", slug=slug, id=comment["id"])
    assert anonymous.get("/articles/{slug}/comments", slug=slug) == {"comments": []}

    # Updates: without tagList the tags stay (and so does the slug); [] clears them; null is refused.
    changes = {"title": "How to train your dragon, revised", "body": "Believe, and *practise*."}
    updated = alice.put("/articles/{slug}", slug=slug, json_body={"article": changes})["article"]
    assert (updated["slug"], updated["title"], updated["body"]) == (
        slug,
        "How to train your dragon, revised",
        "Believe, and *practise*.",
    )
    assert sorted(updated["tagList"]) == ["dragons", "training"]
    assert updated["description"] == "Ever wonder how?"
    assert updated["updatedAt"] > updated["createdAt"] == article["createdAt"]
    cleared = alice.put("/articles/{slug}", slug=slug, json_body={"article": {"tagList": []}})["article"]
    assert cleared["tagList"] == []
    refused = alice.put("/articles/{slug}", 422, slug=slug, json_body={"article": {"tagList": None}})
    assert "tagList" in refused["errors"]
    assert anonymous.get("/articles/{slug}", slug=slug)["article"]["tagList"] == []
    assert "Believe, and <em>practise</em>." in site.get(f"/p/{slug}/").content.decode()

    # Bob takes back his favorite and stops following; alice deletes the article.
    unfavorited = bob.delete("/articles/{slug}/favorite", 200, slug=slug)["article"]
    assert (unfavorited["favorited"], unfavorited["favoritesCount"]) == (False, 0)
    assert bob.delete("/profiles/{username}/follow", 200, username="alice")["profile"]["following"] is False
    assert bob.get("/articles/feed")["articlesCount"] == 0
    alice.delete("/articles/{slug}", slug=slug)
    gone = anonymous.get("/articles/{slug}", 404, slug=slug)
    assert gone == {"errors": {"article": ["not found"]}}
    assert site.get(f"/p/{slug}/").status_code == 404
    assert anonymous.get("/articles", query={"author": "alice"})["articlesCount"] == 1


def test_stories_made_on_the_site_and_through_api_v1_show_in_the_realworld_api(client):
    author = User.objects.create_user(email="carol@example.com", password=PASSWORD, username="carol")
    client.force_login(author)
    form = {
        "title": "Written on the site",
        "content": "In the **editor**.",
        "tags": "Site",
        "action": "publish",
    }
    assert client.post("/write/", form).status_code == 302
    v1 = Client(headers={"Authorization": f"Bearer {issue_tokens(user=author, face=V1.name).access}"})
    v1_post = {"title": "Written through API v1", "content": "Over JSON.", "tags": ["v1"], "published": True}
    assert v1.post("/api/v1/blog", v1_post, content_type="application/json").status_code == 201

    reader = RealWorldClient()
    listing = reader.get("/articles", query={"author": "carol"})
    assert [item["title"] for item in listing["articles"]] == [
        "Written through API v1",
        "Written on the site",
    ]
    assert [item["tagList"] for item in listing["articles"]] == [["v1"], ["site"]]
    site_post = Post.objects.get(title="Written on the site")
    article = reader.get("/articles/{slug}", slug=site_post.slug)["article"]
    assert (article["body"], article["description"]) == ("In the **editor**.", site_post.excerpt)
    assert article["author"]["username"] == "carol"


def test_timestamps_are_utc_with_milliseconds_as_realworld_clients_parse_them(user):
    credentials = {"email": user.email, "password": PASSWORD}
    writer = RealWorldClient(
        RealWorldClient().post("/users/login", json_body={"user": credentials})["user"]["token"]
    )
    new_article = {"title": "Clocks", "description": "About time.", "body": "Tick."}
    article = writer.post("/articles", 201, json_body={"article": new_article})["article"]
    comment = writer.post(
        "/articles/{slug}/comments", 201, slug="clocks", json_body={"comment": {"body": "Tock."}}
    )
    edited = writer.put("/articles/{slug}", slug="clocks", json_body={"article": {"body": "Tick tock."}})
    for item in (article, comment["comment"], edited["article"]):
        assert_timestamps(item)

    def milliseconds(moment) -> str:
        return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")

    stored = Post.objects.get(slug="clocks")
    assert (edited["article"]["createdAt"], edited["article"]["updatedAt"]) == (
        milliseconds(stored.created_at),
        milliseconds(stored.updated_at),
    )
    assert comment["comment"]["createdAt"] == milliseconds(Comment.objects.get().created_at)
