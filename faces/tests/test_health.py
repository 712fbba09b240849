import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

REPO = Path(settings.BASE_DIR)

# Requests made by a real process whose DATABASE_URL points at a port where nothing listens.
UNREACHABLE_SCRIPT = """
import json, django
django.setup()
from django.test import Client
client = Client(raise_request_exception=False)
results = {}
signin = {"email": "a@example.com", "password": "a-long-passphrase"}
paths = ("/livez", "/readyz", "/healthz", "/", "/p/some-story/", "/api/v1/blog/bulk", "/api/v1/user/signin")
for path in paths:
    if path.endswith("signin"):
        response = client.post(path, signin, content_type="application/json")
    else:
        response = client.get(path)
    results[path] = [response.status_code, response.get("Retry-After"), response["Content-Type"],
                     response.content.decode()]
print(json.dumps(results))
"""


def test_readiness_reports_the_database_and_cache_reachable(client, db):
    for path in ("/readyz", "/healthz"):
        response = client.get(path)
        assert response.status_code == 200
        expected = {"status": "ok", "database": "ok"} | ({"cache": "ok"} if settings.REDIS_URL else {})
        assert response.json() == expected


def test_liveness_needs_nothing(client):
    response = client.get("/livez")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.system
def test_with_the_database_unreachable_every_face_answers_503_and_the_log_has_no_tracebacks(
    unused_tcp_port,
):
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://nobody:nothing@127.0.0.1:{unused_tcp_port}/nowhere",
        "DJANGO_SETTINGS_MODULE": "blog_project.settings",
        "ALLOWED_HOSTS": "testserver",
        "REDIS_URL": "",
    }
    # The error pages link the hashed static files, as in production: collect them first (a
    # fresh checkout has none; collecting needs no database).
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput"],
        cwd=REPO,
        env=env,
        check=True,
        capture_output=True,
    )
    result = subprocess.run(
        [sys.executable, "-c", UNREACHABLE_SCRIPT],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    results = json.loads(result.stdout.strip().splitlines()[-1])

    assert results["/livez"][0] == 200
    for path in ("/readyz", "/healthz"):
        status, retry_after, _, body = results[path]
        assert (status, retry_after) == (503, "2")
        assert json.loads(body) == {"status": "error", "database": "unreachable"}
    for path in ("/", "/p/some-story/"):
        status, retry_after, content_type, body = results[path]
        assert (status, retry_after) == (503, "2"), path
        assert content_type.startswith("text/html")
        assert "cannot reach its database" in body
    for path in ("/api/v1/blog/bulk", "/api/v1/user/signin"):
        status, retry_after, content_type, body = results[path]
        assert (status, retry_after) == (503, "2"), path
        assert set(json.loads(body)) == {"error"}

    log = result.stdout + result.stderr
    assert "Traceback" not in log
    assert log.count("database unavailable: answering 503") == 1  # once per interval, with the cause
    assert "Connection refused" in log or "connection failed" in log


def test_favicon_ico_leads_to_the_site_icon(client, db):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith("/favicon.svg")
