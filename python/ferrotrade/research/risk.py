"""Risk analytics of a backtest: value at risk, a bootstrap of its trades, and PnL correlation.

Definitions
-----------
* **Returns** are the equity curve's period returns (:func:`~ferrotrade.research.metrics.period_returns`,
  the same as behind Sharpe). **VaR** at confidence ``c`` is the loss, as a positive fraction of equity,
  that one period's return falls below with probability ``1 - c``; **CVaR** (expected shortfall) is the
  mean loss in that tail. Both are reported as fractions and in money at the final equity.
* **Historical**: the empirical ``1 - c`` quantile of the returns (linear interpolation) and the mean of the
  returns at or below it.
* **Parametric** (variance-covariance): a normal with the returns' mean ``mu`` and standard deviation
  ``sigma``: ``VaR = -(mu + sigma * z)``, ``CVaR = -(mu - sigma * phi(z) / (1 - c))``, ``z`` the normal
  ``1 - c`` quantile.
* **Monte Carlo**: ``simulations`` draws from a Student-t fitted to the returns by moments (degrees of
  freedom ``4 + 6 / excess kurtosis``, a normal when the returns are not fat-tailed), scaled to their mean
  and standard deviation; VaR and CVaR are the historical estimators on the draws. Seeded: the same
  returns and seed give the same figures.
* **Trade bootstrap**: the net PnL of the closing fills (``realized_pnl - fee``) is resampled with
  replacement, ``paths`` times, into sequences as long as the original; each path's final PnL and maximum
  drawdown (from its running peak of cumulative PnL, in money, starting at 0) describe how much of the result
  was the order the trades came in.
* **Correlation**: per strategy and instrument, mark-to-market PnL (cash from fills, fees, and the position
  valued at the price series) is sampled on an ``interval`` grid and differenced; the Pearson correlation of
  those increments across the pairs, and of the instruments' price returns. A linear instrument's PnL is
  ``position x price change``; inverse contracts are not valued here.

Examples
--------
>>> import numpy as np
>>> returns = np.array([-0.03, -0.01, 0.0, 0.01, 0.02] * 20)
>>> row = value_at_risk(returns, confidence=0.95, equity=1_000.0, seed=1).row(0, named=True)
>>> row["method"], round(row["var"], 4), round(row["cvar"], 4)
('historical', 0.03, 0.03)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import NormalDist

import numpy as np
import numpy.typing as npt
import polars as pl

from ferrotrade.research.metrics import closing_net_pnl
from ferrotrade.research.schema import TIMESTAMP

__all__ = [
    "BOOTSTRAP_SCHEMA",
    "VAR_SCHEMA",
    "bootstrap_trades",
    "pnl_by_pair",
    "pnl_correlation",
    "value_at_risk",
]

VAR_SCHEMA = pl.Schema(
    {
        "method": pl.String(),
        "confidence": pl.Float64(),
        "var": pl.Float64(),
        "cvar": pl.Float64(),
        "var_money": pl.Float64(),
        "cvar_money": pl.Float64(),
    }
)
"""One row per method and confidence; ``var``/``cvar`` are fractions of equity, ``*_money`` at ``equity``."""

BOOTSTRAP_SCHEMA = pl.Schema({"path": pl.Int64(), "final_pnl": pl.Float64(), "max_drawdown": pl.Float64()})
"""One row per bootstrap path: its final cumulative PnL and its maximum drawdown, in money."""

Floats = npt.NDArray[np.float64]


def _tail(values: Floats, confidence: float) -> tuple[float, float]:
    cutoff = float(np.quantile(values, 1.0 - confidence))
    tail = values[values <= cutoff]
    return -cutoff, -float(tail.mean()) if tail.size else -cutoff


def _student_t_draws(returns: Floats, simulations: int, seed: int) -> Floats:
    mean, std = float(returns.mean()), float(returns.std(ddof=1))
    rng = np.random.default_rng(seed)
    centred = returns - mean
    m2 = float(np.mean(centred**2))
    excess = float(np.mean(centred**4)) / (m2 * m2) - 3.0 if m2 > 0 else 0.0
    if excess <= 0.0:
        return mean + std * rng.standard_normal(simulations)
    df = 4.0 + 6.0 / excess
    # A Student-t with df degrees of freedom has variance df / (df - 2): scale it to unit variance.
    draws = rng.standard_t(df, simulations) * math.sqrt((df - 2.0) / df)
    return np.asarray(mean + std * draws, dtype=np.float64)


def value_at_risk(
    returns: Sequence[float] | Floats,
    *,
    confidence: float | Sequence[float] = (0.95, 0.99),
    equity: float = 1.0,
    simulations: int = 100_000,
    seed: int = 0,
) -> pl.DataFrame:
    """One-period VaR and CVaR of ``returns`` by the historical, parametric and Monte Carlo methods.

    Parameters
    ----------
    returns : array-like
        Period returns (fractions); non-finite values are dropped.
    confidence : float or sequence of float
        Confidence levels in (0, 1).
    equity : float
        Equity the money columns are computed at (the final equity of the run).
    simulations : int
        Monte Carlo draws.
    seed : int
        Seed of the Monte Carlo draws.

    Returns
    -------
    polars.DataFrame
        :data:`VAR_SCHEMA`; empty with fewer than 2 returns (nothing to estimate from).

    Raises
    ------
    ValueError
        A confidence level outside (0, 1).

    Examples
    --------
    For normal returns the three methods agree:

    >>> import numpy as np
    >>> r = np.random.default_rng(3).normal(0.0, 0.01, 200_000)
    >>> table = value_at_risk(r, confidence=0.99, seed=3)
    >>> [round(v, 3) for v in table["var"]]
    [0.023, 0.023, 0.023]
    """
    levels = [confidence] if isinstance(confidence, float | int) else list(confidence)
    for level in levels:
        if not 0.0 < level < 1.0:
            raise ValueError(f"confidence must be in (0, 1), got {level}")
    values = np.asarray(returns, dtype=np.float64)
    values = values[np.isfinite(values)]
    if values.size < 2:
        return pl.DataFrame(schema=VAR_SCHEMA)
    mean, std = float(values.mean()), float(values.std(ddof=1))
    draws = _student_t_draws(values, simulations, seed)
    rows = []
    for level in levels:
        z = NormalDist().inv_cdf(1.0 - level)
        estimates = {
            "historical": _tail(values, level),
            "parametric": (-(mean + std * z), -(mean - std * NormalDist().pdf(z) / (1.0 - level))),
            "monte_carlo": _tail(draws, level),
        }
        for method, (var, cvar) in estimates.items():
            rows.append(
                {
                    "method": method,
                    "confidence": float(level),
                    "var": var,
                    "cvar": cvar,
                    "var_money": var * equity,
                    "cvar_money": cvar * equity,
                }
            )
    return pl.DataFrame(rows, schema=VAR_SCHEMA)


def bootstrap_trades(fills: pl.DataFrame, *, paths: int = 1_000, seed: int = 0) -> pl.DataFrame:
    """Resample the closing fills' net PnL with replacement into ``paths`` trade sequences.

    Parameters
    ----------
    fills : polars.DataFrame
        The ``fills`` frame of a backtest.
    paths : int
        Number of resampled sequences, >= 1.
    seed : int
        Seed of the resampling.

    Returns
    -------
    polars.DataFrame
        :data:`BOOTSTRAP_SCHEMA`; empty when there is no closing fill.

    Examples
    --------
    >>> import polars as pl
    >>> fills = pl.DataFrame({"realized_pnl": [0.0, 2.0, -1.0, 3.0], "fee": [0.0, 0.0, 0.0, 0.0]})
    >>> paths = bootstrap_trades(fills, paths=2_000, seed=1)
    >>> paths.height, round(paths["final_pnl"].mean(), 0), paths["max_drawdown"].min() >= 0
    (2000, 4.0, True)
    """
    if paths < 1:
        raise ValueError(f"paths must be >= 1, got {paths}")
    net = closing_net_pnl(fills).to_numpy().astype(np.float64)
    net = net[np.isfinite(net)]
    if net.size == 0:
        return pl.DataFrame(schema=BOOTSTRAP_SCHEMA)
    rng = np.random.default_rng(seed)
    samples = net[rng.integers(0, net.size, size=(paths, net.size))]
    cumulative = np.cumsum(samples, axis=1)
    peaks = np.maximum.accumulate(np.maximum(cumulative, 0.0), axis=1)
    drawdown = (peaks - cumulative).max(axis=1)
    return pl.DataFrame(
        {"path": np.arange(paths, dtype=np.int64), "final_pnl": cumulative[:, -1], "max_drawdown": drawdown},
        schema=BOOTSTRAP_SCHEMA,
    )


def pnl_by_pair(fills: pl.DataFrame, prices: pl.DataFrame, *, interval: str = "1m") -> pl.DataFrame:
    """Mark-to-market PnL of each strategy and instrument on an ``interval`` grid, one column each.

    Parameters
    ----------
    fills : polars.DataFrame
        The ``fills`` frame.
    prices : polars.DataFrame
        ``ts``, ``instrument``, ``price`` (a mid, last trade or close series of the run).
    interval : str
        Grid step, a polars duration.

    Returns
    -------
    polars.DataFrame
        ``ts`` then one Float64 column per ``"strategy instrument"`` pair; PnL since the start of the run.
    """
    if fills.height == 0 or prices.height == 0:
        return pl.DataFrame({"ts": pl.Series([], dtype=TIMESTAMP)})
    signed = pl.when(pl.col("side") == "buy").then(pl.col("quantity")).otherwise(-pl.col("quantity"))
    flows = (
        fills.sort("ts_event")
        .with_columns(
            (pl.col("strategy") + " " + pl.col("instrument")).alias("pair"),
            (-(signed * pl.col("price")) - pl.col("fee")).alias("cash"),
        )
        .with_columns(pl.col("cash").cum_sum().over("pair").alias("cash"))
        .select(pl.col("ts_event").cast(TIMESTAMP).alias("ts"), "pair", "instrument", "cash", "position")
    )
    grid = (
        prices.with_columns(pl.col("ts").cast(TIMESTAMP))
        .sort("ts")
        .group_by_dynamic("ts", every=interval, group_by="instrument")
        .agg(pl.col("price").last())
    )
    frames = []
    for (pair, instrument), part in flows.group_by("pair", "instrument", maintain_order=True):
        marks = grid.filter(pl.col("instrument") == instrument).select("ts", "price").sort("ts")
        joined = marks.join_asof(part.select("ts", "cash", "position").sort("ts"), on="ts").fill_null(0.0)
        frames.append(
            joined.select("ts", (pl.col("cash") + pl.col("position") * pl.col("price")).alias(str(pair)))
        )
    out = frames[0]
    for frame in frames[1:]:
        out = out.join(frame, on="ts", how="full", coalesce=True)
    return out.sort("ts")


def _correlation(frame: pl.DataFrame) -> pl.DataFrame:
    names = [c for c in frame.columns if c != "ts"]
    matrix = np.full((len(names), len(names)), np.nan)
    for i, a in enumerate(names):
        for j, b in enumerate(names):
            pair = frame.select(pl.col(a).alias("x"), pl.col(b).alias("y")).drop_nulls().drop_nans()
            x = pair["x"].to_numpy().astype(np.float64)
            y = pair["y"].to_numpy().astype(np.float64)
            if x.size >= 2 and x.std() > 0 and y.std() > 0:
                matrix[i, j] = float(np.corrcoef(x, y)[0, 1])
    columns = {name: matrix[:, k] for k, name in enumerate(names)}
    return pl.DataFrame({"name": names, **columns}).fill_nan(None)


def pnl_correlation(
    fills: pl.DataFrame, prices: pl.DataFrame, *, interval: str = "1m"
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Correlation of PnL increments across strategy-instrument pairs, and of price returns.

    Returns
    -------
    tuple of polars.DataFrame
        ``(pairs, instruments)``: each a square matrix, a ``name`` column then one Float64 column per name;
        null where a pair has fewer than two common samples or no variance.

    Examples
    --------
    >>> from datetime import datetime, timedelta, timezone
    >>> import polars as pl
    >>> t0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
    >>> ts = [t0 + timedelta(minutes=m) for m in range(6)]
    >>> prices = pl.DataFrame({"ts": ts, "instrument": "x.A", "price": [10.0, 11, 10, 12, 11, 13]})
    >>> fills = pl.DataFrame({"ts_event": [t0, t0], "strategy": ["long", "short"], "instrument": "x.A",
    ...     "side": ["buy", "sell"], "price": 10.0, "quantity": 1.0, "fee": 0.0, "position": [1.0, -1.0]})
    >>> pairs, _ = pnl_correlation(fills, prices)
    >>> pairs.row(0)
    ('long x.A', 1.0, -1.0)
    """
    pnl = pnl_by_pair(fills, prices, interval=interval)
    increments = pnl.select("ts", *[pl.col(c).diff() for c in pnl.columns if c != "ts"])
    grid = (
        prices.with_columns(pl.col("ts").cast(TIMESTAMP))
        .sort("ts")
        .group_by_dynamic("ts", every=interval, group_by="instrument")
        .agg(pl.col("price").last())
        .pivot(on="instrument", index="ts", values="price")
        .sort("ts")
    )
    returns = grid.select("ts", *[pl.col(c).pct_change() for c in grid.columns if c != "ts"])
    return _correlation(increments), _correlation(returns)
