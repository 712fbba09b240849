"""For tests: run the ready jobs in the test's own process and transaction."""

from datetime import timedelta
from unittest import mock

from jobs.worker import QuillWorker


def run_ready_jobs(*, max_tasks: int | None = None) -> None:
    """Runs the jobs that are ready now (and their retries that fall due meanwhile), as
    `manage.py worker --batch` would, with its retries and log lines, then returns.

    Works inside a test's transaction: the worker's connection checks are left out (they would
    close the test's connection), and so are its heartbeat thread and sweep (another connection,
    which could not see the test's uncommitted rows)."""
    worker = QuillWorker(
        queue_names=["*"],
        excluded_queue_names=[],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=max_tasks,
        worker_id="test-worker",
        heartbeat_seconds=60,
        lease=timedelta(minutes=5),
    )
    with mock.patch("jobs.worker.close_old_connections"):
        worker.work()
