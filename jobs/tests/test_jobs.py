"""Jobs enqueued in the caller's transaction, retried with backoff, failed for good after their
attempts, recovered from lost workers, and retried from the admin. The worker runs in the test's
process here (jobs/tests/test_worker_process.py runs real worker processes)."""

import re
from datetime import timedelta

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from jobs.base import retry_delay
from jobs.models import Worker
from jobs.services import recover_lost_jobs
from jobs.testing import run_ready_jobs
from jobs.tests import sample_jobs
from jobs.tests.sample_jobs import always_fails, flaky, record

CHANGELIST = "/admin/django_tasks_database/dbtaskresult/"


@pytest.fixture(autouse=True)
def _no_runs_yet():
    sample_jobs.runs.clear()


def row(result) -> DBTaskResult:
    return DBTaskResult.objects.get(id=result.id)


@pytest.mark.django_db
def test_a_job_enqueued_in_a_transaction_that_rolls_back_is_not_enqueued():
    with pytest.raises(RuntimeError), transaction.atomic():
        record.enqueue(key="rolled-back")
        raise RuntimeError("the write failed")
    assert not DBTaskResult.objects.exists()

    with transaction.atomic():
        record.enqueue(key="committed")
    assert DBTaskResult.objects.get().args_kwargs == {"args": [], "kwargs": {"key": "committed"}}


@pytest.mark.django_db
def test_a_model_instance_is_refused_as_an_argument(user):
    with pytest.raises(TypeError):
        record.enqueue(key=user)


@pytest.mark.django_db
def test_a_job_that_fails_twice_then_succeeds_runs_three_times_with_growing_delays(settings):
    settings.QUILL_JOB_RETRY_SECONDS, settings.QUILL_JOB_RETRY_MAX_SECONDS = 2, 3600
    result = flaky.enqueue(key="flaky", failures=2)

    delays = []
    for _failure in range(2):
        run_ready_jobs(max_tasks=1)
        job = row(result)
        assert job.status == TaskResultStatus.READY  # waiting for its retry, with its last error
        assert job.exception_class_path == "builtins.ConnectionError"
        delays.append((job.run_after - timezone.now()).total_seconds())
        job.run_after = timezone.now()  # the wait is over
        job.save(update_fields=["run_after"])
    run_ready_jobs()

    assert 1.8 < delays[0] <= 2.2 and 3.8 < delays[1] <= 4.4, delays
    job = row(result)
    assert job.status == TaskResultStatus.SUCCESSFUL and job.return_value == "done"
    assert sample_jobs.runs["flaky"] == 3 and len(job.worker_ids) == 3
    assert Session.objects.filter(session_key="flaky").count() == 1


def test_retry_delays_double_up_to_the_cap_with_a_little_jitter(settings):
    settings.QUILL_JOB_RETRY_SECONDS, settings.QUILL_JOB_RETRY_MAX_SECONDS = 2, 60
    for failures, base in [(1, 2), (2, 4), (3, 8), (5, 32), (6, 60), (1000, 60)]:
        seconds = [retry_delay(failures=failures).total_seconds() for _ in range(20)]
        assert all(base <= delay <= base * 1.1 for delay in seconds), (failures, seconds)
        assert len(set(seconds)) > 1  # jittered


@pytest.mark.django_db
def test_a_job_that_always_fails_stays_failed_with_its_error_after_its_attempts(settings):
    settings.QUILL_JOB_RETRY_SECONDS = 0
    result = always_fails.enqueue(key="doomed")

    run_ready_jobs()

    job = row(result)
    assert job.status == TaskResultStatus.FAILED
    assert sample_jobs.runs["doomed"] == 3 and len(job.worker_ids) == 3  # @job(attempts=3)
    assert job.exception_class_path == "builtins.ValueError"
    assert "ValueError: this never works" in job.traceback


@pytest.mark.django_db
def test_failed_jobs_are_listed_in_the_admin_and_retry_runs_them_again(settings, moderator_client):
    settings.QUILL_JOB_RETRY_SECONDS = 0
    failed = always_fails.enqueue(key="doomed")
    succeeded = record.enqueue(key="fine")
    run_ready_jobs()

    html = moderator_client.get(CHANGELIST, {"status__exact": "FAILED"}).content.decode()
    assert re.findall(r'<th class="field-task_name"><a href="[^"]+">([^<]+)</a>', html) == ["always_fails"]
    assert "3 of 3" in html and "ValueError: this never works" in html
    for column in ("column-status", "column-attempts", "column-last_error", "column-enqueued_at"):
        assert column in html

    response = moderator_client.post(
        CHANGELIST,
        {"action": "retry_selected", ACTION_CHECKBOX_NAME: [failed.id, succeeded.id]},
        follow=True,
    )
    message = "Queued 1 failed job for another attempt. 1 not failed left as they were."
    assert message in response.content.decode()
    assert row(failed).status == TaskResultStatus.READY
    assert row(succeeded).status == TaskResultStatus.SUCCESSFUL

    run_ready_jobs()
    job = row(failed)
    assert sample_jobs.runs["doomed"] == 4  # one more attempt, then failed again
    assert job.status == TaskResultStatus.FAILED and len(job.worker_ids) == 4


@pytest.mark.django_db
def test_the_jobs_admin_is_for_staff_only(client, user):
    always_fails.enqueue(key="doomed")
    client.force_login(user)
    assert client.get(CHANGELIST).status_code == 302  # to the admin's sign-in
    assert client.post(CHANGELIST, {"action": "retry_selected"}).status_code == 302


@pytest.mark.django_db
def test_running_jobs_of_a_worker_gone_silent_go_back_to_the_queue():
    lease = timedelta(seconds=60)
    now = timezone.now()
    Worker.objects.create(id="alive", seen_at=now)
    Worker.objects.create(id="gone", seen_at=now - timedelta(minutes=5))

    def running(*, worker: str, started_ago: timedelta, attempts: int = 1, task=record) -> DBTaskResult:
        job = row(task.enqueue(key=worker))
        job.status, job.worker_ids = TaskResultStatus.RUNNING, ["earlier"] * (attempts - 1) + [worker]
        job.started_at = now - started_ago
        job.save()
        return job

    lost = running(worker="gone", started_ago=timedelta(minutes=3))
    unknown = running(worker="never-seen", started_ago=timedelta(minutes=3))
    last_try = running(worker="gone", started_ago=timedelta(minutes=3), attempts=3, task=always_fails)
    healthy = running(worker="alive", started_ago=timedelta(minutes=3))
    just_claimed = running(worker="new", started_ago=timedelta(seconds=5))

    assert recover_lost_jobs(lease=lease) == 3
    assert recover_lost_jobs(lease=lease) == 0  # a second sweep finds nothing more

    assert row(lost).status == row(unknown).status == TaskResultStatus.READY
    assert row(lost).worker_ids == ["gone"]  # the lost run counts as an attempt
    assert row(last_try).status == TaskResultStatus.FAILED
    assert "stopped heartbeating during attempt 3" in row(last_try).traceback
    assert row(healthy).status == row(just_claimed).status == TaskResultStatus.RUNNING
    assert list(Worker.objects.values_list("id", flat=True)) == ["alive"]
