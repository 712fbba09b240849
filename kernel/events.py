"""Domain events: a service announces what it changed, and other apps react, after the change
is committed (SPEC §9.1).

An event is a small frozen dataclass (ids and a few strings, never a model instance: the
row may be gone or changed by the time a subscriber runs), declared in its app's `events.py`.

    announce(PostPublished(post_id=..., author_id=..., published_at=...))

delivers the event to the subscribers of its type (and of its base classes) once the current
transaction commits, or at once outside a transaction; a rolled-back write delivers nothing.
Announcements of one transaction are delivered in the order made, each once.

Apps subscribe in their AppConfig.ready():

    subscribe(PostPublished, on_post_published)     # or @subscriber(PostPublished)

Subscribers run in the request that made the write, after its commit, so they must be quick
and must not fail it: one that raises is logged with its traceback and the others still run.

Heavy or fallible work (email, fan-out, delivery) is a job. A subscriber that only enqueues
jobs subscribes `in_transaction=True`: it runs when the event is announced, inside the writing
transaction, so the job is written with the change and rolled back with it, and a write and
its consequences are never half done (SPEC §9.1). Such a subscriber that raises fails the write.

    subscribe(EmailChanged, tell_the_old_address, in_transaction=True)
"""

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from django.db import transaction

logger = logging.getLogger("quill.events")


@dataclass(frozen=True)
class Event:
    """The base of every domain event (subscribing to it hears them all)."""


E = TypeVar("E", bound=Event)
Handler = Callable[[Any], None]

_subscribers: defaultdict[type[Event], list[Handler]] = defaultdict(list)  # after the commit
_enqueuers: defaultdict[type[Event], list[Handler]] = defaultdict(list)  # in the transaction


def subscribe(event_type: type[E], handler: Callable[[E], None], *, in_transaction: bool = False) -> None:
    """`handler(event)` is called for every `event_type` announced from now on (once, however
    often it is subscribed): after the commit, or with `in_transaction` when it is announced."""
    handlers = (_enqueuers if in_transaction else _subscribers)[event_type]
    if handler not in handlers:
        handlers.append(handler)


def unsubscribe(event_type: type[E], handler: Callable[[E], None]) -> None:
    for handlers in (_subscribers[event_type], _enqueuers[event_type]):
        if handler in handlers:
            handlers.remove(handler)


def subscriber(event_type: type[E]) -> Callable[[Callable[[E], None]], Callable[[E], None]]:
    """subscribe() as a decorator."""

    def register(handler: Callable[[E], None]) -> Callable[[E], None]:
        subscribe(event_type, handler)
        return handler

    return register


def announce(event: Event, *, using: str | None = None) -> None:
    """Runs the in-transaction subscribers now, and delivers `event` to the others once the
    transaction on `using` commits (at once outside one)."""
    for handler in _handlers(_enqueuers, event):
        handler(event)  # enqueues a job in this transaction: a failure fails the write
    transaction.on_commit(partial(_deliver, event), using=using)


def _handlers(registry: defaultdict[type[Event], list[Handler]], event: Event) -> list[Handler]:
    return [handler for event_type in type(event).__mro__ for handler in registry.get(event_type, ())]


def _deliver(event: Event) -> None:
    for event_type in type(event).__mro__:
        for handler in list(_subscribers.get(event_type, ())):
            try:
                handler(event)
            except Exception:
                # The write is committed and its answer is due: a failing reaction is logged.
                logger.exception("A subscriber to %s failed", type(event).__name__)
