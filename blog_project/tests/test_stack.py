"""`make stack`'s script brings up the production topology from local binaries and tears it down."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

pytestmark = pytest.mark.system

REPO = Path(settings.BASE_DIR)

PROBE = """
import json, os, urllib.request
base = os.environ["QUILL_URL"]
health = urllib.request.urlopen(base + "/healthz", timeout=10)
home = urllib.request.urlopen(base + "/", timeout=10)
print(json.dumps({
    "url": base,
    "database_url": os.environ["DATABASE_URL"],
    "health": json.loads(health.read()),
    "home_status": home.status,
    "ports": [int(u.rsplit(":", 1)[1].split("/")[0]) for u in (
        os.environ["DATABASE_URL"], os.environ["DIRECT_DATABASE_URL"], os.environ["REDIS_URL"], base)],
}))
"""


def listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_stack_serves_quill_through_pgbouncer_with_gunicorn_and_stops_cleanly():
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "REDIS_URL")}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    env["DJANGO_SETTINGS_MODULE"] = "blog_project.settings"  # gunicorn serves with production settings
    result = subprocess.run(
        [sys.executable, "deploy/localstack.py", "run", "--web", "--", sys.executable, "-c", PROBE],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["health"] == {"status": "ok", "database": "ok", "cache": "ok"}
    assert report["home_status"] == 200
    assert report["url"].startswith("http://127.0.0.1:")
    assert report["database_url"].startswith("postgres://")
    # Postgres, PgBouncer, Redis and gunicorn are all gone afterwards.
    assert not [port for port in report["ports"] if listening(port)]
