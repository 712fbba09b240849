"""EMAIL_URL: the SMTP server Quill sends email through, as one URL (read by the settings).

    smtp://[USER:PASSWORD@]HOST[:PORT][?OPTIONS]      plain SMTP, port 25 by default (a relay on
                                                       a private network, a local mail catcher)
    smtp+tls://USER:PASSWORD@HOST[:PORT][?OPTIONS]    STARTTLS, port 587 by default
    smtps://USER:PASSWORD@HOST[:PORT][?OPTIONS]       TLS from the first byte ("implicit TLS"),
    smtp+ssl://USER:PASSWORD@HOST[:PORT][?OPTIONS]    port 465 by default

These are the schemes Django projects share (django-environ, dj-email-url), but for smtps://,
which those two read as STARTTLS: here, as RFC 8314 names it (and as Quill always read it), it
is implicit TLS; smtp+tls:// and smtp+ssl:// mean the same everywhere. USER and PASSWORD are
percent-encoded (`@` is %40, `:` %3A, `/` %2F, `%` %25). OPTIONS:

    timeout=10      seconds to wait for the server (default 10)
    tls=true        STARTTLS on smtp:// (dj-email-url's spelling of smtp+tls://)
    ssl=true        implicit TLS on smtp:// (dj-email-url's spelling of smtps://)

This module imports nothing from Django but its ImproperlyConfigured, so settings can use it.
"""

from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qs, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

Security = Literal["none", "starttls", "tls"]
SCHEMES: dict[str, Security] = {"smtp": "none", "smtp+tls": "starttls", "smtps": "tls", "smtp+ssl": "tls"}
DEFAULT_PORTS: dict[Security, int] = {"none": 25, "starttls": 587, "tls": 465}
# Options that ask for a security (dj-email-url's), and what they ask for.
SECURITY_OPTIONS: dict[str, Security] = {"tls": "starttls", "ssl": "tls"}
OPTIONS = {"timeout", *SECURITY_OPTIONS}
TRUE, FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}
DEFAULT_TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class SMTPServer:
    host: str
    port: int
    user: str
    password: str
    starttls: bool  # Django's EMAIL_USE_TLS
    implicit_tls: bool  # Django's EMAIL_USE_SSL
    timeout: int


def _asks_for(options: dict[str, str], name: str) -> bool:
    value = options.get(name, "").strip().lower()
    if value not in TRUE | FALSE | {""}:
        raise ImproperlyConfigured(f"EMAIL_URL: {name}= takes true or false, not {value!r}.")
    return value in TRUE


def smtp_server_from_url(url: str) -> SMTPServer:
    """The SMTP server that EMAIL_URL names. Raises ImproperlyConfigured, never naming the
    password, when the URL is not one of the forms above."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:  # e.g. an unclosed [ of an IPv6 address
        raise ImproperlyConfigured("EMAIL_URL is not a URL: smtp://USER:PASSWORD@HOST:PORT.") from None
    if parts.scheme not in SCHEMES:
        raise ImproperlyConfigured(
            f"EMAIL_URL must start with smtp:// (plain), smtp+tls:// (STARTTLS), smtps:// or smtp+ssl:// "
            f"(implicit TLS), not {f'{parts.scheme}://' if parts.scheme else 'a URL without a scheme'} "
            "(see README, Configuration)."
        )
    if parts.path not in ("", "/"):
        raise ImproperlyConfigured("EMAIL_URL: an SMTP server's URL has no path (smtp://HOST:PORT).")
    query = parse_qs(parts.query, keep_blank_values=True)
    if unknown := set(query) - OPTIONS:
        raise ImproperlyConfigured(
            f"EMAIL_URL: unknown option {', '.join(sorted(unknown))} (known: {', '.join(sorted(OPTIONS))})."
        )
    options = {name: values[-1] for name, values in query.items()}
    security = SCHEMES[parts.scheme]
    asked = [option for option in SECURITY_OPTIONS if _asks_for(options, option)]
    if len(asked) > 1:
        raise ImproperlyConfigured("EMAIL_URL: tls=true and ssl=true ask for two kinds of TLS: choose one.")
    for option in asked:
        if security not in ("none", SECURITY_OPTIONS[option]):
            raise ImproperlyConfigured(f"EMAIL_URL: {option}=true contradicts {parts.scheme}://.")
        security = SECURITY_OPTIONS[option]
    try:
        port = parts.port
    except ValueError:
        raise ImproperlyConfigured("EMAIL_URL: the port is a number from 1 to 65535.") from None
    timeout = options.get("timeout") or str(DEFAULT_TIMEOUT_SECONDS)
    if not (timeout.isascii() and timeout.isdigit()) or int(timeout) == 0:
        raise ImproperlyConfigured(f"EMAIL_URL: timeout= is a whole number of seconds, not {timeout!r}.")
    return SMTPServer(
        host=parts.hostname or "localhost",
        port=port or DEFAULT_PORTS[security],
        user=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        starttls=security == "starttls",
        implicit_tls=security == "tls",
        timeout=int(timeout),
    )
