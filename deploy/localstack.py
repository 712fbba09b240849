"""Quill's production topology from local binaries, on loopback and free ports.

    python deploy/localstack.py up [--dir var/stack] [--web [--workers 1]] [--pool-size 5]
    python deploy/localstack.py down [--dir var/stack]
    python deploy/localstack.py run [--web [--workers 1]] -- COMMAND...   # throwaway stack around one command
    python deploy/localstack.py restart-web [--dir var/stack]  # replace gunicorn, no request lost

PostgreSQL (a fresh cluster) <- PgBouncer (transaction pooling) <- gunicorn <- nginx, plus
Redis. With --web, also the job workers, each its own process through the same PgBouncer:
`manage.py worker --scheduler` (the one process that also runs the periodic-job scheduler;
pid in DIR/worker.pid, log in DIR/worker.log), and with --workers N, N-1 more
`manage.py worker` (DIR/worker-2.pid, worker-2.log, ...); --workers 0 runs none. Without
--web (a database for tests) there is no worker. `up` writes the connection settings to
DIR/env (with --web: QUILL_URL, the proxy, and GUNICORN_URL, gunicorn itself); `run` passes
them to COMMAND's environment and removes everything afterwards; `down` stops the workers by
their pid files (SIGTERM: each finishes the job in hand; SIGKILL after WORKER_STOP_SECONDS).
No Docker needed: tests and benchmarks use this.
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import os
import re
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
DB_NAME = "quill"
DB_USER = "quill"
ADMIN_USER = "pgbouncer_admin"  # PgBouncer's console only; not a Postgres role
NGINX_TEMPLATES = REPO / "deploy" / "nginx"
STATIC_ROOT = REPO / "var" / "staticfiles"  # settings.STATIC_ROOT
# Seconds gunicorn may take to stop: its graceful_timeout (GUNICORN_GRACEFUL_TIMEOUT, 20 s by
# default) for the requests in flight, and some more.
GUNICORN_STOP_SECONDS = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "20")) + 10
# Seconds a job worker may take to finish the job in hand after SIGTERM, before SIGKILL (the
# job then goes back to the queue once its heartbeats stop: QUILL_JOB_LEASE_SECONDS).
WORKER_STOP_SECONDS = 30


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise SystemExit(f"{what} did not start listening on 127.0.0.1:{port} within {timeout:.0f}s")


def find_binary(name: str, *patterns: str) -> str:
    for candidate in (
        shutil.which(name),
        *sorted((p for pat in patterns for p in glob.glob(pat)), reverse=True),
    ):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise SystemExit(
        f"'{name}' is not installed. On Debian: apt-get install -y postgresql pgbouncer redis-server "
        "nginx (`make test` and `make stack` do this by themselves when run as root)."
    )


def as_service_user(cmd: list[str]) -> list[str]:
    # initdb, postgres and pgbouncer refuse to run as root.
    return ["runuser", "-u", "postgres", "--", *cmd] if IS_ROOT else cmd


def run_quiet(
    cmd: list[str], what: str, *, cwd: Path | None = None, env: dict[str, str] | None = None
) -> None:
    result = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, env=env)
    if result.returncode != 0:
        raise SystemExit(f"{what} failed ({result.returncode}):\n{result.stdout}{result.stderr}")


def read_env(directory: Path) -> dict[str, str]:
    env_file = directory / "env"
    if not env_file.exists():
        return {}
    return dict(line.split("=", 1) for line in env_file.read_text().splitlines() if "=" in line)


def start_postgres(directory: Path, port: int, password: str, *, max_connections: int = 100) -> None:
    import psycopg  # from the project's venv

    pg_bin = Path(find_binary("initdb", "/usr/lib/postgresql/*/bin/initdb")).parent
    run_quiet(
        as_service_user([
            str(pg_bin / "initdb"), "-D", str(directory / "data"), "-U", "postgres", "--auth-local=trust",
            "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync",
        ]),
        "initdb",
    )  # fmt: skip
    options = (
        f"-p {port} -k {directory} -c listen_addresses=127.0.0.1 -c max_connections={max_connections} "
        "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    )
    run_quiet(
        as_service_user([
            str(pg_bin / "pg_ctl"), "-D", str(directory / "data"), "-l", str(directory / "postgres.log"),
            "-w", "-t", "60", "-o", options, "start",
        ]),
        "pg_ctl start",
    )  # fmt: skip
    with psycopg.connect(
        host=str(directory), port=port, user="postgres", dbname="postgres", autocommit=True
    ) as conn:
        conn.execute(f"CREATE ROLE {DB_USER} LOGIN CREATEDB PASSWORD '{password}'")
        conn.execute(f"CREATE DATABASE {DB_NAME} OWNER {DB_USER}")


def start_pgbouncer(
    directory: Path,
    port: int,
    pg_port: int,
    password: str,
    pool_size: int,
    admin_password: str,
    *,
    reserve_pool_size: int = 0,
) -> None:
    pgbouncer = find_binary("pgbouncer", "/usr/sbin/pgbouncer", "/usr/bin/pgbouncer")
    # The console (SHOW, PAUSE, KILL...) has its own user: the application's credentials,
    # which every web process holds, cannot reach it.
    (directory / "userlist.txt").write_text(f'"{DB_USER}" "{password}"\n"{ADMIN_USER}" "{admin_password}"\n')
    (directory / "pgbouncer.ini").write_text(
        f"""[databases]
{DB_NAME} = host=127.0.0.1 port={pg_port} dbname={DB_NAME}
; the test runner's test_{DB_NAME} database and `postgres` resolve through this fallback
* = host=127.0.0.1 port={pg_port}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir = {directory}
auth_type = scram-sha-256
auth_file = {directory}/userlist.txt
admin_users = {ADMIN_USER}
stats_users = {ADMIN_USER}
pool_mode = transaction
default_pool_size = {pool_size}
min_pool_size = 0
reserve_pool_size = {reserve_pool_size}
max_client_conn = 1000
ignore_startup_parameters = extra_float_digits,options
; fail fast and recover fast when Postgres restarts (defaults: retry a login after 15 s,
; queue clients for 120 s)
server_login_retry = 1
server_connect_timeout = 3
query_wait_timeout = 10
logfile = {directory}/pgbouncer.log
pidfile = {directory}/pgbouncer.pid
"""
    )
    for name in ("userlist.txt", "pgbouncer.ini"):
        os.chmod(directory / name, 0o600)
        if IS_ROOT:
            shutil.chown(directory / name, "postgres", "postgres")
    run_quiet(as_service_user([pgbouncer, "-d", str(directory / "pgbouncer.ini")]), "pgbouncer")
    wait_for_port(port, "PgBouncer")


def start_redis(directory: Path, port: int) -> None:
    redis_server = find_binary("redis-server", "/usr/bin/redis-server", "/usr/sbin/redis-server")
    run_quiet(
        [
            redis_server, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
            "--daemonize", "yes", "--dir", str(directory), "--pidfile", str(directory / "redis.pid"),
            "--logfile", str(directory / "redis.log"),
        ],
        "redis-server",
    )  # fmt: skip
    wait_for_port(port, "Redis")


def gunicorn_env(env: dict[str, str], port: int) -> dict[str, str]:
    return {
        **os.environ,
        **env,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        # nginx in front appends the client's address to X-Forwarded-For: trust that one entry.
        "NUM_PROXIES": "1",
    }


def spawn_gunicorn(directory: Path, env: dict[str, str], port: int) -> int:
    # The venv's gunicorn script, not `python -m gunicorn`: on SIGUSR2 gunicorn re-executes its
    # own command line, and __main__.py run as a script would shadow the standard library
    # (gunicorn/http/ before http/).
    script = Path(sys.executable).parent / "gunicorn"
    command = [sys.executable, str(script)] if script.exists() else [sys.executable, "-m", "gunicorn"]
    log = open(directory / "gunicorn.log", "ab")  # noqa: SIM115 - handed to the child process
    process = subprocess.Popen(
        [
            *command, "-c", str(REPO / "deploy" / "gunicorn.conf.py"),
            # restart-web's new master writes gunicorn.pid.2, then takes gunicorn.pid over.
            "--pid", str(directory / "gunicorn.pid"),
            # Signals control the stack's gunicorn; several stacks (and `make run`) would
            # otherwise share one control socket in $HOME.
            "--no-control-socket", "blog_project.wsgi",
        ],
        cwd=REPO,
        env=gunicorn_env(env, port),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    log.close()
    return process.pid


def start_web(directory: Path, env: dict[str, str], port: int) -> None:
    python = sys.executable
    web_env = {**os.environ, **env}
    run_quiet([python, "manage.py", "migrate", "--noinput"], "migrate", cwd=REPO, env=web_env)
    run_quiet([python, "manage.py", "collectstatic", "--noinput"], "collectstatic", cwd=REPO, env=web_env)
    # gunicorn writes DIR/gunicorn.pid itself (before it listens): a pid file that it did not
    # write, it would not remove when it stops, and a new master could not take it over.
    pid = spawn_gunicorn(directory, env, port)
    try:
        wait_for_port(port, "gunicorn", timeout=60)
    except BaseException:
        stop_process(pid, group=True)
        raise


def worker_pidfile(directory: Path, number: int) -> Path:
    """DIR/worker.pid for the first worker (the scheduler), DIR/worker-N.pid for the Nth."""
    return directory / ("worker.pid" if number == 1 else f"worker-{number}.pid")


def worker_pidfiles(directory: Path) -> list[Path]:
    """The workers' pid files in the order they were started."""
    return sorted(directory.glob("worker*.pid"), key=lambda path: int(path.stem.partition("-")[2] or 1))


def spawn_worker(directory: Path, env: dict[str, str], number: int) -> int:
    """`manage.py worker` in its own process (the first one with --scheduler), with the web's
    environment: the database through PgBouncer, Redis, the settings module, SECRET_KEY."""
    pidfile = worker_pidfile(directory, number)
    command = [sys.executable, "manage.py", "worker", *(["--scheduler"] if number == 1 else [])]
    log = open(pidfile.with_suffix(".log"), "ab")  # noqa: SIM115 - handed to the child process
    process = subprocess.Popen(
        command,
        cwd=REPO,
        env={**os.environ, **env},
        stdout=log,
        stderr=subprocess.STDOUT,
        # Its own session: a Ctrl+C meant for `run`'s command does not reach it; `down` stops it.
        start_new_session=True,
    )
    log.close()
    pidfile.write_text(f"{process.pid}\n")
    return process.pid


def is_worker(pid: int) -> bool:
    """Whether `pid` is a `manage.py worker` process (a pid file's number may have been reused)."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"manage.py" in argv and b"worker" in argv


def wait_for_workers_to_start(
    directory: Path, env: dict[str, str], pids: list[int], timeout: float = 60
) -> None:
    """Waits until every worker has recorded its first heartbeat (jobs.models.Worker, written
    before it claims its first job; its id holds the pid), or says which one exited."""
    import psycopg

    deadline = time.monotonic() + timeout
    waiting = set(pids)
    while waiting:
        for number, pid in enumerate(pids, start=1):
            if pid in waiting and not alive(pid):
                log = worker_pidfile(directory, number).with_suffix(".log")
                raise SystemExit(f"The job worker (pid {pid}) exited at start; see {log}")
        with contextlib.suppress(psycopg.Error):
            with psycopg.connect(env["DIRECT_DATABASE_URL"], connect_timeout=5) as conn:
                ids = [row[0] for row in conn.execute("SELECT id FROM jobs_worker")]
            waiting -= {pid for pid in waiting if any(f"-{pid}-" in worker_id for worker_id in ids)}
        if not waiting:
            return
        if time.monotonic() > deadline:
            raise SystemExit(
                f"Job workers {sorted(waiting)} did not start within {timeout:.0f}s; see {directory}"
            )
        time.sleep(0.2)


def start_workers(directory: Path, env: dict[str, str], count: int) -> None:
    pids = [spawn_worker(directory, env, number) for number in range(1, count + 1)]
    wait_for_workers_to_start(directory, env, pids)


def stop_workers(directory: Path, timeout: float = WORKER_STOP_SECONDS) -> None:
    """SIGTERM to every worker the stack started (each finishes the job in hand), then SIGKILL
    to any still running after `timeout` seconds."""
    pids = []
    for pidfile in worker_pidfiles(directory):
        pid = read_pid(pidfile)
        if pid is not None and is_worker(pid):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGTERM)
                pids.append(pid)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(map(alive, pids)):
        time.sleep(0.1)
    for pid in pids:
        if alive(pid) and is_worker(pid):
            print(f"Job worker {pid} did not stop within {timeout:.0f}s: SIGKILL", file=sys.stderr)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(map(alive, pids)):
        time.sleep(0.1)


def readable_by_nginx_workers(root: Path) -> bool:
    """Whether nginx's workers can read every file under `root`. Run by a normal user they are
    that user; run by root they are `nobody`, who reads only what every user may read (the
    repository may sit in a home folder that others cannot enter)."""
    if not IS_ROOT:
        return os.access(root, os.R_OK | os.X_OK)
    if any(not parent.stat().st_mode & stat.S_IXOTH for parent in root.parents):
        return False
    for folder, _, files in os.walk(root):
        if os.stat(folder).st_mode & (stat.S_IROTH | stat.S_IXOTH) != stat.S_IROTH | stat.S_IXOTH:
            return False
        if any(not os.stat(os.path.join(folder, name)).st_mode & stat.S_IROTH for name in files):
            return False
    return True


def render_template(template: Path, values: dict[str, str]) -> str:
    """The template with its ${QUILL_...} placeholders filled: what the nginx image's envsubst
    does with the same file in Compose. nginx's own $variables are left alone."""

    def fill(match: re.Match[str]) -> str:
        if match.group(1) not in values:
            raise SystemExit(f"{template.name}: no value for ${{{match.group(1)}}}")
        return values[match.group(1)]

    return re.sub(r"\$\{(QUILL_[A-Z0-9_]+)\}", fill, template.read_text())


def media_root() -> Path:
    # The same rule as deploy/backup.py: $MEDIA_ROOT (relative to the repository), else var/media.
    raw = os.environ.get("MEDIA_ROOT", "")
    return (REPO / raw).resolve() if raw else REPO / "var" / "media"


def start_proxy(
    directory: Path, port: int, gunicorn_port: int, media: Path, *, replicas: Sequence[int] = ()
) -> None:
    """nginx on 127.0.0.1:port in front of gunicorn, from deploy/nginx/'s templates. With
    `replicas` (gunicorn ports), it balances across those instead (deploy/scaleout.py)."""
    nginx = find_binary("nginx", "/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx")
    conf_dir = directory / "nginx"
    conf_dir.mkdir(exist_ok=True)
    os.chmod(conf_dir, 0o755)  # its workers (`nobody` under root) write temp files below
    # A folder with nothing in it: /static/ or /media/ served from it is all asked of gunicorn.
    (conf_dir / "empty").mkdir(exist_ok=True)
    roots = {}
    for name, root in (("static", STATIC_ROOT), ("media", media)):
        if readable_by_nginx_workers(root):
            roots[name] = str(root)
        else:
            roots[name] = str(conf_dir / "empty")
            print(
                f"nginx's workers (user nobody) cannot read {root}: gunicorn serves /{name}/ instead.",
                file=sys.stderr,
            )
    candidates = ("/etc/nginx/mime.types", "/usr/local/nginx/conf/mime.types")
    mime_types = next((path for path in candidates if os.path.exists(path)), None)
    if mime_types is None:
        mime_types = str(conf_dir / "mime.types")
        Path(mime_types).write_text(
            "types { text/html html; text/css css; application/javascript js; application/json json;"
            " image/svg+xml svg; image/png png; image/jpeg jpg jpeg; image/gif gif; image/webp webp;"
            " image/x-icon ico; font/woff2 woff2; text/plain txt map; }\n"
        )
    values = {
        "QUILL_PROXY_LISTEN": f"127.0.0.1:{port}",
        "QUILL_UPSTREAM": f"127.0.0.1:{gunicorn_port}",
        "QUILL_STATIC_ROOT": roots["static"],
        "QUILL_MEDIA_ROOT": roots["media"],
        "QUILL_STACK_DIR": str(directory),
        "QUILL_ACCESS_LOG": f'"{directory / "nginx-access.log"}"',
        "QUILL_MIME_TYPES": mime_types,
    }
    for name, template in (
        ("quill.conf", "quill.conf.template"),
        ("nginx.conf", "nginx-local.conf.template"),
    ):
        text = render_template(NGINX_TEMPLATES / template, values)
        if replicas and name == "quill.conf":
            text = balance_across(text, replicas)
        (conf_dir / name).write_text(text)
    # -e: where nginx logs before it has read the configuration (not /var/log/nginx).
    error_log = directory / "nginx-error.log"
    run_quiet([nginx, "-p", str(conf_dir), "-e", str(error_log), "-c", str(conf_dir / "nginx.conf")], "nginx")
    wait_for_port(port, "nginx")


def balance_across(site: str, ports: Sequence[int]) -> str:
    """The site's configuration with its upstream listing each gunicorn once: a replica that
    refuses or drops a connection is left out for a few seconds (as a pod that is not ready),
    and nginx retries an idempotent request on the next one."""
    servers = "".join(f"    server 127.0.0.1:{port} max_fails=1 fail_timeout=5s;\n" for port in ports)
    block = f"upstream quill_gunicorn {{\n{servers}}}"
    text, count = re.subn(r"^upstream quill_gunicorn \{.*?^\}", block, site, flags=re.S | re.M)
    if count != 1:
        raise SystemExit("quill.conf.template: no `upstream quill_gunicorn { ... }` block to replace")
    return text


def children(pid: int) -> set[int]:
    found = set()
    for stat_file in glob.glob("/proc/[0-9]*/stat"):
        try:
            fields = Path(stat_file).read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[1] == str(pid):
            found.add(int(stat_file.split("/")[2]))
    return found


def wait_for_workers(log: Path, offset: int, master: int, timeout: float = 60) -> None:
    """Waits until every worker of gunicorn `master` has loaded the app (gunicorn.conf.py's
    post_worker_init logs "Worker ready (pid P, master M)")."""
    deadline = time.monotonic() + timeout
    settled = 0
    while time.monotonic() < deadline:
        with open(log, "rb") as file:
            file.seek(offset)
            text = file.read().decode(errors="replace")
        ready = {int(pid) for pid in re.findall(rf"Worker ready \(pid (\d+), master {master}\)", text)}
        workers = children(master)
        # Ready once every worker answers, and no new one has appeared for a moment (gunicorn
        # forks them one after the other).
        settled = settled + 1 if workers and workers <= ready else 0
        if settled >= 5:
            return
        if not alive(master):
            raise SystemExit(f"The new gunicorn exited at start; see {log}")
        time.sleep(0.1)
    raise SystemExit(f"The new gunicorn's workers were not ready within {timeout:.0f}s; see {log}")


def alive(pid: int) -> bool:
    """Whether process `pid` runs (a zombie does not: it has exited, unreaped)."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # reaps it when it is our own child
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def read_pid(pidfile: Path) -> int | None:
    """The pid in `pidfile` when that process runs."""
    try:
        pid = int(pidfile.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    return pid if alive(pid) else None


def restart_web(directory: Path) -> None:
    """Replaces the stack's gunicorn (new code, same settings) without losing a request, the
    way gunicorn does it: SIGUSR2 makes the master start a new master that shares its
    listening socket; once the new workers serve, the old master gets SIGTERM, its workers
    finish the requests in flight (graceful_timeout), and the connections still waiting in
    the socket's queue are taken by the new workers: the socket is never closed."""
    env = read_env(directory)
    if "GUNICORN_URL" not in env:
        raise SystemExit(f"No stack with gunicorn runs from {directory} (start it with `up --web`).")
    pidfile = directory / "gunicorn.pid"
    old = read_pid(pidfile)
    if old is None:
        raise SystemExit(f"gunicorn does not run ({pidfile})")
    log = directory / "gunicorn.log"
    offset = log.stat().st_size if log.exists() else 0
    os.kill(old, signal.SIGUSR2)
    deadline = time.monotonic() + 30
    while (new := read_pid(directory / "gunicorn.pid.2")) is None:
        if time.monotonic() > deadline:
            raise SystemExit(f"No new gunicorn master after SIGUSR2; see {log}")
        time.sleep(0.1)
    try:
        wait_for_workers(log, offset, new)
    except BaseException:
        stop_process(new)  # the old master goes on serving
        raise
    stop_process(old, timeout=GUNICORN_STOP_SECONDS)
    # Once it sees its parent gone, the new master renames its gunicorn.pid.2 to gunicorn.pid.
    deadline = time.monotonic() + 10
    while read_pid(pidfile) != new:
        if time.monotonic() > deadline:
            raise SystemExit(f"The new gunicorn master ({new}) did not take over {pidfile}; see {log}")
        time.sleep(0.1)


def up(directory: Path, *, web: bool, pool_size: int, workers: int = 1) -> dict[str, str]:
    """The stack in `directory`; with `web`, gunicorn and nginx, and `workers` job workers (the
    first one also runs the scheduler)."""
    if (directory / "env").exists():
        raise SystemExit(f"A stack already runs from {directory}; stop it with `down` first.")
    directory.mkdir(parents=True, exist_ok=True)
    os.chmod(directory, 0o755)
    if IS_ROOT:
        shutil.chown(directory, "postgres", "postgres")
    password, admin_password = secrets.token_hex(16), secrets.token_hex(16)
    pg_port, bouncer_port, redis_port = free_port(), free_port(), free_port()
    start_postgres(directory, pg_port, password)
    start_pgbouncer(directory, bouncer_port, pg_port, password, pool_size, admin_password)
    start_redis(directory, redis_port)
    env = {
        "DATABASE_URL": f"postgres://{DB_USER}:{password}@127.0.0.1:{bouncer_port}/{DB_NAME}",
        "DIRECT_DATABASE_URL": f"postgres://{DB_USER}:{password}@127.0.0.1:{pg_port}/{DB_NAME}",
        "PGBOUNCER_ADMIN_URL": f"postgres://{ADMIN_USER}:{admin_password}@127.0.0.1:{bouncer_port}/pgbouncer",
        "PGBOUNCER_POOL_SIZE": str(pool_size),
        "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
    }
    if web:
        web_port, proxy_port = free_port(), free_port()
        env["SECRET_KEY"] = os.environ.get("SECRET_KEY") or secrets.token_urlsafe(50)
        env["QUILL_HTTPS"] = "false"
        media = media_root()
        media.mkdir(parents=True, exist_ok=True)
        env["MEDIA_ROOT"] = str(media)
        start_web(directory, env, web_port)
        start_proxy(directory, proxy_port, web_port, media)
        start_workers(directory, env, workers)
        # Clients go through the proxy; GUNICORN_URL is for tests and benchmarks that want
        # gunicorn itself.
        env["QUILL_URL"] = f"http://127.0.0.1:{proxy_port}"
        env["GUNICORN_URL"] = f"http://127.0.0.1:{web_port}"
    (directory / "env").write_text("".join(f"{key}={value}\n" for key, value in env.items()))
    os.chmod(directory / "env", 0o600)
    return env


def stop_process(pid: int, *, group: bool = False, timeout: float = 10) -> None:
    """SIGTERM to `pid` (with `group`: to its whole process group), then waits for it to exit."""
    try:
        # A gunicorn master started by restart-web is in its first master's group.
        pgid = os.getpgid(pid) if group else 0
        if group and pgid != os.getpgrp():
            os.killpg(pgid, signal.SIGTERM)
        else:
            os.kill(pid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and alive(pid):
        time.sleep(0.1)


def _kill_from_pidfile(pidfile: Path, *, group: bool = False, timeout: float = 10) -> None:
    try:
        pid = int(pidfile.read_text().strip())
    except (FileNotFoundError, ValueError):
        return
    stop_process(pid, group=group, timeout=timeout)


def down(directory: Path) -> None:
    _kill_from_pidfile(directory / "nginx.pid")  # the front first: no new requests
    _kill_from_pidfile(directory / "gunicorn.pid", group=True, timeout=GUNICORN_STOP_SECONDS)
    stop_workers(directory)  # before PgBouncer and Redis: the job in hand still reaches them
    _kill_from_pidfile(directory / "redis.pid")
    _kill_from_pidfile(directory / "pgbouncer.pid")
    if (directory / "data" / "postmaster.pid").exists():
        pg_ctl = Path(find_binary("initdb", "/usr/lib/postgresql/*/bin/initdb")).parent / "pg_ctl"
        subprocess.run(
            as_service_user([str(pg_ctl), "-D", str(directory / "data"), "-m", "fast", "-w", "stop"]),
            capture_output=True,
        )
    (directory / "env").unlink(missing_ok=True)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("action", choices=["up", "down", "run", "restart-web"])
    parser.add_argument("--dir", type=Path, default=REPO / "var" / "stack")
    parser.add_argument(
        "--web", action="store_true", help="also migrate, start gunicorn and nginx in front of it"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="with --web: job worker processes, the first also the scheduler (default 1; 0: none)",
    )
    parser.add_argument("--pool-size", type=int, default=int(os.environ.get("PGBOUNCER_POOL_SIZE", "5")))
    argv = sys.argv[1:]
    split = argv.index("--") if "--" in argv else len(argv)
    args = parser.parse_args(argv[:split])
    command = argv[split + 1 :]
    if args.workers is not None and (not args.web or args.workers < 0):
        parser.error("--workers takes a number from 0 up, with --web")
    workers = 1 if args.workers is None else args.workers

    if args.action == "down":
        down(args.dir)
        shutil.rmtree(args.dir, ignore_errors=True)
        print(f"Stopped the stack in {args.dir}.")
        return 0
    if args.action == "restart-web":
        restart_web(args.dir)
        print(f"gunicorn restarted (pid {(args.dir / 'gunicorn.pid').read_text().strip()}).")
        return 0
    if args.action == "up":
        try:
            env = up(args.dir, web=args.web, pool_size=args.pool_size, workers=workers)
        except BaseException:
            down(args.dir)
            raise
        print(f"Stack is up (settings in {args.dir / 'env'}):")
        for key, value in env.items():
            print(f"  {key}={value}")
        for pidfile in worker_pidfiles(args.dir):
            role = "job worker and scheduler" if pidfile.name == "worker.pid" else "job worker"
            print(f"  {role}: pid {pidfile.read_text().strip()}, log {pidfile.with_suffix('.log')}")
        print("Stop it with: make stack-down")
        return 0

    if not command:
        parser.error("run needs a command after --")
    directory = Path(tempfile.mkdtemp(prefix="quill-stack-"))
    try:
        env = up(directory, web=args.web, pool_size=args.pool_size, workers=workers)
        return subprocess.run(command, env={**os.environ, **env}).returncode
    except KeyboardInterrupt:
        return 130
    finally:
        down(directory)
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
