"""What the notifications app's writes change for anonymous readers (faces.readcache): nothing,
notices are a member's own."""

from django.db.models import Model

from faces.readcache import RowScopes, nothing
from notifications.models import DigestSent, Notification, NotificationActor, NotificationSetting

MODELS: dict[type[Model], RowScopes] = {
    Notification: nothing,
    NotificationActor: nothing,
    NotificationSetting: nothing,
    DigestSent: nothing,
}
