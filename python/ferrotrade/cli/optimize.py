"""``ferrotrade optimize CONFIG.toml`` and ``ferrotrade walk-forward CONFIG.toml``.

``optimize`` runs the ``[optimize]`` study of a backtest configuration (progress bar with the best value so
far on stderr), prints the best trial and the top trials, and writes the study's HTML report. With
``--worker`` it only joins the study and runs trials until the study's budget is spent: start one on each
machine against the same ``--storage postgresql://...`` (plus, or instead of, a coordinator without
``--worker`` that writes the report). ``walk-forward`` runs ``[optimize.walk_forward]`` and prints the
windows, in-sample against out-of-sample.

Errors in the configuration, the search space, the objective or the storage name the file and key and exit
with code 2 before any trial runs; Ctrl-C exits with 130 (running trials are recorded as failed).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import polars as pl
import typer
from rich.console import Console
from rich.table import Table

from ferrotrade.cli.data import expected_errors
from ferrotrade.research.page import format_cell

__all__ = ["optimize_command", "walk_forward_command"]

_out = Console(width=None if sys.stdout.isatty() else 200)

ConfigArg = Annotated[Path, typer.Argument(help="Backtest configuration with an [optimize] section.")]
TrialsOpt = Annotated[int | None, typer.Option("--trials", "-n", help="The study's trial budget.")]
WorkersOpt = Annotated[int | None, typer.Option("--workers", "-w", help="Worker processes on this machine.")]
StorageOpt = Annotated[
    str | None, typer.Option("--storage", help="Journal file path or database URL (postgresql://...).")
]
StudyOpt = Annotated[str | None, typer.Option("--study", help="Study name (default: [optimize].study).")]
SeedOpt = Annotated[int | None, typer.Option("--seed", help="Sampler seed (worker i uses seed + i).")]
CatalogOpt = Annotated[
    Path | None, typer.Option("--catalog", "-c", help="Catalog to read instead of [backtest].catalog.")
]
ReportOpt = Annotated[Path | None, typer.Option("--report", "-r", help="HTML report path.")]
NoReportOpt = Annotated[bool, typer.Option("--no-report", help="Do not write the HTML report.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the outcome as JSON.")]


def _options(**values: Any) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


def _table(frame: pl.DataFrame, title: str) -> Table:
    table = Table(title=title)
    for column in frame.columns:
        table.add_column(column, justify="right" if frame.schema[column].is_numeric() else "left")
    for row in frame.iter_rows():
        table.add_row(*(format_cell(v) for v in row))
    return table


def optimize_command(  # noqa: PLR0917 (typer maps each parameter to an option)
    config: ConfigArg,
    trials: TrialsOpt = None,
    workers: WorkersOpt = None,
    storage: StorageOpt = None,
    study: StudyOpt = None,
    seed: SeedOpt = None,
    catalog: CatalogOpt = None,
    worker: Annotated[
        bool, typer.Option("--worker", help="Only run trials of the (shared) study; no summary, no report.")
    ] = False,
    report: ReportOpt = None,
    no_report: NoReportOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Search a strategy's parameters with optuna ([optimize] section) and write the study's report."""
    from ferrotrade.backtest.search import optimize  # noqa: PLC0415 - optuna only for this command

    with expected_errors("interrupted: running trials are recorded as failed; run again to resume"):
        result = optimize(
            config,
            catalog=catalog,
            progress=not as_json,
            **_options(trials=trials, workers=workers, storage=storage, study=study, seed=seed),
        )
        path = None
        if not (worker or no_report):
            path = report or Path("reports") / f"{config.stem}-study.html"
            path = result.write_report(path)
    states = dict(result.trials.group_by("state").len().sort("state").iter_rows())
    if as_json:
        payload = {
            "study": result.plan.study,
            "storage": result.storage,
            "trials": states,
            "best_trial": result.best_number,
            "best_value": result.best_value,
            "best_params": result.best_params,
            "pareto_trials": result.pareto_numbers,
            "report": str(path) if path else None,
        }
        sys.stdout.write(json.dumps(payload, indent=2, default=str) + "\n")
        return
    counts = ", ".join(f"{state} {n}" for state, n in states.items())
    _out.print(f"study {result.plan.study} in {result.storage}: {counts}")
    if worker:
        return
    if result.best_params is None:
        _out.print("[yellow]no feasible complete trial[/yellow]")
    else:
        best = f"#{result.best_number} {result.best_value:,.6g}" if result.best_number is not None else "-"
        _out.print(
            f"best trial {best}: "
            + ", ".join(f"{k} = {format_cell(v)}" for k, v in result.best_params.items())
        )
    plan = result.plan
    values = [f"value_{name}" for name in plan.objective.names]
    shown = result.trials.filter(pl.col("state") == "complete")
    if not plan.objective.multi:
        shown = shown.sort(values[0], descending=plan.objective.directions[0] == "maximize")
    columns = ["number", *values, *(p.name for p in plan.space), "total_pnl", "trades"]
    _out.print(_table(shown.head(10).select(columns), "top trials"))
    if path is not None:
        _out.print(f"report: {path}")


def walk_forward_command(  # noqa: PLR0917 (typer maps each parameter to an option)
    config: ConfigArg,
    trials: TrialsOpt = None,
    workers: WorkersOpt = None,
    storage: StorageOpt = None,
    study: StudyOpt = None,
    seed: SeedOpt = None,
    catalog: CatalogOpt = None,
    report: ReportOpt = None,
    no_report: NoReportOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Walk-forward optimization ([optimize.walk_forward]): in-sample studies, out-of-sample runs."""
    from ferrotrade.backtest.walkforward import walk_forward  # noqa: PLC0415 - optuna only for this command

    with expected_errors("interrupted: running trials are recorded as failed"):
        result = walk_forward(
            config,
            catalog=catalog,
            progress=not as_json,
            **_options(trials=trials, workers=workers, storage=storage, study=study, seed=seed),
        )
        path = None
        if not no_report:
            path = result.write_report(report or Path("reports") / f"{config.stem}-walk-forward.html")
    windows = result.windows
    if as_json:
        payload = {
            "windows": windows.with_columns(
                pl.col(pl.Datetime).dt.to_string("%Y-%m-%dT%H:%M:%S%.9fZ")
            ).to_dicts(),
            "out_of_sample": None if result.metrics is None else result.metrics.as_dict(),
            "report": str(path) if path else None,
        }
        sys.stdout.write(json.dumps(payload, indent=2, default=str) + "\n")
        return
    shown = windows.select(
        "window",
        pl.col("train_start", "train_end", "test_end").dt.strftime("%Y-%m-%d %H:%M"),
        "best_trial",
        "in_sample",
        "out_of_sample",
        "out_of_sample_pnl",
        "params",
    )
    _out.print(_table(shown, f"walk-forward {result.plan.study}: {result.plan.objective.names[0]}"))
    if result.metrics is not None:
        m = result.metrics
        sharpe = format_cell(m.sharpe)
        _out.print(f"stitched out-of-sample: PnL {m.total_pnl:+,.2f}, Sharpe {sharpe}, {m.trades} trades")
    if path is not None:
        _out.print(f"report: {path}")
