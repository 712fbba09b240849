"""The Django side of the job measurements (run by bench/run.py with the stack's settings in the
environment): enqueues jobs with django-tasks' own `enqueue`, as Quill's services do.

    python -m bench.enqueue noop --count 2000             # all in one transaction
    python -m bench.enqueue email --count 1000            # password-reset emails to the authors
    python -m bench.enqueue noop --count 200 --rate 50    # one at a time, 50 a second

Without --rate, every job is enqueued in one transaction: they become visible to the workers
all at once, when it commits. With --rate, each job is its own transaction, paced evenly.
Prints one JSON line: {"count", "seconds" (enqueueing), "committed" (epoch seconds, the
batch's commit or the last job's)}.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from typing import Any

from bench.seed import setup_django

SITE = "http://127.0.0.1"


def enqueue(kind: str, count: int, rate: float | None) -> dict[str, Any]:
    from django.db import transaction

    from accounts.jobs import send_password_reset
    from accounts.models import User
    from bench.jobs import noop

    if kind == "email":
        authors = list(User.objects.filter(email__endswith="@bench.example").values_list("pk", flat=True))
        if not authors:
            raise SystemExit("No bench authors to mail: seed first (python -m bench.seed seed).")
        users = itertools.cycle(authors)

    def one() -> None:
        if kind == "email":
            send_password_reset.enqueue(user_id=next(users), site=SITE)
        else:
            noop.enqueue()

    started = time.monotonic()
    if rate:
        for index in range(count):
            # Evenly paced from the start, whatever each enqueue took.
            time.sleep(max(0.0, started + index / rate - time.monotonic()))
            one()
    else:
        with transaction.atomic():
            for _ in range(count):
                one()
    committed = time.time()
    return {"count": count, "seconds": round(time.monotonic() - started, 3), "committed": committed}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("kind", choices=["noop", "email"])
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--rate", type=float, help="jobs per second, one transaction each")
    args = parser.parse_args()
    setup_django()
    print(json.dumps(enqueue(args.kind, args.count, args.rate)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
