"""The posts app's periodic clean-up of Idempotency-Key claims (posts/jobs.py)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from posts.jobs import delete_expired_create_requests
from posts.models import CreateRequest
from posts.services import IDEMPOTENCY_WINDOW

pytestmark = pytest.mark.django_db


def test_expired_idempotency_claims_are_deleted_and_live_ones_kept(user):
    live = CreateRequest.objects.create(author=user, key="live", fingerprint="a", response={})
    expired = CreateRequest.objects.create(author=user, key="expired", fingerprint="b", response={})
    CreateRequest.objects.filter(pk=expired.pk).update(created_at=timezone.now() - IDEMPOTENCY_WINDOW)
    almost = CreateRequest.objects.create(author=user, key="almost", fingerprint="c", response={})
    CreateRequest.objects.filter(pk=almost.pk).update(
        created_at=timezone.now() - IDEMPOTENCY_WINDOW + timedelta(minutes=1)
    )

    assert delete_expired_create_requests.call() == 1
    assert delete_expired_create_requests.call() == 0  # twice: no harm

    assert set(CreateRequest.objects.values_list("key", flat=True)) == {live.key, almost.key}
