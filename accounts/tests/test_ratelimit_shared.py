"""Without Redis (`make run`), every gunicorn worker counts sign-in attempts in one place, so
the limit is exact whichever worker answers."""

import contextlib
import http.client
import json
import re
import secrets
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import transaction

from accounts.ratelimit import count_auth_attempt
from blog_project.tests.bare_gunicorn import bare_gunicorn
from kernel.exceptions import RateLimited


@pytest.mark.django_db
def test_attempts_counted_in_a_transaction_that_is_rolled_back_still_count(settings, tmp_path):
    # change_password and its kin count inside their transaction, then roll it back on a wrong
    # password: counts kept in the database itself would go with it.
    location = str(tmp_path / "cache.sqlite3")
    settings.CACHES = {"default": {"BACKEND": "blog_project.sqlite_cache.SQLiteCache", "LOCATION": location}}
    settings.QUILL_AUTH_RATE = "2/minute"
    for _ in range(2):
        with contextlib.suppress(ValueError), transaction.atomic():
            count_auth_attempt(ip="10.4.0.1", email="guessed@example.com")
            raise ValueError("wrong password")
    with pytest.raises(RateLimited):
        count_auth_attempt(ip="10.4.0.1", email="guessed@example.com")


@pytest.mark.system
def test_two_workers_without_redis_let_exactly_the_limit_through(tmp_path):
    # Keys of this run only: the cache is the machine's (var/cache.sqlite3), as under `make run`.
    ip = f"10.{secrets.randbelow(256)}.{secrets.randbelow(256)}.{secrets.randbelow(256)}"
    body = json.dumps({"email": f"{secrets.token_hex(8)}@example.com", "password": "not-the-password"})
    env = {
        "WEB_CONCURRENCY": "2",
        "QUILL_AUTH_RATE": "10/minute",
        # gunicorn's access line with the pid of the worker that answered.
        "GUNICORN_ACCESS_LOG": "-",
        "GUNICORN_CMD_ARGS": "--access-logformat 'answered by %(p)s: %(s)s'",
    }
    with bare_gunicorn(tmp_path, **env) as server:

        def sign_in(_: int) -> int:
            connection = http.client.HTTPConnection(*server.address, timeout=30)
            try:
                # NUM_PROXIES=1 (deploy/localstack.py): the client's address is this entry.
                headers = {"Content-Type": "application/json", "X-Forwarded-For": ip}
                connection.request("POST", "/api/v1/user/signin", body=body, headers=headers)
                return connection.getresponse().status
            finally:
                connection.close()

        # In parallel, so that both workers answer.
        with ThreadPoolExecutor(max_workers=6) as pool:
            statuses = list(pool.map(sign_in, range(30)))
    workers = set(re.findall(r"answered by <(\d+)>", server.log.read_text()))  # gunicorn has stopped

    assert len(workers) == 2
    assert statuses.count(401) == 10  # wrong password, but counted
    assert statuses.count(429) == 20
