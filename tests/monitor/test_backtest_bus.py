"""A backtest on the monitoring bus (a ``[bus]`` table): a pyzmq subscriber receives every fill of the run,
numbered without a gap, heartbeats at simulated time, and the strategies' final positions, for Rust-only
runs (the engine on a worker thread) and runs with a Python strategy (on the caller's thread)."""

from __future__ import annotations

import threading
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import ferrotrade as ft
from ferrotrade._core import Context
from ferrotrade.exceptions import ConfigError
from ferrotrade.monitor import Subscriber
from ferrotrade.v1 import envelope_pb2

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "tests" / "data" / "catalog"
MM = ROOT / "examples" / "backtest_mm.toml"


class Quiet(ft.Strategy):
    subscriptions = {"binance-usdm.BTCUSDT": ["book"]}  # noqa: RUF012 - the base class declares it as a ClassVar

    def on_book(self, ctx: Context, instrument: int) -> None:
        pass


def config(port: int) -> dict[str, Any]:
    data = tomllib.loads(MM.read_text())
    data["backtest"]["catalog"] = str(CATALOG)
    data["bus"] = {"publish": f"tcp://127.0.0.1:{port}", "wait_subscribers": 1}
    data.pop("report", None)
    return data


@pytest.mark.parametrize("python_strategy", [False, True])
def test_every_fill_of_a_backtest_is_published_in_order(
    python_strategy: bool, free_port: Callable[[], int]
) -> None:
    port = free_port()
    received: list[tuple[str, envelope_pb2.Envelope]] = []
    bus = Subscriber(f"tcp://127.0.0.1:{port}")

    def collect() -> None:
        while (message := bus.receive(3.0)) is not None:
            received.append(message)

    collector = threading.Thread(target=collect)
    collector.start()
    try:
        result = ft.backtest.run(config(port), [Quiet()] if python_strategy else [])
    finally:
        collector.join(timeout=30)
        bus.close()
    fills = [(topic, envelope) for topic, envelope in received if topic.startswith("fill.")]
    assert result.fills.height > 0
    assert [envelope.fill.trade_id for _, envelope in fills] == result.fills["trade_id"].to_list()
    # Each order's fills carry the simulated venue's id of it: one id per order, none zero.
    orders = {(envelope.fill.client_id, envelope.fill.venue_order_id) for _, envelope in fills}
    assert all(venue_id > 0 for _, venue_id in orders)
    assert len(orders) == len({client for client, _ in orders}) == len({venue for _, venue in orders})
    assert [envelope.topic_seq for _, envelope in fills] == list(range(1, len(fills) + 1))
    assert [envelope.seq for _, envelope in received] == list(range(1, len(received) + 1)), "nothing missed"
    heartbeats = [envelope.heartbeat for topic, envelope in received if topic == "heartbeat"]
    assert heartbeats, "a heartbeat at every checkpoint"
    assert {heartbeat.mode for heartbeat in heartbeats} == {"backtest"}
    assert [h.ts_ns for h in heartbeats] == sorted(h.ts_ns for h in heartbeats), "simulated time goes forward"
    positions = [envelope.position for topic, envelope in received if topic.startswith("position.")]
    final = result.positions.filter(result.positions["instrument"] == "binance-usdm.BTCUSDT")
    assert positions, "final positions"
    assert positions[0].strategy == final["strategy"][0]


def test_a_backtest_bus_takes_no_commands(free_port: Callable[[], int]) -> None:
    data = config(free_port())
    data["bus"]["control"] = "tcp://127.0.0.1:5556"
    with pytest.raises(ConfigError, match=r"bus\.control: a backtest takes no commands"):
        ft.backtest.run(data)
    data["bus"] = {"book_depth": 99}
    with pytest.raises(ConfigError, match=r"bus\.book_depth"):
        ft.backtest.check(data)
