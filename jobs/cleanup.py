"""The jobs app's own periodic clean-ups (scheduled in settings.QUILL_PERIODIC_JOBS)."""

from importlib import import_module

from django.conf import settings
from django.core.management import call_command

from jobs import job


@job()
def clear_expired_sessions() -> None:
    """Deletes expired sessions, as `manage.py clearsessions` does; running it twice is harmless."""
    import_module(settings.SESSION_ENGINE).SessionStore.clear_expired()


@job()
def prune_job_results() -> None:
    """Deletes finished jobs older than QUILL_JOB_KEEP_DAYS (failed ones: QUILL_JOB_KEEP_FAILED_DAYS,
    so they stay in the admin longer), with django-tasks-db's own command."""
    call_command(
        "prune_db_task_results",
        queue_name="*",
        min_age_days=settings.QUILL_JOB_KEEP_DAYS,
        failed_min_age_days=settings.QUILL_JOB_KEEP_FAILED_DAYS,
        verbosity=0,
    )
