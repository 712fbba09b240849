"""The reverse proxy (nginx) in front of gunicorn, in the local stack (deploy/localstack.py
up --web): slow clients wait on it and never hold a gunicorn worker, and no request is lost
while gunicorn is replaced (restart-web: SIGUSR2, then SIGTERM to the old master) or while
a worker dies in the middle of one (the proxy retries an idempotent request once)."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings

pytestmark = pytest.mark.system

REPO = Path(settings.BASE_DIR)
LOCALSTACK = [sys.executable, "deploy/localstack.py"]
SIGN_IN = "/api/v1/user/signin"


@dataclass
class Stack:
    directory: Path
    settings: dict[str, str]  # what `up` wrote to DIR/env
    command_env: dict[str, str]  # the environment localstack.py runs with

    @property
    def proxy(self) -> tuple[str, int]:
        host, port = self.settings["QUILL_URL"].removeprefix("http://").split(":")
        return host, int(port)

    def gunicorn_master(self) -> int:
        return int((self.directory / "gunicorn.pid").read_text().strip())

    def nginx_errors(self) -> list[str]:
        return (self.directory / "nginx-error.log").read_text().splitlines()


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


def request(
    address: tuple[str, int],
    method: str,
    path: str,
    *,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 10,
) -> Answer:
    connection = http.client.HTTPConnection(address[0], address[1], timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return Answer(
            response.status, {name.lower(): value for name, value in response.getheaders()}, response.read()
        )
    finally:
        connection.close()


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "REDIS_URL")}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    env["DJANGO_SETTINGS_MODULE"] = "blog_project.settings"  # gunicorn serves with production settings
    env["WEB_CONCURRENCY"] = "2"  # two sync workers: two slow clients would be enough to stall them
    # Not pytest's tmp_path: the Postgres user must be able to enter the stack's folder.
    directory = Path(tempfile.mkdtemp(prefix="quill-proxy-"))
    env["MEDIA_ROOT"] = str(directory / "media")  # gunicorn's and nginx's
    try:
        result = subprocess.run(
            [*LOCALSTACK, "up", "--web", "--dir", str(directory)],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        stack_settings = dict(
            line.split("=", 1) for line in (directory / "env").read_text().splitlines() if "=" in line
        )
        yield Stack(directory, stack_settings, env)
    finally:
        down = [*LOCALSTACK, "down", "--dir", str(directory)]
        subprocess.run(down, cwd=REPO, env=env, capture_output=True, timeout=120)
        shutil.rmtree(directory, ignore_errors=True)


# --- Slow clients ----------------------------------------------------------------------------


def open_slow_client(address: tuple[str, int], *, trickles_body: bool) -> socket.socket:
    """A sign-in that arrives one byte a second: its body, or the rest of its head."""
    client = socket.create_connection(address, timeout=5)
    head = f"POST {SIGN_IN} HTTP/1.1\r\nHost: {address[0]}:{address[1]}\r\nContent-Type: application/json\r\n"
    if trickles_body:
        client.sendall(f"{head}Content-Length: 1000\r\n\r\n{{".encode())
    else:
        client.sendall(f"{head}X-Slow: ".encode())
    return client


def trickle(clients: list[socket.socket], stop: threading.Event) -> None:
    while not stop.wait(1):
        for client in clients:
            with contextlib.suppress(OSError):  # dropped by the proxy: fine
                client.send(b" ")


def test_slow_clients_wait_on_the_proxy_and_never_stall_the_site(stack):
    # Straight at gunicorn, two such clients hold both sync workers until gunicorn's 30 s worker
    # timeout kills them, and every other request waits as long. Through nginx, 64 of them
    # cost nothing: a request reaches gunicorn only once it has arrived whole.
    for _ in range(10):  # each worker's first request opens its database connection: not measured
        assert request(stack.proxy, "GET", "/healthz").status == 200
    log_start = (stack.directory / "gunicorn.log").stat().st_size
    clients = [open_slow_client(stack.proxy, trickles_body=n % 2 == 0) for n in range(64)]
    stop = threading.Event()
    trickler = threading.Thread(target=trickle, args=(clients, stop), daemon=True)
    trickler.start()
    latencies = []
    try:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            started = time.monotonic()
            answer = request(stack.proxy, "GET", "/healthz", timeout=5)
            latencies.append(time.monotonic() - started)
            assert answer.status == 200, answer.body
            time.sleep(0.02)
    finally:
        stop.set()
        trickler.join()
        for client in clients:
            client.close()
    p50 = statistics.median(latencies)
    p99 = statistics.quantiles(latencies, n=100)[98]
    print(f"/healthz with 64 slow clients on the proxy: {len(latencies)} requests, p50 {p50 * 1000:.1f} ms, "
          f"p99 {p99 * 1000:.1f} ms, max {max(latencies) * 1000:.1f} ms")  # fmt: skip
    assert max(latencies) < 1.0
    # None of them reached gunicorn.
    with open(stack.directory / "gunicorn.log", "rb") as log:
        log.seek(log_start)
        assert SIGN_IN.encode() not in log.read()


def test_a_client_that_stops_sending_its_request_is_dropped(stack):
    client = socket.create_connection(stack.proxy, timeout=30)
    try:
        client.sendall(f"GET /healthz HTTP/1.1\r\nHost: {stack.proxy[0]}\r\n".encode())
        started = time.monotonic()
        try:
            answer = client.recv(1024)
        except ConnectionResetError:
            answer = b""
        waited = time.monotonic() - started
    finally:
        client.close()
    # client_header_timeout (10 s): closed with nothing sent back.
    assert answer == b""
    assert 5 < waited < 30, waited


def test_bodies_up_to_12_mib_get_quills_own_answer_larger_ones_nginxs(stack):
    json = {"Content-Type": "application/json"}
    answer = request(stack.proxy, "POST", SIGN_IN, body=b" " * (11 * 1024 * 1024), headers=json)
    assert answer.status == 413
    assert answer.headers["content-type"].startswith("application/json")  # Quill's API error
    assert b"larger than" in answer.body

    # Beyond client_max_body_size nginx refuses at the head: the body is never sent.
    host, port = stack.proxy
    connection = http.client.HTTPConnection(host, port, timeout=10)
    try:
        connection.putrequest("POST", SIGN_IN)
        connection.putheader("Content-Type", "application/json")
        connection.putheader("Content-Length", str(13 * 1024 * 1024))
        connection.endheaders()
        response = connection.getresponse()
        assert response.status == 413
        assert response.getheader("Content-Type", "").startswith("text/html")
    finally:
        connection.close()


def test_uploaded_images_come_from_the_media_folder_with_quills_headers(stack):
    media = Path(stack.settings["MEDIA_ROOT"])
    name = "uploads/2026/11/proxyTestImage_0123456789.png"
    (media / name).parent.mkdir(parents=True)
    (media / name).write_bytes(b"\x89PNG\r\n\x1a\n not really an image")
    (media / "notes.txt").write_text("not an upload")

    answer = request(stack.proxy, "GET", f"/media/{name}")
    assert answer.status == 200
    assert answer.body.startswith(b"\x89PNG")
    assert answer.headers["content-type"] == "image/png"
    assert answer.headers["content-security-policy"] == "default-src 'none'; sandbox"
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["cache-control"] == "public, max-age=31536000, immutable"
    # A file that is no upload, or an upload's name with no file, is Quill's to answer.
    assert request(stack.proxy, "GET", "/media/notes.txt").status == 404
    assert request(stack.proxy, "GET", "/media/uploads/2026/11/noSuchImage_0123456789.png").status == 404


def test_request_ids_pass_through_the_proxy_or_are_made_by_it(stack):
    given = request(stack.proxy, "GET", "/livez", headers={"X-Request-ID": "client-abc-123"})
    assert given.headers["x-request-id"] == "client-abc-123"
    made = request(stack.proxy, "GET", "/livez").headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", made)  # nginx's $request_id
    # gunicorn logged the proxy's id with the request.
    time.sleep(0.2)
    assert made in (stack.directory / "gunicorn.log").read_text()


def test_the_proxys_access_log_keeps_no_reset_token(stack):
    token = "cjx7k2-0123456789abcdef0123456789abcdef"
    for path in (f"/password-reset/MQ/{token}/", f"/password-reset/MQ/{token}/?next=/"):
        request(stack.proxy, "GET", path)
    request(stack.proxy, "GET", "/password-reset/MQ/set-password/")
    time.sleep(1.5)  # the log is flushed every second
    log = (stack.directory / "nginx-access.log").read_text()
    assert token not in log
    assert log.count('"GET /password-reset/MQ/<redacted>/') == 2
    assert '"GET /password-reset/MQ/set-password/ HTTP/1.1"' in log  # no secret there


# --- The readers' cache (on by default: the stack has Redis) ---------------------------------


def test_each_edit_is_what_the_next_anonymous_reader_gets_from_any_worker(stack):
    json_body = {"Content-Type": "application/json"}
    signup = request(
        stack.proxy, "POST", "/api/v1/user/signup", headers=json_body,
        body=b'{"email": "cache@example.com", "password": "a long enough secret 2026"}',
    )  # fmt: skip
    assert signup.status == 201, signup.body
    author = {**json_body, "Authorization": "Bearer " + json.loads(signup.body)["jwt"]}
    created = request(
        stack.proxy, "POST", "/api/v1/blog", headers=author,
        body=b'{"title": "Telling 0", "content": "Version 0 of the words."}',
    )  # fmt: skip
    assert created.status == 201, created.body
    post = json.loads(created.body)["post"]
    page, api = f"/p/{post['slug']}/", f"/api/v1/blog/{post['id']}"
    for edit in range(1, 11):
        # Warm both workers' view of it (each read after the first comes from Redis)...
        for _ in range(4):
            assert f"Telling {edit - 1}".encode() in request(stack.proxy, "GET", page).body
        etag = request(stack.proxy, "GET", api).headers["etag"]
        assert request(stack.proxy, "GET", api, headers={"If-None-Match": etag}).status == 304
        # ...then edit: the very next read, whichever worker answers it, shows the edit.
        body = json.dumps({"title": f"Telling {edit}", "content": f"Version {edit} of the words."})
        assert request(stack.proxy, "PATCH", api, headers=author, body=body.encode()).status == 200
        assert f"Telling {edit}".encode() in request(stack.proxy, "GET", page).body
        assert f"Version {edit} of".encode() in request(stack.proxy, "GET", api).body
        assert request(stack.proxy, "GET", api, headers={"If-None-Match": etag}).status == 200


# --- No request lost -------------------------------------------------------------------------


def under_load(
    stack: Stack,
    during: Callable[[], None],
    *,
    paths: tuple[str, ...] = ("/", "/healthz"),
    threads: int = 8,
    settle: float = 1.0,
) -> Counter:
    """GETs `paths` through the proxy from `threads` clients, each on a new connection, while
    `during` runs (after `settle` seconds, and as long again after it). Counts the answers by
    status, and every failure to get one (reset, refused, cut short, timeout) by its name."""
    results: Counter = Counter()
    lock = threading.Lock()
    stop = threading.Event()

    def client(number: int) -> None:
        path = paths[number % len(paths)]
        while not stop.is_set():
            try:
                outcome: int | str = request(stack.proxy, "GET", path, timeout=30).status
            except (OSError, http.client.HTTPException) as error:
                outcome = type(error).__name__
            with lock:
                results[outcome] += 1

    workers = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(threads)]
    for worker in workers:
        worker.start()
    try:
        time.sleep(settle)
        during()
        time.sleep(settle)
    finally:
        stop.set()
        for worker in workers:
            worker.join(timeout=60)
    return results


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def test_gunicorn_is_replaced_under_load_without_a_failed_request(stack):
    # The finding: SIGTERM to gunicorn under load reset the connections waiting in its listen
    # queue. restart-web starts the new master first (SIGUSR2: it shares the listening
    # socket), then sends the old one SIGTERM: its workers finish what they have, and the new
    # workers take what waits in the queue.
    old = stack.gunicorn_master()
    outcome: dict[str, subprocess.CompletedProcess[str]] = {}

    def restart() -> None:
        outcome["restart"] = subprocess.run(
            [*LOCALSTACK, "restart-web", "--dir", str(stack.directory)],
            cwd=REPO,
            env=stack.command_env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    results = under_load(stack, restart)
    print(f"answers while gunicorn was replaced: {dict(results)}")
    assert outcome["restart"].returncode == 0, outcome["restart"].stdout + outcome["restart"].stderr
    new = stack.gunicorn_master()
    assert new != old
    assert not alive(old)
    assert set(results) == {200}, results  # no 5xx, no reset, no refusal, no timeout
    assert results[200] > 50
    assert request(stack.proxy, "GET", "/healthz").status == 200


def test_a_worker_killed_mid_request_costs_no_request(stack):
    # A worker that dies (SIGKILL, out of memory, gunicorn's timeout) drops the request it was
    # serving; nginx sends an idempotent one again, once, and another worker answers it. To
    # kill workers surely in the middle of a request (and not while they send an answer,
    # which nginx has begun to pass on and cannot take back), PgBouncer holds their database
    # queries meanwhile: /healthz asks the database first.
    import psycopg  # the project's driver

    master = stack.gunicorn_master()
    errors_before = len(stack.nginx_errors())
    killed = []

    def kill_a_worker_mid_request() -> None:
        with psycopg.connect(
            stack.settings["PGBOUNCER_ADMIN_URL"], autocommit=True, prepare_threshold=None
        ) as admin:
            admin.execute("PAUSE quill")
            try:
                time.sleep(0.5)  # every worker now waits on the database, inside a request
                worker = int(Path(f"/proc/{master}/task/{master}/children").read_text().split()[0])
                os.kill(worker, signal.SIGKILL)
                killed.append(worker)
                time.sleep(0.5)
            finally:
                admin.execute("RESUME quill")

    results = under_load(stack, kill_a_worker_mid_request, paths=("/healthz",))
    print(f"answers while a worker was killed mid-request: {dict(results)}")
    assert killed and not alive(killed[0])
    assert set(results) == {200}, results
    # The request the worker had was tried again: nginx logged the dropped connection.
    retried = [
        line
        for line in stack.nginx_errors()[errors_before:]
        if "prematurely closed" in line or "reset by peer" in line
    ]
    assert retried
    assert stack.gunicorn_master() == master
