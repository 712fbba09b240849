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


ENQUEUE = """
import time
from jobs.cleanup import clear_expired_sessions

result = clear_expired_sessions.enqueue()
deadline = time.monotonic() + 30
while result.status.name not in ("SUCCESSFUL", "FAILED") and time.monotonic() < deadline:
    time.sleep(0.2)
    result.refresh()
print(result.status.name, *result.worker_ids)
"""


def stack_env() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "REDIS_URL")}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    env["DJANGO_SETTINGS_MODULE"] = "blog_project.settings"  # as gunicorn and the workers run
    return env


def worker_processes() -> dict[int, dict[str, str]]:
    """Every `manage.py worker` process on this machine: its pid and environment."""
    found = {}
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            argv = cmdline.read_bytes().split(b"\0")
            if b"manage.py" not in argv or b"worker" not in argv:
                continue
            environ = (cmdline.parent / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        pairs = (item.decode(errors="replace").partition("=") for item in environ if b"=" in item)
        found[int(cmdline.parent.name)] = {key: value for key, _, value in pairs}
    return found


def stack_dir() -> Path:
    """A folder for a stack that Postgres (run as `postgres` under root) may enter, unlike
    pytest's tmp_path; `down` deletes it."""
    parent = Path(tempfile.mkdtemp(prefix="quill-stack-test-", dir="/tmp"))
    os.chmod(parent, 0o755)
    return parent / "stack"


def test_stack_runs_job_workers_as_their_own_processes_and_stops_them():
    """`up --web --workers 2`: two `manage.py worker` processes with the web's settings, the
    first one also the scheduler; a job enqueued in the stack's database runs on one of them;
    `down` leaves none."""
    localstack = load_localstack()
    directory = stack_dir()
    command = [sys.executable, "deploy/localstack.py"]
    env = stack_env()
    pids: dict[str, int] = {}
    try:
        result = subprocess.run(
            [*command, "up", "--web", "--workers", "2", "--dir", str(directory)],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        settings_ = localstack.read_env(directory)
        pids = {name: int((directory / name).read_text()) for name in ("worker.pid", "worker-2.pid")}
        running = worker_processes()
        assert set(pids.values()) <= set(running)
        for name, pid in pids.items():
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[1:-1]
            scheduler = [b"--scheduler"] if name == "worker.pid" else []
            assert argv == [b"manage.py", b"worker", *scheduler], name
            # The web's environment: the database through PgBouncer (not Postgres itself), Redis.
            for key in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "MEDIA_ROOT", "DJANGO_SETTINGS_MODULE"):
                assert running[pid][key] == {**env, **settings_}[key], key
            log = (directory / name).with_suffix(".log").read_text()
            assert re.search(rf"Starting worker worker_id=\S+-{pid}-", log), log
            assert ("Scheduler started" in log) == (name == "worker.pid"), log
        # Nothing but the pid files: the workers listen on no port, and no other worker was started.
        assert sorted(path.name for path in directory.glob("worker*.pid")) == ["worker-2.pid", "worker.pid"]

        # A job enqueued in the stack's database (through PgBouncer) runs on one of its workers.
        enqueued = subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", ENQUEUE],
            cwd=REPO,
            env={**env, **settings_},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert enqueued.returncode == 0, enqueued.stdout + enqueued.stderr
        status, *worker_ids = enqueued.stdout.strip().splitlines()[-1].split()
        assert status == "SUCCESSFUL", enqueued.stdout
        assert any(f"-{pid}-" in worker_ids[-1] for pid in pids.values()), (worker_ids, pids)
        logs = "".join(directory.joinpath(name).with_suffix(".log").read_text() for name in pids)
        assert "Job clear_expired_sessions succeeded" in logs
    finally:
        localstack.down(directory)  # what `localstack.py down` does, before it deletes the folder
    try:
        # Each worker got SIGTERM while the database was still there, and exited: none is left.
        assert not set(pids.values()) & set(worker_processes())
        for name in pids:
            log = (directory / name).with_suffix(".log").read_text()
            assert "shutting down gracefully" in log, log[-2000:]
            assert "Traceback" not in log, log[-2000:]
    finally:
        shutil.rmtree(directory.parent, ignore_errors=True)


def test_a_stack_without_web_runs_no_worker():
    """Tests that only need the database (`make test`'s stack) get no worker."""
    command = [sys.executable, "deploy/localstack.py"]
    refused = subprocess.run([*command, "up", "--workers", "1"], cwd=REPO, capture_output=True, text=True)
    assert refused.returncode == 2 and "--workers" in refused.stderr
    directory = stack_dir()
    env = stack_env()
    try:
        result = subprocess.run(
            [*command, "up", "--dir", str(directory)], cwd=REPO, env=env, capture_output=True, timeout=300
        )
        assert result.returncode == 0, result.stdout + result.stderr
        database_url = load_localstack().read_env(directory)["DATABASE_URL"]
        assert not list(directory.glob("worker*"))
        assert not [
            pid for pid, environ in worker_processes().items() if environ.get("DATABASE_URL") == database_url
        ]
    finally:
        subprocess.run(
            [*command, "down", "--dir", str(directory)], cwd=REPO, env=env, capture_output=True, timeout=180
        )
        shutil.rmtree(directory.parent, ignore_errors=True)


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
