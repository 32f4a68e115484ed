"""Execution algorithms from Python: ``ctx.submit_algo`` in a Python strategy, the ``execution`` strategy
of a configuration, the result tables, the quality frame, the CLI and the report, on the bundled real data
(six minutes of Binance USD-M BTCUSDT depth and trades, tests/data/SOURCES.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import polars as pl
import pytest
from typer.testing import CliRunner

import ferrotrade as ft
from ferrotrade._core import Context, Fill
from ferrotrade.cli import app
from ferrotrade.exceptions import AlgoRefusedError, ConfigError
from ferrotrade.research.schema import check_frame

DATA = Path(__file__).parent / "data"
CATALOG = DATA / "catalog"
BTC = "binance-usdm.BTCUSDT"
SECOND = 1_000_000_000


def config(orders: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    table: dict[str, Any] = {
        "backtest": {"catalog": str(CATALOG), "initial_equity": 1_000_000},
        "venue": {"fees": {"maker": 0.0002, "taker": 0.0005}},
    }
    if orders is not None:
        table["strategy"] = [{"kind": "execution", "name": "exec", "orders": orders}]
    return table


class PauseThenCancel(ft.Strategy):
    """A TWAP paused after 40 s, resumed after 100 s and canceled after 200 s; a refused order on the side."""

    subscriptions: ClassVar[dict[str, list[str]]] = {BTC: ["book", "trades"]}

    def __init__(self) -> None:
        self.name = "pausing"
        self.parent: int | None = None
        self.refusal: str | None = None
        self.events: list[dict[str, Any]] = []
        self.times: dict[str, int] = {}
        self.child_fills = 0
        self.views: list[dict[str, Any]] = []

    def on_book(self, ctx: Context, instrument: int) -> None:
        if self.parent is not None or ctx.mid(instrument) is None:
            return
        with pytest.raises(AlgoRefusedError, match="too short for 20 slices") as refused:
            ctx.submit_algo("twap", BTC, "buy", 1.0, duration_s=1, slices=20)
        self.refusal = str(refused.value)
        self.parent = ctx.submit_algo("twap", BTC, "buy", 1.0, duration_s=300, slices=10, child="aggressive")
        for timer, after in ((1, 40), (2, 100), (3, 200)):
            ctx.set_timer(timer, ctx.now + after * SECOND)

    def on_timer(self, ctx: Context, timer: int) -> None:
        assert self.parent is not None
        action = {1: ctx.pause_algo, 2: ctx.resume_algo, 3: ctx.cancel_algo}[timer]
        assert action(self.parent)
        self.times[{1: "paused", 2: "resumed", 3: "canceled"}[timer]] = ctx.now
        view = ctx.algo(self.parent)
        assert view is not None
        self.views.append(view)

    def on_fill(self, ctx: Context, fill: Fill) -> None:
        self.child_fills += 1

    def on_algo(self, ctx: Context, event: dict[str, Any]) -> None:
        self.events.append(event)


def test_a_python_strategy_pauses_resumes_and_cancels_a_parent() -> None:
    strategy = PauseThenCancel()
    result = ft.backtest.run(config(), strategies=[strategy])
    assert strategy.refusal is not None
    assert "`slices`" in strategy.refusal
    check_frame("parents", result.parents)
    check_frame("children", result.children)
    parent = result.parents.row(0, named=True)
    assert parent["status"] == "canceled"
    assert [event["status"] for event in strategy.events] == ["paused", "working", "canceled"]
    assert strategy.views[0]["status"] == "paused"
    sent = result.children["sent_at"].dt.epoch("ns").to_list()
    paused, resumed, canceled = (strategy.times[key] for key in ("paused", "resumed", "canceled"))
    assert any(at < paused for at in sent)
    assert all(at < paused or resumed <= at < canceled for at in sent), "a child was sent while paused"
    # Canceled after 200 s of 300: between 4 and 8 tenths filled, and every child fill reached on_fill.
    assert 0.3 <= parent["filled"] <= 0.8
    assert strategy.child_fills == result.fills.height
    assert result.fills["quantity"].sum() == pytest.approx(parent["filled"])


def test_configured_orders_give_the_quality_frame_the_cli_table_and_the_report(tmp_path: Path) -> None:
    orders = [
        {"algo": "twap", "instrument": BTC, "side": "buy", "quantity": 0.5, "duration_s": 120, "slices": 4},
        {
            "algo": "vwap",
            "instrument": BTC,
            "side": "sell",
            "quantity": 0.3,
            "duration_s": 240,
            "interval_s": 30,
            "profile": "catalog",
            "profile_bucket_minutes": 1,
        },
    ]
    result = ft.backtest.run(config(orders))
    quality = result.execution_quality()
    assert quality["status"].to_list() == ["completed", "completed"]
    assert quality["filled"].to_list() == pytest.approx([0.5, 0.3])
    twap = quality.row(0, named=True)
    # Shortfall against the arrival mid, in bps, with the buy's sign: recomputed here from the parent row.
    parent = result.parents.row(0, named=True)
    expected = (parent["average_price"] - parent["arrival_price"]) / parent["arrival_price"] * 1e4
    assert twap["implementation_shortfall_bps"] == pytest.approx(expected)
    assert 0 < twap["participation"] < 0.01
    assert twap["slippage_vs_vwap_bps"] is not None
    children = result.children.filter(pl.col("parent_id") == 1)
    gaps = children["sent_at"].diff().drop_nulls().dt.total_nanoseconds().to_list()
    assert gaps == pytest.approx([30 * SECOND] * 3, abs=1_000_000)

    report = result.write_report(tmp_path / "report.html")
    html = report.read_text()
    assert "Execution" in html
    assert "twap" in html
    assert "vwap" in html

    toml = tmp_path / "exec.toml"
    toml.write_text(
        f'[backtest]\ncatalog = "{CATALOG}"\ninitial_equity = 1000000\n'
        '[[strategy]]\nkind = "execution"\n[[strategy.orders]]\n'
        f'algo = "iceberg"\ninstrument = "{BTC}"\nside = "sell"\nquantity = 1\n'
        "display = 0.1\nlimit_price = 1000\n"
    )
    outcome = CliRunner().invoke(app, ["backtest", str(toml), "--report", str(tmp_path / "exec.html")])
    assert outcome.exit_code == 0, outcome.output
    assert "execution algorithms" in outcome.output
    assert "iceberg" in outcome.output


def test_an_order_that_cannot_be_executed_stops_the_run_with_its_reason() -> None:
    orders = [{"algo": "iceberg", "instrument": BTC, "side": "buy", "quantity": 1, "display": 0.1}]
    with pytest.raises(
        ft.StrategyError, match=r"orders\[0\] refused: `limit_price`: an iceberg rests at its limit"
    ):
        ft.backtest.run(config(orders))
    unknown = [
        {"algo": "twap", "instrument": BTC, "side": "buy", "quantity": 1, "duration_s": 60, "slice": 3}
    ]
    with pytest.raises(ConfigError, match=r"unknown field `slice`"):
        ft.backtest.run(config(unknown))
