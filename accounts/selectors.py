"""Account reads shared by the faces."""

from typing import TYPE_CHECKING, TypedDict

from django.contrib.auth.models import AnonymousUser
from django.db.models import BooleanField, Count, Exists, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from accounts.models import Follow, User
from kernel.exceptions import NotAllowed, NotFound


def get_author(*, username: str) -> User:
    """The active member with this username (any case); suspended members are not found."""
    try:
        return User.objects.get(username__iexact=username, is_active=True)
    except User.DoesNotExist:
        raise NotFound("No such author.", thing="author") from None


def signed_in_user(user: User | AnonymousUser) -> User:
    """The member behind a request that only members reach (login_required, an author check
    made first, an API permission). Raises NotAllowed for an anonymous visitor."""
    if not isinstance(user, User):
        raise NotAllowed("Sign in first.", thing="account")
    return user


class ProfileFacts(TypedDict):
    follower_count: int
    followed_by_viewer: bool


if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

    Profile = WithAnnotations[User, ProfileFacts]


def _profiles(*, viewer: User | AnonymousUser | None) -> "QuerySet[Profile]":
    followers = Follow.objects.filter(followed=OuterRef("pk")).order_by().values("followed")
    users = User.objects.annotate(
        follower_count=Coalesce(
            Subquery(followers.annotate(n=Count("*")).values("n")), 0, output_field=IntegerField()
        )
    )
    if isinstance(viewer, User):
        return users.annotate(
            followed_by_viewer=Exists(Follow.objects.filter(follower=viewer, followed=OuterRef("pk")))
        )
    return users.annotate(followed_by_viewer=Value(False, output_field=BooleanField()))


def get_profile(*, username: str, viewer: User | AnonymousUser | None) -> "Profile":
    """An active member with `follower_count` and whether the viewer follows them
    (`followed_by_viewer`), in one query."""
    try:
        return _profiles(viewer=viewer).get(username__iexact=username, is_active=True)
    except User.DoesNotExist:
        raise NotFound("No such author.", thing="author") from None


def get_followed(*, username: str, viewer: User) -> "Profile":
    """A member as the viewer's follow button sees them, as get_profile does, suspended too: a
    follow can always be undone (accounts.services.follow refuses to start one)."""
    try:
        return _profiles(viewer=viewer).get(username__iexact=username)
    except User.DoesNotExist:
        raise NotFound("No such author.", thing="author") from None
