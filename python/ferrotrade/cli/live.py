"""``ferrotrade live CONFIG.toml``: run the live engine (live, paper or replay) until Ctrl-C.

While it runs, a status line (on stderr) shows messages per second, books in sync, orders, fills and the
position; Ctrl-C stops it cleanly (strategies' ``on_stop``, open orders cancelled when ``cancel_on_stop``,
journal flushed) and the final report prints the latency per pipeline stage (p50/p99/p99.9) and the
counters. Configuration errors (including a missing API key or a key file readable by others) name the file
and the key and exit with code 2 before connecting.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ferrotrade.cli.data import expected_errors
from ferrotrade.live import LiveReport, run

__all__ = ["live_command", "report_tables"]

_out = Console(width=None if sys.stdout.isatty() else 200)
_err = Console(stderr=True, width=None if sys.stderr.isatty() else 200)


def report_tables(report: LiveReport) -> list[Table]:
    """The latency table and the counters table of a finished run."""
    latency = Table(title=f"latency per stage ({report.mode}, {report.wall_seconds:.1f} s)")
    for column in ("stage", "count", "p50 us", "p99 us", "p99.9 us", "max us"):
        latency.add_column(column, justify="left" if column == "stage" else "right")
    for stage, count, p50, p99, p999, worst in report.latency_rows():
        latency.add_row(stage, f"{count:,}", f"{p50:.1f}", f"{p99:.1f}", f"{p999:.1f}", f"{worst:.1f}")
    counters = Table(title="counters")
    counters.add_column("counter")
    counters.add_column("value", justify="right")
    for name, value in sorted(report.counters.items()):
        counters.add_row(name, f"{value:,}")
    return [latency, counters]


def _status_line(status: dict[str, Any]) -> str:
    parts = [f"{key}={value}" for key, value in status.items() if not isinstance(value, (dict, list))]
    return " ".join(parts)


def live_command(
    config: Annotated[Path, typer.Argument(help="Live configuration (TOML).", show_default=False)],
    mode: Annotated[
        str | None, typer.Option("--mode", "-m", help="Override [live].mode: live, paper or replay.")
    ] = None,
    stop_after: Annotated[
        float | None, typer.Option("--stop-after", help="Stop cleanly after this many seconds.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the final report as JSON.")] = False,
) -> None:
    """Run the live engine: real venues, paper trading, or a replay through the local venue."""

    def show(status: dict[str, Any]) -> None:
        if not as_json:
            _err.print(f"[dim]{escape(_status_line(status))}[/dim]", soft_wrap=True)

    with expected_errors():
        report = run(config, mode=mode, stop_after=stop_after, on_status=show)
    if as_json:
        sys.stdout.write(json.dumps(report.as_dict(), indent=2, default=str) + "\n")
        return
    for table in report_tables(report):
        _out.print(table)
