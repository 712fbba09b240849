"""docker-compose.yml describes the production topology; validated with docker compose when present."""

import importlib.util
import re
import shutil
import subprocess
from pathlib import Path
from types import ModuleType

import pytest
import yaml
from django.conf import settings

REPO = Path(settings.BASE_DIR)
PROXY_TEMPLATE = REPO / "deploy" / "nginx" / "quill.conf.template"


def localstack() -> ModuleType:
    spec = importlib.util.spec_from_file_location("localstack", REPO / "deploy" / "localstack.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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
    assert set(services) == {"db", "pgbouncer", "redis", "migrate", "web", "worker", "worker-extra", "proxy"}

    assert "healthcheck" in services["db"]
    assert any(volume.endswith(":/var/lib/postgresql/data") for volume in services["db"]["volumes"])
    assert services["pgbouncer"]["environment"]["POOL_MODE"] == "transaction"
    assert services["pgbouncer"]["environment"]["DB_HOST"] == "db"

    for name in ("web", "migrate", "worker", "worker-extra"):
        assert "@pgbouncer:5432/" in services[name]["environment"]["DATABASE_URL"]
        assert services[name]["build"] == "."
        assert services[name]["env_file"] == ".env"
    assert services["web"]["environment"]["REDIS_URL"].startswith("redis://redis:")
    assert services["web"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["migrate"]["restart"] == "no"


def test_workers_run_web_s_image_and_settings_and_one_of_them_the_scheduler():
    services = yaml.safe_load((REPO / "docker-compose.yml").read_text())["services"]
    web = services["web"]
    web_only = {"NUM_PROXIES", "FORWARDED_ALLOW_IPS"}  # for gunicorn behind the proxy
    schedulers = []
    for name in ("worker", "worker-extra"):
        worker = services[name]
        command = worker["command"]
        assert command[:3] == ["python", "manage.py", "worker"], name
        if "--scheduler" in command:
            schedulers.append(name)
        # The web's image, settings (the database through PgBouncer, Redis, media) and media volume.
        assert (worker["build"], worker["env_file"]) == (web["build"], web["env_file"])
        assert "image" not in worker and "image" not in web
        assert worker["environment"] == {k: v for k, v in web["environment"].items() if k not in web_only}
        assert worker["volumes"] == web["volumes"]
        assert worker["depends_on"] == web["depends_on"]
        assert worker["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        # No port; time to finish the job in hand on `docker compose stop` (SIGTERM); restarted.
        assert "ports" not in worker and "expose" not in worker
        assert int(worker["stop_grace_period"].removesuffix("s")) >= 30
        assert worker["restart"] == "unless-stopped"
        # The worker offers no health check (no port, nothing to ask): none is made up.
        assert "healthcheck" not in worker
    # Exactly one scheduler, in the service that always runs; the one to scale is optional.
    assert schedulers == ["worker"]
    assert "profiles" not in services["worker"]
    assert services["worker-extra"]["profiles"] == ["more-workers"]
    assert "--scale worker-extra=" in (REPO / "docker-compose.yml").read_text()


def test_only_the_proxy_is_published_and_it_fronts_web():
    services = yaml.safe_load((REPO / "docker-compose.yml").read_text())["services"]
    proxy, web = services["proxy"], services["web"]
    # Clients reach gunicorn only through nginx.
    assert [name for name, service in services.items() if "ports" in service] == ["proxy"]
    assert proxy["ports"] == ["${WEB_PORT:-8000}:8080"]
    assert web["expose"] == ["8000"]
    assert re.fullmatch(r"nginx:1\.\d+(\.\d+)?-bookworm", proxy["image"])
    assert proxy["depends_on"]["web"]["condition"] == "service_healthy"
    assert "healthcheck" in proxy
    # The site's configuration is the local stack's template, filled in by the image.
    template = "./deploy/nginx/quill.conf.template:/etc/nginx/templates/default.conf.template:ro"
    assert template in proxy["volumes"]
    assert proxy["environment"]["QUILL_UPSTREAM"] == "web:8000"
    assert proxy["environment"]["QUILL_PROXY_LISTEN"] == "8080"
    # Quill trusts the one X-Forwarded-For entry the proxy adds.
    assert web["environment"]["NUM_PROXIES"] == "1"
    # Media: written by web, served read-only by the proxy from the same volume.
    assert "media:/app/var/media" in web["volumes"]
    assert f"media:{proxy['environment']['QUILL_MEDIA_ROOT']}:ro" in proxy["volumes"]


def test_every_placeholder_of_the_proxy_template_is_given_in_compose():
    proxy = yaml.safe_load((REPO / "docker-compose.yml").read_text())["services"]["proxy"]
    placeholders = set(re.findall(r"\$\{(\w+)\}", PROXY_TEMPLATE.read_text()))
    assert placeholders
    assert all(name.startswith("QUILL_") for name in placeholders)  # what NGINX_ENVSUBST_FILTER lets through
    assert proxy["environment"]["NGINX_ENVSUBST_FILTER"] == "^QUILL_"
    assert placeholders <= set(proxy["environment"])


@pytest.mark.system
@pytest.mark.skipif(not shutil.which("nginx") and not Path("/usr/sbin/nginx").exists(), reason="no nginx")
def test_nginx_accepts_the_proxy_configuration_compose_renders(tmp_path):
    # What the nginx image makes of the template with Compose's settings, checked by Debian's
    # nginx (1.22, older than the image's): `web` resolves only inside Compose, so it is
    # swapped for a loopback address.
    services = yaml.safe_load((REPO / "docker-compose.yml").read_text())["services"]
    environment = services["proxy"]["environment"]
    values = {key: str(value) for key, value in environment.items() if key.startswith("QUILL_")}
    values["QUILL_UPSTREAM"] = values["QUILL_UPSTREAM"].replace("web:", "127.0.0.1:")
    (tmp_path / "quill.conf").write_text(localstack().render_template(PROXY_TEMPLATE, values))
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n  client_body_temp_path {tmp_path}/body; proxy_temp_path {tmp_path}/proxy;\n"
        f"  fastcgi_temp_path {tmp_path}/fastcgi; uwsgi_temp_path {tmp_path}/uwsgi;\n"
        f"  scgi_temp_path {tmp_path}/scgi; access_log off;\n  include {tmp_path}/quill.conf;\n}}\n"
    )
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    error_log, config = tmp_path / "error.log", tmp_path / "nginx.conf"
    result = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-e", str(error_log), "-c", str(config)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr


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
