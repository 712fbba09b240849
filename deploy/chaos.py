"""Chaos run: bounded load on a throwaway local stack while faults are injected in turn.

    python deploy/chaos.py                     # every fault (`make chaos`), a few minutes
    python deploy/chaos.py --short             # 4 faults, shorter (`make test`)
    python deploy/chaos.py --faults postgres,redis [--threads 6]

It starts its own stack (deploy/localstack.py up --web) in a temporary folder and stops it at
the end, whatever happens. A few client threads work through nginx: they create stories, each
with its own Idempotency-Key and a known title and tags (after a connection error or a 5xx
the same request is sent again with the same key, a bounded number of times: a create is
acknowledged when the client got its 201), read acknowledged stories and page through the
list. Each fault gets a steady period before and after it. After each one, a direct
connection to Postgres checks that every acknowledged story is there with its tags, that no
story exists whose create was never acknowledged, and that no key made two stories.

Two faults are about jobs and mail. The stack runs two job workers, with a 1 s heartbeat, a 4 s
lease and quick retries (JOB_SETTINGS), and sends every email to a real SMTP server (aiosmtpd)
on a loopback port that this script runs and reads. `jobworker`: password resets are asked for
(the form, through nginx) for accounts made for the purpose while the SMTP server holds each
session at RCPT TO, so that both workers are in the middle of a job; the worker running one is
SIGKILLed (its pid is in the job's worker id) and replaced. Its job must run again once the
lease is over and its mail arrive exactly once; the other worker's job is held past the lease,
so a sweep that took a live worker's job would show as a second mail. `smtp`: the SMTP server
stops for 10 s while a reset is asked for every 0.5 s; the requests must be answered as usual,
the jobs retry, and every mail arrive exactly once, within seconds of the server's return.

One row per fault: requests, answers by status (or by failure: reset, refused, timeout,
closed), the longest request, the time to recovery (the first 2xx after the fault is over,
and after the last failure), the outage (first failure to recovery), acknowledged creates
(and how many of them were idempotent replays), lost, duplicated and unacknowledged stories,
and the verdict against the fault's targets. Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import itertools
import json
import math
import os
import random
import re
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import localstack  # deploy/localstack.py, beside this script

# The repository's root, after this folder: mail/testing.py, the SMTP server the tests use too.
sys.path.append(str(localstack.REPO))
from mail.testing import MailServer

REPO = localstack.REPO
SIGN_UP = "/api/v1/user/signup"
SIGN_IN = "/api/v1/user/signin"
BLOG = "/api/v1/blog"
PAGE_SIZE = 20  # posts.api.v1.PostPagination
TAG_POOL = ("pgbouncer", "postgres", "redis", "gunicorn", "nginx", "latency", "retries", "faults")
REQUEST_TIMEOUT = 15.0  # above PgBouncer's query_wait_timeout (10 s): the server's answer is seen
# A create whose answer is a connection error, a 5xx or a 429 is sent again, same key and body.
CREATE_ATTEMPTS = 30
CREATE_RETRY_PAUSE = 0.5
# A share of creates first hang up right after sending, as a client whose connection drops
# would: the story may still be created, and the retry must then get it back, not a second one.
ABANDONED = "abandoned"
ABANDON_AFTER = 0.02
# The caller's settings (the test suite's own stack, say) must not leak into the stack started
# here, which `up` configures.
STACK_KEYS = (
    "DATABASE_URL", "DIRECT_DATABASE_URL", "PGBOUNCER_ADMIN_URL", "REDIS_URL", "QUILL_URL",
    "GUNICORN_URL", "MEDIA_ROOT", "DJANGO_ALLOW_ASYNC_UNSAFE", "TEST_DATABASE_URL",
)  # fmt: skip

# The job faults. The stack runs two job workers with a short heartbeat and lease, so that a
# killed worker's job comes back within seconds (production: 5 s and 60 s), and quick retries
# (production: 2 s doubling up to an hour, 5 attempts), so that the mail held up by the SMTP
# outage goes out within seconds of its end. Every email of the run goes to a real SMTP server
# (aiosmtpd) on loopback that this script starts, stops and reads.
JOB_WORKERS = 2
JOB_SETTINGS = {
    "QUILL_JOB_HEARTBEAT_SECONDS": "1",
    "QUILL_JOB_LEASE_SECONDS": "4",
    "QUILL_JOB_RETRY_SECONDS": "1",
    "QUILL_JOB_RETRY_MAX_SECONDS": "2",
    "QUILL_JOB_ATTEMPTS": "10",  # at 1, 2, 2, 2 ... s apart: a job outlives 15 s of SMTP down
    # Every reset request and member sign-up comes from 127.0.0.1 (10 a minute in production).
    "QUILL_AUTH_RATE": "100000/minute",
}
RESET_JOB = "accounts.jobs.send_password_reset"
RESET_PATH = "/password-reset/"
JOB_TABLE = "django_tasks_database_dbtaskresult"
KILL_RESETS = 4  # reset requests in flight when a job worker is SIGKILLed: 2 per worker
# The other worker's job is held at the SMTP server until this long past the lease after the
# kill (within EMAIL_TIMEOUT_SECONDS of its RCPT TO): its own lease is over by then, and a sweep
# or two has run.
OTHER_HELD_EXTRA = 2.0
EMAIL_TIMEOUT_SECONDS = 30
# The killed worker's job must be back in the queue within the lease and RETURN_SLACK (its
# last heartbeat, up to one before the kill, and the next sweep, up to one after the lease), and
# its mail have arrived within the lease and KILL_SLACK.
RETURN_SLACK = 2.0
KILL_SLACK = 4.0
# SMTP down: reset requests from this long before the outage until this long after it.
RESET_MARGIN = 1.0
# Every mail must have arrived within the retry cap and this of the SMTP server listening again.
DRAIN_SLACK = 3.0
JOBS_WAIT = 30.0  # at most this long for the jobs of a fault to end

Outcome = int | str  # an HTTP status, or how the request failed


def now() -> float:
    return time.monotonic()


# --- HTTP ------------------------------------------------------------------------------------


def failure_kind(error: BaseException) -> str:
    """What a client saw instead of an answer."""
    if isinstance(error, http.client.RemoteDisconnected):
        return "closed"  # the connection ended before any answer
    if isinstance(error, ConnectionRefusedError):
        return "refused"
    if isinstance(error, ConnectionResetError | BrokenPipeError | ConnectionAbortedError):
        return "reset"
    if isinstance(error, TimeoutError):
        return "timeout"
    if isinstance(error, http.client.IncompleteRead):
        return "cut"
    return type(error).__name__


def http_request(
    address: tuple[str, int],
    method: str,
    path: str,
    *,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = REQUEST_TIMEOUT,
) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection(address[0], address[1], timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        data = response.read()
        return response.status, {name.lower(): value for name, value in response.getheaders()}, data
    finally:
        connection.close()


def is_failure(outcome: Outcome) -> bool:
    """The server's 5xx, or a connection that failed (not the client's own hang-ups)."""
    return outcome != ABANDONED and (isinstance(outcome, str) or outcome >= 500)


def is_success(outcome: Outcome) -> bool:
    return isinstance(outcome, int) and 200 <= outcome < 300


# --- Mail ------------------------------------------------------------------------------------


@dataclass
class Hold:
    until: float  # monotonic


class MailSink(MailServer):
    """The SMTP server (mail.testing.MailServer) on a free loopback port, plain, where the stack's
    jobs send every email; it records who got what, and when. It can be stopped and started again
    on the same port (SMTP down: connections refused), and can hold sessions at RCPT TO for a while
    (a slow mail server: the job that sends stays in the middle of its run)."""

    def __init__(self) -> None:
        super().__init__(localstack.free_port())
        self._lock = threading.Lock()
        # Sessions wait at RCPT TO until the end of the hold they met, which can be changed
        # while they wait; every hold so far, to release them all.
        self._hold = Hold(0.0)
        self._holds = [self._hold]
        self.held = 0  # sessions waiting now

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        hold = self._hold
        if now() < hold.until:
            with self._lock:
                self.held += 1
            try:  # cancelled when the client's connection drops (its worker was killed)
                while now() < hold.until:
                    await asyncio.sleep(0.02)
            finally:
                with self._lock:
                    self.held -= 1
        envelope.rcpt_tos.append(address)
        return "250 OK"

    def hold(self, until: float) -> Hold:
        """Sessions from now on wait at RCPT TO until `until` (or the hold's later `until`)."""
        self._hold = Hold(until)
        self._holds.append(self._hold)
        return self._hold

    def keep_held(self, until: float) -> Hold:
        """The sessions waiting now wait until `until` (or the hold's later `until`) instead;
        later ones are not held."""
        held = self._hold
        held.until = until
        self.hold(0.0)
        return held

    def release(self) -> None:
        for hold in self._holds:
            hold.until = 0.0


@dataclass
class ResetJob:
    """A password-reset job as the job table holds it."""

    id: str
    user_id: int
    status: str
    worker_ids: list[str]
    started_at: float | None  # its last claim, in seconds since the epoch


def reset_jobs(direct_url: str, user_ids: list[int]) -> list[ResetJob]:
    """The password-reset jobs of these accounts, straight from Postgres."""
    import psycopg

    with psycopg.connect(direct_url, connect_timeout=10) as conn:
        rows = conn.execute(
            "SELECT id::text, (args_kwargs->'kwargs'->>'user_id')::int, status, worker_ids, "
            f"extract(epoch FROM started_at)::float FROM {JOB_TABLE} WHERE task_path = %s "
            "AND (args_kwargs->'kwargs'->>'user_id')::int = ANY(%s) ORDER BY enqueued_at",
            (RESET_JOB, user_ids),
        ).fetchall()
    return [
        ResetJob(job_id, user, status, list(workers), started)
        for job_id, user, status, workers, started in rows
    ]


def live_workers(direct_url: str) -> list[str]:
    """The ids of the job workers that have heartbeated within the lease (jobs.models.Worker)."""
    import psycopg

    with psycopg.connect(direct_url, connect_timeout=10) as conn:
        return [row[0] for row in conn.execute("SELECT id FROM jobs_worker")]


def worker_pid(worker_id: str) -> int:
    """The pid in a worker's id, `host-pid-random` (jobs.worker.new_worker_id)."""
    return int(worker_id.rsplit("-", 2)[1])


# --- Load ------------------------------------------------------------------------------------


@dataclass
class Record:
    kind: str  # create, retry (a create sent again), abandon, read, page, healthz
    start: float
    duration: float
    outcome: Outcome
    retry_after: bool = False  # the answer said when to try again

    @property
    def end(self) -> float:
        return self.start + self.duration


@dataclass
class Create:
    key: str
    title: str
    tags: list[str]
    phase: str
    acked_id: str | None = None
    replayed: bool = False  # the 201 was an idempotent replay of an earlier attempt's
    attempts: int = 0
    last_outcome: Outcome = ""


class Load:
    """`threads` clients creating, reading and paging through the proxy until stop()."""

    def __init__(self, run: Chaos, phase: str, threads: int, think: float):
        self.run = run
        self.phase = phase
        self.think = think
        self.records: list[Record] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._abort = threading.Event()
        self._threads = [
            threading.Thread(target=self._client, args=(number,), daemon=True, name=f"load-{number}")
            for number in range(threads)
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self, *, abort: bool = False) -> None:
        """Stops the clients; a create in progress goes on with its retries until it is
        acknowledged or gives up, so that every create ends known (unless `abort`)."""
        if abort:
            self._abort.set()
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=CREATE_ATTEMPTS * (CREATE_RETRY_PAUSE + REQUEST_TIMEOUT))

    def request(
        self,
        kind: str,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[Outcome, dict[str, str], bytes]:
        started = now()
        outcome: Outcome
        try:
            outcome, answer_headers, data = http_request(
                self.run.proxy, method, path, body=body, headers=headers
            )
        except (OSError, http.client.HTTPException) as error:
            outcome, answer_headers, data = failure_kind(error), {}, b""
        record = Record(kind, started, now() - started, outcome, "retry-after" in answer_headers)
        with self._lock:
            self.records.append(record)
        return outcome, answer_headers, data

    def _client(self, number: int) -> None:
        rng = random.Random(f"{self.run.run_id}-{self.phase}-{number}")
        while not self._stop.is_set():
            choice = rng.random()
            if choice < 0.3:
                self.create(rng)
            elif choice < 0.75:
                self.read(rng)
            else:
                self.page(rng)
            self._stop.wait(self.think)

    def create(self, rng: random.Random) -> Create:
        create = self.run.new_create(self.phase, rng)
        body = json.dumps(
            {"title": create.title, "content": f"Written while {self.phase} was tried.", "tags": create.tags}
        ).encode()
        headers = {
            "Authorization": f"Bearer {self.run.jwt}",
            "Content-Type": "application/json",
            "Idempotency-Key": create.key,
        }
        if rng.random() < self.run.args.abandon:
            create.attempts += 1
            self.abandon(BLOG, body, headers)
        while True:
            create.attempts += 1
            kind = "create" if create.attempts == 1 else "retry"
            outcome, answer_headers, data = self.request(kind, "POST", BLOG, body=body, headers=headers)
            create.last_outcome = outcome
            if outcome == 201:
                create.acked_id = str(json.loads(data)["id"])
                create.replayed = answer_headers.get("idempotent-replayed") == "true"
                self.run.acknowledge(create)
                return create
            retry = is_failure(outcome) or outcome == 429
            if not retry or create.attempts >= CREATE_ATTEMPTS or self._abort.is_set():
                return create  # never acknowledged
            time.sleep(CREATE_RETRY_PAUSE)

    def abandon(self, path: str, body: bytes, headers: dict[str, str]) -> None:
        """Sends a POST and hangs up without reading the answer."""
        started = now()
        connection = http.client.HTTPConnection(self.run.proxy[0], self.run.proxy[1], timeout=REQUEST_TIMEOUT)
        with contextlib.suppress(OSError, http.client.HTTPException):
            connection.request("POST", path, body=body, headers=headers)
            time.sleep(ABANDON_AFTER)
        connection.close()
        with self._lock:
            self.records.append(Record("abandon", started, now() - started, ABANDONED))

    def read(self, rng: random.Random) -> None:
        post_id = self.run.random_acknowledged(rng)
        if post_id is None:
            self.page(rng)
            return
        self.request("read", "GET", f"{BLOG}/{post_id}")

    def page(self, rng: random.Random) -> None:
        pages = max(1, math.ceil(self.run.acknowledged_count() / PAGE_SIZE))
        self.request("page", "GET", f"{BLOG}/bulk?page={rng.randint(1, pages)}")


# --- Checks against the database -------------------------------------------------------------


@dataclass
class Check:
    """Every create so far, against what Postgres holds (straight, not through PgBouncer)."""

    acknowledged: int = 0
    replayed: int = 0
    unresolved: int = 0  # creates never acknowledged (the client gave up)
    lost: list[str] = field(default_factory=list)  # acknowledged, not in the database (or another id)
    wrong_tags: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)  # keys with more than one story
    unacknowledged: list[str] = field(default_factory=list)  # stories whose create never got a 201
    strays: list[str] = field(default_factory=list)  # stories that no create of this run asked for
    error: str = ""

    @property
    def ok(self) -> bool:
        problems = (self.lost, self.wrong_tags, self.duplicates, self.unacknowledged, self.strays)
        return not self.error and not any(problems)


def verify(direct_url: str, author_id: int, creates: list[Create], title_prefix: str) -> Check:
    import psycopg  # the project's driver

    check = Check()
    try:
        with psycopg.connect(direct_url, connect_timeout=10) as conn:
            rows = conn.execute(
                """
                SELECT p.id::text, p.title,
                       coalesce(array_agg(t.name ORDER BY t.name) FILTER (WHERE t.name IS NOT NULL), '{}')
                FROM posts_post p
                LEFT JOIN posts_post_tags pt ON pt.post_id = p.id
                LEFT JOIN posts_tag t ON t.id = pt.tag_id
                WHERE p.author_id = %s
                GROUP BY p.id, p.title
                """,
                (author_id,),
            ).fetchall()
            keys = conn.execute(
                "SELECT key, count(*), min(response->>'id') FROM posts_createrequest "
                "WHERE author_id = %s GROUP BY key",
                (author_id,),
            ).fetchall()
    except Exception as error:  # the check itself could not run: a failure too
        check.error = f"{type(error).__name__}: {error}".strip()
        return check
    posts_by_title: dict[str, list[tuple[str, list[str]]]] = {}
    for post_id, title, tags in rows:
        posts_by_title.setdefault(title, []).append((post_id, list(tags)))
    remembered = {key: (count, answer_id) for key, count, answer_id in keys}
    titles = set()
    for create in creates:
        titles.add(create.title)
        found = posts_by_title.get(create.title, [])
        if len(found) > 1 or remembered.get(create.key, (1, None))[0] > 1:
            check.duplicates.append(create.key)
        if create.acked_id is None:
            check.unresolved += 1
            if found:
                check.unacknowledged.append(create.key)
            continue
        check.acknowledged += 1
        check.replayed += create.replayed
        ids = {post_id for post_id, _ in found}
        if (
            create.acked_id not in ids
            or remembered.get(create.key, (1, create.acked_id))[1] != create.acked_id
        ):
            check.lost.append(create.key)
            continue
        tags = next(tags for post_id, tags in found if post_id == create.acked_id)
        if tags != sorted(create.tags):
            check.wrong_tags.append(create.key)
    check.strays = sorted(
        title for title in posts_by_title if title not in titles and title.startswith(title_prefix)
    ) + sorted(title for title in posts_by_title if not title.startswith(title_prefix))
    return check


# --- Results ---------------------------------------------------------------------------------


@dataclass
class Target:
    text: str  # what was asked, and what was measured
    ok: bool


@dataclass
class Phase:
    name: str
    label: str
    records: list[Record]
    fault_start: float
    fault_end: float
    check: Check
    notes: list[str] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    measured: dict[str, float] = field(default_factory=dict)
    health: list[Record] = field(default_factory=list)  # /livez and /readyz, polled beside the load

    def affected(self, until: float = math.inf) -> list[Record]:
        """Requests in flight at some time between the fault's start and `until`."""
        return [r for r in self.records if r.end >= self.fault_start and r.start <= until]

    @property
    def failures(self) -> list[Record]:
        return [r for r in self.affected() if is_failure(r.outcome)]

    @property
    def recovered_at(self) -> float | None:
        """The end of the first 2xx that began after the fault was over and after the last
        failure began: from then on the site serves."""
        failures = self.failures
        since = max([self.fault_end, *(r.start for r in failures)])
        ends = [r.end for r in self.records if r.start >= since and is_success(r.outcome)]
        return min(ends) if ends else None

    @property
    def recovery(self) -> float | None:
        recovered = self.recovered_at
        return None if recovered is None else max(0.0, recovered - self.fault_end)

    @property
    def outage(self) -> float | None:
        failures = self.failures
        if not failures:
            return 0.0
        recovered = self.recovered_at
        return None if recovered is None else recovered - min(r.start for r in failures)

    @property
    def ok(self) -> bool:
        return all(target.ok for target in self.targets)

    def statuses(self) -> str:
        counts = Counter(r.outcome for r in self.records)
        ordered = sorted(counts.items(), key=lambda item: (isinstance(item[0], str), str(item[0])))
        return " ".join(f"{outcome}:{count}" for outcome, count in ordered)

    def longest(self) -> Record | None:
        return max(self.records, key=lambda r: r.duration, default=None)


def health_summary(phase: Phase) -> str:
    parts = []
    for path in ("/livez", "/readyz"):
        polls = [r for r in phase.health if r.kind == path]
        other = [r for r in polls if r.outcome != 200]
        if not other:
            parts.append(f"{path} 200 throughout ({len(polls)} polls)")
            continue
        counts = Counter(str(r.outcome) for r in other)
        parts.append(
            f"{path} {' '.join(f'{o}:{n}' for o, n in sorted(counts.items()))} of {len(polls)} polls, from "
            f"{other[0].start - phase.fault_start:+.1f}s to {other[-1].end - phase.fault_start:+.1f}s "
            "after the fault began"
        )
    return "; ".join(parts)


def percentile(values: list[float], pct: int) -> float:
    """The pct-th percentile (inclusive: never beyond the largest value); inf for no values."""
    if len(values) < 2:
        return values[0] if values else math.inf
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]


def milliseconds(value: float) -> str:
    return "none" if math.isinf(value) else f"{value * 1000:.0f} ms"


def seconds(value: float | None) -> str:
    return "never" if value is None else f"{value:.2f}s"


def judge_data(phase: Phase) -> None:
    """Targets every fault shares: no acknowledged write lost, no duplicate, nothing created
    that was not acknowledged, and never a 500 (SPEC §8)."""
    check = phase.check
    if check.error:
        phase.targets.append(Target(f"database check ran ({check.error})", False))
        return
    phase.targets.append(Target(f"no acknowledged write lost ({len(check.lost)} lost)", not check.lost))
    phase.targets.append(Target(f"acknowledged stories keep their tags ({len(check.wrong_tags)} wrong)",
                                not check.wrong_tags))  # fmt: skip
    phase.targets.append(Target(f"no key made two stories ({len(check.duplicates)})", not check.duplicates))
    unacknowledged = len(check.unacknowledged) + len(check.strays)
    phase.targets.append(
        Target(f"no unacknowledged story in the database ({unacknowledged})", not unacknowledged)
    )
    errors = sum(1 for r in phase.records if r.outcome == 500)
    phase.targets.append(Target(f"never a 500 ({errors})", not errors))
    unavailable = [r for r in phase.records if r.outcome == 503]
    bare = sum(1 for r in unavailable if not r.retry_after)
    if unavailable:
        phase.targets.append(
            Target(f"every 503 says Retry-After ({bare} of {len(unavailable)} do not)", not bare)
        )


def judge_database_down(phase: Phase) -> None:
    """PgBouncer down: every request answered within 1 s, with 503 or served; recovery within
    2 s of PgBouncer listening again."""
    recovered = phase.recovered_at
    window = phase.affected(until=recovered if recovered is not None else math.inf)
    bad = [r for r in window if is_failure(r.outcome) and r.outcome != 503]
    slow = [r for r in window if r.duration > 1.0]
    longest = max((r.duration for r in window), default=0.0)
    phase.targets.append(
        Target(
            f"outage requests answered 503 or served ({len(window)} requests, {len(bad)} otherwise)", not bad
        )
    )
    phase.targets.append(Target(f"each within 1 s (longest {longest:.2f}s, {len(slow)} slower)", not slow))
    phase.targets.append(
        Target(
            f"recovery within 2 s of PgBouncer listening ({seconds(phase.recovery)})",
            phase.recovery is not None and phase.recovery <= 2.0,
        )
    )
    if "job_worker_alive" in phase.measured:
        alive = phase.measured["job_worker_alive"] == 1.0
        outcome = "alive" if alive else "exited"
        phase.targets.append(Target(f"the job worker waited it out ({outcome})", alive))


def judge_postgres(phase: Phase) -> None:
    phase.targets.append(
        Target(
            f"outage at most 3 s ({seconds(phase.outage)})", phase.outage is not None and phase.outage <= 3.0
        )
    )
    bad = [r for r in phase.failures if r.outcome != 503]
    phase.targets.append(Target(f"failures are 503s ({len(bad)} otherwise)", not bad))


def judge_redis(phase: Phase) -> None:
    reads = [r for r in phase.records if r.kind in ("read", "page")]
    failed = [r for r in reads if is_failure(r.outcome)]
    phase.targets.append(Target(f"no 5xx on reads ({len(failed)} of {len(reads)})", not failed))


def judge_graceful(phase: Phase) -> None:
    errors = sum(1 for r in phase.records if isinstance(r.outcome, int) and r.outcome >= 500)
    resets = sum(1 for r in phase.records if isinstance(r.outcome, str) and is_failure(r.outcome))
    phase.targets.append(Target(f"zero 5xx ({errors})", not errors))
    phase.targets.append(Target(f"zero resets or other connection failures ({resets})", not resets))


def judge_nothing(phase: Phase) -> None:
    """Reported only: no target beyond the data's."""


def judge_slow_clients(phase: Phase) -> None:
    p99 = phase.measured.get("healthz_p99", math.inf)
    failed = phase.measured.get("healthz_failed", 0)
    opened = phase.measured.get("slow_open", 0)
    attempts = phase.measured.get("attempts", 0)
    wanted = phase.measured.get("slow_clients", 0)
    phase.targets.append(
        Target(f"slow connections open while measured ({opened:.0f} of {wanted:.0f})", opened == wanted > 0)
    )
    phase.targets.append(
        Target(
            f"/healthz p99 under 200 ms with them open ({milliseconds(p99)}, attempt {attempts:.0f})",
            p99 < 0.2,
        )
    )
    phase.targets.append(Target(f"/healthz answered 200 ({failed:.0f} otherwise)", not failed))


def judge_mail(phase: Phase) -> None:
    """Targets both job faults share: the reset requests answered as usual, every one of their
    jobs ended SUCCESSFUL, and each requested email arrived exactly once."""
    measured = phase.measured
    resets, answered = measured.get("resets", 0), measured.get("resets_answered", 0)
    phase.targets.append(
        Target(
            f"reset requests answered 302, no 5xx ({answered:.0f} of {resets:.0f})", answered == resets > 0
        )
    )
    jobs, successful = measured.get("jobs", 0), measured.get("jobs_successful", 0)
    phase.targets.append(
        Target(
            f"every reset job ended SUCCESSFUL ({successful:.0f} of {jobs:.0f}, for {answered:.0f} requests)",
            successful == jobs == answered,
        )
    )
    missing, twice = measured.get("mail_missing", math.inf), measured.get("mail_twice", math.inf)
    phase.targets.append(
        Target(
            f"each requested mail arrived, exactly once ({missing:.0f} missing, {twice:.0f} more than once)",
            missing == 0 and twice == 0,
        )
    )


def judge_job_worker_killed(phase: Phase) -> None:
    """A job worker SIGKILLed mid-job: its job goes back to the queue once the lease is over and
    runs again, with its effect once, within the lease and a few seconds; the job another
    worker has in hand meanwhile, for longer than the lease, stays with it."""
    judge_mail(phase)
    measured = phase.measured
    attempts = measured.get("killed_job_attempts", 0)
    phase.targets.append(
        Target(
            f"the killed worker's job ran again ({attempts:.0f} attempts)",
            measured.get("killed_job_rerun") == 1,
        )
    )
    lease = measured.get("lease", 0)
    returned = measured.get("killed_job_returned", math.inf)
    phase.targets.append(
        Target(
            f"it went back to the queue within lease + {RETURN_SLACK:.0f} s of the kill "
            f"({seconds_or_never(returned)}, at most {lease + RETURN_SLACK:.0f}s)",
            returned <= lease + RETURN_SLACK,
        )
    )
    held, taken = measured.get("others_held", 0), measured.get("others_taken", math.inf)
    phase.targets.append(
        Target(
            f"the other worker's job stayed in its hand, held {measured.get('others_held_for', 0):.1f}s past "
            f"the kill ({taken:.0f} of {held:.0f} taken from it)",
            held > 0 and taken == 0,
        )
    )
    bound = lease + KILL_SLACK
    rerun = measured.get("killed_job_mailed", math.inf)
    phase.targets.append(
        Target(
            f"its mail arrived within lease + {KILL_SLACK:.0f} s of the kill ({seconds_or_never(rerun)}, "
            f"at most {bound:.0f}s)",
            rerun <= bound,
        )
    )


def judge_smtp_down(phase: Phase) -> None:
    """SMTP down: the requests are answered as usual, the jobs retry, and once the server is back
    every mail arrives once, within the retry cap and a few seconds."""
    judge_mail(phase)
    measured = phase.measured
    retried = measured.get("jobs_retried", 0)
    phase.targets.append(Target(f"jobs met the outage and retried ({retried:.0f})", retried > 0))
    bound = measured.get("retry_cap", 0) + DRAIN_SLACK
    drain = measured.get("drain", math.inf)
    phase.targets.append(
        Target(
            f"every mail arrived within {bound:.0f} s of SMTP listening again ({seconds_or_never(drain)})",
            drain <= bound,
        )
    )


def seconds_or_never(value: float) -> str:
    return seconds(None if math.isinf(value) else value)


# --- The run ---------------------------------------------------------------------------------


@dataclass
class Fault:
    title: str
    inject: Callable[[Chaos, Phase], tuple[float, float]]  # returns the fault's (start, end)
    judge: Callable[[Phase], None]


class Chaos:
    def __init__(self, directory: Path, args: argparse.Namespace, mail: MailSink):
        self.directory = directory
        self.args = args
        self.mail = mail
        self._members: list[tuple[int, str]] = []  # (id, email): accounts that ask for a reset
        self._csrf = ("", "")  # the reset form's CSRF cookie and token
        self.run_id = f"{int(time.time())}-{os.getpid()}"
        self.title_prefix = "Chaos story "
        self.settings: dict[str, str] = {}
        self.proxy = ("127.0.0.1", 0)
        self.jwt = ""
        self.author_id = 0
        self._lock = threading.Lock()
        self._counter = itertools.count(1)
        self.creates: list[Create] = []
        self._acknowledged: list[str] = []
        self.phases: list[Phase] = []
        self._slow: list[socket.socket] = []

    # Shared state of the clients.
    def new_create(self, phase: str, rng: random.Random) -> Create:
        with self._lock:
            number = next(self._counter)
            tags = sorted({"chaos", rng.choice(TAG_POOL), f"batch-{number % 7}"})
            key = f"chaos-{self.run_id}-{number:05d}"
            create = Create(key=key, title=f"{self.title_prefix}{key}", tags=tags, phase=phase)
            self.creates.append(create)
        return create

    def acknowledge(self, create: Create) -> None:
        with self._lock:
            assert create.acked_id is not None
            self._acknowledged.append(create.acked_id)

    def acknowledged_count(self) -> int:
        with self._lock:
            return len(self._acknowledged)

    def random_acknowledged(self, rng: random.Random) -> str | None:
        with self._lock:
            return rng.choice(self._acknowledged) if self._acknowledged else None

    # The stack.
    def up(self) -> None:
        result = subprocess.run(
            [
                sys.executable,
                str(REPO / "deploy" / "localstack.py"),
                "up",
                "--web",
                "--workers",
                str(JOB_WORKERS),
                "--dir",
                str(self.directory),
            ],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if result.returncode != 0:
            raise SystemExit(f"The stack did not start:\n{result.stdout}{result.stderr}")
        self.settings = localstack.read_env(self.directory)
        host, port = self.settings["QUILL_URL"].removeprefix("http://").split(":")
        self.proxy = (host, int(port))

    def down(self) -> None:
        for client in self._slow:
            client.close()
        subprocess.run(
            [sys.executable, str(REPO / "deploy" / "localstack.py"), "down", "--dir", str(self.directory)],
            cwd=REPO,
            capture_output=True,
            timeout=180,
        )

    def log_tail(self, name: str, lines: int = 30) -> str:
        try:
            text = self.stack_file(name).read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return f"Last lines of {name}:\n" + "\n".join(text[-lines:])

    def port(self, name: str) -> int:
        return int(self.settings[name].rsplit(":", 1)[1].split("/")[0])

    def sign_up(self) -> None:
        email = f"chaos-{self.run_id}@example.com"
        body = json.dumps({"email": email, "password": f"chaos-{secret_suffix()}"}).encode()
        status, _, data = http_request(
            self.proxy, "POST", SIGN_UP, body=body, headers={"Content-Type": "application/json"}
        )
        if status != 201:
            raise SystemExit(f"Sign-up failed ({status}): {data[:300]!r}\n{self.log_tail('gunicorn.log')}")
        answer = json.loads(data)
        self.jwt = answer["jwt"]
        self.author_id = int(answer["user"]["id"])

    def warm_up(self) -> None:
        """A few stories to read, and the site's first requests, before anything is measured."""
        load = Load(self, "warm-up", 1, 0)
        rng = random.Random(self.run_id)
        for _ in range(10):
            created = load.create(rng)
            if created.acked_id is None:
                tail = self.log_tail("gunicorn.log")
                raise SystemExit(f"The stack does not take stories ({created.last_outcome})\n{tail}")
        for _ in range(10):
            load.page(rng)

    # Accounts that ask for a password reset, each once: one email expected per account.
    def sign_up_members(self, count: int) -> None:
        def sign_up(number: int) -> tuple[int, str]:
            # The number first: usernames are made from the local part's first 25 characters.
            email = f"m{number}-{self.run_id}@example.com"
            body = json.dumps({"email": email, "password": f"chaos-{secret_suffix()}"}).encode()
            status, _, data = http_request(
                self.proxy, "POST", SIGN_UP, body=body, headers={"Content-Type": "application/json"}
            )
            if status != 201:
                raise SystemExit(f"Sign-up failed ({status}): {data[:300]!r}")
            return int(json.loads(data)["user"]["id"]), email

        with ThreadPoolExecutor(4) as pool:
            self._members.extend(pool.map(sign_up, range(1, count + 1)))
        if count:
            self._csrf = self.reset_form()

    def take_members(self, count: int) -> list[tuple[int, str]]:
        taken, self._members = self._members[:count], self._members[count:]
        if len(taken) < count:
            raise SystemExit("Too few members signed up for the job faults")
        return taken

    def reset_form(self) -> tuple[str, str]:
        """The CSRF cookie and the form's token of the password-reset page (reused by every request)."""
        connection = http.client.HTTPConnection(*self.proxy, timeout=REQUEST_TIMEOUT)
        try:
            connection.request("GET", RESET_PATH)
            response = connection.getresponse()
            page = response.read().decode(errors="replace")
            cookies = " ".join(response.headers.get_all("Set-Cookie") or [])
        finally:
            connection.close()
        cookie = re.search(r"\bcsrftoken=([^;\s]+)", cookies)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        if response.status != 200 or cookie is None or token is None:
            raise SystemExit(f"The password-reset page did not give a CSRF token ({response.status})")
        return cookie[1], token[1]

    def request_reset(self, phase: Phase, email: str) -> bool:
        """POSTs the password-reset form through the proxy, as a browser would; whether it was
        answered as usual (302 to the "sent" page). Recorded with the phase's requests."""
        cookie, token = self._csrf
        body = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "email": email}).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": f"csrftoken={cookie}"}
        started = now()
        outcome: Outcome
        try:
            outcome, answer_headers, _ = http_request(
                self.proxy, "POST", RESET_PATH, body=body, headers=headers
            )
        except (OSError, http.client.HTTPException) as error:
            outcome, answer_headers = failure_kind(error), {}
        # list.append is atomic: the load's threads append to the same list.
        phase.records.append(
            Record("reset", started, now() - started, outcome, "retry-after" in answer_headers)
        )
        return outcome == 302 and answer_headers.get("location", "").endswith(f"{RESET_PATH}sent/")

    def settle_mail(
        self,
        phase: Phase,
        asked: list[tuple[int, str]],
        answered: list[tuple[int, str]],
        deadline: float,
    ) -> tuple[list[ResetJob], dict[str, list[float]]]:
        """Waits (until `deadline`) for the reset jobs of `asked` to end and for a mail to each
        account whose request was `answered`, then a moment more for any second copy; records the
        targets' figures. Returns the jobs and when each address got mail."""
        addresses = {email for _, email in answered}
        user_ids = [user_id for user_id, _ in asked]
        direct = self.settings["DIRECT_DATABASE_URL"]
        while True:
            jobs = reset_jobs(direct, user_ids)
            mail = self.mail.arrivals(addresses)
            ended = all(job.status in ("SUCCESSFUL", "FAILED") for job in jobs)
            if (ended and len(jobs) >= len(answered) and len(mail) == len(addresses)) or now() > deadline:
                break
            time.sleep(0.1)
        time.sleep(1.0)
        jobs = reset_jobs(direct, user_ids)
        mail = self.mail.arrivals(addresses)
        phase.measured.update(
            resets=len(asked),
            resets_answered=len(answered),
            jobs=len(jobs),
            jobs_successful=sum(job.status == "SUCCESSFUL" for job in jobs),
            mail_missing=len(addresses - mail.keys()),
            mail_twice=sum(len(times) > 1 for times in mail.values()),
        )
        return jobs, mail

    def job_workers(self) -> dict[int, int]:
        """The stack's job workers that run: pid -> number (1: worker.pid, the scheduler)."""
        found = {}
        for pidfile in localstack.worker_pidfiles(self.directory):
            pid = localstack.read_pid(pidfile)
            if pid is not None and localstack.is_worker(pid):
                found[pid] = int(pidfile.stem.partition("-")[2] or 1)
        return found

    def run_phase(self, name: str) -> Phase:
        fault = FAULTS[name]
        label = f"{len(self.phases) + 1}-{name}"  # the creates' phase: a fault may be run twice
        load = Load(self, label, self.args.threads, self.args.think)
        phase = Phase(name, label, load.records, math.inf, math.inf, Check())
        stop_polling = threading.Event()
        poller = threading.Thread(target=self.poll_health, args=(phase, stop_polling), daemon=True)
        load.start()
        poller.start()
        aborted = True
        try:
            time.sleep(self.args.steady)
            phase.fault_start, phase.fault_end = fault.inject(self, phase)
            time.sleep(self.args.steady)
            aborted = False
        finally:
            stop_polling.set()
            load.stop(abort=aborted)
            poller.join()
        phase.notes.append(health_summary(phase))
        with self._lock:
            creates = list(self.creates)
        phase.check = verify(self.settings["DIRECT_DATABASE_URL"], self.author_id, creates, self.title_prefix)
        fault.judge(phase)
        judge_data(phase)
        self.phases.append(phase)
        return phase

    def poll_health(self, phase: Phase, stop: threading.Event) -> None:
        """/livez and /readyz through the proxy, five times a second: reported, not judged."""
        while not stop.wait(0.2):
            for path in ("/livez", "/readyz"):
                started = now()
                try:
                    outcome: Outcome = http_request(self.proxy, "GET", path, timeout=5)[0]
                except (OSError, http.client.HTTPException) as error:
                    outcome = failure_kind(error)
                phase.health.append(Record(path, started, now() - started, outcome))

    # Faults. Each returns when its component is back (the fault's end).
    def stack_file(self, name: str) -> Path:
        return self.directory / name

    def kill(self, pidfile: str, signum: signal.Signals = signal.SIGKILL, timeout: float = 10) -> int:
        pid = localstack.read_pid(self.stack_file(pidfile))
        if pid is None:
            raise SystemExit(f"Nothing runs from {pidfile}")
        os.kill(pid, signum)
        wait_until(lambda: not localstack.alive(pid), timeout, f"{pidfile} ({pid}) did not exit")
        return pid

    def pgbouncer_killed(self, phase: Phase) -> tuple[float, float]:
        job_worker = localstack.read_pid(self.stack_file("worker.pid"))
        start = now()
        pid = self.kill("pgbouncer.pid")
        time.sleep(self.args.down)
        pgbouncer = localstack.find_binary("pgbouncer", "/usr/sbin/pgbouncer", "/usr/bin/pgbouncer")
        ini = self.stack_file("pgbouncer.ini")
        localstack.run_quiet(localstack.as_service_user([pgbouncer, "-d", str(ini)]), "pgbouncer")
        localstack.wait_for_port(self.port("DATABASE_URL"), "PgBouncer", timeout=30)
        end = now()
        phase.notes.append(f"PgBouncer ({pid}) SIGKILLed, started again after {end - start:.1f}s")
        # The job worker waits out the outage (jobs.worker) rather than exit; one that did not
        # would have met the outage at its next poll (every 0.5 s) and be gone by now.
        if job_worker is not None:
            time.sleep(1)
            phase.measured["job_worker_alive"] = float(localstack.alive(job_worker))
        return start, end

    def postgres_restarted(self, phase: Phase) -> tuple[float, float]:
        pg_ctl = Path(localstack.find_binary("initdb", "/usr/lib/postgresql/*/bin/initdb")).parent / "pg_ctl"
        command = localstack.as_service_user([
            str(pg_ctl), "-D", str(self.stack_file("data")), "-l", str(self.stack_file("postgres.log")),
            "-m", "fast", "-w", "-t", "60", "restart",
        ])  # fmt: skip
        start = now()
        # Not captured: the new postmaster would hold the pipes open.
        result = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
        end = now()
        if result.returncode != 0:
            raise SystemExit(
                f"pg_ctl restart failed ({result.returncode}); see {self.stack_file('postgres.log')}"
            )
        phase.notes.append(f"pg_ctl restart -m fast took {end - start:.2f}s")
        return start, end

    def redis_killed(self, phase: Phase) -> tuple[float, float]:
        start = now()
        pid = self.kill("redis.pid")
        time.sleep(self.args.down)
        localstack.start_redis(self.directory, self.port("REDIS_URL"))
        end = now()
        phase.notes.append(f"Redis ({pid}) SIGKILLed, started again after {end - start:.1f}s")
        return start, end

    def gunicorn_replaced(self, phase: Phase) -> tuple[float, float]:
        old = localstack.read_pid(self.stack_file("gunicorn.pid"))
        start = now()
        localstack.restart_web(self.directory)
        end = now()
        new = localstack.read_pid(self.stack_file("gunicorn.pid"))
        phase.notes.append(f"restart-web: master {old} -> {new} in {end - start:.1f}s")
        return start, end

    def gunicorn_terminated(self, phase: Phase) -> tuple[float, float]:
        start = now()
        old = self.kill("gunicorn.pid", signal.SIGTERM, timeout=localstack.GUNICORN_STOP_SECONDS)
        stopped = now()
        port = self.port("GUNICORN_URL")
        new = localstack.spawn_gunicorn(self.directory, self.settings, port)
        localstack.wait_for_port(port, "gunicorn", timeout=60)
        end = now()
        phase.notes.append(
            f"SIGTERM to master {old}: it exited after {stopped - start:.1f}s; "
            f"new master {new} listening {end - stopped:.1f}s later"
        )
        return start, end

    def worker_killed(self, phase: Phase) -> tuple[float, float]:
        master = localstack.read_pid(self.stack_file("gunicorn.pid"))
        assert master is not None
        workers = len(localstack.children(master))
        rng = random.Random(self.run_id)
        killed = []
        start = now()
        for kill in range(self.args.worker_kills):
            if kill:
                time.sleep(1.0)
            victim = rng.choice(sorted(localstack.children(master)))
            os.kill(victim, signal.SIGKILL)
            killed.append(victim)
        wait_until(
            lambda: len(localstack.children(master)) >= workers and not any(map(localstack.alive, killed)),
            30,
            "gunicorn did not replace its killed workers",
        )
        end = now()
        phase.notes.append(f"SIGKILL to worker(s) {', '.join(map(str, killed))} of master {master}")
        return start, end

    def job_worker_killed(self, phase: Phase) -> tuple[float, float]:
        """Password resets in flight, the SMTP server holding each session at RCPT TO (a slow
        mail server), so that both job workers are in the middle of a job; one is SIGKILLed and
        replaced at once, as a supervisor would. Its job must go back to the queue once the
        lease is over, run again and mail once. The other worker's job stays held until the
        lease is over for it too: it must stay in that live worker's hand (RUNNING on it, never
        returned to the queue, which would also mean a second mail)."""
        lease = float(JOB_SETTINGS["QUILL_JOB_LEASE_SECONDS"])
        members = self.take_members(KILL_RESETS)
        direct = self.settings["DIRECT_DATABASE_URL"]
        self.mail.hold(now() + JOBS_WAIT)  # until the kill (then shortened, below)
        try:
            answered = [member for member in members if self.request_reset(phase, member[1])]
            workers = self.job_workers()
            user_ids = [user_id for user_id, _ in answered]
            deadline = now() + 15
            while True:
                running = [
                    job
                    for job in reset_jobs(direct, user_ids)
                    if job.status == "RUNNING"
                    and job.worker_ids
                    and worker_pid(job.worker_ids[-1]) in workers
                ]
                if running and self.mail.held >= min(len(answered), len(workers)):
                    break
                if now() > deadline:
                    raise SystemExit(
                        f"No reset job was in the middle of its run within 15 s ({len(answered)} requested, "
                        f"{self.mail.held} held at the SMTP server)\n{self.log_tail('worker.log')}"
                    )
                time.sleep(0.05)
            victim, others = running[0], running[1:]
            killed_id = victim.worker_ids[-1]
            pid = worker_pid(killed_id)
            start, start_wall = now(), time.time()
            os.kill(pid, signal.SIGKILL)
            wait_until(lambda: not localstack.alive(pid), 10, f"job worker {pid} did not die")
            # The sessions held now stay held (later ones go through) until the lease of the
            # other worker's job is over with a sweep or two to spare.
            other = self.mail.keep_held(start + lease + OTHER_HELD_EXTRA)
            replacement = localstack.spawn_worker(self.directory, self.settings, workers[pid])
            returned: float | None = None  # when the killed job was seen back in the queue
            replaced: float | None = None  # when the replacement first heartbeated
            taken: set[str] = set()  # the other workers' jobs seen out of their hands
            while now() < other.until or (returned is None and now() < start + lease + JOBS_WAIT):
                polled = now()
                if replaced is None and any(f"-{replacement}-" in worker for worker in live_workers(direct)):
                    replaced = polled - start
                for job in reset_jobs(direct, user_ids):
                    if (
                        job.id == victim.id
                        and returned is None
                        and (job.status != "RUNNING" or job.worker_ids[-1] != killed_id)
                    ):
                        returned = polled - start
                    held = next((o for o in others if o.id == job.id), None)
                    if (
                        held
                        and polled < other.until - 0.2
                        and (job.status != "RUNNING" or job.worker_ids != held.worker_ids)
                    ):
                        taken.add(job.id)
                time.sleep(0.1)
            held_for = other.until - start
            localstack.wait_for_workers_to_start(self.directory, self.settings, [replacement])
            end = now()
            replaced = end - start if replaced is None else replaced
            jobs, mail = self.settle_mail(phase, members, answered, deadline=start + lease + JOBS_WAIT)
        finally:
            self.mail.release()
        job = next((job for job in jobs if job.id == victim.id), victim)
        email = next(email for user_id, email in answered if user_id == victim.user_id)
        mailed = min(mail.get(email, [math.inf])) - start
        rerun = job.status == "SUCCESSFUL" and killed_id in job.worker_ids and job.worker_ids[-1] != killed_id
        claimed = job.started_at - start_wall if rerun and job.started_at is not None else None
        rerun_by = "none"
        if rerun:
            rerun_by = (
                "the replacement" if worker_pid(job.worker_ids[-1]) == replacement else "the other worker"
            )
        phase.measured.update(
            lease=lease,
            killed_job_attempts=len(job.worker_ids),
            killed_job_rerun=float(rerun),
            killed_job_returned=math.inf if returned is None else returned,
            killed_job_mailed=mailed,
            others_held=len(others),
            others_taken=len(taken),
            others_held_for=held_for,
        )
        phase.notes.append(
            f"{len(answered)} password resets requested with the SMTP server holding at RCPT TO; job worker "
            f"{pid} (worker {workers[pid]}) SIGKILLed in the middle of job {victim.id[:8]}; replacement "
            f"{replacement} heartbeating {replaced:.1f}s later"
        )
        phase.notes.append(
            f"the job: back in the queue {seconds(returned)} after the kill (lease {lease:.0f}s, heartbeat "
            f"every {JOB_SETTINGS['QUILL_JOB_HEARTBEAT_SECONDS']}s), in a worker's hand again after "
            f"{seconds(claimed)} ({rerun_by}), its mail after {seconds_or_never(mailed)}; {len(others)} "
            f"job(s) of the other worker held at the SMTP server until {held_for:.1f}s after the kill; jobs "
            "(attempts): " + ", ".join(f"{j.status}({len(j.worker_ids)})" for j in jobs)
        )
        return start, end

    def smtp_down(self, phase: Phase) -> tuple[float, float]:
        """The SMTP server stopped for --smtp-down seconds while password resets keep coming, one
        every --reset-interval from RESET_MARGIN before the outage until about as long after it."""
        cap = float(JOB_SETTINGS["QUILL_JOB_RETRY_MAX_SECONDS"])
        members = self.take_members(reset_count(self.args))
        answered: list[tuple[int, str]] = []
        asked_at: dict[str, float] = {}

        def ask() -> None:
            for member in members:
                asked_at[member[1]] = now()
                if self.request_reset(phase, member[1]):
                    answered.append(member)
                time.sleep(self.args.reset_interval)

        asker = threading.Thread(target=ask, daemon=True, name="resets")
        asker.start()
        time.sleep(RESET_MARGIN)
        start = now()
        self.mail.stop()
        time.sleep(self.args.smtp_down)
        self.mail.start()
        end = now()
        asker.join(timeout=len(members) * (self.args.reset_interval + REQUEST_TIMEOUT))
        jobs, mail = self.settle_mail(phase, members, answered, deadline=end + cap + JOBS_WAIT)
        during = sum(1 for r in phase.records if r.kind == "reset" and start <= r.start <= end)
        arrivals = [arrived for times in mail.values() for arrived in times]
        while_down = sum(1 for arrived in arrivals if start <= arrived <= end)
        # The drain: until the last mail asked for before the server was back has arrived.
        backlog = [min(mail.get(email, [math.inf])) for _, email in answered if asked_at[email] < end]
        drain = max(0.0, max(backlog, default=end) - end)
        retried = [job for job in jobs if len(job.worker_ids) > 1]
        phase.measured.update(retry_cap=cap, drain=drain, jobs_retried=len(retried))
        phase.notes.append(
            f"SMTP server stopped {end - start:.1f}s; {len(answered)} of {len(members)} reset requests "
            f"answered 302, {during} of them while it was down; {len(retried)} jobs retried (up to "
            f"{max((len(job.worker_ids) for job in jobs), default=0)} attempts); {while_down} mails arrived "
            f"while it was down; the last of the {len(backlog)} asked for before it was back arrived "
            f"{seconds_or_never(drain)} after it listened again"
        )
        return start, end

    def slow_clients(self, phase: Phase) -> tuple[float, float]:
        """/healthz measured with the slow clients open, after a baseline without them. On a
        miss it is measured again (up to --slow-attempts): a host busy with other work slows
        the baseline as much, while slow clients that held workers would stall every attempt
        for seconds."""
        start = now()
        for attempt in range(1, self.args.slow_attempts + 1):
            baseline = probe_healthz(self.proxy, 2.0)
            opened = now()
            for number in range(self.args.slow_clients):
                self._slow.append(open_slow_client(self.proxy, trickles_body=number % 2 == 0))
            stop = threading.Event()
            trickler = threading.Thread(target=trickle, args=(self._slow, stop), daemon=True)
            trickler.start()
            try:
                # Within nginx's client_header_timeout (10 s): every slow connection stays open.
                during = probe_healthz(self.proxy, self.args.slow_seconds)
                still_open = sum(map(still_waiting, self._slow))
            finally:
                stop.set()
                trickler.join()
                for client in self._slow:
                    client.close()
                self._slow.clear()
            phase.records.extend(during)
            latencies = [r.duration for r in during if r.outcome == 200]
            p99 = percentile(latencies, 99)
            failed = sum(1 for r in during if r.outcome != 200)
            slowest = sorted(during, key=lambda r: r.duration)[-3:]
            phase.notes.append(
                f"attempt {attempt}: /healthz without slow clients p99 "
                f"{milliseconds(percentile([r.duration for r in baseline if r.outcome == 200], 99))}; with "
                f"{still_open} of {self.args.slow_clients} open: {len(during)} probes, p50 "
                f"{milliseconds(percentile(latencies, 50))}, p99 {milliseconds(p99)}, slowest "
                + ", ".join(
                    f"{r.duration * 1000:.0f} ms at +{r.start - opened:.1f}s" for r in reversed(slowest)
                )
            )
            phase.measured.update(
                healthz_p99=p99,
                healthz_failed=failed,
                slow_open=still_open,
                slow_clients=self.args.slow_clients,
                attempts=attempt,
            )
            if p99 < 0.2 and not failed and still_open == self.args.slow_clients:
                break
        return start, now()

    # Report.
    def report(self, final: Check) -> bool:
        columns = ["Fault", "Requests", "Statuses", "Longest", "Recovery", "Outage", "Acked(replay)",
                   "Lost", "Dup", "Unacked", "Verdict"]  # fmt: skip
        rows = []
        for phase in self.phases:
            longest = phase.longest()
            check = phase.check
            mine = [c for c in self.creates if c.phase == phase.label and c.acked_id is not None]
            rows.append([
                FAULTS[phase.name].title, str(len(phase.records)), phase.statuses(),
                seconds(longest.duration if longest else None), seconds(phase.recovery),
                seconds(phase.outage),
                f"{len(mine)}({sum(c.replayed for c in mine)})", str(len(check.lost)),
                str(len(check.duplicates)), str(len(check.unacknowledged) + len(check.strays)),
                "PASS" if phase.ok else "FAIL",
            ])  # fmt: skip
        widths = [max(len(row[i]) for row in [columns, *rows]) for i in range(len(columns))]
        left = {0, 2}  # text columns; numbers to the right

        def line(row: list[str]) -> str:
            return "  ".join(
                cell.ljust(w) if i in left else cell.rjust(w)
                for i, (cell, w) in enumerate(zip(row, widths, strict=True))
            )

        lines = [line(columns), "-" * len(line(columns)), *map(line, rows)]
        lines.append(
            "Recovery: from the fault's end to the first 2xx after the last failure. Outage: from the first "
            "failure to then. Acked: creates started in the phase that got a 201 (replay: marked "
            "Idempotent-Replayed). Lost, Dup, Unacked: every story of the run so far, checked in Postgres."
        )
        lines.append("")
        for phase in self.phases:
            lines.append(f"{FAULTS[phase.name].title}:")
            lines.extend(f"    {note}" for note in phase.notes)
            longest = phase.longest()
            if longest is not None:
                lines.append(
                    f"    longest request: {longest.kind} -> {longest.outcome} in {longest.duration:.2f}s"
                )
            lines.extend(f"    [{'ok' if t.ok else 'MISSED'}] {t.text}" for t in phase.targets)
        lines.append("")
        lines.append(
            f"End of the run: {final.acknowledged} acknowledged creates ({final.replayed} idempotent "
            f"replays), {final.unresolved} never acknowledged; lost {len(final.lost)}, wrong tags "
            f"{len(final.wrong_tags)}, duplicates {len(final.duplicates)}, unacknowledged in the database "
            f"{len(final.unacknowledged) + len(final.strays)}"
            + (f"; CHECK FAILED: {final.error}" if final.error else "")
        )
        for label, keys in (
            ("lost", final.lost),
            ("wrong tags", final.wrong_tags),
            ("duplicated", final.duplicates),
            ("unacknowledged", final.unacknowledged + final.strays),
        ):
            if keys:
                lines.append(f"    {label}: {', '.join(keys[:10])}{' ...' if len(keys) > 10 else ''}")
        missed = [f"{FAULTS[p.name].title}: {t.text}" for p in self.phases for t in p.targets if not t.ok]
        if not final.ok:
            missed.append("end of the run: the database check failed")
        lines.append("All targets met." if not missed else "Targets missed:\n    " + "\n    ".join(missed))
        print("\n".join(lines), flush=True)
        return not missed


FAULTS: dict[str, Fault] = {
    "pgbouncer": Fault("PgBouncer SIGKILL+restart", Chaos.pgbouncer_killed, judge_database_down),
    "postgres": Fault("Postgres fast restart", Chaos.postgres_restarted, judge_postgres),
    "redis": Fault("Redis SIGKILL+restart", Chaos.redis_killed, judge_redis),
    "graceful": Fault("gunicorn restart-web", Chaos.gunicorn_replaced, judge_graceful),
    "sigterm": Fault("gunicorn SIGTERM+new master", Chaos.gunicorn_terminated, judge_nothing),
    "worker": Fault("gunicorn worker SIGKILL", Chaos.worker_killed, judge_nothing),
    "slow": Fault("slow clients", Chaos.slow_clients, judge_slow_clients),
    "jobworker": Fault("job worker SIGKILL mid-job", Chaos.job_worker_killed, judge_job_worker_killed),
    "smtp": Fault("SMTP down", Chaos.smtp_down, judge_smtp_down),
}
SHORT = ("pgbouncer", "worker", "jobworker", "smtp")


def reset_count(args: argparse.Namespace) -> int:
    """Reset requests during the SMTP fault: from RESET_MARGIN before the outage to as long after."""
    return math.ceil((args.smtp_down + 2 * RESET_MARGIN) / args.reset_interval) + 1


def probe_healthz(address: tuple[str, int], seconds: float) -> list[Record]:
    """GET /healthz through the proxy, one after another, for `seconds`. From a process of its
    own: the load's threads in this one would add their own waits to what is measured."""
    result = subprocess.run(
        [sys.executable, __file__, "--probe", f"{address[0]}:{address[1]}", "--probe-seconds", str(seconds)],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
    )
    if result.returncode != 0:
        raise SystemExit(f"The /healthz probe failed:\n{result.stderr}")
    return [
        Record("healthz", start, duration, outcome) for start, duration, outcome in json.loads(result.stdout)
    ]


def probe_main(target: str, seconds: float) -> int:
    host, port = target.rsplit(":", 1)
    samples = []
    deadline = now() + seconds
    while now() < deadline:
        started = now()  # CLOCK_MONOTONIC: the same clock in every process
        try:
            outcome: Outcome = http_request((host, int(port)), "GET", "/healthz", timeout=5)[0]
        except (OSError, http.client.HTTPException) as error:
            outcome = failure_kind(error)
        samples.append((started, now() - started, outcome))
        time.sleep(0.02)
    print(json.dumps(samples))
    return 0


def secret_suffix() -> str:
    return os.urandom(8).hex()


def wait_until(condition: Callable[[], bool], timeout: float, failure: str) -> None:
    deadline = now() + timeout
    while not condition():
        if now() > deadline:
            raise SystemExit(failure)
        time.sleep(0.05)


def trickle(clients: list[socket.socket], stop: threading.Event) -> None:
    """One more byte from every slow client each second."""
    while not stop.wait(1):
        for client in clients:
            with contextlib.suppress(OSError):  # dropped by the proxy: counted by still_waiting
                client.send(b" ")


def still_waiting(client: socket.socket) -> bool:
    """Whether the proxy still holds this slow connection open, unanswered: nothing to read
    (an answer, the end of the connection or an error would be)."""
    try:
        readable, _, _ = select.select([client], [], [], 0)
    except (OSError, ValueError):  # closed here
        return False
    return not readable


def open_slow_client(address: tuple[str, int], *, trickles_body: bool) -> socket.socket:
    """A sign-in that arrives one byte a second: its body, or the rest of its head."""
    client = socket.create_connection(address, timeout=5)
    head = f"POST {SIGN_IN} HTTP/1.1\r\nHost: {address[0]}:{address[1]}\r\nContent-Type: application/json\r\n"
    if trickles_body:
        client.sendall(f"{head}Content-Length: 1000\r\n\r\n{{".encode())
    else:
        client.sendall(f"{head}X-Slow: ".encode())
    return client


def stack_environment(smtp_port: int) -> None:
    """The stack serves with the production settings, whatever the caller runs with, but for
    the job settings of the job faults (JOB_SETTINGS) and its mail, sent to this run's server."""
    for key in STACK_KEYS:
        os.environ.pop(key, None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "blog_project.settings"
    os.environ.update(JOB_SETTINGS)
    # A session held up (the job-worker fault) waits longer than the default 10 s.
    os.environ["EMAIL_URL"] = f"smtp://127.0.0.1:{smtp_port}?timeout={EMAIL_TIMEOUT_SECONDS}"
    os.environ.setdefault("WEB_CONCURRENCY", "3")
    os.environ.setdefault("JWT_ACCESS_MINUTES", "60")  # outlives the run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--short", action="store_true", help=f"only {', '.join(SHORT)}, shorter periods")
    parser.add_argument("--faults", help=f"comma-separated, in order (default: all): {', '.join(FAULTS)}")
    parser.add_argument("--threads", type=int, default=6, help="load clients (default 6)")
    parser.add_argument("--think", type=float, default=0.1, help="pause between a client's requests (s)")
    parser.add_argument("--steady", type=float, help="steady load before and after each fault (s)")
    parser.add_argument("--down", type=float, help="how long PgBouncer and Redis stay down (s)")
    parser.add_argument("--worker-kills", type=int, help="gunicorn workers SIGKILLed, one a second")
    parser.add_argument("--smtp-down", type=float, default=10.0, help="how long SMTP stays down (s)")
    parser.add_argument(
        "--reset-interval", type=float, default=0.5, help="between password resets while SMTP is down (s)"
    )
    parser.add_argument("--slow-clients", type=int, default=64)
    parser.add_argument("--slow-seconds", type=float, default=7.0, help="/healthz measured this long")
    parser.add_argument(
        "--slow-attempts", type=int, default=3, help="measurements, until one meets the target"
    )
    parser.add_argument(
        "--abandon", type=float, default=0.1, help="share of creates first sent and hung up on (default 0.1)"
    )
    parser.add_argument("--probe", help=argparse.SUPPRESS)  # internal: the /healthz probe's process
    parser.add_argument("--probe-seconds", type=float, default=1.0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.probe:
        return probe_main(args.probe, args.probe_seconds)
    names = args.faults.split(",") if args.faults else list(SHORT if args.short else FAULTS)
    unknown = [name for name in names if name not in FAULTS]
    if unknown:
        parser.error(f"unknown fault(s): {', '.join(unknown)}; choose from {', '.join(FAULTS)}")
    args.steady = args.steady if args.steady is not None else (2.0 if args.short else 3.0)
    args.down = args.down if args.down is not None else (2.0 if args.short else 3.0)
    args.worker_kills = args.worker_kills if args.worker_kills is not None else (2 if args.short else 3)
    if not 1 <= args.threads <= 16:
        parser.error("--threads: 1 to 16")

    if not 0 < args.reset_interval <= args.smtp_down:
        parser.error("--reset-interval: above 0, at most --smtp-down")

    mail = MailSink()  # before the stack: its workers send here
    stack_environment(mail.port)
    # SIGTERM (a test's timeout, a CI job cancelled) stops the stack too: see the finally below.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    started = now()
    # Not /tmp's mkdtemp mode alone: `up` opens the folder to the postgres user.
    directory = Path(tempfile.mkdtemp(prefix="quill-chaos-"))
    os.environ["MEDIA_ROOT"] = str(directory / "media")  # the stack's own, removed with it
    chaos = Chaos(directory, args, mail)
    try:
        mail.start()
        chaos.up()
        chaos.sign_up()
        chaos.warm_up()
        chaos.sign_up_members(
            KILL_RESETS * names.count("jobworker") + reset_count(args) * names.count("smtp")
        )
        print(f"Stack up in {now() - started:.1f}s; faults: {', '.join(names)}", flush=True)
        for name in names:
            phase = chaos.run_phase(name)
            print(
                f"  {FAULTS[name].title}: {'PASS' if phase.ok else 'FAIL'} ({now() - started:.0f}s)",
                flush=True,
            )
        final = verify(
            chaos.settings["DIRECT_DATABASE_URL"], chaos.author_id, chaos.creates, chaos.title_prefix
        )
        print()
        ok = chaos.report(final)
    except KeyboardInterrupt:
        return 130
    finally:
        chaos.down()
        mail.stop()
        shutil.rmtree(directory, ignore_errors=True)
    print(f"Chaos run took {now() - started:.0f}s.")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
