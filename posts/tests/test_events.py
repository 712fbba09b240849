"""What the posts services announce (posts.events), through the faces that call them."""

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.utils import timezone

from kernel.events import Event
from kernel.testing import recording
from posts import services
from posts.events import (
    Clapped,
    CommentAdded,
    CommentDeleted,
    PostChanged,
    PostDeleted,
    PostPublished,
    PostsRerendered,
    PostsTakenDown,
    PostUnpublished,
    Unclapped,
)
from posts.models import Post
from posts.tests.factories import PostFactory

pytestmark = pytest.mark.django_db

BLOG = "/api/v1/blog"


@pytest.fixture
def announced(django_capture_on_commit_callbacks) -> Callable[[Callable[[], object]], list[Event]]:
    """What `write()` announced, delivered as its transaction commits (the test's own
    transaction never does: its commit callbacks are run by hand)."""

    def run(write: Callable[[], object]) -> list[Event]:
        with recording() as delivered, django_capture_on_commit_callbacks(execute=True):
            write()
        return delivered

    return run


@pytest.fixture
def writer(api_client_for, user):
    return api_client_for(user)


def created(writer, **body) -> Callable[[], object]:
    def create() -> None:
        response = writer.post(BLOG, {"title": "Told", "content": "Words.", **body}, format="json")
        assert response.status_code == 201

    return create


def test_publishing_through_api_v1_create_announces_post_published_once(announced, writer, user):
    events = announced(created(writer))
    post = Post.objects.get()
    assert post.published_at is not None
    assert events == [PostPublished(post_id=post.pk, author_id=user.pk, published_at=post.published_at)]


def test_a_scheduled_create_announces_its_time_and_a_draft_nothing(announced, writer, user):
    goes_up = (timezone.now() + timedelta(days=1)).replace(microsecond=0)
    [published] = announced(created(writer, published_at=goes_up.isoformat()))
    assert isinstance(published, PostPublished) and published.published_at == goes_up
    assert announced(created(writer, title="Drawer", published=False)) == []


def test_a_repeated_idempotent_create_announces_once(announced, writer):
    def create() -> None:
        writer.post(BLOG, {"title": "Once", "content": "x"}, format="json", HTTP_IDEMPOTENCY_KEY="k1")

    assert len(announced(create)) == 1
    assert announced(create) == []


def test_editing_announces_what_the_save_did(announced, writer, user):
    post = PostFactory(author=user, publish=False)

    def patch(**body) -> Callable[[], object]:
        return lambda: writer.patch(f"{BLOG}/{post.pk}", body, format="json")

    assert announced(patch(title="Still a draft")) == [PostChanged(post_id=post.pk, slug=post.slug)]
    [published] = announced(patch(published=True))
    assert isinstance(published, PostPublished) and published.post_id == post.pk
    assert announced(patch(title="Edited up")) == [PostChanged(post_id=post.pk, slug=post.slug)]
    assert announced(patch(published=False)) == [
        PostUnpublished(post_id=post.pk, slug=post.slug, author_id=user.pk)
    ]


def test_a_scheduled_story_given_another_time_is_published_again(announced, user):
    goes_up = timezone.now() + timedelta(days=1)
    post = services.create_post(author=user, title="Later", published_at=goes_up)
    events = announced(
        lambda: services.update_post(post=post, editor=user, published_at=goes_up + timedelta(hours=1))
    )
    assert events == [
        PostPublished(post_id=post.pk, author_id=user.pk, published_at=goes_up + timedelta(hours=1))
    ]
    up_now = PostFactory(author=user)
    assert announced(lambda: services.update_post(post=up_now, editor=user, publish=True)) == [
        PostChanged(post_id=up_now.pk, slug=up_now.slug)
    ]


def test_deleting_a_story_announces_it(announced, writer, user):
    post = PostFactory(author=user)
    assert announced(lambda: writer.delete(f"{BLOG}/{post.pk}")) == [
        PostDeleted(post_id=post.pk, slug=post.slug, author_id=user.pk)
    ]


def test_moderation_and_rerendering_announce_the_stories_they_changed(announced, user):
    up, draft = PostFactory(author=user), PostFactory(author=user, publish=False)
    assert announced(lambda: services.unpublish_posts(posts=Post.objects.all())) == [
        PostsTakenDown(post_ids=(up.pk,))
    ]
    assert announced(lambda: services.unpublish_posts(posts=Post.objects.all())) == []
    Post.objects.filter(pk=draft.pk).update(body_html="<p>an older renderer</p>")
    assert announced(lambda: services.rerender(post_ids=[up.pk, draft.pk])) == [
        PostsRerendered(post_ids=(draft.pk,))
    ]


def test_claps_and_responses_are_announced_when_they_change_something(announced, user, other_user):
    post = PostFactory(author=user)
    assert announced(lambda: services.clap(post=post, member=other_user)) == [
        Clapped(post_id=post.pk, member_id=other_user.pk)
    ]
    assert announced(lambda: services.clap(post=post, member=other_user)) == []
    assert announced(lambda: services.unclap(post=post, member=other_user)) == [
        Unclapped(post_id=post.pk, member_id=other_user.pk)
    ]
    assert announced(lambda: services.unclap(post=post, member=other_user)) == []
    [added] = announced(lambda: services.add_comment(post=post, author=other_user, body="Well told."))
    assert isinstance(added, CommentAdded) and (added.post_id, added.author_id) == (post.pk, other_user.pk)
    comment = post.comments.get()
    assert announced(lambda: services.delete_comment(comment=comment, user=user)) == [
        CommentDeleted(comment_id=added.comment_id, post_id=post.pk, author_id=other_user.pk)
    ]
