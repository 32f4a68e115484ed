"""``ferrotrade monitor ...``: watch a running engine's bus (``[bus].publish``) and record it.

* ``record --out DIR``: book summaries and trades into a Parquet catalog the backtester reads, written in
  rotating parts (``--rotate-s`` / ``--rotate-rows``) until ``--duration`` or Ctrl-C/SIGTERM, which write
  everything buffered before exiting (130 after Ctrl-C, 0 otherwise).
* ``tail``: one line per message (``--json``: one JSON object per line), gaps reported on stderr.
* ``dashboard``: a full-screen view (books, positions, PnL, orders, latency, risk, feeds, bus health).
"""

from __future__ import annotations

import json
import os
import signal
import sys
from types import FrameType
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from ferrotrade.cli.data import expected_errors
from ferrotrade.monitor.control import DEFAULT_CONTROL, DEFAULT_TOKEN_ENV, ControlError, Controller
from ferrotrade.monitor.dashboard import run_dashboard
from ferrotrade.monitor.record import RecordProgress, record
from ferrotrade.monitor.subscriber import DEFAULT_ENDPOINT, Gap
from ferrotrade.monitor.tail import tail
from ferrotrade.v1 import control_pb2

__all__ = ["app"]

app = typer.Typer(help="Watch and record a running engine through its bus publisher.", no_args_is_help=True)

_err = Console(stderr=True, width=None if sys.stderr.isatty() else 200)

EXIT_INTERRUPTED = 130

Endpoint = Annotated[str, typer.Option("--endpoint", "-e", help="The engine's PUB endpoint.")]


def _sigterm_as_interrupt() -> None:
    """Make SIGTERM stop like Ctrl-C (a clean stop that writes what is buffered)."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


def _progress_line(progress: RecordProgress) -> str:
    return (
        f"books {progress.books:,} ({progress.book_rows:,} rows)  trades {progress.trades:,}  "
        f"files {progress.files:,}  buffered {progress.buffered_rows:,}  skipped {progress.skipped_books:,}  "
        f"missed {progress.missed:,}"
    )


@app.command("record")
def record_command(
    out: Annotated[str, typer.Option("--out", "-o", help="Catalog folder to write.", show_default=False)],
    endpoint: Endpoint = DEFAULT_ENDPOINT,
    rotate_s: Annotated[
        float | None, typer.Option("--rotate-s", help="Write a new part every N seconds (default 60).")
    ] = None,
    rotate_rows: Annotated[
        int | None, typer.Option("--rotate-rows", help="Write a new part every N buffered rows.")
    ] = None,
    duration: Annotated[
        float | None, typer.Option("--duration", help="Stop after S seconds (default: until Ctrl-C).")
    ] = None,
) -> None:
    """Record book summaries and trades into a catalog (backtestable with ferrotrade backtest)."""
    if rotate_s is not None and rotate_rows is not None:
        _err.print("[bold red]error:[/bold red] [red]--rotate-s and --rotate-rows exclude each other[/red]")
        raise typer.Exit(2)
    if rotate_s is None and rotate_rows is None:
        rotate_s = 60.0
    _sigterm_as_interrupt()
    live = sys.stderr.isatty()

    def show(progress: RecordProgress) -> None:
        if live:
            _err.print(f"\r{_progress_line(progress)}", end="", soft_wrap=True, highlight=False)

    with expected_errors():
        summary = record(
            out, endpoint, rotate_s=rotate_s, rotate_rows=rotate_rows, duration_s=duration, on_progress=show
        )
    if live:
        _err.print()
    status = "interrupted" if summary.interrupted else "done"
    _err.print(f"[green]{status}:[/green] {escape(_progress_line(summary))} -> {escape(str(summary.out))}")
    if summary.interrupted:
        raise typer.Exit(EXIT_INTERRUPTED)


@app.command("tail")
def tail_command(
    endpoint: Endpoint = DEFAULT_ENDPOINT,
    topic: Annotated[
        list[str] | None, typer.Option("--topic", "-t", help="Topic prefix (repeatable; default: all).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
    count: Annotated[int | None, typer.Option("--count", "-n", help="Stop after N messages.")] = None,
) -> None:
    """Print one line per message published by the engine."""

    def gap(found: Gap) -> None:
        if as_json:
            record_line = {
                "gap": found.topic,
                "first": found.first,
                "last": found.last,
                "missed": found.count,
            }
            sys.stderr.write(json.dumps(record_line) + "\n")
        else:
            where = f"{escape(found.topic)} missed {found.count} ({found.first}..{found.last})"
            _err.print(f"[yellow]gap: {where}[/yellow]")

    def write(line: str) -> None:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

    _sigterm_as_interrupt()
    try:
        tail(endpoint, topic or [""], as_json=as_json, count=count, write=write, on_gap=gap)
    except KeyboardInterrupt:
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except BrokenPipeError:
        # `| head`: the reader left; nothing more to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


@app.command("dashboard")
def dashboard_command(
    endpoint: Endpoint = DEFAULT_ENDPOINT,
    control: Annotated[
        str | None,
        typer.Option(
            "--control", help="Control endpoint: start from the engine's snapshot (needs the token)."
        ),
    ] = None,
    token_env: Annotated[
        str, typer.Option("--token-env", help="Environment variable holding the control token.")
    ] = DEFAULT_TOKEN_ENV,
    depth: Annotated[int, typer.Option("--depth", help="Book levels per side.")] = 5,
    refresh_hz: Annotated[float, typer.Option("--refresh-hz", help="Redraws per second.")] = 4.0,
) -> None:
    """A full-screen view of the engine: books, positions, PnL, orders, latency, risk, feeds."""
    snapshot = None
    token = os.environ.get(token_env, "")
    if control is not None and token:
        endpoint_control = control or DEFAULT_CONTROL

        def snapshot_now() -> control_pb2.EngineSnapshot:
            try:
                with Controller(endpoint_control, token, 3.0) as controller:
                    return controller.snapshot(depth)
            except ControlError as error:
                _err.print(f"[yellow]no snapshot: {escape(str(error))}[/yellow]")
                return control_pb2.EngineSnapshot()

        snapshot = snapshot_now
    _sigterm_as_interrupt()
    run_dashboard(endpoint, refresh_hz=refresh_hz, snapshot=snapshot, depth=depth)
