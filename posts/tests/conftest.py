import pytest
from rest_framework.test import APIClient

from accounts.models import User
from accounts.services import issue_tokens


@pytest.fixture
def api_client_for():
    """Makes an API client that sends a fresh `Authorization: Bearer` access token for a user."""

    def make(user: User) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_tokens(user)['jwt']}")
        return client

    return make
