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
from urllib.parse import urlsplit

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
    Scenario("create", "POST /api/v1/blog (JWT)", "post.lua", frozenset({201}), writes=True),
    Scenario(
        "mix", "90% GET /p/<slug>/, 10% PATCH /api/v1/blog/<id>", "mix.lua", frozenset({200}), writes=True
    ),
)


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

    def estimate_s(self) -> float:
        # wrk's own start and stop, the proxy's log flushed, gunicorn's queue drained (1 s quiet)
        wrk_run = self.duration + 3
        per_scenario = self.warmup + 2 + len(self.concurrencies) * wrk_run
        floor = sum(per_scenario for s in self.scenarios if s.floor) + 8
        modes = len(self.modes) * (15 + len(self.scenarios) * per_scenario)
        profile = (self.duration + 5) * len(self.profile_scenarios)
        return 30 + 5 + self.stories * 0.003 + floor + modes + profile


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
    args = parser.parse_args(argv)

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
            "scenarios": [{"key": s.key, "label": s.label} for s in config.scenarios],
            "startup": {},
            "memory": {},
            "queries": {},
            "runs": [],
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

    def start_quill(self, mode: str) -> None:
        log = self.directory / "gunicorn.log"
        offset = size(log)
        started = time.monotonic()
        self.quill_master = localstack.spawn_gunicorn(
            self.directory, {**self.web_env, "QUILL_CACHE": mode}, self.quill_port
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
            if scenario.key == "member":
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
            elif scenario.key == "member":
                requests.append(("GET", "/following/", None, {"Cookie": self.member_cookie}))
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

    # Putting it together ------------------------------------------------------------------------

    def run(self) -> dict[str, Any]:
        config = self.config
        self.results["machine"] = machine_facts()
        print(f"Starting the stack in {self.directory}...", flush=True)
        self.start_stack()
        self.seed()

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
        self.results["load_average"]["end"] = list(os.getloadavg())
        return self.results

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
    print(
        f"Benchmark '{config.profile}': {len(config.scenarios)} scenarios × {len(config.concurrencies)} "
        f"concurrencies ({', '.join(map(str, config.concurrencies))}) × {len(config.modes)} cache modes "
        f"({', '.join(config.modes)}), {config.duration} s each after {config.warmup} s of warm-up, "
        f"plus the floor; {config.authors:,} authors and {config.stories:,} stories.\n"
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
