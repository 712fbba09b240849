"""Fixtures shared by every app's tests.

The tests run with blog_project.test_settings (see pyproject.toml): the production settings
with a fast password hasher and static files served from the source folders.
"""

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from playwright.sync_api import sync_playwright
from rest_framework.test import APIClient

from accounts.models import User
from accounts.services import issue_tokens
from accounts.tests.factories import UserFactory
from blog_project import settings as production_settings
from faces.api.v1 import FACE as V1
from mail.testing import MailServer

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


# Playwright's sync API marks an asyncio loop as running in the test thread from its start
# until it stops, and Django refuses ORM calls from a thread with a running loop unless
# DJANGO_ALLOW_ASYNC_UNSAFE is set. So each browser test module starts and stops its own
# Playwright (pytest-playwright's lives until the end of the session, which would leave the
# loop marked as running for every later test) and sets the variable only while it runs:
# these fixtures replace pytest-playwright's session-wide ones, and only tests that ask for
# a `page` (or `browser`) ever start them.
@pytest.fixture(scope="module")
def _orm_beside_playwright():
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


@pytest.fixture(scope="module")
def playwright(_orm_beside_playwright):
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright, browser_name, browser_type_launch_args):
    browser = getattr(playwright, browser_name).launch(**browser_type_launch_args)
    yield browser
    browser.close()


@pytest.fixture(scope="module")
def browser_context_args(playwright, device, base_url):
    args = dict(playwright.devices[device]) if device else {}
    return args | ({"base_url": base_url} if base_url else {})


@pytest.fixture
def screenshots(tmp_path) -> Path:
    """Where browser tests put their screenshots: a temporary folder, or
    QUILL_SCREENSHOTS_DIR (relative to the repository, e.g. the README's) if set."""
    if not os.environ.get("QUILL_SCREENSHOTS_DIR"):
        return tmp_path
    folder = Path(django_settings.BASE_DIR) / os.environ["QUILL_SCREENSHOTS_DIR"]
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Rate-limit counters live in the (shared) cache: every test starts with none.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def readers_cache(settings):
    """The readers' cache on (the tests' settings have it off), starting and ending empty."""
    settings.QUILL_CACHE = True
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
def mail_server(unused_tcp_port) -> Iterator[MailServer]:
    """A real SMTP server on a loopback port (mail.testing.MailServer); `messages` is what arrived."""
    server = MailServer(unused_tcp_port)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def smtp_settings(settings, mail_server) -> MailServer:
    """Quill's mail goes over SMTP to `mail_server` (pytest-django would keep it in mail.outbox)."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = mail_server.host, mail_server.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    return mail_server


@pytest.fixture
def production_password_hashers(settings):
    """The production PASSWORD_HASHERS (Argon2 first) instead of the tests' fast MD5 hasher."""
    settings.PASSWORD_HASHERS = list(production_settings.PASSWORD_HASHERS)


@pytest.fixture
def api_client_for():
    """Makes an API client that sends a fresh `Authorization: Bearer` access token for a user."""

    def make(user: User) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_tokens(user=user, face=V1.name).access}")
        return client

    return make
