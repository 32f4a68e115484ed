"""Tests of ferrotrade.research.metrics: every metric against numbers computed by hand."""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
import pytest

from ferrotrade.research import compute_metrics, empty
from ferrotrade.research.metrics import YEAR_SECONDS, interval_seconds, period_returns
from ferrotrade.research.schema import EQUITY_SCHEMA, FILLS_SCHEMA, ORDERS_SCHEMA, check_frame

T0 = datetime(2024, 3, 1, tzinfo=UTC)
BTC = "binance-usdm.BTCUSDT"
ETH = "binance-usdm.ETHUSDT"


def equity_frame(points: Sequence[tuple[timedelta, float]], funding: float = 0.0) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "ts": [T0 + dt for dt, _ in points],
            "equity": [value for _, value in points],
            "realized_pnl": 0.0,
            "unrealized_pnl": 0.0,
            "fees": 0.0,
            "funding": funding,
        },
        schema=EQUITY_SCHEMA,
    )


def minutes(*values: float) -> pl.DataFrame:
    return equity_frame([(timedelta(minutes=i), v) for i, v in enumerate(values)])


def fill_frame(rows: Sequence[dict[str, Any]]) -> pl.DataFrame:
    defaults: dict[str, Any] = {
        "strategy": "mm",
        "instrument": BTC,
        "side": "buy",
        "price": 100.0,
        "quantity": 1.0,
        "notional": 100.0,
        "fee": 0.0,
        "liquidity": "maker",
        "realized_pnl": 0.0,
        "position": 0.0,
    }
    full = []
    for i, row in enumerate(rows):
        ts = T0 + timedelta(seconds=i)
        full.append({**defaults, "ts_event": ts, "ts_recv": ts, "client_id": i, "trade_id": i, **row})
    return pl.DataFrame(full, schema=FILLS_SCHEMA)


def order_frame(rows: Sequence[tuple[str, float, str | None]]) -> pl.DataFrame:
    """(status, filled, reason) per order."""
    return pl.DataFrame(
        [
            {
                "client_id": i,
                "strategy": "mm",
                "instrument": BTC,
                "side": "buy",
                "order_type": "limit",
                "time_in_force": "gtc",
                "price": 100.0,
                "quantity": 1.0,
                "filled": filled,
                "avg_fill_price": 100.0 if filled else None,
                "status": status,
                "reason": reason,
                "ts_init": T0,
                "ts_last": T0,
            }
            for i, (status, filled, reason) in enumerate(rows)
        ],
        schema=ORDERS_SCHEMA,
    )


def metrics_of(equity: pl.DataFrame, fills: pl.DataFrame | None = None, **kwargs: Any) -> Any:
    kwargs.setdefault("initial_equity", 100.0)
    kwargs.setdefault("events", 0)
    kwargs.setdefault("wall_seconds", 1.0)
    orders = kwargs.pop("orders", empty("orders"))
    return compute_metrics(equity, empty("fills") if fills is None else fills, orders, **kwargs)


def test_sharpe_sortino_and_drawdown_of_a_known_curve() -> None:
    m = metrics_of(minutes(100.0, 102.0, 101.0, 104.0, 103.0))
    returns = [2 / 100, -1 / 102, 3 / 101, -1 / 104]
    ann = math.sqrt(365 * 24 * 60)
    assert m.n_returns == 4
    assert m.periods_per_year == 525_600
    assert m.sharpe == pytest.approx(statistics.mean(returns) / statistics.stdev(returns) * ann)
    downside = math.sqrt(((1 / 102) ** 2 + (1 / 104) ** 2) / 4)
    assert m.sortino == pytest.approx(statistics.mean(returns) / downside * ann)
    # Peaks 102 then 104: the deeper relative drop is 1/102.
    assert m.max_drawdown == pytest.approx(1 / 102)
    assert m.max_drawdown_abs == pytest.approx(1.0)
    assert m.total_pnl == pytest.approx(3.0)
    assert m.return_pct == pytest.approx(3.0)
    assert m.start == T0
    assert m.end == T0 + timedelta(minutes=4)


def test_quiet_buckets_repeat_the_last_equity() -> None:
    equity = equity_frame(
        [(timedelta(0), 100.0), (timedelta(seconds=30), 110.0), (timedelta(minutes=3), 99.0)]
    )
    # Boundaries 0, 1m, 2m, 3m hold 100, 110, 110, 99.
    assert period_returns(equity, "1m").tolist() == pytest.approx([0.1, 0.0, 99 / 110 - 1])
    assert metrics_of(equity).n_returns == 3
    # One 5-minute bucket ending at 5m: a single boundary after 0, so one return and no Sharpe.
    m = metrics_of(equity, return_interval="5m")
    assert m.n_returns == 1
    assert m.sharpe is None
    assert m.sortino is None


def test_periods_per_year_default_and_override() -> None:
    curve = minutes(100.0, 101.0, 100.0)
    assert metrics_of(curve, return_interval="1h").periods_per_year == 8760
    assert metrics_of(curve, return_interval="1d").periods_per_year == 365
    raw = metrics_of(curve, periods_per_year=1.0)
    returns = [0.01, 100 / 101 - 1]
    assert raw.sharpe == pytest.approx(statistics.mean(returns) / statistics.stdev(returns))
    assert interval_seconds("1h30m") == 5400
    assert interval_seconds("2w") == 14 * 86_400


@pytest.mark.parametrize("interval", ["1mo", "1y", "0s", "m", "1x", "1m "])
def test_calendar_or_malformed_intervals_are_refused(interval: str) -> None:
    with pytest.raises(ValueError, match="fixed duration"):
        metrics_of(minutes(100.0, 101.0), return_interval=interval)


def test_calmar_over_one_year() -> None:
    year = timedelta(seconds=YEAR_SECONDS)
    equity = equity_frame([(timedelta(0), 100.0), (year / 2, 80.0), (year, 120.0)])
    m = metrics_of(equity, return_interval="1d")
    assert m.annualized_return == pytest.approx(0.2)
    assert m.max_drawdown == pytest.approx(0.2)
    assert m.calmar == pytest.approx(1.0)


def test_annualized_return_compounds_and_handles_ruin() -> None:
    half_year = timedelta(seconds=YEAR_SECONDS / 2)
    m = metrics_of(equity_frame([(timedelta(0), 100.0), (half_year, 110.0)]), return_interval="1d")
    assert m.annualized_return == pytest.approx(1.1**2 - 1)
    assert m.calmar is None  # never below the running peak
    ruined = metrics_of(equity_frame([(timedelta(0), 100.0), (half_year, -5.0)]), return_interval="1d")
    assert ruined.annualized_return == -1.0
    assert ruined.max_drawdown == pytest.approx(1.05)
    # A 1-minute run at +50 % would annualize past a float: undefined rather than inf.
    assert metrics_of(minutes(100.0, 150.0)).annualized_return is None


def test_drawdown_counts_from_initial_equity() -> None:
    # The curve starts below the capital the run was given: that loss is a drawdown too.
    m = metrics_of(minutes(95.0, 97.0), initial_equity=100.0)
    assert m.max_drawdown == pytest.approx(0.05)
    assert m.max_drawdown_abs == pytest.approx(5.0)
    assert m.total_pnl == pytest.approx(-3.0)


def test_win_rate_and_profit_factor_are_net_of_each_closing_fee() -> None:
    fills = fill_frame(
        [
            {"position": 1.0, "fee": 0.2},  # opening: not a closing fill, its fee is not allocated
            {"side": "sell", "position": 0.0, "realized_pnl": 10.0, "fee": 1.0},  # +9
            {"side": "sell", "position": -1.0, "fee": 0.1},
            {"side": "buy", "position": 0.0, "realized_pnl": -4.0, "fee": 1.0},  # -5
            {"position": 1.0},
            {"side": "sell", "position": 0.0, "realized_pnl": 0.5, "fee": 1.0},  # -0.5: a win before fees
            {"position": 1.0},
            {"side": "sell", "position": 0.0, "realized_pnl": 2.0, "fee": -0.5},  # +2.5 with a rebate
        ]
    )
    m = metrics_of(minutes(100.0), fills)
    assert m.trades == 8
    assert m.closing_fills == 4
    assert m.win_rate == pytest.approx(2 / 4)
    assert m.profit_factor == pytest.approx((9 + 2.5) / (5 + 0.5))
    assert m.fees == pytest.approx(0.2 + 1 + 0.1 + 1 + 1 - 0.5)
    assert m.round_trips == 4


def test_profit_factor_is_undefined_without_a_loss() -> None:
    fills = fill_frame([{"position": 1.0}, {"side": "sell", "realized_pnl": 3.0, "fee": 0.1}])
    m = metrics_of(minutes(100.0), fills)
    assert m.win_rate == 1.0
    assert m.profit_factor is None


def test_round_trips_per_strategy_and_instrument_with_flips() -> None:
    fills = fill_frame(
        [
            {"position": 1.0},
            {"instrument": ETH, "position": 2.0},
            {"side": "sell", "position": 0.0},  # BTC: 1 -> 0 ends one
            {"strategy": "taker", "position": 5.0},
            {"side": "sell", "position": -1.0},  # BTC: 0 -> -1 opens
            {"instrument": ETH, "position": 3.0},  # ETH grows: nothing ends
            {"position": 1.0},  # BTC: -1 -> 1 flips: ends one
            {"strategy": "taker", "side": "sell", "position": -5.0},  # taker flips: ends one
            {"side": "sell", "position": 0.0},  # BTC: 1 -> 0 ends one
        ]
    )
    assert metrics_of(minutes(100.0), fills).round_trips == 4


def test_fill_ratio_counts_only_orders_that_reached_the_venue() -> None:
    orders = order_frame(
        [
            ("filled", 1.0, None),
            ("partially_filled", 0.4, None),
            ("canceled", 0.3, None),  # partly filled, then canceled: counts as filled
            ("canceled", 0.0, None),
            ("rejected", 0.0, "post_only_would_take"),
            ("denied", 0.0, "max_position"),
            ("denied", 0.0, "max_position"),
            ("denied", 0.0, None),
            ("expired", 0.0, None),
        ]
    )
    m = metrics_of(minutes(100.0), orders=orders)
    assert m.orders == 9
    assert m.fill_ratio == pytest.approx(3 / 6)
    assert m.denied_by_reason == {"max_position": 2, "unknown": 1}
    by_status = ["denied", "canceled", "expired", "filled", "partially_filled", "rejected"]
    assert list(m.orders_by_status) == by_status
    assert m.orders_by_status["denied"] == 3


def test_turnover_maker_ratio_funding_and_throughput() -> None:
    fills = fill_frame(
        [
            {"notional": 250.0, "liquidity": "taker", "position": 1.0},
            {"notional": 750.0, "side": "sell", "realized_pnl": 1.0},
            {"notional": 1000.0, "position": 1.0},
        ]
    )
    equity = equity_frame([(timedelta(0), 100.0), (timedelta(hours=8), 99.0)], funding=-1.5)
    m = metrics_of(equity, fills, initial_equity=1000.0, events=5_000_000, wall_seconds=2.5)
    assert m.turnover == 2000.0
    assert m.turnover_ratio == 2.0
    assert m.maker_ratio == pytest.approx(2 / 3)
    assert m.funding == -1.5
    assert m.events_per_s == 2_000_000
    assert metrics_of(equity, wall_seconds=0.0).events_per_s is None


def test_no_fills_no_orders() -> None:
    m = metrics_of(minutes(100.0, 101.0, 100.5))
    assert (m.trades, m.round_trips, m.closing_fills, m.orders) == (0, 0, 0, 0)
    assert m.win_rate is None
    assert m.profit_factor is None
    assert m.maker_ratio is None
    assert m.fill_ratio is None
    assert m.fees == 0.0
    assert m.turnover == 0.0
    assert m.orders_by_status == {}
    assert m.denied_by_reason == {}


def test_flat_equity_has_no_ratios() -> None:
    m = metrics_of(minutes(100.0, 100.0, 100.0, 100.0))
    assert m.n_returns == 3
    assert m.sharpe is None
    assert m.sortino is None
    assert m.max_drawdown == 0.0
    assert m.calmar is None
    assert m.annualized_return == 0.0


def test_constant_growth_has_no_sharpe_and_no_sortino() -> None:
    m = metrics_of(minutes(100.0, 110.0, 121.0, 133.1))
    assert m.sharpe is None  # equal returns up to rounding: no volatility
    assert m.sortino is None  # no losing period


def test_single_row_and_empty_equity() -> None:
    one = metrics_of(minutes(104.0))
    assert one.n_returns == 0
    assert one.sharpe is None
    assert one.annualized_return is None
    assert one.total_pnl == pytest.approx(4.0)
    assert one.start == one.end == T0
    none = metrics_of(empty("equity"))
    assert none.final_equity == 100.0
    assert none.total_pnl == 0.0
    assert none.start is None
    assert none.max_drawdown == 0.0


def test_as_dict_is_json_serializable() -> None:
    orders = order_frame([("denied", 0.0, "max_position")])
    d = metrics_of(minutes(100.0, 99.0), orders=orders).as_dict()
    assert d["start"] == "2024-03-01T00:00:00+00:00"
    assert d["denied_by_reason"] == {"max_position": 1}
    assert json.loads(json.dumps(d)) == d


def test_frames_that_do_not_match_the_schema_are_refused() -> None:
    bad = minutes(100.0).with_columns(pl.col("ts").dt.cast_time_unit("us"))
    with pytest.raises(ValueError, match=r"equity frame .* ts is Datetime\(time_unit='us'"):
        metrics_of(bad)
    with pytest.raises(ValueError, match=r"fills frame .* missing position"):
        metrics_of(minutes(100.0), empty("fills").drop("position"))
    check_frame("fills", empty("fills").with_columns(extra=pl.lit(1)))  # extra columns are fine


def test_initial_equity_must_be_positive() -> None:
    with pytest.raises(ValueError, match="initial_equity must be > 0"):
        metrics_of(minutes(100.0), initial_equity=0.0)
