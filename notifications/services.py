"""Notices: made once per thing that happened, grown by new actors, read by their member."""

from collections.abc import Iterable
from uuid import UUID

from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models.functions import Lower
from django.utils import timezone

# The rule for what a mention is lives with usernames, in accounts: stories and responses link
# mentions by it too, and posts may not import notifications.
from accounts.mentions import MENTIONS_PER_TEXT as MENTIONS_PER_TEXT
from accounts.mentions import mentioned_usernames
from accounts.models import User
from kernel.exceptions import InvalidToken
from notifications.models import Delivery, Kind, Notification, NotificationActor, NotificationSetting


def mentioned_members(text: str, *, besides: Iterable[int]) -> list[User]:
    """The active members `text` mentions, but not those in `besides` (its author, and who is
    told of it otherwise)."""
    names = mentioned_usernames(text)
    if not names:
        return []
    # Lower(username) is the unique index's expression: one index lookup per name.
    members = User.objects.alias(username_lower=Lower("username")).filter(
        username_lower__in=names, is_active=True
    )
    return list(members.exclude(pk__in=list(besides)))


@transaction.atomic
def notify(
    *,
    recipient_id: int,
    kind: Kind,
    key: str,
    actor_id: int,
    post_id: UUID | str | None = None,
    comment_id: int | None = None,
) -> Notification | None:
    """Tells `recipient_id` once per `key`; another actor on the same key grows the notice and
    makes it unread again. The notice when it is new, else None (grown, or nothing new).
    Nobody is told of their own action."""
    if recipient_id == actor_id:
        return None
    now = timezone.now()
    notice, created = Notification.objects.get_or_create(
        recipient_id=recipient_id,
        key=key,
        defaults={"kind": kind, "post_id": post_id, "comment_id": comment_id, "updated_at": now},
    )
    _, added = NotificationActor.objects.get_or_create(notification=notice, actor_id=actor_id)
    if added and not created:
        Notification.objects.filter(pk=notice.pk).update(updated_at=now, read_at=None)
    return notice if created else None


@transaction.atomic
def notify_many(
    *, recipient_ids: Iterable[int], kind: Kind, key: str, actor_id: int, post_id: UUID | str
) -> int:
    """notify() for many members at once (a new story to its author's followers), in three
    statements whatever their number; those already told are left as they are."""
    recipients = [recipient for recipient in dict.fromkeys(recipient_ids) if recipient != actor_id]
    now = timezone.now()
    Notification.objects.bulk_create(
        [
            Notification(recipient_id=recipient, kind=kind, key=key, post_id=post_id, updated_at=now)
            for recipient in recipients
        ],
        ignore_conflicts=True,
    )
    notices = Notification.objects.filter(key=key, recipient_id__in=recipients).values_list("pk", flat=True)
    links = NotificationActor.objects.bulk_create(
        [NotificationActor(notification_id=notice, actor_id=actor_id) for notice in notices],
        ignore_conflicts=True,
    )
    return len(links)


_UNSUBSCRIBE_SALT = "quill.notifications.unsubscribe"


def unsubscribe_token(*, member_id: int, kind: str) -> str:
    """What an email's unsubscribe link carries: signed, so it stops emails of one kind to one
    member without signing anyone in. It does not expire (an old email's link still works)."""
    return signing.dumps({"m": member_id, "k": kind}, salt=_UNSUBSCRIBE_SALT, compress=True)


def unsubscribe_claims(*, token: str) -> tuple[User, Kind]:
    """Whose emails of which kind a link stops; InvalidToken for a link that is not ours."""
    try:
        claims = signing.loads(token, salt=_UNSUBSCRIBE_SALT)
        return User.objects.get(pk=claims["m"]), Kind(claims["k"])
    except (signing.BadSignature, User.DoesNotExist, KeyError, TypeError, ValueError) as exc:
        raise InvalidToken("This unsubscribe link is not valid: use the one in your latest email.") from exc


@transaction.atomic
def unsubscribe(*, token: str) -> tuple[User, Kind]:
    """Stops the emails (at once and in digests) of one kind to one member: their notices of
    that kind stay on the site. Running it twice is running it once."""
    member, kind = unsubscribe_claims(token=token)
    NotificationSetting.objects.update_or_create(
        member=member, kind=kind, defaults={"delivery": Delivery.SITE}
    )
    return member, kind


@transaction.atomic
def mark_read(*, member: User, ids: Iterable[int] | None = None) -> int:
    """Marks the member's notices `ids` read (all of them when None); others' are left alone."""
    unread = Notification.objects.filter(recipient=member, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=list(ids))
    return unread.update(read_at=timezone.now())


@transaction.atomic
def set_delivery(*, member: User, choices: dict[str, str]) -> None:
    """How the member wants each kind of notice (a Delivery per Kind; kinds left out keep theirs)."""
    for kind, delivery in choices.items():
        if kind not in Kind.values or delivery not in Delivery.values:
            raise ValidationError({kind: [f"Choose one of: {', '.join(Delivery.values)}."]})
        NotificationSetting.objects.update_or_create(
            member=member, kind=kind, defaults={"delivery": delivery}
        )
