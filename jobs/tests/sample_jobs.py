"""Jobs the tests enqueue (a job must live at module level, where the worker can import it).

Their effects are rows of Django's session table: a table every deployment has, with a unique
key, so an effect written twice would show as an error or a second row."""

import time
from collections import Counter
from datetime import timedelta

from django.contrib.sessions.models import Session
from django.utils import timezone

from jobs import job

# How many times each in-process job ran, by key (the in-process tests read it).
runs: Counter[str] = Counter()


def mark(key: str) -> None:
    """The idempotent effect: a row with a unique key, written once however often this runs."""
    Session.objects.get_or_create(
        session_key=key, defaults={"session_data": "", "expire_date": timezone.now() + timedelta(days=1)}
    )


@job()
def record(*, key: str) -> None:
    runs[key] += 1
    mark(key)


@job(attempts=4)
def flaky(*, key: str, failures: int) -> str:
    runs[key] += 1
    if runs[key] <= failures:
        raise ConnectionError(f"failure {runs[key]} of {failures}")
    mark(key)
    return "done"


@job(attempts=3)
def always_fails(*, key: str) -> None:
    runs[key] += 1
    raise ValueError("this never works")


@job(attempts=3)
def slow(*, key: str, seconds: float) -> None:
    """Marks `<key>-started`, works for `seconds`, then marks `<key>-done`: safe to run twice."""
    mark(f"{key}-started")
    time.sleep(seconds)
    mark(f"{key}-done")


@job()
def noop() -> None:
    """Does nothing: what a job costs the worker itself."""


@job(attempts=1)
def mark_once(*, key: str) -> None:
    """Writes its row with a plain INSERT, so that a second run of the job would fail on the
    unique key (and, with one attempt, stay FAILED): a job run twice cannot go unseen."""
    Session.objects.create(session_key=key, session_data="", expire_date=timezone.now() + timedelta(days=1))
