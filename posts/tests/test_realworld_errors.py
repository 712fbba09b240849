"""The RealWorld API's refusals on articles, the feed, favorites, comments and tags, each
answer checked against the RealWorld OpenAPI document (blog_project/tests/realworld): 401,
403, 404, 422 and 429, as {"errors": {...}}."""

from typing import Any

import pytest

from accounts.models import User
from accounts.tests.factories import UserFactory
from blog_project.tests.realworld.contract import RealWorldClient, bad_authorizations, client_for
from posts import services
from posts.models import COMMENT_MAX_LENGTH, MAX_TAGS, TITLE_MAX_LENGTH, Clap, Comment, Post
from posts.tests.factories import PostFactory

pytestmark = pytest.mark.django_db

SLUG = "how-to-train-your-dragon"
NEW_ARTICLE = {"title": "Another story", "description": "A tale.", "body": "Text.", "tagList": ["dragons"]}
NOT_FOUND = {"errors": {"article": ["not found"]}}
HI = {"comment": {"body": "Hi."}}


@pytest.fixture
def alice(db) -> User:
    return UserFactory(username="alice")


@pytest.fixture
def bob(db) -> User:
    return UserFactory(username="bob")


@pytest.fixture
def article(alice) -> Post:
    post = PostFactory(author=alice, title="How to train your dragon", content="Carefully.", tags=["dragons"])
    assert post.slug == SLUG
    return post


@pytest.fixture
def comment(article, bob) -> Comment:
    return services.add_comment(post=article, author=bob, body="Thank you!")


def needs_token(comment: Comment) -> list[tuple[str, str, dict]]:
    """Operations on stories that need a token, with what a valid call would send."""
    slug = {"slug": SLUG}
    return [
        ("get", "/articles/feed", {}),
        ("post", "/articles", {"json_body": {"article": NEW_ARTICLE}}),
        ("put", "/articles/{slug}", {**slug, "json_body": {"article": {"title": "Renamed"}}}),
        ("delete", "/articles/{slug}", slug),
        ("post", "/articles/{slug}/favorite", slug),
        ("delete", "/articles/{slug}/favorite", slug),
        ("post", "/articles/{slug}/comments", {**slug, "json_body": HI}),
        ("delete", "/articles/{slug}/comments/{id}", {**slug, "id": comment.pk}),
    ]


def test_operations_that_need_a_token_answer_401_without_a_valid_one(alice, bob, article, comment):
    Clap.objects.create(post=article, member=bob)
    for method, template, call in needs_token(comment):
        for authorization, message in bad_authorizations(bob):
            answer = RealWorldClient().call(method, template, 401, authorization=authorization, **call)
            assert answer == {"errors": {"token": [message]}}, (method, template, authorization)
    # Nothing changed.
    assert list(Post.objects.values_list("title", flat=True)) == ["How to train your dragon"]
    assert (Clap.objects.count(), list(Comment.objects.all())) == (1, [comment])


def test_reads_where_a_token_is_optional_read_a_bad_one_or_another_scheme_as_anyone(bob, article, comment):
    # Front ends sign their user out on any 401: an expired token must not break public reads.
    Clap.objects.create(post=article, member=bob)
    anonymous = RealWorldClient()
    for authorization, _ in bad_authorizations(bob)[1:]:
        assert anonymous.get("/articles", authorization=authorization)["articlesCount"] == 1
        read = anonymous.get("/articles/{slug}", slug=SLUG, authorization=authorization)
        assert read["article"]["favorited"] is False, authorization
        comments = anonymous.get("/articles/{slug}/comments", slug=SLUG, authorization=authorization)
        assert len(comments["comments"]) == 1
        anonymous.get("/tags", authorization=authorization)
    assert client_for(bob).get("/articles/{slug}", slug=SLUG)["article"]["favorited"] is True
    # Where a token is needed, a bad one is still a 401.
    for authorization, message in bad_authorizations(bob)[1:-1]:
        answer = anonymous.get("/articles/feed", 401, authorization=authorization)
        assert answer == {"errors": {"token": [message]}}, authorization


def test_only_the_author_changes_an_article_others_get_403(alice, bob, article):
    stranger = client_for(bob)
    forbidden = {"errors": {"article": ["forbidden"]}}
    attempts: list[dict[str, object]] = [{"title": "Mine"}, {"tagList": []}, {"body": "Mine."}]
    for changes in attempts:
        assert stranger.put("/articles/{slug}", 403, slug=SLUG, json_body={"article": changes}) == forbidden
    assert stranger.delete("/articles/{slug}", 403, slug=SLUG) == forbidden
    article.refresh_from_db()
    assert (article.title, list(article.tags.values_list("name", flat=True))) == (
        "How to train your dragon",
        ["dragons"],
    )


def test_a_comment_is_deleted_by_its_author_the_storys_author_or_a_moderator_and_no_one_else(
    alice, bob, article, moderator
):
    carol = UserFactory(username="carol")
    forbidden = {"errors": {"comment": ["forbidden"]}}
    by_bob = [services.add_comment(post=article, author=bob, body=f"Comment {n}") for n in range(3)]
    for comment in by_bob:
        answer = client_for(carol).delete("/articles/{slug}/comments/{id}", 403, slug=SLUG, id=comment.pk)
        assert answer == forbidden
    # The story's author, a moderator, the comment's author.
    client_for(alice).delete("/articles/{slug}/comments/{id}", slug=SLUG, id=by_bob[0].pk)
    client_for(moderator).delete("/articles/{slug}/comments/{id}", slug=SLUG, id=by_bob[1].pk)
    client_for(bob).delete("/articles/{slug}/comments/{id}", slug=SLUG, id=by_bob[2].pk)
    assert not Comment.objects.exists()
    gone = client_for(bob).delete("/articles/{slug}/comments/{id}", 404, slug=SLUG, id=by_bob[2].pk)
    assert gone == {"errors": {"comment": ["not found"]}}


def test_unknown_articles_and_comments_are_404(alice, bob, article, comment):
    other = PostFactory(author=alice, title="Another story")
    elsewhere = services.add_comment(post=other, author=bob, body="Elsewhere.")
    member = client_for(bob)
    unknown = {"slug": "no-such-story"}
    assert RealWorldClient().get("/articles/{slug}", 404, **unknown) == NOT_FOUND
    assert RealWorldClient().get("/articles/{slug}/comments", 404, **unknown) == NOT_FOUND
    assert member.put("/articles/{slug}", 404, **unknown, json_body={"article": {"title": "X"}}) == NOT_FOUND
    assert member.delete("/articles/{slug}", 404, **unknown) == NOT_FOUND
    assert member.post("/articles/{slug}/favorite", 404, **unknown) == NOT_FOUND
    assert member.delete("/articles/{slug}/favorite", 404, **unknown) == NOT_FOUND
    assert member.post("/articles/{slug}/comments", 404, **unknown, json_body=HI) == NOT_FOUND
    assert member.delete("/articles/{slug}/comments/{id}", 404, **unknown, id=comment.pk) == NOT_FOUND
    no_comment = {"errors": {"comment": ["not found"]}}
    for comment_id in (999999, "abc", "1.5", 10**30, elsewhere.pk):
        assert member.delete("/articles/{slug}/comments/{id}", 404, slug=SLUG, id=comment_id) == no_comment
    assert Comment.objects.count() == 2


def test_a_draft_made_on_the_site_is_404_to_everyone_but_its_author(client, alice, bob):
    client.force_login(alice)
    form = {"title": "Secret plans", "content": "Not yet.", "tags": "plans", "action": "draft"}
    assert client.post("/write/", form).status_code == 302
    draft = Post.objects.get(title="Secret plans")
    assert not draft.is_published
    slug: dict[str, Any] = {"slug": draft.slug}
    for reader in (RealWorldClient(), client_for(bob)):
        assert reader.get("/articles/{slug}", 404, **slug) == NOT_FOUND
        assert reader.get("/articles/{slug}/comments", 404, **slug) == NOT_FOUND
        assert reader.get("/articles", query={"author": "alice"}) == {"articles": [], "articlesCount": 0}
    stranger = client_for(bob)
    leak = {"article": {"title": "Leaked"}}
    assert stranger.put("/articles/{slug}", 404, **slug, json_body=leak) == NOT_FOUND
    assert stranger.delete("/articles/{slug}", 404, **slug) == NOT_FOUND
    assert stranger.post("/articles/{slug}/favorite", 404, **slug) == NOT_FOUND
    assert stranger.post("/articles/{slug}/comments", 404, **slug, json_body=HI) == NOT_FOUND
    stranger.post("/profiles/{username}/follow", username="alice")
    assert stranger.get("/articles/feed") == {"articles": [], "articlesCount": 0}
    assert "plans" not in RealWorldClient().get("/tags")["tags"]
    # Its author reads it, but nobody claps for or answers what readers cannot see.
    author = client_for(alice)
    assert author.get("/articles/{slug}", **slug)["article"]["title"] == "Secret plans"
    assert author.post("/articles/{slug}/favorite", 404, **slug) == NOT_FOUND
    assert author.post("/articles/{slug}/comments", 404, **slug, json_body=HI) == NOT_FOUND


def test_writing_an_article_refuses_bad_bodies_with_422(alice):
    writer = client_for(alice)
    bad_bodies = [
        ({}, {"article"}),
        ({"article": None}, {"article"}),
        ({"article": {}}, {"title", "description", "body"}),
        ({"article": {**NEW_ARTICLE, "title": "   "}}, {"title"}),
        ({"article": {**NEW_ARTICLE, "title": 42}}, {"title"}),
        ({"article": {**NEW_ARTICLE, "title": "x" * (TITLE_MAX_LENGTH + 1)}}, {"title"}),
        ({"article": {**NEW_ARTICLE, "description": None}}, {"description"}),
        # Required means not blank here, as the RealWorld suite expects (API v1 derives one).
        ({"article": {**NEW_ARTICLE, "description": ""}}, {"description"}),
        ({"article": {**NEW_ARTICLE, "description": "  "}}, {"description"}),
        ({"article": {**NEW_ARTICLE, "description": "x" * 301}}, {"description"}),
        ({"article": {**NEW_ARTICLE, "body": ["Text."]}}, {"body"}),
        ({"article": {**NEW_ARTICLE, "tagList": "dragons"}}, {"tagList"}),
        ({"article": {**NEW_ARTICLE, "tagList": [1]}}, {"tagList"}),
        ({"article": {**NEW_ARTICLE, "tagList": None}}, {"tagList"}),
        ({"article": {**NEW_ARTICLE, "tagList": ["%%%"]}}, {"tagList"}),
        ({"article": {**NEW_ARTICLE, "tagList": [f"tag{n}" for n in range(MAX_TAGS + 1)]}}, {"tagList"}),
        ({"article": "Another story"}, {"body"}),
        ([NEW_ARTICLE], {"body"}),
    ]
    for body, fields in bad_bodies:
        assert set(writer.post("/articles", 422, json_body=body)["errors"]) == fields, body
    assert writer.post("/articles", 422, data='{"article": ') == {"errors": {"body": ["is not valid JSON"]}}
    writer.post("/articles", 422, data="title=Form", content_type="application/x-www-form-urlencoded")
    assert not Post.objects.exists()


def test_updating_an_article_refuses_bad_bodies_with_422(alice, article):
    writer = client_for(alice)
    bad_bodies = [
        ({}, {"article"}),
        ({"article": {"tagList": None}}, {"tagList"}),
        ({"article": {"tagList": "dragons"}}, {"tagList"}),
        ({"article": {"title": ""}}, {"title"}),
        ({"article": {"title": None}}, {"title"}),
        ({"article": {"body": 42}}, {"body"}),
        ({"article": {"description": False}}, {"description"}),
        ({"article": {"description": ""}}, {"description"}),
        ({"article": {"title": "Fine", "tagList": ["%%%"]}}, {"tagList"}),  # all or nothing
    ]
    for body, fields in bad_bodies:
        assert set(writer.put("/articles/{slug}", 422, slug=SLUG, json_body=body)["errors"]) == fields, body
    writer.put("/articles/{slug}", 422, slug=SLUG, data="{")
    article.refresh_from_db()
    assert (article.title, list(article.tags.values_list("name", flat=True))) == (
        "How to train your dragon",
        ["dragons"],
    )


def test_comments_refuse_bad_bodies_with_422(bob, article):
    commenter = client_for(bob)
    bad_bodies = [
        ({}, {"comment"}),
        ({"comment": {}}, {"body"}),
        ({"comment": {"body": ""}}, {"body"}),
        ({"comment": {"body": "  \n "}}, {"body"}),
        ({"comment": {"body": None}}, {"body"}),
        ({"comment": {"body": 42}}, {"body"}),
        ({"comment": {"body": ["Hi"]}}, {"body"}),
        ({"comment": {"body": "x" * (COMMENT_MAX_LENGTH + 1)}}, {"body"}),
        ({"comment": "Hi"}, {"body"}),
    ]
    for body, fields in bad_bodies:
        answer = commenter.post("/articles/{slug}/comments", 422, slug=SLUG, json_body=body)
        assert set(answer["errors"]) == fields, body
    commenter.post("/articles/{slug}/comments", 422, slug=SLUG, data="{")
    assert not Comment.objects.exists()
    at_the_limit = {"comment": {"body": "x" * COMMENT_MAX_LENGTH}}
    commenter.post("/articles/{slug}/comments", 201, slug=SLUG, json_body=at_the_limit)


def test_lists_refuse_bad_limits_and_offsets_with_422(bob, article):
    member = client_for(bob)
    bad: list[dict[str, object]] = [
        {"limit": 0},
        {"limit": -1},
        {"limit": "ten"},
        {"limit": "1.5"},
        {"offset": -1},
        {"offset": "x"},
        {"limit": "9" * 5000},
    ]
    for query in bad:
        for template in ("/articles", "/articles/feed"):
            answer = member.get(template, 422, query=query)
            assert set(answer["errors"]) == set(query), (template, query)
    # Past the end is an empty page, however far; more than 100 at once is 100.
    assert member.get("/articles", query={"offset": 10**30}) == {"articles": [], "articlesCount": 1}
    assert member.get("/articles", query={"offset": 1}) == {"articles": [], "articlesCount": 1}
    assert len(member.get("/articles", query={"limit": 10**30})["articles"]) == 1


def test_repeated_comments_are_429_with_retry_after(settings, bob, article):
    settings.QUILL_COMMENT_RATE = "2/minute"
    commenter = client_for(bob)
    for n in range(2):
        commenter.post(
            "/articles/{slug}/comments", 201, slug=SLUG, json_body={"comment": {"body": f"Hi {n}"}}
        )
    refused = commenter.post("/articles/{slug}/comments", 429, slug=SLUG, json_body=HI)
    assert set(refused["errors"]) == {"request"}
    assert commenter.last is not None and 1 <= int(commenter.last["Retry-After"]) <= 60
    assert Comment.objects.count() == 2
