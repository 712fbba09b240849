"""Scale-out rehearsal (`make scaleout`): deploy/k8s/'s topology from local binaries.

    python deploy/scaleout.py                       # 4 replicas, 20 s of load, one replica killed
    python deploy/scaleout.py --short               # 2 replicas, 3 s of load (`make test`)
    python deploy/scaleout.py --replicas 6 --workers 2 --pool-size 1 --clients 24 --duration 30

What runs, each on 127.0.0.1 on a free port, from a temporary folder:
  - one Postgres whose max_connections is deliberately small: exactly the connection
    arithmetic of deploy/k8s/connection_budget.py for this topology, with no headroom;
  - Redis;
  - the migrations, once, through a PgBouncer with a one-connection pool (the migrate Job);
  - N web replicas, each a gunicorn (W workers) with a PgBouncer of its own in transaction
    mode (the pod and its sidecar);
  - nginx in front, with deploy/nginx/quill.conf.template's proxy settings, balancing across
    the replicas (the ingress).
Then bounded load through nginx: C clients for D seconds, reading the story list and writing
stories (each write with its own Idempotency-Key, sent again on a failure, a few times). Halfway
through, one replica is killed (SIGKILL to its gunicorn and its PgBouncer: a node lost).

Checked, and printed as a table:
  - Postgres never had more of Quill's server connections than N x (pool + reserve)
    (pg_stat_activity, sampled all along) and refused no connection;
  - every replica served requests;
  - every acknowledged write (a 201) is in the database, and none twice.
Exits 1 when a check fails. It stops what it started (by pid) and deletes its folder, whatever
happens, and gives up after --timeout seconds.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import random
import secrets
import shutil
import signal
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import localstack  # deploy/localstack.py, beside this script

REPO = localstack.REPO
SIGN_UP = "/api/v1/user/signup"
BLOG = "/api/v1/blog"
READ = "/api/v1/blog/bulk?page_size=5"
TITLE_PREFIX = "scaleout "
REQUEST_TIMEOUT = 15.0  # above PgBouncer's query_wait_timeout (10 s)
WRITE_ATTEMPTS = 5
WRITE_SHARE = 0.3
# The migrate Job's pool (deploy/k8s/base/pgbouncer/migrate-pool.ini); the sampler's own
# connection and one spare (admin reserve); Postgres's superuser_reserved_connections.
MIGRATE_POOL = 1
ADMIN_RESERVE = 2
SUPERUSER_RESERVED = 3
# What a caller's environment (the test suite's stack) must not hand to the replicas.
FOREIGN_KEYS = (
    "DATABASE_URL", "DIRECT_DATABASE_URL", "PGBOUNCER_ADMIN_URL", "REDIS_URL", "QUILL_URL",
    "GUNICORN_URL", "MEDIA_ROOT", "MEDIA_STORAGE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE", "TEST_DATABASE_URL",
    "DJANGO_SETTINGS_MODULE", "WEB_CONCURRENCY", "GUNICORN_THREADS", "EMAIL_URL",
)  # fmt: skip


@dataclass
class Replica:
    name: str
    directory: Path
    gunicorn_port: int
    pgbouncer_port: int
    gunicorn_pid: int = 0
    killed_at: float | None = None  # seconds into the load

    def served(self) -> int:
        """Requests of the load this replica's gunicorn answered (its access log)."""
        log = self.directory / "gunicorn.log"
        if not log.exists():
            return 0
        marker = f'"path": "{BLOG}'
        return sum(marker in line for line in log.read_text(errors="replace").splitlines())


@dataclass
class Load:
    statuses: Counter[str] = field(default_factory=Counter)
    reads: int = 0
    read_failures: int = 0
    acknowledged: dict[str, str] = field(default_factory=dict)  # Idempotency-Key -> story id
    unacknowledged: list[str] = field(default_factory=list)  # keys whose writes never got a 201
    retried: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class Sampler(threading.Thread):
    """Counts Postgres's client backends (pg_stat_activity) every few milliseconds."""

    def __init__(self, directory: Path, port: int, interval: float = 0.02):
        super().__init__(daemon=True)
        self.directory, self.port, self.interval = directory, port, interval
        self.stop = threading.Event()
        self.samples = 0
        self.peak_app = 0  # Quill's own server connections (role quill): PgBouncers' pools
        self.peak_total = 0  # every client backend, the sampler's included
        self.error: BaseException | None = None

    def run(self) -> None:
        import psycopg

        try:
            with psycopg.connect(
                host=str(self.directory), port=self.port, user="postgres", dbname="postgres", autocommit=True
            ) as conn:
                while not self.stop.is_set():
                    row = conn.execute(
                        "SELECT count(*) FILTER (WHERE usename = %s), count(*) FROM pg_stat_activity"
                        " WHERE backend_type = 'client backend'",
                        (localstack.DB_USER,),
                    ).fetchone()
                    assert row is not None
                    self.samples += 1
                    self.peak_app = max(self.peak_app, row[0])
                    self.peak_total = max(self.peak_total, row[1])
                    self.stop.wait(self.interval)
        except BaseException as error:  # reported with the results
            self.error = error


def request(
    conn: http.client.HTTPConnection,
    method: str,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, bytes]:
    data = json.dumps(body).encode() if body is not None else None
    all_headers = {"Content-Type": "application/json", **(headers or {})} if data else dict(headers or {})
    conn.request(method, path, body=data, headers=all_headers)
    response = conn.getresponse()
    return response.status, response.read()


def client(proxy_port: int, token: str, deadline: float, load: Load, seed: int) -> None:
    rng = random.Random(seed)
    conn = http.client.HTTPConnection("127.0.0.1", proxy_port, timeout=REQUEST_TIMEOUT)

    def send(
        method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[str, bytes]:
        nonlocal conn
        try:
            status, payload = request(conn, method, path, body, headers)
            return str(status), payload
        except (OSError, http.client.HTTPException) as error:
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", proxy_port, timeout=REQUEST_TIMEOUT)
            return type(error).__name__, b""

    auth = {"Authorization": f"Bearer {token}"}
    while time.monotonic() < deadline:
        if rng.random() < WRITE_SHARE:
            key = uuid.uuid4().hex
            body = {"title": f"{TITLE_PREFIX}{key}", "content": "Written during the scale-out rehearsal."}
            for attempt in range(WRITE_ATTEMPTS):
                outcome, payload = send("POST", BLOG, body, {**auth, "Idempotency-Key": key})
                with load.lock:
                    load.statuses[outcome] += 1
                    load.retried += attempt > 0
                if outcome == "201":
                    with load.lock:
                        load.acknowledged[key] = json.loads(payload)["id"]
                    break
                time.sleep(0.2)
            else:
                with load.lock:
                    load.unacknowledged.append(key)
        else:
            outcome, _ = send("GET", READ)
            with load.lock:
                load.statuses[outcome] += 1
                load.reads += 1
                load.read_failures += outcome != "200"
    conn.close()


def sign_up(proxy_port: int) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", proxy_port, timeout=30)
    try:
        suffix = secrets.token_hex(4)
        body = {"email": f"scaleout-{suffix}@example.com", "password": secrets.token_urlsafe(18)}
        status, payload = request(conn, "POST", SIGN_UP, {**body, "username": f"scaleout_{suffix}"})
    finally:
        conn.close()
    if status != 201:
        raise SystemExit(f"Sign-up through nginx answered {status}: {payload[:300]!r}")
    return str(json.loads(payload)["jwt"])


def wait_ready(replica: Replica, timeout: float = 90) -> None:
    """Until the replica's /readyz answers 200 (database through its PgBouncer, and Redis)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not localstack.alive(replica.gunicorn_pid):
            raise SystemExit(
                f"{replica.name}'s gunicorn exited at start; see {replica.directory}/gunicorn.log"
            )
        conn = http.client.HTTPConnection("127.0.0.1", replica.gunicorn_port, timeout=5)
        with contextlib.suppress(OSError, http.client.HTTPException):
            if request(conn, "GET", "/readyz")[0] == 200:
                return
        conn.close()
        time.sleep(0.2)
    raise SystemExit(
        f"{replica.name} was not ready within {timeout:.0f}s; see {replica.directory}/gunicorn.log"
    )


def kill(replica: Replica) -> None:
    """SIGKILL to the replica's gunicorn (master and workers: its process group) and its
    PgBouncer, as when a node is lost."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(replica.gunicorn_pid, signal.SIGKILL)
    pgbouncer = localstack.read_pid(replica.directory / "pgbouncer.pid")
    if pgbouncer is not None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pgbouncer, signal.SIGKILL)


def stored_posts(directory: Path, port: int) -> Counter[str]:
    """How many stories each rehearsal key made, straight from Postgres."""
    import psycopg

    with psycopg.connect(
        host=str(directory), port=port, user="postgres", dbname=localstack.DB_NAME, autocommit=True
    ) as conn:
        rows = conn.execute(
            "SELECT title FROM posts_post WHERE title LIKE %s", (TITLE_PREFIX.replace("_", r"\_") + "%",)
        ).fetchall()
    return Counter(title.removeprefix(TITLE_PREFIX) for (title,) in rows)


def refusals(directory: Path) -> int:
    log = directory / "postgres.log"
    text = log.read_text(errors="replace") if log.exists() else ""
    return text.count("too many clients") + text.count("remaining connection slots are reserved")


def rehearse(args: argparse.Namespace, directory: Path) -> dict[str, Any]:
    timings: dict[str, float] = {}
    started = time.monotonic()
    password, admin_password = secrets.token_hex(16), secrets.token_hex(16)
    allowed = args.replicas * (args.pool_size + args.reserve)
    max_connections = allowed + MIGRATE_POOL + ADMIN_RESERVE + SUPERUSER_RESERVED
    pg_port, redis_port, proxy_port = localstack.free_port(), localstack.free_port(), localstack.free_port()
    localstack.start_postgres(directory, pg_port, password, max_connections=max_connections)
    localstack.start_redis(directory, redis_port)
    sampler = Sampler(directory, pg_port)
    sampler.start()

    def folder(name: str) -> Path:
        path = directory / name
        path.mkdir()
        if localstack.IS_ROOT:  # PgBouncer runs as `postgres` and writes its log and pid here
            shutil.chown(path, "postgres", "postgres")
        return path

    media = directory / "media"
    media.mkdir()
    base_env = {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "QUILL_HTTPS": "false",
        "DJANGO_SETTINGS_MODULE": "blog_project.settings",
        "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "MEDIA_ROOT": str(media),
        "QUILL_AUTH_RATE": "1000/minute",
        "WEB_CONCURRENCY": str(args.workers),
        "GUNICORN_GRACEFUL_TIMEOUT": "5",
        "LOG_LEVEL": "WARNING",
        "GUNICORN_ACCESS_LOG": "-",  # gunicorn's own line per request: what `served` counts
    }

    def database_url(port: int) -> str:
        return f"postgres://{localstack.DB_USER}:{password}@127.0.0.1:{port}/{localstack.DB_NAME}"

    # The migrate Job: its own one-connection pool, gone once the migrations are in.
    job = folder("migrate")
    job_port = localstack.free_port()
    localstack.start_pgbouncer(job, job_port, pg_port, password, MIGRATE_POOL, admin_password)
    localstack.run_quiet(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        "migrate",
        cwd=REPO,
        env={**os.environ, **base_env, "DATABASE_URL": database_url(job_port)},
    )
    localstack.down(job)
    timings["migrate"] = time.monotonic() - started

    replicas = []
    for index in range(1, args.replicas + 1):
        replica = Replica(
            f"web-{index}", folder(f"web-{index}"), localstack.free_port(), localstack.free_port()
        )
        localstack.start_pgbouncer(
            replica.directory,
            replica.pgbouncer_port,
            pg_port,
            password,
            args.pool_size,
            admin_password,
            reserve_pool_size=args.reserve,
        )
        env = {**base_env, "DATABASE_URL": database_url(replica.pgbouncer_port)}
        replica.gunicorn_pid = localstack.spawn_gunicorn(replica.directory, env, replica.gunicorn_port)
        replicas.append(replica)
    for replica in replicas:
        wait_ready(replica)
    localstack.start_proxy(
        directory, proxy_port, replicas[0].gunicorn_port, media, replicas=[r.gunicorn_port for r in replicas]
    )
    timings["start"] = time.monotonic() - started

    token = sign_up(proxy_port)
    load = Load()
    load_started = time.monotonic()
    deadline = load_started + args.duration
    threads = [
        threading.Thread(target=client, args=(proxy_port, token, deadline, load, seed), daemon=True)
        for seed in range(args.clients)
    ]
    for thread in threads:
        thread.start()
    victim = replicas[-1] if args.kill and len(replicas) > 1 else None
    if victim is not None:
        time.sleep(args.duration / 2)
        # Halfway, once it has served something (a slow machine may take a while to warm up).
        while victim.served() == 0 and time.monotonic() < deadline - 0.5:
            time.sleep(0.1)
        kill(victim)
        victim.killed_at = time.monotonic() - load_started
    for thread in threads:
        thread.join(timeout=args.duration + 2 * REQUEST_TIMEOUT * WRITE_ATTEMPTS)
    timings["load"] = time.monotonic() - load_started
    time.sleep(0.2)  # a last sample after the load
    sampler.stop.set()
    sampler.join(timeout=5)

    stored = stored_posts(directory, pg_port)
    lost = sorted(key for key in load.acknowledged if stored[key] == 0)
    duplicated = sorted(key for key, count in stored.items() if count > 1)
    served = {replica.name: replica.served() for replica in replicas}
    refused = refusals(directory)
    checks = {
        "connections within the arithmetic": sampler.error is None
        and 0 < sampler.peak_app <= allowed
        and refused == 0,
        "every replica served": all(count > 0 for count in served.values()),
        "no acknowledged write lost": not lost and not duplicated and len(load.acknowledged) > 0,
    }
    return {
        "topology": {
            "replicas": args.replicas,
            "workers": args.workers,
            "pool_size": args.pool_size,
            "reserve_pool_size": args.reserve,
            "clients": args.clients,
            "duration": args.duration,
        },
        "replicas": [
            {
                "name": r.name,
                "gunicorn_port": r.gunicorn_port,
                "pgbouncer_port": r.pgbouncer_port,
                "served": served[r.name],
                "killed_at": r.killed_at,
            }
            for r in replicas
        ],
        "postgres": {
            "max_connections": max_connections,
            "allowed_app_connections": allowed,
            "peak_app_connections": sampler.peak_app,
            "peak_client_backends": sampler.peak_total,
            "samples": sampler.samples,
            "refused": refused,
            "sampler_error": repr(sampler.error) if sampler.error else None,
        },
        "requests": {
            "total": sum(load.statuses.values()),
            "by_outcome": dict(load.statuses),
            "reads": load.reads,
            "read_failures": load.read_failures,
        },
        "writes": {
            "acknowledged": len(load.acknowledged),
            "stored": sum(stored.values()),
            "lost": len(lost),
            "duplicated": len(duplicated),
            "retried": load.retried,
            "unacknowledged": len(load.unacknowledged),
        },
        "checks": checks,
        "passed": all(checks.values()),
        "seconds": {name: round(value, 1) for name, value in timings.items()},
    }


def render(report: dict[str, Any]) -> str:
    topology, postgres, writes, requests = (
        report["topology"], report["postgres"], report["writes"], report["requests"],
    )  # fmt: skip
    per_pod = topology["pool_size"] + topology["reserve_pool_size"]
    lines = [
        f"Scale-out rehearsal: {topology['replicas']} replicas x {topology['workers']} gunicorn workers, "
        f"PgBouncer pool {topology['pool_size']}+{topology['reserve_pool_size']} each; "
        f"{topology['clients']} clients for {topology['duration']:g} s through nginx",
        "",
        f"{'replica':<9}{'gunicorn':>10}{'pgbouncer':>11}{'served':>9}  state",
    ]
    for replica in report["replicas"]:
        state = "up" if replica["killed_at"] is None else f"killed (SIGKILL) at {replica['killed_at']:.1f} s"
        lines.append(
            f"{replica['name']:<9}{replica['gunicorn_port']:>10}{replica['pgbouncer_port']:>11}"
            f"{replica['served']:>9}  {state}"
        )
    outcomes = ", ".join(f"{name} {count}" for name, count in sorted(requests["by_outcome"].items()))
    lines += [
        "",
        f"requests   {requests['total']} ({outcomes}); reads not 200: {requests['read_failures']}",
        f"postgres   peak server connections {postgres['peak_app_connections']} of "
        f"{postgres['allowed_app_connections']} allowed ({topology['replicas']} x {per_pod}); "
        f"max_connections {postgres['max_connections']} (+{MIGRATE_POOL} migrate, +{ADMIN_RESERVE} admin, "
        f"+{SUPERUSER_RESERVED} superuser); peak backends {postgres['peak_client_backends']}; "
        f"refused {postgres['refused']}; {postgres['samples']} samples",
        f"writes     acknowledged {writes['acknowledged']}, in the database {writes['stored']}, "
        f"lost {writes['lost']}, duplicated {writes['duplicated']}, retried {writes['retried']}, "
        f"never acknowledged {writes['unacknowledged']}",
        "",
    ]
    lines += [f"{'ok  ' if passed else 'FAIL'}  {name}" for name, passed in report["checks"].items()]
    seconds = report["seconds"]
    lines.append(
        f"\n{'passed' if report['passed'] else 'FAILED'}: migrate {seconds.get('migrate', 0):g} s, "
        f"up {seconds.get('start', 0):g} s, load {seconds.get('load', 0):g} s"
    )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--short", action="store_true", help="2 replicas, 6 clients, 3 s of load")
    parser.add_argument("--replicas", type=int, default=4)
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers per replica")
    parser.add_argument("--pool-size", type=int, default=2, help="each replica's PgBouncer default_pool_size")
    parser.add_argument("--reserve", type=int, default=0, help="each replica's PgBouncer reserve_pool_size")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of load")
    parser.add_argument("--no-kill", dest="kill", action="store_false", help="kill no replica")
    parser.add_argument("--timeout", type=float, default=300.0, help="give up after this many seconds")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args()
    if args.short:
        args.replicas, args.workers, args.pool_size, args.reserve = 2, 2, 1, 0
        args.clients, args.duration = 6, 3.0
    if args.replicas < 1 or args.pool_size < 1 or args.workers < 1 or args.clients < 1:
        parser.error("--replicas, --workers, --pool-size and --clients are at least 1")

    for key in FOREIGN_KEYS:
        os.environ.pop(key, None)

    def give_up(signum: int, frame: FrameType | None) -> None:
        raise TimeoutError(f"the rehearsal took more than {args.timeout:.0f}s")

    signal.signal(signal.SIGALRM, give_up)
    signal.setitimer(signal.ITIMER_REAL, args.timeout)
    directory = Path(tempfile.mkdtemp(prefix="quill-scaleout-"))
    os.chmod(directory, 0o755)
    if localstack.IS_ROOT:
        shutil.chown(directory, "postgres", "postgres")
    try:
        report = rehearse(args, directory)
    except (TimeoutError, KeyboardInterrupt) as error:
        print(f"Scale-out rehearsal stopped: {error or 'interrupted'}", file=sys.stderr)
        return 1
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        # The front first, then every replica (gunicorn, PgBouncer), then Redis and Postgres.
        nginx = localstack.read_pid(directory / "nginx.pid")
        if nginx is not None:
            localstack.stop_process(nginx)
        for folder in sorted([*directory.glob("web-*"), directory / "migrate"]):
            localstack.down(folder)
        localstack.down(directory)
        shutil.rmtree(directory, ignore_errors=True)
    print(render(report))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0 if report["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
