"""Supalink's benchmarks: each figure against its baseline, in the same run.

    .venv/bin/python tests/benchmarks/run.py [--json FILE] [--quick] [--only NAME ...]

Starts its own PostgreSQL (SSL, verify-full, on loopback) and Secret Service, uses Qt's
offscreen platform, prints a table and the machine it ran on, and with --json writes
the figures. A figure that misses its target is reported, not failed; one that could not
be measured (a side of its pair failed: the table says which) is reported too, the run
goes on with the others, and the exit code is then 1. Not a test: pytest does not collect
this folder.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
os.environ["QT_QPA_PLATFORM"] = "offscreen"

from tests.benchmarks import app_rss, idle, machine, mcp_bench, probe_bench, startup  # noqa: E402
from tests.benchmarks.services import Services  # noqa: E402
from tests.benchmarks.worker import SideFailed, result_of  # noqa: E402


@dataclass(frozen=True)
class Target:
    key: str
    label: str
    unit: str
    limit: float | None  # None: reported only
    at_most: bool = True
    bench: str = ""  # the benchmark (NAMES) that measures it

    def met(self, value: float) -> bool | None:
        if self.limit is None:
            return None
        return value <= self.limit if self.at_most else value >= self.limit

    def describe(self) -> str:
        if self.limit is None:
            return "(reported)"
        return f"{'<=' if self.at_most else '>='} {self.limit:g}{self.unit}"


TARGETS = (
    Target("startup_ratio", "Start to main window / bare QMainWindow", "", 1.3, bench="startup"),
    Target("probe_ratio", "Connection test / bare connect + query", "", 1.15, bench="probe"),
    Target(
        "ingest_ratio",
        "Notifications/s engine+qasync / bare psycopg",
        "",
        1.2,
        False,
        bench="ingest",
    ),
    Target("loop_lag_p99_ms", "Qt loop lag p99 during the flood", " ms", 12, bench="loop_lag"),
    Target(
        "idle_cpu_ratio",
        "Idle CPU, monitor window / bare qasync window + LISTEN",
        "",
        0.8,
        bench="idle",
    ),
    Target(
        "busy_cpu_ratio",
        "CPU at 3 notifications/s, monitor / bare window",
        "",
        1.2,
        bench="idle",
    ),
    Target("soak_rss_growth_mb", "RSS growth, 10k to 10M notifications", " MB", 10, bench="soak"),
    Target(
        "app_rss_ratio",
        "RSS, app + monitor / bare qasync window + psycopg LISTEN",
        "",
        1.5,
        bench="app_rss",
    ),
    Target(
        "launcher_overhead_ms",
        "Keyring launcher's added start time",
        " ms",
        None,
        bench="launcher",
    ),
    Target(
        "mcp_first_answer_ratio",
        "mcp-serve --profile, spawn to 1st query / bare SDK",
        "",
        1.2,
        bench="mcp_first_answer",
    ),
    Target(
        "mcp_query_ratio",
        "mcp-serve query select 1 latency / bare SDK server",
        "",
        1.1,
        bench="mcp_query",
    ),
    Target(
        "mcp_rows_ratio",
        "mcp-serve --max-rows 10000, 10,000 rows / bare SDK",
        "",
        1.3,
        bench="mcp_rows",
    ),
    Target(
        "mcp_rss_ratio",
        "mcp-serve RSS after the 1st answer / bare SDK",
        "",
        1.05,
        bench="mcp_first_answer",
    ),
    Target(
        "mcp_first_answer_vs_reference_ratio",
        "mcp-serve spawn to 1st query / reference",
        "",
        2.5,
        bench="mcp_first_answer",
    ),
)


@dataclass(frozen=True)
class Settings:
    startup_runs: int = 11
    launcher_runs: int = 15
    probe_runs: int = 21
    ingest_count: int = 200_000
    ingest_runs: int = 5
    lag_runs: int = 5
    idle_warmup: float = 10.0
    idle_window: float = 60.0
    busy_rate: float = 3.0  # notifications a second, for busy_cpu_ratio
    soak_count: int = 10_000_000
    app_rss_after: float = 60.0  # seconds from the start to the reading
    mcp_first_answer_runs: int = 11
    mcp_queries: int = 500
    mcp_rows_runs: int = 31


NAMES = (
    "startup",
    "launcher",
    "probe",
    "ingest",
    "loop_lag",
    "idle",
    "soak",
    "app_rss",
    "mcp_first_answer",
    "mcp_query",
    "mcp_rows",
)
# What saves a profile with its password in the Secret Service.
NEEDS_SECRET_SERVICE = {
    "startup",
    "launcher",
    "app_rss",
    "mcp_first_answer",
    "mcp_query",
    "mcp_rows",
}
QUICK = Settings(
    startup_runs=5,
    launcher_runs=5,
    probe_runs=5,
    ingest_count=50_000,
    ingest_runs=5,
    lag_runs=5,
    idle_warmup=2.0,
    idle_window=10.0,
    soak_count=100_000,
    app_rss_after=10.0,
    mcp_first_answer_runs=3,  # each run starts three servers and waits for their exits
    mcp_queries=50,
    mcp_rows_runs=7,
)


def worker(name: str, timeout: float, **arguments: Any) -> dict[str, Any]:
    """Run one benchmark in a fresh process (tests/benchmarks/worker.py)."""
    result = subprocess.run(
        [sys.executable, "-m", "tests.benchmarks.worker", name, json.dumps(arguments)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    # A side the worker names (SIDE-FAILED), else the worker as a whole.
    return result_of(name, result.returncode, result.stdout, result.stderr)


def benchmarks(services: Services, settings: Settings) -> dict[str, Callable[[], dict[str, Any]]]:
    def uri() -> str:
        assert services.pg is not None
        return services.pg.uri()

    def pg() -> Any:
        assert services.pg is not None
        return services.pg

    return {
        "startup": lambda: startup.startup(services, settings.startup_runs),
        "launcher": lambda: startup.launcher(services, settings.launcher_runs),
        "probe": lambda: probe_bench.probe(pg(), settings.probe_runs),
        "ingest": lambda: worker(
            "ingest", 1200, uri=uri(), count=settings.ingest_count, runs=settings.ingest_runs
        ),
        "loop_lag": lambda: worker(
            "loop_lag", 1200, uri=uri(), count=settings.ingest_count, runs=settings.lag_runs
        ),
        "idle": lambda: idle.compare(
            uri(), settings.idle_warmup, settings.idle_window, settings.busy_rate
        ),
        "soak": lambda: worker("soak", 3600, uri=uri(), total=settings.soak_count),
        "app_rss": lambda: app_rss.app_rss(services, settings.app_rss_after),
        "mcp_first_answer": lambda: mcp_bench.first_answer(
            services, settings.mcp_first_answer_runs
        ),
        "mcp_query": lambda: mcp_bench.query(services, settings.mcp_queries),
        "mcp_rows": lambda: mcp_bench.rows(services, settings.mcp_rows_runs),
    }


def keys_of(name: str) -> list[str]:
    """The figures benchmark `name` measures."""
    return [target.key for target in TARGETS if target.bench == name]


def table(figures: dict[str, Any]) -> str:
    rows = [("Figure", "Value", "Target", "Met", "Baseline and detail")]
    details = {
        "startup_ratio": lambda f: (
            f"app {f['startup_app_s'] * 1000:.0f} ms, bare {f['startup_bare_s'] * 1000:.0f} ms, "
            f"bare asking the colour scheme {f['startup_bare_scheme_s'] * 1000:.0f} ms "
            f"(median of {f['startup_runs']})"
        ),
        "probe_ratio": lambda f: (
            f"probe {f['probe_ms']:.1f} ms, bare {f['probe_bare_ms']:.1f} ms "
            f"(median of {f['probe_runs']})"
        ),
        "ingest_ratio": lambda f: (
            f"engine {f['ingest_engine_per_s']:,.0f}/s, bare {f['ingest_bare_per_s']:,.0f}/s, "
            f"{f['ingest_count']:,} per run (median of {f['ingest_runs']})"
        ),
        "loop_lag_p99_ms": lambda f: (
            f"runs {f['loop_lag_p99_each_ms']}, worst tick {f['loop_lag_max_ms']:.0f} ms, "
            f"window ingest {f['ingest_window_per_s']:,.0f}/s"
        ),
        "idle_cpu_ratio": lambda f: (
            f"app {f['idle_cpu_percent']:.2f} %, bare qasync window + LISTEN "
            f"{f['idle_cpu_bare_percent']:.2f} % of a core, "
            f"{f['idle_window_s']:g} s after {f['idle_warmup_s']:g} s"
        ),
        "busy_cpu_ratio": lambda f: (
            f"app {f['busy_cpu_percent']:.2f} %, bare {f['busy_cpu_bare_percent']:.2f} % of a "
            f"core at {f['busy_rate_per_s']:g} notifications/s, {f['idle_window_s']:g} s"
        ),
        "soak_rss_growth_mb": lambda f: (
            f"{f['soak_rss_after_first_mb']:.1f} -> {f['soak_rss_after_all_mb']:.1f} MB over "
            f"{f['soak_count']:,} notifications in {f['soak_seconds']:.0f} s"
        ),
        "app_rss_ratio": lambda f: (
            f"app {f['app_rss_mb']:.1f} MB, bare {f['app_rss_bare_mb']:.1f} MB, "
            f"{f['app_rss_after_s']:g} s after start; modules {f['app_rss_app_modules']} "
            f"against {f['app_rss_bare_modules']}"
        ),
        "launcher_overhead_ms": lambda f: (
            f"launcher {f['launcher_total_ms']:.0f} ms, /bin/true {f['launcher_direct_ms']:.1f} ms "
            f"(median of {f['launcher_runs']})"
        ),
        "mcp_first_answer_ratio": mcp_bench.first_answer_detail,
        "mcp_query_ratio": mcp_bench.query_detail,
        "mcp_rows_ratio": mcp_bench.rows_detail,
        "mcp_rss_ratio": mcp_bench.rss_detail,
        "mcp_first_answer_vs_reference_ratio": mcp_bench.first_answer_vs_reference_detail,
    }
    failed = figures.get("failed", {})
    for target in TARGETS:
        value = figures.get(target.key)
        if target.key in failed:
            rows.append((target.key, "failed", target.describe(), "NO", failed[target.key]))
            continue
        if value is None:
            rows.append((target.key, "not run", target.describe(), "", ""))
            continue
        met = target.met(value)
        mark = "" if met is None else ("yes" if met else "NO")
        rows.append(
            (target.key, f"{value:.2f}", target.describe(), mark, details[target.key](figures))
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "| " + " | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) + " |"
        for row in rows
    ]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    names = list(NAMES)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", metavar="FILE", type=Path, help="write the figures here")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a quick check: fewer runs where that keeps 5 (3 MCP server starts), shorter "
        "idle window, smaller floods",
    )
    parser.add_argument("--only", nargs="+", choices=names, metavar="NAME", help=", ".join(names))
    args = parser.parse_args(argv)
    settings = QUICK if args.quick else Settings()
    chosen = args.only or names

    services = Services()
    # An installed app runs from compiled bytecode; this machine may forbid writing it
    # (PYTHONDONTWRITEBYTECODE), which would charge compiling to every start measured.
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ["PYTHONPYCACHEPREFIX"] = str(services.root / "pycache")
    figures: dict[str, Any] = {}
    failed: dict[str, str] = {}  # figure: which side failed, or why it could not run
    started = time.monotonic()
    load_at_start = [round(load, 2) for load in os.getloadavg()]
    try:
        print("starting PostgreSQL (SSL) and a Secret Service…", file=sys.stderr, flush=True)
        services.start_postgres()
        if NEEDS_SECRET_SERVICE & set(chosen):
            services.start_secret_service()
        for name, run in benchmarks(services, settings).items():
            if name not in chosen:
                continue
            print(f"running {name}…", file=sys.stderr, flush=True)
            # A failure is the figure's, said in the table; the run goes on with the others.
            try:
                measured = run()
            except SideFailed as failure:
                print(f"{name}: {failure}", file=sys.stderr, flush=True)
                failed.update({key: failure.summary() for key in keys_of(name)})
                continue
            except Exception as error:
                traceback.print_exc()
                failed.update({key: f"could not run: {error!r}"[:200] for key in keys_of(name)})
                continue
            failed.update(measured.pop("failed", {}))
            figures.update(measured)
        about = machine.describe(services.pg)
    finally:
        services.stop()
    figures["machine"] = {**about, "load_at_start": load_at_start}
    if failed:
        figures["failed"] = failed
    figures["quick"] = args.quick
    figures["seconds"] = round(time.monotonic() - started, 1)
    print()
    print(machine.format_description(figures["machine"]))
    print()
    print(table(figures))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
