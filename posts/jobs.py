"""The posts app's jobs."""

from django.utils import timezone

from jobs import job
from posts.models import CreateRequest
from posts.services import IDEMPOTENCY_WINDOW


@job()
def delete_expired_create_requests() -> int:
    """Forgets Idempotency-Key claims past their window (create_post_once ignores them
    already); periodic (QUILL_PERIODIC_JOBS), and running it twice is harmless."""
    deleted, _ = CreateRequest.objects.filter(created_at__lt=timezone.now() - IDEMPOTENCY_WINDOW).delete()
    return deleted
