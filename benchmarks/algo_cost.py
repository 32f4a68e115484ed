"""Per-event cost of active execution algorithms in the backtest loop, on the bundled real data.

The run: the test catalog's six minutes of Binance USD-M BTCUSDT depth diffs and trades (466,575 events),
the built-in ``execution`` strategy, a Rust-only run without the GIL. Three configurations, measured
alternately in one process so the machine's noise hits them alike:

- ``idle``: one parent order accepted but scheduled after the data ends (the algorithms' host is in the
  loop, sees every book and trade, and has nothing to do);
- ``pov + chase``: a POV parent deciding on every trade and a limit chase re-pricing on every book
  message, both active for the whole run (their quantities are too large to complete);
- ``4 parents``: the same plus a passive TWAP and an iceberg, also active for the whole run.

The cost of the active parents is ``(best time - best idle time) / events``, reported in ns per event;
the row's own events/s is printed beside it. Figures are best-of-N wall-clock times of the replay
(``run_seconds`` of the engine: data loading excluded).

Build the extension in release first (``make bench`` does): a dev build is several times slower.

Usage::

    python benchmarks/algo_cost.py [--repeats 15]
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import ferrotrade as ft

CATALOG = Path(__file__).resolve().parents[1] / "tests" / "data" / "catalog"
BTC = "binance-usdm.BTCUSDT"

IDLE = [
    {
        "algo": "twap",
        "instrument": BTC,
        "side": "buy",
        "quantity": 1,
        "delay_s": 3600,
        "duration_s": 60,
        "slices": 2,
    }
]
POV_CHASE = [
    {"algo": "pov", "instrument": BTC, "side": "buy", "quantity": 100000, "rate": 0.01},
    {
        "algo": "chase",
        "instrument": BTC,
        "side": "sell",
        "quantity": 100000,
        "peg": "touch",
        "offset_ticks": -5,
    },
]
FOUR = [
    *POV_CHASE,
    {
        "algo": "twap",
        "instrument": BTC,
        "side": "buy",
        "quantity": 1000,
        "duration_s": 360,
        "slices": 36,
        "child": "passive",
    },
    {
        "algo": "iceberg",
        "instrument": BTC,
        "side": "buy",
        "quantity": 1000,
        "display": 0.1,
        "limit_price": 50000,
    },
]


def config(orders: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "backtest": {"catalog": str(CATALOG), "initial_equity": 10_000_000_000},
        "strategy": [{"kind": "execution", "name": "exec", "orders": orders}],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    rows = {"idle": IDLE, "pov + chase": POV_CHASE, "4 parents": FOUR}
    best: dict[str, float] = dict.fromkeys(rows, float("inf"))
    events = 0
    children: dict[str, int] = {}
    for _ in range(args.repeats):
        for name, orders in rows.items():
            result = ft.backtest.run(config(orders))
            best[name] = min(best[name], float(result.stats["run_seconds"]))
            events = int(result.stats["events"])
            children[name] = result.children.height
    print(f"{events:,} events, best of {args.repeats} runs each")
    print(f"{'configuration':<14} {'events/s':>12} {'children':>9} {'ns/event over idle':>19}")
    for name in rows:
        extra = (best[name] - best["idle"]) / events * 1e9
        print(f"{name:<14} {events / best[name]:>12,.0f} {children[name]:>9} {extra:>19.1f}")


if __name__ == "__main__":
    main()
