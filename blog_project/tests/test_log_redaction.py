"""Logs never hold a password reset link's token: anyone who reads them could otherwise take
over the account (blog_project.logging.redact_secrets)."""

import http.client
import io
import logging
import secrets
from collections.abc import Iterator

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.test import RequestFactory
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from blog_project.logging import redact_secrets
from blog_project.tests.bare_gunicorn import bare_gunicorn

TOKEN = "cb8w1e-0f3c2a9d8e7b6a5f4e3d2c1b0a9f8e7d"


@pytest.mark.parametrize(
    ("text", "logged"),
    [
        (f"GET /password-reset/MQ/{TOKEN}/ 302", "GET /password-reset/MQ/<redacted>/ 302"),
        (f"/password-reset/MQ/{TOKEN}", "/password-reset/MQ/<redacted>"),  # before APPEND_SLASH
        (
            f"https://quill.example/password-reset/MQ/{TOKEN}/?x=1",
            "https://quill.example/password-reset/MQ/<redacted>/?x=1",
        ),
        ("/password-reset/MQ/set-password/", "/password-reset/MQ/set-password/"),
        ("/password-reset/done/", "/password-reset/done/"),
        ("/p/password-reset/", "/p/password-reset/"),
    ],
)
def test_only_the_secret_part_of_a_path_is_redacted(text, logged):
    assert redact_secrets(text) == logged


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    """What the configured log handler (settings.LOGGING's "stdout") writes."""
    handler = next(handler for handler in logging.getLogger().handlers if handler.name == "stdout")
    assert isinstance(handler, logging.StreamHandler)
    output = io.StringIO()
    # Not setStream(): it flushes the stream it replaces, which pytest's capture may have closed.
    previous, handler.stream = handler.stream, output
    yield output
    handler.stream = previous


@pytest.mark.django_db
def test_the_request_log_keeps_the_path_of_a_reset_link_but_not_its_token(client, user, log_output):
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    response = client.get(f"/password-reset/{uid}/{token}/", follow=True)
    assert response.status_code == 200 and "set-password" in response.redirect_chain[0][0]
    lines = log_output.getvalue()
    assert f'"path": "/password-reset/{uid}/<redacted>/"' in lines
    assert f'"path": "/password-reset/{uid}/set-password/"' in lines
    assert token not in lines


def test_djangos_own_error_lines_leave_the_token_out(log_output):
    # Django's 500 line names the path in its message and passes the request (logged as its str).
    request = RequestFactory().get(f"/password-reset/MQ/{TOKEN}/")
    try:
        raise RuntimeError(f"while serving {request.path}")
    except RuntimeError:
        logging.getLogger("django.request").exception(
            "Internal Server Error: %s", request.path, extra={"status_code": 500, "request": request}
        )
    line = log_output.getvalue()
    assert "Internal Server Error: /password-reset/MQ/<redacted>/" in line
    assert "WSGIRequest: GET '/password-reset/MQ/<redacted>/'" in line
    assert TOKEN not in line


@pytest.mark.system
def test_gunicorn_logs_leave_the_token_out_with_its_access_log_on(tmp_path):
    token = f"{secrets.token_hex(3)}-{secrets.token_hex(16)}"
    with bare_gunicorn(tmp_path, WEB_CONCURRENCY="1", GUNICORN_ACCESS_LOG="-") as server:
        connection = http.client.HTTPConnection(*server.address, timeout=30)
        connection.request("GET", f"/password-reset/MQ/{token}/")
        assert connection.getresponse().status == 200  # an unknown link's page
        connection.close()
    log = server.log.read_text()  # once gunicorn has stopped: every line written
    assert token not in log
    # gunicorn's access line and the app's request line both name the redacted path.
    assert log.count('"path": "/password-reset/MQ/<redacted>/"') == 2
