"""`make bench`: Quill under fixed-duration load, in its production topology, from local binaries.

    python -m bench.run                # the full run: 10 s per scenario and concurrency
    python -m bench.run --quick        # QUICK=1: 1 and 64 clients, 5 s each, no warm-up but the probe
    python -m bench.run --large        # LARGE=1: 1,000 authors and 100,000 stories
    python -m bench.run --tiny         # the test suite's form: tiny data set, 1 s, one concurrency
    python -m bench.run --profile bulk # also py-spy the workers under one scenario (PROFILE=bulk)

What runs, all on 127.0.0.1 on free ports, from a temporary folder (deploy/localstack.py's
functions): Postgres (with pg_stat_statements), PgBouncer in transaction mode, Redis, gunicorn
with deploy/gunicorn.conf.py's default worker settings, and nginx in front. The data set is
seeded with COPY (bench/seed.py; deterministic, --seed). Then, for each cache mode (QUILL_CACHE=on,
the production default, then off), gunicorn is started anew (startup time, RSS), and each
scenario is warmed up, probed (queries per request: PgBouncer's SHOW STATS delta over a few
sequential requests, the statements from pg_stat_statements, Redis commands) and loaded with wrk
(bench/lua/) at each concurrency. The floor (bench/floor.py: the same JSON for the bulk list and
one story, one SQL query each) is served by the same gunicorn settings, through the same PgBouncer,
behind its own nginx, and measured the same way. Results go to bench/results/<time>-<profile>-<commit>.json
(the history: commit them) and are printed as tables (bench/report.py), with ratios to the floor
and to the previous run of the same profile. Beside that file (the same --results-dir) go
latest.json (one row per scenario, cache mode and concurrency), latest.md (the Markdown report)
and latest.png (the chart, bench/chart.py; skipped, with a note, when matplotlib is missing).

Everything started is stopped (by pid) and the folder removed, whatever happens; the run gives
up after twice its estimate. Exit status 1 with --check when a request failed (a socket error, a
5xx, or any status the scenario does not expect) or the floor's JSON differs from Quill's.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import importlib.metadata
import importlib.util
import json
import math
import os
import platform
import random
import re
import runpy
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType, ModuleType
from typing import Any
from urllib.parse import quote, urlsplit

import psycopg

from bench import corpus, report

REPO = Path(__file__).resolve().parent.parent
LUA = REPO / "bench" / "lua"
GUNICORN_CONF = REPO / "deploy" / "gunicorn.conf.py"
MODES = ("on", "off")  # QUILL_CACHE: on is the production default
WRK_TIMEOUT_S = 10
POOL_SIZE = 5  # PgBouncer's server connections: deploy/localstack.py's default
WRITE_SHARE = 0.1
SAMPLE_STORIES = 2000  # stories the random-story scenarios pick from (all of them in smaller sets)
PATCH_BODIES = 10
WARM_REQUESTS = 5  # at least: sequential requests right after a server's first (Bench.first_and_warm)
TITLE_PREFIXES = ("Bench write ", "Bench probe ")
# What a caller's environment (the test suite's own stack) must not hand to the bench's stack.
FOREIGN_KEYS = (
    "DATABASE_URL", "DIRECT_DATABASE_URL", "PGBOUNCER_ADMIN_URL", "PGBOUNCER_POOL_SIZE", "REDIS_URL",
    "QUILL_URL", "GUNICORN_URL", "MEDIA_ROOT", "MEDIA_STORAGE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE",
    "TEST_DATABASE_URL", "DJANGO_SETTINGS_MODULE", "EMAIL_URL", "SECRET_KEY", "QUILL_HTTPS", "DEBUG",
    "QUILL_CACHE", "QUILL_SCREENSHOTS_DIR",
)  # fmt: skip
NGINX_STATUS = re.compile(rb'^\S+ \[[^\]]*\] "[^"]*" (\d{3}) ', re.M)
# Jobs (Bench.run_jobs): the job table, the two jobs measured, and the worker counts.
JOB_TABLE = "django_tasks_database_dbtaskresult"
JOB_KINDS = {"noop": "bench.jobs.noop", "email": "accounts.jobs.send_password_reset"}
JOB_WORKERS = (1, 2)
PACED_RATE = 40  # jobs/s of the light-load latency run: well below what one worker runs
# Fan-out (Bench.job_fanout, bench/fanout.py): an author with many followers publishes; the notices
# are made by notifications.jobs (announce_post, then notify_followers per batch of followers).
FANOUT_WORKERS = 2
NOTICE_TABLE = "notifications_notification"
# The enqueue-cost requests pass Quill's sign-in rate limit (10/minute per address and account by
# default): both sides of the comparison count their attempt in Redis all the same.
ENQUEUE_AUTH_RATE = "1000000/minute"
CSRF_INPUT = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


def load_localstack() -> ModuleType:
    # deploy/ is a folder of scripts, not a package: load localstack.py from its path.
    spec = importlib.util.spec_from_file_location("localstack", REPO / "deploy" / "localstack.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["localstack"] = module
    spec.loader.exec_module(module)
    return module


localstack = load_localstack()


@dataclass(frozen=True)
class Scenario:
    key: str
    label: str
    script: str
    expected: frozenset[int]
    floor: bool = False  # the floor answers it too
    writes: bool = False


SCENARIOS = (
    Scenario("home", "GET /", "get.lua", frozenset({200})),
    Scenario("story", "GET /p/<slug>/", "get.lua", frozenset({200})),
    Scenario("bulk", "GET /api/v1/blog/bulk", "get.lua", frozenset({200}), floor=True),
    Scenario("by_id", "GET /api/v1/blog/<id>", "get.lua", frozenset({200}), floor=True),
    Scenario("member", "GET /following/ (signed in)", "get.lua", frozenset({200})),
    Scenario("notices", "GET /notifications/ (signed in)", "get.lua", frozenset({200})),
    Scenario("list", "GET /me/list/ (signed in)", "get.lua", frozenset({200})),
    Scenario("create", "POST /api/v1/blog (JWT)", "post.lua", frozenset({201}), writes=True),
    Scenario(
        "mix", "90% GET /p/<slug>/, 10% PATCH /api/v1/blog/<id>", "mix.lua", frozenset({200}), writes=True
    ),
)

# The signed-in member's pages (bench.seed's bench_member, its session cookie): scenario, path.
SIGNED_IN_PAGES = {"member": "/following/", "notices": "/notifications/", "list": "/me/list/"}


@dataclass
class Config:
    profile: str
    authors: int
    stories: int
    duration: int
    warmup: int
    concurrencies: list[int]
    modes: list[str]
    scenarios: list[Scenario]
    probe_requests: int
    seed: int
    results_dir: Path
    save: bool
    check: bool
    keep: bool
    directory: Path | None
    profile_scenarios: list[str]
    jobs: str = "on"  # on: after the web scenarios; off; only: the jobs alone
    job_counts: dict[str, int] | None = None  # per kind, jobs per batch
    paced_jobs: int = 0  # jobs of the light-load latency run (PACED_RATE a second)
    enqueue_pairs: int = 0  # timed pairs of reset requests (a member's, an unknown email's)
    fanout_followers: int = 0  # followers of the author who publishes (Bench.job_fanout)

    @property
    def web(self) -> bool:
        return self.jobs != "only"

    def jobs_estimate_s(self) -> float:
        if self.jobs == "off" or not self.job_counts:
            return 0.0
        # Two worker starts, then per worker count: each batch (about 100 no-op and 50 email jobs
        # a second on 2 cores, halved for safety), the paced run, a few seconds around each; then
        # gunicorn's start and the timed requests (~15 ms each) of the enqueue cost.
        batches = sum(
            self.job_counts[kind] / rate / workers
            for kind, rate in (("noop", 50), ("email", 25))
            for workers in JOB_WORKERS
        )
        paced = len(JOB_WORKERS) * (self.paced_jobs / PACED_RATE + 3)
        # The fan-out: seeding, the publish, then about 1,000 notices a second (halved for safety).
        fanout = 10 + self.fanout_followers / 500
        return 10 + batches + paced + 6 * len(JOB_WORKERS) + 10 + self.enqueue_pairs * 2 * 0.03 + fanout

    def estimate_s(self) -> float:
        # wrk's own start and stop, the proxy's log flushed, gunicorn's queue drained (1 s quiet)
        wrk_run = self.duration + 3
        per_scenario = self.warmup + 2 + len(self.concurrencies) * wrk_run
        floor = sum(per_scenario for s in self.scenarios if s.floor) + 8
        modes = len(self.modes) * (15 + len(self.scenarios) * per_scenario)
        profile = (self.duration + 5) * len(self.profile_scenarios)
        web = floor + modes + profile if self.web else 0
        return 30 + 5 + self.stories * 0.003 + web + self.jobs_estimate_s()


def parse_args(argv: list[str] | None = None) -> Config:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    size = parser.add_mutually_exclusive_group()
    parser.add_argument("--quick", action="store_true", help="1 and 64 clients, 5 s each (QUICK=1)")
    size.add_argument("--large", action="store_true", help="1,000 authors and 100,000 stories (LARGE=1)")
    size.add_argument("--tiny", action="store_true", help="tiny data set, 1 s, one concurrency (the test)")
    parser.add_argument("--duration", type=int, help="seconds of load per scenario and concurrency")
    parser.add_argument("--warmup", type=int, help="seconds of warm-up per scenario (0: the probe only)")
    parser.add_argument("--concurrency", help="comma-separated client counts (default 1,16,64,256)")
    parser.add_argument("--modes", default=",".join(MODES), help="QUILL_CACHE values to run (default on,off)")
    parser.add_argument("--scenarios", help="comma-separated: " + ",".join(s.key for s in SCENARIOS))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--results-dir", type=Path, default=report.RESULTS)
    parser.add_argument("--no-save", action="store_true", help="do not write the results JSON")
    parser.add_argument("--check", action="store_true", help="exit 1 when any request failed")
    parser.add_argument("--dir", type=Path, help="the stack's folder (default: a new temporary one)")
    parser.add_argument("--keep", action="store_true", help="leave the stack's folder (logs) behind")
    parser.add_argument(
        "--profile", metavar="SCENARIOS", help="py-spy the workers under these scenarios (comma-separated)"
    )
    parser.add_argument(
        "--jobs",
        choices=["on", "off", "only"],
        default="on",
        help="job throughput and the cost of enqueueing in a request: after the web scenarios (on, the "
        "default), not at all (off), or alone (only: no web scenario, no floor)",
    )
    args = parser.parse_args(argv)

    # Jobs per batch (no-op, email), jobs of the paced run, timed pairs of reset requests, and the
    # followers of the fan-out (the target is for 10,000: report.FANOUT_TARGET_FOLLOWERS).
    if args.tiny:
        job_counts, paced_jobs, enqueue_pairs, fanout_followers = {"noop": 100, "email": 20}, 10, 10, 600
    elif args.quick:
        job_counts, paced_jobs, enqueue_pairs, fanout_followers = {"noop": 1000, "email": 400}, 80, 100, 5000
    else:
        job_counts, paced_jobs, enqueue_pairs, fanout_followers = (
            {"noop": 2000, "email": 1000},
            200,
            300,
            10_000,
        )
    if args.tiny:
        profile, authors, stories, duration, warmup, concurrencies = "tiny", 5, 60, 1, 0, [8]
    else:
        authors, stories = (1000, 100_000) if args.large else (100, 5000)
        duration, warmup = (5, 0) if args.quick else (10, 3)
        concurrencies = [1, 64] if args.quick else [1, 16, 64, 256]
        profile = "-".join(["quick"] * args.quick + ["large"] * args.large) or "full"
    duration = args.duration or duration
    warmup = args.warmup if args.warmup is not None else warmup
    if args.concurrency:
        concurrencies = [int(part) for part in args.concurrency.split(",") if part.strip()]
    if args.duration or args.concurrency or args.warmup is not None:
        profile += "-custom"
    modes = [mode.strip() for mode in args.modes.split(",") if mode.strip()]
    known = {s.key: s for s in SCENARIOS}
    chosen = args.scenarios.split(",") if args.scenarios else list(known)
    unknown = [key for key in chosen if key not in known]
    if unknown or not modes or not concurrencies or min(concurrencies) < 1 or duration < 1:
        parser.error(f"bad --scenarios/--modes/--concurrency/--duration ({', '.join(unknown)})")
    if args.scenarios:
        profile += "-some"
    if args.jobs == "only":
        profile += "-jobs"
    profiled = [key for key in (args.profile or "").split(",") if key]
    if any(key not in known for key in profiled):
        parser.error(f"--profile takes some of {', '.join(known)}")
    return Config(
        profile=profile,
        authors=authors,
        stories=stories,
        duration=duration,
        warmup=warmup,
        concurrencies=concurrencies,
        modes=modes,
        scenarios=[s for s in SCENARIOS if s.key in chosen],
        probe_requests=10 if args.tiny or args.quick else 20,
        seed=args.seed,
        results_dir=args.results_dir,
        save=not args.no_save,
        check=args.check,
        keep=args.keep,
        directory=args.dir,
        profile_scenarios=profiled,
        jobs=args.jobs,
        job_counts=job_counts,
        paced_jobs=paced_jobs,
        enqueue_pairs=enqueue_pairs,
        fanout_followers=fanout_followers,
    )


# --- small tools ---------------------------------------------------------------------------


def fetch(
    url: str, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, bytes]:
    """(status, body) of one request on a new connection."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=60)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def redis_commands(url: str) -> int:
    """Redis's total_commands_processed (the INFO asking for it counts as one)."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), timeout=5) as sock:
        sock.sendall(b"INFO stats\r\n")
        data = b""
        while b"total_commands_processed:" not in data or not data.endswith(b"\r\n"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    match = re.search(rb"total_commands_processed:(\d+)", data)
    return int(match[1]) if match else 0


def redis_flush(url: str) -> None:
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), timeout=5) as sock:
        sock.sendall(b"FLUSHALL\r\n")
        sock.recv(64)


def mib(kib: int) -> float:
    return round(kib / 1024, 1)


def proc_kib(pid: int, file: str, field: str) -> int:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/{file}").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def meminfo_kib(field: str) -> int:
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def memory(master: int) -> dict[str, float | int]:
    workers = sorted(localstack.children(master))
    rss = [proc_kib(pid, "status", "VmRSS") for pid in workers]
    pss = [proc_kib(pid, "smaps_rollup", "Pss") for pid in workers]
    if not workers:
        return {"workers": 0}
    return {
        "workers": len(workers),
        "worker_rss_mib_mean": mib(sum(rss) // len(rss)),
        "worker_rss_mib_max": mib(max(rss)),
        "worker_pss_mib_mean": mib(sum(pss) // len(pss)),
        "master_rss_mib": mib(proc_kib(master, "status", "VmRSS")),
    }


def cpu_seconds(pid: int) -> float:
    """User and system CPU time process `pid` has used (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def percentile(values: list[float], share: float) -> float | None:
    """The nearest-rank percentile (`share` of 1) of `values`; None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))]


def size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def read_from(path: Path, offset: int) -> bytes:
    with contextlib.suppress(FileNotFoundError), open(path, "rb") as file:
        file.seek(offset)
        return file.read()
    return b""


def command_output(command: list[str]) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return (done.stdout + done.stderr).strip().splitlines()[0] if (done.stdout + done.stderr).strip() else ""


def machine_facts() -> dict[str, Any]:
    cpu_model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    pg_bin = Path(localstack.find_binary("initdb", "/usr/lib/postgresql/*/bin/initdb")).parent
    return {
        "cpus": os.cpu_count(),
        "cpu_model": cpu_model,
        "memory_gib": round(meminfo_kib("MemTotal") / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "django": importlib.metadata.version("django"),
        "gunicorn": importlib.metadata.version("gunicorn"),
        "psycopg": importlib.metadata.version("psycopg"),
        "postgres": command_output([str(pg_bin / "postgres"), "--version"]),
        "pgbouncer": command_output(
            [localstack.find_binary("pgbouncer", "/usr/sbin/pgbouncer"), "--version"]
        ),
        "nginx": command_output([localstack.find_binary("nginx", "/usr/sbin/nginx"), "-v"]),
        "redis": command_output(
            [localstack.find_binary("redis-server", "/usr/bin/redis-server"), "--version"]
        ),
        "wrk": command_output(["wrk", "-v"]),
    }


def git_facts() -> dict[str, Any]:
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, timeout=30)
        return done.stdout.strip() if done.returncode == 0 else ""

    return {
        "commit": git("rev-parse", "HEAD") or "unknown",
        "branch": git("rev-parse", "--abbrev-ref", "HEAD"),
        "dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
    }


def cache_switch_honoured() -> bool:
    """Whether any of Quill's code reads QUILL_CACHE (bench/ and tests aside)."""
    for folder in ("blog_project", "accounts", "posts", "deploy"):
        for path in (REPO / folder).rglob("*.py"):
            if "tests" not in path.parts and "QUILL_CACHE" in path.read_text(errors="replace"):
                return True
    return False


def gunicorn_workers() -> tuple[int, int]:
    settings = runpy.run_path(str(GUNICORN_CONF))
    return int(settings["workers"]), int(settings["threads"])


class Deadline(Exception):
    pass


# --- the run -------------------------------------------------------------------------------


class Bench:
    def __init__(self, config: Config, directory: Path) -> None:
        self.config = config
        self.directory = directory
        self.files = directory / "bench"
        self.env: dict[str, str] = {}
        self.web_env: dict[str, str] = {}
        self.quill_port = 0
        self.quill_url = ""
        self.quill_master: int | None = None
        self.floor_dir = directory / "floor"
        self.floor_url = ""
        self.floor_master: int | None = None
        self.rng = random.Random(config.seed)
        self.nonce = secrets.token_hex(3)
        self.author_lines: dict[int, int] = {}
        self.stories: list[tuple[str, str, int]] = []  # slug, id, author id
        self.member_cookie = ""
        self.write_token = ""
        self.tokens: list[str] = []
        self.patch_bodies: list[str] = []
        self.workers, self.threads = gunicorn_workers()
        self.results: dict[str, Any] = {
            "format": 1,
            "profile": config.profile,
            "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "git": git_facts(),
            "load_average": {"start": list(os.getloadavg())},
            "scenarios": [{"key": s.key, "label": s.label} for s in config.scenarios] if config.web else [],
            "startup": {},
            "memory": {},
            "queries": {},
            "runs": [],
        }
        if config.jobs != "off":
            self.results["jobs"] = {
                "settings": {
                    "batch": config.job_counts,
                    "workers": list(JOB_WORKERS),
                    "paced_jobs": config.paced_jobs,
                    "paced_rate": PACED_RATE,
                    "enqueue_pairs": config.enqueue_pairs,
                    "fanout_followers": config.fanout_followers,
                    "fanout_workers": FANOUT_WORKERS,
                },
                "throughput": [],
                "paced": [],
            }

    # Stack --------------------------------------------------------------------------------

    def start_stack(self) -> None:
        self.env = localstack.up(self.directory, web=False, pool_size=POOL_SIZE)
        self.enable_pg_stat_statements()
        self.files.mkdir(exist_ok=True)
        self.web_env = {
            "DATABASE_URL": self.env["DATABASE_URL"],
            "DIRECT_DATABASE_URL": self.env["DIRECT_DATABASE_URL"],
            "REDIS_URL": self.env["REDIS_URL"],
            "SECRET_KEY": secrets.token_urlsafe(50),
            "QUILL_HTTPS": "false",
            "MEDIA_ROOT": str(self.directory / "media"),
        }
        (self.directory / "media").mkdir(exist_ok=True)
        environment = {**os.environ, **self.web_env}
        localstack.run_quiet(
            [sys.executable, "manage.py", "migrate", "--noinput"], "migrate", cwd=REPO, env=environment
        )
        localstack.run_quiet(
            [sys.executable, "manage.py", "collectstatic", "--noinput"],
            "collectstatic",
            cwd=REPO,
            env=environment,
        )
        self.quill_port = localstack.free_port()
        self.quill_url = f"http://127.0.0.1:{localstack.free_port()}"
        self.results["settings"] = {
            "authors": self.config.authors,
            "stories": self.config.stories,
            "seed": self.config.seed,
            "duration_s": self.config.duration,
            "warmup_s": self.config.warmup,
            "concurrencies": self.config.concurrencies,
            "modes": self.config.modes,
            "probe_requests": self.config.probe_requests,
            "gunicorn_workers": self.workers,
            "gunicorn_threads": self.threads,
            "pgbouncer_pool_size": POOL_SIZE,
            "wrk_timeout_s": WRK_TIMEOUT_S,
            "write_share": WRITE_SHARE,
            "cache_switch_honoured": cache_switch_honoured(),
            "through": "nginx",
        }

    def superuser(self, dbname: str = "quill") -> psycopg.Connection[Any]:
        port = urlsplit(self.env["DIRECT_DATABASE_URL"]).port
        return psycopg.connect(
            host=str(self.directory), port=port, user="postgres", dbname=dbname, autocommit=True
        )

    def enable_pg_stat_statements(self) -> None:
        with self.superuser("postgres") as conn:
            conn.execute("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'")
        pg_ctl = Path(localstack.find_binary("initdb", "/usr/lib/postgresql/*/bin/initdb")).parent / "pg_ctl"
        localstack.run_quiet(
            localstack.as_service_user([
                str(pg_ctl), "-D", str(self.directory / "data"), "-l", str(self.directory / "postgres.log"),
                "-w", "-t", "60", "-m", "fast", "restart",
            ]),
            "pg_ctl restart",
        )  # fmt: skip
        with self.superuser() as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")

    def direct(self) -> psycopg.Connection[Any]:
        return psycopg.connect(self.env["DIRECT_DATABASE_URL"], autocommit=True)

    def seed(self) -> None:
        print(
            f"Seeding {self.config.authors:,} authors and {self.config.stories:,} stories (COPY)...",
            flush=True,
        )
        done = subprocess.run(
            [
                sys.executable, "-m", "bench.seed", "seed", "--authors", str(self.config.authors),
                "--stories", str(self.config.stories), "--seed", str(self.config.seed),
            ],
            cwd=REPO, env={**os.environ, **self.web_env}, capture_output=True, text=True,
        )  # fmt: skip
        if done.returncode != 0:
            raise SystemExit(f"Seeding failed:\n{done.stdout}{done.stderr}")
        self.results["seeding"] = json.loads(done.stdout.strip().splitlines()[-1])
        print(
            f"  seeded in {self.results['seeding']['seconds_total']} s: {self.results['seeding']}", flush=True
        )
        with self.direct() as conn:
            authors = conn.execute(
                "SELECT id FROM accounts_user WHERE email LIKE '%@bench.example' "
                "AND username <> 'bench_member' ORDER BY id"
            ).fetchall()
            self.author_lines = {row[0]: line for line, row in enumerate(authors, start=1)}
            posts = conn.execute(
                "SELECT slug, id::text, author_id FROM posts_post WHERE status = 'published' ORDER BY slug"
            ).fetchall()
        sample = self.rng.sample(posts, min(len(posts), SAMPLE_STORIES))
        self.stories = [(slug, post_id, author) for slug, post_id, author in sample]
        self.write_files()

    def write_files(self) -> None:
        files = self.files
        (files / "home.txt").write_text("/\n")
        (files / "story.txt").write_text("".join(f"/p/{slug}/\n" for slug, _, _ in self.stories))
        (files / "bulk.txt").write_text("/api/v1/blog/bulk\n")
        (files / "by_id.txt").write_text(
            "".join(f"/api/v1/blog/{post_id}\n" for _, post_id, _ in self.stories)
        )
        (files / "member.txt").write_text("/following/\n")
        (files / "notices.txt").write_text("/notifications/\n")
        (files / "list.txt").write_text("/me/list/\n")
        (files / "stories.txt").write_text(
            "".join(
                f"{slug} {post_id} {self.author_lines[author]}\n" for slug, post_id, author in self.stories
            )
        )
        text = random.Random(self.config.seed + 1)
        post = {
            "title": "__TITLE__",
            "content": corpus.body(text),
            "tags": corpus.tags(text),
            "published": True,
        }
        (files / "post.json").write_text(json.dumps(post))
        self.patch_bodies = [json.dumps({"content": corpus.body(text)}) for _ in range(PATCH_BODIES)]
        (files / "bodies.txt").write_text("".join(body + "\n" for body in self.patch_bodies))

    def credentials(self) -> None:
        out = self.files / "credentials.json"
        done = subprocess.run(
            [sys.executable, "-m", "bench.seed", "credentials", "--out", str(out)],
            cwd=REPO, env={**os.environ, **self.web_env}, capture_output=True, text=True,
        )  # fmt: skip
        if done.returncode != 0:
            raise SystemExit(f"Minting the bench's tokens failed:\n{done.stdout}{done.stderr}")
        data = json.loads(out.read_text())
        tokens = {int(user_id): token for user_id, token in data["tokens"].items()}
        ordered = sorted(self.author_lines, key=self.author_lines.__getitem__)
        (self.files / "tokens.txt").write_text("".join(tokens[user_id] + "\n" for user_id in ordered))
        self.tokens = [tokens[user_id] for user_id in ordered]
        self.write_token = self.tokens[0]
        self.member_cookie = data["member_cookie"]

    # gunicorn -------------------------------------------------------------------------------

    def wait_ready(self, master: int, log: Path, offset: int, port: int, started: float) -> dict[str, Any]:
        listening = ready = None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            now = time.monotonic() - started
            if listening is None:
                with socket.socket() as sock:
                    if sock.connect_ex(("127.0.0.1", port)) == 0:
                        listening = now
            text = read_from(log, offset).decode(errors="replace")
            booted = set(re.findall(rf"Worker ready \(pid (\d+), master {master}\)", text))
            if listening is not None and len(booted) >= self.workers:
                ready = now
                break
            if not localstack.alive(master):
                raise SystemExit(f"gunicorn exited at start; see {log}")
            time.sleep(0.02)
        if ready is None or listening is None:
            raise SystemExit(f"gunicorn's {self.workers} workers were not ready within 120 s; see {log}")
        return {"workers": self.workers, "listening_s": round(listening, 2), "ready_s": round(ready, 2)}

    def first_and_warm(self, url: str, path: str) -> tuple[int, dict[str, Any]]:
        """The first request's status, and its time against a warm one's: the median of the
        sequential requests right after it (each on a new connection, as the first). Each sync
        worker pays its own first request, and which worker accepts is the kernel's choice: the
        median of 4 per other worker and 1 more leaves those cold ones out."""
        clock = time.monotonic()
        status, _ = fetch(url, "GET", path)
        first = (time.monotonic() - clock) * 1000
        warm = []
        for _ in range(max(WARM_REQUESTS, 4 * (self.workers - 1) + 1)):
            clock = time.monotonic()
            fetch(url, "GET", path)
            warm.append(round((time.monotonic() - clock) * 1000, 1))
        median = statistics.median(warm)
        return status, {
            "first_response_ms": round(first, 1),
            "warm_response_ms": round(median, 1),
            "first_to_warm": round(first / median, 2) if median else None,
            "warm_samples_ms": warm,
        }

    def start_quill(self, mode: str, extra: dict[str, str] | None = None, *, record: bool = True) -> None:
        log = self.directory / "gunicorn.log"
        offset = size(log)
        started = time.monotonic()
        self.quill_master = localstack.spawn_gunicorn(
            self.directory, {**self.web_env, "QUILL_CACHE": mode, **(extra or {})}, self.quill_port
        )
        startup = self.wait_ready(self.quill_master, log, offset, self.quill_port, started)
        if not (self.directory / "nginx.pid").exists():
            localstack.start_proxy(
                self.directory, urlsplit(self.quill_url).port, self.quill_port, self.directory / "media"
            )
        status, timings = self.first_and_warm(self.quill_url, "/")
        startup.update(timings)
        if status != 200:
            raise SystemExit(f"Quill answered GET / with {status}; see {log}")
        if not record:
            return
        self.results["startup"][mode] = startup
        print(
            f"  gunicorn (QUILL_CACHE={mode}): listening after {startup['listening_s']} s, "
            f"{self.workers} workers ready after {startup['ready_s']} s, first GET / "
            f"{startup['first_response_ms']} ms (warm: {startup['warm_response_ms']} ms, "
            f"{startup['first_to_warm']}×)",
            flush=True,
        )

    def stop_quill(self) -> None:
        if self.quill_master is not None:
            localstack.stop_process(self.quill_master, group=True, timeout=localstack.GUNICORN_STOP_SECONDS)
            self.quill_master = None

    def start_floor(self) -> None:
        self.floor_dir.mkdir(exist_ok=True)
        os.chmod(self.floor_dir, 0o755)
        port = localstack.free_port()
        script = Path(sys.executable).parent / "gunicorn"
        command = [sys.executable, str(script)] if script.exists() else [sys.executable, "-m", "gunicorn"]
        log = self.floor_dir / "gunicorn.log"
        started = time.monotonic()
        with open(log, "ab") as output:
            process = subprocess.Popen(
                [
                    *command, "-c", str(GUNICORN_CONF), "--pid", str(self.floor_dir / "gunicorn.pid"),
                    "--no-control-socket", "bench.floor:application",
                ],
                cwd=REPO, env=localstack.gunicorn_env({"DATABASE_URL": self.env["DATABASE_URL"]}, port),
                stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        self.floor_master = process.pid
        startup = self.wait_ready(process.pid, log, 0, port, started)
        proxy_port = localstack.free_port()
        localstack.start_proxy(self.floor_dir, proxy_port, port, self.directory / "media")
        self.floor_url = f"http://127.0.0.1:{proxy_port}"
        startup.update(self.first_and_warm(self.floor_url, "/api/v1/blog/bulk")[1])
        self.results["startup"]["floor"] = startup
        self.results["memory"]["floor"] = {"after_start": memory(process.pid)}

    def stop_floor(self) -> None:
        pidfile = self.floor_dir / "nginx.pid"
        with contextlib.suppress(FileNotFoundError, ValueError):
            localstack.stop_process(int(pidfile.read_text().strip()))
        if self.floor_master is not None:
            localstack.stop_process(self.floor_master, group=True, timeout=localstack.GUNICORN_STOP_SECONDS)
            self.floor_master = None

    def check_floor(self) -> None:
        """The floor must answer what Quill answers (same Host, so the same links)."""
        headers = {"Host": "127.0.0.1"}
        paths = ["/api/v1/blog/bulk", "/api/v1/blog/bulk?page=2&page_size=7"]
        paths += [f"/api/v1/blog/{post_id}" for _, post_id, _ in self.stories[:3]]
        mismatches = []
        for path in paths:
            quill = fetch(self.quill_url, "GET", path, headers=headers)
            floor = fetch(self.floor_url, "GET", path, headers=headers)
            if quill[0] != floor[0] or json.loads(quill[1]) != json.loads(floor[1]):
                mismatches.append(path)
        self.results["floor_matches_quill"] = not mismatches
        if mismatches:
            self.results["floor_mismatch"] = mismatches
            print(f"  WARNING: the floor's JSON differs from Quill's for {mismatches}", flush=True)
        else:
            print(f"  the floor's JSON equals Quill's ({len(paths)} answers compared)", flush=True)

    # Load -------------------------------------------------------------------------------------

    def wrk_env(self, scenario: Scenario) -> dict[str, str]:
        env = {"BENCH_LUA_DIR": str(LUA), "BENCH_SEED": str(self.config.seed), "BENCH_NONCE": self.nonce}
        if scenario.script == "get.lua":
            env["BENCH_PATHS"] = str(self.files / f"{scenario.key}.txt")
            if scenario.key in SIGNED_IN_PAGES:
                env["BENCH_COOKIE"] = self.member_cookie
        elif scenario.key == "create":
            env.update(BENCH_BODY=str(self.files / "post.json"), BENCH_TOKEN=self.write_token)
        elif scenario.key == "mix":
            env.update(
                BENCH_STORIES=str(self.files / "stories.txt"),
                BENCH_TOKENS=str(self.files / "tokens.txt"),
                BENCH_BODIES=str(self.files / "bodies.txt"),
                BENCH_WRITE_SHARE=str(WRITE_SHARE),
            )
        return env

    def wrk(self, url: str, scenario: Scenario, concurrency: int, duration: int) -> dict[str, Any]:
        threads = max(1, min(concurrency, os.cpu_count() or 1))
        command = [
            "wrk", "-t", str(threads), "-c", str(concurrency), "-d", f"{duration}s",
            "--timeout", f"{WRK_TIMEOUT_S}s", "-s", str(LUA / scenario.script), url,
        ]  # fmt: skip
        done = subprocess.run(
            command,
            env={**os.environ, **self.wrk_env(scenario)},
            capture_output=True,
            text=True,
            timeout=duration + WRK_TIMEOUT_S + 30,
        )
        for line in done.stdout.splitlines():
            if line.startswith("BENCH_RESULT "):
                result: dict[str, Any] = json.loads(line.removeprefix("BENCH_RESULT "))
                return result
        raise SystemExit(f"wrk gave no result ({done.returncode}):\n{done.stdout}{done.stderr}")

    def statuses(self, stack_dir: Path, offset: int) -> Counter[int]:
        """Statuses nginx logged from `offset` on (its access log is buffered: USR1 flushes it)."""
        log = stack_dir / "nginx-access.log"
        with contextlib.suppress(FileNotFoundError, ValueError, ProcessLookupError):
            os.kill(int((stack_dir / "nginx.pid").read_text().strip()), signal.SIGUSR1)
        last, stable_since, deadline = -1, time.monotonic(), time.monotonic() + 3
        while time.monotonic() < deadline:
            current = size(log)
            if current != last:
                last, stable_since = current, time.monotonic()
            elif time.monotonic() - stable_since >= 0.3:
                break
            time.sleep(0.05)
        return Counter(int(code) for code in NGINX_STATUS.findall(read_from(log, offset)))

    def wait_idle(self, stack_dir: Path, quiet: float = 1.0, timeout: float = 180) -> float:
        """Waits until gunicorn has logged nothing for `quiet` seconds: after a run, the requests
        queued in its listen backlog are still served (to clients long gone) and would fall into
        the next run or probe. Returns the seconds waited beyond the quiet period."""
        log = stack_dir / "gunicorn.log"
        started = since = time.monotonic()
        last = size(log)
        while time.monotonic() - started < timeout:
            time.sleep(0.1)
            current = size(log)
            if current != last:
                last, since = current, time.monotonic()
            elif time.monotonic() - since >= quiet:
                break
        return round(since - started, 1)

    def measure(self, mode: str, scenario: Scenario, concurrency: int) -> dict[str, Any]:
        floor = mode == "floor"
        stack_dir, url = (self.floor_dir, self.floor_url) if floor else (self.directory, self.quill_url)
        drained = self.wait_idle(stack_dir)
        gunicorn_log = stack_dir / "gunicorn.log"
        master = self.floor_master if floor else self.quill_master
        log_offset, gunicorn_offset = size(stack_dir / "nginx-access.log"), size(gunicorn_log)
        result = self.wrk(url, scenario, concurrency, self.config.duration)
        statuses = self.statuses(stack_dir, log_offset)
        restarts = len(
            re.findall(
                rf"Worker ready \(pid \d+, master {master}\)".encode(),
                read_from(gunicorn_log, gunicorn_offset),
            )
        )
        # 499: nginx's "client closed the request": the requests in flight when wrk stopped.
        unexpected = sum(
            count for code, count in statuses.items() if code not in scenario.expected and code != 499
        )
        errors = result["errors"]
        socket_errors = errors["connect"] + errors["read"] + errors["write"] + errors["timeout"]
        duration_s = result["duration_us"] / 1e6
        latency = result["latency_us"]
        run = {
            "mode": mode,
            "scenario": scenario.key,
            "concurrency": concurrency,
            "requests": result["requests"],
            "duration_s": round(duration_s, 3),
            "rps": round(result["requests"] / duration_s, 1) if duration_s else 0.0,
            "bytes_per_request": round(result["bytes"] / result["requests"]) if result["requests"] else 0,
            "latency_ms": {
                name: round(latency[name] / 1000, 2) for name in ("p50", "p90", "p99", "max", "mean")
            },
            "wrk_errors": errors,
            "statuses": {str(code): count for code, count in sorted(statuses.items())},
            "failed": socket_errors + max(unexpected, errors["status"]),
            "server_errors": sum(count for code, count in statuses.items() if code >= 500),
            "worker_restarts": restarts,
            # Requests in flight when wrk stopped (nginx logs 499), and how long the previous
            # run's queue took to drain before this one began.
            "cut": statuses.get(499, 0),
            "drained_before_s": drained,
        }
        self.results["runs"].append(run)
        print(
            f"    {scenario.key:<7} {'floor' if floor else 'cache ' + mode:<9} c={concurrency:<4} "
            f"{run['rps']:>9,.1f} req/s  p50 {run['latency_ms']['p50']:>8.1f} ms  "
            f"p99 {run['latency_ms']['p99']:>8.1f} ms  failed {run['failed']}"
            + (f" (5xx: {run['server_errors']})" if run["server_errors"] else "")
            + (f"  worker restarts {restarts}" if restarts else "")
            + (
                "  (no answer within the run: the queue is longer than the run)"
                if not run["requests"]
                else ""
            ),
            flush=True,
        )
        return run

    # Queries per request ----------------------------------------------------------------------

    def probe_requests(self, scenario: Scenario) -> list[tuple[str, str, bytes | None, dict[str, str]]]:
        rng = random.Random(self.config.seed + 7)
        count = self.config.probe_requests
        json_headers = {"Content-Type": "application/json"}
        requests: list[tuple[str, str, bytes | None, dict[str, str]]] = []
        for index in range(count):
            slug, post_id, author = rng.choice(self.stories)
            if scenario.key == "home":
                requests.append(("GET", "/", None, {}))
            elif scenario.key == "story":
                requests.append(("GET", f"/p/{slug}/", None, {}))
            elif scenario.key == "bulk":
                requests.append(("GET", "/api/v1/blog/bulk", None, {}))
            elif scenario.key == "by_id":
                requests.append(("GET", f"/api/v1/blog/{post_id}", None, {}))
            elif scenario.key in SIGNED_IN_PAGES:
                requests.append(("GET", SIGNED_IN_PAGES[scenario.key], None, {"Cookie": self.member_cookie}))
            elif scenario.key == "create":
                body = json.loads((self.files / "post.json").read_text())
                body["title"] = f"Bench probe {self.nonce} {index}"
                auth = {"Authorization": f"Bearer {self.write_token}", **json_headers}
                requests.append(("POST", "/api/v1/blog", json.dumps(body).encode(), auth))
            elif scenario.key == "mix" and index % round(1 / WRITE_SHARE) == round(1 / WRITE_SHARE) - 1:
                token = self.tokens[self.author_lines[author] - 1]
                auth = {"Authorization": f"Bearer {token}", **json_headers}
                requests.append(
                    ("PATCH", f"/api/v1/blog/{post_id}", rng.choice(self.patch_bodies).encode(), auth)
                )
            else:
                requests.append(("GET", f"/p/{slug}/", None, {}))
        return requests

    def pool_counts(self) -> tuple[int, int]:
        with psycopg.connect(
            self.env["PGBOUNCER_ADMIN_URL"], autocommit=True, prepare_threshold=None
        ) as admin:
            cursor = admin.execute("SHOW STATS")
            assert cursor.description is not None
            names = [column.name for column in cursor.description]
            for row in cursor.fetchall():
                stats = dict(zip(names, row, strict=True))
                if stats["database"] == "quill":
                    return int(stats["total_query_count"]), int(stats["total_xact_count"])
        return 0, 0

    def probe(self, mode: str, scenario: Scenario) -> dict[str, Any]:
        url = self.floor_url if mode == "floor" else self.quill_url
        self.wait_idle(self.floor_dir if mode == "floor" else self.directory)
        requests = self.probe_requests(scenario)
        with self.superuser() as conn:
            conn.execute("SELECT pg_stat_statements_reset()")
        queries_before, transactions_before = self.pool_counts()
        redis_before = redis_commands(self.env["REDIS_URL"])
        statuses: Counter[int] = Counter()
        for method, path, body, headers in requests:
            statuses[fetch(url, method, path, body, headers)[0]] += 1
        redis_after = redis_commands(self.env["REDIS_URL"])
        queries_after, transactions_after = self.pool_counts()
        count = len(requests)
        with self.superuser() as conn:
            rows = conn.execute(
                # The statements Quill sent (not the foreign-key checks Postgres runs itself), the
                # most time first.
                "SELECT calls, total_exec_time, query FROM pg_stat_statements "
                "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = 'quill') "
                "AND userid = 'quill'::regrole AND query NOT LIKE '%FOR KEY SHARE OF x' "
                "ORDER BY total_exec_time DESC LIMIT 12"
            ).fetchall()
        probe = {
            "requests": count,
            "statuses": {str(code): n for code, n in sorted(statuses.items())},
            "queries_per_request": round((queries_after - queries_before) / count, 2),
            "transactions_per_request": round((transactions_after - transactions_before) / count, 2),
            "redis_commands_per_request": round((redis_after - redis_before - 1) / count, 2),
            "top_statements": [
                {
                    "calls_per_request": round(calls / count, 2),
                    "mean_ms": round(total / calls, 3),
                    "query": query,
                }
                for calls, total, query in rows
            ],
        }
        self.results["queries"].setdefault(mode, {})[scenario.key] = probe
        unexpected = {code for code in statuses if code not in scenario.expected}
        if unexpected:
            probe["unexpected"] = True
            print(f"    WARNING: the probe of {scenario.key} got {dict(statuses)}", flush=True)
        return probe

    # py-spy -----------------------------------------------------------------------------------

    def profile(self, scenario: Scenario, mode: str) -> None:
        py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
        if not os.access(py_spy, os.X_OK) or self.quill_master is None:
            print("  (py-spy is not installed: `.venv/bin/pip install py-spy` for --profile)", flush=True)
            return
        concurrency = 16
        out = self.files / f"profile-{scenario.key}.txt"
        recorder = subprocess.Popen(
            [
                py_spy, "record", "--pid", str(self.quill_master), "--subprocesses", "--rate", "100",
                "--duration", str(self.config.duration), "--format", "raw", "--output", str(out),
                "--nonblocking",
            ],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            time.sleep(0.5)
            self.wrk(self.quill_url, scenario, concurrency, self.config.duration)
            recorder.wait(timeout=self.config.duration + 30)
        finally:
            if recorder.poll() is None:
                localstack.stop_process(recorder.pid)
        if out.exists():
            samples = summarise_profile(out.read_text())
            samples["what"] = f"{scenario.label}, {concurrency} clients, cache {mode}"
            self.results.setdefault("profiles", {})[scenario.key] = samples
            print(report.profile_text(samples), flush=True)

    # Writes leave no trace ----------------------------------------------------------------------

    def clean_writes(self) -> None:
        """Stories the write scenarios created go, and the revisions their edits kept."""
        created = "SELECT id FROM posts_post WHERE " + " OR ".join("title LIKE %s" for _ in TITLE_PREFIXES)
        patterns = [prefix + "%" for prefix in TITLE_PREFIXES]
        with self.direct() as conn, conn.transaction():
            conn.execute(f"DELETE FROM posts_post_tags WHERE post_id IN ({created})", patterns)
            conn.execute("DELETE FROM posts_revision")
            conn.execute("DELETE FROM posts_createrequest")
            conn.execute(f"DELETE FROM posts_post WHERE id IN ({created})", patterns)

    # Jobs ---------------------------------------------------------------------------------------

    def enqueue_env(self) -> dict[str, str]:
        """bench.enqueue's environment: straight to Postgres, so that PgBouncer's counts during a
        batch are the workers' own statements."""
        return {**os.environ, **self.web_env, "DATABASE_URL": self.env["DIRECT_DATABASE_URL"]}

    def clear_jobs(self) -> None:
        """An empty job table, vacuumed: each batch starts from the same state."""
        with self.direct() as conn:
            conn.execute(f"DELETE FROM {JOB_TABLE}")
            conn.execute(f"VACUUM ANALYZE {JOB_TABLE}")

    def job_rows(self) -> list[tuple[str, float, float | None, float | None]]:
        """(status, enqueued, started, finished) of every job, times in epoch seconds."""
        with self.direct() as conn:
            rows = conn.execute(
                "SELECT status, extract(epoch FROM enqueued_at)::float8, "
                "extract(epoch FROM started_at)::float8, extract(epoch FROM finished_at)::float8 "
                f"FROM {JOB_TABLE}"
            ).fetchall()
        return [(status, enqueued, started, finished) for status, enqueued, started, finished in rows]

    @staticmethod
    def ended(rows: list[tuple[str, float, float | None, float | None]]) -> list[tuple[float, float, float]]:
        """(enqueued, started, finished) of the jobs that ended (succeeded, or failed for good)."""
        return [
            (enqueued, started, finished)
            for status, enqueued, started, finished in rows
            if status in ("SUCCESSFUL", "FAILED") and started is not None and finished is not None
        ]

    def wait_for_jobs(self, count: int, timeout: float) -> bool:
        """Waits until `count` jobs have ended (succeeded, or failed for good); False on timeout."""
        deadline = time.monotonic() + timeout
        with self.direct() as conn:
            while time.monotonic() < deadline:
                ended = conn.execute(
                    f"SELECT count(*) FROM {JOB_TABLE} WHERE status IN ('SUCCESSFUL', 'FAILED')"
                ).fetchone()
                if ended and ended[0] >= count:
                    return True
                time.sleep(0.05)
        return False

    def enqueue(self, kind: str, count: int, rate: float | None = None) -> dict[str, Any]:
        command = [sys.executable, "-m", "bench.enqueue", kind, "--count", str(count)]
        if rate:
            command += ["--rate", str(rate)]
        done = subprocess.run(
            command, cwd=REPO, env=self.enqueue_env(), capture_output=True, text=True,
            timeout=120 + count / (rate or 1000),
        )  # fmt: skip
        if done.returncode != 0:
            raise SystemExit(f"Enqueueing {kind} jobs failed:\n{done.stdout}{done.stderr}")
        result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        return result

    def spawn_job_worker(self, number: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
        """`manage.py worker` as localstack starts one (its pid and log files, so that `down`
        stops it whatever happens), but without --scheduler (the periodic jobs would be noise)
        and without the random start-up delay."""
        pidfile = localstack.worker_pidfile(self.directory, number)
        with open(pidfile.with_suffix(".log"), "ab") as log:
            process = subprocess.Popen(
                [sys.executable, "manage.py", "worker", "--no-startup-delay"],
                cwd=REPO, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        pidfile.write_text(f"{process.pid}\n")
        return process

    def start_smtp_sink(self) -> tuple[subprocess.Popen[str] | None, str]:
        """The mail server of the email jobs (bench/smtpsink.py) and the EMAIL_URL to reach it; or,
        without aiosmtpd, none and "" (Django's console backend: the worker prints each message)."""
        if importlib.util.find_spec("aiosmtpd") is None:
            print(
                "  (aiosmtpd is not installed: email jobs print their messages instead of sending them; "
                ".venv/bin/pip install -r bench/requirements.txt)",
                flush=True,
            )
            return None, ""
        port = localstack.free_port()
        sink = subprocess.Popen(
            [sys.executable, "-m", "bench.smtpsink", "--port", str(port)],
            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, start_new_session=True,
        )  # fmt: skip
        try:
            localstack.wait_for_port(port, "the SMTP sink", timeout=30)
        except BaseException:
            localstack.stop_process(sink.pid)
            raise
        return sink, f"smtp://127.0.0.1:{port}"

    def stop_smtp_sink(self, sink: subprocess.Popen[str]) -> dict[str, int]:
        if sink.poll() is None:
            sink.send_signal(signal.SIGTERM)
        try:
            out, _ = sink.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            localstack.stop_process(sink.pid)
            return {}
        lines = out.strip().splitlines()
        counts: dict[str, int] = json.loads(lines[-1]) if lines else {}
        return counts

    def job_batch(
        self, kind: str, workers: list[subprocess.Popen[bytes]], sink: int | None
    ) -> dict[str, Any]:
        """`count` jobs enqueued in one transaction, run by the workers already waiting: jobs/s from
        the first claim to the last finish, each job's run time, and its wait from the commit."""
        count = (self.config.job_counts or {})[kind]
        self.clear_jobs()
        queries_before, transactions_before = self.pool_counts()
        cpu_before = [cpu_seconds(process.pid) for process in workers]
        sink_before = cpu_seconds(sink) if sink else 0.0
        enqueued = self.enqueue(kind, count)
        finished = self.wait_for_jobs(count, timeout=60 + count / 10)
        queries_after, transactions_after = self.pool_counts()
        cpu = sum(cpu_seconds(p.pid) - before for p, before in zip(workers, cpu_before, strict=True))
        sink_cpu = cpu_seconds(sink) - sink_before if sink else None
        rows = self.job_rows()
        done = self.ended(rows)
        span = max(end for _, _, end in done) - min(start for _, start, _ in done) if done else 0.0
        run_ms = [(end - start) * 1000 for _, start, end in done]
        waited_s = [end - enqueued["committed"] for _, _, end in done]
        result = {
            "kind": kind,
            "task": JOB_KINDS[kind],
            "workers": len(workers),
            "jobs": count,
            "enqueue_s": enqueued["seconds"],
            "succeeded": sum(row[0] == "SUCCESSFUL" for row in rows),
            "failed": sum(row[0] != "SUCCESSFUL" for row in rows) if finished else count - len(done),
            "timed_out": not finished,
            "seconds": round(span, 3),
            "jobs_per_s": round(len(done) / span, 1) if span > 0 else 0.0,
            "run_ms": {"p50": _round(percentile(run_ms, 0.5), 2), "p99": _round(percentile(run_ms, 0.99), 2)},
            "done_after_commit_s": {
                "p50": _round(percentile(waited_s, 0.5), 3), "p99": _round(percentile(waited_s, 0.99), 3),
            },
            "queries_per_job": round((queries_after - queries_before) / count, 2),
            "transactions_per_job": round((transactions_after - transactions_before) / count, 2),
            "worker_cpu_ms_per_job": round(cpu * 1000 / count, 2),
            "sink_cpu_ms_per_job": round(sink_cpu * 1000 / count, 2) if sink_cpu is not None else None,
        }  # fmt: skip
        print(
            f"    {kind:<5} {len(workers)} worker{'s' if len(workers) > 1 else ' '} {count:>5} jobs "
            f"{result['jobs_per_s']:>8,.1f} jobs/s  run p50 {result['run_ms']['p50']} ms "
            f"p99 {result['run_ms']['p99']} ms  {result['queries_per_job']} SQL/job  "
            f"worker CPU {result['worker_cpu_ms_per_job']} ms/job  failed {result['failed']}"
            + ("  (TIMED OUT)" if not finished else ""),
            flush=True,
        )
        return result

    def job_paced(self, workers: list[subprocess.Popen[bytes]]) -> dict[str, Any]:
        """No-op jobs enqueued one by one at PACED_RATE a second, each in its own transaction, as
        requests do: the wait from enqueue to claim and to finish at a light load (the idle
        workers look at the queue every QUILL_JOB_POLL_SECONDS)."""
        count = self.config.paced_jobs
        self.clear_jobs()
        self.enqueue("noop", count, rate=PACED_RATE)
        finished = self.wait_for_jobs(count, timeout=30 + count / 10)
        done = self.ended(self.job_rows())
        claim_ms = [(start - queued) * 1000 for queued, start, _ in done]
        total_ms = [(end - queued) * 1000 for queued, _, end in done]
        result: dict[str, Any] = {
            "workers": len(workers),
            "jobs": count,
            "rate": PACED_RATE,
            "timed_out": not finished,
            "claimed_after_ms": {
                "p50": _round(percentile(claim_ms, 0.5), 1), "p99": _round(percentile(claim_ms, 0.99), 1),
            },
            "done_after_ms": {
                "p50": _round(percentile(total_ms, 0.5), 1), "p99": _round(percentile(total_ms, 0.99), 1),
            },
        }  # fmt: skip
        print(
            f"    paced {len(workers)} worker{'s' if len(workers) > 1 else ' '} {count:>5} jobs at "
            f"{PACED_RATE}/s: enqueue to finish p50 {result['done_after_ms']['p50']} ms, "
            f"p99 {result['done_after_ms']['p99']} ms",
            flush=True,
        )
        return result

    def run_jobs(self) -> None:
        """Job throughput (no-op and email jobs, 1 then 2 workers) and the light-load latency."""
        section = self.results["jobs"]
        sink, email_url = self.start_smtp_sink()
        section["email_backend"] = (
            "smtp: bench/smtpsink.py (aiosmtpd) on loopback" if sink else "console (aiosmtpd not installed)"
        )
        env = {**self.web_env, "EMAIL_URL": email_url}
        workers: list[subprocess.Popen[bytes]] = []
        try:
            for count in JOB_WORKERS:
                while len(workers) < count:
                    workers.append(self.spawn_job_worker(len(workers) + 1, env))
                localstack.wait_for_workers_to_start(self.directory, self.env, [w.pid for w in workers])
                time.sleep(1)  # past its first look at the (empty) queue
                for kind in JOB_KINDS:
                    section["throughput"].append(self.job_batch(kind, workers, sink.pid if sink else None))
                section["paced"].append(self.job_paced(workers))
                if count == FANOUT_WORKERS and self.config.fanout_followers:
                    section["fanout"] = self.job_fanout(workers)
        finally:
            localstack.stop_workers(self.directory)
            for worker in workers:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    worker.wait(timeout=5)
            if sink is not None:
                section["sink"] = self.stop_smtp_sink(sink)
        self.clear_jobs()
        if sink is not None:
            sent = sum(run["succeeded"] for run in section["throughput"] if run["kind"] == "email")
            section["sink"]["expected"] = sent
            if section["sink"].get("messages") != sent:
                print(
                    f"  WARNING: the SMTP sink received {section['sink']} for {sent} email jobs", flush=True
                )

    def fanout_command(self, *args: str) -> dict[str, Any]:
        """bench.fanout's JSON line (straight to Postgres, like bench.enqueue)."""
        done = subprocess.run(
            [sys.executable, "-m", "bench.fanout", *args], cwd=REPO, env=self.enqueue_env(),
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        if done.returncode != 0:
            raise SystemExit(f"bench.fanout {args[0]} failed:\n{done.stdout}{done.stderr}")
        result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        return result

    def job_fanout(self, workers: list[subprocess.Popen[bytes]]) -> dict[str, Any]:
        """An author with `fanout_followers` followers (bench/fanout.py, COPY) publishes one story
        through posts.services.create_post, the workers already waiting: the time from its commit
        until every follower's notice exists (the count of its notices, polled), and the jobs that
        made them (announce_post, then notify_followers per batch)."""
        followers = self.config.fanout_followers
        seeded = self.fanout_command("seed", "--followers", str(followers))
        self.clear_jobs()
        with self.direct() as conn:
            conn.execute(f"VACUUM ANALYZE {NOTICE_TABLE}")
        time.sleep(1)  # the workers past a look at the emptied queue
        queries_before, transactions_before = self.pool_counts()
        cpu_before = [cpu_seconds(process.pid) for process in workers]
        published = self.fanout_command("publish", "--seed", str(self.config.seed))
        committed = published["committed"]
        timeout = 60 + followers / 100
        deadline = time.monotonic() + timeout
        notices, all_at = 0, None
        with self.direct() as conn:
            while time.monotonic() < deadline:
                row = conn.execute(
                    f"SELECT count(*) FROM {NOTICE_TABLE} WHERE key = %s", [published["key"]]
                ).fetchone()
                notices = row[0] if row else 0
                if notices >= followers:
                    all_at = time.time()
                    break
                time.sleep(0.05)
            # The last job's result is written after its notices: wait for every job to end.
            while time.monotonic() < deadline + 30:
                row = conn.execute(
                    f"SELECT count(*) FROM {JOB_TABLE} WHERE status NOT IN ('SUCCESSFUL', 'FAILED')"
                ).fetchone()
                if row is None or row[0] == 0:
                    break
                time.sleep(0.05)
            rows = conn.execute(
                "SELECT task_path, status, extract(epoch FROM started_at)::float8, "
                f"extract(epoch FROM finished_at)::float8 FROM {JOB_TABLE}"
            ).fetchall()
        queries_after, transactions_after = self.pool_counts()
        cpu = sum(cpu_seconds(p.pid) - before for p, before in zip(workers, cpu_before, strict=True))
        done = [
            (path, start, end) for path, status, start, end in rows if start is not None and end is not None
        ]
        span = max(end for _, _, end in done) - min(start for _, start, _ in done) if done else 0.0
        batches = [(end - start) * 1000 for path, start, end in done if path.endswith(".notify_followers")]
        announced = [end for path, _, end in done if path.endswith(".announce_post")]
        count = len(rows)
        seconds = _round(all_at - committed, 3) if all_at is not None else None
        last = max(end for _, _, end in done) if done else None
        queries, transactions = queries_after - queries_before, transactions_after - transactions_before
        result: dict[str, Any] = {
            "followers": seeded["followers"],
            "workers": len(workers),
            "seeding_s": seeded["seconds"],
            "publish_s": published["seconds"],
            "notices": notices,
            "missing": max(0, followers - notices),
            "timed_out": all_at is None,
            "all_notices_after_commit_s": seconds,
            "last_job_after_commit_s": _round(last - committed, 3) if last is not None else None,
            "announced_after_commit_s": _round(announced[0] - committed, 3) if announced else None,
            "notices_per_s": round(followers / seconds, 1) if seconds else None,
            "jobs": count,
            "jobs_by_task": dict(Counter(path.rpartition(".")[2] for path, _, _, _ in rows)),
            "succeeded": sum(status == "SUCCESSFUL" for _, status, _, _ in rows),
            "failed": sum(status != "SUCCESSFUL" for _, status, _, _ in rows),
            "seconds": round(span, 3),
            "jobs_per_s": round(len(done) / span, 1) if span > 0 else 0.0,
            "batch_run_ms": {
                "p50": _round(percentile(batches, 0.5), 1), "p99": _round(percentile(batches, 0.99), 1),
            },
            "queries": queries,
            "queries_per_job": round(queries / count, 2) if count else None,
            "transactions_per_job": round(transactions / count, 2) if count else None,
            "worker_cpu_ms_per_job": round(cpu * 1000 / count, 2) if count else None,
            "worker_cpu_s": round(cpu, 3),
        }  # fmt: skip
        print(
            f"    fan-out {len(workers)} workers {followers:>6,} followers: every notice "
            f"{seconds if seconds is not None else 'NOT'} s after the commit ({notices:,} notices, "
            f"{count} jobs, {result['jobs_per_s']:,.1f} jobs/s, {result['queries_per_job']} SQL/job, "
            f"worker CPU {result['worker_cpu_ms_per_job']} ms/job)  failed {result['failed']}"
            + ("  (TIMED OUT)" if all_at is None else ""),
            flush=True,
        )
        return result

    def reset_form(self) -> tuple[str, str]:
        """The csrftoken cookie and the form's token of GET /password-reset/."""
        parts = urlsplit(self.quill_url)
        connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=60)
        try:
            connection.request("GET", "/password-reset/")
            response = connection.getresponse()
            body = response.read()
            cookies = [value for name, value in response.getheaders() if name.lower() == "set-cookie"]
        finally:
            connection.close()
        cookie = next((c.split(";")[0] for c in cookies if c.startswith("csrftoken=")), "")
        found = CSRF_INPUT.search(body)
        if response.status != 200 or not cookie or not found:
            raise SystemExit(f"GET /password-reset/ gave {response.status} without a CSRF token")
        return cookie, found[1].decode()

    def enqueue_cost(self) -> None:
        """POST /password-reset/ for a member (its form enqueues the email job) against the same
        request for an unknown email (nothing enqueued), no worker running: the queries PgBouncer
        counts for each over a probe, and the time of each over interleaved pairs."""
        self.start_quill("on", {"QUILL_AUTH_RATE": ENQUEUE_AUTH_RATE}, record=False)
        try:
            self.clear_jobs()
            cookie, token = self.reset_form()
            with self.direct() as conn:
                row = conn.execute(
                    "SELECT email FROM accounts_user WHERE email LIKE '%@bench.example' "
                    "AND username <> 'bench_member' ORDER BY id LIMIT 1"
                ).fetchone()
            assert row is not None
            emails = {"member": row[0], "unknown": f"nobody-{self.nonce}@bench.example"}
            headers = {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"}
            bodies = {
                side: f"email={quote(email)}&csrfmiddlewaretoken={token}".encode()
                for side, email in emails.items()
            }
            statuses: Counter[int] = Counter()

            def post(side: str) -> float:
                clock = time.monotonic()
                status, _ = fetch(self.quill_url, "POST", "/password-reset/", bodies[side], headers)
                elapsed = (time.monotonic() - clock) * 1000
                statuses[status] += 1
                return elapsed

            # Warm-up: enough for every gunicorn worker to have served (its first request skips
            # the connection's health check, which would blur the count of queries).
            for _ in range(max(4 * self.workers, self.config.enqueue_pairs // 20)):
                post("member"), post("unknown")
            sides: dict[str, dict[str, Any]] = {}
            for side in ("member", "unknown"):
                self.clear_jobs()
                queries_before, _ = self.pool_counts()
                for _ in range(self.config.probe_requests):
                    post(side)
                queries_after, _ = self.pool_counts()
                with self.direct() as conn:
                    jobs = conn.execute(f"SELECT count(*) FROM {JOB_TABLE}").fetchone()
                sides[side] = {
                    "email": "a member's" if side == "member" else "unknown",
                    "queries_per_request": round(
                        (queries_after - queries_before) / self.config.probe_requests, 2
                    ),
                    "jobs_per_request": round((jobs[0] if jobs else 0) / self.config.probe_requests, 2),
                }
            times: dict[str, list[float]] = {"member": [], "unknown": []}
            for index in range(self.config.enqueue_pairs):
                order = ("member", "unknown") if index % 2 == 0 else ("unknown", "member")
                for side in order:
                    times[side].append(post(side))
            for side, values in times.items():
                sides[side].update(
                    requests=len(values),
                    p50_ms=_round(percentile(values, 0.5), 2),
                    p99_ms=_round(percentile(values, 0.99), 2),
                    mean_ms=round(statistics.fmean(values), 2),
                )
        finally:
            self.stop_quill()
            self.clear_jobs()
        member, unknown = sides["member"], sides["unknown"]
        cost = {
            "request": "POST /password-reset/",
            "pairs": self.config.enqueue_pairs,
            "probe_requests": self.config.probe_requests,
            "statuses": {str(code): n for code, n in sorted(statuses.items())},
            "sides": sides,
            "extra_queries": round(member["queries_per_request"] - unknown["queries_per_request"], 2),
            "extra_p50_ms": round(member["p50_ms"] - unknown["p50_ms"], 2),
            "extra_mean_ms": round(member["mean_ms"] - unknown["mean_ms"], 2),
        }
        self.results["jobs"]["enqueue_cost"] = cost
        print(
            f"    enqueue cost (POST /password-reset/, member vs unknown email): "
            f"{member['queries_per_request']} vs {unknown['queries_per_request']} SQL/request "
            f"({member['jobs_per_request']} vs {unknown['jobs_per_request']} jobs), "
            f"p50 {member['p50_ms']} vs {unknown['p50_ms']} ms: "
            f"+{cost['extra_queries']} queries, {cost['extra_p50_ms']:+} ms",
            flush=True,
        )
        if set(statuses) != {302}:
            cost["unexpected"] = True
            print(f"    WARNING: the reset requests got {dict(statuses)} (302 expected)", flush=True)

    # Putting it together ------------------------------------------------------------------------

    def run(self) -> dict[str, Any]:
        config = self.config
        self.results["machine"] = machine_facts()
        print(f"Starting the stack in {self.directory}...", flush=True)
        self.start_stack()
        self.seed()

        if config.web:
            self.run_web()
        if config.jobs != "off":
            print("Jobs (bench/jobs.py, accounts.jobs, notifications.jobs):", flush=True)
            self.enqueue_cost()
            self.run_jobs()
        self.results["load_average"]["end"] = list(os.getloadavg())
        return self.results

    def run_web(self) -> None:
        config = self.config
        floor_scenarios = [s for s in config.scenarios if s.floor]
        if floor_scenarios:
            print("The floor (bench/floor.py):", flush=True)
            self.start_floor()
            for scenario in floor_scenarios:
                self.warm(self.floor_url, scenario)
                self.probe("floor", scenario)
                for concurrency in config.concurrencies:
                    self.measure("floor", scenario, concurrency)
            self.results["memory"]["floor"]["after_load"] = memory(self.floor_master or 0)

        for mode in config.modes:
            print(f"Quill, QUILL_CACHE={mode}:", flush=True)
            redis_flush(self.env["REDIS_URL"])
            self.start_quill(mode)
            self.results["memory"][mode] = {"after_start": memory(self.quill_master or 0)}
            if self.floor_master is not None:
                self.check_floor()
                self.stop_floor()
            self.credentials()
            for scenario in config.scenarios:
                self.warm(self.quill_url, scenario)
                probe = self.probe(mode, scenario)
                print(
                    f"    {scenario.key:<7} {probe['queries_per_request']} SQL queries/request "
                    f"({probe['transactions_per_request']} transactions), "
                    f"{probe['redis_commands_per_request']} Redis commands/request",
                    flush=True,
                )
                for concurrency in config.concurrencies:
                    self.measure(mode, scenario, concurrency)
                if scenario.key in config.profile_scenarios and mode == config.modes[0]:
                    self.profile(scenario, mode)
                if scenario.writes:
                    self.wait_idle(self.directory)  # the last queued writes are done
                    self.clean_writes()
            self.results["memory"][mode]["after_load"] = memory(self.quill_master or 0)
            self.stop_quill()

    def warm(self, url: str, scenario: Scenario) -> None:
        if self.config.warmup > 0:
            self.wrk(url, scenario, min(16, max(self.config.concurrencies)), self.config.warmup)

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.stop_floor()
        with contextlib.suppress(Exception):
            self.stop_quill()
        localstack.down(self.directory)
        if not self.config.keep:
            shutil.rmtree(self.directory, ignore_errors=True)
        else:
            print(f"The stack's folder (logs) is kept: {self.directory}")


COMPONENTS = (
    ("psycopg/", "psycopg: sending queries, waiting for answers"),
    ("django/db/", "Django ORM"),
    ("django/template/", "Django templates"),
    ("django/urls/", "Django URL resolving and reversing"),
    ("rest_framework/", "DRF"),
    ("json/", "JSON encoding"),
    ("gunicorn/", "gunicorn: socket writes, access log"),
    ("logging/", "logging"),
    ("markdown_it/", "Markdown"),
    ("mdit_py_plugins/", "Markdown"),
    ("pygments/", "Markdown"),
    ("nh3", "Markdown"),
    ("asgiref/", "asgiref (Django's thread locals)"),
    ("django/", "Django, other"),
    ("posts/", "Quill's own code"),
    ("accounts/", "Quill's own code"),
    ("blog_project/", "Quill's own code"),
    ("rest_framework_simplejwt/", "SimpleJWT"),
    ("jwt/", "SimpleJWT"),
    ("whitenoise/", "whitenoise"),
    ("corsheaders/", "corsheaders"),
)
QUILL_CODE = ("posts/", "accounts/", "blog_project/")


def component(frame: str) -> str:
    path = frame.rpartition("(")[2].rstrip(")")
    for prefix, name in COMPONENTS:
        if path.startswith(prefix):
            return name
    return "Python standard library and others"


def summarise_profile(raw: str, top: int = 12) -> dict[str, Any]:
    """py-spy's raw (collapsed) stacks, line numbers dropped: the share of samples spent in each
    component's own code, the functions with the most samples of their own, and Quill's own
    functions with what they call (below the trunk every request shares: 75 % and more)."""
    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    samples = 0
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [re.sub(r":\d+\)$", ")", frame) for frame in stack.split(";")]
        frames = [frame for frame in frames if not frame.startswith("process ")]
        # Workers are forked by the master's Arbiter.spawn_worker: the rest is the master waiting.
        if not any(frame.startswith("Arbiter.spawn_worker ") for frame in frames):
            continue
        samples += count
        own[frames[-1]] += count
        for frame in set(frames):
            total[frame] += count
    components: Counter[str] = Counter()
    for frame, count in own.items():
        components[component(frame)] += count

    def shares(counter: Counter[str], rows: list[tuple[str, int]]) -> list[dict[str, Any]]:
        return [{"frame": frame, "share": round(n / samples, 4)} for frame, n in rows]

    quill = [
        (frame, n)
        for frame, n in total.most_common()
        if n / samples < 0.75 and frame.rpartition("(")[2].startswith(QUILL_CODE)
    ]
    return {
        "samples": samples,
        "components": shares(components, components.most_common()),
        "own": shares(own, own.most_common(top)),
        "quill_total": shares(total, quill[:top]),
    }


def print_plan(config: Config) -> None:
    minutes = config.estimate_s() / 60
    web = (
        f"{len(config.scenarios)} scenarios × {len(config.concurrencies)} concurrencies "
        f"({', '.join(map(str, config.concurrencies))}) × {len(config.modes)} cache modes "
        f"({', '.join(config.modes)}), {config.duration} s each after {config.warmup} s of warm-up, "
        "plus the floor"
        if config.web
        else "no web scenario"
    )
    jobs = (
        f"; jobs: {', '.join(f'{n:,} {kind}' for kind, n in (config.job_counts or {}).items())} with "
        f"{' then '.join(map(str, JOB_WORKERS))} workers, the cost of enqueueing in a request, and a "
        f"new story's notices to {config.fanout_followers:,} followers with {FANOUT_WORKERS} workers"
        if config.jobs != "off"
        else ""
    )
    print(
        f"Benchmark '{config.profile}': {web}{jobs}; "
        f"{config.authors:,} authors and {config.stories:,} stories.\n"
        f"Estimated total: about {minutes:.0f} min ({config.estimate_s():.0f} s); it gives up after "
        f"{2 * config.estimate_s() + 300:.0f} s.",
        flush=True,
    )
    if not cache_switch_honoured():
        print(
            "Note: Quill does not read QUILL_CACHE yet, so 'on' and 'off' run the same code today.",
            flush=True,
        )
    load = os.getloadavg()[0]
    if load > (os.cpu_count() or 1):
        print(
            f"Note: the load average is {load:.1f} on {os.cpu_count()} CPUs: others are busy, numbers suffer."
        )


def save(results: dict[str, Any], directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    stamp = results["date"].replace("-", "").replace(":", "")
    path = directory / f"{stamp}-{results['profile']}-{results['git']['commit'][:8]}.json"
    path.write_text(json.dumps(results, indent=1) + "\n")
    return path


def failed(results: dict[str, Any]) -> list[str]:
    problems = [
        f"{run['scenario']} ({run['mode']}, {run['concurrency']} clients): {run['failed']} failed, "
        f"{run['server_errors']} 5xx, {run['requests']} answered"
        for run in results["runs"]
        if run["failed"] or run["server_errors"] or not run["requests"]
    ]
    problems += [
        f"the probe of {key} ({mode}) got {probe['statuses']}"
        for mode, probes in results["queries"].items()
        for key, probe in probes.items()
        if probe.get("unexpected")
    ]
    if results.get("floor_matches_quill") is False:
        problems.append(f"the floor's JSON differs from Quill's: {results.get('floor_mismatch')}")
    jobs = results.get("jobs", {})
    problems += [
        f"{run['kind']} jobs ({run['workers']} workers): {run['failed']} failed"
        + (", timed out" if run["timed_out"] else "")
        for run in jobs.get("throughput", [])
        if run["failed"] or run["timed_out"]
    ]
    problems += [
        f"paced jobs ({run['workers']} workers) timed out"
        for run in jobs.get("paced", [])
        if run["timed_out"]
    ]
    fanout = jobs.get("fanout")
    if fanout and (fanout["missing"] or fanout["failed"] or fanout["timed_out"]):
        problems.append(
            f"fan-out to {fanout['followers']:,} followers: {fanout['missing']:,} notices missing, "
            f"{fanout['failed']} jobs failed" + (", timed out" if fanout["timed_out"] else "")
        )
    cost = jobs.get("enqueue_cost", {})
    if cost.get("unexpected"):
        problems.append(f"the enqueue-cost requests got {cost['statuses']} (302 expected)")
    sink = jobs.get("sink")
    if sink and sink.get("messages") != sink.get("expected"):
        problems.append(
            f"the SMTP sink received {sink.get('messages')} messages for {sink.get('expected')} email jobs"
        )
    return problems


def main(argv: list[str] | None = None) -> int:
    config = parse_args(argv)
    if shutil.which("wrk") is None:
        print(
            "wrk is not installed: apt-get install -y wrk (`make bench` does it when run as root).",
            file=sys.stderr,
        )
        return 1
    print_plan(config)
    for key in FOREIGN_KEYS:
        os.environ.pop(key, None)
    directory = config.directory or Path(tempfile.mkdtemp(prefix="quill-bench-"))
    bench = Bench(config, directory)

    def give_up(signum: int, frame: FrameType | None) -> None:
        raise Deadline(f"signal {signum}: stopping")

    signal.signal(signal.SIGTERM, give_up)
    signal.signal(signal.SIGALRM, give_up)
    signal.alarm(int(2 * config.estimate_s() + 300))
    started = time.monotonic()
    try:
        results = bench.run()
    finally:
        signal.alarm(0)
        bench.stop()
    results["seconds"] = round(time.monotonic() - started, 1)
    previous = report.previous_run(results, config.results_dir)
    if config.save:
        path = save(results, config.results_dir)
        print(f"\nResults: {path.relative_to(REPO) if path.is_relative_to(REPO) else path}")
    if config.save and not config.web:
        print("latest.* left as they are: a jobs-only run has no web scenario (python -m bench.report FILE).")
    elif config.save:
        # Beside it, the newest run at a glance: rows, the Markdown report, the chart.
        try:
            lines = report.write_latest(results, config.results_dir, previous)
        except OSError as error:
            lines = [f"WARNING: latest.json/.md/.png not written: {error}"]
        for line in lines:
            print(line)
    print(f"Took {results['seconds']:.0f} s.\n")
    print(report.render(results, previous))
    problems = failed(results)
    for problem in problems:
        print(f"FAILED: {problem}")
    return 1 if problems and config.check else 0


if __name__ == "__main__":
    sys.exit(main())
