"""The periodic jobs: declared in settings.QUILL_PERIODIC_JOBS, enqueued (not run) by the
scheduler, and each a clean-up that removes what expired, keeps the rest and may run twice."""

from datetime import timedelta

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from jobs.cleanup import clear_expired_sessions, prune_job_results
from jobs.scheduler import periodic_jobs
from jobs.tests.sample_jobs import record


def test_every_periodic_job_is_a_job_on_a_valid_schedule(settings):
    declared = {periodic.name: periodic.task.module_path for periodic in periodic_jobs()}
    assert declared == {name: entry["job"] for name, entry in settings.QUILL_PERIODIC_JOBS.items()}
    assert "posts.jobs.delete_expired_create_requests" in declared.values()

    settings.QUILL_PERIODIC_JOBS = {"typo": {"job": "posts.jobs.no_such_job", "cron": "0 * * * *"}}
    with pytest.raises(ImproperlyConfigured, match="typo"):
        periodic_jobs()
    settings.QUILL_PERIODIC_JOBS = {"bad cron": {"job": "jobs.cleanup.prune_job_results", "cron": "0 * *"}}
    with pytest.raises(ImproperlyConfigured, match="bad cron"):
        periodic_jobs()


@pytest.mark.django_db(transaction=True)
def test_the_scheduler_enqueues_a_periodic_job_and_does_not_run_it(settings):
    settings.QUILL_PERIODIC_JOBS = {
        "sessions": {"job": "jobs.cleanup.clear_expired_sessions", "cron": "0 3 * * *"}
    }
    [periodic] = periodic_jobs()

    periodic.enqueue()

    job = DBTaskResult.objects.get()
    assert job.task_path == "jobs.cleanup.clear_expired_sessions" and job.status == TaskResultStatus.READY


@pytest.mark.django_db
def test_expired_sessions_are_cleared_and_live_ones_kept():
    live, expired = SessionStore(), SessionStore()
    live.create()
    expired.set_expiry(-60)
    expired.create()

    clear_expired_sessions.call()
    clear_expired_sessions.call()  # twice: no harm

    assert list(Session.objects.values_list("session_key", flat=True)) == [live.session_key]


@pytest.mark.django_db
def test_finished_jobs_are_pruned_after_their_days_and_failed_ones_kept_longer(settings):
    settings.QUILL_JOB_KEEP_DAYS, settings.QUILL_JOB_KEEP_FAILED_DAYS = 14, 30
    now = timezone.now()

    def finished(status: str, days_ago: int) -> str:
        job = DBTaskResult.objects.get(id=record.enqueue(key="x").id)
        job.status, job.finished_at = status, now - timedelta(days=days_ago)
        job.save()
        return str(job.id)

    old_success = finished(TaskResultStatus.SUCCESSFUL, 15)
    recent_success = finished(TaskResultStatus.SUCCESSFUL, 13)
    failed_kept = finished(TaskResultStatus.FAILED, 20)
    old_failure = finished(TaskResultStatus.FAILED, 31)
    waiting = str(record.enqueue(key="y").id)

    prune_job_results.call()
    prune_job_results.call()

    left = {str(pk) for pk in DBTaskResult.objects.values_list("id", flat=True)}
    assert left == {recent_success, failed_kept, waiting}
    assert not left & {old_success, old_failure}
