"""`make run` loads a demo into an empty database, on Postgres and on the embedded SQLite."""

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.management import call_command

from accounts.models import User
from posts.models import Post


def test_demo_loads_once_on_postgres(db):
    call_command("seed_demo", verbosity=0)
    demo = User.objects.get(email="demo@quill.example")
    assert demo.check_password("quill-demo-2026")
    assert Post.objects.published().filter(author=demo).count() == 3
    assert Post.objects.filter(author=demo, status=Post.Status.DRAFT).count() == 1

    call_command("seed_demo", verbosity=0)  # a second run leaves the data alone
    assert Post.objects.count() == 4


@pytest.mark.system
def test_demo_loads_on_the_embedded_sqlite_database(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "blog_project.settings",  # as `make run` has it
        "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
    }
    for command in (["migrate", "--noinput"], ["seed_demo"]):
        result = subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=settings.BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
    assert "Demo data loaded" in result.stdout
