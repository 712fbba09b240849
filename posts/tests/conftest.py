import pytest
from django.db import connection
from rest_framework.test import APIClient

from accounts.models import User
from accounts.services import issue_tokens
from faces.api.v1 import FACE as V1


@pytest.fixture
def api_client_for():
    """Makes an API client that sends a fresh `Authorization: Bearer` access token for a user."""

    def make(user: User) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_tokens(user=user, face=V1.name).access}")
        return client

    return make


@pytest.fixture
def full_text_search():
    """For tests of Postgres full-text search (stemming, ranking): skipped on other databases."""
    if connection.vendor != "postgresql":
        pytest.skip(f"full-text search needs Postgres; {connection.vendor} falls back to substring matching")


@pytest.fixture
def author_client(client, user):
    """A browser session signed in as `user`, the author of the stories a test makes."""
    client.force_login(user)
    return client
