"""A backtest's one-page HTML report, and the same metrics as rows for a console table.

:func:`write_report` writes a single self-contained HTML file: plotly.js is inlined once in the page head
(about 4.8 MB for plotly 7, so the file opens offline and a dozen reports do not need a CDN), then one
``Plotly.newPlot`` call per chart. Sections, in order:

======================  ================================================================================
section                 content
======================  ================================================================================
Metrics                 :func:`metrics_table` as an HTML table
Final positions         the ``positions`` frame
Equity and drawdown     equity curve over drawdown in % of the running peak, shared time axis
Fills over price        buy / sell markers over the price line, one panel per instrument
Position over time      step line of ``fills.position`` per strategy and instrument
PnL distribution        histogram of the net PnL of closing fills
Orders                  orders by final status; denied and rejected orders by reason
Execution               only for a run with parent orders (execution algorithms): one row per parent of
                        :func:`~ferrotrade.research.execution.execution_quality` (the first 500 by start),
                        and the cumulative filled quantity of the first 20 parents with fills
======================  ================================================================================

Lines are M4-downsampled to ``max_points`` (10,000) per series (see :mod:`ferrotrade.research.downsample`:
2,500 buckets draw exactly the full line on charts up to 2,500 px wide), so the size grows with the number
of fills, not of price samples. A report of 100k fills over a 1M-row price series is 12.6 MB: 4.8 MB of
plotly.js, 4.7 MB of fill markers (UTC time string, price, quantity), the rest downsampled lines (measured
by ``tests/test_report.py::test_report_size_with_100k_fills``); it is written in about 1.5 s.

The file is written atomically: into a temporary file next to ``path``, then renamed over it, so a reader
never sees half a report and a failed write leaves any previous report in place.

Examples
--------
>>> from ferrotrade.research import compute_metrics, empty, metrics_table
>>> m = compute_metrics(empty("equity"), empty("fills"), empty("orders"), initial_equity=1000.0,
...                     events=0, wall_seconds=0.0)
>>> dict(metrics_table(m))["Sharpe (1m returns, annualized)"]
'n/a'
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import polars as pl

from ferrotrade.research.execution import execution_quality
from ferrotrade.research.metrics import Metrics
from ferrotrade.research.page import figure_html, format_cell, table_html, write_page
from ferrotrade.research.schema import check_frame

__all__ = ["EXECUTION_SECTION", "SECTIONS", "metrics_table", "write_report"]

SECTIONS = (
    "Metrics",
    "Final positions",
    "Equity and drawdown",
    "Fills over price",
    "Position over time",
    "PnL distribution",
    "Orders",
)
"""Section titles of the report, in page order."""

EXECUTION_SECTION = "Execution"
"""Title of the last section, written only for a run with parent orders."""

_NA = "n/a"
_MAX_PARENT_ROWS = 500
_MAX_PARENT_LINES = 20


def _num(value: float | None, fmt: str) -> str:
    return _NA if value is None else format(value, fmt)


def _pct(fraction: float | None, fmt: str = ".2f") -> str:
    return _NA if fraction is None else f"{fraction * 100:{fmt}} %"


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{key} {n:,}" for key, n in counts.items()) or "none"


def _when(ts: datetime | None) -> str:
    return _NA if ts is None else ts.strftime("%Y-%m-%d %H:%M:%S")


def metrics_table(metrics: Metrics) -> list[tuple[str, str]]:
    """Return the metrics as ``(label, formatted value)`` rows, in reading order.

    Money has two decimals and thousands separators; ratios two decimals; undefined values read ``n/a``.
    The CLI prints these rows with rich; the HTML report shows the same rows.

    Parameters
    ----------
    metrics
        From :func:`~ferrotrade.research.compute_metrics`.

    Returns
    -------
    list of (str, str)

    Examples
    --------
    >>> from ferrotrade.research import compute_metrics, empty
    >>> m = compute_metrics(empty("equity"), empty("fills"), empty("orders"), initial_equity=10_000.0,
    ...                     events=3_000_000, wall_seconds=2.0)
    >>> rows = dict(metrics_table(m))
    >>> rows["Initial equity"], rows["Return"], rows["Events/s"], rows["Denied by reason"]
    ('10,000.00', '+0.00 %', '1,500,000', 'none')
    """
    m = metrics
    interval = m.return_interval
    return [
        ("Period (UTC)", f"{_when(m.start)} to {_when(m.end)}"),
        ("Initial equity", f"{m.initial_equity:,.2f}"),
        ("Final equity", f"{m.final_equity:,.2f}"),
        ("Total PnL", f"{m.total_pnl:+,.2f}"),
        ("Return", f"{m.return_pct:+.2f} %"),
        ("Annualized return", _pct(m.annualized_return, "+.2f")),
        (f"Sharpe ({interval} returns, annualized)", _num(m.sharpe, ".2f")),
        (f"Sortino ({interval} returns, annualized)", _num(m.sortino, ".2f")),
        ("Calmar", _num(m.calmar, ".2f")),
        ("Max drawdown", f"{m.max_drawdown * 100:.2f} % ({m.max_drawdown_abs:,.2f})"),
        ("Trades (fills)", f"{m.trades:,}"),
        ("Round trips", f"{m.round_trips:,}"),
        ("Win rate", f"{_pct(m.win_rate)} of {m.closing_fills:,} closing fills"),
        ("Profit factor", _num(m.profit_factor, ".2f")),
        ("Maker fills", _pct(m.maker_ratio)),
        ("Orders", f"{m.orders:,}"),
        ("Fill ratio", _pct(m.fill_ratio)),
        ("Orders by status", _counts(m.orders_by_status)),
        ("Denied by reason", _counts(m.denied_by_reason)),
        ("Turnover", f"{m.turnover:,.2f} ({m.turnover_ratio:,.2f}x initial equity)"),
        ("Fees paid (negative = rebates)", f"{m.fees:+,.2f}"),
        ("Funding received", f"{m.funding:+,.2f}"),
        ("Events", f"{m.events:,}"),
        ("Events/s", _num(m.events_per_s, ",.0f")),
        ("Wall time", f"{m.wall_seconds:,.2f} s"),
    ]


def _positions_table(positions: pl.DataFrame) -> str:
    if positions.height == 0:
        return "<p>no positions</p>"
    numeric = [dtype.is_numeric() for dtype in positions.dtypes]
    rows = (
        [_NA if v is None else (f"{v:,.6g}" if isinstance(v, float) else str(v)) for v in row]
        for row in positions.iter_rows()
    )
    return table_html(positions.columns, rows, numeric)


def _bps(value: float | None) -> str:
    return _NA if value is None else f"{value:+,.2f}"


_EXECUTION_HEADER = (
    "parent",
    "algo",
    "instrument",
    "side",
    "filled / quantity",
    "status",
    "arrival",
    "average",
    "IS bps",
    "participation",
    "vs VWAP bps",
)
_EXECUTION_NUMERIC = (False, False, False, False, True, False, True, True, True, True, True)


def _execution_rows(quality: pl.DataFrame) -> list[list[str]]:
    return [
        [
            f"{q['strategy']} #{q['parent_id']}",
            q["algo"],
            q["instrument"],
            q["side"],
            f"{q['filled']:,.6g} / {q['quantity']:,.6g}",
            q["status"] if q["reason"] is None else f"{q['status']} ({q['reason']})",
            format_cell(q["arrival_price"]),
            format_cell(q["average_price"]),
            _bps(q["implementation_shortfall_bps"]),
            _pct(q["participation"]),
            _bps(q["slippage_vs_vwap_bps"]),
        ]
        for q in quality.iter_rows(named=True)
    ]


def _execution_section(
    parents: pl.DataFrame, children: pl.DataFrame | None, fills: pl.DataFrame, max_points: int
) -> str:
    """The quality table (first rows by start) and, with ``children``, the cumulative-fill chart."""
    from ferrotrade.research import figures  # noqa: PLC0415 - keeps plotly out of metric-only imports

    quality = execution_quality(parents).sort("start", "strategy", "parent_id", maintain_order=True)
    parts = []
    if quality.height > _MAX_PARENT_ROWS:
        parts.append(
            f'<p class="note">{quality.height:,} parent orders: the first {_MAX_PARENT_ROWS:,} by start '
            "are listed; <code>execution_quality()</code> has them all.</p>"
        )
    parts.append(
        table_html(_EXECUTION_HEADER, _execution_rows(quality.head(_MAX_PARENT_ROWS)), _EXECUTION_NUMERIC)
    )
    if children is None:
        parts.append('<p class="note">no children frame: the fills of the parents are not drawn.</p>')
        return "\n".join(parts)
    drawn, with_fills = figures.plotted_parents(parents, _MAX_PARENT_LINES)
    if with_fills > drawn.height:
        parts.append(
            f'<p class="note">{with_fills:,} parents have fills: the first {drawn.height} by start are '
            "drawn.</p>"
        )
    fig = figures.execution_figure(
        parents, children, fills, max_parents=_MAX_PARENT_LINES, max_points=max_points
    )
    parts.append(figure_html(fig, f"chart-{len(SECTIONS)}"))
    return "\n".join(parts)


def write_report(
    path: str | os.PathLike[str],
    *,
    title: str,
    metrics: Metrics,
    equity: pl.DataFrame,
    fills: pl.DataFrame,
    orders: pl.DataFrame,
    positions: pl.DataFrame,
    prices: pl.DataFrame | None = None,
    max_points: int = 10_000,
    parents: pl.DataFrame | None = None,
    children: pl.DataFrame | None = None,
) -> Path:
    """Write the backtest report as one self-contained HTML file.

    Parameters
    ----------
    path
        Output file; parent folders are created, an existing file is replaced atomically.
    title
        Page title and heading (HTML-escaped).
    metrics
        From :func:`~ferrotrade.research.compute_metrics` on the same frames.
    equity, fills, orders, positions
        The engine's result frames (schemas in :mod:`ferrotrade.research.schema`).
    prices
        Optional ``ts`` Datetime(ns, UTC), ``instrument`` str, ``price`` f64: a mid or close series drawn
        under the fills.
    max_points
        Points per line (price, equity, drawdown, position, parent fills) after M4 downsampling.
    parents, children
        Optional ``parents`` and ``children`` frames of execution algorithms: with at least one parent the
        page ends with the :data:`EXECUTION_SECTION` (its chart needs ``children``).

    Returns
    -------
    pathlib.Path
        The written file.

    Raises
    ------
    ValueError
        A frame does not match its schema.
    OSError
        The file cannot be written (nothing is left behind).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from ferrotrade.research import compute_metrics, empty
    >>> frames = {name: empty(name) for name in ("equity", "fills", "orders", "positions")}
    >>> m = compute_metrics(frames["equity"], frames["fills"], frames["orders"], initial_equity=1.0,
    ...                     events=0, wall_seconds=0.0)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     out = write_report(pathlib.Path(tmp) / "r.html", title="empty run", metrics=m, **frames)
    ...     out.read_text().count("Plotly.newPlot(")
    5
    """
    from ferrotrade.research import figures  # noqa: PLC0415 - keeps plotly out of metric-only imports

    for name, frame in (("equity", equity), ("fills", fills), ("orders", orders), ("positions", positions)):
        check_frame(name, frame)
    if prices is not None:
        check_frame("prices", prices)
    if parents is not None:
        check_frame("parents", parents)
    if children is not None:
        check_frame("children", children)

    charts = {
        "Equity and drawdown": figures.equity_figure(equity, metrics.initial_equity, max_points=max_points),
        "Fills over price": figures.fills_figure(fills, prices, max_points=max_points),
        "Position over time": figures.position_figure(fills, max_points=max_points),
        "PnL distribution": figures.pnl_histogram_figure(fills),
        "Orders": figures.orders_figure(orders),
    }
    tables = {
        "Metrics": table_html(None, metrics_table(metrics), [False, True]),
        "Final positions": _positions_table(positions),
    }
    sections = [
        (section, tables[section] if section in tables else figure_html(charts[section], f"chart-{index}"))
        for index, section in enumerate(SECTIONS)
    ]
    if parents is not None and parents.height > 0:
        sections.append((EXECUTION_SECTION, _execution_section(parents, children, fills, max_points)))
    return write_page(path, title, sections)
