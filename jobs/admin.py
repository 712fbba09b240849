"""Jobs in /admin/: django-tasks-db's read-only list of results, with attempts and the last
error, and a Retry action for failed jobs."""

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.text import Truncator
from django.utils.translation import ngettext
from django_tasks_db.admin import DBTaskResultAdmin
from django_tasks_db.models import DBTaskResult

from jobs.base import max_attempts
from jobs.services import retry_failed_jobs

admin.site.unregister(DBTaskResult)


@admin.register(DBTaskResult)
class JobAdmin(DBTaskResultAdmin):
    list_filter = ("status", "task_path", "queue_name")
    search_fields = ("task_path", "exception_class_path")
    search_help_text = "Search job paths and error classes."
    actions = ["retry_selected"]

    def get_list_display(self, request: HttpRequest) -> tuple[str, ...]:
        return ("task_name", "status", "attempts", "last_error", "enqueued_at", "run_after", "finished_at")

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("django_tasks_database.change_dbtaskresult")

    @admin.display(description="Attempts")
    def attempts(self, job: DBTaskResult) -> str:
        return f"{len(job.worker_ids)} of {max_attempts(job.task_path)}"

    @admin.display(description="Last error")
    def last_error(self, job: DBTaskResult) -> str:
        # A job waiting for its retry shows the error of its last run too.
        if not job.traceback:
            return "-"
        return Truncator(job.traceback.strip().splitlines()[-1]).chars(120)

    @admin.action(description="Retry selected failed jobs", permissions=["retry"])
    def retry_selected(self, request: HttpRequest, queryset: QuerySet[DBTaskResult]) -> None:
        selected = list(queryset.values_list("id", flat=True))
        count = retry_failed_jobs(ids=selected)
        jobs = ngettext("%(count)d failed job", "%(count)d failed jobs", count) % {"count": count}
        others = len(selected) - count
        left = f" {others} not failed left as they were." if others else ""
        self.message_user(request, f"Queued {jobs} for another attempt.{left}")
