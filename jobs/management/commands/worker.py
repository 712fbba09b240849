"""`manage.py worker`: runs jobs until SIGTERM or SIGINT (README, Background jobs)."""

import logging
from argparse import ArgumentParser
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django_tasks_db.compat import TASKS_LOGGER

from jobs.scheduler import start_scheduler
from jobs.worker import QuillWorker, new_worker_id, signals_held


class Command(BaseCommand):
    help = (
        "Run background jobs until SIGTERM or SIGINT: the job in hand finishes first; a second "
        "signal puts it back in the queue. --scheduler also enqueues the periodic jobs "
        "(QUILL_PERIODIC_JOBS): run exactly one such process per deployment."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--scheduler", action="store_true", help="Also enqueue the periodic jobs on their schedule."
        )
        parser.add_argument(
            "--interval",
            type=float,
            default=settings.QUILL_JOB_POLL_SECONDS,
            help="Seconds between looks at an empty queue (default: QUILL_JOB_POLL_SECONDS).",
        )
        parser.add_argument("--batch", action="store_true", help="Run the jobs that are ready, then exit.")
        parser.add_argument(
            "--no-startup-delay",
            action="store_false",
            dest="startup_delay",
            help="Start at once (by default up to 1 s later, so that workers started together spread).",
        )

    def handle(
        self, *, scheduler: bool, interval: float, batch: bool, startup_delay: bool, **options: Any
    ) -> None:
        # One line per job (quill.jobs): django-tasks' own start and finish lines would repeat it.
        logging.getLogger(TASKS_LOGGER).setLevel(logging.CRITICAL)
        worker = QuillWorker(
            queue_names=["*"],
            excluded_queue_names=[],
            interval=interval,
            batch=batch,
            backend_name="default",
            startup_delay=startup_delay,
            max_tasks=None,
            worker_id=new_worker_id(),
            heartbeat_seconds=settings.QUILL_JOB_HEARTBEAT_SECONDS,
            lease=timedelta(seconds=settings.QUILL_JOB_LEASE_SECONDS),
        )
        # The scheduler's threads keep the shutdown signals blocked: they reach the worker alone.
        with signals_held():
            periodic = start_scheduler() if scheduler else None
        worker.configure_signals()
        try:
            worker.run()
        finally:
            if periodic is not None:
                periodic.shutdown(wait=False)
        if worker.aborted:
            raise SystemExit(1)
