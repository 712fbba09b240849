"""A real SMTP server (aiosmtpd) on a loopback port, and what it received: for the test suite's
`mail_server` and `smtp_settings` fixtures (conftest.py) and for deploy/chaos.py, which runs as
a plain script outside Django. So this module imports nothing from Django, and aiosmtpd
(requirements-dev.txt) only when a server starts.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aiosmtpd.controller import Controller

HOST = "127.0.0.1"  # loopback only


@dataclass(frozen=True)
class Delivery:
    """One message as the server received it."""

    arrived: float  # time.monotonic()
    recipients: tuple[str, ...]  # the envelope's, RCPT TO
    message: EmailMessage


class MailServer:
    """A real SMTP server on HOST:`port` (a free port: the caller picks it), plain, as a local
    mail catcher is; `messages` is what arrived, `arrivals` when each address got mail. It can be
    stopped (SMTP down: connections refused) and started again on the same port. A subclass can
    add aiosmtpd's other hooks (handle_RCPT, ...)."""

    def __init__(self, port: int) -> None:
        self.host = HOST
        self.port = port
        self._received_lock = threading.Lock()  # handle_DATA runs in the server's thread
        self._deliveries: list[Delivery] = []
        self._controller: Controller | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        delivery = Delivery(time.monotonic(), tuple(envelope.rcpt_tos), message)
        with self._received_lock:
            self._deliveries.append(delivery)
        return "250 OK"

    def start(self) -> None:
        from aiosmtpd.controller import Controller  # requirements-dev.txt

        self._controller = Controller(self, hostname=self.host, port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def deliveries(self) -> list[Delivery]:
        """Everything received so far, in order."""
        with self._received_lock:
            return list(self._deliveries)

    @property
    def messages(self) -> list[EmailMessage]:
        """The messages received so far, in order."""
        return [delivery.message for delivery in self.deliveries]

    def arrivals(self, addresses: set[str]) -> dict[str, list[float]]:
        """When (time.monotonic()) each of `addresses` (lower case) got a message, matched on the
        envelope's recipients in any case; an address with none is left out."""
        found: dict[str, list[float]] = {}
        for delivery in self.deliveries:
            for recipient in delivery.recipients:
                if recipient.lower() in addresses:
                    found.setdefault(recipient.lower(), []).append(delivery.arrived)
        return found
