"""EMAIL_URL: its scheme says how the SMTP server is secured, as Django projects spell it
(mail.email_url), and mail really goes out through it."""

import secrets

import pytest
from django.core.exceptions import ImproperlyConfigured

from blog_project.tests.test_settings import run_django
from mail.email_url import SMTPServer, smtp_server_from_url


@pytest.mark.parametrize(
    ("url", "port", "starttls", "implicit_tls"),
    [
        ("smtp://mail.example.com", 25, False, False),
        ("smtp+tls://mail.example.com", 587, True, False),
        ("smtps://mail.example.com", 465, False, True),
        ("smtp+ssl://mail.example.com", 465, False, True),
        # A local mail catcher: plain SMTP whatever the port (STARTTLS was forced on all but 25).
        ("smtp://127.0.0.1:1025", 1025, False, False),
        ("smtp+tls://mail.example.com:2525", 2525, True, False),
        ("smtps://mail.example.com:4650", 4650, False, True),
        # dj-email-url's options on smtp://, with its default ports.
        ("smtp://mail.example.com?tls=true", 587, True, False),
        ("smtp://mail.example.com:465?ssl=True", 465, False, True),
        ("smtp+tls://mail.example.com?tls=1", 587, True, False),
    ],
)
def test_the_scheme_says_how_the_server_is_secured(url, port, starttls, implicit_tls):
    server = smtp_server_from_url(url)
    assert (server.host, server.port) == ("mail.example.com" if "example" in url else "127.0.0.1", port)
    assert (server.starttls, server.implicit_tls) == (starttls, implicit_tls)


def test_credentials_are_percent_decoded_and_options_read():
    server = smtp_server_from_url(
        "smtp+tls://ada%40example.com:p%40ss%3Aw%2Fo%25rd+@Mail.Example.com:587/?timeout=3"
    )
    assert server == SMTPServer(
        host="mail.example.com",
        port=587,
        user="ada@example.com",
        password="p@ss:w/o%rd+",
        starttls=True,
        implicit_tls=False,
        timeout=3,
    )
    assert smtp_server_from_url("smtp://relay").timeout == 10


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://ada:hunter2@mail.example.com", "must start with smtp:// (plain), smtp+tls:// (STARTTLS)"),
        ("submission://ada:hunter2@mail.example.com", "not submission://"),
        ("mail.example.com", "not a URL without a scheme"),
        ("smtp://ada:hunter2@mail.example.com:99999", "the port is a number from 1 to 65535"),
        ("smtp://ada:hunter2@mail.example.com/inbox", "has no path"),
        ("smtp://ada:hunter2@mail.example.com?timout=5", "unknown option timout"),
        ("smtp://ada:hunter2@mail.example.com?timeout=soon", "timeout= is a whole number of seconds"),
        ("smtp://ada:hunter2@mail.example.com?tls=maybe", "tls= takes true or false"),
        ("smtp://ada:hunter2@mail.example.com?tls=true&ssl=true", "choose one"),
        ("smtps://ada:hunter2@mail.example.com?tls=true", "tls=true contradicts smtps://"),
        ("smtp://ada:hunter2@[::1", "is not a URL"),
    ],
)
def test_a_url_that_is_not_understood_stops_the_start_with_a_message_that_keeps_the_password(url, message):
    with pytest.raises(ImproperlyConfigured) as refusal:
        smtp_server_from_url(url)
    assert message in str(refusal.value)
    assert "hunter2" not in str(refusal.value)


@pytest.mark.system
def test_the_settings_send_through_the_server_that_email_url_names(mail_server):
    port = mail_server.port
    result = run_django(
        ["sendtestemail", "ada@example.com"],
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        EMAIL_URL=f"smtp://127.0.0.1:{port}",
    )
    assert result.returncode == 0, result.stderr
    assert [message["To"] for message in mail_server.messages] == ["ada@example.com"]
