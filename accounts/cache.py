"""What the accounts app's writes change for anonymous readers (faces.readcache)."""

from django.db.models import Model

from accounts.models import Follow, Upload, User
from faces.readcache import ALL, RowScopes, everywhere, nothing


def _user(user: User, fields: frozenset[str] | None) -> tuple[str, ...]:
    if fields == {"last_login"}:
        return ()  # signing in shows readers nothing
    return (ALL,)  # a member's name, avatar or suspension shows wherever their stories do


MODELS: dict[type[Model], RowScopes] = {
    User: _user,
    Follow: everywhere,  # follower counts on profiles
    # An upload shows only once a story or a profile points at it, whose save says so.
    Upload: nothing,
}
