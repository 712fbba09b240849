"""gunicorn as `make run` serves Quill: production settings, a SQLite database and no Redis, for
tests that need real worker processes. Started and stopped with deploy/localstack.py's helpers."""

import importlib.util
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from django.conf import settings

REPO = Path(settings.BASE_DIR)


def load_localstack() -> ModuleType:
    spec = importlib.util.spec_from_file_location("localstack", REPO / "deploy" / "localstack.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class Server:
    address: tuple[str, int]
    log: Path  # gunicorn's output: its own lines and the app's JSON log lines


@contextmanager
def bare_gunicorn(directory: Path, **env: str) -> Iterator[Server]:
    """gunicorn on a fresh SQLite database in `directory`, once every worker serves; `env` adds
    to (or overrides) its environment, e.g. WEB_CONCURRENCY="2"."""
    localstack = load_localstack()
    env = {
        "DJANGO_SETTINGS_MODULE": "blog_project.settings",
        "DATABASE_URL": f"sqlite:///{directory / 'quill.sqlite3'}",
        "REDIS_URL": "",
        "MEDIA_ROOT": str(directory / "media"),
        "SECRET_KEY": secrets.token_urlsafe(50),
        "QUILL_HTTPS": "false",
        **env,
    }
    # As `make run` and deploy/localstack.py do: pages link the collected static files' names.
    for command in (["migrate", "--noinput"], ["collectstatic", "--noinput"]):
        subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=REPO,
            env={**os.environ, **env},
            check=True,
            capture_output=True,
            timeout=120,
        )
    port = localstack.free_port()
    master = localstack.spawn_gunicorn(directory, env, port)
    try:
        localstack.wait_for_port(port, "gunicorn", timeout=60)
        localstack.wait_for_workers(directory / "gunicorn.log", 0, master)
        yield Server(("127.0.0.1", port), directory / "gunicorn.log")
    finally:
        localstack.stop_process(master, group=True, timeout=localstack.GUNICORN_STOP_SECONDS)
