"""Backtest an L2 market maker over a looped real Binance USD-M BTCUSDT stream: ferrotrade (Rust and Python
strategy) against hftbacktest and NautilusTrader running the same strategy.

The stream: the bundled test catalog's six minutes of BTCUSDT depth diffs and trades (445,262 level updates
and 21,313 trades per pass, ``tests/data/catalog``), copied ``--loops`` times into a temporary catalog, one
UTC day apart, so it replays as one long monotonic stream from Parquet.

The strategy (the built-in ``market_maker``, and ``examples/strategies/market_maker.py`` for Python): one
post-only quote of 0.001 BTC per side, 2 bps from mid, skewed 100 bps per BTC of inventory, at most 0.01
BTC long or short, re-priced when 5 ticks away; maker fee 0.02 %, taker 0.05 %; 1 ms order entry and 1 ms
response latency; risk-averse queue model. The peers' versions live in ``benchmarks/peers`` (same rule,
see ``peers/strategy.py``; they cancel and replace where ferrotrade amends).

Measured (events = level updates + trades replayed):

- ferrotrade with the data preloaded into memory (``[backtest] preload = true``; hftbacktest also replays
  from memory), for the Rust and the Python strategy: events/s of the replay alone;
- ferrotrade streaming from Parquet over ``--memory-events`` events: events/s and the process's peak RSS
  (each ferrotrade run is a separate child process, so its RSS is its own);
- hftbacktest and NautilusTrader when installed (``pip install .[bench]``); Nautilus replays fewer loops
  (``--nautilus-loops``: it is two orders of magnitude slower).

Build the extension in release first (``make bench`` does): a dev build is several times slower.

Usage::

    python benchmarks/backtest_mm.py [--loops 23] [--memory-events 50000000] [--nautilus-loops 4]
"""

# Peers are imported where they are measured, so a missing one only skips its row.
# ruff: noqa: PLC0415

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import polars as pl

REPO = Path(__file__).resolve().parent.parent
SOURCE_CATALOG = REPO / "tests/data/catalog"
VENUE, SYMBOL = "binance-usdm", "BTCUSDT"
DAY_NS = 86_400_000_000_000
EVENTS_PER_LOOP = 445_262 + 21_313

MM_PARAMS: dict[str, Any] = {
    "instrument": f"{VENUE}.{SYMBOL}",
    "order_size": 0.001,
    "half_spread_bps": 2,
    "skew_bps_per_unit": 100,
    "max_position": 0.01,
    "requote_threshold_ticks": 5,
}


def build_catalog(target: Path, loops: int) -> int:
    """Writes ``loops`` copies of the test catalog's BTCUSDT book and trades, one day apart; returns rows."""
    shutil.copy(SOURCE_CATALOG / "instruments.json", target / "instruments.json")
    rows = 0
    for kind in ("book", "trades"):
        source = SOURCE_CATALOG / kind / f"venue={VENUE}" / f"symbol={SYMBOL}"
        frame = pl.read_parquet(source / "**" / "*.parquet", hive_partitioning=False)
        first_day = dt.datetime.fromtimestamp(
            frame["ts_recv"].dt.epoch("ns").min() // 10**9, tz=dt.UTC
        ).date()
        for loop in range(loops):
            shift = pl.duration(nanoseconds=loop * DAY_NS)
            day = first_day + dt.timedelta(days=loop)
            folder = target / kind / f"venue={VENUE}" / f"symbol={SYMBOL}" / f"date={day.isoformat()}"
            folder.mkdir(parents=True)
            frame.with_columns(pl.col("ts_event") + shift, pl.col("ts_recv") + shift).write_parquet(
                folder / "part-bench-000000.parquet"
            )
            rows += frame.height
    return rows


def config(catalog: Path, strategy: str, *, preload: bool) -> dict[str, Any]:
    """The backtest configuration of one ferrotrade run."""
    base: dict[str, Any] = {
        "backtest": {"catalog": str(catalog), "initial_equity": 10_000, "preload": preload},
        "venue": {
            "fees": {"maker": 0.0002, "taker": 0.0005},
            "queue": {"model": "risk_averse"},
            "latency": {"model": "constant", "entry_ns": 1_000_000, "response_ns": 1_000_000},
        },
    }
    if strategy == "rust":
        base["strategy"] = [{"kind": "market_maker", "name": "mm", **MM_PARAMS}]
    else:
        base["strategy"] = [
            {
                "kind": "python",
                "class": "strategies.market_maker:MarketMaker",
                "name": "mm_py",
                "params": MM_PARAMS,
            }
        ]
    return base


def child(catalog: Path, strategy: str, preload: bool) -> None:
    """Runs one ferrotrade backtest in this process and prints its figures as JSON."""
    from ferrotrade import _core
    from ferrotrade.strategy import Strategy

    sys.path.insert(0, str(REPO / "examples"))
    raw = _core.run_backtest(json.dumps(config(catalog, strategy, preload=preload)), str(REPO), [], Strategy)
    stats = raw["stats"]
    fills = len(raw["fills"])
    print(
        json.dumps(
            {
                "events": stats["events"],
                "seconds": stats["run_seconds"],
                "load_seconds": stats["load_seconds"],
                "events_per_s": stats["events"] / stats["run_seconds"],
                "orders": stats["orders"],
                "fills": fills,
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
    )


def run_child(catalog: Path, strategy: str, *, preload: bool) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", strategy, "--catalog", str(catalog)]
    if preload:
        command.append("--preload")
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return dict(json.loads(output.strip().splitlines()[-1]))


def peer(name: str, loops: int) -> dict[str, Any] | None:
    sys.path.insert(0, str(REPO))
    try:
        if name == "hftbacktest":
            from benchmarks.peers import hftbacktest_mm as module
        else:
            from benchmarks.peers import nautilus_mm as module
    except ImportError as error:
        print(f"{name}: not installed ({error}); skipped (pip install .[bench])")
        return None
    return dict(module.run(loops))


def row(name: str, figures: dict[str, Any]) -> str:
    rate = figures["events_per_s"] / 1e6
    rss = figures.get("peak_rss_mb", float("nan"))
    return (
        f"{name:<38} {figures['events']:>12,} {figures['seconds']:>9.2f} {rate:>10.2f}"
        f" {rss:>10.0f} {figures['orders']:>9,} {figures['fills']:>7,}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--loops", type=int, default=23, help="passes over the capture (23: ~10.7 M events)")
    parser.add_argument("--memory-events", type=int, default=50_000_000, help="events of the streaming run")
    parser.add_argument("--nautilus-loops", type=int, default=4, help="passes for NautilusTrader")
    parser.add_argument("--no-peers", action="store_true", help="measure ferrotrade only")
    parser.add_argument("--child", choices=("rust", "python"), help=argparse.SUPPRESS)
    parser.add_argument("--catalog", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--preload", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.catalog, args.child, args.preload)
        return

    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="ferrotrade-bench-") as tmp:
        catalog = Path(tmp) / "loops"
        catalog.mkdir()
        rows = build_catalog(catalog, args.loops)
        print(f"catalog: {rows:,} rows ({args.loops} passes over the real capture)")
        results["ferrotrade, Rust strategy (preloaded)"] = run_child(catalog, "rust", preload=True)
        results["ferrotrade, Python strategy (preloaded)"] = run_child(catalog, "python", preload=True)
        results["ferrotrade, Rust strategy (streamed)"] = run_child(catalog, "rust", preload=False)
        memory_loops = -(-args.memory_events // EVENTS_PER_LOOP)
        big = Path(tmp) / "memory"
        big.mkdir()
        build_catalog(big, memory_loops)
        shutil.rmtree(catalog)
        results["ferrotrade, Rust strategy (streamed, big)"] = run_child(big, "rust", preload=False)
    hft = None if args.no_peers else peer("hftbacktest", args.loops)
    if hft is not None:
        results["hftbacktest 2.x (in memory)"] = hft
    nautilus = None if args.no_peers else peer("nautilus", args.nautilus_loops)
    if nautilus is not None:
        results["NautilusTrader (in memory)"] = nautilus

    print()
    widths = {"engine": -38, "events": 12, "seconds": 9, "M ev/s": 10, "RSS MB": 10, "orders": 9, "fills": 7}
    print(
        " ".join(f"{name:<{-width}}" if width < 0 else f"{name:>{width}}" for name, width in widths.items())
    )
    for name, figures in results.items():
        print(row(name, figures))
    rust = results["ferrotrade, Rust strategy (preloaded)"]["events_per_s"]
    python = results["ferrotrade, Python strategy (preloaded)"]["events_per_s"]
    print()
    print(f"Rust strategy:   {rust / 1e6:.1f} M events/s (budget >= 45)")
    print(f"Python strategy: {python / 1e6:.2f} M events/s (budget >= 1.5)")
    big_run = results["ferrotrade, Rust strategy (streamed, big)"]
    millions, rss = big_run["events"] / 1e6, big_run["peak_rss_mb"]
    print(f"streamed {millions:.0f} M events: peak RSS {rss:.0f} MB (budget <= 500)")
    if hft is not None:
        print(f"Rust strategy vs hftbacktest: {rust / hft['events_per_s']:.1f}x")
    if nautilus is not None:
        print(f"Python strategy vs NautilusTrader: {python / nautilus['events_per_s']:.1f}x")


if __name__ == "__main__":
    main()
