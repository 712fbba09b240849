"""Notices are made by jobs, from the events of other apps' writes (never by the faces): the
subscribers below run in the writing transaction and only enqueue, so a write and the jobs it
causes commit together. Every job is safe to run twice (a notice exists once per key)."""

from datetime import date, datetime
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.events import Followed
from accounts.models import Follow, User
from jobs import job
from mail import messages
from notifications import selectors, services, texts
from notifications.models import Delivery, DigestSent, Kind, Notification, NotificationSetting
from posts.events import Clapped, CommentAdded, PostChanged, PostPublished
from posts.models import Clap, Comment, Post, readers_see

# Followers told per job when a story goes up: an author with many followers is told of in
# many small jobs, which any number of workers share.
FAN_OUT_BATCH = 500
# Notices one digest lists at most (the email links to the rest).
DIGEST_LENGTH = 30


@job()
def notify_comment(*, comment_id: int) -> None:
    """The story's author, of a response; the members it mentions, of the mention."""
    comment = Comment.objects.select_related("post").filter(pk=comment_id).first()
    if comment is None:  # deleted since
        return
    post = comment.post
    _tell(
        recipient_id=post.author_id,
        kind=Kind.COMMENT,
        key=f"comment:{comment.pk}",
        actor_id=comment.author_id,
        post_id=post.pk,
        comment_id=comment.pk,
    )
    for member in services.mentioned_members(comment.body, besides={comment.author_id, post.author_id}):
        _tell(
            recipient_id=member.pk,
            kind=Kind.MENTION,
            key=f"mention:comment:{comment.pk}",
            actor_id=comment.author_id,
            post_id=post.pk,
            comment_id=comment.pk,
        )


@job()
def notify_clap(*, post_id: str, member_id: int, day: str) -> None:
    """The story's author: one notice per story per day, naming everyone who clapped."""
    if not Clap.objects.filter(post_id=post_id, member_id=member_id).exists():
        return  # taken back before the job ran
    author_id = Post.objects.filter(pk=post_id).values_list("author_id", flat=True).first()
    if author_id is not None:
        _tell(
            recipient_id=author_id,
            kind=Kind.CLAP,
            key=f"clap:{post_id}:{day}",
            actor_id=member_id,
            post_id=post_id,
        )


@job()
def notify_follow(*, follower_id: int, followed_id: int, day: str) -> None:
    """The member followed (once a day per follower, however often they click)."""
    if Follow.objects.filter(follower_id=follower_id, followed_id=followed_id).exists():
        _tell(
            recipient_id=followed_id,
            kind=Kind.FOLLOW,
            key=f"follow:{follower_id}:{day}",
            actor_id=follower_id,
        )


@job()
def announce_post(*, post_id: str, published_at: str) -> None:
    """When a story goes up (its scheduled time, for a scheduled one): the members it
    mentions, and its author's followers, in batches. Nothing if the story was unpublished or
    given another time since (that time's own job tells them)."""
    post = Post.objects.filter(readers_see(), pk=post_id).first()
    if post is None or post.published_at != datetime.fromisoformat(published_at):
        return
    _notify_mentions(post)
    followers = list(
        Follow.objects.filter(followed_id=post.author_id, follower__is_active=True)
        .order_by("follower_id")
        .values_list("follower_id", flat=True)
    )
    for start in range(0, len(followers), FAN_OUT_BATCH):
        notify_followers.enqueue(
            post_id=str(post.pk),
            author_id=post.author_id,
            follower_ids=followers[start : start + FAN_OUT_BATCH],
        )


@job()
def notify_followers(*, post_id: str, author_id: int, follower_ids: list[int]) -> None:
    key = f"published:{post_id}"
    turned_off = set(
        NotificationSetting.objects.filter(
            member_id__in=follower_ids, kind=Kind.PUBLISHED, delivery=Delivery.OFF
        ).values_list("member_id", flat=True)
    )
    services.notify_many(
        recipient_ids=[follower for follower in follower_ids if follower not in turned_off],
        kind=Kind.PUBLISHED,
        key=key,
        actor_id=author_id,
        post_id=post_id,
    )
    by_email = NotificationSetting.objects.filter(
        member_id__in=follower_ids, kind=Kind.PUBLISHED, delivery=Delivery.EMAIL
    ).values("member_id")
    for notice_id in Notification.objects.filter(key=key, recipient_id__in=by_email).values_list(
        "pk", flat=True
    ):
        email_notice.enqueue(notification_id=notice_id)


@job()
def notify_post_mentions(*, post_id: str) -> None:
    """An edit of a story readers see may mention someone new (those told already are not again)."""
    post = Post.objects.filter(readers_see(), pk=post_id).first()
    if post is not None:
        _notify_mentions(post)


def _notify_mentions(post: Post) -> None:
    for member in services.mentioned_members(post.content, besides={post.author_id}):
        _tell(
            recipient_id=member.pk,
            kind=Kind.MENTION,
            key=f"mention:post:{post.pk}",
            actor_id=post.author_id,
            post_id=post.pk,
        )


def _tell(
    *,
    recipient_id: int,
    kind: Kind,
    key: str,
    actor_id: int,
    post_id: UUID | str | None = None,
    comment_id: int | None = None,
) -> None:
    """services.notify, unless the member turned this kind off; and the email at once for
    members who want this kind so."""
    delivery = selectors.delivery_of(member_id=recipient_id, kind=kind)
    if delivery == Delivery.OFF:
        return
    told = services.notify(
        recipient_id=recipient_id,
        kind=kind,
        key=key,
        actor_id=actor_id,
        post_id=post_id,
        comment_id=comment_id,
    )
    if told is not None and delivery == Delivery.EMAIL:
        email_notice.enqueue(notification_id=told.pk)


def _unsubscribe_url(member_id: int, kind: str) -> str:
    token = services.unsubscribe_token(member_id=member_id, kind=kind)
    return settings.SITE_URL + reverse("notifications:unsubscribe", args=[token])


@job()
def email_notice(*, notification_id: int) -> None:
    """One notice by email, once: not if it was emailed already, is hidden or gone, or the
    member no longer wants this kind by email."""
    with transaction.atomic():
        stored = Notification.objects.select_for_update().filter(pk=notification_id, emailed_at=None).first()
        if stored is None:
            return
        member = stored.recipient
        notice = selectors.notifications_of(member=member).filter(pk=stored.pk).first()
        if notice is None or selectors.delivery_of(member_id=member.pk, kind=notice.kind) != Delivery.EMAIL:
            return
        unsubscribe = _unsubscribe_url(member.pk, notice.kind)
        messages.send(
            template="notifications/mail/notice",
            to=member.email,
            context={
                "member": member,
                "summary": texts.summary(notice),
                "link": settings.SITE_URL + texts.link(notice),
                "kind": Kind(notice.kind).label,
                "unsubscribe": unsubscribe,
                "settings": settings.SITE_URL + reverse("notifications:settings"),
            },
            headers=messages.unsubscribe_headers(unsubscribe),
        )
        # Marked in the transaction that sent it: a failed send leaves it to the retry.
        Notification.objects.filter(pk=stored.pk).update(emailed_at=timezone.now())


@job()
def send_digests() -> None:
    """Daily (QUILL_PERIODIC_JOBS): a digest job for each member who wants one."""
    members = NotificationSetting.objects.filter(delivery=Delivery.DIGEST).values_list("member_id", flat=True)
    day = timezone.localdate().isoformat()
    for member_id in sorted(set(members)):
        send_digest.enqueue(member_id=member_id, day=day)


@job()
def send_digest(*, member_id: int, day: str) -> None:
    """The member's notices of their digest kinds since their last digest, in one email; at
    most one a day, none when there is nothing new."""
    with transaction.atomic():
        member = User.objects.filter(pk=member_id, is_active=True).first()
        if member is None:
            return
        kinds = [
            kind
            for kind, delivery in selectors.deliveries_of(member=member).items()
            if delivery == Delivery.DIGEST
        ]
        sent = DigestSent.objects.select_for_update().filter(member=member).first()
        if sent is not None and sent.day >= date.fromisoformat(day):
            return  # today's is out (a job run twice)
        since = sent.sent_at if sent is not None else member.date_joined
        notices = list(
            selectors.notifications_of(member=member).filter(
                kind__in=kinds, updated_at__gt=since, read_at__isnull=True
            )[:DIGEST_LENGTH]
        )
        if not notices:
            return
        unsubscribes = {kind: _unsubscribe_url(member.pk, kind) for kind in kinds}
        messages.send(
            template="notifications/mail/digest",
            to=member.email,
            context={
                "member": member,
                "notices": [
                    {"summary": texts.summary(notice), "link": settings.SITE_URL + texts.link(notice)}
                    for notice in notices
                ],
                "all": settings.SITE_URL + reverse("notifications:list"),
                "settings": settings.SITE_URL + reverse("notifications:settings"),
            },
            headers=messages.unsubscribe_headers(unsubscribes[notices[0].kind]),
        )
        DigestSent.objects.update_or_create(
            member=member, defaults={"day": date.fromisoformat(day), "sent_at": timezone.now()}
        )


def _today() -> str:
    return timezone.localdate().isoformat()


# --- Subscribers (in the writing transaction: they only enqueue) ---


def on_comment_added(event: CommentAdded) -> None:
    notify_comment.enqueue(comment_id=event.comment_id)


def on_clapped(event: Clapped) -> None:
    notify_clap.enqueue(post_id=str(event.post_id), member_id=event.member_id, day=_today())


def on_followed(event: Followed) -> None:
    notify_follow.enqueue(follower_id=event.follower_id, followed_id=event.followed_id, day=_today())


def on_post_published(event: PostPublished) -> None:
    task = announce_post
    if event.published_at > timezone.now():
        task = task.using(run_after=event.published_at)  # a scheduled story: when it goes up
    task.enqueue(post_id=str(event.post_id), published_at=event.published_at.isoformat())


def on_post_changed(event: PostChanged) -> None:
    notify_post_mentions.enqueue(post_id=str(event.post_id))
