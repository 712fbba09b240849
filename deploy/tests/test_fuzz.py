"""The short form of `make fuzz`: schemathesis over every operation of both APIs, anonymous and
signed in, against a throwaway stack through nginx; a few test cases per operation."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

REPO = Path(settings.BASE_DIR)


@pytest.mark.system
def test_a_short_fuzz_of_both_apis_finds_no_5xx_and_no_schema_violation(tmp_path):
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run(
        [
            # The coverage phase (schemathesis's boundary values, about 2,000 requests) and the
            # stateful one; one worker: Python 3.11's compile() is not safe in parallel threads.
            sys.executable, "deploy/fuzz.py", "--examples", "2", "--phases", "coverage,stateful",
            "--workers", "1", "--seed", "20261201", "--report-dir", str(tmp_path), "--run-timeout", "180",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "OK: no 5xx, no schema violation" in output
    total = re.search(r"^total\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)", result.stdout, re.MULTILINE)
    assert total, output
    operations, cases, requests, server_errors, failures = map(int, total.groups())
    assert operations >= 34  # every documented operation of both APIs was tried
    assert cases >= operations and requests >= cases
    assert server_errors == failures == 0
    assert re.search(r"^nginx: \d+ requests, 0 answered 5xx$", result.stdout, re.MULTILINE), output


def test_the_fuzz_hooks_know_the_upload_addresses_the_schemas_state():
    # The hooks run in schemathesis's process, without Django: their copy must not drift.
    sys.path.insert(0, str(REPO / "deploy"))
    try:
        import fuzz_hooks
    finally:
        sys.path.remove(str(REPO / "deploy"))
    from accounts import uploads

    assert fuzz_hooks.MEDIA_ADDRESS.pattern == settings.MEDIA_URL + uploads.NAME_PATTERN
