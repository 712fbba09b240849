"""Production configuration: refuses unsafe keys, passes Django's deploy checks, sends security headers."""

import logging
import os
import secrets
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client

REPO = settings.BASE_DIR


def run_django(args: list[str], **env: str) -> subprocess.CompletedProcess:
    clean_env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DEBUG", "SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE")
    }
    # The production settings, not the test settings pytest put in DJANGO_SETTINGS_MODULE.
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env={**clean_env, "DJANGO_SETTINGS_MODULE": "blog_project.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.system
@pytest.mark.parametrize(
    "key", [None, "change-me", "django-insecure-quill-development-key-not-for-production"]
)
def test_production_refuses_to_start_with_a_missing_or_default_secret_key(key):
    env = {"DEBUG": "false"} | ({"SECRET_KEY": key} if key else {})
    result = run_django(["check"], **env)
    assert result.returncode != 0
    assert "SECRET_KEY is missing or a known default" in result.stderr


@pytest.mark.system
def test_deploy_checks_are_clean_with_production_settings():
    result = run_django(
        ["check", "--deploy", "--fail-level", "WARNING"],
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        QUILL_HTTPS="true",
        ALLOWED_HOSTS="quill.example.com",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_migrations_match_the_models(db):
    # Raises SystemExit(1) if a model change has no migration.
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


@pytest.mark.parametrize("path", ["/", "/healthz", "/api/v1/blog/bulk", "/no-such-page/"])
def test_every_response_carries_the_security_headers(client, db, path):
    response = client.get(path)
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_each_request_is_logged_as_one_structured_line(client, db, caplog):
    with caplog.at_level(logging.INFO, logger="quill.request"):
        response = client.get("/healthz", HTTP_X_REQUEST_ID="abc123")
    assert response["X-Request-ID"] == "abc123"
    (record,) = [r for r in caplog.records if r.name == "quill.request"]
    assert (record.method, record.path, record.status, record.request_id) == (
        "GET",
        "/healthz",
        200,
        "abc123",
    )
    assert record.duration_ms >= 0


def test_json_log_formatter_emits_one_json_object_per_line():
    import json

    from blog_project.logging import JsonFormatter

    record = logging.LogRecord("quill.request", logging.INFO, __file__, 1, "GET / %s", (200,), None)
    record.status = 200
    line = JsonFormatter().format(record)
    assert "\n" not in line
    assert json.loads(line) | {"ts": None} == {
        "ts": None,
        "level": "INFO",
        "logger": "quill.request",
        "message": "GET / 200",
        "status": 200,
    }


def test_a_form_post_without_csrf_token_gets_the_friendly_403_page(db):
    response = Client(enforce_csrf_checks=True).post("/healthz")
    assert response.status_code == 403
    assert b"This form has expired" in response.content
    assert b"<html" in response.content
