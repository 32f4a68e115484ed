"""``ferrotrade data ...``: import captures into a catalog, verify captures, describe a catalog.

Expected errors (a malformed file, a missing path, a bad option) print one red line, with ``file:line``
when the error has a place, and exit with code 2; there is no traceback. ``data verify`` exits with 1
when a book is not ok. See :mod:`ferrotrade.cli` for the table of exit codes.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from ferrotrade.cli.render import import_table, info_records, info_table, verify_summary_table, verify_table
from ferrotrade.data import import_captures, info, verify
from ferrotrade.exceptions import FerrotradeError, StrategyError

__all__ = ["EXIT_ERROR", "EXIT_INTERRUPTED", "EXIT_NOT_OK", "app", "describe_error", "expected_errors"]

EXIT_NOT_OK = 1
"""``data verify``: at least one book is not ok."""
EXIT_ERROR = 2
"""An expected error (bad input, missing path)."""
EXIT_INTERRUPTED = 130
"""Ctrl-C."""

app = typer.Typer(help="Import, verify and inspect market data.", no_args_is_help=True)

# Piped output (CI logs, files) gets room for the wide tables instead of rich's 80-column default.
_out = Console(width=None if sys.stdout.isatty() else 200)
_err = Console(stderr=True, width=None if sys.stderr.isatty() else 200)


def describe_error(error: BaseException) -> str:
    """One line for an expected error: ``file:line: message`` when the error has a place.

    Examples
    --------
    >>> from ferrotrade.exceptions import DataFormatError
    >>> e = DataFormatError("bad number")
    >>> e.file, e.line = "a.csv", 3
    >>> describe_error(e)
    'a.csv:3: bad number'
    >>> describe_error(FileNotFoundError("x: no such file"))
    'x: no such file'
    """
    message = str(error)
    file, line = getattr(error, "file", None), getattr(error, "line", None)
    if file is not None:
        place = f"{file}:{line}" if line is not None else str(file)
        if place not in message:
            message = f"{place}: {message}"
    return message


@contextmanager
def expected_errors(interrupted: str = "interrupted") -> Iterator[None]:
    """Turn expected errors into a red line and exit code 2, Ctrl-C into exit code 130.

    A failed strategy prints its traceback (the message carries it); ``interrupted`` is what Ctrl-C prints.
    """
    try:
        yield
    except StrategyError as error:
        _err.print(f"[bold red]strategy failed:[/bold red] {escape(str(error))}", soft_wrap=True)
        raise typer.Exit(EXIT_ERROR) from None
    except (FerrotradeError, OSError) as error:
        _err.print(f"[bold red]error:[/bold red] [red]{escape(describe_error(error))}[/red]", soft_wrap=True)
        raise typer.Exit(EXIT_ERROR) from None
    except KeyboardInterrupt:
        _err.print(f"[yellow]{interrupted}[/yellow]")
        raise typer.Exit(EXIT_INTERRUPTED) from None


def _print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2) + "\n")


@contextmanager
def _progress_bar(description: str) -> Iterator[Callable[[int, int], None]]:
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=_err, transient=True) as bar:
        task = bar.add_task(description, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


@app.command("import")
def import_command(
    paths: Annotated[list[Path], typer.Argument(help="Capture files or folders.", show_default=False)],
    catalog: Annotated[Path, typer.Option("--catalog", "-c", help="Catalog folder (created if missing).")],
    chunk_rows: Annotated[int, typer.Option(min=1, help="Rows per batch: bounds memory.")] = 1_000_000,
    skip_bad_records: Annotated[
        bool, typer.Option("--skip-bad-records", help="Count and skip malformed records instead of failing.")
    ] = False,
) -> None:
    """Import captures into a Parquet catalog, all or nothing (the catalog is unchanged on error)."""
    with expected_errors(), _progress_bar("importing") as update:
        summary = import_captures(
            paths, catalog, chunk_rows=chunk_rows, skip_bad_records=skip_bad_records, progress=update
        )
    _out.print(import_table(summary))
    for session in summary.sessions:
        if session.bad_records:
            _err.print(
                f"[yellow]{session.bad_records} bad records skipped in {escape(session.files[0])}; first: "
                f"{escape(session.first_bad_record or '?')}[/yellow]"
            )
    for line in summary.rescaled:
        _out.print(f"[yellow]{escape(line)}[/yellow]")
    if summary.files_replaced:
        _out.print(f"replaced {summary.files_replaced} part files of an earlier import of the same sessions")


@app.command("verify")
def verify_command(
    paths: Annotated[list[Path], typer.Argument(help="Capture files.", show_default=False)],
    as_json: Annotated[bool, typer.Option("--json", help="Print the reports as a JSON list.")] = False,
    skip_bad_records: Annotated[
        bool,
        typer.Option(
            "--skip-bad-records/--fail-on-bad-record", help="Count malformed records, or stop at the first."
        ),
    ] = True,
) -> None:
    """Rebuild and cross-check every book in the captures.

    Exit code 0 when every book is ok (no gap, never crossed, no BBO mismatch, no bad record), 1 when at
    least one is not (or no book or instrument was found), 2 on an error.
    """
    with expected_errors():
        reports = verify(paths, skip_bad_records=skip_bad_records)
    if as_json:
        _print_json([report.to_dict() for report in reports])
    else:
        _out.print(verify_summary_table(reports))
        # Every field of the books that are not ok, so the reason is on screen.
        for report in reports:
            if not report.ok:
                _out.print(verify_table(report))
        bad = sum(not r.ok for r in reports)
        colour = "green" if bad == 0 and reports else "red"
        _out.print(f"[{colour}]{len(reports) - bad} of {len(reports)} ok[/{colour}]")
    if not reports or not all(r.ok for r in reports):
        raise typer.Exit(EXIT_NOT_OK)


@app.command("info")
def info_command(
    catalog: Annotated[Path, typer.Argument(help="Catalog folder.", show_default=False)],
    as_json: Annotated[bool, typer.Option("--json", help="Print the table as a JSON list.")] = False,
) -> None:
    """Show what a catalog holds: one row per kind, venue and symbol."""
    with expected_errors():
        table = info(catalog)
    if as_json:
        _print_json(info_records(table))
    else:
        _out.print(info_table(table, title=f"Catalog {catalog}"))
