"""Trials per minute of ``ft.backtest.optimize`` with 1 and 2 worker processes on the bundled real data.

The study: ``examples/optimize_mm.toml`` (the built-in market maker on the test catalog's six minutes of
Binance USD-M BTCUSDT depth diffs and trades, 466,575 events per trial; four parameters, TPE), without
pruning so every trial replays the whole session, with a fresh journal-file storage per measurement. The
figure counts finished trials over the wall-clock time of ``optimize`` (worker start-up, sampling and
storage included; the report is not written). A second row per worker count adds median pruning, which is
what the example runs. Each row also prints the 1-minute load average before it: on a shared machine two
workers only help when two cores are free.

Where a trial's time goes (release build, one worker, 200 trials, cProfile): the backtest itself about 70 %
(466,575 events in about 40 ms), TPE sampling about 10 %, the journal file's fsync per write about 6 %, the
metrics about 7 %.

Build the extension in release first (``make bench`` does): a dev build is several times slower.

Usage::

    python benchmarks/optimize.py [--trials 60] [--workers 1 2]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import ferrotrade as ft

REPO = Path(__file__).resolve().parent.parent
CONFIG = REPO / "examples" / "optimize_mm.toml"
CATALOG = REPO / "tests" / "data" / "catalog"


def measure(trials: int, workers: int, pruner: str, folder: Path) -> tuple[float, int, int]:
    """Trials per minute, finished trials and pruned trials of one fresh study."""
    storage = folder / f"w{workers}-{pruner}.log"
    started = time.perf_counter()
    result = ft.backtest.optimize(
        CONFIG, catalog=CATALOG, trials=trials, workers=workers, pruner=pruner, storage=str(storage)
    )
    elapsed = time.perf_counter() - started
    done = result.trials.height
    pruned = result.trials.filter(result.trials["state"] == "pruned").height
    return done / elapsed * 60.0, done, pruned


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=60)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    where = CATALOG.relative_to(REPO)
    print(f"{CONFIG.name} on {where}: {args.trials} trials per study, {os.cpu_count()} cores")
    # The machine may be shared: the load average before each study says how many cores were free.
    header = ("workers", "pruner", "trials/min", "trials", "pruned", "load before")
    print("{:>7}  {:<7}  {:>10}  {:>6}  {:>6}  {:>11}".format(*header))
    with tempfile.TemporaryDirectory() as tmp:
        for pruner in ("none", "median"):
            for workers in args.workers:
                load = os.getloadavg()[0]
                per_minute, done, pruned = measure(args.trials, workers, pruner, Path(tmp))
                print(
                    f"{workers:>7}  {pruner:<7}  {per_minute:>10,.0f}  {done:>6}  {pruned:>6}  {load:>11.2f}"
                )


if __name__ == "__main__":
    main()
