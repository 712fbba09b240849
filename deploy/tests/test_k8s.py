"""deploy/k8s/: every overlay renders (kubectl kustomize), validates against Kubernetes 1.32's
schemas, keeps its Postgres connection budget, and has the shape the issue asks for; the
sidecar's pgbouncer.ini runs on a real PgBouncer; `make scaleout`'s short form passes."""

import copy
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from django.conf import settings

from blog_project.storage_url import storage_from_url

REPO = Path(settings.BASE_DIR)
K8S = REPO / "deploy" / "k8s"
NO_KUBECTL = (
    "kubectl is not installed and could not be installed here: `make system-packages` as root "
    "installs it (Debian: apt-get install -y kubectl)"
)
# The Secrets an installation creates itself (README, Kubernetes); only dev renders them.
EXTERNAL_SECRETS = {"quill-app", "quill-db-auth", "quill-db-owner", "quill-tls"}
WEB_LABELS = {"app.kubernetes.io/name": "quill", "app.kubernetes.io/component": "web"}
MIGRATE_LABELS = {"app.kubernetes.io/name": "quill", "app.kubernetes.io/component": "migrate"}
# The job workers (any number) and the one scheduler: `manage.py worker [--scheduler]`.
WORKERS = {"quill-worker": "worker", "quill-scheduler": "scheduler"}

Manifest = dict[str, Any]


def load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


budget_module = load("connection_budget", K8S / "connection_budget.py")
OVERLAYS = budget_module.overlay_names()


def kubectl_available() -> bool:
    """kubectl is there, or deploy/system-packages.sh could install it (as root, with apt)."""
    if shutil.which("kubectl"):
        return True
    subprocess.run(
        ["bash", str(REPO / "deploy" / "system-packages.sh"), "kubectl"], capture_output=True, timeout=600
    )
    return shutil.which("kubectl") is not None


@pytest.fixture(scope="module")
def rendered() -> dict[str, list[Manifest]]:
    if not kubectl_available():
        pytest.skip(NO_KUBECTL)
    return {overlay: budget_module.render(overlay) for overlay in OVERLAYS}


def one(docs: list[Manifest], kind: str, name: str) -> Manifest:
    found = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind} {name}: {len(found)} rendered"
    return found[0]


def named(items: list[Manifest], name: str) -> Manifest:
    return next(item for item in items if item["name"] == name)


def selects(selector: Manifest, labels: dict[str, str]) -> bool:
    """Whether a label selector (matchLabels and matchExpressions) selects these labels."""
    if any(labels.get(key) != value for key, value in selector.get("matchLabels", {}).items()):
        return False
    for expression in selector.get("matchExpressions", []):
        key, operator, values = expression["key"], expression["operator"], expression.get("values", [])
        matched = {
            "In": key in labels and labels[key] in values,
            "NotIn": key not in labels or labels[key] not in values,
            "Exists": key in labels,
            "DoesNotExist": key not in labels,
        }[operator]
        if not matched:
            return False
    return True


def config(docs: list[Manifest], name: str) -> dict[str, str]:
    return dict(budget_module.configmap(docs, name)["data"])


def pod_labels(docs: list[Manifest], kind: str, name: str) -> dict[str, str]:
    return dict(one(docs, kind, name)["spec"]["template"]["metadata"]["labels"])


def ini_of(docs: list[Manifest], kind: str, name: str) -> dict[str, dict[str, str]]:
    spec = one(docs, kind, name)["spec"]["template"]["spec"]
    bouncer = named(spec["initContainers"], "pgbouncer")
    files = budget_module.mounted_files(docs, spec, bouncer)
    return dict(budget_module.parse_ini(files, bouncer["command"][-1]))


# --- Rendering and schemas --------------------------------------------------------------------


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_validates_against_the_kubernetes_1_32_schemas(rendered, overlay):
    kubernetes_validate = pytest.importorskip(
        "kubernetes_validate", reason="kubernetes-validate is not installed (requirements-dev.txt)"
    )
    docs = rendered[overlay]
    assert docs
    for doc in docs:
        group = doc["apiVersion"].split("/")[0] if "/" in doc["apiVersion"] else ""
        if group.endswith("cnpg.io"):
            continue  # a CRD: no schema here, checked structurally below
        assert "." not in group or group.endswith("k8s.io"), f"unexpected custom resource {doc['kind']}"
        try:
            kubernetes_validate.validate(doc, "1.32.0", strict=True)
        except Exception as error:  # its ValidationError says which field
            pytest.fail(f"{overlay}: {doc['kind']} {doc['metadata']['name']}: {error}")
    for cluster in (d for d in docs if d["kind"] == "Cluster"):
        check_cloudnative_pg_cluster(cluster)


def check_cloudnative_pg_cluster(cluster: Manifest) -> None:
    assert cluster["apiVersion"] == "postgresql.cnpg.io/v1"
    spec = cluster["spec"]
    assert set(spec) <= {
        "instances", "imageName", "primaryUpdateStrategy", "enableSuperuserAccess", "postgresql",
        "bootstrap", "storage", "resources", "affinity",
    }  # fmt: skip
    assert isinstance(spec["instances"], int) and spec["instances"] >= 1
    assert re.fullmatch(r"ghcr\.io/cloudnative-pg/postgresql:15\.\d+", spec["imageName"])
    # CloudNativePG takes parameters as strings only.
    assert all(isinstance(value, str) for value in spec["postgresql"]["parameters"].values())
    initdb = spec["bootstrap"]["initdb"]
    assert (initdb["database"], initdb["owner"], initdb["secret"]["name"]) == (
        "quill",
        "quill",
        "quill-db-owner",
    )
    assert re.fullmatch(r"\d+[MG]i", spec["storage"]["size"])
    assert spec["enableSuperuserAccess"] is False


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_configmap_and_secret_a_pod_names_exists(rendered, overlay):
    docs = rendered[overlay]
    configmaps = {d["metadata"]["name"] for d in docs if d["kind"] == "ConfigMap"}
    secrets = {d["metadata"]["name"] for d in docs if d["kind"] == "Secret"}
    for workload in (d for d in docs if d["kind"] in ("Deployment", "Job")):
        spec = workload["spec"]["template"]["spec"]
        names = {("configMap", v["configMap"]["name"]) for v in spec.get("volumes", []) if "configMap" in v}
        names |= {("secret", v["secret"]["secretName"]) for v in spec.get("volumes", []) if "secret" in v}
        for container in [*spec.get("initContainers", []), *spec["containers"]]:
            for source in container.get("envFrom", []):
                if "configMapRef" in source:
                    names.add(("configMap", source["configMapRef"]["name"]))
                if "secretRef" in source:
                    names.add(("secret", source["secretRef"]["name"]))
        for kind, name in names:
            if kind == "configMap":
                assert name in configmaps, f"{workload['metadata']['name']}: no ConfigMap {name}"
            else:
                assert name in secrets or name in EXTERNAL_SECRETS, f"no Secret {name}"


# --- The connection budget --------------------------------------------------------------------


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_connection_budget_keeps_every_pool_within_max_connections(rendered, overlay, capsys):
    budget = budget_module.budget(rendered[overlay], overlay)
    with capsys.disabled():
        print(f"\n  connection budget {budget.explain()}")
    assert budget.ok, budget.explain()
    web = budget.web()
    assert web.source == "HPA maxReplicas"
    assert web.surge >= 1  # a rollout's extra pod is counted
    names = {(w.kind, w.name) for w in budget.workloads}
    assert names == {
        ("Deployment", "quill-web"),
        ("Deployment", "quill-worker"),
        ("Deployment", "quill-scheduler"),
        ("Job", "quill-migrate"),
    }
    # The workers are counted with their rollout's extra pod; the scheduler is one pod, ever.
    docs = rendered[overlay]
    worker = next(w for w in budget.workloads if w.name == "quill-worker")
    replicas = one(docs, "Deployment", "quill-worker")["spec"]["replicas"]
    assert (worker.source, worker.replicas, worker.surge) == ("replicas", replicas, 1)
    assert worker.connections == (replicas + 1) * worker.pool.cap
    scheduler = next(w for w in budget.workloads if w.name == "quill-scheduler")
    assert (scheduler.pods, scheduler.strategy) == (1, {"type": "Recreate"})
    for pool in (worker.pool, scheduler.pool):
        assert pool.cap == pool.max_db_connections == pool.default_pool_size + pool.reserve_pool_size
    # Every thread of a worker can hold a server connection without waiting on the pool: the
    # jobs and the heartbeat (jobs/worker.py), and in the scheduler its thread too.
    assert worker.pool.default_pool_size >= 2 and scheduler.pool.default_pool_size >= 3
    assert budget.total == sum(w.pods * w.pool.cap for w in budget.workloads) + (
        budget.admin_reserve + budget.superuser_reserved
    )
    # Each pod's cap is explicit, and every gunicorn worker thread can hold a server connection
    # without waiting on the pool.
    assert web.pool.max_db_connections == web.pool.default_pool_size + web.pool.reserve_pool_size
    settings_ = config(rendered[overlay], "quill-config")
    threads = int(settings_["WEB_CONCURRENCY"]) * int(settings_.get("GUNICORN_THREADS", "1"))
    assert threads <= web.pool.default_pool_size
    migrate = next(w for w in budget.workloads if w.kind == "Job")
    assert (migrate.pods, migrate.pool.cap) == (1, 1)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_pod_that_runs_quill_reaches_postgres_through_a_counted_sidecar(rendered, overlay):
    """A Deployment, StatefulSet or Job that runs the Quill image talks to Postgres, so it must
    do so through a PgBouncer sidecar of its own, and the budget must count it: a worker
    without its sidecar, or left out of the arithmetic, fails here."""
    docs = rendered[overlay]
    quill_image = named(
        one(docs, "Deployment", "quill-web")["spec"]["template"]["spec"]["containers"], "web"
    )["image"]
    running_quill = {
        (doc["kind"], doc["metadata"]["name"])
        for doc in docs
        if doc["kind"] in ("Deployment", "StatefulSet", "Job")
        and any(c["image"] == quill_image for c in doc["spec"]["template"]["spec"]["containers"])
    }
    assert {("Deployment", "quill-worker"), ("Deployment", "quill-scheduler")} <= running_quill
    budget = budget_module.budget(docs, overlay)
    counted = {(w.kind, w.name): w for w in budget.workloads}
    assert running_quill <= set(counted), f"not in the connection budget: {running_quill - set(counted)}"
    for key in running_quill:
        assert counted[key].pods >= 1 and counted[key].pool.cap >= 1, key


def raise_pool(docs: list[Manifest], size: int) -> None:
    pgbouncer = budget_module.configmap(docs, "quill-pgbouncer")
    pool = pgbouncer["data"]["pool.ini"]
    pool = re.sub(r"(?m)^default_pool_size = \d+", f"default_pool_size = {size}", pool)
    pgbouncer["data"]["pool.ini"] = re.sub(r"(?m)^max_db_connections = \d+", "max_db_connections = 0", pool)


def test_the_budget_fails_when_replicas_surge_or_pools_grow_past_it(rendered):
    for overlay in OVERLAYS:
        budget = budget_module.budget(rendered[overlay], overlay)
        allowed = budget.max_web_replicas()

        at_limit = copy.deepcopy(rendered[overlay])
        one(at_limit, "HorizontalPodAutoscaler", "quill-web")["spec"]["maxReplicas"] = allowed
        assert budget_module.budget(at_limit).ok

        too_many = copy.deepcopy(rendered[overlay])
        one(too_many, "HorizontalPodAutoscaler", "quill-web")["spec"]["maxReplicas"] = allowed + 1
        assert not budget_module.budget(too_many).ok, overlay

        bigger_pools = copy.deepcopy(rendered[overlay])
        raise_pool(bigger_pools, budget.max_connections)
        assert not budget_module.budget(bigger_pools).ok, overlay

        wider_rollout = copy.deepcopy(rendered[overlay])
        deployment = one(wider_rollout, "Deployment", "quill-web")
        deployment["spec"]["strategy"]["rollingUpdate"]["maxSurge"] = "100%"
        one(wider_rollout, "HorizontalPodAutoscaler", "quill-web")["spec"]["maxReplicas"] = allowed
        assert not budget_module.budget(wider_rollout).ok, overlay

        # The web pods at their limit leave no room for one more worker pod, nor for a
        # scheduler rolled out with a surge pod instead of Recreate.
        more_workers = copy.deepcopy(at_limit)
        worker = one(more_workers, "Deployment", "quill-worker")
        cap = next(w for w in budget.workloads if w.name == "quill-worker").pool.cap
        headroom = budget_module.budget(at_limit).headroom
        worker["spec"]["replicas"] += headroom // cap + 1
        assert not budget_module.budget(more_workers).ok, overlay
        overlapping = copy.deepcopy(at_limit)
        one(overlapping, "Deployment", "quill-scheduler")["spec"]["strategy"] = {"type": "RollingUpdate"}
        scheduler_cap = next(w for w in budget.workloads if w.name == "quill-scheduler").pool.cap
        assert budget_module.budget(overlapping).total == budget_module.budget(at_limit).total + scheduler_cap


def test_the_budget_counts_pgbouncer_defaults_and_refuses_what_it_cannot_bound(rendered):
    docs = copy.deepcopy(rendered["production"])
    pgbouncer = budget_module.configmap(docs, "quill-pgbouncer")
    pgbouncer["data"]["pool.ini"] = "; nothing set: PgBouncer's default_pool_size is 20\n"
    assert budget_module.budget(docs).web().pool.cap == 20

    pgbouncer["data"]["pgbouncer.ini"] += "\n[databases]\n* = host=quill-db-rw\n"
    with pytest.raises(budget_module.BudgetError, match="fallback"):
        budget_module.budget(docs)

    mismatched = copy.deepcopy(rendered["self-contained"])
    one(mismatched, "Cluster", "quill-db")["spec"]["postgresql"]["parameters"]["max_connections"] = "500"
    with pytest.raises(budget_module.BudgetError, match="max_connections 500"):
        budget_module.budget(mismatched)


def test_the_budget_script_prints_a_table_of_every_overlay(rendered):
    result = subprocess.run(
        [sys.executable, str(K8S / "connection_budget.py")], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[:2] == ["overlay", "web"]
    assert [line.split()[0] for line in lines[1:]] == OVERLAYS
    assert "headroom" in lines[0]


# --- The web pods -----------------------------------------------------------------------------


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_web_pods_run_the_quill_image_read_only_as_non_root(rendered, overlay):
    docs = rendered[overlay]
    deployment = one(docs, "Deployment", "quill-web")
    spec = deployment["spec"]["template"]["spec"]
    assert "replicas" not in deployment["spec"]  # the autoscaler owns the count
    dockerfile = (REPO / "Dockerfile").read_text()
    uid = int(re.search(r"useradd .*--uid (\d+) quill", dockerfile).group(1))  # type: ignore[union-attr]
    assert "USER quill" in dockerfile
    pod = spec["securityContext"]
    assert (pod["runAsNonRoot"], pod["runAsUser"], pod["seccompProfile"]["type"]) == (
        True,
        uid,
        "RuntimeDefault",
    )
    assert spec["automountServiceAccountToken"] is False

    containers = [*spec["initContainers"], *spec["containers"]]
    for container in containers:
        security = container["securityContext"]
        assert security["readOnlyRootFilesystem"] is True, container["name"]
        assert security["allowPrivilegeEscalation"] is False
        assert security["capabilities"]["drop"] == ["ALL"]
        assert {"cpu", "memory"} <= set(container["resources"]["requests"]), container["name"]
        assert "memory" in container["resources"]["limits"], container["name"]
        assert not container["image"].endswith(":latest")
    web = named(spec["containers"], "web")
    quill_image = web["image"]
    assert re.fullmatch(r"[\w./-]+:[\w.-]+", quill_image), quill_image
    assert named(spec["initContainers"], "wait-for-migrations")["image"] == quill_image
    assert (
        one(docs, "Job", "quill-migrate")["spec"]["template"]["spec"]["containers"][0]["image"] == quill_image
    )

    # A writable temporary folder, nothing else: the pods are stateless (media in the store).
    volumes = {volume["name"]: volume for volume in spec["volumes"]}
    tmp = next(m for m in web["volumeMounts"] if m["mountPath"] == "/tmp")
    assert "emptyDir" in volumes[tmp["name"]]
    for volume in volumes.values():
        assert set(volume) - {"name"} <= {"emptyDir", "configMap", "secret"}, volume
    assert web["ports"] == [{"name": "http", "containerPort": 8000}]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_web_pod_has_a_pgbouncer_sidecar_in_transaction_mode_on_loopback(rendered, overlay):
    docs = rendered[overlay]
    spec = one(docs, "Deployment", "quill-web")["spec"]["template"]["spec"]
    sidecar = spec["initContainers"][0]
    # A native sidecar: started first, stopped after gunicorn.
    assert (sidecar["name"], sidecar["restartPolicy"]) == ("pgbouncer", "Always")
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    assert sidecar["image"] == compose["services"]["pgbouncer"]["image"]  # the same pinned tag
    assert re.fullmatch(r"edoburu/pgbouncer:v\d+\.\d+\.\d+-p\d+", sidecar["image"])
    assert "pg_isready" in sidecar["startupProbe"]["exec"]["command"]

    ini = ini_of(docs, "Deployment", "quill-web")
    bouncer = ini["pgbouncer"]
    assert bouncer["listen_addr"] == "127.0.0.1"
    assert bouncer["pool_mode"] == "transaction"
    assert bouncer["unix_socket_dir"] == ""
    assert "admin_users" not in bouncer and "stats_users" not in bouncer
    # Fail fast and recover fast, as the local stack's PgBouncer does.
    local = (REPO / "deploy" / "localstack.py").read_text()
    for name in ("server_login_retry", "server_connect_timeout", "query_wait_timeout"):
        expected = re.search(rf"(?m)^{name} = (\d+)$", local)
        assert expected and bouncer[name] == expected.group(1), name
    assert bouncer["server_login_retry"] == "1"
    assert ini["databases"] == {"quill": "host=quill-db-rw port=5432 dbname=quill"}

    # The auth file comes from Secret quill-db-auth, mounted into the sidecar alone.
    auth_mount = next(
        m for m in sidecar["volumeMounts"] if bouncer["auth_file"].startswith(m["mountPath"] + "/")
    )
    auth_volume = named(spec["volumes"], auth_mount["name"])
    assert auth_volume["secret"]["secretName"] == "quill-db-auth"
    for container in [*spec["initContainers"][1:], *spec["containers"]]:
        assert auth_mount["name"] not in {m["name"] for m in container.get("volumeMounts", [])}

    # The app reaches its own sidecar, with no password in its environment.
    url = urlsplit(config(docs, "quill-config")["DATABASE_URL"])
    assert (url.hostname, str(url.port), url.password) == ("127.0.0.1", bouncer["listen_port"], None)
    assert url.path == "/quill"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_probes_and_a_graceful_shutdown_that_drops_no_request(rendered, overlay):
    docs = rendered[overlay]
    spec = one(docs, "Deployment", "quill-web")["spec"]["template"]["spec"]
    web = named(spec["containers"], "web")
    settings_ = config(docs, "quill-config")
    allowed_hosts = settings_["ALLOWED_HOSTS"].split(",")
    for probe, path in (
        ("startupProbe", "/livez"),
        ("livenessProbe", "/livez"),
        ("readinessProbe", "/readyz"),
    ):
        get = web[probe]["httpGet"]
        assert (get["path"], get["port"]) == (path, "http"), probe
        host = named(get["httpHeaders"], "Host")["value"]
        assert host in allowed_hosts, f"{probe} sends Host {host}, which Quill would refuse"
    # The load balancer stops sending first, then gunicorn drains, well within the grace period.
    pause = web["lifecycle"]["preStop"]["exec"]["command"]
    assert pause[0] == "sleep"
    graceful = int(settings_["GUNICORN_GRACEFUL_TIMEOUT"])
    assert "GUNICORN_GRACEFUL_TIMEOUT" in (REPO / "deploy" / "gunicorn.conf.py").read_text()
    assert spec["terminationGracePeriodSeconds"] > int(pause[1]) + graceful
    # The proxy waits longer than gunicorn lets a request run.
    annotations = one(docs, "Ingress", "quill")["metadata"]["annotations"]
    assert int(annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"]) > int(
        settings_["GUNICORN_TIMEOUT"]
    )
    # Behind the ingress controller, one proxy; settings a production start accepts.
    assert settings_["NUM_PROXIES"] == "1"
    assert settings_["DEBUG"] == "false"
    assert settings_["WEB_CONCURRENCY"].isdigit()


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_migrations_run_once_as_a_job_and_new_web_pods_wait_for_them(rendered, overlay):
    docs = rendered[overlay]
    job = one(docs, "Job", "quill-migrate")
    assert (job["spec"]["parallelism"], job["spec"]["completions"]) == (1, 1)
    assert job["spec"]["podReplacementPolicy"] == "Failed"
    template = job["spec"]["template"]["spec"]
    assert template["restartPolicy"] == "Never"
    assert template["containers"][0]["command"] == ["python", "manage.py", "migrate", "--noinput"]
    assert named(template["initContainers"], "pgbouncer")["restartPolicy"] == "Always"
    assert ini_of(docs, "Job", "quill-migrate")["pgbouncer"]["max_db_connections"] == "1"

    init = [
        c["name"] for c in one(docs, "Deployment", "quill-web")["spec"]["template"]["spec"]["initContainers"]
    ]
    assert init == ["pgbouncer", "wait-for-migrations"]  # the sidecar first: the wait goes through it
    wait = named(
        one(docs, "Deployment", "quill-web")["spec"]["template"]["spec"]["initContainers"],
        "wait-for-migrations",
    )
    assert "manage.py migrate --check" in " ".join(wait["command"])


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_autoscaler_disruption_budget_service_and_ingress_front_the_web_pods(rendered, overlay):
    docs = rendered[overlay]
    labels = pod_labels(docs, "Deployment", "quill-web")
    hpa = one(docs, "HorizontalPodAutoscaler", "quill-web")
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "quill-web",
    }
    assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
    [metric] = hpa["spec"]["metrics"]
    assert metric["type"] == "ContainerResource"
    assert (metric["containerResource"]["name"], metric["containerResource"]["container"]) == ("cpu", "web")

    pdb = one(docs, "PodDisruptionBudget", "quill-web")
    assert selects(pdb["spec"]["selector"], labels)
    assert pdb["spec"]["maxUnavailable"] == 1

    service = one(docs, "Service", "quill-web")
    assert selects({"matchLabels": service["spec"]["selector"]}, labels)
    assert service["spec"]["ports"][0]["targetPort"] == "http"

    ingress = one(docs, "Ingress", "quill")
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend == {"name": "quill-web", "port": {"name": "http"}}
    host = ingress["spec"]["rules"][0]["host"]
    assert host in config(docs, "quill-config")["ALLOWED_HOSTS"].split(",")
    assert any(
        origin.endswith("//" + host)
        for origin in config(docs, "quill-config")["CSRF_TRUSTED_ORIGINS"].split(",")
    )
    # The proxy role, with the same numbers as deploy/nginx/quill.conf.template.
    template = (REPO / "deploy" / "nginx" / "quill.conf.template").read_text()

    def directive(name: str) -> str:
        found = re.search(rf"(?m)^\s*{name}\s+([^;]+);", template)
        assert found, name
        return found.group(1).strip()

    annotations = {key.split("/", 1)[1]: value for key, value in ingress["metadata"]["annotations"].items()}
    assert annotations["proxy-request-buffering"] == directive("proxy_request_buffering") == "on"
    assert annotations["proxy-buffering"] == directive("proxy_buffering") == "on"
    assert annotations["proxy-body-size"] == directive("client_max_body_size")
    assert annotations["client-body-buffer-size"] == directive("client_body_buffer_size")
    assert annotations["proxy-buffer-size"] == directive("proxy_buffer_size")
    for name in ("proxy_connect_timeout", "proxy_send_timeout", "proxy_read_timeout"):
        assert annotations[name.replace("_", "-")] + "s" == directive(name)
    assert annotations["proxy-next-upstream"] == directive("proxy_next_upstream")
    assert annotations["proxy-next-upstream-tries"] == directive("proxy_next_upstream_tries")
    if config(docs, "quill-config")["QUILL_HTTPS"] == "true":
        assert ingress["spec"]["tls"][0]["hosts"] == [host]


# --- The job workers and the scheduler --------------------------------------------------------


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_workers_and_one_scheduler_run_the_web_image_with_the_web_pods_sidecar(rendered, overlay):
    docs = rendered[overlay]
    web_spec = one(docs, "Deployment", "quill-web")["spec"]["template"]["spec"]
    web_sidecar = named(web_spec["initContainers"], "pgbouncer")
    quill_image = named(web_spec["containers"], "web")["image"]
    for name, component in WORKERS.items():
        deployment = one(docs, "Deployment", name)
        labels = pod_labels(docs, "Deployment", name)
        assert labels == {
            **WEB_LABELS,
            "app.kubernetes.io/component": component,
            "app.kubernetes.io/part-of": "quill",
        }
        assert selects(deployment["spec"]["selector"], labels)
        assert not selects(deployment["spec"]["selector"], pod_labels(docs, "Deployment", "quill-web"))
        spec = deployment["spec"]["template"]["spec"]
        [container] = spec["containers"]
        assert container["image"] == quill_image
        expected = ["python", "manage.py", "worker", *(["--scheduler"] if component == "scheduler" else [])]
        assert container["command"] == expected
        assert container["envFrom"] == named(web_spec["containers"], "web")["envFrom"]
        # It takes no requests: no port, no HTTP probe, no Service in front of it.
        assert "ports" not in container
        assert not any(
            "httpGet" in container.get(probe, {})
            for probe in ("startupProbe", "livenessProbe", "readinessProbe")
        )
        for service in (d for d in docs if d["kind"] == "Service" and d["spec"].get("selector")):
            selector = {"matchLabels": service["spec"]["selector"]}
            assert not selects(selector, labels), service["metadata"]["name"]
        # The web pods' security: non-root, read-only, no capabilities, a writable /tmp only.
        assert spec["securityContext"] == web_spec["securityContext"]
        assert spec["automountServiceAccountToken"] is False
        for item in [*spec["initContainers"], *spec["containers"]]:
            security = item["securityContext"]
            assert security["readOnlyRootFilesystem"] is True, item["name"]
            assert security["allowPrivilegeEscalation"] is False
            assert security["capabilities"]["drop"] == ["ALL"]
            assert {"cpu", "memory"} <= set(item["resources"]["requests"]), item["name"]
            assert "memory" in item["resources"]["limits"], item["name"]
        volumes = {volume["name"]: volume for volume in spec["volumes"]}
        tmp = next(m for m in container["volumeMounts"] if m["mountPath"] == "/tmp")
        assert "emptyDir" in volumes[tmp["name"]]
        # The web pods' sidecar (a native one: started first, stopped after the worker), with the
        # same pgbouncer.ini; only the pool differs. Then the wait for this release's migrations.
        assert [c["name"] for c in spec["initContainers"]] == ["pgbouncer", "wait-for-migrations"]
        sidecar = spec["initContainers"][0]
        assert sidecar == web_sidecar
        assert named(spec["initContainers"], "wait-for-migrations") == named(
            web_spec["initContainers"], "wait-for-migrations"
        )
        ini, web_ini = ini_of(docs, "Deployment", name), ini_of(docs, "Deployment", "quill-web")
        pool_keys = {"default_pool_size", "reserve_pool_size", "reserve_pool_timeout", "max_db_connections"}
        assert ini["databases"] == web_ini["databases"]
        assert {k: v for k, v in ini["pgbouncer"].items() if k not in pool_keys} == {
            k: v for k, v in web_ini["pgbouncer"].items() if k not in pool_keys
        }
        assert volumes["pgbouncer-auth"] == named(web_spec["volumes"], "pgbouncer-auth")
        # SIGTERM: the worker finishes the job in hand; the kubelet waits for it.
        assert spec["terminationGracePeriodSeconds"] >= 60
    worker = one(docs, "Deployment", "quill-worker")["spec"]
    assert worker["replicas"] >= 1
    assert worker["strategy"]["rollingUpdate"] == {"maxSurge": 1, "maxUnavailable": 0}
    # One scheduler in the whole installation, and a rollout never runs two.
    scheduler = one(docs, "Deployment", "quill-scheduler")["spec"]
    assert (scheduler["replicas"], scheduler["strategy"]) == (1, {"type": "Recreate"})
    running_scheduler = [
        d["metadata"]["name"]
        for d in docs
        if d["kind"] in ("Deployment", "StatefulSet", "Job", "CronJob", "DaemonSet")
        and any("--scheduler" in c.get("command", []) for c in d["spec"]["template"]["spec"]["containers"])
    ]
    assert running_scheduler == ["quill-scheduler"]
    assert not any(
        d["kind"] == "HorizontalPodAutoscaler" and d["spec"]["scaleTargetRef"]["name"] in WORKERS
        for d in docs
    )


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_workers_take_no_connection_and_reach_postgres_redis_the_media_store_and_smtp(rendered, overlay):
    docs = rendered[overlay]
    in_cluster = any(d["kind"] == "Cluster" for d in docs)
    for name in WORKERS:
        labels = pod_labels(docs, "Deployment", name)
        rules = egress_rules(docs, labels)
        for rule in rules:
            assert rule.get("to") and rule.get("ports"), rule
        expected = {53, 5432, 6379, 443, 587, 465} | ({9000} if overlay == "dev" else set())
        assert expected <= ports(rules) <= expected | {6380}, name
        for rule in rules:
            if {port["port"] for port in rule["ports"]} == {587, 465}:
                [peer] = rule["to"]
                assert {"10.0.0.0/8", "169.254.0.0/16"} <= set(peer["ipBlock"]["except"])
        # Nothing reaches a worker.
        assert not [
            d["metadata"]["name"] for d in docs
            if d["kind"] == "NetworkPolicy" and "Ingress" in d["spec"]["policyTypes"]
            and selects(d["spec"]["podSelector"], labels) and d["spec"].get("ingress")
        ]  # fmt: skip
        # Postgres and Redis run in the cluster: their own policies let the workers in too.
        if in_cluster:
            for policy, port in (("quill-db-ingress", 5432), ("quill-redis-from-web", 6379)):
                ingress = one(docs, "NetworkPolicy", policy)["spec"]["ingress"]
                assert any(
                    any(
                        selects(peer.get("podSelector", {"matchLabels": {"-": "-"}}), labels)
                        for peer in rule["from"]
                    )
                    and {p["port"] for p in rule.get("ports", [])} == {port}
                    for rule in ingress
                ), (policy, name)


# --- Network policies -------------------------------------------------------------------------


def egress_rules(docs: list[Manifest], labels: dict[str, str]) -> list[Manifest]:
    policies = [d for d in docs if d["kind"] == "NetworkPolicy" and selects(d["spec"]["podSelector"], labels)]
    assert any(
        set(p["spec"]["policyTypes"]) == {"Ingress", "Egress"} and not p["spec"].get("egress")
        and not p["spec"].get("ingress") for p in policies
    ), "no default deny selects these pods"  # fmt: skip
    return [
        rule for p in policies if "Egress" in p["spec"]["policyTypes"] for rule in p["spec"].get("egress", [])
    ]


def ports(rules: list[Manifest]) -> set[int]:
    return {port["port"] for rule in rules for port in rule["ports"]}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_web_pods_reach_only_dns_postgres_redis_and_the_media_store(rendered, overlay):
    docs = rendered[overlay]
    rules = egress_rules(docs, pod_labels(docs, "Deployment", "quill-web"))
    for rule in rules:  # each rule names where, and on which port: none opens everything
        assert rule.get("to") and rule.get("ports"), rule
    expected = {53, 5432, 6379, 443} | ({9000} if overlay == "dev" else set())
    assert expected <= ports(rules) <= expected | {6380}
    in_cluster = any(d["kind"] == "Cluster" for d in docs)
    for rule in rules:
        port_numbers = {port["port"] for port in rule["ports"]}
        if port_numbers == {5432}:
            peers = rule["to"]
            if in_cluster:
                assert peers == [{"podSelector": {"matchLabels": {"cnpg.io/cluster": "quill-db"}}}]
            else:
                assert all(not ipaddress_is_public(peer["ipBlock"]["cidr"]) for peer in peers)
        if port_numbers == {443}:
            [peer] = rule["to"]
            assert peer["ipBlock"]["cidr"] == "0.0.0.0/0"
            assert {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"} <= set(
                peer["ipBlock"]["except"]
            )
    # Only the ingress controller reaches gunicorn.
    policies = [
        d for d in docs
        if d["kind"] == "NetworkPolicy" and "Ingress" in d["spec"]["policyTypes"]
        and selects(d["spec"]["podSelector"], WEB_LABELS) and d["spec"].get("ingress")
    ]  # fmt: skip
    [policy] = policies
    [rule] = policy["spec"]["ingress"]
    assert rule["ports"] == [{"protocol": "TCP", "port": 8000}]
    assert rule["from"][0]["namespaceSelector"]["matchLabels"] == {
        "kubernetes.io/metadata.name": "ingress-nginx"
    }

    # The migrate Job reaches DNS and Postgres only.
    assert ports(egress_rules(docs, pod_labels(docs, "Job", "quill-migrate"))) == {53, 5432}


def ipaddress_is_public(cidr: str) -> bool:
    import ipaddress

    return not ipaddress.ip_network(cidr).is_private


# --- Data services and secrets ----------------------------------------------------------------


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_postgres_and_redis_are_managed_services_unless_the_overlay_runs_them(rendered, overlay):
    docs = rendered[overlay]
    kinds = {(d["kind"], d["metadata"]["name"]) for d in docs}
    if overlay == "production":
        database = one(docs, "Service", "quill-db-rw")
        assert database["spec"]["type"] == "ExternalName"
        assert ("Cluster", "quill-db") not in kinds and ("Deployment", "quill-redis") not in kinds
    else:
        # The operator makes quill-db-rw for its Cluster; Redis runs beside the web pods.
        assert ("Cluster", "quill-db") in kinds and ("Service", "quill-db-rw") not in kinds
        redis = one(docs, "Deployment", "quill-redis")
        container = redis["spec"]["template"]["spec"]["containers"][0]
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert redis["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] is True
        assert ("Service", "quill-redis") in kinds
        assert one(docs, "Cluster", "quill-db")["spec"]["instances"] == (1 if overlay == "dev" else 3)
    namespace = next(d for d in docs if d["kind"] == "Namespace")
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_no_real_secret_is_ever_rendered(rendered, overlay):
    import base64

    secrets = [d for d in rendered[overlay] if d["kind"] == "Secret"]
    if overlay != "dev":
        # Applying production never replaces the real Secrets with placeholders.
        assert secrets == []
        return
    assert {s["metadata"]["name"] for s in secrets} == {"quill-app", "quill-db-auth", "quill-db-owner"}
    values = {
        (s["metadata"]["name"], key): base64.b64decode(value).decode()
        for s in secrets
        for key, value in s["data"].items()
    }
    for (name, key), value in values.items():
        assert "dev-only" in value or key in ("REDIS_URL", "username"), (name, key)
    # One password: the sidecar's auth file and the operator's owner secret agree.
    assert (
        values[("quill-db-auth", "userlist.txt")] == f'"quill" "{values[("quill-db-owner", "password")]}"\n'
    )
    # Media go to the S3-compatible store: the web pods keep nothing.
    media = storage_from_url(values[("quill-app", "MEDIA_STORAGE_URL")])
    assert media["BACKEND"] == "storages.backends.s3.S3Storage"
    readme = (REPO / "README.md").read_text()
    for name in EXTERNAL_SECRETS - {"quill-tls"}:
        assert f"create secret generic {name}" in readme, name


# --- The sidecar's configuration on a real PgBouncer ------------------------------------------


@pytest.mark.system
@pytest.mark.skipif(
    not shutil.which("pgbouncer") and not Path("/usr/sbin/pgbouncer").exists(), reason="no pgbouncer"
)
def test_the_sidecar_pgbouncer_ini_runs_on_pgbouncer_and_admits_only_the_app(rendered):
    """The production overlay's ini, on the Debian PgBouncer (1.18) against a local Postgres:
    only the database's address, the files' paths and TLS (the local Postgres has none) are
    changed. The app logs in without a password; the sidecar logs in to Postgres with the one
    in the auth file; nobody else gets in, nor into the console."""
    import psycopg

    localstack = load("localstack", REPO / "deploy" / "localstack.py")
    docs = rendered["production"]
    spec = one(docs, "Deployment", "quill-web")["spec"]["template"]["spec"]
    files = budget_module.mounted_files(docs, spec, named(spec["initContainers"], "pgbouncer"))
    directory = Path(tempfile.mkdtemp(prefix="quill-sidecar-"))
    os.chmod(directory, 0o755)
    if localstack.IS_ROOT:
        shutil.chown(directory, "postgres", "postgres")
    password = "sidecar-test-password"
    pg_port, port = localstack.free_port(), localstack.free_port()
    process = None
    try:
        localstack.start_postgres(directory, pg_port, password)
        ini = files["/etc/pgbouncer/pgbouncer.ini"]
        for old, new in (
            ("host=quill-db-rw port=5432", f"host=127.0.0.1 port={pg_port}"),
            ("listen_port = 6432", f"listen_port = {port}"),
            ("/etc/pgbouncer-auth/userlist.txt", str(directory / "userlist.txt")),
            ("/etc/pgbouncer/pool.ini", str(directory / "pool.ini")),
            ("server_tls_sslmode = require", "server_tls_sslmode = disable"),
        ):
            assert old in ini
            ini = ini.replace(old, new)
        (directory / "pgbouncer.ini").write_text(ini)
        (directory / "pool.ini").write_text(files["/etc/pgbouncer/pool.ini"])
        (directory / "userlist.txt").write_text(f'"quill" "{password}"\n')
        for name in ("pgbouncer.ini", "pool.ini", "userlist.txt"):
            if localstack.IS_ROOT:
                shutil.chown(directory / name, "postgres", "postgres")
        pgbouncer = localstack.find_binary("pgbouncer", "/usr/sbin/pgbouncer")
        log = open(directory / "pgbouncer.out", "wb")  # noqa: SIM115 - the child's output
        process = subprocess.Popen(
            localstack.as_service_user([pgbouncer, str(directory / "pgbouncer.ini")]),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        localstack.wait_for_port(port, "PgBouncer", timeout=15)
        with psycopg.connect(host="127.0.0.1", port=port, user="quill", dbname="quill") as conn:
            assert conn.execute("SELECT current_user").fetchone() == ("quill",)
        for user, dbname in (("postgres", "quill"), ("quill", "pgbouncer")):
            with pytest.raises(psycopg.OperationalError):
                psycopg.connect(host="127.0.0.1", port=port, user=user, dbname=dbname).close()
        probe = subprocess.run(
            [
                "pg_isready",
                "-q",
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
                "-U",
                "quill",
                "-d",
                "pgbouncer",
                "-t",
                "2",
            ]
        )
        assert probe.returncode == 0  # the sidecar's startup and liveness probe
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=10)
        localstack.down(directory)
        shutil.rmtree(directory, ignore_errors=True)


# --- The local rehearsal ----------------------------------------------------------------------


@pytest.mark.system
def test_scaleout_rehearsal_short_form(tmp_path, capsys):
    """`deploy/scaleout.py --short`: 2 replicas, each with its own PgBouncer, behind nginx, a
    few seconds of load, one replica killed halfway."""
    report_file = tmp_path / "scaleout.json"
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run(
        [sys.executable, str(REPO / "deploy" / "scaleout.py"), "--short", "--json", str(report_file)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    with capsys.disabled():
        print("\n" + result.stdout)
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(report_file.read_text())
    assert all(report["checks"].values()), report["checks"]
    postgres = report["postgres"]
    assert 0 < postgres["peak_app_connections"] <= postgres["allowed_app_connections"] == 2
    assert postgres["refused"] == 0
    assert [r["served"] > 0 for r in report["replicas"]] == [True, True]
    assert report["replicas"][-1]["killed_at"] is not None
    assert report["writes"]["lost"] == 0 and report["writes"]["duplicated"] == 0
    assert report["writes"]["acknowledged"] > 0
