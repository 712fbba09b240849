"""The bell in every page's header."""

from functools import cached_property

from django.http import HttpRequest

from accounts.models import User
from notifications import selectors


class UnreadNotifications:
    """The signed-in member's unread count, counted (one query) only when a template shows it."""

    def __init__(self, member: User) -> None:
        self.member = member

    @cached_property
    def count(self) -> int:
        return selectors.unread_count(member=self.member)


def bell(request: HttpRequest) -> dict[str, UnreadNotifications]:
    user = getattr(request, "user", None)
    return {"unread_notifications": UnreadNotifications(user)} if isinstance(user, User) else {}
