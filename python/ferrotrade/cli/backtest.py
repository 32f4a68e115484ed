"""``ferrotrade backtest CONFIG.toml``: run a backtest, print its summary, write the HTML report.

The run shows a progress bar over the catalog rows (on stderr), then prints the summary table (PnL, Sharpe,
Sortino, Calmar, max drawdown, win rate, profit factor, fill ratio, turnover, fees, events/s) and the path
of the report. Configuration errors name the file and the key and exit with code 2 before any work; a
strategy that raises stops the run cleanly, prints its traceback and the event time, and exits with 2.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from ferrotrade.backtest import BacktestResult, load_config, run
from ferrotrade.cli.data import expected_errors
from ferrotrade.research.report import metrics_table

__all__ = ["backtest_command"]

_out = Console(width=None if sys.stdout.isatty() else 200)
_err = Console(stderr=True, width=None if sys.stderr.isatty() else 200)


def backtest_command(
    config: Annotated[Path, typer.Argument(help="Backtest configuration (TOML).", show_default=False)],
    report: Annotated[
        Path | None,
        typer.Option(
            "--report", "-r", help="HTML report path (default: [report].path, else reports/<config>.html)."
        ),
    ] = None,
    catalog: Annotated[
        Path | None, typer.Option("--catalog", "-c", help="Catalog to read instead of [backtest].catalog.")
    ] = None,
    no_report: Annotated[bool, typer.Option("--no-report", help="Do not write the HTML report.")] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the metrics as JSON instead of a table.")
    ] = False,
) -> None:
    """Run a backtest over catalog data and write its report."""
    with expected_errors():
        loaded = load_config(config)
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("rows"),
            TimeRemainingColumn(),
        )
        with Progress(*columns, console=_err, transient=True, disable=as_json) as bar:
            task = bar.add_task("backtest", total=None)

            def update(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total or None)

            result = run(config, catalog=catalog, progress=update)
        path = None
        if not no_report:
            path = report or loaded.report.path or Path("reports") / f"{config.stem}.html"
            path = result.write_report(path)
    if as_json:
        payload = {
            "metrics": result.metrics.as_dict(),
            "stats": result.stats,
            "execution": result.execution_quality().to_dicts(),
            "report": str(path) if path else None,
        }
        sys.stdout.write(json.dumps(payload, indent=2, default=str) + "\n")
        return
    table = Table(title=f"{result.title}: {', '.join(result.strategies)} on {', '.join(result.instruments)}")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for label, value in metrics_table(result.metrics):
        table.add_row(label, value)
    _out.print(table)
    if result.parents.height:
        _out.print(_execution_table(result))
    if path is not None:
        _out.print(f"report: {path}")


def _execution_table(result: BacktestResult) -> Table:
    """The execution quality of every parent order, as the report shows it."""
    table = Table(title="execution algorithms")
    for column in (
        "parent",
        "algo",
        "side",
        "filled / quantity",
        "status",
        "IS bps",
        "vs VWAP bps",
        "participation",
    ):
        table.add_column(column, justify="left" if column in ("algo", "side", "status") else "right")

    def number(value: float | None, fmt: str) -> str:
        return "-" if value is None else format(value, fmt)

    for row in result.execution_quality().iter_rows(named=True):
        participation = row["participation"]
        table.add_row(
            f"{row['strategy']}/{row['parent_id']}",
            row["algo"],
            row["side"],
            f"{row['filled']:g} / {row['quantity']:g}",
            row["status"] + (f" ({row['reason']})" if row["reason"] else ""),
            number(row["implementation_shortfall_bps"], "+.2f"),
            number(row["slippage_vs_vwap_bps"], "+.2f"),
            number(None if participation is None else participation * 100, ".2f")
            + ("" if participation is None else " %"),
        )
    return table
