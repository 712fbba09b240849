"""What the accounts services announce (accounts.events)."""

from collections.abc import Callable

import pytest

from accounts import services
from accounts.events import (
    AccountDeleted,
    CredentialsEnded,
    EmailChanged,
    Followed,
    PasswordChanged,
    ProfileChanged,
    SignedUp,
    Unfollowed,
    UsersReinstated,
    UsersSuspended,
)
from accounts.models import User
from accounts.tests.factories import UserFactory
from kernel.events import Event
from kernel.testing import recording

pytestmark = pytest.mark.django_db

PASSWORD = "a long and good password"


@pytest.fixture
def announced(django_capture_on_commit_callbacks) -> Callable[[Callable[[], object]], list[Event]]:
    def run(write: Callable[[], object]) -> list[Event]:
        with recording() as delivered, django_capture_on_commit_callbacks(execute=True):
            write()
        return delivered

    return run


def test_signing_up_announces_the_new_member(announced):
    events = announced(lambda: services.sign_up(email="ada@example.com", password=PASSWORD, ip="192.0.2.1"))
    assert events == [SignedUp(user_id=User.objects.get().pk)]


def test_profile_and_email_changes_are_announced(announced, user):
    assert announced(lambda: services.update_profile(user=user, name="Ada")) == [
        ProfileChanged(user_id=user.pk)
    ]
    assert announced(lambda: services.update_profile(user=user)) == []
    old = user.email
    assert announced(lambda: services.set_email(user=user, email="new@example.com")) == [
        EmailChanged(user_id=user.pk, old_email=old)
    ]
    assert announced(lambda: services.set_email(user=user, email="new@example.com")) == []


def test_a_password_change_ends_the_credentials_and_signing_out_everywhere_too(announced, user):
    assert announced(lambda: services.set_password(user=user, new_password=PASSWORD)) == [
        PasswordChanged(user_id=user.pk),
        CredentialsEnded(user_id=user.pk),
    ]
    assert announced(lambda: services.sign_out_everywhere(user=user)) == [CredentialsEnded(user_id=user.pk)]


def test_suspension_and_reinstatement_announce_the_members_changed(announced, moderator):
    active, suspended = UserFactory(), UserFactory(is_active=False)
    events = announced(
        lambda: services.suspend_users(users=[active, suspended, moderator], moderator=moderator)
    )
    assert events == [UsersSuspended(user_ids=(active.pk,))]
    [reinstated] = announced(lambda: services.reinstate_users(users=User.objects.all()))
    assert isinstance(reinstated, UsersReinstated)
    assert sorted(reinstated.user_ids) == sorted((active.pk, suspended.pk))


def test_follows_are_announced_when_they_change_something(announced, user, other_user):
    assert announced(lambda: services.follow(follower=user, followed=other_user)) == [
        Followed(follower_id=user.pk, followed_id=other_user.pk)
    ]
    assert announced(lambda: services.follow(follower=user, followed=other_user)) == []
    assert announced(lambda: services.unfollow(follower=user, followed=other_user)) == [
        Unfollowed(follower_id=user.pk, followed_id=other_user.pk)
    ]
    assert announced(lambda: services.unfollow(follower=user, followed=other_user)) == []


def test_deleting_an_account_announces_it(announced, user):
    user.set_password(PASSWORD)
    user.save()
    user_id = user.pk
    assert announced(lambda: services.delete_account(user=user, password=PASSWORD, ip="192.0.2.1")) == [
        AccountDeleted(user_id=user_id)
    ]
