"""`make bench`'s short form: the harness (bench/run.py) end to end, on a tiny data set, for
about a second per scenario at one concurrency, both cache modes and the floor, then a few
seconds of jobs (100 no-op and 20 email jobs with 1 and 2 workers, the enqueue cost in a request,
a new story's notices to 600 followers). It checks that the tables come out and that no request
or job failed (no socket error, no 5xx, no unexpected status, every email at the SMTP sink, every
follower's notice), never how fast anything was: this machine's speed is not the code's."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from bench.run import SCENARIOS

pytestmark = [
    pytest.mark.system,
    pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed (`make test` installs it)"),
]

REPO = Path(settings.BASE_DIR)
# What each row of latest.json has at least.
ANONYMOUS_READS = {"home", "story", "bulk", "by_id"}
# Reads of one address (the others pick a random story, mostly new to a short probe).
SAME_ADDRESS_READS = {"home", "bulk"}
ROW_KEYS = {"scenario", "cache", "concurrency", "rps", "p50_ms", "p99_ms", "errors", "floor_ratio"}


def test_the_short_form_prints_the_tables_and_nothing_fails(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.run", "--tiny", "--check", "--results-dir", str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-6000:]

    for scenario in SCENARIOS:
        assert scenario.label in done.stdout
    # One table per scenario (the columns are as wide as their numbers), then the summaries.
    headers = re.findall(r"clients +cache +req/s +p50 ms +p99 ms +errors +5xx +×floor +×prev", done.stdout)
    assert len(headers) == len(SCENARIOS)
    for heading in (
        "Summary (cache on)",
        "Startup and memory",
        "Queries per request",
        "Jobs:",
        "Light load:",
        "Enqueueing in a request:",
        "Fan-out:",
        "Job targets:",
    ):
        assert heading in done.stdout
    assert "FAILED" not in done.stdout

    [path] = tmp_path.glob("[0-9]*.json")  # <UTC time>-<profile>-<commit>.json
    results = json.loads(path.read_text())
    assert results["git"]["commit"] and results["machine"]["cpus"]
    modes = results["settings"]["modes"]
    assert modes == ["on", "off"]
    floor_scenarios = [s.key for s in SCENARIOS if s.floor]
    assert len(results["runs"]) == len(SCENARIOS) * len(modes) + len(floor_scenarios)
    for run in results["runs"]:
        assert run["requests"] > 0, run
        assert run["failed"] == 0 and run["server_errors"] == 0, run
    assert results["floor_matches_quill"] is True
    for mode in modes:
        for scenario in SCENARIOS:
            probe = results["queries"][mode][scenario.key]
            assert not probe.get("unexpected"), probe
            uncached = results["queries"]["off"][scenario.key]["queries_per_request"]
            if mode == "on" and scenario.key in SAME_ADDRESS_READS:  # from the cache after the first
                assert probe["queries_per_request"] < uncached, (scenario.key, probe)
            elif mode == "off" or scenario.key not in ANONYMOUS_READS | {"mix"}:  # mix: 90 % reads
                assert probe["queries_per_request"] >= 1, (mode, scenario.key, probe)
        assert results["startup"][mode]["ready_s"] > 0
        assert results["memory"][mode]["after_load"]["worker_rss_mib_mean"] > 0
    # The floor answers with exactly one query per request: the counting itself is right.
    for key in floor_scenarios:
        assert results["queries"]["floor"][key]["queries_per_request"] == 1

    # Jobs: every batch ran to the end, every email reached the SMTP sink, and a reset request for a
    # member enqueued its job with one query more than one for an unknown email (times not asserted).
    jobs = results["jobs"]
    assert {(run["kind"], run["workers"]) for run in jobs["throughput"]} == {
        (kind, workers) for kind in ("noop", "email") for workers in (1, 2)
    }
    for run in jobs["throughput"]:
        assert run["succeeded"] == run["jobs"] and not run["failed"] and not run["timed_out"], run
        assert run["jobs_per_s"] > 0 and run["queries_per_job"] >= 1, run
    assert [run["workers"] for run in jobs["paced"]] == [1, 2]
    assert not any(run["timed_out"] for run in jobs["paced"])
    if importlib.util.find_spec("aiosmtpd"):
        assert jobs["sink"]["messages"] == jobs["sink"]["expected"] == 2 * jobs["settings"]["batch"]["email"]
    # Fan-out: an author's new story reached every follower (announce_post, then a job per batch).
    fanout = jobs["fanout"]
    assert fanout["followers"] == jobs["settings"]["fanout_followers"] > 0, fanout
    assert fanout["notices"] == fanout["followers"] and not fanout["missing"], fanout
    assert not fanout["failed"] and not fanout["timed_out"] and fanout["succeeded"] == fanout["jobs"], fanout
    assert fanout["jobs_by_task"]["announce_post"] == 1 and fanout["jobs_by_task"]["notify_followers"] >= 1
    assert fanout["all_notices_after_commit_s"] > 0, fanout
    cost = jobs["enqueue_cost"]
    assert set(cost["statuses"]) == {"302"}, cost
    sides = cost["sides"]
    assert sides["member"]["jobs_per_request"] == 1 and sides["unknown"]["jobs_per_request"] == 0, cost
    # PgBouncer's count, over a short probe: exact in accounts/tests/test_reset_queries.py.
    assert abs(cost["extra_queries"] - 1) < 0.25, cost

    # Beside it (the same --results-dir, so never the repository's bench/results/ here): the rows,
    # the Markdown report, and the chart when matplotlib is installed.
    rows = json.loads((tmp_path / "latest.json").read_text())
    assert {(row["scenario"], row["cache"], row["concurrency"]) for row in rows} == {
        (scenario.key, mode, 8) for scenario in SCENARIOS for mode in modes
    }
    for row in rows:
        assert set(row) >= ROW_KEYS, row
        assert row["errors"] == 0 and row["rps"] > 0 and row["p99_ms"] >= row["p50_ms"] > 0, row
        floor = row["scenario"] in floor_scenarios
        assert isinstance(row["floor_ratio"], float) if floor else row["floor_ratio"] is None, row
    assert "**Startup and memory**" in (tmp_path / "latest.md").read_text()
    if importlib.util.find_spec("matplotlib"):
        assert (tmp_path / "latest.png").read_bytes().startswith(b"\x89PNG")
    else:
        assert "Chart skipped" in done.stdout and not (tmp_path / "latest.png").exists()
    for mode in modes:
        startup = results["startup"][mode]
        assert startup["warm_response_ms"] > 0 and startup["first_to_warm"] > 0, startup
