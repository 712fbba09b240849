"""Periodic jobs: settings.QUILL_PERIODIC_JOBS, enqueued on their cron schedule by APScheduler
inside the one `manage.py worker --scheduler` process of a deployment. The scheduler only
enqueues; any worker runs the job, with the retries of every job."""

import logging
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor  # type: ignore[import-untyped]
from apscheduler.schedulers.background import BackgroundScheduler  # type: ignore[import-untyped]
from apscheduler.triggers.cron import CronTrigger  # type: ignore[import-untyped]
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.utils.module_loading import import_string
from django_tasks.base import Task

logger = logging.getLogger("quill.jobs")


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    task: Task[[], Any]
    trigger: Any  # APScheduler's CronTrigger

    def enqueue(self) -> None:
        try:
            result = self.task.enqueue()
            logger.info(
                "Enqueued periodic job %s", self.name, extra={"job": self.task.name, "job_id": result.id}
            )
        finally:
            connection.close()  # the scheduler thread's own connection, not kept between runs


def periodic_jobs() -> list[PeriodicJob]:
    """QUILL_PERIODIC_JOBS read and checked: a job path or a cron line that is wrong stops
    the scheduler at its start, not hours later."""
    declared: list[PeriodicJob] = []
    for name, entry in settings.QUILL_PERIODIC_JOBS.items():
        try:
            task = import_string(entry["job"])
            trigger = CronTrigger.from_crontab(entry["cron"], timezone=UTC)
        except (ImportError, KeyError, ValueError) as error:
            raise ImproperlyConfigured(f"QUILL_PERIODIC_JOBS[{name!r}]: {error}") from error
        if not isinstance(task, Task):
            raise ImproperlyConfigured(f"QUILL_PERIODIC_JOBS[{name!r}]: {entry['job']} is not a job.")
        declared.append(PeriodicJob(name=name, task=task, trigger=trigger))
    return declared


def start_scheduler() -> BackgroundScheduler:
    """Starts a thread that enqueues each periodic job on its schedule. Runs that fall while
    no scheduler is up are not made up: the next run of a clean-up does their work too."""
    # APScheduler says at INFO level every time it runs something; PeriodicJob logs what matters.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    scheduler = BackgroundScheduler(
        timezone=UTC,
        executors={"default": ThreadPoolExecutor(max_workers=1)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
    )
    declared = periodic_jobs()
    for periodic in declared:
        scheduler.add_job(periodic.enqueue, periodic.trigger, id=periodic.name, name=periodic.name)
    scheduler.start()
    logger.info(
        "Scheduler started", extra={"periodic_jobs": ", ".join(periodic.name for periodic in declared)}
    )
    return scheduler
