"""The result of a backtest: polars tables, metrics, counters, and the HTML report.

The four tables come from the Rust core through the Arrow C stream interface (no per-row Python
objects); their schemas are documented in :mod:`ferrotrade.research`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from ferrotrade.data.query import scan as scan_catalog
from ferrotrade.exceptions import FerrotradeError
from ferrotrade.research.execution import execution_quality
from ferrotrade.research.metrics import Metrics
from ferrotrade.research.report import write_report
from ferrotrade.research.schema import empty

__all__ = ["BacktestResult", "price_series"]


def price_series(catalog: Path, instruments: list[str], start: int, end: int) -> pl.DataFrame | None:
    """The price line of the report: last trade (or bar close) per second of each instrument in the run.

    Reads only the partitions of the run's time range; a catalog without trades or bars gives None.
    """
    frames = []
    for name in instruments:
        venue, _, symbol = name.partition(".")
        for kind, column in (("trades", "price_f"), ("bars", "close_f")):
            try:
                scan = scan_catalog(
                    catalog, venue=venue, symbol=symbol, kind=kind, start=start, end=end + 1, with_floats=True
                )
                frame = (
                    scan.select(pl.col("ts_event").alias("ts"), pl.col(column).alias("price"))
                    .sort("ts")
                    .group_by_dynamic("ts", every="1s")
                    .agg(pl.col("price").last())
                    .collect()
                )
            except (FerrotradeError, pl.exceptions.PolarsError, OSError):
                continue
            if not frame.is_empty():
                frames.append(
                    frame.with_columns(pl.lit(name).alias("instrument")).select("ts", "instrument", "price")
                )
                break
    return pl.concat(frames) if frames else None


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
    catalog : Path or None
        The catalog the run read; the report draws its price line from it.
    parents, children : polars.DataFrame
        The execution algorithms' parent orders (one row each, with arrival price, average fill price,
        market volume and VWAP while active) and their child orders (the fills' ``client_id`` joins them);
        empty without algorithms. :meth:`execution_quality` turns them into the quality report.
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
    catalog: Path | None = field(default=None, repr=False)
    parents: pl.DataFrame = field(default_factory=lambda: empty("parents"))
    children: pl.DataFrame = field(default_factory=lambda: empty("children"))

    @property
    def events_per_second(self) -> float:
        """Replayed rows per wall-clock second."""
        return self.stats["events"] / self.wall_seconds if self.wall_seconds > 0 else 0.0

    def write_report(self, path: str | Path) -> Path:
        """Write the HTML report (plotly, self-contained) to ``path`` and return it.

        The price line under the fills is read from the catalog here, only when a report is written.
        """
        prices = None
        if self.catalog is not None and self.stats["events"]:
            prices = price_series(
                self.catalog, self.instruments, int(self.stats["first_ts"]), int(self.stats["last_ts"])
            )
        return write_report(
            Path(path),
            title=self.title,
            metrics=self.metrics,
            equity=self.equity,
            fills=self.fills,
            orders=self.orders,
            positions=self.positions,
            prices=prices,
            parents=self.parents,
            children=self.children,
        )

    def execution_quality(self) -> pl.DataFrame:
        """One row of execution-quality figures per parent order; empty without execution algorithms.

        See :func:`ferrotrade.research.execution.execution_quality` for the columns and definitions
        (implementation shortfall against the arrival mid, participation, slippage against the interval VWAP).
        """
        return execution_quality(self.parents, self.fills, self.children)
