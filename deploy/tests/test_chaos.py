"""The short form of `make chaos` (deploy/chaos.py --short): on a throwaway stack under bounded
load, PgBouncer is SIGKILLed and started again, then gunicorn workers are SIGKILLed, then a job
worker is SIGKILLed in the middle of sending a password-reset email, then the SMTP server is
down for 10 s while reset requests keep coming. Every request during the PgBouncer outage is
answered within 1 s (503 or served), the site serves again within 2 s, and every acknowledged
story is in Postgres with its tags, none twice, and none that was not acknowledged; the killed
worker's job runs again, and every requested email arrives exactly once, the reset requests
answered as usual."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

pytestmark = pytest.mark.system

REPO = Path(settings.BASE_DIR)
RUN_TIMEOUT = 300  # about 80 s when all is well, the stack's start included


def test_a_short_chaos_run_meets_every_target():
    # chaos.py starts its own stack with the production settings, not the test suite's.
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    process = subprocess.Popen(
        [sys.executable, "deploy/chaos.py", "--short"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        output, _ = process.communicate(timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGTERM)  # chaos.py stops its stack on SIGTERM
        output, _ = process.communicate(timeout=120)
        pytest.fail(f"deploy/chaos.py --short ran over {RUN_TIMEOUT}s:\n{output}")
    print(output)
    assert process.returncode == 0, output
    assert "All targets met." in output

    rows = {
        match["fault"]: match
        for match in re.finditer(
            r"^(?P<fault>PgBouncer SIGKILL\+restart|gunicorn worker SIGKILL|job worker SIGKILL mid-job"
            r"|SMTP down)\s+(?P<requests>\d+)\s+"
            r"(?P<statuses>(?:\S+:\d+ ?)+)\s.*\s(?P<verdict>PASS|FAIL)$",
            output,
            re.MULTILINE,
        )
    }
    assert set(rows) == {
        "PgBouncer SIGKILL+restart",
        "gunicorn worker SIGKILL",
        "job worker SIGKILL mid-job",
        "SMTP down",
    }, output
    for row in rows.values():
        assert row["verdict"] == "PASS"
        assert int(row["requests"]) > 50  # there was load
    # The outage was seen (and answered 503), not missed by a fault that did nothing.
    assert re.search(r"\b503:\d+", rows["PgBouncer SIGKILL+restart"]["statuses"]), output
    # The password resets were asked for (302), and their mail checked: once each, none missing.
    for fault, resets in (("job worker SIGKILL mid-job", 4), ("SMTP down", 20)):
        answered = re.search(r"\b302:(\d+)", rows[fault]["statuses"])
        assert answered and int(answered[1]) >= resets, output
    assert output.count("[ok] each requested mail arrived, exactly once (0 missing, 0 more than once)") == 2
    assert "[ok] the killed worker's job ran again" in output
    final = re.search(r"^End of the run: (\d+) acknowledged creates .* lost 0, wrong tags 0, duplicates 0, "
                      r"unacknowledged in the database 0$", output, re.MULTILINE)  # fmt: skip
    assert final and int(final[1]) > 20, output
