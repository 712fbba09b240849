"""Fuzzes both JSON APIs (API v1 and the RealWorld API) with schemathesis, through nginx.

    python deploy/fuzz.py [--examples 100] [--phases coverage,fuzzing,stateful] [--seed N]
                          [--url http://127.0.0.1:PORT] [--report-dir var/fuzz]

Without --url it starts the production topology (`deploy/localstack.py up --web`) in a
temporary folder, with the per-IP sign-in/sign-up and comment rate limits lifted (a fuzzer
signs up hundreds of times from one address), and stops it at the end, failed or not.

It signs up one member on each API and runs `schemathesis run` over every operation of
/api/schema/, with every check schemathesis has, three times:

    anonymous       every operation, no credentials
    signed in       every operation: `Authorization: Bearer <jwt>` on API v1, `Token <jwt>`
                    on the RealWorld API (per security scheme)
    account update  PUT /api/user alone, as another member: a new password there ends the
                    token, which would sign the rest of a run out

The stateful phase follows the links schemathesis infers from the schema (responses whose
fields name a path parameter: a story's `id`, an article's `slug`, a comment's `id`, a
profile's `username`); drf-spectacular writes no OpenAPI links itself.

At the end it prints a table per run (operations, test cases, requests, 5xx answers, failures
per check) and the stack's own count of 5xx answers (nginx's access log), and exits 1 on any
failure or 5xx. Reports (schemathesis's output and NDJSON events, per run) go to --report-dir.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import io
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
HOOKS = REPO / "deploy" / "fuzz_hooks.py"
UPLOAD_ENV = "QUILL_FUZZ_UPLOAD"  # an upload's /media/ path, for the hooks
SCHEMA_PATH = "/api/schema/"
LIFTED_RATE = "100000/minute"
# What nginx itself answers to TRACE: 405 without an Allow header (nginx refuses the method
# before any location runs), which schemathesis's unsupported_method check reads as a fault.
# The other undeclared methods reach Quill, which names the allowed ones.
UNEXPECTED_METHODS = ["get", "put", "post", "delete", "options", "patch", "query"]
# Refusals no schema can foresee, per operation: the current password must be the member's;
# a member cannot follow themselves; an edit with If-Match names the story's current version.
EXPECTED_REFUSALS = {
    "user_password": [400],
    "realworld_follow": [422],
    "blog_update": [412],
    "blog_partial_update": [412],
    "blog_update_by_body_id": [412],
}
POSITIVE_OK = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]
# schemathesis's coverage phase builds header values from letters and digits only: for a header
# whose pattern needs other characters (If-Match: "3") it sends "0" and calls it schema-valid.
# These operations skip that phase; the fuzzing and stateful phases draw from the pattern.
QUOTED_HEADER_OPERATIONS = ["blog_update", "blog_partial_update", "blog_update_by_body_id"]


@dataclass
class Run:
    name: str
    auth: dict[str, dict[str, str]] = field(default_factory=dict)
    include_operation_ids: list[str] = field(default_factory=list)
    exclude_operation_ids: list[str] = field(default_factory=list)


@dataclass
class Outcome:
    name: str
    returncode: int
    seconds: float
    operations: set[str] = field(default_factory=set)
    cases: int = 0
    requests: int = 0
    server_errors: int = 0
    failures: dict[tuple[str, str, str], int] = field(default_factory=dict)  # (check, operation, title)
    log: Path | None = None

    @property
    def failures_by_check(self) -> collections.Counter[str]:
        return collections.Counter(check for check, _, _ in self.failures)


# --- The stack --------------------------------------------------------------------------------


def stack_env(media: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="blog_project.settings",  # gunicorn serves with production settings
        QUILL_AUTH_RATE=LIFTED_RATE,
        QUILL_COMMENT_RATE=LIFTED_RATE,
        JWT_ACCESS_MINUTES="240",  # the signed-in run outlasts the default 15 minutes
        MEDIA_ROOT=str(media),  # uploaded images stay in the throwaway folder
        WEB_CONCURRENCY=os.environ.get("WEB_CONCURRENCY", "2"),
        LOG_LEVEL="WARNING",
    )
    return env


@contextlib.contextmanager
def local_stack(folder: Path):
    """Yields QUILL_URL of a stack started in `folder`; stops it afterwards, whatever happened."""
    stack_dir = folder / "stack"
    command = [sys.executable, str(REPO / "deploy" / "localstack.py")]
    try:
        result = subprocess.run(
            [*command, "up", "--dir", str(stack_dir), "--web"],
            cwd=REPO,
            env=stack_env(folder / "media"),
            capture_output=True,
            text=True,
            timeout=300,
        )
        if result.returncode != 0:
            raise SystemExit(f"The stack did not start:\n{result.stdout}{result.stderr}")
        env = dict(line.split("=", 1) for line in (stack_dir / "env").read_text().splitlines() if "=" in line)
        yield env["QUILL_URL"], stack_dir
    finally:
        subprocess.run(
            [*command, "down", "--dir", str(stack_dir)], cwd=REPO, capture_output=True, timeout=120
        )


def post_json(url: str, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    for attempt in range(5):
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return dict(json.loads(response.read()))
        except urllib.error.HTTPError as error:
            detail = error.read().decode(errors="replace")
            if error.code < 500 or attempt == 4:
                raise SystemExit(f"POST {url} answered {error.code}: {detail}") from error
        except urllib.error.URLError:
            if attempt == 4:
                raise
        time.sleep(1)
    raise AssertionError("unreachable")


def new_member(base: str, api: str) -> str:
    """Signs up a member on `api` ("v1" or "realworld") and returns their access token."""
    handle = f"fuzz_{secrets.token_hex(4)}"
    password = secrets.token_urlsafe(18)
    body: dict[str, Any]
    if api == "v1":
        body = {"email": f"{handle}@example.com", "password": password, "name": "Fuzz"}
        return str(post_json(f"{base}/api/v1/user/signup", body)["jwt"])
    body = {"user": {"email": f"{handle}@example.com", "password": password, "username": handle}}
    return str(post_json(f"{base}/api/users", body)["user"]["token"])


def upload_image(base: str, token: str) -> str:
    """Uploads a small PNG through API v1 as the member with `token`; returns its /media/ path.

    Image fields take only uploads that exist: the hooks (deploy/fuzz_hooks.py) turn the
    well-formed /media/ addresses schemathesis makes up into this one."""
    from PIL import Image

    image = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 40, 40)).save(image, format="PNG")
    boundary = secrets.token_hex(16)
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="fuzz.png"\r\n'
            "Content-Type: image/png\r\n\r\n"
        ).encode()
        + image.getvalue()
        + f"\r\n--{boundary}--\r\n".encode()
    )
    request = urllib.request.Request(
        f"{base}/api/v1/media",
        data=body,
        headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Authorization": f"Bearer {token}",
        },
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return urllib.parse.urlsplit(json.loads(response.read())["url"]).path


# --- schemathesis -----------------------------------------------------------------------------


def toml_value(value: Any) -> str:
    return json.dumps(value)  # JSON strings, numbers and arrays of them are valid TOML


def config_toml(run: Run, examples: int) -> str:
    lines = [
        f"hooks = {toml_value(str(HOOKS))}",
        "[cache]",
        "enabled = false",
        "[generation]",
        'database = "none"',
        f"max-examples = {examples}",
        "[auth]",
        "auto-signup = false",  # anonymous means anonymous; the signed-in run brings its tokens
    ]
    for scheme, values in run.auth.items():
        lines.append(f"[auth.openapi.{scheme}]")
        lines += [f"{key} = {toml_value(value)}" for key, value in values.items()]
    lines += ["[phases.coverage]", f"unexpected-methods = {toml_value(UNEXPECTED_METHODS)}"]
    # One entry per operation: schemathesis applies the first entry that matches.
    per_operation: dict[str, list[str]] = collections.defaultdict(list)
    for operation_id, statuses in EXPECTED_REFUSALS.items():
        expected = POSITIVE_OK + [str(status) for status in statuses]
        per_operation[operation_id].append(
            f"checks.positive_data_acceptance.expected-statuses = {toml_value(expected)}"
        )
    for operation_id in QUOTED_HEADER_OPERATIONS:
        per_operation[operation_id].append("phases.coverage.enabled = false")
    for operation_id, entries in per_operation.items():
        lines += ["[[operations]]", f"include-operation-id = {toml_value(operation_id)}", *entries]
    return "\n".join(lines) + "\n"


def run_schemathesis(
    base: str,
    run: Run,
    *,
    examples: int,
    phases: str,
    seed: int,
    workers: int,
    reports: Path,
    timeout: int,
    upload: str,
) -> Outcome:
    folder = reports / run.name.replace(" ", "-")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    (folder / "schemathesis.toml").write_text(config_toml(run, examples))
    events = folder / "events.ndjson"
    command = [
        str(Path(sys.executable).parent / "schemathesis"),
        "--config-file", str(folder / "schemathesis.toml"),
        "run", base + SCHEMA_PATH,
        "--checks", "all",
        "--phases", phases,
        "--max-examples", str(examples),
        "--seed", str(seed),
        "--workers", str(workers),
        "--request-timeout", "40",
        "--no-color",
        "--report", "ndjson",
        "--report-ndjson-path", str(events),
    ]  # fmt: skip
    for operation_id in run.include_operation_ids:
        command += ["--include-operation-id", operation_id]
    for operation_id in run.exclude_operation_ids:
        command += ["--exclude-operation-id", operation_id]
    log = folder / "schemathesis.log"
    started = time.monotonic()
    with open(log, "w") as output:
        # Its working folder is the report folder: nothing of it lands in the repository.
        process = subprocess.Popen(
            command,
            cwd=folder,
            stdout=output,
            stderr=subprocess.STDOUT,
            env={**os.environ, UPLOAD_ENV: upload},
        )
        try:
            returncode = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            output.write(f"\nfuzz.py: stopped after {timeout} s\n")
            returncode = -1
    outcome = Outcome(run.name, returncode, time.monotonic() - started, log=log)
    if events.exists():
        read_events(events, outcome)
    return outcome


def read_events(path: Path, outcome: Outcome) -> None:
    """Operations, test cases, requests, 5xx answers and failures from schemathesis's NDJSON."""
    for line in path.read_text().splitlines():
        event = json.loads(line)
        finished = event.get("ScenarioFinished")
        if not finished or finished.get("phase") == "auth_bootstrap":
            continue
        recorder = finished.get("recorder") or {}
        if recorder.get("label"):
            outcome.operations.add(recorder["label"])
        outcome.cases += len(recorder.get("cases") or {})
        for interaction in (recorder.get("interactions") or {}).values():
            response = interaction.get("response") or {}
            outcome.requests += 1
            if response.get("status_code", 0) >= 500:
                outcome.server_errors += 1
        for checks in (recorder.get("checks") or {}).values():
            for check in checks:
                if check.get("status") != "failure":
                    continue
                failure = (check.get("failure_info") or {}).get("failure") or {}
                key = (
                    check.get("name", "?"),
                    failure.get("operation") or recorder.get("label", "?"),
                    failure.get("title") or failure.get("message", "").split("\n", 1)[0],
                )
                outcome.failures[key] = outcome.failures.get(key, 0) + 1


def nginx_server_errors(stack_dir: Path) -> tuple[int, int, list[str]]:
    """Requests nginx saw, how many it answered 5xx, and those lines."""
    log = stack_dir / "nginx-access.log"
    if not log.exists():
        return 0, 0, []
    lines = log.read_text(errors="replace").splitlines()
    errors = [line for line in lines if re.search(r'" 5\d\d ', line)]
    return len(lines), len(errors), errors


# --- The report -------------------------------------------------------------------------------


def table(outcomes: list[Outcome]) -> str:
    checks = sorted({check for outcome in outcomes for check in outcome.failures_by_check})
    header = ["run", "operations", "test cases", "requests", "5xx", "failures", "seconds"]
    rows = []
    for outcome in outcomes:
        rows.append([
            outcome.name, str(len(outcome.operations)), str(outcome.cases), str(outcome.requests),
            str(outcome.server_errors), str(len(outcome.failures)), f"{outcome.seconds:.0f}",
        ])  # fmt: skip
    operations = set().union(*(outcome.operations for outcome in outcomes))
    rows.append([
        "total", str(len(operations)), str(sum(o.cases for o in outcomes)),
        str(sum(o.requests for o in outcomes)), str(sum(o.server_errors for o in outcomes)),
        str(sum(len(o.failures) for o in outcomes)), f"{sum(o.seconds for o in outcomes):.0f}",
    ])  # fmt: skip
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    text = [
        "  ".join(cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(row))
        for row in [header, *rows]
    ]
    text.insert(1, "  ".join("-" * width for width in widths))
    text.insert(len(text) - 1, text[1])
    text.append("")
    text.append("failures by check (unique: check, operation, kind):")
    if not checks:
        text.append("  none")
    for check in checks:
        counts = ", ".join(
            f"{o.name} {o.failures_by_check[check]}" for o in outcomes if o.failures_by_check[check]
        )
        text.append(f"  {check}: {counts}")
    return "\n".join(text)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--examples", type=int, default=100, help="test cases per operation and phase")
    parser.add_argument("--phases", default="coverage,fuzzing,stateful")
    parser.add_argument("--seed", type=int, default=None, help="default: a random one, printed")
    # One worker: with two, schemathesis's threads now and then crash CPython 3.11.7's parser
    # ("AST constructor recursion depth mismatch"), a runtime error that is not Quill's.
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--url", help="fuzz a Quill already running there instead of starting a stack")
    parser.add_argument("--report-dir", type=Path, default=REPO / "var" / "fuzz")
    parser.add_argument("--run-timeout", type=int, default=900, help="seconds one schemathesis run may take")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else secrets.randbelow(2**31)
    reports = args.report_dir.resolve()
    reports.mkdir(parents=True, exist_ok=True)

    with contextlib.ExitStack() as stack:
        stack_dir: Path | None = None
        if args.url:
            base = args.url.rstrip("/")
        else:
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="quill-fuzz-")))
            os.chmod(folder, 0o755)  # the stack's services (user postgres under root) work below
            print("Starting the stack (nginx, gunicorn, PgBouncer, Postgres, Redis)...", flush=True)
            base, stack_dir = stack.enter_context(local_stack(folder))
        signed_in = {
            "jwtAuth": {"bearer": new_member(base, "v1")},
            "Token": {"api_key": "Token " + new_member(base, "realworld")},
        }
        account = {"Token": {"api_key": "Token " + new_member(base, "realworld")}}
        upload = upload_image(base, signed_in["jwtAuth"]["bearer"])
        runs = [
            Run("anonymous"),
            Run("signed in", auth=signed_in, exclude_operation_ids=["realworld_update_current_user"]),
            Run("account update", auth=account, include_operation_ids=["realworld_update_current_user"]),
        ]
        outcomes = []
        for run in runs:
            print(
                f"schemathesis: {run.name} (seed {seed}, {args.examples} examples, {args.phases})", flush=True
            )
            outcomes.append(
                run_schemathesis(
                    base, run, examples=args.examples, phases=args.phases, seed=seed,
                    workers=args.workers, reports=reports, timeout=args.run_timeout, upload=upload,
                )
            )  # fmt: skip
        seen, server_errors, error_lines = nginx_server_errors(stack_dir) if stack_dir else (0, 0, [])
        if stack_dir:
            shutil.copy(stack_dir / "gunicorn.log", reports / "gunicorn.log")

    print()
    print(table(outcomes))
    for outcome in outcomes:
        for (check, operation, title), count in sorted(outcome.failures.items()):
            print(f"  [{outcome.name}] {check}: {operation}: {title} (x{count})")
        if outcome.returncode != 0 and not outcome.failures:
            print(
                f"  [{outcome.name}] schemathesis exited {outcome.returncode}, no failure: see {outcome.log}"
            )
    if stack_dir:
        print(f"\nnginx: {seen} requests, {server_errors} answered 5xx")
        for line in error_lines[:20]:
            print(f"  {line}")
    failed = any(o.returncode != 0 or o.failures or o.server_errors for o in outcomes) or server_errors
    print(f"\nseed {seed}; reports in {reports}")
    print("FAILED" if failed else "OK: no 5xx, no schema violation")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
