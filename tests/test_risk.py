"""`ferrotrade.research.risk`: VaR and CVaR three ways, the trade bootstrap and PnL correlation, checked
against closed forms, hand-computed cases and the real market-maker run on the bundled L2 data."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path
from statistics import NormalDist

import numpy as np
import polars as pl
import pytest

import ferrotrade as ft
from ferrotrade.backtest.result import price_series
from ferrotrade.research.metrics import period_returns
from ferrotrade.research.risk import bootstrap_trades, pnl_by_pair, pnl_correlation, value_at_risk

ROOT = Path(__file__).parent.parent
CATALOG = ROOT / "tests" / "data" / "catalog"


def methods(table: pl.DataFrame, confidence: float) -> dict[str, tuple[float, float]]:
    part = table.filter(pl.col("confidence") == confidence)
    return {m: (v, c) for m, v, c in part.select("method", "var", "cvar").iter_rows()}


def test_historical_var_is_the_empirical_quantile_and_cvar_the_tail_mean() -> None:
    returns = np.arange(-50, 50) / 1000.0  # -5.0 % ... +4.9 %, 100 returns
    table = methods(value_at_risk(returns, confidence=0.95, equity=2_000.0), 0.95)
    var, cvar = table["historical"]
    assert var == pytest.approx(-float(np.quantile(returns, 0.05)))
    assert cvar == pytest.approx(-returns[returns <= -var].mean())
    assert cvar > var
    money = value_at_risk(returns, confidence=0.95, equity=2_000.0).row(0, named=True)
    assert money["var_money"] == pytest.approx(var * 2_000.0)


def test_parametric_var_is_the_normal_closed_form() -> None:
    returns = np.random.default_rng(1).normal(0.001, 0.02, 5_000)
    mu, sigma = returns.mean(), returns.std(ddof=1)
    var, cvar = methods(value_at_risk(returns, confidence=0.99), 0.99)["parametric"]
    z = NormalDist().inv_cdf(0.01)
    assert var == pytest.approx(-(mu + sigma * z))
    assert cvar == pytest.approx(-(mu - sigma * NormalDist().pdf(z) / 0.01))


def test_monte_carlo_var_is_seeded_and_sees_fat_tails() -> None:
    rng = np.random.default_rng(2)
    fat = rng.standard_t(3, 20_000) * 0.01
    a = value_at_risk(fat, confidence=0.99, seed=9)
    assert a.equals(value_at_risk(fat, confidence=0.99, seed=9))
    assert not a.equals(value_at_risk(fat, confidence=0.99, seed=10))
    table = methods(a, 0.99)
    # A normal underestimates a Student-t(3) 99 % tail; the fitted-t simulation does not.
    assert table["monte_carlo"][0] > table["parametric"][0]
    assert table["monte_carlo"][1] > table["parametric"][1]
    assert table["monte_carlo"][0] == pytest.approx(table["historical"][0], rel=0.15)


def test_too_few_returns_give_no_estimate_and_bad_confidence_is_refused() -> None:
    assert value_at_risk([0.01]).is_empty()
    with pytest.raises(ValueError, match="confidence must be in"):
        value_at_risk([0.01, 0.02], confidence=1.0)


def fills_of(pnls: list[float]) -> pl.DataFrame:
    return pl.DataFrame({"realized_pnl": pnls, "fee": [0.0] * len(pnls)})


def test_bootstrap_paths_are_seeded_and_measure_final_pnl_and_drawdown() -> None:
    fills = fills_of([0.0, 3.0, -2.0, 1.0, -1.0, 2.0])  # the opening fill (0) is not a trade
    paths = bootstrap_trades(fills, paths=4_000, seed=3)
    assert paths.equals(bootstrap_trades(fills, paths=4_000, seed=3))
    # Five trades with mean 0.6: the mean final PnL is 5 x 0.6.
    assert paths["final_pnl"].mean() == pytest.approx(3.0, abs=0.15)
    assert paths["max_drawdown"].min() >= 0.0
    assert paths["max_drawdown"].max() <= 10.0, "at most every trade a loss of 2"
    winners = bootstrap_trades(fills_of([1.0, 2.0, 0.5]), paths=50, seed=1)
    assert (winners["max_drawdown"] == 0.0).all(), "only winning trades never draw down"
    assert bootstrap_trades(fills_of([0.0, 0.0]), paths=10).is_empty()


def test_pnl_correlation_of_a_long_and_a_short_is_minus_one() -> None:
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    ts = [t0 + timedelta(minutes=m) for m in range(30)]
    prices = pl.DataFrame({"ts": ts, "instrument": "x.A", "price": [100 + math.sin(m) for m in range(30)]})
    fills = pl.DataFrame(
        {
            "ts_event": [t0, t0, t0],
            "strategy": ["long", "short", "long_too"],
            "instrument": "x.A",
            "side": ["buy", "sell", "buy"],
            "price": 100.0,
            "quantity": [1.0, 1.0, 3.0],
            "fee": 0.0,
            "position": [1.0, -1.0, 3.0],
        }
    )
    pairs, instruments = pnl_correlation(fills, prices)
    matrix = {row[0]: row[1:] for row in pairs.iter_rows()}
    assert matrix["long x.A"] == pytest.approx((1.0, -1.0, 1.0))
    assert instruments["x.A"].to_list() == [pytest.approx(1.0)]
    pnl = pnl_by_pair(fills, prices)
    assert pnl["long_too x.A"][-1] == pytest.approx(3 * (prices["price"][-1] - 100.0))


def test_risk_figures_of_the_real_market_maker_run() -> None:
    result = ft.backtest.run(ROOT / "examples" / "backtest_mm.toml", catalog=CATALOG)
    returns = period_returns(result.equity, "10s")
    table = value_at_risk(returns, equity=result.metrics.final_equity)
    assert table.height == 6
    assert (table["cvar"] >= table["var"] - 1e-12).all()
    paths = bootstrap_trades(result.fills, paths=500)
    closing = result.fills.filter(pl.col("realized_pnl") != 0.0)
    assert paths.height == 500
    # Every path has as many trades as the run: its mean final PnL is the run's closing-trade PnL.
    assert paths["final_pnl"].mean() == pytest.approx(
        (closing["realized_pnl"] - closing["fee"]).sum(), rel=0.2
    )
    assert result.catalog is not None
    prices = price_series(
        result.catalog, result.instruments, int(result.stats["first_ts"]), int(result.stats["last_ts"])
    )
    assert prices is not None
    pairs, _ = pnl_correlation(result.fills, prices, interval="10s")
    assert pairs["name"].to_list() == ["mm binance-usdm.BTCUSDT"]
    assert pairs.row(0)[1] == pytest.approx(1.0)
