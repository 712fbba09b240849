"""`make backup` / `make restore`: one stack's backup, restored into a fresh stack, has every row and file."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from psycopg import sql

pytestmark = pytest.mark.system

REPO = Path(settings.BASE_DIR)
PY = sys.executable

SEED = """
from accounts.models import User
from posts import services
for i in range(3):
    writer = User.objects.create_user(
        email=f"writer{i}@example.com", password="backup-pass-2026", username=f"writer{i}", name=f"Writer {i}"
    )
    for j in range(2):
        services.create_post(
            author=writer, title=f"Story {i}.{j}: ünïcode, 'quotes' & more",
            content=f"Body {i}.{j}\\n\\n**bold**", tags=[f"topic-{i}", "shared"], publish=j == 0,
        )
"""

POSTS_SCRIPT = """
import json
from accounts.models import User
from posts.models import Post
print(json.dumps({
    "stories": sorted(
        [p.slug, p.title, p.status, p.content, p.author.email, sorted(p.tags.values_list("name", flat=True))]
        for p in Post.objects.all()
    ),
    "users": sorted(User.objects.values_list("email", flat=True)),
}))
"""

# After a restore the sequences continue where the backup left them: new rows get fresh ids.
AFTER_RESTORE = """
from accounts.models import User
from posts import services
user = User.objects.create_user(email="after@example.com", password="backup-pass-2026", username="after")
services.create_post(author=user, title="Written after the restore", tags=["shared"], publish=True)
print(user.pk)
"""

MEDIA = {
    "avatars/ada.png": os.urandom(70_000),
    "stories/ünï code/figure 1.txt": b"a figure\n",
    "empty.txt": b"",
}


def base_env() -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "DIRECT_DATABASE_URL", "REDIS_URL", "MEDIA_ROOT")
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    env["DJANGO_SETTINGS_MODULE"] = "blog_project.settings"
    env.setdefault("SECRET_KEY", "test-backup-" + os.urandom(16).hex())
    env["QUILL_HTTPS"] = "false"
    return env


def run(args: list[str], env: dict[str, str], *, timeout: float = 180) -> str:
    result = subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{args} failed:\n{result.stdout}{result.stderr}"
    return result.stdout


def read_env(stack_dir: Path) -> dict[str, str]:
    lines = (stack_dir / "env").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line)


@contextmanager
def stack(stack_dir: Path) -> Iterator[dict[str, str]]:
    try:
        run([PY, "deploy/localstack.py", "up", "--dir", str(stack_dir)], base_env())
        yield read_env(stack_dir)
    finally:
        subprocess.run(
            [PY, "deploy/localstack.py", "down", "--dir", str(stack_dir)],
            cwd=REPO,
            env=base_env(),
            capture_output=True,
            timeout=120,
        )


def manage(stack_env: dict[str, str], *args: str) -> str:
    env = {**base_env(), "DATABASE_URL": stack_env["DATABASE_URL"]}  # through PgBouncer, like the site
    return run([PY, "manage.py", *args], env)


def row_counts(stack_env: dict[str, str]) -> dict[str, int]:
    with psycopg.connect(stack_env["DIRECT_DATABASE_URL"], connect_timeout=10) as conn:
        tables = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
        ).fetchall()
        counts: dict[str, int] = {}
        for (table,) in tables:
            row = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()
            assert row is not None
            counts[table] = row[0]
        return counts


def files_in(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes() for path in root.rglob("*") if path.is_file()
    }


def backup_tool(stack_dir: Path, media_root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PY, "deploy/backup.py", *args, "--stack-dir", str(stack_dir)],
        cwd=REPO,
        env={**base_env(), "MEDIA_ROOT": str(media_root)},
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_a_backup_restored_into_a_fresh_stack_has_every_row_and_file() -> None:
    work = Path(tempfile.mkdtemp(prefix="quill-backup-test-"))
    os.chmod(work, 0o755)  # the stacks' postgres user must reach its data folders inside
    media_a, media_b = work / "media-a", work / "media-b"
    try:
        with ExitStack() as stacks:
            # 1. A stack with content: the demo, three writers with stories and tags, media files.
            first = stacks.enter_context(stack(work / "stack-a"))
            manage(first, "migrate", "--noinput")
            manage(first, "seed_demo")
            manage(first, "shell", "-c", SEED)
            for name, content in MEDIA.items():
                (media_a / name).parent.mkdir(parents=True, exist_ok=True)
                (media_a / name).write_bytes(content)
            counts = row_counts(first)
            posts = json.loads(manage(first, "shell", "-c", POSTS_SCRIPT).strip().splitlines()[-1])
            assert counts["posts_post"] == 4 + 6 and counts["accounts_user"] == 4
            assert counts["posts_post_tags"] > 0 and counts["django_migrations"] > 0

            made = backup_tool(work / "stack-a", media_a, "backup", "--out", str(work / "backups"))
            assert made.returncode == 0, made.stdout + made.stderr
            [archive] = (work / "backups").iterdir()
            assert archive.name.startswith("quill-")
            assert sorted(p.name for p in archive.iterdir()) == [
                "database.dump",
                "manifest.json",
                "media.tar.gz",
            ]
            manifest = json.loads((archive / "manifest.json").read_text())
            tables = manifest["database"]["tables"]
            assert {name.removeprefix("public."): table["rows"] for name, table in tables.items()} == counts
            assert {f["path"]: f["size"] for f in manifest["media"]["files"]} == {
                name: len(content) for name, content in MEDIA.items()
            }

            # 2. A second, fresh stack (not even migrated), and a media folder that does not exist yet.
            # It is the one the stack's env names (as `up --web` records it), whatever $MEDIA_ROOT says.
            second = stacks.enter_context(stack(work / "stack-b"))
            with (work / "stack-b" / "env").open("a") as env_file:
                env_file.write(f"MEDIA_ROOT={media_b}\n")
            restored = backup_tool(work / "stack-b", work / "not-this-one", "restore", str(archive))
            assert restored.returncode == 0, restored.stdout + restored.stderr
            assert "verified" in restored.stdout
            assert not (work / "not-this-one").exists()

            assert row_counts(second) == counts
            assert json.loads(manage(second, "shell", "-c", POSTS_SCRIPT).strip().splitlines()[-1]) == posts
            assert files_in(media_b) == MEDIA
            new_user_id = int(manage(second, "shell", "-c", AFTER_RESTORE).strip().splitlines()[-1])
            assert new_user_id > 4
            # The restored database is complete: Django sees no migration left to apply.
            manage(second, "migrate", "--check")

            # 3. A backup that does not match what was restored fails loudly and says what differs.
            tampered = work / "tampered"
            shutil.copytree(archive, tampered)
            manifest["database"]["tables"]["public.posts_post"]["rows"] += 1
            (tampered / "manifest.json").write_text(json.dumps(manifest))
            failed = backup_tool(work / "stack-b", media_b, "restore", str(tampered))
            assert failed.returncode != 0
            assert "public.posts_post: 10 rows, the backup has 11" in failed.stderr

            # 4. An absent media folder is backed up as empty.
            empty = backup_tool(work / "stack-a", work / "no-media", "backup", "--out", str(work / "more"))
            assert empty.returncode == 0, empty.stdout + empty.stderr
            [again] = (work / "more").iterdir()
            assert json.loads((again / "manifest.json").read_text())["media"]["files"] == []

        # 5. Without a stack: a clear message, nothing else.
        for action in (["backup", "--out", str(work / "none")], ["restore", str(archive)]):
            missing = backup_tool(work / "stack-a", media_b, *action)
            assert missing.returncode != 0
            assert "no stack running: start it with make stack" in missing.stderr
        assert not (work / "none").exists()
    finally:
        shutil.rmtree(work, ignore_errors=True)
