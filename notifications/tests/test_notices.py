"""Notices from what happens (SPEC §9.2): made by jobs from domain events, once per thing
that happened, never for one's own action, gone while their subject is hidden."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from accounts import services as account_services
from accounts.tests.factories import UserFactory
from jobs.testing import run_ready_jobs
from notifications import jobs, selectors, services
from notifications.models import Delivery, Kind, Notification, NotificationSetting
from posts import services as post_services
from posts.tests.factories import PostFactory

pytestmark = pytest.mark.django_db


def notices(member) -> list[tuple[str, list[str], int]]:
    """(kind, usernames named, actor count) of what the member sees, newest first."""
    return [
        (notice.kind, [link.actor.username for link in notice.shown_actors], notice.actor_count)
        for notice in selectors.notifications_of(member=member)
    ]


@pytest.fixture
def author(db):
    return UserFactory(username="ada")


@pytest.fixture
def story(author):
    return PostFactory(author=author, title="Engines", content="On engines.")


def test_a_response_tells_the_author_and_its_mentions_tell_those_named_once(author, story):
    reader, named = UserFactory(username="bo"), UserFactory(username="cy")
    comment = post_services.add_comment(post=story, author=reader, body="Agreed, @CY and @ada. Me: @bo")
    run_ready_jobs()
    assert notices(author) == [(Kind.COMMENT, ["bo"], 1)]  # a response, not also a mention
    assert notices(named) == [(Kind.MENTION, ["bo"], 1)]
    assert notices(reader) == []  # never for one's own action

    jobs.notify_comment.enqueue(comment_id=comment.pk)  # a retried job
    run_ready_jobs()
    assert Notification.objects.count() == 2


def test_nobody_is_told_of_their_own_response(author, story):
    post_services.add_comment(post=story, author=author, body="Thanks all, @ada here.")
    run_ready_jobs()
    assert Notification.objects.count() == 0


def test_a_days_claps_are_one_notice_that_grows_and_reads_as_new_again(author, story):
    bo, cy, di = (UserFactory(username=name) for name in ("bo", "cy", "di"))
    post_services.clap(post=story, member=bo)
    post_services.clap(post=story, member=cy)
    post_services.unclap(post=story, member=bo)
    post_services.clap(post=story, member=bo)  # taken back and given again, the same day
    run_ready_jobs()
    assert notices(author) == [(Kind.CLAP, ["cy", "bo"], 2)]
    services.mark_read(member=author)
    assert selectors.unread_count(member=author) == 0

    post_services.clap(post=story, member=di)
    run_ready_jobs()
    assert notices(author) == [(Kind.CLAP, ["di", "cy", "bo"], 3)]
    assert selectors.unread_count(member=author) == 1

    jobs.notify_clap.enqueue(post_id=str(story.pk), member_id=bo.pk, day="2099-01-02")  # another day
    run_ready_jobs()
    assert [kind for kind, *_ in notices(author)] == [Kind.CLAP, Kind.CLAP]


def test_a_follow_is_told_once_however_often_it_is_clicked(author):
    follower = UserFactory(username="bo")
    account_services.follow(follower=follower, followed=author)
    account_services.unfollow(follower=follower, followed=author)
    account_services.follow(follower=follower, followed=author)
    account_services.follow(follower=follower, followed=author)
    run_ready_jobs()
    assert notices(author) == [(Kind.FOLLOW, ["bo"], 1)]


def test_followers_hear_of_a_new_story_in_batches_once(author, monkeypatch):
    followers = UserFactory.create_batch(5)
    for follower in followers:
        account_services.follow(follower=follower, followed=author)
    named = UserFactory(username="cy")
    monkeypatch.setattr(jobs, "FAN_OUT_BATCH", 2)
    story = PostFactory(author=author, content="With thanks to @cy.")
    run_ready_jobs()
    for follower in followers:
        assert notices(follower) == [(Kind.PUBLISHED, ["ada"], 1)]
    assert (Kind.MENTION, ["ada"], 1) in notices(named)
    batches = DBTaskResult.objects.filter(task_path="notifications.jobs.notify_followers")
    assert batches.count() == 3  # 5 followers, 2 a job

    assert story.published_at is not None
    jobs.announce_post.enqueue(post_id=str(story.pk), published_at=story.published_at.isoformat())
    run_ready_jobs()
    assert Notification.objects.filter(kind=Kind.PUBLISHED).count() == 5


def test_a_scheduled_story_is_told_when_its_time_comes_and_not_if_moved(author):
    follower = UserFactory()
    account_services.follow(follower=follower, followed=author)
    run_ready_jobs()
    soon = timezone.now() + timedelta(seconds=2)
    moved = post_services.create_post(author=author, title="Moved", content="x", published_at=soon)
    post_services.update_post(post=moved, editor=author, published_at=timezone.now() + timedelta(days=1))
    kept = post_services.create_post(author=author, title="Kept", content="x", published_at=soon)
    run_ready_jobs()
    assert [kind for kind, *_ in notices(follower)] == []  # not yet
    time.sleep(max(0.0, (soon - timezone.now()).total_seconds()) + 0.2)
    run_ready_jobs()
    told = selectors.notifications_of(member=follower).filter(kind=Kind.PUBLISHED)
    assert [notice.post_id for notice in told] == [kept.pk]


def test_a_notice_disappears_while_its_subject_is_hidden(author, story, moderator):
    reader = UserFactory(username="bo")
    comment = post_services.add_comment(post=story, author=reader, body="Hello")
    post_services.clap(post=story, member=reader)
    run_ready_jobs()
    assert len(notices(author)) == 2

    post_services.update_post(post=story, editor=author, publish=False)
    assert notices(author) == [] and selectors.unread_count(member=author) == 0
    post_services.update_post(post=story, editor=author, publish=True)
    assert len(notices(author)) == 2

    account_services.suspend_users(users=[reader], moderator=moderator)
    assert notices(author) == []
    account_services.reinstate_users(users=[reader])
    assert len(notices(author)) == 2

    post_services.delete_comment(comment=comment, user=reader)
    assert [kind for kind, *_ in notices(author)] == [Kind.CLAP]


def test_the_bell_is_one_query_and_marking_read_touches_only_ones_own(
    author, story, django_assert_num_queries
):
    reader = UserFactory()
    post_services.add_comment(post=story, author=reader, body="One")
    post_services.add_comment(post=story, author=reader, body="Two")
    account_services.follow(follower=author, followed=reader)
    run_ready_jobs()
    with django_assert_num_queries(1):
        assert selectors.unread_count(member=author) == 2
    theirs = Notification.objects.get(recipient=reader)
    mine = Notification.objects.filter(recipient=author).first()
    assert mine is not None
    assert services.mark_read(member=author, ids=[theirs.pk, mine.pk]) == 1
    theirs.refresh_from_db()
    assert theirs.read_at is None and selectors.unread_count(member=author) == 1


def test_a_page_of_notices_costs_the_same_whatever_its_size(author, story, django_assert_num_queries):
    for number in range(6):
        post_services.clap(post=story, member=UserFactory())
        post_services.add_comment(post=story, author=UserFactory(), body=f"Response {number}")
    run_ready_jobs()
    with django_assert_num_queries(2):  # the notices with their story and response, then actors
        page = list(selectors.notifications_of(member=author)[:20])
    assert len(page) == 7 and page[-1].actor_count == 1
    assert [notice.actor_count for notice in page if notice.kind == Kind.CLAP] == [6]
    assert all(len(notice.shown_actors) <= selectors.ACTORS_SHOWN for notice in page)


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("Thanks @Ada and @bo_2!", ["ada", "bo_2"]),
        ("mail me: ada@example.com, see example.com/@ada", []),
        ("Code: `@ada` and\n```\n@bo\n```\nbut @cy", ["cy"]),
        ("@ada @ADA @ada", ["ada"]),
        (" ".join(f"@user{n}" for n in range(30)), [f"user{n}" for n in range(services.MENTIONS_PER_TEXT)]),
    ],
)
def test_mentions_are_names_outside_code_addresses_and_paths(text, names):
    assert services.mentioned_usernames(text) == names


def test_a_kind_turned_off_makes_no_notice(author, story):
    fan, quiet = UserFactory(), UserFactory()
    for member in (fan, quiet):
        account_services.follow(follower=member, followed=author)
    NotificationSetting.objects.create(member=quiet, kind=Kind.PUBLISHED, delivery=Delivery.OFF)
    NotificationSetting.objects.create(member=author, kind=Kind.CLAP, delivery=Delivery.OFF)
    post_services.clap(post=story, member=fan)
    PostFactory(author=author)
    run_ready_jobs()
    assert [kind for kind, *_ in notices(author)] == [Kind.FOLLOW, Kind.FOLLOW]  # no clap notice
    assert [kind for kind, *_ in notices(fan)] == [Kind.PUBLISHED, Kind.PUBLISHED]  # both stories
    assert notices(quiet) == []
