"""The cache when there is no Redis (`make run`): one SQLite file that every process on the machine
shares, so that rate-limit counters (accounts.ratelimit) are exact across gunicorn workers.

Django's own backends fall short of that: LocMemCache counts in each process apart, and the
file and database caches increment with a get then a set, so two workers can both read 3 and
both write 4. The database cache also writes through the request's own connection, inside its
transaction: an attempt counted by a service that then fails (a wrong password) would be rolled
back with it. Here every operation is one SQL statement, committed at once on a connection of
the cache's own; SQLite runs writers one at a time, so `add` and `incr` are atomic.

Integers are stored as SQLite integers, so that `incr` adds in place; anything else is pickled.
Expired entries are deleted now and then by the writes (there is no size limit: what is stored
here expires, rate-limit counters within a period).
"""

import itertools
import os
import pickle
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache

SCHEMA = [
    # expires: seconds since the epoch; NULL for an entry that never expires.
    "CREATE TABLE IF NOT EXISTS cache (key TEXT PRIMARY KEY, value BLOB NOT NULL, expires REAL)",
    "CREATE INDEX IF NOT EXISTS cache_expires ON cache (expires)",
]
LIVE = "(expires IS NULL OR expires > ?)"
# One write in this many (per process) also deletes the expired entries.
PURGE_EVERY = 100
# How long a statement waits for another process's write to finish before it fails.
BUSY_TIMEOUT_SECONDS = 10
SQLITE_INTEGER = range(-(2**63), 2**63)


def _encode(value: Any) -> int | bytes:
    if type(value) is int and value in SQLITE_INTEGER:
        return value
    return pickle.dumps(value, pickle.HIGHEST_PROTOCOL)


def _decode(stored: int | bytes) -> Any:
    return stored if isinstance(stored, int) else pickle.loads(stored)


class SQLiteCache(BaseCache):
    """CACHES = {"default": {"BACKEND": "blog_project.sqlite_cache.SQLiteCache", "LOCATION": path}}"""

    def __init__(self, location: str, params: dict[str, Any]) -> None:
        super().__init__(params)
        self._path = Path(location)
        self._local = threading.local()
        self._writes = itertools.count()

    def _db(self) -> sqlite3.Connection:
        # One connection per thread (sqlite3's rule) and per process: a connection must not cross
        # a fork, and gunicorn's master loads the app before it forks the workers.
        if getattr(self._local, "pid", None) != os.getpid():
            self._path.parent.mkdir(parents=True, exist_ok=True)
            # isolation_level=None: autocommit, each statement its own transaction.
            db = sqlite3.connect(self._path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            for statement in SCHEMA:
                db.execute(statement)
            self._local.db, self._local.pid = db, os.getpid()
        return self._local.db

    def _execute(self, sql: str, *params: Any) -> sqlite3.Cursor:
        return self._db().execute(sql, params)

    def _purge_now_and_then(self) -> None:
        if next(self._writes) % PURGE_EVERY == 0:
            self._execute("DELETE FROM cache WHERE expires <= ?", time.time())

    def add(
        self, key: Any, value: Any, timeout: float | None = DEFAULT_TIMEOUT, version: int | None = None
    ) -> bool:
        self._purge_now_and_then()
        key = self.make_and_validate_key(key, version=version)
        added = self._execute(
            "INSERT INTO cache (key, value, expires) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE"
            " SET value = excluded.value, expires = excluded.expires WHERE cache.expires <= ?",
            key,
            _encode(value),
            self.get_backend_timeout(timeout),
            time.time(),
        )
        return added.rowcount == 1

    def set(
        self, key: Any, value: Any, timeout: float | None = DEFAULT_TIMEOUT, version: int | None = None
    ) -> None:
        self._purge_now_and_then()
        key = self.make_and_validate_key(key, version=version)
        self._execute(
            "INSERT INTO cache (key, value, expires) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE"
            " SET value = excluded.value, expires = excluded.expires",
            key,
            _encode(value),
            self.get_backend_timeout(timeout),
        )

    def get(self, key: Any, default: Any | None = None, version: int | None = None) -> Any:
        key = self.make_and_validate_key(key, version=version)
        row = self._execute(f"SELECT value FROM cache WHERE key = ? AND {LIVE}", key, time.time()).fetchone()
        return default if row is None else _decode(row[0])

    def has_key(self, key: Any, version: int | None = None) -> bool:
        key = self.make_and_validate_key(key, version=version)
        return (
            self._execute(f"SELECT 1 FROM cache WHERE key = ? AND {LIVE}", key, time.time()).fetchone()
            is not None
        )

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        key = self.make_and_validate_key(key, version=version)
        # fetchall: the statement runs to its end, so its transaction commits now.
        rows = self._execute(
            f"UPDATE cache SET value = value + ? WHERE key = ? AND {LIVE} AND typeof(value) = 'integer'"
            " RETURNING value",
            delta,
            key,
            time.time(),
        ).fetchall()
        if not rows:
            raise ValueError(f"Key {key!r} not found, or not an integer.")
        return rows[0][0]

    def touch(self, key: Any, timeout: float | None = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        key = self.make_and_validate_key(key, version=version)
        touched = self._execute(
            f"UPDATE cache SET expires = ? WHERE key = ? AND {LIVE}",
            self.get_backend_timeout(timeout),
            key,
            time.time(),
        )
        return touched.rowcount == 1

    def delete(self, key: Any, version: int | None = None) -> bool:
        key = self.make_and_validate_key(key, version=version)
        return self._execute("DELETE FROM cache WHERE key = ?", key).rowcount == 1

    def clear(self) -> None:
        self._execute("DELETE FROM cache")
