"""The one way apps declare a job: `@job(...)`, a django-tasks Task that knows its attempts."""

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.utils.module_loading import import_string
from django_tasks.base import DEFAULT_TASK_PRIORITY, Task, TaskResult
from typing_extensions import ParamSpec

P = ParamSpec("P")
T = TypeVar("T")

# A retry waits base · 2^(failures - 1) seconds; past this many doublings the cap has long won.
_MAX_DOUBLINGS = 30


@dataclass(frozen=True, slots=True, kw_only=True)
class Job(Task[P, T]):
    """A django-tasks Task with a limit on how many times the worker runs it."""

    attempts: int | None = None
    """Runs at most this many times (None: settings.QUILL_JOB_ATTEMPTS, read when it runs)."""

    @property
    def max_attempts(self) -> int:
        return self.attempts or settings.QUILL_JOB_ATTEMPTS

    def enqueue(self, *args: P.args, **kwargs: P.kwargs) -> TaskResult[T]:
        """Task.enqueue; on django-tasks-db's backend, through jobs.services.enqueue: the same
        row and signal for less of the caller's time (a request's, often)."""
        from django_tasks_db.backend import DatabaseBackend

        from jobs import services  # models: not importable while the apps load this module

        backend = self.get_backend()
        if isinstance(backend, DatabaseBackend):
            return services.enqueue(self, backend, args, kwargs)
        return super().enqueue(*args, **kwargs)


def job(
    *, attempts: int | None = None, priority: int = DEFAULT_TASK_PRIORITY
) -> Callable[[Callable[P, T]], Job[P, T]]:
    """Makes a module-level function a job: `send_mail_job.enqueue(user_id=1)` queues it.

    - Enqueueing writes a row through the default database connection, so inside the
      caller's transaction: a write that rolls back enqueues nothing.
    - Arguments are stored as JSON: pass ids and plain strings, never model instances, and
      never secrets (the job table is readable in the admin; make tokens when the job runs).
    - A job that raises runs again later (exponential backoff, QUILL_JOB_RETRY_SECONDS
      doubling up to QUILL_JOB_RETRY_MAX_SECONDS) until it has run `attempts` times
      (default QUILL_JOB_ATTEMPTS); then it stays FAILED with its error, in the admin.
    - Delivery is at least once: a job may run again after it did its work (its worker
      died before recording success, or a retry). Write every job to be idempotent:
      running it twice must have the effect of running it once (get_or_create, unique keys,
      "only if not done yet" checks).
    """
    if attempts is not None and attempts < 1:
        raise ValueError("A job runs at least once: attempts must be 1 or more.")

    def wrap(function: Callable[P, T]) -> Job[P, T]:
        return Job(func=function, attempts=attempts, priority=priority)

    return wrap


def max_attempts(task_path: str) -> int:
    """How many runs the job at `task_path` may have; a job whose code is gone gets none more."""
    try:
        task: Any = import_string(task_path)
    except (ImportError, SuspiciousOperation):
        return 1
    if isinstance(task, Job):
        return task.max_attempts
    return int(settings.QUILL_JOB_ATTEMPTS)


def retry_delay(*, failures: int) -> timedelta:
    """How long to wait before the next run of a job that has failed `failures` times:
    exponential, capped, with up to 10% jitter so that jobs that failed together (SMTP down)
    do not all come back in the same second."""
    doublings = min(max(failures - 1, 0), _MAX_DOUBLINGS)
    seconds = min(settings.QUILL_JOB_RETRY_SECONDS * 2**doublings, settings.QUILL_JOB_RETRY_MAX_SECONDS)
    return timedelta(seconds=seconds * (1 + random.random() / 10))
