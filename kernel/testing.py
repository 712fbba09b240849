"""Helpers for tests of what is announced (kernel.events)."""

from collections.abc import Iterator
from contextlib import contextmanager

from kernel.events import Event, subscribe, unsubscribe


@contextmanager
def recording(event_type: type[Event] = Event) -> Iterator[list[Event]]:
    """The events of `event_type` delivered while it lasts, in the order delivered."""
    delivered: list[Event] = []
    subscribe(event_type, delivered.append)
    try:
        yield delivered
    finally:
        unsubscribe(event_type, delivered.append)
