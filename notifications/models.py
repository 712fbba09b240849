"""A notice tells a member that something happened to them (SPEC §9.2)."""

from django.conf import settings
from django.db import models
from django.db.models import Q


class Kind(models.TextChoices):
    COMMENT = "comment", "Responses to my stories"
    MENTION = "mention", "Mentions of me"
    FOLLOW = "follow", "New followers"
    CLAP = "clap", "Claps for my stories"
    PUBLISHED = "published", "New stories by authors I follow"


class Delivery(models.TextChoices):
    SITE = "site", "On the site only"
    EMAIL = "email", "Also by email, at once"
    DIGEST = "digest", "Also in a daily email digest"
    OFF = "off", "Off"


# What a member who never chose gets.
DEFAULT_DELIVERY: dict[str, str] = {
    Kind.COMMENT: Delivery.EMAIL,
    Kind.MENTION: Delivery.EMAIL,
    Kind.FOLLOW: Delivery.SITE,
    Kind.CLAP: Delivery.SITE,
    Kind.PUBLISHED: Delivery.SITE,
}


class Notification(models.Model):
    """One notice to `recipient`, once per `key` (what happened, e.g. "comment:41", or
    "clap:<story>:<day>" for the claps of a day, which gathers actors as it grows)."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    key = models.CharField(max_length=100)
    post = models.ForeignKey("posts.Post", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    comment = models.ForeignKey(
        "posts.Comment", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    actors = models.ManyToManyField(settings.AUTH_USER_MODEL, through="NotificationActor", related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    # When it last grew (a new actor): it sorts by this, and reads as new again.
    updated_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)
    # Sent by email at once (notices are emailed once, however often their job runs).
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["recipient", "key"], name="notification_once"),
        ]
        indexes = [
            models.Index(fields=["recipient", "-updated_at"], name="notification_newest_idx"),
            # The bell: my unread, newest first.
            models.Index(
                fields=["recipient", "-updated_at"],
                condition=Q(read_at__isnull=True),
                name="notification_unread_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.recipient_id} ({self.key})"


class NotificationActor(models.Model):
    """A member whose action the notice tells of (several for a day's claps)."""

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="actor_links")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["notification", "actor"], name="notification_actor_once"),
        ]

    def __str__(self) -> str:
        return f"{self.actor_id} in {self.notification_id}"


class NotificationSetting(models.Model):
    """How a member wants one kind of notice (DEFAULT_DELIVERY when there is no row)."""

    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_settings"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    delivery = models.CharField(max_length=8, choices=Delivery.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["member", "kind"], name="notification_setting_once"),
        ]

    def __str__(self) -> str:
        return f"{self.member_id}: {self.kind} {self.delivery}"


class DigestSent(models.Model):
    """The last daily digest a member was sent: at most one a day, of what came since."""

    member = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    sent_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.member_id}: {self.day}"
