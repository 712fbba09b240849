"""Composing and sending one email from a family of templates.

A message named `accounts/mail/password_reset` is three templates: `..._subject.txt` (one line),
`....txt` (the text part, extending mail/base.txt) and `....html` (the HTML part, extending
mail/base.html). Call `send` from a job: it raises when the SMTP server refuses or cannot be
reached, and the job is tried again later.
"""

from collections.abc import Mapping
from typing import Any

from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string


def compose(
    *, template: str, to: str, context: Mapping[str, Any], headers: Mapping[str, str] | None = None
) -> EmailMultiAlternatives:
    """The message, both parts rendered with `context`; `headers` are added as they are."""
    # One line, whatever the template's whitespace: a header cannot hold a newline.
    subject = " ".join(render_to_string(f"{template}_subject.txt", context).split())
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"{template}.txt", context),
        to=[to],
        headers=dict(headers or {}),
    )
    message.attach_alternative(render_to_string(f"{template}.html", context), "text/html")
    return message


def send(
    *, template: str, to: str, context: Mapping[str, Any], headers: Mapping[str, str] | None = None
) -> None:
    """Sends the message now (from a job). Raises on any SMTP failure, so the job retries."""
    compose(template=template, to=to, context=context, headers=headers).send(fail_silently=False)


def unsubscribe_headers(url: str) -> dict[str, str]:
    """RFC 8058 one-click unsubscribe: mail clients POST `List-Unsubscribe=One-Click` to `url`."""
    return {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
