"""The suite runs through PgBouncer in transaction mode, and the pool bounds server connections."""

import os
import threading
from urllib.parse import urlsplit

import psycopg
import pytest
from django.db import connection

from posts.models import Post
from posts.tests.factories import PostFactory

ADMIN_URL = os.environ.get("PGBOUNCER_ADMIN_URL", "")
DIRECT_URL = os.environ.get("DIRECT_DATABASE_URL", "")

pytestmark = [
    pytest.mark.system,
    pytest.mark.skipif(
        not ADMIN_URL or not DIRECT_URL,
        reason="needs the PgBouncer stack that `make test` starts (TEST_DATABASE_URL was given)",
    ),
]


def pooler_rows(command: str) -> list[dict]:
    with psycopg.connect(ADMIN_URL, autocommit=True, prepare_threshold=None) as admin:
        cursor = admin.execute(command)
        assert cursor.description is not None  # SHOW commands return rows
        names = [column.name for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def test_pooler_is_in_transaction_mode():
    config = {row["key"]: row["value"] for row in pooler_rows("SHOW CONFIG")}
    assert config["pool_mode"] == "transaction"


def test_the_applications_credentials_cannot_reach_the_poolers_console(db):
    app = urlsplit(os.environ["DATABASE_URL"])
    console = app._replace(path="/pgbouncer").geturl()
    with pytest.raises(psycopg.OperationalError, match="not allowed"):
        psycopg.connect(console, autocommit=True, prepare_threshold=None).close()
    assert pooler_rows("SHOW POOLS")  # its own user can


def test_django_talks_to_the_pooler(db):
    assert int(connection.settings_dict["PORT"]) == urlsplit(ADMIN_URL).port
    test_db = connection.settings_dict["NAME"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    # Django's open connection is one of the pooler's clients, on the test database.
    clients = [row for row in pooler_rows("SHOW CLIENTS") if row["database"] == test_db]
    assert clients, "Django's connection does not go through PgBouncer"


def test_more_clients_than_pool_size_share_a_bounded_number_of_server_connections(db):
    pool_size = int(os.environ["PGBOUNCER_POOL_SIZE"])
    clients = pool_size * 4
    app_url = os.environ["DATABASE_URL"]
    ready = threading.Barrier(clients + 1)
    done = threading.Event()
    errors: list[BaseException] = []

    def client() -> None:
        try:
            with psycopg.connect(app_url, autocommit=True, prepare_threshold=None) as conn:
                ready.wait(timeout=30)
                while not done.is_set():
                    conn.execute("SELECT pg_sleep(0.02)")
        except BaseException as exc:  # reported below
            errors.append(exc)
            ready.abort()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    server_counts = []
    try:
        ready.wait(timeout=30)
        with psycopg.connect(DIRECT_URL, autocommit=True, prepare_threshold=None) as direct:
            for _ in range(25):
                row = direct.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                    [urlsplit(app_url).path.lstrip("/")],
                ).fetchone()
                assert row is not None  # count(*) always returns a row
                server_counts.append(row[0])
                client_pools = pooler_rows("SHOW POOLS")
                direct.execute("SELECT pg_sleep(0.02)")
    finally:
        done.set()
        for thread in threads:
            thread.join(timeout=30)
    assert not errors, errors
    app_pool = next(pool for pool in client_pools if pool["database"] == "quill")
    assert int(app_pool["cl_active"]) + int(app_pool["cl_waiting"]) >= clients
    # Four times as many clients as the pool size: the pool fills up and never goes past it.
    assert max(server_counts) == pool_size, server_counts


def test_iterating_a_queryset_works_in_autocommit_through_the_pool(transactional_db, user):
    # Transaction pooling cannot keep a named cursor alive between fetches, so Django must
    # not use one; chunked iteration outside a transaction still reads every row.
    assert connection.settings_dict["DISABLE_SERVER_SIDE_CURSORS"] is True
    PostFactory.create_batch(5, author=user)
    assert len(list(Post.objects.iterator(chunk_size=2))) == 5
