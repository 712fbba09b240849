"""Tables from the benchmark's results (the JSON files bench/run.py writes to bench/results/).

    python -m bench.report                       # the newest run, compared with the run before it
    python -m bench.report FILE [--markdown]     # one run; --markdown for the README
    python -m bench.report [FILE] --write        # latest.json, latest.md, latest.png from a stored run
    python -m bench.report FILE --write --out D  # ... into folder D instead of the run's own folder

Each Quill number is also printed as a ratio: to the floor (bench/floor.py, where it answers
the same route) and to the previous run of the same profile (same data set and durations).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
PACED_RATE_DEFAULT = 40  # bench/run.py's PACED_RATE, for runs that did not record it
# Written beside each run's own file (bench/run.py) and by --write: the newest run at a glance.
LATEST_JSON, LATEST_MD, LATEST_PNG = "latest.json", "latest.md", "latest.png"
# Cold-start targets: every worker ready plus the first GET /, and that first GET against a warm one.
COLD_START_TARGET_S = 2.0
FIRST_TO_WARM_TARGET = 3.0
# Job targets (issue 18): no-op jobs/s with two workers, and what enqueueing adds to a request.
JOBS_TARGET_PER_S = 200.0
ENQUEUE_TARGET_QUERIES = 1
ENQUEUE_TARGET_MS = 2.0
# Fan-out target (issue 29): an author with 10,000 followers publishes, and every follower's notice
# exists within 30 s (two workers).
FANOUT_TARGET_S = 30.0
FANOUT_TARGET_FOLLOWERS = 10_000
FANOUT_HEADERS = [
    "followers", "workers", "notices", "all notices s", "announced s", "notices/s", "jobs", "jobs/s",
    "batch run p50 ms", "batch run p99 ms", "SQL/job", "worker CPU ms/job", "failed",
]  # fmt: skip
Results = dict[str, Any]
Key = tuple[str, str, int]  # mode ("on", "off", "floor"), scenario, concurrency


def load(path: Path) -> Results:
    results: Results = json.loads(path.read_text())
    return results


def history(directory: Path = RESULTS) -> list[Path]:
    """Stored runs, oldest first (file names start with the UTC time; latest.json is not one)."""
    return sorted(directory.glob("[0-9]*.json"))


def comparable(results: Results) -> tuple[Any, ...]:
    settings = results["settings"]
    return (results["profile"], settings["authors"], settings["stories"], settings["duration_s"])


def previous_run(
    results: Results, directory: Path = RESULTS, *, before: Path | None = None
) -> Results | None:
    """The newest stored run of the same profile older than `results`."""
    candidates = []
    for path in history(directory):
        if before is not None and path.resolve() == before.resolve():
            continue
        try:
            other = load(path)
        except (OSError, ValueError):
            continue
        if comparable(other) == comparable(results) and other["date"] < results["date"]:
            candidates.append(other)
    return max(candidates, key=lambda other: other["date"]) if candidates else None


def by_key(results: Results) -> dict[Key, dict[str, Any]]:
    return {(run["mode"], run["scenario"], run["concurrency"]): run for run in results["runs"]}


def table(
    headers: Sequence[str], rows: Iterable[Sequence[str]], *, markdown: bool, names: bool = True
) -> str:
    """Aligned columns, or a GitHub table; with `names`, the first column (names) is aligned left."""
    rows = [list(row) for row in rows]
    if markdown:
        first = "---" if names else "---:"
        lines = [
            "| " + " | ".join(headers) + " |",
            f"|{first}|" + "|".join("---:" for _ in headers[1:]) + "|",
        ]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(lines)
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=False)]

    def line(cells: Sequence[str]) -> str:
        aligned = [
            str(cell).ljust(width) if names and index == 0 else str(cell).rjust(width)
            for index, (cell, width) in enumerate(zip(cells, widths, strict=False))
        ]
        return "  ".join(aligned).rstrip()

    return "\n".join([line(headers), line(["-" * width for width in widths]), *(line(row) for row in rows)])


def scenario_name(text: str, *, markdown: bool) -> str:
    """A scenario's name; in Markdown as code, so that <slug> is not taken for HTML."""
    return f"`{text}`" if markdown else text


def number(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "—"
    return f"{value:,.{digits}f}"


def ratio(value: float | None, base: float | None) -> str:
    if value is None or not base:
        return "—"
    return f"{value / base:.2f}×"


def queries_line(results: Results, scenario: str) -> str:
    parts = []
    for mode, probe in results.get("queries", {}).items():
        if scenario in probe:
            label = "floor" if mode == "floor" else f"cache {mode}"
            parts.append(f"{number(probe[scenario]['queries_per_request'])} ({label})")
    return "queries/request: " + ", ".join(parts) if parts else ""


def scenario_tables(results: Results, previous: Results | None, *, markdown: bool) -> list[str]:
    runs = by_key(results)
    before = by_key(previous) if previous else {}
    modes = [*results["settings"]["modes"], "floor"]
    out = []
    for scenario in results["scenarios"]:
        rows = []
        for concurrency in results["settings"]["concurrencies"]:
            floor = runs.get(("floor", scenario["key"], concurrency))
            for mode in modes:
                run = runs.get((mode, scenario["key"], concurrency))
                if run is None:
                    continue
                old = before.get((mode, scenario["key"], concurrency))
                answered = bool(run["requests"])
                rows.append(
                    [
                        str(concurrency),
                        "floor" if mode == "floor" else mode,
                        number(run["rps"]) if answered else "0 (none in time)",
                        number(run["latency_ms"]["p50"]) if answered else "—",
                        number(run["latency_ms"]["p99"]) if answered else "—",
                        str(run["failed"]),
                        str(run["server_errors"]),
                        "—" if mode == "floor" else ratio(run["rps"], floor["rps"] if floor else None),
                        ratio(run["rps"], old["rps"] if old else None),
                    ]
                )
        if not rows:
            continue
        name = scenario_name(scenario["label"], markdown=markdown)
        title = f"{name}  ({queries_line(results, scenario['key'])})"
        headers = ["clients", "cache", "req/s", "p50 ms", "p99 ms", "errors", "5xx", "×floor", "×prev"]
        heading = f"**{title}**" if markdown else title
        out.append(f"{heading}\n\n{table(headers, rows, markdown=markdown, names=False)}")
    return out


def summary_table(results: Results, *, markdown: bool) -> str:
    """One row per scenario (the first cache mode, and the floor): requests/s and p99 at each
    concurrency, queries per request."""
    runs = by_key(results)
    mode = results["settings"]["modes"][0]
    concurrencies = results["settings"]["concurrencies"]
    rows = []
    for scenario in results["scenarios"]:
        for target in (mode, "floor"):
            if (target, scenario["key"], concurrencies[0]) not in runs:
                continue
            probe = results.get("queries", {}).get(target, {}).get(scenario["key"])
            row = [
                scenario_name(scenario["label"], markdown=markdown)
                + (" — floor" if target == "floor" else ""),
                number(probe and probe["queries_per_request"]),
            ]
            for concurrency in concurrencies:
                run = runs.get((target, scenario["key"], concurrency))
                if run is None or not run["requests"]:
                    row.append("—")
                else:
                    row.append(f"{number(run['rps'])} ({number(run['latency_ms']['p99'], 0)})")
            rows.append(row)
    headers = [
        "scenario",
        "SQL/request",
        *(f"{c} client{'s' if c != 1 else ''}: req/s (p99 ms)" for c in concurrencies),
    ]
    return table(headers, rows, markdown=markdown)


def known(value: float | None, digits: int = 1, suffix: str = "") -> str:
    """A number a newer harness records: "n/a" in the files of runs made before it did."""
    return "n/a" if value is None else number(value, digits) + suffix


def cold_start_s(start: dict[str, Any]) -> float | None:
    """Seconds from starting gunicorn to the first answer: every worker ready, then the first GET."""
    if start.get("ready_s") is None or start.get("first_response_ms") is None:
        return None
    return round(start["ready_s"] + start["first_response_ms"] / 1000, 2)


def startup_table(results: Results, *, markdown: bool) -> str:
    rows = []
    for mode, start in results["startup"].items():
        memory = results["memory"].get(mode, {})
        started, loaded = memory.get("after_start", {}), memory.get("after_load", {})
        rows.append(
            [
                "floor" if mode == "floor" else f"Quill, cache {mode}",
                str(start["workers"]),
                number(start["listening_s"], 2),
                number(start["ready_s"], 2),
                number(start.get("first_response_ms")),
                known(start.get("warm_response_ms")),
                known(start.get("first_to_warm"), 2, "×"),
                known(cold_start_s(start), 2),
                number(started.get("worker_rss_mib_mean")),
                number(loaded.get("worker_rss_mib_mean")),
                number(loaded.get("worker_rss_mib_max")),
                number(loaded.get("worker_pss_mib_mean")),
                number(started.get("master_rss_mib")),
            ]
        )
    headers = [
        "server", "workers", "listening s", "all workers ready s", "first GET ms", "warm GET ms",
        "first ÷ warm", "cold start s", "worker RSS MiB (start)", "worker RSS MiB (after load)", "max",
        "worker PSS MiB", "master RSS MiB",
    ]  # fmt: skip
    return table(headers, rows, markdown=markdown)


def cold_start_targets(results: Results) -> str:
    """The cold-start targets, and whether each Quill mode met them."""
    verdicts = []
    for mode, start in results["startup"].items():
        if mode == "floor":
            continue
        cold, ratio_ = cold_start_s(start), start.get("first_to_warm")
        cold_text = (
            "n/a" if cold is None else f"{cold:.2f} s ({'met' if cold < COLD_START_TARGET_S else 'MISSED'})"
        )
        ratio_text = (
            "n/a"
            if ratio_ is None
            else f"{ratio_:.2f}× ({'met' if ratio_ <= FIRST_TO_WARM_TARGET else 'MISSED'})"
        )
        verdicts.append(f"cache {mode}: cold start {cold_text}, first ÷ warm {ratio_text}")
    return (
        f"Targets: cold start (every worker ready, then the first GET /) under {COLD_START_TARGET_S:g} s; "
        f"the first GET / no slower than {FIRST_TO_WARM_TARGET:g}× a warm one (the median of the sequential "
        "GET / right after it). " + ("; ".join(verdicts) + "." if verdicts else "")
    ).rstrip()


def queries_table(results: Results, *, markdown: bool) -> str:
    probes = results.get("queries", {})
    modes = list(probes)
    rows = []
    for scenario in results["scenarios"]:
        row = [scenario_name(scenario["label"], markdown=markdown)]
        for mode in modes:
            probe = probes[mode].get(scenario["key"])
            row += (
                [number(probe["queries_per_request"]), number(probe["redis_commands_per_request"])]
                if probe
                else ["—", "—"]
            )
        rows.append(row)
    headers = ["scenario"]
    for mode in modes:
        label = "floor" if mode == "floor" else f"cache {mode}"
        headers += [f"SQL/request ({label})", f"Redis/request ({label})"]
    return table(headers, rows, markdown=markdown)


def jobs_previous(results: Results, previous: Results | None) -> dict[tuple[str, int], dict[str, Any]]:
    """The previous run's batches by (kind, workers), when it ran the same batch sizes."""
    jobs, before = results.get("jobs") or {}, (previous or {}).get("jobs") or {}
    if not before or before.get("settings", {}).get("batch") != jobs.get("settings", {}).get("batch"):
        return {}
    return {(run["kind"], run["workers"]): run for run in before.get("throughput", [])}


def jobs_section(results: Results, previous: Results | None, *, markdown: bool) -> str:
    """Job throughput, the light-load latency and the cost of enqueueing in a request."""
    jobs = results.get("jobs") or {}
    if not jobs.get("throughput") and not jobs.get("enqueue_cost"):
        return ""
    settings = jobs.get("settings", {})
    before = jobs_previous(results, previous)
    names = {"noop": "no-op", "email": "email"}
    rows = []
    for run in jobs.get("throughput", []):
        old = before.get((run["kind"], run["workers"]))
        rows.append(
            [
                names.get(run["kind"], run["kind"]),
                str(run["workers"]),
                f"{run['jobs']:,}",
                number(run["jobs_per_s"]),
                ratio(run["jobs_per_s"], old["jobs_per_s"] if old else None),
                number(run["run_ms"]["p50"], 2),
                number(run["run_ms"]["p99"], 2),
                number(run["done_after_commit_s"]["p50"], 2),
                number(run["done_after_commit_s"]["p99"], 2),
                number(run["queries_per_job"]),
                number(run["worker_cpu_ms_per_job"], 2),
                str(run["failed"]) + (" (timed out)" if run["timed_out"] else ""),
            ]
        )
    headers = [
        "job", "workers", "jobs", "jobs/s", "×prev", "run p50 ms", "run p99 ms", "done p50 s",
        "done p99 s", "SQL/job", "worker CPU ms/job", "failed",
    ]  # fmt: skip
    out = []
    title = "Jobs"
    if rows:
        out.append(
            f"{f'**{title}**' if markdown else title}: each batch enqueued in one transaction "
            "(bench.enqueue, straight to Postgres), the workers already waiting (`manage.py worker`, "
            "through PgBouncer); "
            "jobs/s from the first claim to the last finish; run: claim to finish of each job; done: "
            "from the batch's commit to each job's finish (queueing included); SQL/job: PgBouncer's count "
            f"of the workers' statements. Email: {jobs.get('email_backend', 'n/a')}.\n\n"
            + table(headers, rows, markdown=markdown)
        )
    paced = [
        [
            str(run["workers"]),
            f"{run['jobs']:,}",
            number(run["claimed_after_ms"]["p50"]),
            number(run["claimed_after_ms"]["p99"]),
            number(run["done_after_ms"]["p50"]),
            number(run["done_after_ms"]["p99"]),
        ]
        for run in jobs.get("paced", [])
    ]
    if paced:
        heading = "Light load"
        out.append(
            f"{f'**{heading}**' if markdown else heading}: no-op jobs enqueued one at a time, "
            f"{settings.get('paced_rate', PACED_RATE_DEFAULT)} a second, each in its own transaction: "
            "from enqueue to claim and to finish (idle workers look at the queue every "
            "QUILL_JOB_POLL_SECONDS).\n\n"
            + table(
                ["workers", "jobs", "claimed p50 ms", "claimed p99 ms", "done p50 ms", "done p99 ms"],
                paced,
                markdown=markdown,
                names=False,
            )
        )
    cost = jobs.get("enqueue_cost")
    if cost:
        sides = cost["sides"]
        cost_rows = [
            [
                f"{'a member' if side == 'member' else 'an unknown email'}",
                number(values["jobs_per_request"], 2),
                number(values["queries_per_request"], 2),
                number(values["p50_ms"], 2),
                number(values["p99_ms"], 2),
                number(values["mean_ms"], 2),
            ]
            for side, values in sides.items()
        ]
        cost_rows.append(
            [
                "difference",
                number(sides["member"]["jobs_per_request"] - sides["unknown"]["jobs_per_request"], 2),
                f"{cost['extra_queries']:+.2f}",
                f"{cost['extra_p50_ms']:+.2f}",
                "",
                f"{cost['extra_mean_ms']:+.2f}",
            ]
        )
        heading = "Enqueueing in a request"
        out.append(
            f"{f'**{heading}**' if markdown else heading}: `{cost['request']}` for a member (its form "
            "enqueues the reset email) and for an unknown email (the same answer, nothing enqueued), no "
            f"worker running; SQL over {cost['probe_requests']} requests each, times over "
            f"{cost['pairs']} interleaved pairs, each on a new connection through nginx.\n\n"
            + table(
                ["reset for", "jobs/request", "SQL/request", "p50 ms", "p99 ms", "mean ms"],
                cost_rows,
                markdown=markdown,
            )
        )
    fanout = jobs.get("fanout")
    if fanout:
        fanout_row = [
            f"{fanout['followers']:,}",
            str(fanout["workers"]),
            f"{fanout['notices']:,}",
            number(fanout["all_notices_after_commit_s"], 2),
            number(fanout["announced_after_commit_s"], 2),
            number(fanout["notices_per_s"], 0),
            str(fanout["jobs"]),
            number(fanout["jobs_per_s"]),
            number(fanout["batch_run_ms"]["p50"]),
            number(fanout["batch_run_ms"]["p99"]),
            number(fanout["queries_per_job"]),
            number(fanout["worker_cpu_ms_per_job"], 1),
            str(fanout["failed"]) + (" (timed out)" if fanout["timed_out"] else ""),
        ]
        heading = "Fan-out"
        out.append(
            f"{f'**{heading}**' if markdown else heading}: an author with this many followers (seeded "
            "with COPY) publishes one story through `posts.services.create_post`, the workers waiting; "
            "all notices: from its commit until every follower's notice exists (their count, polled "
            "every 50 ms); announced: until `announce_post` had enqueued the batches; jobs: "
            "`announce_post` and one `notify_followers` per batch of followers; batch run: claim to "
            "finish of each `notify_followers`; SQL/job: PgBouncer's count of the workers' statements.\n\n"
            + table(
                FANOUT_HEADERS,
                [fanout_row],
                markdown=markdown,
                names=False,
            )
        )
    targets = jobs_targets(results)
    if targets:
        out.append(targets)
    return "\n\n".join(out)


def jobs_targets(results: Results) -> str:
    jobs = results.get("jobs") or {}
    verdicts = []
    two = {run["kind"]: run for run in jobs.get("throughput", []) if run["workers"] == 2}
    if "noop" in two:
        rate = two["noop"]["jobs_per_s"]
        email = f"; email jobs {number(two['email']['jobs_per_s'])}/s" if "email" in two else ""
        verdicts.append(
            f"at least {JOBS_TARGET_PER_S:g} jobs/s with two workers: no-op {number(rate)}/s "
            f"({'met' if rate >= JOBS_TARGET_PER_S else 'MISSED'}){email}"
        )
    cost = jobs.get("enqueue_cost")
    if cost:
        queries, ms = cost["extra_queries"], cost["extra_p50_ms"]
        verdicts.append(
            f"enqueueing adds at most {ENQUEUE_TARGET_QUERIES} query and {ENQUEUE_TARGET_MS:g} ms to a "
            f"request: {queries:+g} queries ({'met' if queries <= ENQUEUE_TARGET_QUERIES else 'MISSED'}), "
            f"{ms:+.2f} ms at the p50 ({'met' if ms <= ENQUEUE_TARGET_MS else 'MISSED'})"
        )
    fanout = jobs.get("fanout")
    if fanout:
        seconds, followers = fanout["all_notices_after_commit_s"], fanout["followers"]
        if seconds is None or fanout["missing"]:
            verdict = f"{fanout['missing']:,} notices MISSING"
        elif followers >= FANOUT_TARGET_FOLLOWERS:
            verdict = "met" if seconds <= FANOUT_TARGET_S else "MISSED"
        else:
            verdict = f"not judged: {followers:,} followers in this form"
        verdicts.append(
            f"every follower's notice within {FANOUT_TARGET_S:g} s of a publish to "
            f"{FANOUT_TARGET_FOLLOWERS:,} followers with two workers: "
            f"{number(seconds, 2)} s for {followers:,} ({verdict})"
        )
    return "Job targets: " + "; ".join(verdicts) + "." if verdicts else ""


def statements(results: Results, mode: str, *, limit: int = 3) -> str:
    lines = []
    for scenario in results["scenarios"]:
        probe = results.get("queries", {}).get(mode, {}).get(scenario["key"])
        if not probe:
            continue
        lines.append(f"  {scenario['label']}:")
        for statement in probe["top_statements"][:limit]:
            query = " ".join(statement["query"].split())
            calls, mean = statement["calls_per_request"], statement["mean_ms"]
            lines.append(f"    {calls:>4.1f}×/request {mean:>7.2f} ms  {query[:100]}")
    return "\n".join(lines)


def render(results: Results, previous: Results | None, *, markdown: bool = False) -> str:
    settings = results["settings"]
    machine = results["machine"]
    git = results["git"]
    lines = [
        f"Run {results['date']} ({results['profile']}), commit {git['commit'][:10]}"
        + (" with uncommitted changes" if git.get("dirty") else "")
        + f"; {machine['cpus']} CPUs ({machine['cpu_model']}), {machine['memory_gib']} GiB; load average "
        f"{' / '.join(f'{x:.1f}' for x in results['load_average']['start'])} at the start, "
        f"{' / '.join(f'{x:.1f}' for x in results['load_average']['end'])} at the end.",
        f"{settings['authors']:,} authors, {settings['stories']:,} stories; {settings['duration_s']:g} s per "
        f"scenario and concurrency after {settings['warmup_s']:g} s of warm-up; gunicorn "
        f"{settings['gunicorn_workers']} workers × {settings['gunicorn_threads']} thread; PgBouncer pool "
        f"{settings['pgbouncer_pool_size']}.",
    ]
    if not settings.get("cache_switch_honoured"):
        lines.append(
            "Quill does not read QUILL_CACHE yet: 'on' and 'off' run the same code today (the harness "
            "sets QUILL_CACHE=on/off for when it does)."
        )
    if previous:
        commit = previous["git"]["commit"][:10]
        lines.append(f"×prev compares requests/s with the run of {previous['date']} ({commit}).")
    else:
        lines.append("×prev: no earlier run of this profile in bench/results/.")
    if results.get("floor_matches_quill") is False:
        lines.append("WARNING: the floor's JSON differs from Quill's (see floor_mismatch in the results).")
    out = ["\n".join(lines)]
    if results["runs"]:  # a jobs-only run (--jobs only) has none
        summary = f"Summary (cache {settings['modes'][0]})"
        out.append(
            f"{f'**{summary}**' if markdown else summary}\n\n{summary_table(results, markdown=markdown)}"
        )
        out += scenario_tables(results, previous, markdown=markdown)
        startup = startup_table(results, markdown=markdown) + "\n\n" + cold_start_targets(results)
        for title, text in (
            ("Startup and memory", startup),
            ("Queries per request", queries_table(results, markdown=markdown)),
        ):
            out.append(f"{f'**{title}**' if markdown else title}\n\n{text}")
    if jobs := jobs_section(results, previous, markdown=markdown):
        out.append(jobs)
    if not markdown and results["runs"]:
        first_mode = settings["modes"][0]
        out.append(
            f"Statements taking the most database time (cache {first_mode}; pg_stat_statements over the "
            "probe's requests; calls per request, mean time):\n" + statements(results, first_mode)
        )
        out += [profile_text(samples) for samples in results.get("profiles", {}).values()]
    return "\n\n".join(out) + "\n"


def profile_text(samples: dict[str, Any]) -> str:
    lines = [f"Where the workers' time goes ({samples['what']}; py-spy, {samples['samples']} samples):"]
    for key, title in (
        ("components", "own time by component"),
        ("own", "functions with the most time of their own"),
        ("quill_total", "Quill's functions, with what they call"),
    ):
        if samples.get(key):
            lines.append(f"  {title}:")
            lines += [f"    {row['share']:6.1%}  {row['frame']}" for row in samples[key]]
    return "\n".join(lines)


def latest_rows(results: Results) -> list[dict[str, Any]]:
    """One row per scenario, cache mode and concurrency that ran (the floor's own runs are not rows:
    they are each row's floor_rps and floor_ratio, for the scenarios the floor answers)."""
    runs = by_key(results)
    queries = results.get("queries", {})
    memory = results.get("memory", {})
    labels = {scenario["key"]: scenario["label"] for scenario in results["scenarios"]}
    rows = []
    for scenario in results["scenarios"]:
        key = scenario["key"]
        for mode in results["settings"]["modes"]:
            for concurrency in results["settings"]["concurrencies"]:
                run = runs.get((mode, key, concurrency))
                if run is None:
                    continue
                floor = runs.get(("floor", key, concurrency))
                answered = bool(run["requests"])
                probe = queries.get(mode, {}).get(key, {})
                rows.append(
                    {
                        "scenario": key,
                        "cache": mode,
                        "concurrency": int(concurrency),
                        "rps": float(run["rps"]),
                        # None when no request finished within the run ("0 (none in time)").
                        "p50_ms": float(run["latency_ms"]["p50"]) if answered else None,
                        "p99_ms": float(run["latency_ms"]["p99"]) if answered else None,
                        "errors": int(run["failed"]),
                        "floor_ratio": (
                            round(run["rps"] / floor["rps"], 3) if floor and floor["rps"] else None
                        ),
                        "label": labels[key],
                        "requests": run["requests"],
                        "p90_ms": float(run["latency_ms"]["p90"]) if answered else None,
                        "server_errors": run["server_errors"],
                        "floor_rps": float(floor["rps"]) if floor else None,
                        "queries_per_request": probe.get("queries_per_request"),
                        "redis_commands_per_request": probe.get("redis_commands_per_request"),
                        "worker_rss_mib_max": memory.get(mode, {})
                        .get("after_load", {})
                        .get("worker_rss_mib_max"),
                        "profile": results["profile"],
                        "commit": results["git"]["commit"],
                        "date": results["date"],
                    }
                )
    return rows


def shown(path: Path) -> str:
    """`path` relative to the working folder when it is inside it."""
    with contextlib.suppress(ValueError):
        return str(path.resolve().relative_to(Path.cwd()))
    return str(path)


def write_latest(results: Results, directory: Path, previous: Results | None) -> list[str]:
    """latest.json (rows), latest.md (the Markdown report) and latest.png (the chart) of `results`
    in `directory`; returns a line for each file, or for the chart, why it was skipped."""
    from bench import chart  # matplotlib, when there, is only imported to draw

    directory.mkdir(parents=True, exist_ok=True)
    (directory / LATEST_JSON).write_text(json.dumps(latest_rows(results), indent=1) + "\n")
    (directory / LATEST_MD).write_text(render(results, previous, markdown=True))
    lines = [f"Rows: {shown(directory / LATEST_JSON)}", f"Report: {shown(directory / LATEST_MD)}"]
    png = directory / LATEST_PNG
    try:
        drawn, why = chart.draw(results, png), f"matplotlib is not installed: {chart.INSTALL_HINT}"
    except Exception as error:  # a chart is not worth losing the run's other outputs for
        drawn, why = False, f"drawing failed ({type(error).__name__}: {error})"
    if drawn:
        lines.append(f"Chart: {shown(png)}")
    else:
        png.unlink(missing_ok=True)  # no chart of another run beside this run's tables
        lines.append(f"Chart skipped ({shown(png)} not written): {why}.")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("file", type=Path, nargs="?", help="a results JSON file (default: the newest)")
    parser.add_argument("--markdown", action="store_true", help="GitHub tables, for the README")
    parser.add_argument(
        "--write",
        action="store_true",
        help=f"write {LATEST_JSON}, {LATEST_MD} and {LATEST_PNG} of the run instead of printing it",
    )
    parser.add_argument("--out", type=Path, help="with --write: the folder (default: the run's own)")
    args = parser.parse_args()
    if args.out and not args.write:
        parser.error("--out goes with --write")
    path = args.file or (history()[-1] if history() else None)
    if path is None:
        print("No results in bench/results/ yet: run `make bench`.", file=sys.stderr)
        return 1
    results = load(path)
    if not isinstance(results, dict) or "runs" not in results:
        print(f"{path} is not a run's results (a file bench/run.py wrote).", file=sys.stderr)
        return 1
    previous = previous_run(results, path.parent, before=path)
    if args.write:
        for line in write_latest(results, args.out or path.parent, previous):
            print(line)
        return 0
    print(render(results, previous, markdown=args.markdown), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
