"""The worker's claim on Postgres (jobs.services.claim_next and the worker's ClaimStatement, one
UPDATE ... RETURNING through PgBouncer in transaction mode): the job django-tasks-db's own claim
would take, claimed by one worker only however many claim at once, and run once; a signal
during the claim waits until the job is in hand; and what a job enqueued through Job.enqueue
writes, the library's own row."""

import os
import re
import signal
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tasks import TaskResultStatus, task_backends
from django_tasks.signals import task_enqueued
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.models import DBTaskResult

from jobs.services import ClaimStatement, claim_next
from jobs.testing import run_ready_jobs
from jobs.tests import sample_jobs
from jobs.tests.sample_jobs import noop, record
from jobs.worker import Heartbeat, QuillWorker, signals_held

JOB_TABLE = DBTaskResult._meta.db_table


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("the one-statement claim is Postgres's (elsewhere the worker uses the library's)")
    sample_jobs.runs.clear()


def ready(queues: tuple[str, ...] = ("default",)):
    """The worker's own selection (QuillWorker.claim), made anew: ready() reads the clock."""
    return DBTaskResult.objects.ready().filter(backend_name="default", queue_name__in=queues)


def fields(job: DBTaskResult) -> dict:
    return {field.attname: getattr(job, field.attname) for field in DBTaskResult._meta.concrete_fields}


def test_the_tests_reach_postgres_through_pgbouncer_in_transaction_mode():
    admin = os.environ.get("PGBOUNCER_ADMIN_URL")
    if not admin:
        pytest.skip("TEST_DATABASE_URL: not the stack's PgBouncer")
    assert str(connection.settings_dict["PORT"]) == str(urlsplit(admin).port)
    with psycopg.connect(admin, autocommit=True) as console:
        config = {row[0]: row[1] for row in console.execute("SHOW CONFIG").fetchall()}
    assert config["pool_mode"] == "transaction"


@pytest.mark.django_db
@pytest.mark.parametrize("claim", ["claim_next", "statement"])
def test_the_claim_takes_jobs_in_the_order_of_django_tasks_dbs_own_claim(claim):
    statement = ClaimStatement(ready)
    assert statement.reused  # compiled once, the clock set at each claim

    def claim_one(*, worker_id):
        return (
            claim_next(ready(), worker_id=worker_id)
            if claim == "claim_next"
            else statement.run(worker_id=worker_id)
        )

    now = timezone.now()
    record.using(priority=-10).enqueue(key="low")
    record.enqueue(key="first")
    record.using(priority=10).enqueue(key="high")
    record.using(run_after=now - timedelta(minutes=1)).enqueue(key="due")
    record.enqueue(key="second")
    record.using(run_after=now + timedelta(hours=1)).enqueue(key="later")  # not yet
    changes: list[tuple[str, dict[str, Any]]] = [
        ("queue", {"queue_name": "other"}),
        ("backend", {"backend_name": "other"}),
        ("running", {"status": TaskResultStatus.RUNNING}),
        ("done", {"status": TaskResultStatus.SUCCESSFUL}),
    ]
    for key, change in changes:
        DBTaskResult.objects.filter(id=record.enqueue(key=key).id).update(**change)

    order = []
    while True:
        with transaction.atomic():
            expected = ready().get_locked()  # the library's pick, at this point
        claimed = claim_one(worker_id="w")
        assert (claimed and claimed.id) == (expected and expected.id)
        if claimed is None:
            break
        order.append(claimed.args_kwargs["kwargs"]["key"])
    assert order == ["high", "due", "first", "second", "low"]
    other_queue = claim_next(ready(("default", "other")), worker_id="w")
    assert other_queue is not None and other_queue.args_kwargs["kwargs"]["key"] == "queue"


@pytest.mark.django_db
def test_the_claim_writes_what_the_librarys_claim_writes_and_returns_the_row_as_stored():
    result = record.enqueue(key="again")
    DBTaskResult.objects.filter(id=result.id).update(worker_ids=["earlier"])  # a retry
    before = timezone.now()

    with CaptureQueriesContext(connection) as queries:
        job = claim_next(ready(), worker_id="me")

    [query] = queries.captured_queries  # one statement: no BEGIN, no SAVEPOINT
    assert query["sql"].startswith(f'UPDATE "{JOB_TABLE}"'), query["sql"]
    assert "FOR UPDATE SKIP LOCKED" in query["sql"] and "RETURNING" in query["sql"]
    assert job is not None and not job._state.adding
    assert job.status == TaskResultStatus.RUNNING and job.worker_ids == ["earlier", "me"]
    assert before <= job.started_at <= timezone.now()
    assert fields(job) == fields(DBTaskResult.objects.get(id=result.id))
    assert job.args_kwargs == {"args": [], "kwargs": {"key": "again"}}  # JSON read as the ORM reads it
    assert job.task_result.task == record and job.task_result.attempts == 2


@pytest.mark.django_db
def test_the_compiled_statement_reads_the_clock_at_each_claim():
    statement = ClaimStatement(ready)
    result = record.using(run_after=timezone.now() + timedelta(seconds=0.5)).enqueue(key="soon")
    assert statement.run(worker_id="w") is None  # not yet due
    time.sleep(0.6)
    job = statement.run(worker_id="w")
    assert job is not None and str(job.id) == result.id


@pytest.mark.django_db
def test_a_selection_that_compiles_otherwise_each_time_is_compiled_for_each_claim():
    # Two clocks in the selection (as another version of the library might have): no reuse.
    statement = ClaimStatement(lambda: ready().filter(enqueued_at__lte=timezone.now()))
    assert not statement.reused
    result = record.enqueue(key="late")  # enqueued after the statement was made
    job = statement.run(worker_id="w")
    assert job is not None and str(job.id) == result.id
    assert statement.run(worker_id="w") is None


@pytest.mark.django_db
def test_a_job_costs_the_worker_two_statements_its_claim_and_its_result():
    results = [noop.enqueue() for _ in range(3)]
    with CaptureQueriesContext(connection) as queries:
        run_ready_jobs()

    statements = [query["sql"].split(" ", 1)[0] for query in queries.captured_queries]
    assert statements == ["UPDATE"] * 7, statements  # 3 × (claim, result) and the last empty claim
    assert all(
        DBTaskResult.objects.get(id=result.id).status == TaskResultStatus.SUCCESSFUL for result in results
    )


@pytest.mark.django_db(transaction=True)
def test_a_job_locked_by_another_claim_is_skipped_not_waited_for():
    first, second = record.enqueue(key="first"), record.enqueue(key="second")
    claimed: list[DBTaskResult | None] = []

    def other_worker() -> None:
        try:
            claimed.append(claim_next(ready(), worker_id="other"))
        finally:
            connection.close()

    with transaction.atomic():
        [held] = DBTaskResult.objects.filter(id=first.id).select_for_update()  # a claim in flight
        thread = threading.Thread(target=other_worker)
        thread.start()
        thread.join(timeout=10)
        assert not thread.is_alive()  # not blocked by the lock
    assert str(held.id) == first.id
    [job] = claimed
    assert job is not None and str(job.id) == second.id
    assert DBTaskResult.objects.get(id=first.id).status == TaskResultStatus.READY


@pytest.mark.django_db(transaction=True)
def test_workers_claiming_at_once_never_claim_the_same_job():
    ids = {record.enqueue(key=f"job-{n}").id for n in range(150)}
    workers = 4
    claims: list[list[str]] = [[] for _ in range(workers)]
    errors: list[BaseException] = []
    start = threading.Barrier(workers)

    def worker(number: int) -> None:
        try:
            statement = ClaimStatement(ready)  # as each worker makes its own
            start.wait(timeout=10)
            while (job := statement.run(worker_id=f"w{number}")) is not None:
                claims[number].append(str(job.id))
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(number,)) for number in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not errors, errors
    every = [job_id for claimed in claims for job_id in claimed]
    assert len(every) == len(set(every)) == len(ids) and set(every) == {str(job_id) for job_id in ids}
    assert sum(bool(claimed) for claimed in claims) >= 2, [len(claimed) for claimed in claims]
    for number, claimed in enumerate(claims):
        for job in DBTaskResult.objects.filter(id__in=claimed):
            assert job.status == TaskResultStatus.RUNNING and job.worker_ids == [f"w{number}"]


@pytest.mark.django_db
def test_a_signal_during_the_claim_lets_the_claimed_job_run_then_the_worker_stops(monkeypatch):
    result = record.enqueue(key="signalled")
    record.enqueue(key="next")  # left for later: the worker stops after the job in hand
    worker = QuillWorker(
        queue_names=["*"],
        excluded_queue_names=[],
        interval=0,
        batch=False,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test-worker",
        heartbeat_seconds=60,
        lease=timedelta(minutes=5),
    )

    run = ClaimStatement.run

    def claim_then_sigterm(statement: ClaimStatement, *, worker_id: str) -> DBTaskResult | None:
        job = run(statement, worker_id=worker_id)
        # To the main thread (this one), which holds it until the claim ends.
        signal.pthread_kill(threading.get_ident(), signal.SIGTERM)
        return job

    monkeypatch.setattr(ClaimStatement, "run", claim_then_sigterm)
    monkeypatch.setattr("jobs.worker.close_old_connections", lambda: None)  # the test's transaction
    previous = signal.signal(signal.SIGTERM, worker.shutdown)
    try:
        worker.work()  # returns: the signal ended the loop, not the process
    finally:
        signal.signal(signal.SIGTERM, previous)

    assert not worker.running and not worker.aborted
    assert DBTaskResult.objects.get(id=result.id).status == TaskResultStatus.SUCCESSFUL
    assert sample_jobs.runs == {"signalled": 1}


def blocked_signals(thread: threading.Thread) -> set[int]:
    status = Path(f"/proc/self/task/{thread.native_id}/status").read_text()
    mask = int(re.search(r"^SigBlk:\s*([0-9a-f]+)$", status, re.MULTILINE)[1], 16)  # type: ignore[index]
    return {number for number in range(1, 65) if mask & (1 << (number - 1))}


def test_the_heartbeat_thread_never_takes_the_shutdown_signals():
    if not Path("/proc/self/task").is_dir():
        pytest.skip("reads the threads' signal masks in /proc")
    heartbeat = Heartbeat(worker_id="test-worker", every=3600, lease=timedelta(minutes=5))
    heartbeat.start()
    try:
        # Else the kernel may hand it a SIGTERM that the main thread holds (signals_held), and
        # Python would run the handler in the main thread at once, in the middle of a claim.
        assert {signal.SIGTERM, signal.SIGINT} <= blocked_signals(heartbeat._thread)
        assert {signal.SIGTERM, signal.SIGINT}.isdisjoint(blocked_signals(threading.main_thread()))
    finally:
        heartbeat.stop()
    with signals_held():
        assert signal.SIGTERM in blocked_signals(threading.main_thread())
    assert signal.SIGTERM not in blocked_signals(threading.main_thread())


@pytest.mark.django_db
def test_job_enqueue_writes_the_librarys_row_and_sends_the_librarys_signal():
    backend = task_backends["default"]
    assert isinstance(backend, DatabaseBackend)
    sent = []

    def receiver(sender, task_result, **kwargs):
        sent.append((sender, task_result))

    task_enqueued.connect(receiver)
    try:
        ours = record.using(priority=5).enqueue(key="same")
        theirs = DatabaseBackend.enqueue(backend, record.using(priority=5), (), {"key": "same"})
    finally:
        task_enqueued.disconnect(receiver)

    assert [task_result for _, task_result in sent] == [ours, theirs]
    assert {sender for sender, _ in sent} == {DatabaseBackend}
    mine, library = (fields(DBTaskResult.objects.get(id=result.id)) for result in (ours, theirs))
    for differs in ("id", "enqueued_at"):
        del mine[differs], library[differs]
    assert mine == library
    for attribute in ("task", "status", "args", "kwargs", "backend", "errors", "worker_ids", "started_at"):
        assert getattr(ours, attribute) == getattr(theirs, attribute), attribute
    assert ours.enqueued_at == ours.db_result.enqueued_at == DBTaskResult.objects.get(id=ours.id).enqueued_at
    assert ours.task == DBTaskResult.objects.get(id=ours.id).task  # the task the worker will run
    assert not ours.is_finished and ours.attempts == 0
