"""``[live] busy_poll`` and ``[live] cpu`` end to end on the bundled Binance USD-M capture.

A busy-polled, pinned run must trade exactly as a sleeping one does (orders reach the local venue, fills
agree with the journal), hand the calling thread its CPU set back when it returns (a Python strategy runs
the engine on the caller's thread), and time the write system call of every order written at once. The
assertions are on counts and identities, never on durations.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import ferrotrade as ft
from ferrotrade.exceptions import ConfigError

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "live_replay_mm.toml"
CAPTURE = ROOT / "tests" / "data" / "sessions" / "binance-usdm" / "btcusdt_20240808.gz"
INSTRUMENT = "binance-usdm.BTCUSDT"
LOT = 0.001


def config(run_dir: Path) -> dict[str, Any]:
    """The example configuration, busy-polled on the last CPU this process may use, venue busy-polled."""
    data = tomllib.loads(EXAMPLE.read_text())
    data["live"].update(run_dir=str(run_dir), busy_poll=True, cpu=max(os.sched_getaffinity(0)))
    data["replay"].update(paths=[str(CAPTURE)], speed=100, busy_poll=True)
    return data


class Joiner(ft.Strategy):
    """Joins the best bid with one post-only order at a time; notes the CPU set of every callback."""

    subscriptions = {INSTRUMENT: ["book"]}  # noqa: RUF012 (the base class declares it a ClassVar)

    def __init__(self) -> None:
        self.name = "joiner"
        self.cpu_sets: set[frozenset[int]] = set()
        self.fills = 0

    def on_book(self, ctx: Any, instrument: int) -> None:
        self.cpu_sets.add(frozenset(os.sched_getaffinity(0)))
        if abs(ctx.position(instrument)) < 0.01 and not ctx.open_orders(instrument):
            touch = ctx.touch(instrument)
            if touch is not None:
                ctx.submit(instrument, "buy", LOT, touch[0], post_only=True)

    def on_fill(self, ctx: Any, fill: Any) -> None:
        self.fills += 1


def test_a_pinned_busy_polled_run_trades_on_its_cpu_and_gives_the_thread_its_set_back(
    tmp_path: Path, read_journal: Callable[[Path], list[dict[str, Any]]]
) -> None:
    data = config(tmp_path)
    del data["strategy"]
    strategy = Joiner()
    before = os.sched_getaffinity(0)

    report = ft.live.run(data, [strategy], mode="replay", stop_after=4)

    assert os.sched_getaffinity(0) == before, "the calling thread's CPU set is restored"
    assert strategy.cpu_sets == {frozenset({data["live"]["cpu"]})}, "every callback ran pinned to the CPU"
    assert report.counters["orders"] > 0
    journaled = sum(r["t"] == "event" and r["kind"]["k"] == "filled" for r in read_journal(tmp_path))
    assert strategy.fills == report.counters["fills"] == journaled > 0
    wire, write = report.latency["risk_to_wire"], report.latency["write_call"]
    assert write["count"] == wire["count"] > 0, "every order written at once has its write timed"
    assert write["p50_us"] <= wire["p50_us"]
    tick_to_write, tick_to_wire = report.latency["frame_to_write"], report.latency["frame_to_wire"]
    assert tick_to_write["count"] == tick_to_wire["count"] > 0
    assert tick_to_write["p50_us"] <= tick_to_wire["p50_us"], "the write call ends the whole path"


def test_paper_orders_have_no_write_call(tmp_path: Path) -> None:
    report = ft.live.run(config(tmp_path), mode="paper", stop_after=3)

    assert report.counters["fills"] > 0
    assert report.latency["risk_to_wire"]["count"] > 0
    assert report.latency["write_call"]["count"] == 0, "the simulated venue is not a socket"
    assert report.latency["frame_to_write"]["count"] == 0


def test_a_cpu_the_process_may_not_use_is_a_config_error_naming_it(tmp_path: Path) -> None:
    data = config(tmp_path)
    data["live"]["cpu"] = 4096

    with pytest.raises(ConfigError, match=r"live\.cpu = 4096: this process may only run on CPUs"):
        ft.live.run(data, mode="replay", stop_after=1)

    assert not (tmp_path / "journal.jsonl").exists()


def test_replay_busy_poll_must_be_a_boolean(tmp_path: Path) -> None:
    data = config(tmp_path)
    data["replay"]["busy_poll"] = "yes"

    with pytest.raises(ConfigError, match=r"replay\.busy_poll"):
        ft.live.run(data, mode="replay", stop_after=1)
