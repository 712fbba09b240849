"""The floor: the least a Python WSGI app must do to answer API v1's two public reads.

    GET /api/v1/blog/bulk[?page=&page_size=]   the same JSON as Quill's (posts, count, next, previous)
    GET /api/v1/blog/<id>                      {"post": {...}}, 404 {"error": ...} otherwise

One hand-written SQL query for each, through the same PgBouncer (DATABASE_URL), on one
connection per worker kept open (as Quill's DB_CONN_MAX_AGE does), with psycopg's client-side
binding (nothing prepared: PgBouncer's transaction mode), rows turned into the same dicts and
json.dumps'ed. No framework, no middleware, no sessions, no logging beyond gunicorn's own.
bench/run.py serves it with Quill's gunicorn settings behind its own nginx and checks that its
answers equal Quill's; Quill's numbers are then printed as a ratio to these.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode

import psycopg

COLUMNS = """
    p.id, p.title, p.slug, p.content, p.excerpt, p.status, p.published_at, p.created_at,
    p.updated_at, p.reading_time, p.cover_image, p.version, u.id, u.username, u.name,
    ARRAY(SELECT t.name FROM posts_post_tags pt JOIN posts_tag t ON t.id = pt.tag_id
          WHERE pt.post_id = p.id ORDER BY t.name)
"""
PUBLISHED = "p.status = 'published' AND p.published_at <= now()"
# The page and the total in one statement: the count is an InitPlan run once.
BULK_SQL = f"""
    SELECT {COLUMNS}, (SELECT count(*) FROM posts_post p WHERE {PUBLISHED})
    FROM (SELECT * FROM posts_post p WHERE {PUBLISHED}
          ORDER BY p.published_at DESC, p.created_at DESC LIMIT %s OFFSET %s) p
    JOIN accounts_user u ON u.id = p.author_id
    ORDER BY p.published_at DESC, p.created_at DESC
"""
BY_ID_SQL = f"""
    SELECT {COLUMNS} FROM posts_post p JOIN accounts_user u ON u.id = p.author_id
    WHERE p.id = %s AND {PUBLISHED}
"""
UUID_PATTERN = re.compile(r"^/api/v1/blog/([0-9a-fA-F-]{32,36})$")
PAGE_SIZE, MAX_PAGE_SIZE = 20, 100
NOT_FOUND = "No such story."

_connection: psycopg.Connection[Any] | None = None

StartResponse = Callable[[str, list[tuple[str, str]]], Any]


def _query(sql: str, params: Iterable[Any]) -> list[tuple[Any, ...]]:
    global _connection
    for attempt in (1, 2):
        try:
            if _connection is None or _connection.closed:
                _connection = psycopg.connect(
                    os.environ["DATABASE_URL"],
                    autocommit=True,
                    prepare_threshold=None,
                    cursor_factory=psycopg.ClientCursor,
                )
            with _connection.cursor() as cursor:
                cursor.execute(sql, list(params))
                return cursor.fetchall()
        except psycopg.OperationalError:
            _connection = None
            if attempt == 2:
                raise
    raise AssertionError("not reached")


def _time(value: datetime | None) -> str | None:
    # DRF's DateTimeField: ISO 8601 in UTC, "Z" for +00:00.
    if value is None:
        return None
    text = value.astimezone(UTC).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _post(row: tuple[Any, ...]) -> dict[str, Any]:
    return {
        "id": str(row[0]),
        "title": row[1],
        "slug": row[2],
        "content": row[3],
        "excerpt": row[4],
        "published": row[5] == "published",
        "published_at": _time(row[6]),
        "created_at": _time(row[7]),
        "updated_at": _time(row[8]),
        "reading_time": row[9],
        "tags": row[15],
        "author": {"id": row[12], "username": row[13], "name": row[14]},
        "cover_image": row[10],
        "version": row[11],
    }


def _link(environ: dict[str, Any], query: dict[str, str], page: int) -> str:
    # DRF's replace_query_param / remove_query_param on the absolute URL: keys sorted.
    changed = {**query, "page": str(page)} if page > 1 else {k: v for k, v in query.items() if k != "page"}
    base = f"{environ.get('wsgi.url_scheme', 'http')}://{environ.get('HTTP_HOST', 'localhost')}"
    encoded = urlencode(sorted(changed.items()))
    return f"{base}{environ.get('PATH_INFO', '')}" + (f"?{encoded}" if encoded else "")


def _whole_number(raw: str | None, default: int) -> int | None:
    try:
        number = int(raw or default)
    except ValueError:
        return None
    return number if number >= 1 else None


def _bulk(environ: dict[str, Any]) -> tuple[str, Any]:
    query = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
    page = _whole_number(query.get("page"), 1)
    size = _whole_number(query.get("page_size"), PAGE_SIZE)
    if page is None or size is None:
        return "400 Bad Request", {"error": "Use a whole number of 1 or more."}
    size = min(size, MAX_PAGE_SIZE)
    rows = _query(BULK_SQL, [size, (page - 1) * size])
    if not rows:
        return "404 Not Found", {"error": f"Page {page} is past the last page."}
    count = rows[0][16]
    return "200 OK", {
        "posts": [_post(row) for row in rows],
        "count": count,
        "next": _link(environ, query, page + 1) if page * size < count else None,
        "previous": _link(environ, query, page - 1) if page > 1 else None,
    }


def _by_id(post_id: str) -> tuple[str, Any]:
    rows = _query(BY_ID_SQL, [post_id])
    if not rows:
        return "404 Not Found", {"error": NOT_FOUND}
    return "200 OK", {"post": _post(rows[0])}


def application(environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
    path = environ.get("PATH_INFO", "")
    if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
        status, body = "405 Method Not Allowed", {"error": "Method not allowed."}
    elif path == "/api/v1/blog/bulk":
        status, body = _bulk(environ)
    elif match := UUID_PATTERN.match(path):
        try:
            status, body = _by_id(match[1])
        except psycopg.errors.InvalidTextRepresentation:
            status, body = "404 Not Found", {"error": NOT_FOUND}
    else:
        status, body = "404 Not Found", {"error": "Not found."}
    data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]
