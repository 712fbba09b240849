"""gunicorn settings, read from the environment (see README's configuration table)."""

import multiprocessing
import os
from typing import Any

from gunicorn.glogging import Logger  # type: ignore[import-untyped]  # (gunicorn ships no types)

from blog_project.logging import RedactSecrets

bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY") or min(2 * multiprocessing.cpu_count() + 1, 8))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
# On SIGTERM the workers finish the requests in flight for up to this long, then exit.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "20"))
keepalive = 5
# Recycle workers now and then so a slow leak can never take a worker down. Not too often: a
# new worker opens its connections anew and starts with an empty local cache, and at 2,000 the
# bench saw each worker replaced every ~12 s under load, with p99 spikes (by_id at 64 clients:
# 1,000 ms at 2,000, 200 ms at 20,000). Worker memory stays flat under load (bench: ~105 MiB).
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "20000"))
max_requests_jitter = max_requests // 10
# The app writes one JSON line per request (faces.middleware.RequestLogMiddleware: method,
# path, status, duration, request id, user); gunicorn's own access line would write each again.
# GUNICORN_ACCESS_LOG=- turns it back on (to stdout), in this JSON shape.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
access_log_format = (
    '{"ts": "%(t)s", "remote": "%(h)s", "method": "%(m)s", "path": "%(U)s", '
    '"status": %(s)s, "bytes": "%(B)s", "duration_ms": %(M)s, "request_id": "%({x-request-id}o)s"}'
)


class RedactingLogger(Logger):
    """gunicorn's logger, with secrets (a password reset link's token...) left out of its access
    and error lines, whatever their format (blog_project.logging.redact_secrets)."""

    def __init__(self, cfg: Any) -> None:
        super().__init__(cfg)
        for log in (self.error_log, self.access_log):
            log.addFilter(RedactSecrets())


logger_class = RedactingLogger

# The app is loaded (and warmed: blog_project.wsgi) once, in the master, before the workers
# fork: they start serving at once and share its memory, and a worker recycled by max_requests
# costs a fork, not an import of Django. Code changes take a restart (SIGUSR2), not SIGHUP.
preload_app = True
# Whose X-Forwarded-Proto gunicorn believes: the proxy's (nginx on the same host; `*` in
# Compose, where web publishes no port and only the proxy reaches it).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# No reuse_port: with it each worker listens on a socket of its own, and a worker that exits
# (max_requests, a timeout) takes the connections waiting in its queue with it. Zero-downtime
# restarts use SIGUSR2 instead: see README ("Running the full stack").


def post_worker_init(worker: Any) -> None:
    # The app is loaded: from now on this worker serves. deploy/localstack.py's restart-web
    # waits for this line from every worker of the new master before it stops the old one.
    worker.log.info("Worker ready (pid %s, master %s)", worker.pid, worker.ppid)
