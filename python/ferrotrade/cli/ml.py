"""``ferrotrade ml ...``: train models on catalog data and serve models to the engine.

``ferrotrade ml train CONFIG.toml`` builds the dataset, cross-validates every model (purged k-fold and
walk-forward), scores them on the holdout, exports the chosen one to ONNX after its parity check and writes
its card; it prints a summary table and the paths. ``ferrotrade ml serve MODEL`` answers the engine's
bridge requests until Ctrl-C. Expected errors (a bad configuration, a failed parity check) print one red
line and exit with code 2.
"""

# ruff: noqa: PLC0415 - the ML libraries (optional extra `ml`) and rich load only when used

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from ferrotrade.cli.data import expected_errors

__all__ = ["app"]

app = typer.Typer(help="Train models on catalog data, serve models to the engine.", no_args_is_help=True)

_out = Console(width=None if sys.stdout.isatty() else 200)
_err = Console(stderr=True, width=None if sys.stderr.isatty() else 200)


@app.command("train")
def train_command(
    config: Annotated[Path, typer.Argument(help="Training configuration (TOML).", show_default=False)],
    as_json: Annotated[bool, typer.Option("--json", help="Print the model card as JSON.")] = False,
) -> None:
    """Build the dataset, cross-validate, export the model to ONNX and write its card."""
    from ferrotrade.ml import train

    with expected_errors():
        report = train(config, progress=not as_json)
    if as_json:
        assert report.card_path is not None
        sys.stdout.write(report.card_path.read_text())
        return
    dataset = report.dataset
    _out.print(
        f"dataset: {dataset.samples} samples, {dataset.warmup_dropped} warming up, "
        f"{dataset.unlabeled_dropped} "
        f"without a label -> {dataset.rows} rows ({report.train_rows} train, {report.purged_rows} purged, "
        f"{report.holdout_rows} holdout)"
    )
    table = Table(title="out-of-sample metrics")
    for column in ("model", "metric", "purged CV mean", "holdout"):
        table.add_column(column, justify="left" if column in ("model", "metric") else "right")
    for row in report.summary_rows():
        table.add_row(*row)
    _out.print(table)
    _out.print(
        f"parity: {report.parity['rows']} holdout rows, "
        f"max |native - onnx| = {report.parity['max_abs_diff']:.2e}"
    )
    _out.print(f"model: {report.model_path}\ncard:  {report.card_path}")


@app.command("serve")
def serve_command(
    model: Annotated[
        str,
        typer.Argument(help="An .onnx model (card beside it) or package.module:factory.", show_default=False),
    ],
    endpoint: Annotated[
        str, typer.Option("--endpoint", "-e", help="ZeroMQ endpoint to bind.")
    ] = "tcp://127.0.0.1:5555",
) -> None:
    """Answer the engine's bridge requests (model_signal with bridge = {...}) until Ctrl-C."""
    from ferrotrade.ml.serve import ModelServer, load_predictor

    with expected_errors("stopped"):
        server = ModelServer(load_predictor(model), endpoint)
        _err.print(f"serving {model} on {server.endpoint} (Ctrl-C to stop)")
        try:
            stats = server.serve()
        except KeyboardInterrupt:
            server.stop()
            stats = server.stats
        _err.print(json.dumps(stats.__dict__))
