import pytest
from django.db import connection


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
