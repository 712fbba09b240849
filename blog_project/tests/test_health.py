import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

REPO = Path(settings.BASE_DIR)


def test_healthz_reports_database_reachable(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


@pytest.mark.system
def test_healthz_is_503_when_the_database_is_unreachable(unused_tcp_port):
    # A real process whose DATABASE_URL points at a port where nothing listens.
    script = (
        "import django; django.setup(); from django.test import Client; "
        "r = Client().get('/healthz'); print(r.status_code, r.content.decode())"
    )
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://nobody:nothing@127.0.0.1:{unused_tcp_port}/nowhere",
        "DJANGO_SETTINGS_MODULE": "blog_project.settings",
        "ALLOWED_HOSTS": "testserver",
    }
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True, timeout=60
    )
    status, body = result.stdout.strip().split(" ", 1)
    assert status == "503", result.stderr
    assert json.loads(body) == {"status": "error", "database": "unreachable"}


def test_favicon_ico_leads_to_the_site_icon(client, db):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith("/favicon.svg")
