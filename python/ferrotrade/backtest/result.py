"""The result of a backtest: polars tables, metrics, counters, and the HTML report.

The four tables come from the Rust core through the Arrow C stream interface (no per-row Python
objects); their schemas are documented in :mod:`ferrotrade.research`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from ferrotrade.research.metrics import Metrics
from ferrotrade.research.report import write_report

__all__ = ["BacktestResult"]


@dataclass(frozen=True)
class BacktestResult:
    """What a backtest produced.

    Attributes
    ----------
    orders, fills, equity, positions : polars.DataFrame
        Every order with its final state; every fill with the PnL it realized and the position after it;
        the account's equity curve; the final positions per strategy and instrument.
    metrics : Metrics
        Summary figures (PnL, Sharpe, Sortino, Calmar, drawdown, win rate, ...).
    stats : dict
        Counters of the run (events by kind, callbacks, orders, denials, first and last event time).
    denials : dict[str, int]
        Orders denied by the risk chain, by reason code.
    risk_events : list[dict]
        Trading-state changes (``ts``, ``from``, ``to``, ``reason``).
    strategies, instruments : list[str]
        Names in index order.
    wall_seconds : float
        Wall-clock duration of the run.
    title : str
        Title for the report.
    """

    orders: pl.DataFrame
    fills: pl.DataFrame
    equity: pl.DataFrame
    positions: pl.DataFrame
    metrics: Metrics
    stats: dict[str, int | float]
    denials: dict[str, int]
    risk_events: list[dict[str, Any]]
    strategies: list[str]
    instruments: list[str]
    wall_seconds: float
    title: str = "ferrotrade backtest"
    prices: pl.DataFrame | None = field(default=None, repr=False)

    @property
    def events_per_second(self) -> float:
        """Replayed rows per wall-clock second."""
        return self.stats["events"] / self.wall_seconds if self.wall_seconds > 0 else 0.0

    def write_report(self, path: str | Path) -> Path:
        """Write the HTML report (plotly, self-contained) to ``path`` and return it."""
        return write_report(
            Path(path),
            title=self.title,
            metrics=self.metrics,
            equity=self.equity,
            fills=self.fills,
            orders=self.orders,
            positions=self.positions,
            prices=self.prices,
        )
