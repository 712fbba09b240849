"""The social rules shared by every face: follows, claps, responses, the feed and profiles."""

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings

from accounts import services as account_services
from accounts.tests.factories import UserFactory
from kernel.exceptions import NotAllowed, NotFound, RateLimited
from posts import selectors, services
from posts.models import Clap, Comment
from posts.tests.factories import PostFactory
from posts.tests.queries import tag_queries

pytestmark = pytest.mark.django_db


def test_claps_are_once_per_member_and_only_for_published_stories(user, other_user):
    post = PostFactory(author=other_user)
    services.clap(post=post, member=user)
    services.clap(post=post, member=user)
    assert Clap.objects.filter(post=post).count() == 1
    services.unclap(post=post, member=user)
    assert not Clap.objects.exists()
    with pytest.raises(NotFound):
        services.clap(post=PostFactory(author=other_user, publish=False), member=user)


@pytest.mark.parametrize(
    ("body", "message"),
    [("   ", "Write something first."), ("a\x00b", "Remove the NUL characters"), ("x" * 5001, "5,000")],
)
def test_a_response_needs_text_of_at_most_5000_characters(user, body, message):
    post = PostFactory()
    with pytest.raises(ValidationError) as refusal:
        services.add_comment(post=post, author=user, body=body)
    assert message in str(refusal.value.message_dict["body"])
    assert not Comment.objects.exists()


def test_responses_are_for_published_stories_and_rate_limited_per_member(user, other_user):
    with pytest.raises(NotFound):
        services.add_comment(post=PostFactory(publish=False), author=user, body="Hello")
    post = PostFactory()
    with override_settings(QUILL_COMMENT_RATE="2/minute"):
        services.add_comment(post=post, author=user, body="One")
        services.add_comment(post=post, author=user, body="Two")
        with pytest.raises(RateLimited):
            services.add_comment(post=post, author=user, body="Three")
        services.add_comment(post=post, author=other_user, body="Someone else may")
    assert Comment.objects.count() == 3


def test_a_response_is_deleted_by_its_author_the_storys_author_or_a_moderator(user, other_user, moderator):
    post_author = UserFactory()
    post = PostFactory(author=post_author)
    stranger = UserFactory()
    for deleter in (user, post_author, moderator):
        comment = services.add_comment(post=post, author=user, body="Deletable")
        with pytest.raises(NotAllowed):
            services.delete_comment(comment=comment, user=stranger)
        services.delete_comment(comment=comment, user=deleter)
    assert not Comment.objects.exists()


@override_settings(QUILL_COMMENT_RATE="100/minute")
def test_lists_carry_counts_and_the_viewers_claps_and_follows_in_constant_queries(
    user, other_user, django_assert_num_queries
):
    for number in range(12):
        post = PostFactory(author=other_user if number % 2 else UserFactory(), tags=["a", "b"])
        if number % 3 == 0:
            services.clap(post=post, member=user)
        services.add_comment(post=post, author=other_user, body=f"Response {number}")
    account_services.follow(follower=user, followed=other_user)

    with django_assert_num_queries(1 + tag_queries()):  # the stories with counts, flags (and tags)
        posts = list(selectors.with_social(selectors.published_posts(), viewer=user)[:12])
        [post.tag_names for post in posts]
    assert sum(post.clapped for post in posts) == 4
    assert sum(post.author_followed for post in posts) == 6
    assert all(post.comment_count == 1 for post in posts)
    assert sum(post.clap_count for post in posts) == 4

    anonymous = list(selectors.with_social(selectors.published_posts(), viewer=None))
    assert not any(post.clapped or post.author_followed for post in anonymous)


def test_the_feed_is_published_stories_by_followed_authors_newest_first(user, other_user):
    older = PostFactory(author=other_user, title="Older")
    newer = PostFactory(author=other_user, title="Newer")
    PostFactory(author=other_user, title="Draft", publish=False)
    PostFactory(title="Someone I do not follow")
    assert list(selectors.feed_posts(viewer=user)) == []
    account_services.follow(follower=user, followed=other_user)
    assert list(selectors.feed_posts(viewer=user)) == [newer, older]


def test_stories_clapped_by_a_member_can_be_listed(user, other_user):
    liked = PostFactory(title="Liked")
    PostFactory(title="Not liked")
    services.clap(post=liked, member=user)
    assert list(selectors.published_posts(clapped_by=user.username.upper())) == [liked]


def test_tags_in_use_come_from_published_stories_most_used_first():
    PostFactory(tags=["common", "rare"])
    PostFactory(tags=["common"])
    PostFactory(tags=["secret"], publish=False)
    assert selectors.tags_in_use() == ["common", "rare"]


def test_an_author_summary_is_the_excerpt_and_a_blank_one_falls_back(user):
    post = services.create_post(author=user, title="T", content="The opening prose.", description=" Mine. ")
    assert (post.description, post.excerpt) == ("Mine.", "Mine.")
    services.update_post(post=post, editor=user, description="")
    assert post.excerpt == "The opening prose."
