"""The plotly figures of optimization, walk-forward and risk reports, one function per chart.

They take polars frames and plain dicts (the trials table of
:class:`~ferrotrade.backtest.OptimizationResult`, the tables of :mod:`ferrotrade.research.risk`), never an
optuna object, so research code stays free of the optimizer.

Examples
--------
>>> import polars as pl
>>> fig = importance_figure({})
>>> fig.layout.annotations[0].text
'fewer than 3 complete trials: no importance'
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go  # type: ignore[import-untyped]
import polars as pl
from plotly.subplots import make_subplots  # type: ignore[import-untyped]

from ferrotrade.research.downsample import m4_downsample
from ferrotrade.research.figures import BUY_COLOR, SELL_COLOR, TEMPLATE

__all__ = [
    "bootstrap_figure",
    "correlation_figure",
    "history_figure",
    "importance_figure",
    "latency_figure",
    "pareto_figure",
    "surface_figure",
    "walk_forward_figure",
]

_STATE_COLORS = {"complete": "#4575b4", "pruned": "#fdae61", "fail": SELL_COLOR, "running": "#999"}
_SURFACE_BINS = 12


def _note(fig: Any, text: str) -> Any:
    fig.add_annotation(text=text, showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5)
    return fig


def history_figure(trials: pl.DataFrame, value: str, direction: str) -> Any:
    """Objective value per trial, coloured by state, with the best value so far as a step line.

    Parameters
    ----------
    trials : polars.DataFrame
        ``number``, ``state``, ``feasible`` and the objective column ``value``.
    value : str
        The objective column.
    direction : {"maximize", "minimize"}
    """
    fig = go.Figure()
    done = trials.filter(pl.col(value).is_not_null()).sort("number")
    for state, part in done.group_by("state", maintain_order=True):
        fig.add_trace(
            go.Scatter(
                x=part["number"].to_list(),
                y=part[value].to_list(),
                mode="markers",
                name=str(state[0]),
                marker={"color": _STATE_COLORS.get(str(state[0]), "#333"), "size": 7},
            )
        )
    feasible = done.filter(pl.col("feasible").fill_null(False))
    if feasible.height:
        best = feasible[value].cum_max() if direction == "maximize" else feasible[value].cum_min()
        fig.add_trace(
            go.Scatter(
                x=feasible["number"].to_list(),
                y=best.to_list(),
                mode="lines",
                line_shape="hv",
                name="best so far",
                line={"color": BUY_COLOR},
            )
        )
    fig.update_xaxes(title_text="trial")
    fig.update_yaxes(title_text=value.removeprefix("value_"))
    fig.update_layout(template=TEMPLATE, height=380, margin={"t": 30})
    return _note(fig, "no complete trial") if done.height == 0 else fig


def importance_figure(importance: Mapping[str, Mapping[str, float]]) -> Any:
    """Horizontal bars of parameter importance, one colour per objective."""
    fig = go.Figure()
    for objective, scores in importance.items():
        names = list(scores)[::-1]
        fig.add_trace(go.Bar(x=[scores[n] for n in names], y=names, orientation="h", name=objective))
    fig.update_xaxes(title_text="importance (PED-ANOVA, sums to 1)")
    rows = max((len(s) for s in importance.values()), default=1)
    fig.update_layout(template=TEMPLATE, height=max(260, 40 * rows + 120), barmode="group", margin={"t": 30})
    return fig if importance else _note(fig, "fewer than 3 complete trials: no importance")


def surface_figure(trials: pl.DataFrame, x: str, y: str, value: str) -> Any:
    """Sensitivity surface of ``value`` over parameters ``x`` and ``y``: mean per cell of a 12 x 12 grid
    (a heatmap) under the trials themselves (markers).
    """
    done = trials.filter(pl.col(value).is_not_null()).select(
        pl.col(x).cast(pl.Float64), pl.col(y).cast(pl.Float64), pl.col(value)
    )
    fig = go.Figure()
    if done.height >= 2:
        xs, ys, zs = (done[c].to_numpy().astype(np.float64) for c in (x, y, value))
        x_edges = np.linspace(xs.min(), xs.max(), _SURFACE_BINS + 1) if xs.max() > xs.min() else None
        y_edges = np.linspace(ys.min(), ys.max(), _SURFACE_BINS + 1) if ys.max() > ys.min() else None
        if x_edges is not None and y_edges is not None:
            sums, _, _ = np.histogram2d(xs, ys, bins=[x_edges, y_edges], weights=zs)
            counts, _, _ = np.histogram2d(xs, ys, bins=[x_edges, y_edges])
            with np.errstate(invalid="ignore", divide="ignore"):
                mean = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
            fig.add_trace(
                go.Heatmap(
                    x=(x_edges[:-1] + x_edges[1:]) / 2,
                    y=(y_edges[:-1] + y_edges[1:]) / 2,
                    z=mean.T,
                    colorscale="RdYlGn",
                    colorbar={"title": value.removeprefix("value_")},
                    hoverongaps=False,
                    name="mean per cell",
                )
            )
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                mode="markers",
                marker={"color": "black", "size": 5, "opacity": 0.6},
                customdata=zs,
                hovertemplate=f"{x}=%{{x}}<br>{y}=%{{y}}<br>value=%{{customdata:.4g}}<extra></extra>",
                name="trials",
            )
        )
    fig.update_xaxes(title_text=x)
    fig.update_yaxes(title_text=y)
    fig.update_layout(template=TEMPLATE, height=420, margin={"t": 30}, showlegend=False)
    return fig if done.height >= 2 else _note(fig, "fewer than 2 complete trials")


def surface_pairs(
    params: Sequence[str], importance: Mapping[str, float], limit: int = 3
) -> list[tuple[str, str]]:
    """The parameter pairs worth a surface: the most important parameters first, at most ``limit`` pairs.

    Examples
    --------
    >>> surface_pairs(["a", "b", "c"], {"c": 0.6, "a": 0.3, "b": 0.1}, limit=2)
    [('c', 'a'), ('c', 'b')]
    """
    ranked = sorted(params, key=lambda name: -importance.get(name, 0.0))
    return list(itertools.combinations(ranked, 2))[:limit]


def pareto_figure(trials: pl.DataFrame, x: str, y: str, front: Sequence[int]) -> Any:
    """Two objectives of every complete trial, the Pareto front highlighted."""
    done = trials.filter(pl.col(x).is_not_null() & pl.col(y).is_not_null())
    on_front = done.filter(pl.col("number").is_in(list(front))).sort(x)
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=done[x].to_list(),
            y=done[y].to_list(),
            mode="markers",
            name="trials",
            marker={"color": "#999"},
            text=[f"#{n}" for n in done["number"]],
        )
    )
    fig.add_trace(
        go.Scatter(
            x=on_front[x].to_list(),
            y=on_front[y].to_list(),
            mode="lines+markers",
            name="Pareto front",
            marker={"color": SELL_COLOR, "size": 9},
            text=[f"#{n}" for n in on_front["number"]],
        )
    )
    fig.update_xaxes(title_text=x.removeprefix("value_"))
    fig.update_yaxes(title_text=y.removeprefix("value_"))
    fig.update_layout(template=TEMPLATE, height=420, margin={"t": 30})
    return fig


def latency_figure(latency: pl.DataFrame) -> Any:
    """PnL (and Sharpe) of the same configuration as a function of added order latency."""
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    added_ms = (latency["added_ns"] / 1e6).to_list()
    fig.add_trace(go.Scatter(x=added_ms, y=latency["total_pnl"].to_list(), name="PnL", mode="lines+markers"))
    fig.add_trace(
        go.Scatter(x=added_ms, y=latency["sharpe"].to_list(), name="Sharpe", mode="lines+markers"),
        secondary_y=True,
    )
    fig.update_xaxes(title_text="added latency per leg (ms)")
    fig.update_yaxes(title_text="PnL", secondary_y=False)
    fig.update_yaxes(title_text="Sharpe", secondary_y=True)
    fig.update_layout(template=TEMPLATE, height=380, margin={"t": 30})
    return fig


def bootstrap_figure(paths: pl.DataFrame, actual_pnl: float, actual_drawdown: float) -> Any:
    """Histograms of the bootstrap paths' final PnL and maximum drawdown, the actual run marked."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=["final PnL", "max drawdown"])
    for col, (column, actual) in enumerate((("final_pnl", actual_pnl), ("max_drawdown", actual_drawdown)), 1):
        fig.add_trace(
            go.Histogram(x=paths[column].to_list(), nbinsx=50, name=column, showlegend=False), 1, col
        )
        fig.add_vline(x=actual, line={"color": SELL_COLOR, "dash": "dash"}, row=1, col=col)
    fig.update_layout(template=TEMPLATE, height=360, margin={"t": 40})
    return fig if paths.height else _note(fig, "no closing fill to resample")


def correlation_figure(matrix: pl.DataFrame, title: str) -> Any:
    """A correlation matrix (``name`` column, one column per name) as a heatmap."""
    names = matrix["name"].to_list()
    fig = go.Figure()
    if names:
        z = matrix.select(names).to_numpy().astype(np.float64)
        fig.add_trace(
            go.Heatmap(
                x=names,
                y=names,
                z=z,
                zmin=-1,
                zmax=1,
                colorscale="RdBu",
                text=np.round(z, 2),
                texttemplate="%{text}",
            )
        )
    fig.update_layout(
        template=TEMPLATE, height=max(300, 60 * len(names) + 160), title=title, margin={"t": 50}
    )
    return fig if names else _note(fig, "nothing to correlate")


def walk_forward_figure(windows: pl.DataFrame, equity: pl.DataFrame, objective: str) -> Any:
    """In-sample vs out-of-sample objective per window, over the stitched out-of-sample equity curve."""
    fig = make_subplots(
        rows=2,
        cols=1,
        row_heights=[0.4, 0.6],
        vertical_spacing=0.12,
        subplot_titles=[
            f"{objective}: in-sample (best trial) vs out-of-sample",
            "stitched out-of-sample equity",
        ],
    )
    labels = [f"#{w}" for w in windows["window"]]
    fig.add_trace(go.Bar(x=labels, y=windows["in_sample"].to_list(), name="in-sample"), 1, 1)
    fig.add_trace(go.Bar(x=labels, y=windows["out_of_sample"].to_list(), name="out-of-sample"), 1, 1)
    if equity.height:
        line = m4_downsample(equity, "ts", "equity")
        ts = line["ts"].dt.convert_time_zone("UTC").dt.to_string("%Y-%m-%d %H:%M:%S%.3f").to_list()
        fig.add_trace(go.Scatter(x=ts, y=line["equity"].to_list(), name="OOS equity", mode="lines"), 2, 1)
        fig.update_xaxes(type="date", row=2, col=1)
    fig.update_layout(template=TEMPLATE, height=640, barmode="group", margin={"t": 40})
    return fig
