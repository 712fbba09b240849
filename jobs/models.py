from django.db import models


class Worker(models.Model):
    """A running `manage.py worker` process, as last heard from: its heartbeat thread sets
    `seen_at` every QUILL_JOB_HEARTBEAT_SECONDS. A worker not seen for QUILL_JOB_LEASE_SECONDS
    is gone, and the jobs it was running go back to the queue (jobs.services)."""

    # django-tasks-db records the worker ids that claimed a job (DBTaskResult.worker_ids).
    id = models.CharField(primary_key=True, max_length=64)
    seen_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.id
