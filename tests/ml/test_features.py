"""`ft.features.compute` over the bundled real catalog: shapes, warm-up, errors that name the problem, and
agreement with independent polars implementations of the textbook formulas."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

import ferrotrade as ft
from ferrotrade.exceptions import ConfigError

CATALOG = Path(__file__).parents[1] / "data" / "catalog"
SPOT = "binance-spot.BTCUSDT"
USDM = "binance-usdm.BTCUSDT"


def test_bar_features_match_polars_references() -> None:
    frame = ft.features.compute(CATALOG, SPOT, ["return_4", "sma_24", "realized_vol_24"], progress=False)
    assert frame.height == 1416  # two months of hourly bars
    assert frame.schema["ts"] == pl.Datetime("ns", "UTC")
    price = frame["price"]
    want_return = (price / price.shift(4)).log()
    want_sma = price / price.rolling_mean(24) - 1
    log_returns = (price / price.shift(1)).log()
    want_vol = (log_returns**2).rolling_sum(24).sqrt()
    for column, want in (("return_4", want_return), ("sma_24", want_sma), ("realized_vol_24", want_vol)):
        got = frame[column].to_numpy()
        expected = want.to_numpy()
        defined = ~np.isnan(expected)
        assert np.array_equal(np.isnan(got), ~defined), column
        np.testing.assert_allclose(got[defined], expected[defined], rtol=1e-9, atol=1e-12, err_msg=column)


def test_book_clock_features_on_real_usdm_depth() -> None:
    names = ["book_imbalance_5", "microprice_bps", "spread_bps", "trade_imbalance_20", "rsi_14"]
    frame = ft.features.compute(CATALOG, USDM, names, clock="book", progress=False)
    assert frame.height > 5_000
    imbalance = frame["book_imbalance_5"].drop_nans()
    assert imbalance.min() >= -1
    assert imbalance.max() <= 1
    assert frame["spread_bps"].drop_nans().min() > 0  # type: ignore[operator]
    # The microprice lies within the spread: |offset from mid| <= half the spread.
    inside = (frame["microprice_bps"].abs() <= frame["spread_bps"] / 2 + 1e-9).drop_nulls()
    assert inside.all()


def test_interval_clock_samples_every_second() -> None:
    frame = ft.features.compute(CATALOG, USDM, ["return_1"], clock=1000, progress=False)
    gaps = frame["ts"].diff().drop_nulls().unique().to_list()
    assert len(gaps) == 1
    assert gaps[0].total_seconds() == 1.0
    assert 300 < frame.height < 400  # about six minutes


@pytest.mark.parametrize(
    ("features", "clock", "message"),
    [
        (["rsx_14"], "bars", "unknown feature"),
        (["sma_0"], "bars", "outside 1"),
        (["book_imbalance_5"], "bars", "needs the order book"),
        (["rsi_14", "rsi_14"], "bars", "twice"),
        (["rsi_14"], "weekly", "unknown clock"),
    ],
)
def test_bad_feature_sets_are_refused_with_the_reason(features: list[str], clock: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        ft.features.compute(CATALOG, SPOT, features, clock=clock, progress=False)


def test_a_clock_without_its_data_is_refused() -> None:
    with pytest.raises(ConfigError, match="no bars data"):
        ft.features.compute(CATALOG, USDM, ["rsi_14"], clock="bars", progress=False)
