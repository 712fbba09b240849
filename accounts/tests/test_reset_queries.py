"""What enqueueing a job costs a request, in queries: a password-reset request for a member
enqueues the email job (accounts.jobs.send_password_reset) and costs exactly one query more than
the same request for an unknown email, which enqueues nothing: the job's INSERT, in the request.
(`make bench` measures the time it adds: bench/README.md, Jobs.)"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult

pytestmark = pytest.mark.django_db

JOB_TABLE = DBTaskResult._meta.db_table


def reset_request(client, email: str) -> list[str]:
    """The SQL statements of one POST /password-reset/ for `email` (which answers 302 either way)."""
    with CaptureQueriesContext(connection) as queries:
        response = client.post("/password-reset/", {"email": email})
    assert response.status_code == 302
    return [query["sql"] for query in queries.captured_queries]


def test_a_reset_for_a_member_costs_one_query_more_than_for_an_unknown_email_the_jobs_insert(client, user):
    reset_request(client, "warm-up@example.com")  # first-request work (content types, ...) out of the way

    unknown = reset_request(client, "nobody@example.com")
    assert not DBTaskResult.objects.exists()

    known = reset_request(client, user.email)
    assert DBTaskResult.objects.count() == 1

    assert len(known) == len(unknown) + 1, (known, unknown)
    [extra] = [sql for sql in known if JOB_TABLE in sql]
    assert extra.startswith("INSERT INTO"), extra
