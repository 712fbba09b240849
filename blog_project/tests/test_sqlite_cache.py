"""The cache without Redis: one SQLite file shared by every process, atomic where rate limits
need it (blog_project.sqlite_cache)."""

import multiprocessing
import time

import pytest

from blog_project.sqlite_cache import SQLiteCache


@pytest.fixture
def shared_file(tmp_path) -> str:
    return str(tmp_path / "cache.sqlite3")


def increment_many(location: str) -> None:
    cache = SQLiteCache(location, {})
    for _ in range(200):
        cache.incr("attempts")


def test_increments_from_many_processes_at_once_are_all_counted(shared_file):
    cache = SQLiteCache(shared_file, {})
    cache.add("attempts", 0, 60)
    # Forked after the cache was used here, as gunicorn forks its workers from the master.
    processes = [
        multiprocessing.get_context("fork").Process(target=increment_many, args=(shared_file,))
        for _ in range(6)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=60)
    assert [process.exitcode for process in processes] == [0] * 6
    assert cache.get("attempts") == 1200


def test_an_entry_lives_its_timeout_and_increments_do_not_extend_it(shared_file, monkeypatch):
    now = [1_000_000.0]
    monkeypatch.setattr(time, "time", lambda: now[0])
    cache = SQLiteCache(shared_file, {})
    assert cache.add("attempts", 0, 60)
    assert not cache.add("attempts", 0, 60)  # a live entry stays
    now[0] += 59
    assert cache.incr("attempts") == 1
    now[0] += 1
    assert cache.get("attempts") is None
    with pytest.raises(ValueError):
        cache.incr("attempts")
    assert cache.add("attempts", 0, 60)  # an expired one is replaced


def test_values_come_back_as_they_were_stored(shared_file):
    cache = SQLiteCache(shared_file, {})
    values = {"count": 3, "huge": 2**70, "started": 1.5, "flag": True, "nothing": None, "page": {"a": [1]}}
    cache.set_many(values)
    assert cache.get_many(values) == values
    assert type(cache.get("flag")) is bool
    with pytest.raises(ValueError):
        cache.incr("page")  # only integers count
    cache.delete("count")
    assert not cache.has_key("count")
    cache.clear()
    assert cache.get_many(values) == {}
