"""The benchmark's own job (bench/run.py enqueues it through bench/enqueue.py): a job that does
nothing, so that what a run of it costs is the worker's own work per job (claim, bookkeeping,
the log line). It lives in bench/, not in an app, and the worker imports it by its path
(`bench.jobs.noop`: the repository's root is on manage.py's sys.path)."""

from jobs import job


@job(attempts=1)
def noop() -> None:
    """Does nothing."""
