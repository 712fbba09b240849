"""Real `manage.py worker` processes on the test database: two at once on a batch (each job
claimed and run once), killed mid-job (another worker runs the job again, its effect happens
once), stopped by SIGTERM (the job in hand finishes) and stopped by a second signal (the job in
hand goes back to the queue)."""

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from urllib.parse import quote

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import connection, transaction
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from jobs.models import Worker
from jobs.tests.sample_jobs import mark_once, slow

pytestmark = [pytest.mark.system, pytest.mark.django_db(transaction=True)]

LEASE_SECONDS = 3


@pytest.fixture
def start_worker(tmp_path) -> Iterator[Callable[[], subprocess.Popen[str]]]:
    if connection.vendor != "postgresql":
        pytest.skip("worker processes need a database they can share with the tests (Postgres)")
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{quote(db['USER'])}:{quote(db['PASSWORD'])}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "QUILL_JOB_HEARTBEAT_SECONDS": "1",
        "QUILL_JOB_LEASE_SECONDS": str(LEASE_SECONDS),
        "QUILL_JOB_POLL_SECONDS": "0.1",
    }
    started: list[subprocess.Popen[str]] = []

    def start() -> subprocess.Popen[str]:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "worker", "--no-startup-delay"],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=10)


def wait_for(condition: Callable[[], bool], *, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"waited {seconds} s for {what}")
        time.sleep(0.1)


def marked(key: str) -> int:
    return Session.objects.filter(session_key=key).count()


def status(result) -> str:
    return DBTaskResult.objects.get(id=result.id).status


def test_two_workers_on_one_batch_run_each_job_once(start_worker):
    start_worker(), start_worker()
    wait_for(lambda: Worker.objects.count() == 2, seconds=30, what="both workers to start")
    with transaction.atomic():  # the whole batch appears at once, as in `make bench`
        ids = [mark_once.enqueue(key=f"batch-{n}").id for n in range(200)]

    ended = [TaskResultStatus.SUCCESSFUL, TaskResultStatus.FAILED]
    wait_for(
        lambda: DBTaskResult.objects.filter(status__in=ended).count() == len(ids),
        seconds=60,
        what="the batch to end",
    )
    jobs = list(DBTaskResult.objects.filter(id__in=ids))
    # A job run twice would have failed its second run (mark_once: a plain INSERT, one attempt).
    assert all(job.status == TaskResultStatus.SUCCESSFUL and len(job.worker_ids) == 1 for job in jobs)
    assert Session.objects.filter(session_key__startswith="batch-").count() == len(ids)
    assert len({job.worker_ids[0] for job in jobs}) == 2  # both took their share


def test_a_job_whose_worker_is_killed_runs_again_on_another_with_its_effect_once(start_worker):
    result = slow.enqueue(key="killed", seconds=2)
    first = start_worker()
    wait_for(lambda: marked("killed-started") == 1, seconds=30, what="the first worker to start the job")

    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    assert status(result) == TaskResultStatus.RUNNING  # and nobody left to finish it
    start_worker()
    wait_for(
        lambda: status(result) == TaskResultStatus.SUCCESSFUL,
        seconds=LEASE_SECONDS + 20,
        what="another worker to run the job again",
    )

    job = DBTaskResult.objects.get(id=result.id)
    assert len(job.worker_ids) == 2 and job.worker_ids[0] != job.worker_ids[1]
    assert marked("killed-started") == 1 and marked("killed-done") == 1


def test_sigterm_lets_the_job_in_hand_finish_then_the_worker_exits(start_worker):
    result = slow.enqueue(key="key-7QXb", seconds=2)
    worker = start_worker()
    wait_for(lambda: marked("key-7QXb-started") == 1, seconds=30, what="the worker to start the job")

    worker.send_signal(signal.SIGTERM)
    output, _ = worker.communicate(timeout=20)

    assert worker.returncode == 0, output
    assert status(result) == TaskResultStatus.SUCCESSFUL and marked("key-7QXb-done") == 1
    # One JSON line for the job, without its arguments.
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    [line] = [
        entry for entry in lines if entry.get("logger") == "quill.jobs" and entry.get("job_id") == result.id
    ]
    assert line["job"] == "slow" and line["outcome"] == "succeeded" and line["attempt"] == 1
    assert line["duration_ms"] >= 1500
    assert "7QXb" not in output


def test_a_second_signal_puts_the_job_in_hand_back_in_the_queue(start_worker):
    result = slow.enqueue(key="aborted", seconds=30)
    worker = start_worker()
    wait_for(lambda: marked("aborted-started") == 1, seconds=30, what="the worker to start the job")

    worker.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    worker.send_signal(signal.SIGTERM)
    output, _ = worker.communicate(timeout=20)

    assert worker.returncode == 1, output
    assert status(result) == TaskResultStatus.READY and marked("aborted-done") == 0
    assert DBTaskResult.objects.ready().filter(id=result.id).exists()  # at once, not after a retry's wait
