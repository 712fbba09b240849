"""Background jobs: django-tasks' Tasks API on django-tasks-db's Postgres (or SQLite) queue.

Apps declare jobs with `@job(...)` (jobs.base) and enqueue them with django-tasks' own
`my_job.enqueue(...)`; `manage.py worker` runs them (README, Background jobs).
"""

from jobs.base import Job, job

__all__ = ["Job", "job"]
