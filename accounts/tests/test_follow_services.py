"""Following: the rules of accounts.services.follow and unfollow, and who has a profile."""

import pytest
from django.core.exceptions import ValidationError

from accounts import selectors, services
from kernel.exceptions import NotFound

pytestmark = pytest.mark.django_db


def test_following_is_once_per_pair_and_never_oneself(user, other_user):
    services.follow(follower=user, followed=other_user)
    services.follow(follower=user, followed=other_user)
    profile = selectors.get_profile(username=other_user.username, viewer=user)
    assert (profile.follower_count, profile.followed_by_viewer) == (1, True)
    with pytest.raises(ValidationError):
        services.follow(follower=user, followed=user)
    services.unfollow(follower=user, followed=other_user)
    services.unfollow(follower=user, followed=other_user)
    profile = selectors.get_profile(username=other_user.username.upper(), viewer=user)
    assert (profile.follower_count, profile.followed_by_viewer) == (0, False)


def test_a_suspended_member_has_no_profile(user):
    user.is_active = False
    user.save(update_fields=["is_active"])
    with pytest.raises(NotFound):
        selectors.get_profile(username=user.username, viewer=None)
