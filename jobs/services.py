"""What changes the job table beside django-tasks-db's own result writes: a job's row when it is
enqueued, its claim on Postgres, retries, workers' heartbeats, and the return of jobs whose
worker is gone."""

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any, TypeVar, cast
from uuid import UUID

from django.db import connections, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks.base import Task, TaskResult
from django_tasks_db import backend as library
from django_tasks_db.compat import task_enqueued
from django_tasks_db.models import DBTaskResult, get_date_max
from django_tasks_db.utils import exclusive_transaction, normalize_uuid

from jobs.base import max_attempts
from jobs.models import Worker

T = TypeVar("T")


class WorkerLost(Exception):
    """Recorded as the error of a job whose worker stopped heartbeating while running it."""


def enqueue(task: Task[Any, T], backend: library.DatabaseBackend, args: Any, kwargs: Any) -> TaskResult[T]:
    """What DatabaseBackend.enqueue does, the same row written by the library's own code (one
    INSERT, through the caller's connection and so inside its transaction) and the same
    task_enqueued signal, without its repeated work: the result is made once from the task in
    hand, where the library makes it twice from the row, each time importing the task by its
    path and validating it anew (Job.enqueue: about 75 µs less of some 800, the rest being the
    ORM's INSERT and its round trip through PgBouncer)."""
    # The library's types name Django 6's django.tasks (its compat module), which on Django 5.2
    # is django_tasks, whose types Quill's code uses: the same classes when it runs.
    same_task: Any = task
    backend.validate_task(same_task)
    row = backend._task_to_db_task(same_task, args, kwargs)
    result: library.TaskResult[Any, T] = library.TaskResult(
        db_result=row,
        task=same_task,
        id=normalize_uuid(row.id),
        status=cast(Any, TaskResultStatus.READY),
        enqueued_at=row.enqueued_at,
        started_at=None,
        last_attempted_at=None,
        finished_at=None,
        args=row.args_kwargs["args"],
        kwargs=row.args_kwargs["kwargs"],
        backend=row.backend_name,
        errors=[],
        worker_ids=[],
    )
    task_enqueued.send(type(backend), task_result=result)
    return cast(TaskResult[T], result)


def claim_next(ready: QuerySet[DBTaskResult], *, worker_id: str) -> DBTaskResult | None:
    """Claims the first job of `ready` for `worker_id` in one statement, on Postgres: the job
    django-tasks-db's own claim would pick (`ready`, in the same order, `first()` of it locked
    with SKIP LOCKED), set RUNNING with the same writes as its DBTaskResult.claim (started_at,
    the worker id appended to worker_ids), and returned. None when no job is ready.

    One autocommit statement instead of BEGIN, SELECT ... FOR UPDATE SKIP LOCKED, UPDATE and
    COMMIT: fine through PgBouncer in transaction mode (no session state, nothing prepared).
    Two workers never get the same job: the row is locked by the first to reach it and the
    other skips it; one that reaches it after the first committed sees it RUNNING.
    (The worker claims through a ClaimStatement: the same statement, compiled once.)"""
    sql, selection = _claim_sql(ready)
    return _claim(ready, sql, selection, worker_id=worker_id)


class ClaimStatement:
    """claim_next's statement for a worker's selection of jobs (`select()`, made anew each time:
    django-tasks-db's ready() reads the clock), compiled once and run for each claim: building
    and compiling the selection would cost the worker more CPU than the rest of a no-op job.

    The selection compiles to the same SQL each time, its parameters differing by the clock
    only (ready(): run_after <= now). Two compilations tell which parameter that is; each claim
    sets it anew. Should they differ otherwise (another version of the library), every claim
    compiles the selection again."""

    def __init__(self, select: Callable[[], QuerySet[DBTaskResult]]) -> None:
        self._select = select
        self._ready = select()
        self._sql, self._selection = _claim_sql(self._ready)
        again_sql, again_selection = _claim_sql(select())
        changed = [
            index
            for index, (before, after) in enumerate(zip(self._selection, again_selection, strict=False))
            if before != after
        ]
        self._clock: int | None = None
        if (
            again_sql == self._sql
            and len(again_selection) == len(self._selection)
            and len(changed) == 1
            and isinstance(self._selection[changed[0]], datetime)
        ):
            self._clock = changed[0]
        self._converters = _converters(self._ready)

    @property
    def reused(self) -> bool:
        """Whether each claim reuses the compiled statement (else it compiles the selection)."""
        return self._clock is not None

    def run(self, *, worker_id: str) -> DBTaskResult | None:
        if self._clock is None:
            ready = self._select()
            sql, selection = _claim_sql(ready)
            return _claim(ready, sql, selection, worker_id=worker_id)
        selection = list(self._selection)
        selection[self._clock] = timezone.now()
        return _claim(self._ready, self._sql, selection, worker_id=worker_id, converters=self._converters)


def _claim_sql(ready: QuerySet[DBTaskResult]) -> tuple[str, list[Any]]:
    """claim_next's statement for `ready`, and the parameters of its selection (before them come
    those of its SET: the status, the time, the worker id)."""
    connection = connections[ready.db]
    if connection.vendor != "postgresql":
        raise NotImplementedError("The one-statement claim is Postgres's (elsewhere: django-tasks-db's).")
    meta = DBTaskResult._meta
    assert meta.pk is not None
    if not ready.ordered:
        ready = ready.order_by("pk")  # as first() does
    # The SELECT of ready.first(), with the lock of get_locked() (select_for_update() itself
    # refuses to compile outside a transaction, though one statement is its own).
    pick = ready.values("pk")[:1]
    pick_sql, pick_params = pick.query.get_compiler(using=ready.db).as_sql()
    pick_sql += " " + connection.ops.for_update_sql(skip_locked=True)
    q = connection.ops.quote_name
    # Each concrete field has its column.
    column = {field.attname: q(cast(str, field.column)) for field in meta.concrete_fields}
    sql = (
        f"UPDATE {q(meta.db_table)} SET {column['status']} = %s, {column['started_at']} = %s, "
        f"{column['worker_ids']} = {column['worker_ids']} || jsonb_build_array(%s::text) "
        f"WHERE {column[meta.pk.attname]} = ({pick_sql}) "
        f"RETURNING {', '.join(column[field.attname] for field in meta.concrete_fields)}"
    )
    return sql, list(pick_params)


def _converters(ready: QuerySet[DBTaskResult]) -> dict[int, Any]:
    """How the ORM reads each column of the job table back (the JSON fields parsed, ...)."""
    return ready.query.get_compiler(using=ready.db).get_converters(
        [field.get_col(DBTaskResult._meta.db_table) for field in DBTaskResult._meta.concrete_fields]
    )


def _claim(
    ready: QuerySet[DBTaskResult],
    sql: str,
    selection: list[Any],
    *,
    worker_id: str,
    converters: dict[int, Any] | None = None,
) -> DBTaskResult | None:
    with connections[ready.db].cursor() as cursor:
        cursor.execute(sql, (TaskResultStatus.RUNNING, timezone.now(), worker_id, *selection))
        row = cursor.fetchone()
    if row is None:
        return None
    compiler = ready.query.get_compiler(using=ready.db)
    [values] = compiler.apply_converters(
        [list(row)], _converters(ready) if converters is None else converters
    )
    fields = DBTaskResult._meta.concrete_fields
    return DBTaskResult.from_db(ready.db, [field.attname for field in fields], values)


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
