"""What a member's notices are, as pages and the API show them: only those whose subject the
member may still see, in a fixed number of queries per page."""

from typing import TYPE_CHECKING, TypedDict

from django.db.models import Count, Exists, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from accounts.models import User
from notifications.models import DEFAULT_DELIVERY, Kind, Notification, NotificationActor, NotificationSetting
from posts.models import readers_see

# The actors a notice names ("Ada, Bo and 12 others"); the rest are counted.
ACTORS_SHOWN = 3


class Shown(TypedDict):
    """What notifications_of adds to each notice."""

    actor_count: int
    shown_actors: list[NotificationActor]


if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

    ShownNotification = WithAnnotations[Notification, Shown]


def _active_actors() -> QuerySet[NotificationActor]:
    # A suspended member's part in a notice disappears (and comes back on reinstatement).
    return NotificationActor.objects.filter(actor__is_active=True)


def _visible(member: User) -> QuerySet[Notification]:
    return (
        Notification.objects.filter(recipient=member)
        .filter(Q(post__isnull=True) | readers_see("post__"))
        .filter(Q(comment__isnull=True) | Q(comment__author__is_active=True))
        .filter(Exists(_active_actors().filter(notification=OuterRef("pk"))))
    )


def notifications_of(*, member: User) -> "QuerySet[ShownNotification]":
    """The member's notices, newest (or newest grown) first, each with `shown_actors` (the
    latest ACTORS_SHOWN) and `actor_count`. A notice whose story is unpublished, hidden or
    deleted, whose response is hidden, or whose actors are all suspended, is left out."""
    active = _active_actors()
    actor_count = (
        active.filter(notification=OuterRef("pk")).order_by().values("notification").annotate(n=Count("*"))
    )
    return (
        _visible(member)
        .annotate(actor_count=Coalesce(Subquery(actor_count.values("n")), 0, output_field=IntegerField()))
        .select_related("post", "comment")
        .prefetch_related(
            Prefetch(
                "actor_links",
                queryset=active.select_related("actor").order_by("-added_at", "-pk")[:ACTORS_SHOWN],
                to_attr="shown_actors",
            )
        )
        .order_by("-updated_at", "-pk")
    )


def unread_count(*, member: User) -> int:
    """The bell's number: one query."""
    return _visible(member).filter(read_at__isnull=True).count()


def delivery_of(*, member_id: int, kind: str) -> str:
    """How the member wants this kind of notice told (Delivery)."""
    chosen = NotificationSetting.objects.filter(member_id=member_id, kind=kind).values_list(
        "delivery", flat=True
    )
    return chosen.first() or DEFAULT_DELIVERY[kind]


def deliveries_of(*, member: User) -> dict[str, str]:
    """Every kind's Delivery for the member (their choices, else the defaults), by Kind."""
    chosen = dict(NotificationSetting.objects.filter(member=member).values_list("kind", "delivery"))
    return {kind: chosen.get(kind, DEFAULT_DELIVERY[kind]) for kind in Kind.values}
