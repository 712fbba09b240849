"""The chart of a run (bench/results/latest.png): requests/s and p99 latency against concurrency.

matplotlib is not one of Quill's dependencies: `make bench` installs it from bench/requirements.txt.
Without it, `draw` draws nothing and says so; the rest of the harness does not need it.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

INSTALL_HINT = ".venv/bin/pip install -r bench/requirements.txt (`make bench` does it)"
# One colour per scenario (matplotlib's tab10, in the harness's order), one line style per server.
COLOURS = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown", "tab:pink")
STYLES = {"on": "-", "off": "--", "floor": ":"}
MARKERS = {"on": "o", "off": "s", "floor": "x"}
EXTRA_STYLES = ("-.", (0, (5, 1)), (0, (1, 1)))  # --modes beyond on and off


def pyplot() -> Any | None:
    """matplotlib.pyplot on the non-interactive Agg backend, or None when matplotlib is missing.

    Imported by name so that the type checker does not need matplotlib installed either."""
    try:
        matplotlib = importlib.import_module("matplotlib")
    except ImportError:
        return None
    matplotlib.use("Agg")
    return importlib.import_module("matplotlib.pyplot")


def style(mode: str, modes: list[str]) -> Any:
    if mode in STYLES:
        return STYLES[mode]
    others = [m for m in modes if m not in STYLES]
    return EXTRA_STYLES[others.index(mode) % len(EXTRA_STYLES)]


def marker(mode: str) -> str:
    return MARKERS.get(mode, "^")


def title(results: dict[str, Any]) -> str:
    git = results["git"]
    commit = git["commit"][:10] + (" + uncommitted changes" if git.get("dirty") else "")
    settings = results["settings"]
    return (
        f"Quill bench, profile '{results['profile']}', commit {commit}, {results['date']}\n"
        f"{settings['authors']:,} authors, {settings['stories']:,} stories; {settings['duration_s']:g} s "
        f"per point; {settings['gunicorn_workers']} gunicorn workers; "
        f"{results['machine']['cpus']} CPUs"
    )


def draw(results: dict[str, Any], path: Path) -> bool:
    """Writes the chart of `results` to `path` (a PNG); False when matplotlib is not installed."""
    plt = pyplot()
    if plt is None:
        return False
    ticker = importlib.import_module("matplotlib.ticker")
    lines_module = importlib.import_module("matplotlib.lines")

    settings = results["settings"]
    concurrencies: list[int] = settings["concurrencies"]
    modes: list[str] = settings["modes"]
    runs = {(run["mode"], run["scenario"], run["concurrency"]): run for run in results["runs"]}
    colours = {
        scenario["key"]: COLOURS[index % len(COLOURS)] for index, scenario in enumerate(results["scenarios"])
    }

    figure, (throughput, latency) = plt.subplots(1, 2, figsize=(14, 6.5))
    plotted: list[str] = []
    for scenario in results["scenarios"]:
        key = scenario["key"]
        for mode in [*modes, "floor"]:
            points = [runs.get((mode, key, c)) for c in concurrencies]
            if not any(points):
                continue
            # A point where no request finished within the run (rps 0) has no place on a log axis.
            answered = [run if run and run["requests"] else None for run in points]
            rps = [run["rps"] if run else float("nan") for run in answered]
            p99 = [run["latency_ms"]["p99"] if run else float("nan") for run in answered]
            options = {
                "color": colours[key],
                "linestyle": style(mode, modes),
                "marker": marker(mode),
                "markersize": 5,
                "linewidth": 2.2 if mode == "floor" else 1.6,
            }
            throughput.plot(concurrencies, rps, **options)
            latency.plot(concurrencies, p99, **options)
            if key not in plotted:
                plotted.append(key)

    for axes, label in ((throughput, "requests/s (log)"), (latency, "p99 latency, ms (log)")):
        axes.set_xscale("log")
        axes.set_yscale("log")
        axes.set_xticks(concurrencies)
        axes.xaxis.set_major_formatter(ticker.FixedFormatter([str(c) for c in concurrencies]))
        axes.xaxis.set_minor_locator(ticker.NullLocator())
        axes.yaxis.set_major_locator(ticker.LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        axes.yaxis.set_major_formatter(ticker.FuncFormatter(lambda value, _: f"{value:g}"))
        # Within a decade, label the minor ticks too (2, 3, 4...), in plain numbers.
        low, high = axes.get_ylim()
        narrow = low > 0 and high / low < 10
        axes.yaxis.set_minor_formatter(
            ticker.FuncFormatter(lambda value, _: f"{value:g}") if narrow else ticker.NullFormatter()
        )
        if len(concurrencies) == 1:
            axes.set_xlim(concurrencies[0] / 2, concurrencies[0] * 2)
        axes.set_xlabel("concurrent clients (log)")
        axes.set_ylabel(label)
        axes.grid(True, which="both", alpha=0.3)
    throughput.set_title("Throughput")
    latency.set_title("p99 latency")

    labels = {scenario["key"]: scenario["label"] for scenario in results["scenarios"]}
    scenarios = [
        lines_module.Line2D([], [], color=colours[key], linewidth=2, label=f"{key}: {labels[key]}")
        for key in plotted
    ]
    floor = [key for key in plotted if any(mode == "floor" and k == key for mode, k, _ in runs)]
    servers = [
        lines_module.Line2D(
            [], [], color="black", linestyle=style(mode, modes), marker=marker(mode),
            label=f"floor ({', '.join(floor)})" if mode == "floor" else f"Quill, cache {mode}",
        )
        for mode in [*modes, *(["floor"] if floor else [])]
    ]  # fmt: skip
    figure.legend(
        handles=scenarios, loc="lower left", bbox_to_anchor=(0.01, 0.0), ncol=3, fontsize=9, frameon=False
    )
    figure.legend(
        handles=servers,
        loc="lower right",
        bbox_to_anchor=(0.99, 0.0),
        fontsize=9,
        frameon=False,
        handlelength=4,
    )
    figure.suptitle(title(results), fontsize=11)
    figure.tight_layout(rect=(0, 0.14, 1, 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return True
