"""Rendering data-layer results for the terminal (rich tables) and for machines (JSON-ready values).

Examples
--------
>>> format_ns(1_723_075_200_123_456_789)
'2024-08-08T00:00:00.123456789Z'
>>> format_ns(1_723_075_200_123_456_789, digits=3)
'2024-08-08T00:00:00.123Z'
>>> format_ns(None)
'-'
>>> format_bytes(1536)
'1.5 KiB'
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
from rich.table import Table

from ferrotrade.data import ImportSummary, VerifyReport

__all__ = [
    "format_bytes",
    "format_ns",
    "import_table",
    "info_records",
    "info_table",
    "verify_summary_table",
    "verify_table",
]


def format_ns(nanos: int | None, digits: int = 9) -> str:
    """Format nanoseconds since the epoch as an ISO-8601 UTC timestamp with ``digits`` fraction digits.

    Digits beyond ``digits`` are truncated, not rounded, so a time never moves into the next second.
    """
    if nanos is None:
        return "-"
    seconds, fraction = divmod(nanos, 1_000_000_000)
    moment = dt.datetime.fromtimestamp(seconds, dt.UTC).replace(tzinfo=None)
    return f"{moment.isoformat()}.{fraction:09d}"[: 20 + digits] + "Z"


def format_bytes(size: int) -> str:
    """Format a byte count with a binary unit."""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{size} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"  # unreachable: the loop returns at GiB


def _span(first: str, last: str) -> str:
    """``first .. last`` of two ISO timestamps, with spaces where a narrow table may wrap."""

    def readable(iso: str) -> str:
        return iso.replace("T", " ").removesuffix("Z")

    return readable(first) if first == last else f"{readable(first)} .. {readable(last)}"


def _instrument_columns(table: Table) -> None:
    # names and counts never wrap; on a narrow terminal the time range wraps instead
    table.add_column("kind", no_wrap=True)
    table.add_column("venue", no_wrap=True)
    table.add_column("symbol", no_wrap=True)


def import_table(summary: ImportSummary) -> Table:
    """One row per ``(kind, venue, symbol)`` written, plus a total row."""
    table = Table(title=f"Imported into {summary.catalog}", show_footer=True)
    _instrument_columns(table)
    table.columns[0].footer = "total"
    table.add_column("rows", justify="right", footer=f"{summary.rows:,}", no_wrap=True)
    table.add_column("ts_event (UTC)")
    table.add_column("files", justify="right", footer=str(summary.files_written), no_wrap=True)
    table.add_column("bytes", justify="right", footer=format_bytes(summary.bytes_written), no_wrap=True)
    for p in summary.partitions:
        table.add_row(
            p.kind,
            p.venue,
            p.symbol,
            f"{p.rows:,}",
            _span(format_ns(p.first_ts_event, digits=3), format_ns(p.last_ts_event, digits=3)),
            str(p.files),
            format_bytes(p.bytes),
        )
    return table


def _side(level: tuple[float, float] | None, price_precision: int, size_precision: int) -> str:
    if level is None:
        return "-"
    return f"{level[0]:.{price_precision}f} x {level[1]:.{size_precision}f}"


_PROBLEMS = ("gaps", "crossed", "bbo_mismatches", "bad_records")


def verify_summary_table(reports: list[VerifyReport]) -> Table:
    """One row per book: sync counters, cross-checks, trades, and the final top of book."""
    table = Table(title="Book verification", title_justify="left")
    for name, justify in (
        ("venue", "left"),
        ("symbol", "left"),
        ("snap", "right"),
        ("diffs", "right"),
        ("stale", "right"),
        ("gaps", "right"),
        ("unsynced", "right"),
        ("crossed", "right"),
        ("bbo ok", "right"),
        ("trades", "right"),
        ("id gaps", "right"),
        ("bars", "right"),
        ("bid", "right"),
        ("ask", "right"),
        ("levels", "right"),
        ("", "left"),
    ):
        table.add_column(name, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    for r in reports:

        def flagged(value: int) -> str:
            return f"[red]{value:,}[/red]" if value else f"{value:,}"

        trades = r.trades + r.agg_trades
        table.add_row(
            r.venue,
            r.symbol,
            f"{r.snapshots:,}",
            f"{r.diffs_applied:,}",
            f"{r.stale_dropped:,}",
            flagged(r.gaps),
            f"{r.buffered_while_unsynced:,}",
            flagged(r.crossed),
            f"{r.bbo_checked - r.bbo_mismatches:,}/{r.bbo_checked:,}",
            f"{trades:,}",
            "-" if r.trade_id_gaps is None else flagged(r.trade_id_gaps),
            f"{r.bars:,}" + (f" ({r.bar_gaps} missing)" if r.bar_gaps else ""),
            _side(r.best_bid, r.price_precision, r.size_precision),
            _side(r.best_ask, r.price_precision, r.size_precision),
            f"{r.bid_levels:,}/{r.ask_levels:,}",
            "[green]ok[/green]" if r.ok else "[bold red]NOT OK[/bold red]",
        )
    return table


def verify_table(report: VerifyReport) -> Table:
    """A two-column table of every field of one report; best bid/ask shown as ``price x qty``."""
    status = "[green]ok[/green]" if report.ok else "[bold red]NOT OK[/bold red]"
    table = Table(title=f"{report.venue} {report.symbol}: {status}", show_header=False, title_justify="left")
    table.add_column("field", style="bold")
    table.add_column("value")
    for name, value in report.to_dict().items():
        if name in ("best_bid", "best_ask"):
            shown = _side(getattr(report, name), report.price_precision, report.size_precision)
        elif value is None:
            shown = "-"
        else:
            shown = str(value)
        problem = name in _PROBLEMS and value
        table.add_row(name, f"[red]{shown}[/red]" if problem else shown)
    return table


def info_records(frame: pl.DataFrame) -> list[dict[str, Any]]:
    """Rows of :func:`ferrotrade.data.info` with dates and timestamps as ISO strings, for JSON."""
    return frame.with_columns(
        pl.col("first_date", "last_date").dt.to_string("%Y-%m-%d"),
        pl.col("first_ts_event", "last_ts_event").dt.to_string("%Y-%m-%dT%H:%M:%S.%9fZ"),
    ).to_dicts()


def info_table(frame: pl.DataFrame, title: str) -> Table:
    """The catalog table of contents as a rich table."""
    table = Table(title=title)
    _instrument_columns(table)
    table.add_column("ts_event (UTC)")
    table.add_column("rows", justify="right", no_wrap=True)
    table.add_column("files", justify="right", no_wrap=True)
    table.add_column("bytes", justify="right", no_wrap=True)
    for row in info_records(frame):
        table.add_row(
            row["kind"],
            row["venue"],
            row["symbol"],
            _span(row["first_ts_event"][:23] + "Z", row["last_ts_event"][:23] + "Z"),
            f"{row['rows']:,}",
            str(row["files"]),
            format_bytes(row["bytes"]),
        )
    return table
