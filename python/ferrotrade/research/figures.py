"""The plotly figures of a backtest report, one function per chart.

Each function takes result frames (schemas in :mod:`ferrotrade.research.schema`) and returns a
``plotly.graph_objects.Figure``; :func:`ferrotrade.research.write_report` lays them out in one HTML page.
Kept separate from :mod:`ferrotrade.research.report` so that importing the metrics or the summary table
never imports plotly.

Size discipline
---------------
* Times are sent as UTC strings with millisecond precision (``"2024-03-01 12:00:00.250"``). Plotly would
  take float epoch milliseconds in a third of the space (base64 typed arrays), but plotly.js shows numbers
  on a date axis in the *browser's* time zone; strings are shown as written, so the page reads UTC
  everywhere. Values (prices, equity, quantities) are base64 float arrays, about 11 bytes a point.
* Lines (price, equity, drawdown, position) are reduced with
  :func:`~ferrotrade.research.downsample.m4_downsample` to ``max_points`` per series; fill markers are all
  drawn up to ``max_markers`` per instrument, and evenly strided beyond (the chart's title says so).
* The PnL histogram is binned here (numpy), so only bin counts reach the page.
* Dense traces use WebGL (``Scattergl``) so the browser stays responsive with 10^5 markers.
* The execution chart draws at most ``max_parents`` parent orders (one line each), the first by start.

Examples
--------
>>> from ferrotrade.research.figures import pnl_histogram_figure
>>> from ferrotrade.research.schema import empty
>>> fig = pnl_histogram_figure(empty("fills"))
>>> fig.layout.annotations[0].text
'no closing fills'
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import plotly.graph_objects as go  # type: ignore[import-untyped]
import polars as pl
from plotly.subplots import make_subplots  # type: ignore[import-untyped]

from ferrotrade.research.downsample import m4_downsample
from ferrotrade.research.execution import fill_timeline
from ferrotrade.research.metrics import closing_net_pnl

__all__ = [
    "equity_figure",
    "execution_figure",
    "fills_figure",
    "orders_figure",
    "pnl_histogram_figure",
    "position_figure",
]

TEMPLATE = "plotly_white"
BUY_COLOR = "#1a9850"
SELL_COLOR = "#d73027"
_MAX_BINS = 200
TIME_FORMAT = "%Y-%m-%d %H:%M:%S%.3f"


def _utc(series: pl.Series) -> list[str]:
    """Datetime column -> UTC wall-clock strings, which plotly.js draws without a time-zone shift."""
    return series.dt.convert_time_zone("UTC").dt.to_string(TIME_FORMAT).to_list()


def _f64(series: pl.Series) -> npt.NDArray[np.float64]:
    return np.asarray(series.to_numpy(), dtype=np.float64)


def _empty_note(fig: Any, text: str) -> Any:
    fig.add_annotation(text=text, showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5)
    return fig


def equity_figure(equity: pl.DataFrame, initial_equity: float, *, max_points: int = 10_000) -> Any:
    """Equity curve over drawdown (% of running peak), sharing the time axis.

    Parameters
    ----------
    equity
        The ``equity`` frame.
    initial_equity
        Starting equity: the first running peak, as in :func:`~ferrotrade.research.compute_metrics`.
    max_points
        Points per line after M4 downsampling.

    Returns
    -------
    plotly.graph_objects.Figure

    Examples
    --------
    >>> from ferrotrade.research.schema import empty
    >>> len(equity_figure(empty("equity"), 1000.0).data)
    2
    """
    value = pl.col("equity")
    peak = pl.max_horizontal(value, pl.lit(initial_equity)).cum_max()
    curve = equity.select(
        "ts", "equity", drawdown=pl.when(peak > 0).then((value - peak) / peak * 100.0).otherwise(0.0)
    )
    eq = m4_downsample(curve, "ts", "equity", max_points=max_points)
    dd = m4_downsample(curve, "ts", "drawdown", max_points=max_points)
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.7, 0.3], vertical_spacing=0.04)
    fig.add_trace(go.Scattergl(x=_utc(eq["ts"]), y=_f64(eq["equity"]), name="equity", mode="lines"), 1, 1)
    fig.add_trace(
        go.Scatter(
            x=_utc(dd["ts"]),
            y=_f64(dd["drawdown"]),
            name="drawdown %",
            mode="lines",
            fill="tozeroy",
            line={"color": SELL_COLOR, "width": 1},
        ),
        2,
        1,
    )
    fig.update_xaxes(type="date")
    fig.update_yaxes(title_text="equity", row=1, col=1)
    fig.update_yaxes(title_text="drawdown %", row=2, col=1)
    fig.update_layout(template=TEMPLATE, height=560, hovermode="x unified", margin={"t": 30})
    return _empty_note(fig, "no equity samples") if equity.height == 0 else fig


def _stride(frame: pl.DataFrame, max_rows: int) -> pl.DataFrame:
    if frame.height <= max_rows:
        return frame
    return frame.gather_every(-(-frame.height // max_rows))


def fills_figure(
    fills: pl.DataFrame,
    prices: pl.DataFrame | None,
    *,
    max_points: int = 10_000,
    max_markers: int = 200_000,
) -> Any:
    """Buy and sell markers over the price line, one row per instrument.

    Parameters
    ----------
    fills
        The ``fills`` frame.
    prices
        ``ts``, ``instrument``, ``price`` (a mid or close series); ``None`` draws the markers alone.
    max_points
        Points per instrument's price line after M4 downsampling.
    max_markers
        Fill markers per instrument before striding.

    Returns
    -------
    plotly.graph_objects.Figure

    Examples
    --------
    >>> from ferrotrade.research.schema import empty
    >>> fills_figure(empty("fills"), None).layout.annotations[0].text
    'no fills'
    """
    instruments = sorted(set(fills["instrument"].unique().to_list()))
    if prices is not None:
        instruments = sorted(set(instruments) | set(prices["instrument"].unique().to_list()))
    rows = max(len(instruments), 1)
    fig = make_subplots(
        rows=rows, cols=1, shared_xaxes=True, subplot_titles=instruments or None, vertical_spacing=0.06 / rows
    )
    strided = False
    in_legend: set[str] = set()
    for row, instrument in enumerate(instruments, start=1):
        if prices is not None:
            own_prices = prices.filter(pl.col("instrument") == instrument).sort("ts")
            line = m4_downsample(own_prices, "ts", "price", max_points=max_points)
            fig.add_trace(
                go.Scattergl(
                    x=_utc(line["ts"]),
                    y=_f64(line["price"]),
                    mode="lines",
                    name=f"{instrument} price",
                    line={"color": "#777", "width": 1},
                ),
                row,
                1,
            )
        own = fills.filter(pl.col("instrument") == instrument)
        strided |= own.height > max_markers
        own = _stride(own, max_markers)
        for (strategy, side), part in own.group_by("strategy", "side", maintain_order=True):
            buy = side == "buy"
            group = f"{strategy} {side}"
            fig.add_trace(
                go.Scattergl(
                    x=_utc(part["ts_event"]),
                    y=_f64(part["price"]),
                    customdata=_f64(part["quantity"]),
                    mode="markers",
                    name=group,
                    legendgroup=group,
                    showlegend=group not in in_legend,
                    marker={
                        "symbol": "triangle-up" if buy else "triangle-down",
                        "color": BUY_COLOR if buy else SELL_COLOR,
                        "size": 7,
                    },
                    hovertemplate=f"{strategy} {side} %{{customdata}} @ %{{y}}<extra>{instrument}</extra>",
                ),
                row,
                1,
            )
            in_legend.add(group)
    fig.update_xaxes(type="date")
    title = f"fills strided to {max_markers:,} per instrument" if strided else None
    fig.update_layout(template=TEMPLATE, height=max(360, 300 * rows), title=title, margin={"t": 40})
    return _empty_note(fig, "no fills") if fills.height == 0 else fig


def position_figure(fills: pl.DataFrame, *, max_points: int = 10_000) -> Any:
    """Signed position after each fill, as a step line per strategy and instrument.

    Parameters
    ----------
    fills
        The ``fills`` frame.
    max_points
        Points per series after M4 downsampling.

    Returns
    -------
    plotly.graph_objects.Figure

    Examples
    --------
    >>> from ferrotrade.research.schema import empty
    >>> len(position_figure(empty("fills")).data)
    0
    """
    fig = go.Figure()
    series = m4_downsample(
        fills.select("ts_event", "strategy", "instrument", "position"),
        "ts_event",
        "position",
        max_points=max_points,
        group_by=["strategy", "instrument"],
    )
    for (strategy, instrument), part in series.group_by("strategy", "instrument", maintain_order=True):
        fig.add_trace(
            go.Scattergl(
                x=_utc(part["ts_event"]),
                y=_f64(part["position"]),
                mode="lines",
                line_shape="hv",
                name=f"{strategy} {instrument}",
            )
        )
    fig.update_xaxes(type="date")
    fig.update_yaxes(title_text="position", zeroline=True)
    fig.update_layout(template=TEMPLATE, height=380, margin={"t": 30})
    return _empty_note(fig, "no fills") if fills.height == 0 else fig


def pnl_histogram_figure(fills: pl.DataFrame) -> Any:
    """Histogram of the net PnL (``realized_pnl - fee``) of closing fills, losses red, gains green.

    Bins follow numpy's ``"auto"`` rule, capped at 200.

    Parameters
    ----------
    fills
        The ``fills`` frame.

    Returns
    -------
    plotly.graph_objects.Figure

    Examples
    --------
    >>> from ferrotrade.research.schema import empty
    >>> len(pnl_histogram_figure(empty("fills")).data)
    0
    """
    fig = go.Figure()
    net = _f64(closing_net_pnl(fills))
    net = net[np.isfinite(net)]
    if net.size:
        edges = np.histogram_bin_edges(net, bins="auto")
        if edges.size - 1 > _MAX_BINS:
            edges = np.histogram_bin_edges(net, bins=_MAX_BINS)
        counts, edges = np.histogram(net, bins=edges)
        centers = (edges[:-1] + edges[1:]) / 2.0
        fig.add_trace(
            go.Bar(
                x=centers,
                y=counts,
                width=np.diff(edges),
                marker={"color": np.where(centers < 0, SELL_COLOR, BUY_COLOR).tolist()},
                name="closing fills",
                hovertemplate="%{x:.4g}: %{y} fills<extra></extra>",
            )
        )
    fig.update_xaxes(title_text="net PnL per closing fill")
    fig.update_yaxes(title_text="fills")
    fig.update_layout(template=TEMPLATE, height=360, bargap=0.02, margin={"t": 30})
    return fig if net.size else _empty_note(fig, "no closing fills")


def _counts(frame: pl.DataFrame, column: str) -> tuple[list[str], list[int]]:
    counted = (
        frame.select(pl.col(column).fill_null("unknown"))
        .group_by(column)
        .len()
        .sort(["len", column], descending=[True, False])
    )
    return counted[column].to_list(), counted["len"].to_list()


def orders_figure(orders: pl.DataFrame) -> Any:
    """Orders by final status, and denied / rejected orders by reason.

    Parameters
    ----------
    orders
        The ``orders`` frame.

    Returns
    -------
    plotly.graph_objects.Figure

    Examples
    --------
    >>> from ferrotrade.research.schema import empty
    >>> orders_figure(empty("orders")).layout.annotations[-1].text
    'no orders'
    """
    fig = make_subplots(rows=1, cols=2, subplot_titles=["orders by status", "denied / rejected by reason"])
    names, counts = _counts(orders, "status")
    fig.add_trace(go.Bar(x=names, y=counts, name="status", showlegend=False), 1, 1)
    for status, color in (("denied", "#fc8d59"), ("rejected", SELL_COLOR)):
        reasons, counts = _counts(orders.filter(pl.col("status") == status), "reason")
        if reasons:
            fig.add_trace(go.Bar(x=reasons, y=counts, name=status, marker={"color": color}), 1, 2)
    fig.update_layout(template=TEMPLATE, height=360, barmode="stack", margin={"t": 40})
    return _empty_note(fig, "no orders") if orders.height == 0 else fig


def plotted_parents(parents: pl.DataFrame, max_parents: int) -> tuple[pl.DataFrame, int]:
    """The parents :func:`execution_figure` draws (those with fills, the first ``max_parents`` by start)
    and how many have fills."""
    filled = parents.filter(pl.col("fills") > 0).sort("start", "strategy", "parent_id", maintain_order=True)
    return filled.head(max_parents), filled.height


def execution_figure(
    parents: pl.DataFrame,
    children: pl.DataFrame,
    fills: pl.DataFrame,
    *,
    max_parents: int = 20,
    max_points: int = 10_000,
) -> Any:
    """Cumulative filled quantity of each parent order over time, one step line per parent.

    A line starts at 0 at the parent's ``start`` and steps at each fill of its child orders
    (:func:`~ferrotrade.research.execution.fill_timeline`); the hover shows the share of the parent's
    quantity. Parents without fills are not drawn.

    Parameters
    ----------
    parents, children, fills
        The ``parents``, ``children`` and ``fills`` frames.
    max_parents
        Parents drawn at most: the first by ``start``; the chart's title says when some are left out.
    max_points
        Points per line after M4 downsampling.

    Returns
    -------
    plotly.graph_objects.Figure

    Examples
    --------
    >>> from ferrotrade.research.schema import empty
    >>> execution_figure(empty("parents"), empty("children"), empty("fills")).layout.annotations[0].text
    'no parent fills'
    """
    fig = go.Figure()
    drawn, with_fills = plotted_parents(parents, max_parents)
    for parent in drawn.iter_rows(named=True):
        timeline = fill_timeline(children, fills, parent["parent_id"], parent["strategy"])
        line = m4_downsample(timeline, "ts_event", "filled", max_points=max_points)
        start = pl.Series([parent["start"]], dtype=timeline.schema["ts_event"])
        filled = np.concatenate([[0.0], _f64(line["filled"])])
        fig.add_trace(
            go.Scattergl(
                x=_utc(start) + _utc(line["ts_event"]),
                y=filled,
                customdata=filled / parent["quantity"] * 100.0,
                mode="lines+markers",
                line_shape="hv",
                marker={"size": 4},
                name=(
                    f"{parent['strategy']} #{parent['parent_id']} {parent['algo']} {parent['side']} "
                    f"{parent['instrument']}"
                ),
                hovertemplate="%{y:.6g} filled (%{customdata:.1f} %)<extra>%{fullData.name}</extra>",
            )
        )
    fig.update_xaxes(type="date")
    fig.update_yaxes(title_text="filled quantity", rangemode="tozero")
    title = None
    if with_fills > drawn.height:
        title = f"first {drawn.height} of {with_fills:,} parents with fills, by start"
    fig.update_layout(template=TEMPLATE, height=420, title=title, margin={"t": 40})
    return _empty_note(fig, "no parent fills") if drawn.height == 0 else fig
