"""docker-compose.yml describes the production topology; validated with docker compose when present."""

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from django.conf import settings

REPO = Path(settings.BASE_DIR)


def compose_command() -> list[str] | None:
    """`docker compose` (the plugin) or the standalone `docker-compose`, whichever is installed."""
    if (
        shutil.which("docker")
        and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0
    ):
        return ["docker", "compose"]
    return ["docker-compose"] if shutil.which("docker-compose") else None


@pytest.mark.system
@pytest.mark.skipif(
    compose_command() is None, reason="neither docker compose nor docker-compose is installed"
)
def test_docker_compose_accepts_the_file(tmp_path):
    # Validate a copy beside a .env made from the example, as a new operator would set it up.
    shutil.copy(REPO / "docker-compose.yml", tmp_path)
    shutil.copy(REPO / ".env.example", tmp_path / ".env")
    command = compose_command()
    assert command is not None  # the skipif above
    result = subprocess.run(
        [*command, "-f", "docker-compose.yml", "config", "-q"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


def test_compose_file_runs_the_whole_stack_through_pgbouncer():
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) == {"db", "pgbouncer", "redis", "migrate", "web"}

    assert "healthcheck" in services["db"]
    assert any(volume.endswith(":/var/lib/postgresql/data") for volume in services["db"]["volumes"])
    assert services["pgbouncer"]["environment"]["POOL_MODE"] == "transaction"
    assert services["pgbouncer"]["environment"]["DB_HOST"] == "db"

    for name in ("web", "migrate"):
        assert "@pgbouncer:5432/" in services[name]["environment"]["DATABASE_URL"]
        assert services[name]["build"] == "."
        assert services[name]["env_file"] == ".env"
    assert services["web"]["environment"]["REDIS_URL"].startswith("redis://redis:")
    assert services["web"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["migrate"]["restart"] == "no"


def test_secrets_come_from_env_and_only_the_example_is_committed():
    text = (REPO / "docker-compose.yml").read_text()
    assert "${POSTGRES_PASSWORD:?" in text
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True).stdout.split()
    assert ".env.example" in tracked
    assert ".env" not in tracked


def test_dockerfile_serves_with_the_gunicorn_config():
    dockerfile = (REPO / "Dockerfile").read_text()
    assert 'CMD ["gunicorn", "-c", "deploy/gunicorn.conf.py", "blog_project.wsgi"]' in dockerfile
    assert "USER quill" in dockerfile
