"""The shared cache of what anonymous readers get: whole responses (pages and API JSON),
stored in the shared cache (Redis) under the versions of what they show, so that no reader
sees a stale answer once a writer's save has returned.

A cached read names its scopes: every read depends on ALL; lists depend on LISTS, one story's
reads on `post_scope(<slug or id>)`. Each scope has a version (a random token) in the cache,
and an entry's key holds the versions it was made under. A write replaces the versions of the
scopes it changes (`changed`), so the next read misses and renders anew; nothing is deleted.

Which writes change which scopes each domain app declares, in one place (its `cache.py`),
and hands to `declare()` from its AppConfig.ready(): for each of its models, the scopes a
write of a row changes (nothing, for a model readers never see), which the models' signals
apply, whatever made the write (a service, the admin, a cascade); for the domain events of
writes that send no signals (QuerySet.update, bulk_update), the scopes they change; and what
changes without any write (a scheduled story going up): entries live at most until then
(and QUILL_CACHE_SECONDS). This module knows none of the apps.

Versions are replaced once the write is committed (before the writer's answer goes out): a
reader that read the old rows before the commit stored them under the old versions, which no
read asks for any more. A transaction's changes are gathered and replaced in one round trip.
"""

import hashlib
import logging
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Model
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control, patch_vary_headers, set_response_etag
from redis.exceptions import RedisError

from faces.registry import view_at
from kernel.events import Event, subscribe

logger = logging.getLogger("quill.readcache")

ALL = "all"
LISTS = "lists"
VERSION_PREFIX = "readers:v:"
# The entry's layout is in its key: workers of another release never read it.
ENTRY_PREFIX = "readers:page:1:"
CacheErrors = (RedisError, OSError)

Scopes = Callable[..., str]


def post_scope(key: object) -> str:
    """The scope of one story's reads, by the slug or the id its address names."""
    return f"story:{key}"


def by_slug(*, slug: str, **_: Any) -> str:
    """The scope of a read whose address names a story's slug."""
    return post_scope(slug)


def by_id(*, id: str, **_: Any) -> str:
    """The scope of a read whose address names a story's id, in any spelling of a UUID."""
    try:
        return post_scope(UUID(id))
    except ValueError:
        return post_scope("?")  # no such story: a 404, which is never kept


def _fresh_token() -> str:
    return secrets.token_hex(6)


def _versions(scopes: list[str]) -> list[str] | None:
    keys = [VERSION_PREFIX + scope for scope in scopes]
    found = cache.get_many(keys)
    missing = [key for key in keys if key not in found]
    if missing:  # first use, or evicted: a new token, never one an old entry was stored under
        for key in missing:
            cache.add(key, _fresh_token(), timeout=None)
        found.update(cache.get_many(missing))
    if any(key not in found for key in keys):
        return None
    return [str(found[key]) for key in keys]


def _replace_versions(scopes: frozenset[str]) -> None:
    try:
        cache.set_many({VERSION_PREFIX + scope: _fresh_token() for scope in scopes}, timeout=None)
    except CacheErrors:
        # Entries made before expire within QUILL_CACHE_SECONDS; readers skip a cache that is down.
        logger.warning("Could not invalidate the readers' cache for %s", sorted(scopes), exc_info=True)


_pending = threading.local()  # scopes changed by this thread's transaction (its connection's)


def _flush_pending() -> None:
    scopes = frozenset(getattr(_pending, "scopes", ()))
    _pending.scopes = set()
    if scopes:  # the transaction's first callback takes them all; the others find none
        _replace_versions(scopes)


def changed(*scopes: str) -> None:
    """Readers of these scopes must see what the current transaction writes, once committed.
    (Scopes left over from a rolled-back transaction go with the next: a harmless miss.)"""
    if not settings.QUILL_CACHE or not scopes:
        return
    if not transaction.get_connection().in_atomic_block:
        _replace_versions(frozenset(scopes))
        return
    if not hasattr(_pending, "scopes"):
        _pending.scopes = set()
    _pending.scopes.update(scopes)
    transaction.on_commit(_flush_pending)


NEXT_PREFIX = "readers:next:"


def _next_publication_in(next_key: str) -> float | None:
    """Seconds until what readers see next changes without a write (None: nothing will), asked
    of the apps' declarations once per version of the lists, since only a write changes it."""
    known = cache.get(next_key)
    if known is None:
        moments = [moment for upcoming in _upcoming if (moment := upcoming()) is not None]
        known = min(moments).timestamp() if moments else 0.0  # 0: none coming
        until = known - time.time() if known else float(settings.QUILL_CACHE_SECONDS)
        if until >= 1:
            cache.set(next_key, known, timeout=min(settings.QUILL_CACHE_SECONDS, int(until) + 1))
    return known - time.time() if known else None


# status, headers, body, and until when (epoch seconds) it may be served.
Entry = tuple[int, dict[str, str], bytes, float]


class _Recent:
    """The entries this worker served last, by their versioned key: a hit then costs one round
    trip (the versions) and no copy of the body over the network. Bounded by bytes."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.used = 0
        self.entries: OrderedDict[str, Entry] = OrderedDict()
        self.lock = threading.Lock()  # for gunicorn's threaded workers (GUNICORN_THREADS)

    def get(self, key: str) -> Entry | None:
        with self.lock:
            entry = self.entries.get(key)
            if entry is None:
                return None
            if entry[3] <= time.time():
                self._drop(key)
                return None
            self.entries.move_to_end(key)
            return entry

    def put(self, key: str, entry: Entry) -> None:
        if len(entry[2]) > self.budget // 8:
            return
        with self.lock:
            if key in self.entries:
                self._drop(key)
            self.entries[key] = entry
            self.used += len(entry[2])
            while self.used > self.budget:
                self._drop(next(iter(self.entries)))

    def _drop(self, key: str) -> None:
        self.used -= len(self.entries.pop(key)[2])


_recent = _Recent(budget=settings.QUILL_CACHE_LOCAL_MB * 1024 * 1024)


def _anonymous(request: HttpRequest) -> bool:
    cookies = request.COOKIES
    return (
        "HTTP_AUTHORIZATION" not in request.META
        and settings.SESSION_COOKIE_NAME not in cookies
        and "messages" not in cookies  # a flash message waits for this visitor
    )


def _entry_key(request: HttpRequest, versions: list[str]) -> str:
    address = f"{request.scheme}://{request.get_host()}{request.get_full_path()}"
    digest = hashlib.blake2b(address.encode("utf-8", "surrogateescape"), digest_size=16).hexdigest()
    return ENTRY_PREFIX + digest + ":" + ":".join(versions)


def _for_readers(response: HttpResponse) -> HttpResponse:
    # Browsers ask again each time, with If-None-Match: a 304 is cheap, and never stale.
    patch_cache_control(response, no_cache=True)
    patch_vary_headers(response, ("Cookie", "Authorization"))
    return response


def _store(key: str, next_key: str, response: HttpResponse) -> None:
    if response.status_code != 200 or response.streaming or response.cookies:
        return
    seconds = float(settings.QUILL_CACHE_SECONDS)
    upcoming = _next_publication_in(next_key)
    if upcoming is not None:
        seconds = min(seconds, upcoming)
    if seconds < 1:
        return
    if not response.has_header("ETag"):
        set_response_etag(response)
    headers = dict(response.items())
    entry = (response.status_code, headers, response.content, time.time() + int(seconds))
    cache.set(key, entry, timeout=int(seconds))
    _recent.put(key, entry)


def _stored(key: str) -> Entry | None:
    entry = _recent.get(key)
    if entry is None:
        entry = cache.get(key)  # stored by another worker (or forgotten by this one)
        if entry is None or entry[3] <= time.time():
            return None
        _recent.put(key, entry)
    return entry


View = TypeVar("View", bound=Callable[..., Any])


def cached_for_readers(scope: str | Scopes = LISTS) -> Callable[[View], View]:
    """Marks a view whose GET answers for anonymous readers ReadersCacheMiddleware keeps and
    serves while the scopes they show are unchanged. `scope`: LISTS, or a function of the view's
    URL arguments naming the scope (e.g. one story's)."""

    def mark(view: View) -> View:
        view.readers_scope = scope  # type: ignore[attr-defined]
        return view

    return mark


class ReadersCacheMiddleware:
    """Answers an anonymous GET of a marked view from the cache, before sessions, CSRF,
    authentication and the view run; stores what they answer otherwise. Placed after the
    middleware that add headers to every answer (security, CORS, request log), which therefore
    apply to stored answers too, and before those whose work a stored answer already holds."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not settings.QUILL_CACHE or request.method != "GET" or not _anonymous(request):
            return self.get_response(request)
        match = view_at(request)
        scope = getattr(match.func, "readers_scope", None) if match else None
        if match is None or scope is None:
            return self.get_response(request)
        # The lists' version too: it says whether the next scheduled story is still known.
        scopes = [ALL, LISTS, scope if isinstance(scope, str) else scope(**match.kwargs)]
        try:
            versions = _versions(scopes)
            key = _entry_key(request, [versions[0], versions[2]]) if versions else None
            stored = _stored(key) if key else None
        except CacheErrors:
            logger.warning("The readers' cache is unreachable; answering from the database")
            return self.get_response(request)
        if stored is not None:
            status, headers, content, _ = stored
            return HttpResponse(content, status=status, headers=headers)
        response = self.get_response(request)
        # A view that said how its answer may be kept (private, no-store, ...) is not kept;
        # asked before the readers' own no-cache is added.
        told = response.has_header("Cache-Control")
        _for_readers(response)
        if key is not None and versions is not None and not told:
            try:
                _store(key, NEXT_PREFIX + ":".join(versions[:2]), response)
            except CacheErrors:
                logger.warning("Could not store in the readers' cache", exc_info=True)
        return response


# --- What each write changes: the apps' declarations ------------------------------------------

# A row written (saved or deleted) -> the scopes readers see it in. `fields` is what a save
# wrote (its update_fields), None for a whole row or a delete.
RowScopes = Callable[[Any, "frozenset[str] | None"], Iterable[str]]
EventScopes = Callable[[Any], Iterable[str]]


def nothing(row: object, fields: frozenset[str] | None) -> tuple[str, ...]:
    """The declaration of a model whose rows readers never see."""
    return ()


def everywhere(row: object, fields: frozenset[str] | None) -> tuple[str, ...]:
    """The declaration of a model whose rows may show on any page (e.g. a member's name)."""
    return (ALL,)


_rows: dict[type[Model], RowScopes] = {}
_events: dict[type[Event], EventScopes] = {}
_upcoming: list[Callable[[], datetime | None]] = []


def declare(
    *,
    models: Mapping[type[Model], RowScopes],
    events: Mapping[type[Event], EventScopes] | None = None,
    upcoming: Callable[[], datetime | None] | None = None,
) -> None:
    """An app's declaration of what its writes change for readers (its AppConfig.ready()):
    `models`, every model of the app with the scopes a row's write changes; `events`, the
    scopes the domain events of writes that send no signals change; `upcoming`, when readers'
    lists next change without a write."""
    for model, scopes in models.items():
        _rows[model] = scopes
        label = model._meta.label
        post_save.connect(_written, sender=model, dispatch_uid=f"readcache-save-{label}")
        post_delete.connect(_written, sender=model, dispatch_uid=f"readcache-delete-{label}")
        for field in model._meta.local_many_to_many:
            through = field.remote_field.through
            assert through is not None  # set up by the time apps are ready
            m2m_changed.connect(_linked, sender=through, dispatch_uid=f"readcache-m2m-{through._meta.label}")
    for event_type, event_scopes in (events or {}).items():
        _events[event_type] = event_scopes
        subscribe(event_type, _announced)
    if upcoming is not None and upcoming not in _upcoming:
        _upcoming.append(upcoming)


def declared(model: type[Model]) -> bool:
    """Whether an app said what writes of `model` change for readers (nothing included)."""
    return model in _rows


def _written(sender: type[Model], instance: Model, **kwargs: Any) -> None:
    fields = kwargs.get("update_fields")
    changed(*_rows[sender](instance, None if fields is None else frozenset(fields)))


def _linked(sender: type[Model], instance: Model, action: str, reverse: bool, **kwargs: Any) -> None:
    if action.startswith("post_"):
        # From the declaring model's side (a story's tags), that row changed; from the other
        # (a tag's stories, a group's members), any number of them: every read.
        changed(*((ALL,) if reverse else _rows[type(instance)](instance, None)))


def _announced(event: Event) -> None:
    changed(*_events[type(event)](event))
