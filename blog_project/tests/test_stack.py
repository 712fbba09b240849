"""`make stack`'s script brings up the production topology from local binaries and tears it down."""

import importlib.util
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from types import ModuleType

import pytest
from django.conf import settings

pytestmark = pytest.mark.system

REPO = Path(settings.BASE_DIR)

PROBE = """
import http.client, json, os, re, urllib.request
base, direct = os.environ["QUILL_URL"], os.environ["GUNICORN_URL"]
health = urllib.request.urlopen(base + "/healthz", timeout=10)
home = urllib.request.urlopen(base + "/", timeout=10)
home_html = home.read().decode()

def get(url):
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, dict(response.headers), response.read()

# A collected stylesheet the page links, through the proxy and straight from gunicorn.
stylesheet = re.search(r'href="(/static/[^"]+[.]css)"', home_html).group(1)
proxied, direct_file = get(base + stylesheet), get(direct + stylesheet)

def sign_in(source, email, forwarded_for=None):
    # From another loopback address than the proxy's (127.0.0.1), so the two can be told apart.
    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10, source_address=(source, 0))
    headers = {"Content-Type": "application/json"}
    if forwarded_for:
        headers["X-Forwarded-For"] = forwarded_for
    connection.request("POST", "/api/v1/user/signin", headers=headers,
                       body=json.dumps({"email": email, "password": "not-the-password"}))
    status = connection.getresponse().status
    connection.close()
    return status

print(json.dumps({
    "url": base,
    "database_url": os.environ["DATABASE_URL"],
    "health": json.loads(health.read()),
    "home_status": home.status,
    "server": home.headers["Server"],
    "stylesheet": [proxied[0], proxied[1].get("Cache-Control"), proxied[2] == direct_file[2], direct_file[0]],
    # QUILL_AUTH_RATE=2/minute per client IP: a third attempt from 127.0.0.2 is refused even
    # when it names another address in X-Forwarded-For; 127.0.0.3 is another client.
    "sign_ins": [sign_in("127.0.0.2", "a@example.com"), sign_in("127.0.0.2", "b@example.com"),
                 sign_in("127.0.0.2", "c@example.com", forwarded_for="203.0.113.7"),
                 sign_in("127.0.0.3", "d@example.com")],
    "ports": [int(u.rsplit(":", 1)[1].split("/")[0]) for u in (os.environ["DATABASE_URL"],
              os.environ["DIRECT_DATABASE_URL"], os.environ["REDIS_URL"], base, direct)],
}))
"""


def listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_stack_serves_quill_through_nginx_gunicorn_and_pgbouncer_and_stops_cleanly():
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "REDIS_URL")}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    env["DJANGO_SETTINGS_MODULE"] = "blog_project.settings"  # gunicorn serves with production settings
    env["QUILL_AUTH_RATE"] = "2/minute"
    env["WEB_CONCURRENCY"] = "2"
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
    assert report["server"] == "nginx"  # QUILL_URL is the proxy
    assert report["url"].startswith("http://127.0.0.1:")
    assert report["database_url"].startswith("postgres://")
    # Static files come through the proxy, the same bytes gunicorn has, cached for a year or
    # more (their names carry a hash of their content): from nginx, or from whitenoise when
    # nginx's workers may not read them (see readable_by_nginx_workers below).
    status, cache_control, same_bytes, direct_status = report["stylesheet"]
    assert (status, same_bytes, direct_status) == (200, True, 200)
    assert "immutable" in cache_control
    max_age = re.search(r"max-age=(\d+)", cache_control)
    assert max_age and int(max_age.group(1)) >= 31536000
    # The app sees each client's own address (NUM_PROXIES=1: the entry nginx appended to
    # X-Forwarded-For), and a client cannot choose it by sending that header itself.
    assert report["sign_ins"] == [401, 401, 429, 401]
    # Postgres, PgBouncer, Redis, gunicorn and nginx are all gone afterwards.
    assert not [port for port in report["ports"] if listening(port)]


def load_localstack() -> ModuleType:
    spec = importlib.util.spec_from_file_location("localstack", REPO / "deploy" / "localstack.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_as_root_nginx_serves_only_files_that_every_user_may_read(monkeypatch):
    # Run as root, nginx's workers are `nobody`: a folder they cannot read is left to gunicorn.
    localstack = load_localstack()
    monkeypatch.setattr(localstack, "IS_ROOT", True)
    top = Path(tempfile.mkdtemp(prefix="quill-perms-", dir="/tmp"))
    try:
        os.chmod(top, 0o755)
        static = top / "staticfiles"
        (static / "css").mkdir(parents=True)
        stylesheet = static / "css" / "quill.css"
        stylesheet.write_text("body {}")
        os.chmod(stylesheet, 0o644)
        assert localstack.readable_by_nginx_workers(static)

        os.chmod(stylesheet, 0o600)  # collected with umask 077
        assert not localstack.readable_by_nginx_workers(static)
        os.chmod(stylesheet, 0o644)
        os.chmod(static / "css", 0o700)
        assert not localstack.readable_by_nginx_workers(static)
        os.chmod(static / "css", 0o755)
        os.chmod(top, 0o700)  # a home folder closed to others
        assert not localstack.readable_by_nginx_workers(static)
    finally:
        shutil.rmtree(top, ignore_errors=True)
