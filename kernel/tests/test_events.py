"""Domain events (kernel.events): delivered after the write commits, never for a rolled-back
one, once per announcement and in order; a failing subscriber harms neither the request nor
the other subscribers."""

import ast
import logging
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.db import transaction

import kernel
from accounts.models import User
from kernel.events import Event, announce, subscribe, subscriber, unsubscribe
from kernel.testing import recording

# Real commits and rollbacks: what the test database's wrapping transaction would hide.
pytestmark = pytest.mark.django_db(transaction=True)


@dataclass(frozen=True)
class Happened(Event):
    number: int


@dataclass(frozen=True)
class Other(Event):
    pass


def test_an_event_announced_in_a_transaction_is_delivered_after_the_commit_and_not_before():
    with recording(Happened) as delivered, transaction.atomic():
        User.objects.create_user(email="ada@example.com", password="x")
        announce(Happened(1))
        assert delivered == []
    assert delivered == [Happened(1)]


def test_a_rolled_back_transaction_delivers_nothing():
    with recording() as delivered:
        with pytest.raises(RuntimeError), transaction.atomic():
            announce(Happened(1))
            raise RuntimeError("the write fails")
        with transaction.atomic():
            with pytest.raises(RuntimeError), transaction.atomic():  # a savepoint rolled back
                announce(Happened(2))
                raise RuntimeError
            announce(Happened(3))
    assert delivered == [Happened(3)]


def test_outside_a_transaction_an_event_is_delivered_at_once():
    with recording() as delivered:
        announce(Happened(1))
        assert delivered == [Happened(1)]


def test_each_announcement_is_delivered_once_in_order_to_the_subscribers_of_its_type():
    # The transaction ends first (delivering), then the recordings.
    with (
        recording(Happened) as happened,
        recording(Other) as other,
        recording() as everything,
        transaction.atomic(),
    ):
        announce(Happened(1))
        announce(Other())
        with transaction.atomic():
            announce(Happened(2))
        announce(Happened(1))
    assert happened == [Happened(1), Happened(2), Happened(1)]
    assert other == [Other()]
    assert everything == [Happened(1), Other(), Happened(2), Happened(1)]


def test_subscribing_twice_delivers_once_and_the_decorator_subscribes():
    delivered: list[Event] = []

    @subscriber(Happened)
    def heard(event: Happened) -> None:
        delivered.append(event)

    subscribe(Happened, heard)
    try:
        announce(Happened(1))
    finally:
        unsubscribe(Happened, heard)
    announce(Happened(2))
    assert delivered == [Happened(1)]


def test_a_failing_subscriber_is_logged_and_the_others_and_the_caller_carry_on(caplog):
    def fails(event: Happened) -> None:
        raise ValueError("the subscriber's own bug")

    subscribe(Happened, fails)
    try:
        with (
            recording(Happened) as delivered,
            caplog.at_level(logging.ERROR, logger="quill.events"),
            transaction.atomic(),
        ):
            announce(Happened(1))
            announce(Happened(2))
    finally:
        unsubscribe(Happened, fails)
    assert delivered == [Happened(1), Happened(2)]
    failures = [record for record in caplog.records if record.name == "quill.events"]
    assert len(failures) == 2
    assert failures[0].exc_info is not None and "the subscriber's own bug" in str(failures[0].exc_info[1])
    assert "Happened" in failures[0].getMessage()


def test_the_kernel_imports_nothing_of_quills_apps():
    for module in Path(kernel.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text())):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                assert top in ("kernel", "django") or top in sys.stdlib_module_names, f"{module.name}: {name}"


@pytest.mark.django_db(transaction=True)
def test_an_in_transaction_subscriber_runs_at_once_and_its_job_rolls_back_with_the_write():
    # Jobs are enqueued in the writing transaction (SPEC §9.1): never a change without its job,
    # nor a job for a change that did not happen.
    seen: list[Event] = []

    def enqueue(event: Event) -> None:
        seen.append(event)
        User.objects.create(email=f"job-{len(seen)}@example.com")  # a row in the same transaction

    subscribe(Happened, enqueue, in_transaction=True)
    try:
        with pytest.raises(RuntimeError), transaction.atomic():
            announce(Happened(1))
            assert seen == [Happened(1)]  # at once, not after the commit
            raise RuntimeError("the write failed")
        assert not User.objects.filter(email="job-1@example.com").exists()
        with transaction.atomic():
            announce(Happened(2))
        assert User.objects.filter(email="job-2@example.com").exists()
    finally:
        unsubscribe(Happened, enqueue)
