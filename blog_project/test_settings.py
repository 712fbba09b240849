"""The settings pytest runs with (pyproject.toml): production's, minus what only slows tests.

Processes that tests start themselves (`manage.py check --deploy`, the stack's gunicorn, …)
get DJANGO_SETTINGS_MODULE=blog_project.settings, so they check the real configuration.
"""

import atexit
import shutil
import tempfile
from pathlib import Path

from blog_project.settings import *  # noqa: F403
from blog_project.settings import CACHES, PASSWORD_HASHERS, REDIS_URL, STORAGES

# Argon2 is slow on purpose; Django's advice for tests is a fast hasher. The production
# hashers stay behind it, so passwords hashed with them still verify.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]

# Tests run without collectstatic: with the production manifest storage, any page that
# links a static file added since the last collectstatic would fail to render.
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Images that tests upload land in a throwaway folder, never in var/media.
MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="quill-test-media-"))
atexit.register(shutil.rmtree, MEDIA_ROOT, ignore_errors=True)

# Without Redis, the cache is a SQLite file: a throwaway one, never var/'s (each test clears it).
if not REDIS_URL:
    _cache_folder = Path(tempfile.mkdtemp(prefix="quill-test-cache-"))
    atexit.register(shutil.rmtree, _cache_folder, ignore_errors=True)
    CACHES = {"default": {**CACHES["default"], "LOCATION": str(_cache_folder / "cache.sqlite3")}}

# Each test starts from an empty database, not from an empty cache: the readers' cache is off
# but in the tests that turn it on (the `readers_cache` fixture).
QUILL_CACHE = False
