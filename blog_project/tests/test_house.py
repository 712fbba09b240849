"""The house: which app may import which, drawn from the code's own imports.

Every import counts, including those inside functions (an import moved into a function to
dodge a cycle is still the cycle). Tests and migrations are left out: they may reach anywhere.
"""

import ast
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Quill's apps (a new one is in the graph by having an apps.py), the kernel and the project.
APPS = {path.parent.name for path in ROOT.glob("*/apps.py")} | {"kernel", "blog_project"}
# What each layer may import from Quill (the rest of the graph only has to be acyclic).
ALLOWED = {
    "kernel": set(),  # exceptions, text helpers, events: the base of everything
    "faces": {"kernel"},  # what the faces share knows no domain
}
# The project package (settings, root URLs, WSGI) sits on top: no app imports it.
TOP = "blog_project"


def _modules(app: str) -> Iterator[Path]:
    for path in (ROOT / app).rglob("*.py"):
        parts = path.relative_to(ROOT).parts
        if "tests" in parts or "migrations" in parts:
            continue
        yield path


def _imported_apps(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return {name.split(".")[0] for name in names} & APPS


def app_graph(apps: set[str] = APPS) -> dict[str, dict[str, list[str]]]:
    """app -> {imported app -> the modules that import it}."""
    graph: dict[str, dict[str, list[str]]] = {app: {} for app in apps}
    for app in apps:
        for path in _modules(app):
            for imported in _imported_apps(path) - {app}:
                graph[app].setdefault(imported, []).append(str(path.relative_to(ROOT)))
    return graph


def find_cycle(graph: dict[str, dict[str, list[str]]]) -> list[str] | None:
    """One cycle of the graph as [a, b, ..., a], or None."""
    done: set[str] = set()

    def visit(app: str, path: list[str]) -> list[str] | None:
        if app in path:
            return [*path[path.index(app) :], app]
        if app in done:
            return None
        for imported in sorted(graph.get(app, {})):
            if cycle := visit(imported, [*path, app]):
                return cycle
        done.add(app)
        return None

    for app in sorted(graph):
        if cycle := visit(app, []):
            return cycle
    return None


def test_no_import_cycle_between_apps() -> None:
    graph = app_graph()
    cycle = find_cycle(graph) or []
    edges = [f"  {a} imports {b} in {', '.join(graph[a][b])}" for a, b in pairwise(cycle)]
    assert not cycle, "Import cycle between apps: " + " -> ".join(cycle) + "\n" + "\n".join(edges)


@pytest.mark.parametrize("app", sorted(ALLOWED))
def test_lower_layers_import_only_what_lies_below(app: str) -> None:
    reached = app_graph()[app]
    assert set(reached) <= ALLOWED[app], {name: reached[name] for name in set(reached) - ALLOWED[app]}


def test_no_app_imports_the_project_package() -> None:
    graph = app_graph()
    importers = {app: graph[app][TOP] for app in APPS - {TOP} if TOP in graph[app]}
    assert not importers, importers


def test_the_graph_sees_a_cycle_made_inside_a_function() -> None:
    # The detector itself: a function-level import back up is a cycle.
    graph = {"posts": {"accounts": ["posts/services.py"]}, "accounts": {"posts": ["accounts/views.py"]}}
    assert find_cycle(graph) == ["accounts", "posts", "accounts"]
    assert find_cycle({"posts": {"accounts": ["x"]}, "accounts": {"kernel": ["y"]}, "kernel": {}}) is None
    source = ROOT / "kernel" / "events.py"
    assert "kernel" not in _imported_apps(source)  # its own imports are not an edge
