"""``ft.live.run`` end to end on the bundled Binance USD-M capture (tests/data/sessions/binance-usdm).

Replay mode starts an in-process local venue that replays the real BTCUSDT session; the engine trades
against it over signed REST and the listenKey user stream. Paper mode reads the same replayed market data
and fills in-process. Each run uses ``speed = "max"`` and a few seconds of ``stop_after``, with the journal
in ``tmp_path``; the assertions are on counts and identities, never on durations.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import ferrotrade as ft
from ferrotrade.exceptions import ConfigError, StrategyError

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "live_replay_mm.toml"
CAPTURE = ROOT / "tests" / "data" / "sessions" / "binance-usdm" / "btcusdt_20240808.gz"
INSTRUMENT = "binance-usdm.BTCUSDT"
LOT = 0.001  # [instruments."binance-usdm.BTCUSDT"].lot_size of the example


def config(run_dir: Path, *, speed: Any = "max") -> dict[str, Any]:
    """The example configuration with absolute paths, the journal in ``run_dir`` and fast replay.

    The market maker re-places a refused quote at once (``reject_backoff_ms = 0``): at ``"max"`` the
    whole 345 s session passes in about a second, so the default second of backoff after a post-only
    refusal (one per side is common at that pace) stopped both sides for the rest of the session, and a
    loaded machine saw no fill at all.
    """
    data = tomllib.loads(EXAMPLE.read_text())
    data["live"]["run_dir"] = str(run_dir)
    data["replay"]["paths"] = [str(CAPTURE)]
    data["replay"]["speed"] = speed
    (market_maker,) = data["strategy"]
    market_maker["reject_backoff_ms"] = 0
    return data


def sessions(records: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """The journal split at each ``session`` record (one list per engine start)."""
    split: list[list[dict[str, Any]]] = []
    for record in records:
        if record["t"] == "session":
            split.append([])
        split[-1].append(record)
    return split


def fills(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The ``filled`` order events of the journal records (the event's ``kind`` carries the fill)."""
    return [r["kind"] for r in records if r["t"] == "event" and r["kind"]["k"] == "filled"]


def signed_quantity(fill_events: list[dict[str, Any]]) -> int:
    """Net position in lots from fills (``qty`` is in lots, + for buys)."""
    return sum(f["qty"] if f["side"] == "buy" else -f["qty"] for f in fill_events)


def position_lots(report: ft.live.LiveReport) -> int:
    """The report's final position of the market maker's instrument, in lots (0 when flat or absent)."""
    for row in report.positions:
        if row["instrument"] == INSTRUMENT:
            return int(row["quantity"])
    return 0


@pytest.mark.parametrize("mode", ["replay", "paper"])
def test_run_fills_agree_with_journal(
    tmp_path: Path, mode: str, read_journal: Callable[[Path], list[dict[str, Any]]]
) -> None:
    report = ft.live.run(config(tmp_path), mode=mode, stop_after=3)

    assert report.mode == mode
    assert report.strategies == ["mm"]
    assert report.counters["messages"] > 1000
    assert report.counters["fills"] > 0
    records = read_journal(tmp_path)
    (session,) = sessions(records)
    journal_fills = fills(session)
    assert len(journal_fills) == report.counters["fills"]
    # Client ids are unique per order, and every event refers to an order of this journal.
    order_ids = [r["id"] for r in session if r["t"] == "order"]
    assert len(order_ids) == len(set(order_ids)) == report.counters["orders"] + report.counters["denied"]
    assert {r["id"] for r in session if r["t"] == "event"} <= set(order_ids)
    assert min(order_ids) >= session[0]["next_client_id"]
    # The final position is the sum of the fills, in lots and in units.
    assert position_lots(report) == signed_quantity(journal_fills)
    for row in report.positions:
        assert row["quantity_f64"] == pytest.approx(row["quantity"] * LOT)
        assert row["fills"] == report.counters["fills"]
    assert report.counters["duplicate_fills"] == 0
    assert report.counters["open_orders"] == 0  # cancel_on_stop


@pytest.mark.parametrize("mode", ["paper", "replay"])
def test_restart_continues_ids_and_replays_fills_once(
    tmp_path: Path, mode: str, read_journal: Callable[[Path], list[dict[str, Any]]]
) -> None:
    first = ft.live.run(config(tmp_path), mode=mode, stop_after=1.5)
    second = ft.live.run(config(tmp_path), mode=mode, stop_after=1.5)

    one, two = sessions(read_journal(tmp_path))
    ids_one = [r["id"] for r in one if r["t"] == "order"]
    ids_two = [r["id"] for r in two if r["t"] == "order"]
    assert ids_one
    assert ids_two
    assert two[0]["next_client_id"] > max(ids_one)
    assert min(ids_two) > max(ids_one)
    # The second run rebuilt its state from the journal: each earlier fill counted once.
    assert first.counters["fills"] > 0
    assert second.counters["replayed_fills"] == len(fills(one)) == first.counters["fills"]
    assert second.counters["fills"] == len(fills(two))
    assert position_lots(second) == signed_quantity(fills(one) + fills(two))


@pytest.mark.parametrize("mode", ["paper", "replay"])
def test_restart_keeps_new_sessions_fills(tmp_path: Path, mode: str) -> None:
    first = ft.live.run(config(tmp_path), mode=mode, stop_after=1.5)
    assert first.counters["fills"] > 0
    second = ft.live.run(config(tmp_path), mode=mode, stop_after=1.5)

    # A fresh venue never resends the previous session's fills: nothing is a duplicate, and no order
    # the venue filled stays open in the OMS.
    assert second.counters["duplicate_fills"] == 0
    assert second.counters["open_orders"] == 0


class Recorder(ft.Strategy):
    """Joins the best bid with one post-only order at a time and records the callbacks it gets."""

    subscriptions = {INSTRUMENT: ["book"]}  # noqa: RUF012 (the base class declares it a ClassVar)

    def __init__(self, *, fail_on_book: bool = False) -> None:
        self.name = "recorder"
        self.fail_on_book = fail_on_book
        self.calls: dict[str, int] = {"on_start": 0, "on_book": 0, "on_order": 0, "on_fill": 0, "on_stop": 0}
        self.fill_quantity = 0.0

    def on_start(self, ctx: Any) -> None:
        self.calls["on_start"] += 1

    def on_book(self, ctx: Any, instrument: int) -> None:
        self.calls["on_book"] += 1
        if self.fail_on_book:
            raise ValueError("boom in on_book")
        if abs(ctx.position(instrument)) < 0.01 and not ctx.open_orders(instrument):
            touch = ctx.touch(instrument)
            if touch is not None:
                ctx.submit(instrument, "buy", LOT, touch[0], post_only=True)

    def on_order(self, ctx: Any, event: Any) -> None:
        self.calls["on_order"] += 1

    def on_fill(self, ctx: Any, fill: Any) -> None:
        self.calls["on_fill"] += 1
        self.fill_quantity += fill.quantity

    def on_stop(self, ctx: Any) -> None:
        self.calls["on_stop"] += 1


def test_python_strategy_gets_callbacks_in_replay_mode(tmp_path: Path) -> None:
    data = config(tmp_path)
    del data["strategy"]
    strategy = Recorder()

    report = ft.live.run(data, [strategy], mode="replay", stop_after=3)

    assert report.strategies == ["recorder"]
    assert strategy.calls["on_start"] == 1
    assert strategy.calls["on_stop"] == 1
    assert strategy.calls["on_book"] > 100
    assert strategy.calls["on_order"] > 0
    assert strategy.calls["on_fill"] == report.counters["fills"] > 0
    assert strategy.fill_quantity == pytest.approx(position_lots(report) * LOT)


def test_strategy_exception_is_strategy_error_with_cause(tmp_path: Path) -> None:
    data = config(tmp_path)
    del data["strategy"]

    with pytest.raises(StrategyError) as caught:
        ft.live.run(data, [Recorder(fail_on_book=True)], mode="paper", stop_after=3)

    assert isinstance(caught.value.__cause__, ValueError)
    assert "boom in on_book" in str(caught.value.__cause__)


@pytest.mark.parametrize(
    ("section", "key", "value", "named"),
    [
        ("venue", "name", "kraken", "venue[0].name"),
        ("replay", "sped", 3, "replay.sped"),
        ("replay", "speed", "fast", "replay.speed"),
        ("live", "mode", "bogus", "live.mode"),
        ("risk", "max_positon", 1, "risk.max_positon"),
    ],
)
def test_config_errors_name_the_key(tmp_path: Path, section: str, key: str, value: Any, named: str) -> None:
    data = config(tmp_path)
    table = data[section][0] if section == "venue" else data[section]
    table[key] = value

    with pytest.raises(ConfigError, match="^<dict>: " + re.escape(named)):
        ft.live.run(data, stop_after=1)

    assert not (tmp_path / "journal.jsonl").exists()


def test_live_mode_without_credentials_is_refused_before_connecting(tmp_path: Path) -> None:
    data = config(tmp_path)
    data["venue"][0]["network"] = "testnet"

    with pytest.raises(ConfigError, match=r"venue\[0\]\.credentials"):
        ft.live.run(data, mode="live", stop_after=1)

    assert not (tmp_path / "journal.jsonl").exists()


def test_missing_replay_file_is_a_config_error_naming_the_key(tmp_path: Path) -> None:
    data = config(tmp_path)
    data["replay"]["paths"] = [str(tmp_path / "missing.gz")]

    with pytest.raises(ConfigError, match=re.escape("replay.paths[0]")):
        ft.live.run(data, stop_after=1)
