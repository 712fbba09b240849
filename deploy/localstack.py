"""Quill's production topology from local binaries, on loopback and free ports.

    python deploy/localstack.py up [--dir var/stack] [--web] [--pool-size 5]
    python deploy/localstack.py down [--dir var/stack]
    python deploy/localstack.py run [--web] -- COMMAND...   # throwaway stack around one command

PostgreSQL (a fresh cluster) <- PgBouncer (transaction pooling) <- gunicorn, plus Redis.
`up` writes the connection settings to DIR/env; `run` passes them to COMMAND's environment
and removes everything afterwards. No Docker needed: tests and benchmarks use this.
"""

from __future__ import annotations

import argparse
import glob
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
DB_NAME = "quill"
DB_USER = "quill"


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
        "(`make test` does this by itself when run as root)."
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


def start_postgres(directory: Path, port: int, password: str) -> None:
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
        f"-p {port} -k {directory} -c listen_addresses=127.0.0.1 -c max_connections=100 "
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


def start_pgbouncer(directory: Path, port: int, pg_port: int, password: str, pool_size: int) -> None:
    pgbouncer = find_binary("pgbouncer", "/usr/sbin/pgbouncer", "/usr/bin/pgbouncer")
    (directory / "userlist.txt").write_text(f'"{DB_USER}" "{password}"\n')
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
admin_users = {DB_USER}
stats_users = {DB_USER}
pool_mode = transaction
default_pool_size = {pool_size}
min_pool_size = 0
reserve_pool_size = 0
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


def start_web(directory: Path, env: dict[str, str], port: int) -> None:
    python = sys.executable
    web_env = {**os.environ, **env}
    run_quiet([python, "manage.py", "migrate", "--noinput"], "migrate", cwd=REPO, env=web_env)
    run_quiet([python, "manage.py", "collectstatic", "--noinput"], "collectstatic", cwd=REPO, env=web_env)
    log = open(directory / "gunicorn.log", "ab")  # noqa: SIM115 - handed to the child process
    process = subprocess.Popen(
        [python, "-m", "gunicorn", "-c", str(REPO / "deploy" / "gunicorn.conf.py"), "blog_project.wsgi"],
        cwd=REPO,
        env={**web_env, "HOST": "127.0.0.1", "PORT": str(port)},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    (directory / "gunicorn.pid").write_text(str(process.pid))
    wait_for_port(port, "gunicorn", timeout=60)


def up(directory: Path, *, web: bool, pool_size: int) -> dict[str, str]:
    if (directory / "env").exists():
        raise SystemExit(f"A stack already runs from {directory}; stop it with `down` first.")
    directory.mkdir(parents=True, exist_ok=True)
    os.chmod(directory, 0o755)
    if IS_ROOT:
        shutil.chown(directory, "postgres", "postgres")
    password = secrets.token_hex(16)
    pg_port, bouncer_port, redis_port = free_port(), free_port(), free_port()
    start_postgres(directory, pg_port, password)
    start_pgbouncer(directory, bouncer_port, pg_port, password, pool_size)
    start_redis(directory, redis_port)
    env = {
        "DATABASE_URL": f"postgres://{DB_USER}:{password}@127.0.0.1:{bouncer_port}/{DB_NAME}",
        "DIRECT_DATABASE_URL": f"postgres://{DB_USER}:{password}@127.0.0.1:{pg_port}/{DB_NAME}",
        "PGBOUNCER_ADMIN_URL": f"postgres://{DB_USER}:{password}@127.0.0.1:{bouncer_port}/pgbouncer",
        "PGBOUNCER_POOL_SIZE": str(pool_size),
        "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
    }
    if web:
        web_port = free_port()
        env["SECRET_KEY"] = os.environ.get("SECRET_KEY") or secrets.token_urlsafe(50)
        env["QUILL_HTTPS"] = "false"
        start_web(directory, env, web_port)
        env["QUILL_URL"] = f"http://127.0.0.1:{web_port}"
    (directory / "env").write_text("".join(f"{key}={value}\n" for key, value in env.items()))
    os.chmod(directory / "env", 0o600)
    return env


def _kill_from_pidfile(pidfile: Path, *, group: bool = False) -> None:
    try:
        pid = int(pidfile.read_text().strip())
        if group:
            os.killpg(pid, signal.SIGTERM)
        else:
            os.kill(pid, signal.SIGTERM)
    except (FileNotFoundError, ValueError, ProcessLookupError, PermissionError):
        return
    for _ in range(100):  # up to 10 s for a graceful stop
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)


def down(directory: Path) -> None:
    _kill_from_pidfile(directory / "gunicorn.pid", group=True)
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
    parser.add_argument("action", choices=["up", "down", "run"])
    parser.add_argument("--dir", type=Path, default=REPO / "var" / "stack")
    parser.add_argument("--web", action="store_true", help="also migrate and start gunicorn")
    parser.add_argument("--pool-size", type=int, default=int(os.environ.get("PGBOUNCER_POOL_SIZE", "5")))
    argv = sys.argv[1:]
    split = argv.index("--") if "--" in argv else len(argv)
    args = parser.parse_args(argv[:split])
    command = argv[split + 1 :]

    if args.action == "down":
        down(args.dir)
        shutil.rmtree(args.dir, ignore_errors=True)
        print(f"Stopped the stack in {args.dir}.")
        return 0
    if args.action == "up":
        try:
            env = up(args.dir, web=args.web, pool_size=args.pool_size)
        except BaseException:
            down(args.dir)
            raise
        print(f"Stack is up (settings in {args.dir / 'env'}):")
        for key, value in env.items():
            print(f"  {key}={value}")
        print("Stop it with: make stack-down")
        return 0

    if not command:
        parser.error("run needs a command after --")
    directory = Path(tempfile.mkdtemp(prefix="quill-stack-"))
    try:
        env = up(directory, web=args.web, pool_size=args.pool_size)
        return subprocess.run(command, env={**os.environ, **env}).returncode
    except KeyboardInterrupt:
        return 130
    finally:
        down(directory)
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
