"""The mail server of the email-job measurement (bench/run.py): a plain SMTP server (aiosmtpd)
on a loopback port that accepts every message, keeps none and counts them, as a local mail
catcher would. Its own process, so that its work is not the harness's.

    python -m bench.smtpsink --port 2525

Stops on SIGTERM or SIGINT, printing one JSON line: {"messages": N, "bytes": B}.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from typing import Any

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self) -> None:
        self.messages = 0
        self.bytes = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages += 1
        self.bytes += len(envelope.content or b"")
        return "250 OK"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    sink = Sink()
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    controller = Controller(sink, hostname="127.0.0.1", port=args.port)
    controller.start()
    try:
        stop.wait()
    finally:
        controller.stop()
    print(json.dumps({"messages": sink.messages, "bytes": sink.bytes}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
