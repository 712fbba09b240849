"""The Postgres connection budget of each overlay under deploy/k8s/, from its rendered manifests.

    python deploy/k8s/connection_budget.py [OVERLAY ...]   # a table; exit 1 if one is over

Every Quill pod that talks to Postgres does so through its own PgBouncer sidecar, and a sidecar
opens at most its pool's cap of server connections. So Postgres must have a slot for

      pods at most x the cap of each pod's sidecar      (web: HPA maxReplicas + the rollout's
                                                         maxSurge; the job workers: replicas +
                                                         maxSurge; the scheduler: 1, Recreate;
                                                         the migrate Job: parallelism)
    + admin_reserve                                     (people, backups, monitoring)
    + superuser_reserved_connections                    (Postgres's own, for superusers)
    <= max_connections

A sidecar's cap is what its pgbouncer.ini (with its %include files, as mounted in the pod)
allows for each database: pool_size (default_pool_size unless the database sets its own)
+ reserve_pool_size, at most max_db_connections. max_connections and the reserves come from
ConfigMap quill-db-capacity (and a CloudNativePG Cluster, when the overlay has one, must run
with the same values). deploy/tests/test_k8s.py checks every overlay with this.
"""

from __future__ import annotations

import math
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

K8S = Path(__file__).resolve().parent
OVERLAYS = K8S / "overlays"
CAPACITY_CONFIGMAP = "quill-db-capacity"
# PgBouncer's own defaults, for a setting its ini leaves out.
PGBOUNCER_DEFAULTS = {"default_pool_size": 20, "reserve_pool_size": 0, "max_db_connections": 0}

Manifest = dict[str, Any]


class BudgetError(Exception):
    """The manifests do not say enough to count the connections (or contradict each other)."""


def overlay_names() -> list[str]:
    return sorted(path.parent.name for path in OVERLAYS.glob("*/kustomization.yaml"))


def render(overlay: str | Path) -> list[Manifest]:
    """`kubectl kustomize` of an overlay (a name under overlays/, or a folder)."""
    folder = Path(overlay) if Path(overlay).is_dir() else OVERLAYS / str(overlay)
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        raise BudgetError("kubectl is not installed (Debian: apt-get install -y kubectl)")
    result = subprocess.run([kubectl, "kustomize", str(folder)], capture_output=True, text=True)
    if result.returncode != 0:
        raise BudgetError(f"kubectl kustomize {folder} failed:\n{result.stderr}")
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def find(docs: list[Manifest], kind: str, name: str | None = None) -> list[Manifest]:
    return [
        doc
        for doc in docs
        if doc.get("kind") == kind and (name is None or doc.get("metadata", {}).get("name") == name)
    ]


def configmap(docs: list[Manifest], name: str) -> Manifest:
    """A ConfigMap by its name as rendered, or by the name its generator was given (kustomize
    appends a hash to a generated one)."""
    exact = find(docs, "ConfigMap", name)
    if exact:
        return exact[0]
    generated = [doc for doc in find(docs, "ConfigMap") if doc["metadata"]["name"].rsplit("-", 1)[0] == name]
    if len(generated) != 1:
        raise BudgetError(f"no ConfigMap {name}")
    return generated[0]


def mounted_files(docs: list[Manifest], pod_spec: Manifest, container: Manifest) -> dict[str, str]:
    """The files a container sees from its ConfigMap volumes: {absolute path: content}."""
    volumes = {volume["name"]: volume for volume in pod_spec.get("volumes", [])}
    files = {}
    for mount in container.get("volumeMounts", []):
        source = volumes.get(mount["name"], {}).get("configMap")
        if source is None:
            continue
        data = configmap(docs, source["name"]).get("data", {})
        items = source.get("items") or [{"key": key, "path": key} for key in data]
        for item in items:
            if mount.get("subPath"):
                if item["path"] == mount["subPath"]:
                    files[mount["mountPath"]] = data[item["key"]]
            else:
                files[str(PurePosixPath(mount["mountPath"]) / item["path"])] = data[item["key"]]
    return files


def parse_ini(files: dict[str, str], path: str) -> dict[str, dict[str, str]]:
    """PgBouncer's ini as PgBouncer reads it: `%include FILE` goes on in the current section
    (and the file's last section goes on after it), a later setting replaces an earlier one."""
    sections: dict[str, dict[str, str]] = {}

    def read(path: str, section: str, depth: int) -> str:
        if path not in files:
            raise BudgetError(f"{path} is not mounted in the PgBouncer container")
        if depth > 10:
            raise BudgetError(f"{path}: %include nests too deep")
        for raw in files[path].splitlines():
            line = raw.strip()
            if not line or line[0] in ";#":
                continue
            if line.startswith("%include"):
                included = PurePosixPath(path).parent / line.split(None, 1)[1].strip()
                section = read(str(included), section, depth + 1)
            elif line.startswith("[") and line.endswith("]"):
                section = line[1:-1].strip().lower()
                sections.setdefault(section, {})
            else:
                key, _, value = line.partition("=")
                sections.setdefault(section, {})[key.strip()] = value.strip()
        return section

    read(path, "", 0)
    return sections


@dataclass
class SidecarPool:
    ini: str
    default_pool_size: int
    reserve_pool_size: int
    max_db_connections: int
    # database name -> the most server connections PgBouncer opens to it
    per_database: dict[str, int] = field(default_factory=dict)

    @property
    def cap(self) -> int:
        return sum(self.per_database.values())


def pgbouncer_pool(ini_sections: dict[str, dict[str, str]], ini: str) -> SidecarPool:
    settings = ini_sections.get("pgbouncer", {})

    def number(values: dict[str, str], name: str, default: int) -> int:
        try:
            return int(values.get(name, default))
        except ValueError:
            raise BudgetError(f"{ini}: {name} = {values[name]!r} is not a number") from None

    default_pool = number(settings, "default_pool_size", PGBOUNCER_DEFAULTS["default_pool_size"])
    reserve = number(settings, "reserve_pool_size", PGBOUNCER_DEFAULTS["reserve_pool_size"])
    max_db = number(settings, "max_db_connections", PGBOUNCER_DEFAULTS["max_db_connections"])
    databases = ini_sections.get("databases", {})
    if not databases:
        raise BudgetError(f"{ini}: no [databases]")
    if "*" in databases:
        raise BudgetError(f"{ini}: a `*` fallback database has no bound on the pools it may open")
    per_database = {}
    for name, entry in databases.items():
        options = dict(part.partition("=")[::2] for part in shlex.split(entry))
        pool = number(options, "pool_size", default_pool) + number(options, "reserve_pool", reserve)
        limit = number(options, "max_db_connections", max_db)
        per_database[name] = min(pool, limit) if limit > 0 else pool
    return SidecarPool(ini, default_pool, reserve, max_db, per_database)


def sidecar_pool(docs: list[Manifest], pod_spec: Manifest) -> SidecarPool | None:
    """The pool of the pod's PgBouncer container, if it has one."""
    containers = [*pod_spec.get("initContainers", []), *pod_spec.get("containers", [])]
    bouncers = [c for c in containers if "pgbouncer" in c.get("image", "")]
    if not bouncers:
        return None
    if len(bouncers) > 1:
        raise BudgetError("a pod with more than one PgBouncer container")
    bouncer = bouncers[0]
    command = [*bouncer.get("command", []), *bouncer.get("args", [])]
    ini = next((arg for arg in command if arg.endswith(".ini")), "/etc/pgbouncer/pgbouncer.ini")
    files = mounted_files(docs, pod_spec, bouncer)
    return pgbouncer_pool(parse_ini(files, ini), ini)


def surge(strategy: Manifest, replicas: int) -> int:
    """How many pods above `replicas` a rolling update may run (Kubernetes rounds a
    percentage up; 25% when unset)."""
    if strategy.get("type") == "Recreate":
        return 0
    value = strategy.get("rollingUpdate", {}).get("maxSurge", "25%")
    if isinstance(value, str) and value.endswith("%"):
        return math.ceil(replicas * int(value[:-1]) / 100)
    return int(value)


@dataclass
class Workload:
    kind: str
    name: str
    replicas: int  # at most: HPA maxReplicas, replicas, or a Job's parallelism
    source: str  # which of those
    strategy: Manifest  # a Deployment's rollout strategy (its maxSurge adds pods)
    pool: SidecarPool

    @property
    def surge(self) -> int:
        return surge(self.strategy, self.replicas) if self.kind == "Deployment" else 0

    @property
    def pods(self) -> int:
        return self.replicas + self.surge

    @property
    def connections(self) -> int:
        return self.pods * self.pool.cap


@dataclass
class Budget:
    overlay: str
    max_connections: int
    superuser_reserved: int
    admin_reserve: int
    workloads: list[Workload]

    @property
    def pooled(self) -> int:
        return sum(workload.connections for workload in self.workloads)

    @property
    def total(self) -> int:
        return self.pooled + self.admin_reserve + self.superuser_reserved

    @property
    def headroom(self) -> int:
        return self.max_connections - self.total

    @property
    def ok(self) -> bool:
        return self.headroom >= 0

    def web(self) -> Workload:
        webs = [w for w in self.workloads if w.kind == "Deployment" and w.name == "quill-web"]
        if not webs:
            raise BudgetError("no Deployment quill-web with a PgBouncer sidecar")
        return webs[0]

    def max_web_replicas(self) -> int:
        """The largest maxReplicas of the web pods that the budget allows, all else equal."""
        web = self.web()
        others = self.total - web.connections
        best = 0
        for replicas in range(1, self.max_connections + 1):
            trial = Workload(web.kind, web.name, replicas, web.source, web.strategy, web.pool)
            if others + trial.connections > self.max_connections:
                break
            best = replicas
        return best

    def explain(self) -> str:
        terms = " + ".join(f"{w.pods}x{w.pool.cap} ({w.kind} {w.name})" for w in self.workloads)
        return (
            f"{self.overlay}: {terms} + admin {self.admin_reserve} + superuser {self.superuser_reserved}"
            f" = {self.total} of max_connections {self.max_connections}: headroom {self.headroom}"
        )


def _capacity(docs: list[Manifest]) -> tuple[int, int, int]:
    data = configmap(docs, CAPACITY_CONFIGMAP).get("data", {})
    try:
        values = (
            int(data["max_connections"]),
            int(data["superuser_reserved_connections"]),
            int(data["admin_reserve"]),
        )
    except (KeyError, ValueError) as error:
        raise BudgetError(f"ConfigMap {CAPACITY_CONFIGMAP}: {error}") from None
    # A Postgres the overlay runs itself must run with what the budget counts on.
    for cluster in (doc for doc in docs if doc.get("apiVersion", "").startswith("postgresql.cnpg.io/")):
        if cluster["kind"] != "Cluster":
            continue
        parameters = cluster["spec"].get("postgresql", {}).get("parameters", {})
        runs = (
            int(parameters.get("max_connections", 100)),
            int(parameters.get("superuser_reserved_connections", 3)),
        )
        if runs != values[:2]:
            raise BudgetError(
                f"Cluster {cluster['metadata']['name']} runs with max_connections {runs[0]}, "
                f"superuser_reserved_connections {runs[1]}; ConfigMap {CAPACITY_CONFIGMAP} says "
                f"{values[0]}, {values[1]}"
            )
    return values


def budget(docs: list[Manifest], overlay: str = "") -> Budget:
    max_connections, superuser_reserved, admin_reserve = _capacity(docs)
    autoscalers = {
        (hpa["spec"]["scaleTargetRef"]["kind"], hpa["spec"]["scaleTargetRef"]["name"]): hpa
        for hpa in find(docs, "HorizontalPodAutoscaler")
    }
    workloads = []
    for doc in docs:
        kind, name = doc.get("kind"), doc.get("metadata", {}).get("name", "")
        if kind not in ("Deployment", "StatefulSet", "Job"):
            continue
        pod_spec = doc["spec"]["template"]["spec"]
        pool = sidecar_pool(docs, pod_spec)
        if pool is None:
            continue
        hpa = autoscalers.get((kind, name))
        if kind == "Job":
            replicas, source = int(doc["spec"].get("parallelism", 1)), "parallelism"
        elif hpa:
            replicas, source = int(hpa["spec"]["maxReplicas"]), "HPA maxReplicas"
        else:
            replicas, source = int(doc["spec"].get("replicas", 1)), "replicas"
        workloads.append(Workload(kind, name, replicas, source, doc["spec"].get("strategy", {}), pool))
    if not workloads:
        raise BudgetError("no workload with a PgBouncer sidecar")
    return Budget(overlay, max_connections, superuser_reserved, admin_reserve, workloads)


def table(budgets: list[Budget]) -> str:
    """One row per overlay: what each term of the budget comes to, and the headroom."""
    header = (
        "overlay", "web pods at most", "per pod", "others", "reserved", "needed", "max_connections",
        "headroom", "maxReplicas up to",
    )  # fmt: skip
    rows = [header]
    for b in budgets:
        web = b.web()
        others = [w for w in b.workloads if w is not web]
        rows.append(
            (
                b.overlay,
                f"{web.pods} (HPA max {web.replicas} + surge {web.surge})",
                f"{web.pool.cap} (pool {web.pool.default_pool_size} + reserve {web.pool.reserve_pool_size})",
                " + ".join(f"{w.connections} {w.name} ({w.pods}x{w.pool.cap})" for w in others) or "0",
                f"{b.admin_reserve} admin + {b.superuser_reserved} superuser",
                str(b.total),
                str(b.max_connections),
                str(b.headroom) if b.ok else f"{b.headroom} OVER",
                str(b.max_web_replicas()),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows
    )


def main(argv: list[str]) -> int:
    names = argv or overlay_names()
    try:
        budgets = [budget(render(name), Path(name).name) for name in names]
    except BudgetError as error:
        print(error, file=sys.stderr)
        return 2
    print(table(budgets))
    return 0 if all(b.ok for b in budgets) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
