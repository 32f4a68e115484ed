"""Execution algorithms in the live engine: the same host as in backtests, in replay mode (children are
signed REST orders to the in-process local venue replaying the bundled Binance USD-M capture) and in paper
mode (in-process fills against the live book). Assertions are on counts, states and identities; the
schedules run on wall-clock timers, so no test asserts a duration."""

from __future__ import annotations

import threading
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import pytest

import ferrotrade as ft
from ferrotrade._core import Context, Fill
from ferrotrade.monitor.subscriber import Subscriber
from ferrotrade.monitor.tail import describe
from ferrotrade.v1 import envelope_pb2, orders_pb2

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "live_replay_mm.toml"
CAPTURE = ROOT / "tests" / "data" / "sessions" / "binance-usdm" / "btcusdt_20240808.gz"
BTC = "binance-usdm.BTCUSDT"


def config(run_dir: Path) -> dict[str, Any]:
    """The example replay configuration without its market maker, the journal in ``run_dir``."""
    data = tomllib.loads(EXAMPLE.read_text())
    data["live"]["run_dir"] = str(run_dir)
    data["replay"]["paths"] = [str(CAPTURE)]
    del data["strategy"]
    return data


class OneParent(ft.Strategy):
    """Submits one parent order on the first synced book and records what the algorithms tell it."""

    subscriptions: ClassVar[dict[str, list[str]]] = {BTC: ["book", "trades"]}

    def __init__(self, **order: Any) -> None:
        self.name = "one_parent"
        self.order = order
        self.parent: int | None = None
        self.events: list[dict[str, Any]] = []
        self.fills: list[float] = []
        self.final: dict[str, Any] | None = None

    def on_book(self, ctx: Context, instrument: int) -> None:
        if self.parent is None and ctx.is_synced(instrument) and ctx.mid(instrument) is not None:
            self.parent = ctx.submit_algo(**self.order)

    def on_fill(self, ctx: Context, fill: Fill) -> None:
        self.fills.append(fill.quantity)

    def on_algo(self, ctx: Context, event: dict[str, Any]) -> None:
        self.events.append(event)

    def on_stop(self, ctx: Context) -> None:
        if self.parent is not None:
            self.final = ctx.algo(self.parent)


@pytest.mark.parametrize("mode", ["replay", "paper"])
def test_a_twap_runs_live_through_the_risk_chain_and_the_venue(
    tmp_path: Path, mode: str, read_journal: Callable[[Path], list[dict[str, Any]]]
) -> None:
    strategy = OneParent(
        algo="twap", instrument=BTC, side="buy", quantity=0.008, duration_s=1.2, slices=4, child="market"
    )
    report = ft.live.run(config(tmp_path), [strategy], mode=mode, stop_after=4)

    assert strategy.final is not None, "the parent was never submitted"
    assert strategy.final["status"] == "completed", strategy.final
    assert [event["status"] for event in strategy.events] == ["completed"]
    assert strategy.final["children"] == 4
    assert sum(strategy.fills) == pytest.approx(0.008)
    # Every child is an ordinary journaled order of the strategy, and the venue's position agrees.
    assert sum(record["t"] == "order" for record in read_journal(tmp_path)) == 4
    position = next(row["quantity"] for row in report.positions if row["instrument"] == BTC)
    assert position * 0.001 == pytest.approx(0.008)


def test_a_risk_denial_fails_the_parent_with_its_reason(tmp_path: Path) -> None:
    # The example's [risk] max_position is 0.05: the second half of 0.1 is denied.
    strategy = OneParent(algo="twap", instrument=BTC, side="buy", quantity=0.1, duration_s=0.4, slices=2)
    ft.live.run(config(tmp_path), [strategy], mode="paper", stop_after=3)

    assert strategy.final is not None
    assert strategy.final["status"] == "failed"
    assert "max_position" in (strategy.final["reason"] or "")
    assert strategy.events[-1]["status"] == "failed"
    assert sum(strategy.fills) == pytest.approx(0.05)


def test_parents_are_published_on_the_bus(tmp_path: Path, free_port: Callable[[], int]) -> None:
    port = free_port()
    data = config(tmp_path)
    # Publishing only: no command socket and no HTTP, so no control token is needed.
    data["bus"] = {"publish": f"tcp://127.0.0.1:{port}", "wait_subscribers": 1, "control": "", "http": ""}
    received: list[tuple[str, envelope_pb2.Envelope]] = []
    bus = Subscriber(f"tcp://127.0.0.1:{port}", topics=["parent."])

    def collect() -> None:
        while (message := bus.receive(3.0)) is not None:
            received.append(message)

    collector = threading.Thread(target=collect)
    collector.start()
    strategy = OneParent(algo="twap", instrument=BTC, side="buy", quantity=0.004, duration_s=0.6, slices=2)
    try:
        ft.live.run(data, [strategy], mode="paper", stop_after=3)
    finally:
        collector.join(timeout=30)
        bus.close()
    assert [topic for topic, _ in received] == ["parent.one_parent"] * 2
    first, last = (envelope.parent for _, envelope in received)
    assert first.status == orders_pb2.PARENT_STATUS_WORKING
    assert (first.algo, first.parent_id, first.quantity, first.size_precision) == ("twap", 1, 4, 3)
    assert last.status == orders_pb2.PARENT_STATUS_COMPLETED
    assert (last.filled, last.children) == (4, 2)
    assert [envelope.topic_seq for _, envelope in received] == [1, 2]
    line = describe(*received[-1])
    assert "one_parent #1 twap BUY 0.004/0.004 COMPLETED children 2" in line, line
