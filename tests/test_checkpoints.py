"""`ft.backtest.run(checkpoint=...)` and `ft.backtest.check`: what optimization builds on (pruning at
checkpoints, configuration checks before any trial), for Rust-only runs (off the GIL, the callback on the
engine's thread) and for runs with a Python strategy (on the caller's thread)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import ferrotrade as ft
from ferrotrade._core import Context
from ferrotrade.exceptions import ConfigError

ROOT = Path(__file__).parent.parent
CATALOG = ROOT / "tests" / "data" / "catalog"
MM = ROOT / "examples" / "backtest_mm.toml"
EVENTS = 445_262 + 21_313


class Quiet(ft.Strategy):
    subscriptions = {"binance-usdm.BTCUSDT": ["book"]}  # noqa: RUF012 - the base class declares it as a ClassVar

    def on_book(self, ctx: Context, instrument: int) -> None:
        pass


@pytest.mark.parametrize("python_strategy", [False, True])
def test_checkpoints_come_every_65536_events_in_event_order(python_strategy: bool) -> None:
    seen: list[tuple[int, int, float]] = []
    strategies = [Quiet()] if python_strategy else []
    result = ft.backtest.run(MM, strategies, catalog=CATALOG, checkpoint=lambda *point: seen.append(point))
    assert ft.backtest.CHECKPOINT_EVENTS == 65_536
    assert [events for events, _, _ in seen] == [65_536 * k for k in range(1, EVENTS // 65_536 + 1)]
    times = [ts for _, ts, _ in seen]
    assert times == sorted(times)
    assert result.stats["first_ts"] <= times[0]
    assert times[-1] <= result.stats["last_ts"]
    # The equity at a checkpoint is the account's: the curve's sample at or just before it agrees.
    equity = result.equity.with_columns(ts=result.equity["ts"].dt.epoch("ns"))
    for _, ts, value in seen:
        before = equity.filter(equity["ts"] <= ts)["equity"][-1]
        assert value == pytest.approx(before, abs=5.0)


class StopError(Exception):
    pass


@pytest.mark.parametrize("python_strategy", [False, True])
def test_an_exception_in_the_checkpoint_callback_stops_the_run_and_propagates(python_strategy: bool) -> None:
    calls: list[int] = []

    def stop_at_third(events: int, ts: int, equity: float) -> None:
        calls.append(events)
        if len(calls) == 3:
            raise StopError(f"seen enough at {events}")

    strategies = [Quiet()] if python_strategy else []
    with pytest.raises(StopError, match="seen enough at 196608"):
        ft.backtest.run(MM, strategies, catalog=CATALOG, checkpoint=stop_at_third)
    assert calls == [65_536, 131_072, 196_608], "no checkpoint after the one that raised"


def test_check_runs_the_pre_run_checks_without_data() -> None:
    ft.backtest.check(MM, catalog=CATALOG)
    bad: dict[str, Any] = {
        "backtest": {"catalog": str(CATALOG), "initial_equity": 1000},
        "strategy": [
            {
                "kind": "market_maker",
                "instrument": "binance-usdm.DOGEUSDT",
                "order_size": 1,
                "half_spread_bps": 1,
                "max_position": 1,
            }
        ],
    }
    with pytest.raises(ConfigError, match="DOGEUSDT"):
        ft.backtest.check(bad)
