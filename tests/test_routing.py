"""Smart order routing on real data: one buy routed across the Binance spot and USD-M BTCUSDT books of the
same night (the bundled hftbacktest sessions of 2024-08-08, tests/data/SOURCES.md), whose sizes are in
different precisions (0.00001 and 0.001 BTC): the parent counts in the finer one. The hand-built
two-venue case of the ranking itself is a unit test of ``rust/strategy/src/algo/route.rs``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pytest

import ferrotrade as ft

DATA = Path(__file__).parent / "data" / "sessions"
SPOT = "binance-spot.BTCUSDT"
USDM = "binance-usdm.BTCUSDT"


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("routing") / "catalog"
    ft.data.import_captures(
        [DATA / "binance-spot" / "btcusdt_20240808.gz", DATA / "binance-usdm" / "btcusdt_20240808.gz"], path
    )
    return path


def route(
    catalog: Path, fees: dict[str, float], quantity: float = 3.0, risk: dict[str, Any] | None = None
) -> ft.backtest.BacktestResult:
    order: dict[str, Any] = {
        "algo": "route",
        "instrument": USDM,
        "venues": [USDM, SPOT],
        "side": "buy",
        "quantity": quantity,
        "duration_s": 30,
        "taker_fees": fees,
    }
    config = {
        "backtest": {"catalog": str(catalog), "initial_equity": 10_000_000},
        "risk": risk or {},
        "strategy": [{"kind": "execution", "name": "router", "orders": [order]}],
    }
    return ft.backtest.run(config)


def test_a_large_buy_takes_both_books_in_lots_of_each(catalog: Path) -> None:
    # Spot asks about 61824 there, USD-M about 61801 plus its 5 bps fee (61832): both books are worth taking.
    result = route(catalog, {USDM: 0.0005, SPOT: 0.0}, quantity=20.0)
    parent = result.parents.row(0, named=True)
    children = result.children
    assert set(children["instrument"]) == {SPOT, USDM}, children
    assert parent["filled"] == pytest.approx(20.0)
    assert parent["status"] == "completed"
    # Each child is on its venue's lot (spot 0.00001, USD-M 0.001) and says why it went there.
    lots = {SPOT: 1e-5, USDM: 1e-3}
    for row in children.iter_rows(named=True):
        units = row["quantity"] / lots[row["instrument"]]
        assert units == pytest.approx(round(units)), row
        fee = "5.00" if row["instrument"] == USDM else "0.00"
        assert row["note"].startswith(f"{row['instrument']}: ")
        assert f"after its {fee} bps taker fee" in row["note"]
    # What the children filled is what the parent counts, across both precisions.
    filled = result.fills.join(children.select("client_id"), on="client_id")["quantity"].sum()
    assert filled == pytest.approx(20.0)


def test_a_venue_made_expensive_by_its_fee_is_not_used(catalog: Path) -> None:
    result = route(catalog, {USDM: 0.0005, SPOT: 0.01}, quantity=0.5)
    assert result.children["instrument"].unique().to_list() == [USDM]
    cheap_spot = route(catalog, {USDM: 0.01, SPOT: 0.0}, quantity=0.5)
    assert cheap_spot.children.filter(pl.col("instrument") == SPOT).height >= 1
    first = cheap_spot.children.row(0, named=True)
    assert first["instrument"] == SPOT
    assert "0.00 bps" in first["note"]


def test_a_venue_whose_limit_denies_its_child_leaves_the_route(catalog: Path) -> None:
    # Spot is the cheaper venue (no fee), but its position limit is 1 BTC: its child of more is denied,
    # spot leaves the route with the reason, and USD-M takes the rest.
    limits = {"instruments": {SPOT: {"max_position": 1}}}
    result = route(catalog, {USDM: 0.0005, SPOT: 0.0}, quantity=4.0, risk=limits)
    parent = result.parents.row(0, named=True)
    assert parent["status"] == "completed", parent
    assert parent["filled"] == pytest.approx(4.0)
    notes = result.children.filter(pl.col("instrument") == SPOT)["note"].to_list()
    assert any(
        "denied by the risk chain (max_position): the venue leaves the route" in note for note in notes
    )
    spot_filled = result.fills.filter(pl.col("instrument") == SPOT)["quantity"].sum()
    assert spot_filled <= 1.0
    assert result.fills.filter(pl.col("instrument") == USDM)["quantity"].sum() == pytest.approx(
        4.0 - spot_filled
    )
