"""Performance metrics of one backtest, computed from the engine's result frames.

:func:`compute_metrics` turns the ``equity``, ``fills`` and ``orders`` frames (schemas in
:mod:`ferrotrade.research.schema`) into one frozen :class:`Metrics` value. Every definition is stated on the
field it fills, so two runs can be compared without guessing what a number means.

Definitions
-----------
* **Period returns.** The equity curve is resampled to ``return_interval`` buckets: the value at each
  boundary ``b`` is the last sample at or before ``b`` (polars ``group_by_dynamic`` with ``closed="right"``,
  ``label="right"``, then ``upsample`` and forward fill, so a quiet bucket repeats the last known equity and
  counts as a zero return). Returns are simple: ``r_k = E(b_k) / E(b_{k-1}) - 1``. The last, partial
  bucket is labelled by its right edge and counts as a full period.
* **Annualization.** Crypto trades every day: a year is 365 days, ``periods_per_year`` defaults to
  ``365 days / return_interval`` (525,600 for ``"1m"``).
* **Sharpe** ``= mean(r) / std(r, ddof=1) * sqrt(periods_per_year)``, risk-free rate 0.
* **Sortino** ``= mean(r) / sqrt(mean(min(r, 0)^2)) * sqrt(periods_per_year)``, target return 0, the
  downside deviation taken over all returns.
* Sharpe and Sortino are ``None`` with fewer than 2 returns or a zero denominator (flat equity, no losing
  period for Sortino).
* **Drawdown** is measured on every equity sample (not resampled) against the running peak, which starts
  at ``initial_equity``: ``max_drawdown`` is the largest ``(peak - equity) / peak`` (a positive fraction),
  ``max_drawdown_abs`` the largest ``peak - equity``, both 0 when equity never fell.
* **Annualized return** (CAGR) ``= (final / initial) ** (365 days / duration) - 1`` over the equity
  curve's time span; ``None`` for a zero span or when it overflows a float (very short runs).
  **Calmar** ``= annualized return / max_drawdown``, ``None`` without a drawdown.
* **Closing fills** are fills with ``realized_pnl != 0``. Their net PnL is ``realized_pnl - fee`` of that
  fill only (the fees of the opening fills are not allocated). **Win rate** = closing fills with net
  PnL > 0 / closing fills; **profit factor** = sum of positive net PnL / -sum of negative net PnL
  (``None`` without a losing closing fill).
* A **round trip** ends each time a strategy's position in an instrument goes from non-zero to zero or
  flips sign (a flip ends one round trip and starts the next).
* **Fill ratio** = orders with ``filled > 0`` / orders that reached the venue (status not ``denied``).

Examples
--------
>>> from ferrotrade.research.metrics import interval_seconds
>>> interval_seconds("1m"), interval_seconds("1h30m")
(60.0, 5400.0)
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from ferrotrade.research.schema import check_frame

__all__ = [
    "YEAR_SECONDS",
    "Metrics",
    "closing_net_pnl",
    "compute_metrics",
    "interval_seconds",
    "period_returns",
]

YEAR_SECONDS = 365 * 86_400
"""Seconds in the 365-day year used for annualization (crypto markets never close)."""

_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86_400.0}
_UNIT_SECONDS["w"] = 7 * _UNIT_SECONDS["d"]
_INTERVAL_PART = re.compile(r"(\d+)(ns|us|ms|s|m|h|d|w)")


@dataclass(frozen=True, slots=True)
class Metrics:
    """The metrics of one backtest; see the module docs for every definition.

    Money fields are in the settlement currency. ``None`` means "not defined for this run" (too little
    data, a zero denominator), never zero.
    """

    start: datetime | None
    """First equity sample (UTC), ``None`` for an empty equity curve."""
    end: datetime | None
    """Last equity sample (UTC)."""
    initial_equity: float
    """Equity at the start, as given to :func:`compute_metrics`."""
    final_equity: float
    """Last equity sample, ``initial_equity`` when the curve is empty."""
    total_pnl: float
    """``final_equity - initial_equity``: net of fees and funding."""
    return_pct: float
    """``total_pnl / initial_equity * 100``."""
    annualized_return: float | None
    """CAGR as a fraction (0.1 = 10 % a year)."""
    sharpe: float | None
    """Annualized Sharpe ratio of the period returns, risk-free rate 0."""
    sortino: float | None
    """Annualized Sortino ratio of the period returns, target 0."""
    calmar: float | None
    """``annualized_return / max_drawdown``."""
    max_drawdown: float
    """Largest drop from a running peak, as a fraction of that peak (0.05 = 5 %)."""
    max_drawdown_abs: float
    """Largest drop from a running peak, in money."""
    return_interval: str
    """Bucket of the period returns (polars duration string, e.g. ``"1m"``)."""
    periods_per_year: float
    """Annualization factor used for Sharpe and Sortino."""
    n_returns: int
    """Number of period returns behind Sharpe and Sortino."""
    trades: int
    """Number of fills."""
    round_trips: int
    """Number of closed round trips, summed over strategies and instruments."""
    closing_fills: int
    """Fills with ``realized_pnl != 0``."""
    win_rate: float | None
    """Fraction of closing fills with a positive net PnL."""
    profit_factor: float | None
    """Gross net-PnL of winning closing fills over that of losing ones."""
    maker_ratio: float | None
    """Fraction of fills that were maker fills."""
    orders: int
    """Number of orders submitted (including denied ones)."""
    orders_by_status: dict[str, int]
    """Orders per final status, most frequent first."""
    denied_by_reason: dict[str, int]
    """Denied orders per reason (``"unknown"`` for a null reason), most frequent first."""
    fill_ratio: float | None
    """Orders with ``filled > 0`` / orders not denied."""
    turnover: float
    """Sum of fill notionals."""
    turnover_ratio: float
    """``turnover / initial_equity``."""
    fees: float
    """Sum of fill fees; negative when rebates exceed fees paid."""
    funding: float
    """Cumulative funding at the last equity sample; positive = received."""
    events: int
    """Market events processed by the engine."""
    wall_seconds: float
    """Wall-clock duration of the run."""
    events_per_s: float | None
    """``events / wall_seconds``."""

    def as_dict(self) -> dict[str, Any]:
        """Return the fields as plain, JSON-serializable values.

        Timestamps become ISO 8601 strings; the dicts are copies.

        Returns
        -------
        dict
            Field name to value, in declaration order.

        Examples
        --------
        >>> from ferrotrade.research.schema import empty
        >>> m = compute_metrics(empty("equity"), empty("fills"), empty("orders"),
        ...                     initial_equity=1000.0, events=10, wall_seconds=2.0)
        >>> d = m.as_dict()
        >>> d["total_pnl"], d["events_per_s"], d["start"]
        (0.0, 5.0, None)
        """
        out = dataclasses.asdict(self)
        for key in ("start", "end"):
            value = out[key]
            if isinstance(value, datetime):
                out[key] = value.isoformat()
        return out


def interval_seconds(interval: str) -> float:
    """Return the length of a fixed polars duration string in seconds.

    Only fixed-length units are accepted (``ns``, ``us``, ``ms``, ``s``, ``m``, ``h``, ``d``, ``w``):
    months, quarters and years have no single length, so they cannot define ``periods_per_year``.

    Parameters
    ----------
    interval
        For example ``"1m"``, ``"15s"``, ``"1h30m"``.

    Returns
    -------
    float
        Seconds, > 0.

    Raises
    ------
    ValueError
        The string is not a sum of fixed-unit parts, or is zero.

    Examples
    --------
    >>> interval_seconds("250ms")
    0.25
    >>> interval_seconds("1mo")
    Traceback (most recent call last):
    ...
    ValueError: return_interval '1mo' is not a fixed duration like '1m', '15s' or '1h30m'
    """
    parts = _INTERVAL_PART.findall(interval)
    total = sum(int(count) * _UNIT_SECONDS[unit] for count, unit in parts)
    if "".join(count + unit for count, unit in parts) != interval or total <= 0:
        raise ValueError(f"return_interval {interval!r} is not a fixed duration like '1m', '15s' or '1h30m'")
    return total


def period_returns(equity: pl.DataFrame, interval: str) -> npt.NDArray[np.float64]:
    """Return the simple returns of the equity curve resampled to ``interval`` buckets.

    Parameters
    ----------
    equity
        A frame with ``ts`` (Datetime) and ``equity`` (Float64) columns.
    interval
        Bucket length, a fixed polars duration string (see :func:`interval_seconds`).

    Returns
    -------
    numpy.ndarray
        ``E(b_k) / E(b_{k-1}) - 1`` for consecutive bucket boundaries; empty for fewer than two
        boundaries. Non-finite returns (an equity of 0) are dropped.

    Examples
    --------
    >>> from datetime import datetime
    >>> import polars as pl
    >>> curve = pl.DataFrame({"ts": [datetime(2024, 1, 1, 0, 0), datetime(2024, 1, 1, 0, 2)],
    ...                       "equity": [100.0, 125.0]})
    >>> period_returns(curve, "1m").tolist()
    [0.0, 0.25]
    """
    interval_seconds(interval)
    if equity.height == 0:
        return np.empty(0, dtype=np.float64)
    closes = (
        equity.select("ts", "equity")
        .sort("ts", maintain_order=True)
        .group_by_dynamic("ts", every=interval, closed="right", label="right")
        .agg(pl.col("equity").last())
        .upsample("ts", every=interval)
        .select(pl.col("equity").forward_fill())
        .to_series()
        .to_numpy()
        .astype(np.float64)
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        returns = closes[1:] / closes[:-1] - 1.0
    return np.asarray(returns[np.isfinite(returns)], dtype=np.float64)


def _sharpe(returns: npt.NDArray[np.float64], periods_per_year: float) -> float | None:
    if returns.size < 2:
        return None
    mean = float(returns.mean())
    std = float(returns.std(ddof=1))
    # Returns that are all equal up to rounding have no meaningful volatility.
    if std == 0.0 or std <= 1e-12 * abs(mean):
        return None
    return mean / std * math.sqrt(periods_per_year)


def _sortino(returns: npt.NDArray[np.float64], periods_per_year: float) -> float | None:
    if returns.size < 2:
        return None
    downside = math.sqrt(float(np.mean(np.minimum(returns, 0.0) ** 2)))
    if downside == 0.0:
        return None
    return float(returns.mean()) / downside * math.sqrt(periods_per_year)


def _drawdown(equity: pl.DataFrame, initial_equity: float) -> tuple[float, float]:
    if equity.height == 0:
        return 0.0, 0.0
    values = equity["equity"].to_numpy().astype(np.float64)
    peak = np.maximum.accumulate(np.maximum(values, initial_equity))
    drop = peak - values
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where(peak > 0, drop / peak, 0.0)
    return float(frac.max()), float(drop.max())


def _annualized_return(equity: pl.DataFrame, initial_equity: float, final_equity: float) -> float | None:
    if equity.height < 2:
        return None
    epoch_ns = equity["ts"].dt.epoch("ns")
    years = (int(epoch_ns.max()) - int(epoch_ns.min())) / 1e9 / YEAR_SECONDS  # type: ignore[arg-type]
    if years <= 0:
        return None
    growth = final_equity / initial_equity
    if growth <= 0:
        return -1.0
    exponent = math.log(growth) / years
    # exp overflows a float past ~709; a run that short says nothing about a year anyway.
    if exponent > 700:
        return None
    return math.expm1(exponent)


def closing_net_pnl(fills: pl.DataFrame) -> pl.Series:
    """Return the net PnL (``realized_pnl - fee``) of each closing fill (``realized_pnl != 0``).

    Parameters
    ----------
    fills
        The ``fills`` frame.

    Returns
    -------
    polars.Series
        One Float64 value per closing fill, in fill order, named ``net_pnl``.

    Examples
    --------
    >>> import polars as pl
    >>> fills = pl.DataFrame({"realized_pnl": [0.0, 2.0, -1.0], "fee": [0.1, 0.2, -0.1]})
    >>> closing_net_pnl(fills).to_list()
    [1.8, -0.9]
    """
    return (
        fills.filter(pl.col("realized_pnl") != 0.0)
        .select((pl.col("realized_pnl") - pl.col("fee")).alias("net_pnl"))
        .to_series()
    )


def _timestamp(ts: pl.Series, index: int) -> datetime | None:
    value = ts[index] if ts.len() else None
    return value if isinstance(value, datetime) else None


def _round_trips(fills: pl.DataFrame) -> int:
    if fills.height == 0:
        return 0
    prev = pl.col("position").shift(1, fill_value=0.0).over("strategy", "instrument")
    position = pl.col("position")
    ended = (prev != 0.0) & ((position == 0.0) | (position.sign() != prev.sign()))
    return int(fills.sort("ts_event", maintain_order=True).select(ended.sum()).item())


def _counts(frame: pl.DataFrame, column: str) -> dict[str, int]:
    if frame.height == 0:
        return {}
    counted = (
        frame.select(pl.col(column).fill_null("unknown"))
        .group_by(column)
        .len()
        .sort(["len", column], descending=[True, False])
    )
    return {str(key): int(n) for key, n in counted.iter_rows()}


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def compute_metrics(
    equity: pl.DataFrame,
    fills: pl.DataFrame,
    orders: pl.DataFrame,
    *,
    initial_equity: float,
    events: int,
    wall_seconds: float,
    periods_per_year: float | None = None,
    return_interval: str = "1m",
) -> Metrics:
    """Compute the metrics of one backtest.

    Parameters
    ----------
    equity, fills, orders
        The engine's result frames (schemas in :mod:`ferrotrade.research.schema`); ``equity`` and ``fills``
        in time order.
    initial_equity
        Account equity at the start, > 0.
    events
        Market events the engine processed.
    wall_seconds
        Wall-clock duration of the run; ``events_per_s`` is ``None`` when it is not > 0.
    periods_per_year
        Annualization factor for Sharpe and Sortino; default ``365 days / return_interval``.
    return_interval
        Bucket of the period returns, a fixed polars duration string (``"1m"``, ``"1h"``, ``"1d"``).

    Returns
    -------
    Metrics
        Every definition is in the module docs.

    Raises
    ------
    ValueError
        A frame does not match its schema, ``initial_equity`` is not > 0, or ``return_interval`` is not a
        fixed duration.

    Examples
    --------
    Equity sampled every minute, one winning and one losing closing fill:

    >>> from datetime import datetime
    >>> import polars as pl
    >>> from ferrotrade.research.schema import EQUITY_SCHEMA, FILLS_SCHEMA, empty
    >>> ts = [datetime(2024, 1, 1, 0, m) for m in range(4)]
    >>> equity = pl.DataFrame({"ts": ts, "equity": [100.0, 110.0, 99.0, 108.9], "realized_pnl": 0.0,
    ...     "unrealized_pnl": 0.0, "fees": 0.0, "funding": 0.0}, schema=EQUITY_SCHEMA)
    >>> fills = pl.DataFrame({"ts_event": ts[:3], "ts_recv": ts[:3], "strategy": "mm",
    ...     "instrument": "binance-usdm.BTCUSDT", "client_id": [1, 2, 3], "trade_id": [7, 8, 9],
    ...     "side": ["buy", "sell", "buy"], "price": 100.0, "quantity": 1.0, "notional": 100.0,
    ...     "fee": 0.5, "liquidity": "maker", "realized_pnl": [0.0, 3.0, -1.0],
    ...     "position": [1.0, 0.0, 1.0]}, schema=FILLS_SCHEMA)
    >>> m = compute_metrics(equity, fills, empty("orders"), initial_equity=100.0, events=1_000,
    ...                     wall_seconds=0.5)
    >>> round(m.total_pnl, 6), round(m.max_drawdown, 6), m.win_rate, m.profit_factor, m.round_trips
    (8.9, 0.1, 0.5, 1.6666666666666667, 1)
    """
    for name, frame in (("equity", equity), ("fills", fills), ("orders", orders)):
        check_frame(name, frame)
    if not initial_equity > 0:
        raise ValueError(f"initial_equity must be > 0, got {initial_equity}")
    ppy = YEAR_SECONDS / interval_seconds(return_interval) if periods_per_year is None else periods_per_year

    returns = period_returns(equity, return_interval)
    final_equity = float(equity["equity"][-1]) if equity.height else initial_equity
    total_pnl = final_equity - initial_equity
    max_dd, max_dd_abs = _drawdown(equity, initial_equity)
    annualized = _annualized_return(equity, initial_equity, final_equity)

    net = closing_net_pnl(fills)
    gains = float(net.filter(net > 0).sum())
    losses = -float(net.filter(net < 0).sum())
    reached_venue = orders.filter(pl.col("status") != "denied")
    turnover = float(fills["notional"].abs().sum())

    return Metrics(
        start=_timestamp(equity["ts"], 0),
        end=_timestamp(equity["ts"], -1),
        initial_equity=initial_equity,
        final_equity=final_equity,
        total_pnl=total_pnl,
        return_pct=total_pnl / initial_equity * 100.0,
        annualized_return=annualized,
        sharpe=_sharpe(returns, ppy),
        sortino=_sortino(returns, ppy),
        calmar=annualized / max_dd if annualized is not None and max_dd > 0 else None,
        max_drawdown=max_dd,
        max_drawdown_abs=max_dd_abs,
        return_interval=return_interval,
        periods_per_year=ppy,
        n_returns=int(returns.size),
        trades=fills.height,
        round_trips=_round_trips(fills),
        closing_fills=net.len(),
        win_rate=_ratio(int((net > 0).sum()), net.len()),
        profit_factor=gains / losses if losses > 0 else None,
        maker_ratio=_ratio(int((fills["liquidity"] == "maker").sum()), fills.height),
        orders=orders.height,
        orders_by_status=_counts(orders, "status"),
        denied_by_reason=_counts(orders.filter(pl.col("status") == "denied"), "reason"),
        fill_ratio=_ratio(int((reached_venue["filled"] > 0).sum()), reached_venue.height),
        turnover=turnover,
        turnover_ratio=turnover / initial_equity,
        fees=float(fills["fee"].sum()),
        funding=float(equity["funding"][-1]) if equity.height else 0.0,
        events=events,
        wall_seconds=wall_seconds,
        events_per_s=events / wall_seconds if wall_seconds > 0 else None,
    )
