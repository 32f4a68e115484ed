"""Replay a real Binance USD-M BTCUSDT book stream through ferrotrade's L2 book and its peers.

The stream: the REST snapshot and the synced ``depthUpdate`` diffs of one capture (hftbacktest's
``examples/usdm/btcusdt_20240808.gz`` by default: about 6 minutes, 445k level updates), flattened once
into numpy rows ``side`` (0 bid / 1 ask), ``price`` and ``size`` (int64 mantissas; tick 0.1 -> price
precision 1, lot 0.001 -> size precision 3) and ``flags`` (the snapshot's first row carries CLEAR), then
looped until it holds at least ``--updates`` rows. Every loop starts with the CLEAR row, so each replays
the same valid book sequence.

Measured, in level updates per second and nanoseconds per update:

- ferrotrade from Python, ``OrderBook.apply_batch`` on the whole arrays and in chunks of ``--chunk`` rows
  (the difference is the cost of a Python call);
- ferrotrade from Rust: the ``replay_rows`` example of ``ferrotrade-book`` (``cargo build --release -p
  ferrotrade-book --example replay_rows``) run on the same rows written to a temporary directory;
- NautilusTrader's ``OrderBook`` (L2_MBP) fed ``OrderBookDelta`` objects built beforehand (object
  construction is not timed), when ``nautilus_trader`` is installed;
- hftbacktest's ``ROIVectorMarketDepthBacktest`` replaying the stream as depth events from a numba loop
  (the whole backtester's event loop, no strategy), when ``hftbacktest`` is installed.

Peers are optional (``pip install .[bench]``); missing ones are skipped with a message. Build the
extension with ``maturin develop --release`` first: a debug build is many times slower.

Usage::

    python benchmarks/book_replay.py [--capture PATH] [--updates 10000000] [--chunk 10000]
"""

# Peers and the extension are imported where they are measured, so a missing one only skips its row.
# ruff: noqa: PLC0415

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from peers.capture import mantissa

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CAPTURE = REPO / "tests/data/sessions/binance-usdm/btcusdt_20240808.gz"
PRICE_PRECISION = 1
SIZE_PRECISION = 3
CLEAR = 4
SNAPSHOT = 1


@dataclass
class Stream:
    """Level-update rows of one pass over the capture."""

    side: np.ndarray
    price: np.ndarray
    size: np.ndarray
    flags: np.ndarray

    def __len__(self) -> int:
        return len(self.side)

    def looped(self, times: int) -> Stream:
        return Stream(*(np.tile(column, times) for column in (self.side, self.price, self.size, self.flags)))


def load_stream(capture: Path) -> Stream:
    """The snapshot plus the diffs synced by the Binance futures rule (drop ``u`` < lastUpdateId, the first
    kept diff straddles it, then each ``pu`` equals the previous ``u``); stops at the first gap."""
    snapshot: dict[str, object] | None = None
    diffs: list[dict[str, object]] = []
    with gzip.open(capture, "rt") as lines:
        for line in lines:
            payload = json.loads(line.split(" ", 1)[1])
            if "lastUpdateId" in payload:
                snapshot = snapshot or payload
            elif payload.get("data", {}).get("e") == "depthUpdate":
                diffs.append(payload["data"])
    if snapshot is None:
        raise SystemExit(f"{capture}: no REST snapshot line")
    last_update_id = snapshot["lastUpdateId"]
    rows: list[tuple[int, int, int, int]] = []

    def add(levels: list[list[str]], side: int, first_flags: int) -> None:
        for index, (price, size) in enumerate(levels):
            flags = first_flags if index == 0 else first_flags & ~CLEAR
            rows.append((side, mantissa(price, PRICE_PRECISION), mantissa(size, SIZE_PRECISION), flags))

    add(snapshot["bids"], 0, CLEAR | SNAPSHOT)  # type: ignore[arg-type]
    add(snapshot["asks"], 1, SNAPSHOT)  # type: ignore[arg-type]
    previous: int | None = None
    for diff in diffs:
        if diff["u"] < last_update_id:  # type: ignore[operator]
            continue
        if previous is None and diff["U"] > last_update_id:  # type: ignore[operator]
            raise SystemExit(f"{capture}: the first diff after the snapshot starts after it: not synced")
        if previous is not None and diff["pu"] != previous:
            print(f"gap after u={previous}; the stream stops there", file=sys.stderr)
            break
        previous = diff["u"]  # type: ignore[assignment]
        add(diff["b"], 0, 0)  # type: ignore[arg-type]
        add(diff["a"], 1, 0)  # type: ignore[arg-type]
    table = np.array(rows, dtype=np.int64)
    return Stream(
        side=table[:, 0].astype(np.uint8),
        price=np.ascontiguousarray(table[:, 1]),
        size=np.ascontiguousarray(table[:, 2]),
        flags=table[:, 3].astype(np.uint8),
    )


def best_of(runs: int, work: Callable[[], None]) -> float:
    """Median wall time of ``runs`` calls of ``work``, in seconds."""
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        timings.append(time.perf_counter() - start)
    return float(np.median(timings))


def ferrotrade_python(stream: Stream, chunk: int, runs: int) -> dict[str, float]:
    from ferrotrade.book import OrderBook

    book = OrderBook(PRICE_PRECISION, SIZE_PRECISION)
    results = {}
    whole = best_of(runs, lambda: book.apply_batch(stream.side, stream.price, stream.size, stream.flags))
    book.check_integrity()
    results["ferrotrade apply_batch (whole arrays)"] = whole / len(stream) * 1e9
    core_apply = super(OrderBook, book).apply_batch  # the native method: no per-call array checks

    def chunked() -> None:
        for start in range(0, len(stream), chunk):
            end = start + chunk
            core_apply(
                stream.side[start:end],
                stream.price[start:end],
                stream.size[start:end],
                stream.flags[start:end],
            )

    results[f"ferrotrade apply_batch (chunks of {chunk:,})"] = best_of(runs, chunked) / len(stream) * 1e9
    book.check_integrity()
    return results


def find_replay_binary() -> Path | None:
    candidates = [Path(os.environ["CARGO_TARGET_DIR"])] if "CARGO_TARGET_DIR" in os.environ else []
    candidates.append(REPO / "target")
    for target in candidates:
        binary = target / "release" / "examples" / "replay_rows"
        if binary.is_file():
            return binary
    return None


def ferrotrade_rust(stream: Stream, runs: int, binary: Path | None) -> dict[str, float]:
    binary = binary or find_replay_binary()
    if binary is None:
        build = "cargo build --release -p ferrotrade-book --example replay_rows"
        print(f"skip ferrotrade (Rust): build it with `{build}`")
        return {}
    with tempfile.TemporaryDirectory() as directory:
        folder = Path(directory)
        stream.side.tofile(folder / "side.u8")
        stream.flags.tofile(folder / "flags.u8")
        stream.price.astype("<i8").tofile(folder / "price.i64")
        stream.size.astype("<i8").tofile(folder / "size.i64")
        output = subprocess.run(
            [str(binary), str(folder), str(runs)], check=True, capture_output=True, text=True
        ).stdout
    median = next(line for line in output.splitlines() if line.startswith("median_ns_per_update="))
    return {f"ferrotrade from Rust ({binary.name} example)": float(median.split("=")[1])}


def check_same_book(peer: str, peer_best_bid: float, best_bid: float) -> None:
    """Warns when a peer ends the replay with another best bid than ferrotrade: it did other work."""
    if abs(peer_best_bid - best_bid) > 1e-9:
        print(f"warning: {peer} ends with best bid {peer_best_bid}, ferrotrade with {best_bid}")


def nautilus(stream: Stream, loops: int, best_bid: float) -> dict[str, float]:
    try:
        from nautilus_trader.model.book import OrderBook as NautilusBook
        from nautilus_trader.model.data import BookOrder, OrderBookDelta
        from nautilus_trader.model.enums import BookAction, BookType, OrderSide
        from nautilus_trader.model.identifiers import InstrumentId
        from nautilus_trader.model.objects import Price, Quantity
    except ImportError as error:
        print(f"skip NautilusTrader: {error} (pip install nautilus_trader)")
        return {}
    instrument = InstrumentId.from_str("BTCUSDT-PERP.BINANCE")
    deltas = []
    book_sides = (OrderSide.BUY, OrderSide.SELL)
    for index in range(len(stream)):
        side = book_sides[int(stream.side[index])]
        size = int(stream.size[index])
        action = BookAction.UPDATE if size > 0 else BookAction.DELETE
        order = BookOrder(
            side,
            Price(int(stream.price[index]) / 10**PRICE_PRECISION, PRICE_PRECISION),
            Quantity(size / 10**SIZE_PRECISION, SIZE_PRECISION),
            0,
        )
        deltas.append(OrderBookDelta(instrument, action, order, 0, index, 0, 0))
    book = NautilusBook(instrument, BookType.L2_MBP)

    def replay() -> None:
        for index, delta in enumerate(deltas):
            if stream.flags[index] & CLEAR:
                book.clear(0, 0)
            book.apply_delta(delta)

    seconds = best_of(loops, replay)
    check_same_book("NautilusTrader", book.best_bid_price().as_double(), best_bid)
    return {"NautilusTrader OrderBook.apply_delta (L2_MBP)": seconds / len(stream) * 1e9}


def hftbacktest(stream: Stream, loops: int, best_bid: float) -> dict[str, float]:
    try:
        import hftbacktest as hbt
        from numba import njit
    except ImportError as error:
        print(f"skip hftbacktest: {error} (pip install hftbacktest)")
        return {}
    events = np.zeros(len(stream), dtype=hbt.event_dtype)
    side_flag = np.where(stream.side == 0, hbt.BUY_EVENT, hbt.SELL_EVENT).astype(np.uint64)
    kind = np.where(stream.flags & SNAPSHOT, hbt.DEPTH_SNAPSHOT_EVENT, hbt.DEPTH_EVENT).astype(np.uint64)
    events["ev"] = hbt.EXCH_EVENT | hbt.LOCAL_EVENT | kind | side_flag
    timestamps = np.arange(len(stream), dtype=np.int64) + 1_000_000_000
    events["exch_ts"] = timestamps
    events["local_ts"] = timestamps
    events["px"] = stream.price / 10**PRICE_PRECISION
    events["qty"] = stream.size / 10**SIZE_PRECISION
    clears = np.flatnonzero(stream.flags & CLEAR)
    for position in clears[::-1]:  # a clear event before each snapshot, as hftbacktest's converters emit
        clear = events[position].copy()
        clear["ev"] = hbt.EXCH_EVENT | hbt.LOCAL_EVENT | hbt.DEPTH_CLEAR_EVENT | hbt.BUY_EVENT
        events = np.insert(events, position, clear)
    asset = (
        hbt.BacktestAsset()
        .data([events])
        .linear_asset(1.0)
        .constant_order_latency(0, 0)
        .risk_adverse_queue_model()
        .no_partial_fill_exchange()
        .trading_value_fee_model(0.0, 0.0)
        .tick_size(0.1)
        .lot_size(0.001)
        .roi_lb(10_000.0)
        .roi_ub(100_000.0)
    )

    @njit
    def run(backtest):  # type: ignore[no-untyped-def]
        while backtest.elapse(1_000_000_000) == 0:
            pass
        return backtest.depth(0).best_bid

    timings = []
    for _ in range(loops):
        backtest = hbt.ROIVectorMarketDepthBacktest([asset])
        start = time.perf_counter()
        check_same_book("hftbacktest", run(backtest), best_bid)
        timings.append(time.perf_counter() - start)
        backtest.close()
    # The first run includes numba's compilation; report the later ones when there are any.
    seconds = float(np.median(timings[1:] if len(timings) > 1 else timings))
    return {"hftbacktest ROIVectorMarketDepthBacktest replay": seconds / len(events) * 1e9}


def main() -> None:
    from ferrotrade.book import OrderBook

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--capture", type=Path, default=DEFAULT_CAPTURE)
    parser.add_argument("--updates", type=int, default=10_000_000, help="minimum level updates in the stream")
    parser.add_argument("--chunk", type=int, default=10_000, help="rows per apply_batch call in chunked mode")
    parser.add_argument("--runs", type=int, default=5, help="timed runs of the ferrotrade paths (median)")
    parser.add_argument("--peer-loops", type=int, default=2, help="passes over the capture for peers")
    parser.add_argument("--rust-binary", type=Path, default=None, help="path of the replay_rows example")
    args = parser.parse_args()

    one_pass = load_stream(args.capture)
    loops = -(-args.updates // len(one_pass))
    stream = one_pass.looped(loops)
    print(f"{args.capture.name}: {len(one_pass):,} level updates per pass x {loops} = {len(stream):,}")

    results: dict[str, float] = {}
    results.update(ferrotrade_python(stream, args.chunk, args.runs))
    results.update(ferrotrade_rust(stream, args.runs, args.rust_binary))
    peer_stream = one_pass.looped(max(args.peer_loops, 1))
    final = OrderBook(PRICE_PRECISION, SIZE_PRECISION)
    final.apply_batch(peer_stream.side, peer_stream.price, peer_stream.size, peer_stream.flags)
    final_bid = final.best_bid()
    best_bid = final_bid[0] if final_bid else float("nan")
    results.update(nautilus(peer_stream, 1, best_bid))
    results.update(hftbacktest(peer_stream, 3, best_bid))

    reference = results["ferrotrade apply_batch (whole arrays)"]
    width = max(map(len, results)) + 2
    print(f"\n{'path':<{width}}{'ns/update':>12}{'updates/s':>16}{'vs ferrotrade':>16}")
    print("-" * (width + 44))
    for name, nanoseconds in results.items():
        ratio = nanoseconds / reference
        print(f"{name:<{width}}{nanoseconds:>12.2f}{1e9 / nanoseconds:>16,.0f}{ratio:>15.1f}x")
    print("\n'vs ferrotrade' is time per update relative to ferrotrade apply_batch on whole arrays.")
    print(f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}")


if __name__ == "__main__":
    main()
