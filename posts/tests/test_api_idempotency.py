"""POST /api/v1/blog with an Idempotency-Key: a retry after a lost answer creates nothing."""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone

from posts.models import CreateRequest, Post

BLOG = "/api/v1/blog"
BODY = {"title": "Written once", "content": "Even when the answer is lost.", "tags": ["retries"]}

pytestmark = pytest.mark.django_db


def create(client, body=BODY, key="key-1"):
    return client.post(BLOG, body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_a_retry_with_the_same_key_and_body_gets_the_first_answer_and_creates_nothing(api_client_for, user):
    writer = api_client_for(user)
    first = create(writer)
    assert first.status_code == 201
    assert "Idempotent-Replayed" not in first

    retried = create(writer, body={"tags": ["retries"], "content": BODY["content"], "title": BODY["title"]})
    assert retried.status_code == 201
    assert retried.json() == first.json()
    assert retried["Idempotent-Replayed"] == "true"
    assert Post.objects.count() == 1


def test_the_same_key_with_another_body_is_a_conflict_and_changes_nothing(api_client_for, user):
    writer = api_client_for(user)
    create(writer)
    response = create(writer, body={**BODY, "title": "Something else"})
    assert response.status_code == 409
    assert response.json()["details"] == {
        "idempotency_key": ["This Idempotency-Key was already used with a different request body."]
    }
    assert list(Post.objects.values_list("title", flat=True)) == ["Written once"]


def test_keys_belong_to_their_author_and_expire_after_a_day(api_client_for, user, other_user):
    assert create(api_client_for(user)).status_code == 201
    assert create(api_client_for(other_user)).status_code == 201  # another author's own key
    assert Post.objects.count() == 2

    CreateRequest.objects.update(created_at=timezone.now() - timedelta(hours=25))
    again = create(api_client_for(user))
    assert again.status_code == 201 and "Idempotent-Replayed" not in again
    assert Post.objects.count() == 3


def test_a_refused_create_is_not_remembered(api_client_for, user):
    writer = api_client_for(user)
    assert create(writer, body={**BODY, "title": "  "}).status_code == 400
    assert create(writer).status_code == 201
    assert Post.objects.count() == 1


@pytest.mark.parametrize("key", ["", "x" * 256, "naïve"])
def test_an_unusable_key_is_a_400(api_client_for, user, key):
    response = create(api_client_for(user), key=key)
    assert response.status_code == 400
    assert list(response.json()["details"]) == ["Idempotency-Key"]
    assert not Post.objects.exists()


def test_without_a_key_creates_behave_as_before(api_client_for, user):
    writer = api_client_for(user)
    assert writer.post(BLOG, BODY, format="json").status_code == 201
    assert writer.post(BLOG, BODY, format="json").status_code == 201
    assert Post.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_simultaneous_retries_create_one_story(api_client_for, user):
    if connections["default"].vendor != "postgresql":
        pytest.skip("SQLite's test database refuses simultaneous writers; production runs on Postgres")

    def attempt(_: int) -> tuple[int, str]:
        try:
            response = create(api_client_for(user), key="burst")
            return response.status_code, response.json()["id"]
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(attempt, range(6)))

    assert {status for status, _ in answers} == {201}
    assert len({post_id for _, post_id in answers}) == 1
    assert Post.objects.count() == 1
