"""Quill's worker: django-tasks-db's Worker with its own loop, which on Postgres claims a job in
one statement (jobs.services.claim_next; elsewhere, as on `make run`'s SQLite, the library's
own claim), plus retries with backoff, a heartbeat that lets other workers recover the jobs of
a dead one, one JSON log line per job, and a second signal that hands the job back to the queue."""

import contextlib
import logging
import os
import random
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from types import FrameType
from typing import Any

from django.db import DatabaseError, OperationalError, close_old_connections, connection, connections
from django.utils import timezone
from django.utils.crypto import get_random_string
from django_tasks import TaskResultStatus
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult, DBTaskResultQuerySet
from django_tasks_db.utils import exclusive_transaction, is_locked_database_exception

from jobs.base import max_attempts, retry_delay
from jobs.services import ClaimStatement, beat, recover_lost_jobs, release_worker, requeue

logger = logging.getLogger("quill.jobs")
library_logger = logging.getLogger("django_tasks_db")  # the library's worker lines, kept

_SHUTDOWN_SIGNALS = {signal.SIGINT, signal.SIGTERM}
# While the database is unreachable, a worker tries it again this often.
OUTAGE_RETRY_SECONDS = 1
# Django's check of the worker's connections (close_old_connections: their age, their health
# with a SELECT 1 before the next query) runs after each wait on an empty queue, after a job
# whose connection saw an error, and, while jobs keep coming, at most this often.
CONNECTION_CHECK_SECONDS = 1.0


def new_worker_id() -> str:
    """Says where a job ran (the admin shows it): host, process and a random part, as
    django-tasks-db's worker ids must be unique and at most 64 characters."""
    return f"{socket.gethostname()[:40]}-{os.getpid()}-{get_random_string(8)}"[:64]


class Heartbeat:
    """A thread that records every `every` seconds that this worker lives, and returns the
    jobs of workers not seen for `lease` to the queue. A thread, so a long job does not stop
    the beats (the lease would otherwise expire under it)."""

    def __init__(self, *, worker_id: str, every: float, lease: timedelta) -> None:
        self.worker_id, self.every, self.lease = worker_id, every, lease
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)

    def start(self) -> None:
        # Started with the shutdown signals blocked, which the thread keeps: they then reach
        # only the main thread, so that signals_held() there really holds them.
        with signals_held():
            self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=self.every + 5)

    def _run(self) -> None:
        try:
            while not self._stopped.wait(self.every):
                try:
                    close_old_connections()
                    beat(worker_id=self.worker_id)
                    if recovered := recover_lost_jobs(lease=self.lease):
                        logger.warning("Returned %d job(s) of lost workers to the queue", recovered)
                except DatabaseError:
                    # A missed beat or two is what the lease is for; the next one tries again.
                    logger.warning("Heartbeat failed", exc_info=True)
        finally:
            connection.close()  # this thread's own connection


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """SIGINT and SIGTERM wait until the block ends (they are then handled as usual). For the
    main thread: a thread started inside the block keeps them blocked for good, so that they
    never reach it (the kernel would hand a signal the main thread holds to another thread, and
    Python would run its handler in the main thread at once)."""
    signal.pthread_sigmask(signal.SIG_BLOCK, _SHUTDOWN_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _SHUTDOWN_SIGNALS)


class QuillWorker(Worker):
    def __init__(self, *, heartbeat_seconds: float, lease: timedelta, **options: Any) -> None:
        super().__init__(**options)
        self.aborted = False  # a second signal ended the job in hand
        self._claim_statement: ClaimStatement | None = None  # Postgres's, made at the first claim
        self._heartbeat = Heartbeat(worker_id=self.worker_id, every=heartbeat_seconds, lease=lease)

    def shutdown(self, signum: int, frame: FrameType | None) -> None:
        # The first signal lets the job in hand finish; on a second, Worker.shutdown raises
        # SystemExit inside the job, which run_task below then puts back in the queue.
        if not self.running:
            self.aborted = True
        super().shutdown(signum, frame)

    def run(self) -> None:
        # Seen before the first claim, so no sweep takes this worker's first job for a lost one.
        self._while_database_is_down(lambda: beat(worker_id=self.worker_id))
        self._heartbeat.start()
        try:
            while True:
                try:
                    self.work()
                    return
                except DatabaseError:
                    # PgBouncer or Postgres went away: wait for it rather than die (a job cut off
                    # mid-run goes back to the queue), as the web answers 503 and carries on.
                    logger.warning("The database is unavailable: jobs wait until it is back", exc_info=True)
                    self._while_database_is_down(lambda: release_worker(worker_id=self.worker_id))
                    self._while_database_is_down(lambda: beat(worker_id=self.worker_id))
        finally:
            self._heartbeat.stop()
            with contextlib.suppress(DatabaseError):
                release_worker(worker_id=self.worker_id)

    def _while_database_is_down(self, step: Callable[[], None]) -> None:
        """Runs `step` once the database answers, trying every OUTAGE_RETRY_SECONDS meanwhile."""
        while True:
            try:
                close_old_connections()
                step()
                return
            except DatabaseError:
                connection.close()
                if not self.running:
                    raise
                time.sleep(OUTAGE_RETRY_SECONDS)

    def work(self) -> None:
        """django-tasks-db's Worker.run (its batch, max_tasks and signal semantics) with Quill's
        claim, and Django's connection checks only when they can matter (CONNECTION_CHECK_SECONDS)
        rather than twice a job: the connection is checked when run() starts or recovers, and a
        query on a broken one raises DatabaseError, which run() waits out."""
        library_logger.info(
            "Starting worker worker_id=%s queues=%s", self.worker_id, ",".join(self.queue_names)
        )
        if self.startup_delay and self.interval:
            time.sleep(random.random())  # spreads workers started together
        checked = time.monotonic()
        while self.running:
            read, job = self.claim()
            if job is not None:
                self.run_task(job)
                if (
                    any(conn.errors_occurred for conn in connections.all(initialized_only=True))
                    or time.monotonic() - checked >= CONNECTION_CHECK_SECONDS
                ):
                    close_old_connections()
                    checked = time.monotonic()
            elif self.batch and read:
                library_logger.info(
                    "No more tasks to run for worker_id=%s - exiting gracefully.", self.worker_id
                )
                return
            if self.max_tasks is not None and self._run_tasks >= self.max_tasks:
                library_logger.info(
                    "Run maximum tasks (%d) on worker=%s - exiting gracefully.",
                    self._run_tasks,
                    self.worker_id,
                )
                return
            # After a second signal interrupted a job, self.running is False: no wait, the loop ends.
            if self.running and job is None:
                time.sleep(self.interval)
                close_old_connections()
                checked = time.monotonic()

    def ready(self) -> DBTaskResultQuerySet:
        """The jobs this worker may run now, as django-tasks-db's worker selects them."""
        ready = DBTaskResult.objects.ready().filter(backend_name=self.backend_name)
        if not self.process_all_queues:
            ready = ready.filter(queue_name__in=self.queue_names)
        if self.excluded_queue_names:
            ready = ready.exclude(queue_name__in=self.excluded_queue_names)
        return ready

    def claim(self) -> tuple[bool, DBTaskResult | None]:
        """The next ready job of this worker's queues, claimed (RUNNING, this worker's id added):
        (whether the queue could be read, the job or None). A signal that comes meanwhile waits
        until the job is in hand, so that it counts as the job in hand (SIGTERM lets it finish)."""
        with signals_held():
            if self._claim_statement is None and connections[DBTaskResult.objects.db].vendor == "postgresql":
                self._claim_statement = ClaimStatement(self.ready)
            if self._claim_statement is not None:
                job = self._claim_statement.run(worker_id=self.worker_id)
            else:
                # django-tasks-db's own claim (an exclusive transaction on SQLite), as in its loop.
                ready = self.ready()
                with exclusive_transaction(ready.db):
                    try:
                        job = ready.get_locked()
                        if job is not None:
                            job.claim(self.worker_id)
                    except OperationalError as error:
                        if not is_locked_database_exception(error):
                            raise
                        return False, None  # it unlocks soon: the next look may find the job
            if job is not None:
                self.running_task = True
        return True, job

    def run_task(self, db_task_result: DBTaskResult) -> None:
        started = time.monotonic()
        super().run_task(db_task_result)  # records SUCCESSFUL or FAILED with the error
        # A signal now would stop the worker between recording a failure and its retry.
        with signals_held():
            self._settle(db_task_result, duration_ms=round((time.monotonic() - started) * 1000))

    def _settle(self, job: DBTaskResult, *, duration_ms: int) -> None:
        attempt = len(job.worker_ids)
        extra: dict[str, Any] = {}
        if job.status == TaskResultStatus.SUCCESSFUL:
            outcome, level = "succeeded", logging.INFO
        elif self.aborted:
            requeue(job=job)
            outcome, level = "interrupted", logging.WARNING
        elif attempt < max_attempts(job.task_path):
            delay = retry_delay(failures=attempt)
            requeue(job=job, run_after=timezone.now() + delay)
            outcome, level = "retrying", logging.WARNING
            extra["retry_in_ms"] = round(delay.total_seconds() * 1000)
        else:
            outcome, level = "failed", logging.ERROR
            extra["traceback"] = job.traceback
        if job.exception_class_path:
            extra["error"] = job.exception_class_path
        # Never the job's arguments: they may name people or hold what should not be logged.
        logger.log(
            level,
            "Job %s %s",
            job.task_name,
            outcome,
            extra={
                "job": job.task_name,
                "job_id": str(job.id),
                "attempt": attempt,
                "outcome": outcome,
                "duration_ms": duration_ms,
                **extra,
            },
        )
