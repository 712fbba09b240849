"""Django's Redis cache backend, with one client per connection pool instead of one per call.

Django's RedisCacheClient makes a new redis.Redis for every operation, and redis-py builds a
table of about two hundred response callbacks in each: on a cache hit that was the largest
cost of the request (py-spy, bench: GET /api/v1/blog/bulk from the readers' cache). A
redis.Redis only holds its pool, is safe to share between threads, and its pool reconnects
after a fork, so one per pool is kept.
"""

from typing import Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient


class ReusedClientRedisCacheClient(RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        # (django-stubs does not describe RedisCacheClient's private members.)
        index = self._get_connection_pool_index(write)  # type: ignore[attr-defined]
        client = self._clients.get(index)
        if client is None:
            pool = self._get_connection_pool(write)  # type: ignore[attr-defined]
            client = self._clients[index] = self._client(connection_pool=pool)  # type: ignore[attr-defined]
        return client


class QuillRedisCache(RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = ReusedClientRedisCacheClient
