"""Account reads shared by the faces."""

from django.contrib.auth.models import AnonymousUser

from accounts.models import User
from blog_project.exceptions import NotAllowed, NotFound


def get_author(*, username: str) -> User:
    """The active member with this username (any case); suspended members are not found."""
    try:
        return User.objects.get(username__iexact=username, is_active=True)
    except User.DoesNotExist:
        raise NotFound("No such author.") from None


def signed_in_user(user: User | AnonymousUser) -> User:
    """The member behind a request that only members reach (login_required, an author check
    made first, an API permission). Raises NotAllowed for an anonymous visitor."""
    if not isinstance(user, User):
        raise NotAllowed("Sign in first.")
    return user
