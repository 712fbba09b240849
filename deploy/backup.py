"""Backs up and restores the local stack (`make stack`): its database and the media folder.

    python deploy/backup.py backup [--stack-dir var/stack] [--out var/backups]
    python deploy/backup.py restore [ARCHIVE] [--stack-dir var/stack]   # default: the newest backup

A backup is one directory, OUT/quill-YYYYmmdd-HHMMSS (UTC), readable by its owner only:

    database.dump   pg_dump custom format (-Fc), restorable with pg_restore
    media.tar.gz    the media folder: the stack's MEDIA_ROOT, else $MEDIA_ROOT, else var/media
                    (relative to the repository; an absent folder is backed up as empty)
    manifest.json   rows and a checksum per table, every media file with size and sha256

Both tools talk straight to Postgres (DIRECT_DATABASE_URL in STACK_DIR/env), never through
PgBouncer: its transaction pooling cannot carry pg_dump's snapshot or pg_restore's session.
The row counts are taken in the very snapshot that pg_dump dumps. `restore` checks the
archive against its manifest first, then restores into the stack's database (pg_restore
--clean --if-exists --no-owner, one transaction), verifies every table's rows and checksum,
and puts the media folder in place (a non-empty folder already there is kept beside it as
NAME.before-restore-STAMP). Any mismatch exits non-zero with what differs.
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import unquote, urlsplit

REPO = Path(__file__).resolve().parent.parent
DEFAULT_STACK_DIR = REPO / "var" / "stack"
DEFAULT_BACKUPS = REPO / "var" / "backups"
MANIFEST_FORMAT = 1
NO_STACK = "no stack running: start it with make stack"
# Fixed output settings, so that a row's text (and so the table checksum) is the same
# whichever server or session computes it.
SESSION_OPTIONS = (
    "-c TimeZone=UTC -c DateStyle=ISO,MDY -c IntervalStyle=postgres -c extra_float_digits=3 "
    "-c bytea_output=hex"
)


# --- The stack ------------------------------------------------------------------------------


def read_stack_env(stack_dir: Path) -> dict[str, str]:
    """The settings `localstack.py up` wrote to STACK_DIR/env; exits when there is no stack."""
    env_file = stack_dir / "env"
    if not env_file.is_file():
        raise SystemExit(f"{NO_STACK} (no {env_file})")
    env = dict(line.split("=", 1) for line in env_file.read_text().splitlines() if "=" in line)
    if not env.get("DIRECT_DATABASE_URL"):
        raise SystemExit(f"{env_file} has no DIRECT_DATABASE_URL: restart the stack (make stack)")
    return env


def media_root(stack_env: dict[str, str]) -> Path:
    # The folder the running stack serves (`up --web` records it), else $MEDIA_ROOT, else var/media.
    raw = stack_env.get("MEDIA_ROOT") or os.environ.get("MEDIA_ROOT") or ""
    return (REPO / raw).resolve() if raw else REPO / "var" / "media"


class Database:
    """DIRECT_DATABASE_URL split into what pg_dump and pg_restore take as options."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.url = url
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 5432
        self.user = unquote(parts.username or "")
        self.password = unquote(parts.password or "")
        self.name = unquote(parts.path.lstrip("/"))

    def __str__(self) -> str:
        return f"{self.name} on {self.host}:{self.port}"

    def tool_args(self) -> list[str]:
        return ["--host", self.host, "--port", str(self.port), "--username", self.user, "--no-password"]

    def tool_env(self) -> dict[str, str]:
        # The password goes through the environment, not the command line (visible in ps).
        return {**os.environ, "PGPASSWORD": self.password, "PGCONNECT_TIMEOUT": "10"}

    def connect(self) -> Any:
        import psycopg  # from the project's venv

        try:
            return psycopg.connect(self.url, connect_timeout=10, options=SESSION_OPTIONS)
        except psycopg.OperationalError as error:
            raise SystemExit(f"{NO_STACK} (cannot reach Postgres, {self}: {error})") from None


def tool_major(path: str) -> int:
    output = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30).stdout
    match = re.search(r"\(PostgreSQL\) (\d+)", output)
    return int(match.group(1)) if match else 0


def pg_tool(name: str, server_major: int) -> str:
    """NAME from the server's own major version, else the oldest newer one (older cannot dump it)."""
    versioned: list[tuple[int, str]] = []
    for path in glob.glob(f"/usr/lib/postgresql/*/bin/{name}"):
        version = path.split("/")[4]
        if version.isdigit() and os.access(path, os.X_OK):
            versioned.append((int(version), path))
    for major, binary in sorted(versioned):
        if major >= server_major:
            return binary
    on_path = shutil.which(name)
    if on_path and tool_major(on_path) >= server_major:
        return on_path
    raise SystemExit(
        f"'{name}' for PostgreSQL {server_major} is not installed (found: "
        f"{', '.join(path for _, path in sorted(versioned)) or 'none'}). "
        f"On Debian: apt-get install -y postgresql-client-{server_major}"
    )


def table_stats(conn: Any) -> dict[str, dict[str, Any]]:
    """Rows and a checksum (md5 over the sorted md5s of every row's text) per table."""
    from psycopg import sql

    tables = conn.execute(
        """SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
          AND n.nspname NOT LIKE 'pg\\_%' ORDER BY 1, 2"""
    ).fetchall()
    stats: dict[str, dict[str, Any]] = {}
    for schema, table in tables:
        rows, checksum = conn.execute(
            sql.SQL(
                "SELECT count(*), coalesce(md5(string_agg(md5(t::text), '' ORDER BY md5(t::text))), '') "
                "FROM {} AS t"
            ).format(sql.Identifier(schema, table))
        ).fetchone()
        stats[f"{schema}.{table}"] = {"rows": rows, "checksum": checksum}
    return stats


# --- Files ----------------------------------------------------------------------------------


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def walk_files(root: Path) -> tuple[list[Path], list[Path]]:
    """Regular files under ROOT (sorted), and what else is there (symlinks, sockets...)."""
    files: list[Path] = []
    others: list[Path] = []
    if not root.is_dir():
        return files, others
    for directory, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames) + [d for d in dirnames if Path(directory, d).is_symlink()]:
            path = Path(directory, name)
            (files if path.is_file() and not path.is_symlink() else others).append(path)
    return files, others


def file_list(root: Path) -> list[dict[str, Any]]:
    files, _ = walk_files(root)
    return [
        {"path": path.relative_to(root).as_posix(), "size": path.stat().st_size, "sha256": sha256_file(path)}
        for path in files
    ]


class HashingReader:
    """Hashes exactly the bytes tarfile copies into the archive."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.digest.update(data)
        return data


def archive_media(root: Path, target: Path) -> list[dict[str, Any]]:
    files, others = walk_files(root)
    for path in others:
        print(f"  skipped (not a regular file): {path}", file=sys.stderr)
    listed: list[dict[str, Any]] = []
    with tarfile.open(target, "w:gz") as tar:
        for path in files:
            arcname = path.relative_to(root).as_posix()
            with path.open("rb") as file:
                info = tar.gettarinfo(fileobj=file, arcname=arcname)
                reader = HashingReader(file)
                tar.addfile(info, reader)
            listed.append({"path": arcname, "size": info.size, "sha256": reader.digest.hexdigest()})
    return listed


def compare_files(expected: list[dict[str, Any]], root: Path) -> list[str]:
    actual = {entry["path"]: entry for entry in file_list(root)}
    wanted = {entry["path"]: entry for entry in expected}
    problems = [f"media file missing: {path}" for path in sorted(wanted.keys() - actual.keys())]
    problems += [f"media file not in the backup: {path}" for path in sorted(actual.keys() - wanted.keys())]
    for path in sorted(wanted.keys() & actual.keys()):
        if (actual[path]["size"], actual[path]["sha256"]) != (wanted[path]["size"], wanted[path]["sha256"]):
            problems.append(
                f"media file differs: {path} ({actual[path]['size']} bytes, sha256 "
                f"{actual[path]['sha256'][:12]}…; backup: {wanted[path]['size']} bytes, "
                f"{wanted[path]['sha256'][:12]}…)"
            )
    return problems


def human_size(size: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"


# --- backup ---------------------------------------------------------------------------------


def backup(stack_dir: Path, out: Path) -> Path:
    stack_env = read_stack_env(stack_dir)
    database = Database(stack_env["DIRECT_DATABASE_URL"])
    media = media_root(stack_env)
    out.mkdir(parents=True, exist_ok=True)
    created = datetime.now(UTC)
    # Written under a hidden name and renamed when complete: a half-made backup is never "the newest".
    work = Path(tempfile.mkdtemp(prefix=".quill-", suffix=".partial", dir=out))
    try:
        with database.connect() as conn:
            from psycopg import IsolationLevel

            conn.isolation_level = IsolationLevel.REPEATABLE_READ
            conn.read_only = True
            # One snapshot for pg_dump and the row counts: the manifest describes exactly the dump.
            snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]
            server_version = conn.info.server_version
            pg_dump = pg_tool("pg_dump", server_version // 10000)
            dump = subprocess.run(
                [
                    pg_dump, *database.tool_args(), "--format=custom", f"--snapshot={snapshot}",
                    "--file", str(work / "database.dump"), database.name,
                ],
                env=database.tool_env(), capture_output=True, text=True,
            )  # fmt: skip
            if dump.returncode != 0:
                raise SystemExit(f"pg_dump failed ({dump.returncode}):\n{dump.stderr}")
            tables = table_stats(conn)
            conn.rollback()
        files = archive_media(media, work / "media.tar.gz")
        dump_size = (work / "database.dump").stat().st_size
        manifest = {
            "format": MANIFEST_FORMAT,
            "created_at": created.isoformat(timespec="seconds"),
            "database": {
                "file": "database.dump",
                "name": database.name,
                "server_version": server_version,
                "pg_dump": pg_dump,
                "size": dump_size,
                "sha256": sha256_file(work / "database.dump"),
                "tables": tables,
            },
            "media": {
                "file": "media.tar.gz",
                "root": str(media),
                "existed": media.is_dir(),
                "files": files,
            },
        }
        (work / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
        for path in work.iterdir():
            os.chmod(path, 0o600)  # the dump holds password hashes and sessions
        target = out / f"quill-{created:%Y%m%d-%H%M%S}"
        while target.exists():  # two backups in one second
            time.sleep(1)
            target = out / f"quill-{datetime.now(UTC):%Y%m%d-%H%M%S}"
        work.rename(target)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    rows = sum(table["rows"] for table in tables.values())
    media_bytes = sum(entry["size"] for entry in files)
    print(f"Backed up {database} to {display(target)}:")
    print(f"  database.dump  {len(tables)} tables, {rows} rows ({human_size(dump_size)})")
    print(f"  media.tar.gz   {len(files)} files, {human_size(media_bytes)} from {media}")
    if stack_dir.resolve() == DEFAULT_STACK_DIR:
        print(f"Restore it with: make restore ARCHIVE={display(target)}")
    else:
        print(f"Restore it with: {sys.argv[0]} restore {display(target)} --stack-dir {stack_dir}")
    return target


# --- restore --------------------------------------------------------------------------------


def display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def newest_backup(backups: Path) -> Path:
    found = sorted(path.parent for path in backups.glob("quill-*/manifest.json"))
    if not found:
        raise SystemExit(f"no backup in {display(backups)}: make one with make backup")
    return found[-1]


def load_manifest(archive: Path) -> dict[str, Any]:
    manifest_file = archive / "manifest.json"
    if not manifest_file.is_file():
        raise SystemExit(f"{archive} is not a backup (no manifest.json in it)")
    manifest: dict[str, Any] = json.loads(manifest_file.read_text())
    if manifest.get("format") != MANIFEST_FORMAT:
        raise SystemExit(f"{manifest_file}: unknown manifest format {manifest.get('format')!r}")
    return manifest


def compare_tables(expected: dict[str, dict[str, Any]], actual: dict[str, dict[str, Any]]) -> list[str]:
    problems = [f"table missing: {table}" for table in sorted(expected.keys() - actual.keys())]
    for table in sorted(expected.keys() & actual.keys()):
        want, got = expected[table], actual[table]
        if got["rows"] != want["rows"]:
            problems.append(f"{table}: {got['rows']} rows, the backup has {want['rows']}")
        elif got["checksum"] != want["checksum"]:
            problems.append(f"{table}: {got['rows']} rows as in the backup, but their contents differ")
    return problems


def restore(archive: Path, stack_dir: Path) -> None:
    archive = archive.parent if archive.name == "manifest.json" else archive
    manifest = load_manifest(archive)
    stack_env = read_stack_env(stack_dir)
    database = Database(stack_env["DIRECT_DATABASE_URL"])
    media = media_root(stack_env)
    db_info, media_info = manifest["database"], manifest["media"]

    # 1. The archive is whole: the dump's hash, and the media unpacked beside their destination.
    dump = archive / db_info["file"]
    if not dump.is_file() or sha256_file(dump) != db_info["sha256"]:
        raise SystemExit(
            f"backup is damaged: {dump} is missing or differs from the manifest; nothing restored"
        )
    media.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{media.name}.restore-", dir=media.parent))
    try:
        try:
            with tarfile.open(archive / media_info["file"], "r:gz") as tar:
                tar.extractall(staging, filter="data")
        except (OSError, tarfile.TarError) as error:
            raise SystemExit(f"backup is damaged: {media_info['file']}: {error}; nothing restored") from None
        problems = compare_files(media_info["files"], staging)
        if problems:
            raise SystemExit("backup is damaged, nothing restored:\n  " + "\n  ".join(problems))

        # 2. The database, in one transaction; then every table is checked against the manifest.
        with database.connect() as conn:
            server_version = conn.info.server_version
        pg_restore = pg_tool("pg_restore", max(server_version, db_info["server_version"]) // 10000)
        result = subprocess.run(
            [
                pg_restore, *database.tool_args(), "--dbname", database.name, "--clean", "--if-exists",
                "--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error", str(dump),
            ],
            env={**database.tool_env(), "PGOPTIONS": "-c lock_timeout=30s"},
            capture_output=True, text=True,
        )  # fmt: skip
        if result.returncode != 0:
            raise SystemExit(
                f"pg_restore failed ({result.returncode}); the database is as it was:\n{result.stderr}"
            )
        with database.connect() as conn:
            tables = table_stats(conn)
        problems = compare_tables(db_info["tables"], tables)
        if problems:
            raise SystemExit(
                f"restore does not match the backup ({database}); media folder left as it was:\n  "
                + "\n  ".join(problems)
            )
        extra = sorted(tables.keys() - db_info["tables"].keys())

        # 3. The media folder: swapped in whole; a non-empty one already there is kept aside.
        kept = None
        if media.is_symlink() or (media.exists() and not media.is_dir()):
            raise SystemExit(f"{media} is not a folder; the database is restored, the media are not")
        os.chmod(staging, media.stat().st_mode & 0o7777 if media.is_dir() else 0o755)
        if media.is_dir() and any(media.iterdir()):
            stamp = f"{datetime.now(UTC):%Y%m%d-%H%M%S}"
            kept = media.with_name(f"{media.name}.before-restore-{stamp}")
            for number in range(2, 100):
                if not kept.exists():
                    break
                kept = media.with_name(f"{media.name}.before-restore-{stamp}-{number}")
            media.rename(kept)
        elif media.is_dir():
            media.rmdir()
        staging.rename(media)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    problems = compare_files(media_info["files"], media)
    if problems:
        raise SystemExit("media folder does not match the backup:\n  " + "\n  ".join(problems))

    rows = sum(table["rows"] for table in db_info["tables"].values())
    media_bytes = sum(entry["size"] for entry in media_info["files"])
    print(f"Restored {display(archive)} (made {manifest['created_at']}) and verified it:")
    print(f"  database  {database}: {len(db_info['tables'])} tables, {rows} rows, as in the manifest")
    print(f"  media     {media}: {len(media_info['files'])} files, {human_size(media_bytes)}, hashes match")
    if kept:
        print(f"  the media folder found there is kept as {kept}")
    if extra:
        print(f"  tables not in the backup, left as they were: {', '.join(extra)}")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="action", required=True)
    make = commands.add_parser("backup", help="back up the stack's database and media folder")
    make.add_argument("--stack-dir", type=Path, default=DEFAULT_STACK_DIR)
    make.add_argument("--out", type=Path, default=DEFAULT_BACKUPS, help="where the backup folder goes")
    back = commands.add_parser("restore", help="restore a backup into the stack and verify it")
    back.add_argument("archive", type=Path, nargs="?", help="a backup folder (default: the newest)")
    back.add_argument("--stack-dir", type=Path, default=DEFAULT_STACK_DIR)
    args = parser.parse_args()

    if args.action == "backup":
        backup(args.stack_dir, args.out)
    else:
        restore(args.archive or newest_backup(DEFAULT_BACKUPS), args.stack_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
