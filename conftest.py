"""Fixtures shared by every app's tests.

The tests run with blog_project.test_settings (see pyproject.toml): the production settings
with a fast password hasher and static files served from the source folders.
"""

import socket

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tests.factories import UserFactory
from blog_project import settings as production_settings

# The test settings module matches python_files (test_*.py) but holds no tests.
collect_ignore = ["blog_project/test_settings.py"]

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    # Browser downloads are impossible here: drive the system's Chromium.
    return {**browser_type_launch_args, "executable_path": "/usr/bin/chromium", "args": CHROMIUM_ARGS}


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Rate-limit counters live in the (shared) cache: every test starts with none.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def other_user(db):
    return UserFactory()


@pytest.fixture
def moderator(db):
    return User.objects.create_superuser(email="mod@example.com", password="moderator-pass-2026")


@pytest.fixture
def moderator_client(client, moderator):
    """A browser session of a staff superuser, for the moderation admin."""
    client.force_login(moderator)
    return client


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def unused_tcp_port() -> int:
    """A loopback port where nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def production_password_hashers(settings):
    """The production PASSWORD_HASHERS (Argon2 first) instead of the tests' fast MD5 hasher."""
    settings.PASSWORD_HASHERS = list(production_settings.PASSWORD_HASHERS)
