"""Query counts that depend on the database."""

from django.db import connection


def tag_queries() -> int:
    """Lists bring their stories' tag names in their own query on Postgres (posts.selectors);
    elsewhere the tags take one query more."""
    return 0 if connection.vendor == "postgresql" else 1
