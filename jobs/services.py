"""What changes the job table beside django-tasks-db's own claim and result writes: retries,
workers' heartbeats, and the return of jobs whose worker is gone."""

from collections.abc import Iterable
from datetime import datetime, timedelta
from uuid import UUID

from django.db import transaction
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult, get_date_max
from django_tasks_db.utils import exclusive_transaction

from jobs.base import max_attempts
from jobs.models import Worker


class WorkerLost(Exception):
    """Recorded as the error of a job whose worker stopped heartbeating while running it."""


@transaction.atomic
def requeue(*, job: DBTaskResult, run_after: datetime | None = None) -> None:
    """Puts a job that just ended back in the queue, to run from `run_after` (None: at once).
    Its last error and its attempts (the worker ids that claimed it) are kept."""
    job.status = TaskResultStatus.READY
    job.run_after = run_after or get_date_max()
    job.finished_at = None
    job.save(update_fields=["status", "run_after", "finished_at"])


@transaction.atomic
def retry_failed_jobs(*, ids: Iterable[UUID | str]) -> int:
    """Queues the FAILED jobs among `ids` for one more attempt each; returns how many."""
    return (
        DBTaskResult.objects.failed()
        .filter(id__in=list(ids))
        .update(status=TaskResultStatus.READY, run_after=get_date_max(), finished_at=None)
    )


@transaction.atomic
def beat(*, worker_id: str) -> None:
    """Records that the worker is alive now."""
    now = timezone.now()
    if not Worker.objects.filter(id=worker_id).update(seen_at=now):
        Worker.objects.create(id=worker_id, seen_at=now)


def recover_lost_jobs(*, lease: timedelta) -> int:
    """Jobs RUNNING for longer than `lease` on a worker not seen for as long go back to the
    queue, or end FAILED (WorkerLost) if that was their last attempt; forgets such workers.
    Returns how many jobs it recovered. Any worker may run it, any number at once."""
    cutoff = timezone.now() - lease
    recovered = 0
    # SQLite has no row locks: an exclusive transaction keeps two sweeps apart there.
    with exclusive_transaction(DBTaskResult.objects.db):
        alive = set(Worker.objects.filter(seen_at__gte=cutoff).values_list("id", flat=True))
        running = (
            DBTaskResult.objects.running().filter(started_at__lt=cutoff).select_for_update(skip_locked=True)
        )
        for job in running:
            if job.worker_ids and job.worker_ids[-1] in alive:
                continue
            if len(job.worker_ids) < max_attempts(job.task_path):
                requeue(job=job)
            else:
                _fail_lost(job)
            recovered += 1
        Worker.objects.filter(seen_at__lt=cutoff).delete()
    return recovered


def release_worker(*, worker_id: str) -> None:
    """A worker that stops: any job it still holds goes back to the queue, and it is forgotten."""
    with exclusive_transaction(DBTaskResult.objects.db):
        for job in DBTaskResult.objects.running().select_for_update(skip_locked=True):
            if job.worker_ids and job.worker_ids[-1] == worker_id:
                requeue(job=job)
        Worker.objects.filter(id=worker_id).delete()


def _fail_lost(job: DBTaskResult) -> None:
    worker = job.worker_ids[-1] if job.worker_ids else "unknown"
    job.status = TaskResultStatus.FAILED
    job.finished_at = timezone.now()
    job.exception_class_path = f"{WorkerLost.__module__}.{WorkerLost.__qualname__}"
    job.traceback = (
        f"{job.exception_class_path}: worker {worker} stopped heartbeating during attempt "
        f"{len(job.worker_ids)}, the last one.\n"
    )
    job.save(update_fields=["status", "finished_at", "exception_class_path", "traceback"])
