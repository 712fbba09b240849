"""The RealWorld API's reads cost a fixed number of queries, whatever the page holds: 2 or 20
articles (each by its own author, with tags, favorites, comments and follows), comments or
followers. A signed-in reader costs one query more (the token's account)."""

import pytest

from accounts import services as accounts
from accounts.models import User
from accounts.tests.factories import UserFactory
from blog_project.tests.realworld.contract import RealWorldClient, client_for
from posts import services
from posts.models import Post
from posts.tests.factories import PostFactory
from posts.tests.queries import tag_queries

pytestmark = pytest.mark.django_db

SIZES = [2, 20]
# The account behind the token (signed in only).
TOKEN = 1
# The page (with its tags on Postgres, else one query more for the page's), and articlesCount.
ARTICLE_LIST = 2 + tag_queries()
# The article (with its author, favorites, follow and, on Postgres, tags in the same query).
ARTICLE = 1 + tag_queries()
# The article, and its comments with their authors.
COMMENTS = 2 + tag_queries()
# The profile, with its follow.
PROFILE = 1


def client(reader: User, signed_in: bool) -> RealWorldClient:
    return client_for(reader) if signed_in else RealWorldClient()


def make_posts(count: int, reader: User) -> list[Post]:
    """`count` stories, each by its own author whom the reader follows, with two tags (one
    shared), a favorite from the reader and another member, and a comment by its author."""
    fan = UserFactory()
    made = []
    for number in range(count):
        post = PostFactory(author=UserFactory(), tags=[f"topic{number}", "shared"])
        accounts.follow(follower=reader, followed=post.author)
        services.clap(post=post, member=reader)
        services.clap(post=post, member=fan)
        services.add_comment(post=post, author=post.author, body=f"Comment {number}")
        made.append(post)
    return made


@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "signed-in"])
@pytest.mark.parametrize("count", SIZES)
def test_the_article_list_costs_the_same_whatever_its_length(count, signed_in, django_assert_num_queries):
    reader = UserFactory()
    make_posts(count, reader)
    member = client(reader, signed_in)
    for query in ({}, {"tag": "shared"}, {"favorited": reader.username}):
        with django_assert_num_queries(ARTICLE_LIST + TOKEN * signed_in):
            listing = member.get("/articles", query={"limit": 20, **query})
        assert (len(listing["articles"]), listing["articlesCount"]) == (count, count)
        assert all(item["favorited"] is signed_in for item in listing["articles"])
        assert all(item["author"]["following"] is signed_in for item in listing["articles"])


@pytest.mark.parametrize("count", SIZES)
def test_the_feed_costs_the_same_whatever_its_length(count, django_assert_num_queries):
    reader = UserFactory()
    make_posts(count, reader)
    PostFactory()  # by someone the reader does not follow
    member = client_for(reader)
    with django_assert_num_queries(TOKEN + ARTICLE_LIST):
        feed = member.get("/articles/feed")
    assert (len(feed["articles"]), feed["articlesCount"]) == (count, count)


@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "signed-in"])
@pytest.mark.parametrize("count", SIZES)
def test_an_article_and_its_comments_cost_the_same_whatever_their_favorites_and_comments(
    count, signed_in, django_assert_num_queries
):
    reader = UserFactory()
    post = PostFactory(tags=["one", "two"])
    for number in range(count):
        commenter = UserFactory()
        services.clap(post=post, member=commenter)
        services.add_comment(post=post, author=commenter, body=f"Comment {number}")
        accounts.follow(follower=reader, followed=commenter)
    member = client(reader, signed_in)
    with django_assert_num_queries(ARTICLE + TOKEN * signed_in):
        article = member.get("/articles/{slug}", slug=post.slug)["article"]
    assert (article["favoritesCount"], sorted(article["tagList"])) == (count, ["one", "two"])
    with django_assert_num_queries(COMMENTS + TOKEN * signed_in):
        comments = member.get("/articles/{slug}/comments", slug=post.slug)["comments"]
    assert len(comments) == count
    assert all(comment["author"]["following"] is signed_in for comment in comments)


@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "signed-in"])
@pytest.mark.parametrize("count", SIZES)
def test_a_profile_costs_the_same_whatever_its_followers_and_stories(
    count, signed_in, django_assert_num_queries
):
    reader = UserFactory()
    author = UserFactory()
    accounts.follow(follower=reader, followed=author)
    for _ in range(count):
        accounts.follow(follower=UserFactory(), followed=author)
        PostFactory(author=author)
    member = client(reader, signed_in)
    with django_assert_num_queries(PROFILE + TOKEN * signed_in):
        profile = member.get("/profiles/{username}", username=author.username)["profile"]
    assert profile["following"] is signed_in
