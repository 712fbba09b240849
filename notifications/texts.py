"""A notice in the words members read, the same on the pages, in emails and in digests.

Each takes a notice as notifications.selectors.notifications_of gives it, with `shown_actors`
and `actor_count`."""

from typing import TYPE_CHECKING

from django.urls import reverse

from notifications.models import Kind

if TYPE_CHECKING:
    from notifications.selectors import ShownNotification


def who(notice: "ShownNotification") -> str:
    """ "Bo", "Bo and Cy", or "Bo and 12 others" (the latest actor first)."""
    names = [link.actor.display_name for link in notice.shown_actors]
    count = notice.actor_count
    if count <= 1 or not names:
        return names[0] if names else "Someone"
    if count == 2 and len(names) >= 2:
        return f"{names[0]} and {names[1]}"
    return f"{names[0]} and {count - 1} others"


def summary(notice: "ShownNotification") -> str:
    """One line: what happened ("Bo and 12 others clapped for “Engines”")."""
    title = f"“{notice.post.title}”" if notice.post is not None else ""
    if notice.kind == Kind.COMMENT:
        return f"{who(notice)} responded to {title}"
    if notice.kind == Kind.MENTION:
        where = f"a response to {title}" if notice.comment_id is not None else title
        return f"{who(notice)} mentioned you in {where}"
    if notice.kind == Kind.FOLLOW:
        return f"{who(notice)} started following you"
    if notice.kind == Kind.CLAP:
        return f"{who(notice)} clapped for {title}"
    return f"{who(notice)} published {title}"


def link(notice: "ShownNotification") -> str:
    """The path of what the notice is about: the response, the story, or the new follower."""
    if notice.comment_id is not None and notice.post is not None:
        return f"{notice.post.get_absolute_url()}#response-{notice.comment_id}"
    if notice.post is not None:
        return notice.post.get_absolute_url()
    actors = notice.shown_actors
    return reverse("posts:author", args=[actors[0].actor.username]) if actors else reverse("posts:home")
