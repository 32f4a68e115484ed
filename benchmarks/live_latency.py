"""Latency of the live engine's pipeline on the bundled real Binance USD-M BTCUSDT session.

The built-in market maker of ``examples/live_replay_mm.toml`` (re-quoting at every tick the touch moves,
so a run has a few hundred orders to time) trades the same capture
(``tests/data/sessions/binance-usdm/btcusdt_20240808.gz``, six minutes of depth diffs, bookTicker and
trades with the REST snapshot, as recorded) in two modes:

- ``replay``: an in-process local venue replays the capture over WebSocket and the engine trades against
  it with live order entry: signed REST orders on the gateway's own keep-alive links, fills back on the
  listenKey user-data stream;
- ``paper``: the same replayed market data, orders filled in-process by the simulated venue.

and two set-ups of the same machine:

- ``default``: the engine thread sleeps in the kernel between inputs, as the configuration's defaults;
- ``tuned``: ``[live] busy_poll = true`` (the engine thread never sleeps, and keeps its order path warm),
  ``[live] cpu`` = the last CPU (the venue's threads kept off it), and ``[replay] busy_poll = true``. The
  last one is about the test peer, not the engine: on loopback a write runs the receiving side's TCP input
  and wakes the receiver, and waking a thread asleep on another virtual CPU is an inter-processor
  interrupt that costs the writer 10-20 us here; a venue across a network charges nothing of the kind to
  the client's write.

Latency runs replay at ``--speed`` (default 20x recorded time: orders are spread as they were, and the
engine is idle between frames as it is live). A last run replays at full speed (``max``: the venue sends
as fast as the engine reads), the issue's condition: throughput, and the latency of a path kept hot by
back-to-back frames (hundreds of orders).

Printed per run: the engine's own HDR histograms per stage (``frame_to_engine``: frame received to the
engine starting on it, i.e. the wait behind earlier work; ``frame_to_book``: frame received to book
updated; ``book_to_decision``: book to the strategy's order; ``decision_to_risk``; ``risk_to_wire``: risk
passed to the request's bytes written to the socket (signing, encoding and one ``write`` system call,
within the engine's call); ``write_call``: that system call alone, the kernel's part; ``engine_to_wire``:
the engine starting on the frame to the request written, the handling cost without the wait;
``frame_to_wire``: the whole path; ``frame_to_write``: the whole path up to the write system call, what the
engine itself costs; ``first_to_wire``: the whole path of the first order a frame triggered only (a market
maker's second quote is built and written after the first, so its wire stages include the first's);
``snapshot_to_book``: a REST snapshot's answer to its book applied, at the start
and on a resync), p50 / p99 / p99.9 / max in microseconds. The path stages start at market-data frames:
the first quotes, placed when the snapshot syncs the book, count like an order from a timer. A market
maker sends two orders on one frame: ``first_to_wire`` times the first alone. Requests that could
not be written at once (no idle link, pacing) are counted, not timed. Then messages and a messages/s lower
bound (messages over the time until the status line, about once a second, first showed the final count);
orders and fills; the machine load and a warning when the extension looks like a dev build. Figures are
printed, never asserted.

Build the extension in release first (``make bench`` does): a dev build is several times slower.

Usage::

    python benchmarks/live_latency.py [--seconds 20] [--speed 20] [--modes replay,paper]
                                      [--setups default,tuned] [--no-throughput]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import tomllib
from pathlib import Path
from typing import Any

import ferrotrade as ft
from ferrotrade import _core

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "live_replay_mm.toml"
CAPTURE = REPO / "tests" / "data" / "sessions" / "binance-usdm" / "btcusdt_20240808.gz"
STAGES = (
    "frame_to_engine",
    "frame_to_book",
    "book_to_decision",
    "decision_to_risk",
    "risk_to_wire",
    "write_call",
    "engine_to_wire",
    "frame_to_wire",
    "frame_to_write",
    "first_to_wire",
    "snapshot_to_book",
)
# A release build of the extension is a few tens of MB; a dev build carries debug info and is far larger.
DEV_BUILD_BYTES = 150 * 1024 * 1024


def build_hint() -> str:
    """A one-line guess of the extension's build profile (from its size, or FERROTRADE_PROFILE)."""
    path = Path(_core.__file__)
    size = path.stat().st_size
    declared = os.environ.get("FERROTRADE_PROFILE")
    if declared:
        return f"extension {path.name}: {size / 2**20:.0f} MiB, profile {declared} (FERROTRADE_PROFILE)"
    if size > DEV_BUILD_BYTES:
        return (
            f"WARNING: extension {path.name} is {size / 2**20:.0f} MiB: looks like a dev build "
            "(figures are several times slower than release; `make bench` builds release)"
        )
    return f"extension {path.name}: {size / 2**20:.0f} MiB (release build)"


def engine_cpu() -> int | None:
    """The CPU the tuned set-up pins the engine to: the last one this process may use (None with one)."""
    cpus = sorted(os.sched_getaffinity(0))
    return cpus[-1] if len(cpus) > 1 else None


def config(run_dir: Path, speed: str, setup: str) -> dict[str, Any]:
    """The example configuration with absolute paths, a fresh journal folder, the replay speed, a market
    maker that re-quotes at every tick the touch moves (risk's order rate raised to match) and the set-up.

    A quote the venue refuses (post-only, the book moved on: common at full speed) is placed again at once
    (``reject_backoff_ms = 0``): the default second of backoff stops that side for most of a full-speed
    replay, which then timed a handful of orders.
    """
    data = tomllib.loads(EXAMPLE.read_text())
    data["live"]["run_dir"] = str(run_dir)
    data["replay"]["paths"] = [str(CAPTURE)]
    data["replay"]["speed"] = speed if speed == "max" else float(speed)
    data["risk"].update(orders_per_second=200, burst=400)
    for strategy in data["strategy"]:
        strategy.update(requote_threshold_ticks=1, min_requote_interval_ms=0, reject_backoff_ms=0)
    if setup == "tuned":
        data["live"]["busy_poll"] = True
        data["replay"]["busy_poll"] = True
        cpu = engine_cpu()
        if cpu is not None:
            data["live"]["cpu"] = cpu
    return data


def run_mode(mode: str, setup: str, speed: str, seconds: float) -> None:
    """Run the market maker in ``mode`` and ``setup`` and print its latency table and counters."""
    samples: list[tuple[float, int]] = []
    started = time.perf_counter()

    def on_status(status: dict[str, Any]) -> None:
        samples.append((time.perf_counter() - started, int(status["messages"])))

    with tempfile.TemporaryDirectory(prefix="ft-live-bench-") as run_dir:
        settings = config(Path(run_dir), speed, setup)
        report = ft.live.run(settings, mode=mode, stop_after=seconds, on_status=on_status)
    counters = report.counters
    messages = counters.get("messages", 0)
    # The first status that already showed the final count bounds the time the replay took.
    through = next((at for at, seen in samples if seen >= messages), report.wall_seconds)
    pinned = f", engine on CPU {settings['live']['cpu']}" if "cpu" in settings["live"] else ""
    print(f"\n== {mode}, {setup} (speed {speed}, {report.wall_seconds:.1f} s{pinned}) ==")
    print(f"{'stage':<18}{'count':>9}{'p50 us':>10}{'p99 us':>10}{'p99.9 us':>10}{'max us':>10}")
    rows = {row[0]: row for row in report.latency_rows()}
    for stage in STAGES:
        if stage not in rows:
            print(f"{stage:<18}{'-':>9}")
            continue
        _, count, p50, p99, p999, worst = rows[stage]
        print(f"{stage:<18}{count:>9,}{p50:>10.1f}{p99:>10.1f}{p999:>10.1f}{worst:>10.1f}")
    print(
        f"messages {messages:,} (>= {messages / through:,.0f}/s: all in by {through:.1f} s), "
        f"orders {counters.get('orders', 0)}, amends {counters.get('amends', 0)}, "
        f"cancels {counters.get('cancels', 0)}, fills {counters.get('fills', 0)}, "
        f"rejects {sum(v for k, v in counters.items() if k.startswith('rejects.'))}, "
        f"resyncs {counters.get('resyncs', 0)}, "
        f"requests written later (no wire time) {counters.get('sent_later', 0)}"
    )


def main() -> None:
    """Parse the arguments and run each mode and set-up, then the full-speed run."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each run (default 20)")
    parser.add_argument("--speed", default="20", help="replay speed of the latency runs: 'max' or a multiple")
    parser.add_argument("--modes", default="replay,paper", help="comma-separated modes (replay, paper)")
    parser.add_argument("--setups", default="default,tuned", help="comma-separated set-ups (default, tuned)")
    parser.add_argument("--no-throughput", action="store_true", help="skip the full-speed replay run")
    args = parser.parse_args()
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"ferrotrade {ft.__version__}; {build_hint()}")
    print(f"machine: {os.cpu_count()} CPUs, load average (1, 5, 15 min) {load}")
    for mode in args.modes.split(","):
        for setup in args.setups.split(","):
            run_mode(mode.strip(), setup.strip(), args.speed, args.seconds)
    if not args.no_throughput:
        run_mode("replay", "tuned", "max", 6.0)


if __name__ == "__main__":
    main()
