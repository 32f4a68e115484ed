"""The benchmark market maker on hftbacktest: ``ROIVectorMarketDepthBacktest`` driven from a numba loop.

Strategy: ``benchmarks/peers/strategy.py`` (half spread 2 bps, skew 100 bps of mid per BTC, 0.001 BTC
post-only GTC quotes, |q| <= 0.01 BTC, re-quote by cancel + new when >= 5 ticks off); this module compiles
its very ``desired_ticks`` with numba. Instrument Binance USD-M BTCUSDT, tick 0.1, lot 0.001.

hftbacktest setup:

- loop: event driven, ``wait_next_feed(include_order_resp=False, timeout=10 s)``, which returns once all
  rows stamped with the next feed timestamp are applied, i.e. once per captured message. Trade-only
  messages are recognised through ``last_trades`` and do not run the quoting step, so the strategy runs on
  book update messages only, as in the NautilusTrader version;
- exchange: ``no_partial_fill_exchange`` with ``risk_adverse_queue_model`` (the queue ahead only shrinks
  on trades at the order's price); a GTX order that would cross is rejected by the exchange;
- latency: ``constant_order_latency(1 ms entry, 1 ms response)``; the feed has no latency (both the
  exchange and local timestamps of a row are the collector's receive time);
- fees: ``trading_value_fee_model(maker 0.0002, taker 0.0005)``; ``linear_asset(1.0)``;
- market depth: ROI vector 10,000..100,000 USDT.

Data: ``capture.load_capture`` rows turned into hftbacktest events (level updates as depth events, the
snapshot's as depth-snapshot events preceded by a full clear of both sides, trades as trade events with
the aggressor as side). ``events`` counts level updates and trades, not the two clear rows per pass.

Timing: ``seconds`` covers the event loop only. Building the event array, constructing the backtest
(which takes the array) and numba's compilation (done on a short warm-up run) are in
``prepare_seconds``. ``cpu_seconds`` is the process CPU time of the run, which tells a slow run from a
machine busy with other work. ``peak_rss_mb`` is the process-wide ``ru_maxrss`` at the end, so it includes the
loaded capture and whatever ran before in the same process.

Usage::

    python -m benchmarks.peers.hftbacktest_mm --loops 2
"""

from __future__ import annotations

import time
from typing import Any

import hftbacktest as hbt
import numpy as np
from numba import njit

from .capture import CLEAR, LEVEL, LOT, PRICE_PRECISION, SIZE_PRECISION, SNAPSHOT, TICK, Capture, load_capture
from .report import main, peak_rss_mb
from .strategy import (
    LATENCY_NS,
    MAKER_FEE,
    NO_QUOTE,
    ORDER_LOTS,
    TAKER_FEE,
    desired_ticks,
    needs_requote,
)

ROI_LOW = 10_000.0
ROI_HIGH = 100_000.0
FEED_TIMEOUT_NS = 10_000_000_000
WARM_UP_ROWS = 20_000
# ``wait_next_feed`` results as returned through hftbacktest's Python binding; anything else is an error.
TIMEOUT = 0
END_OF_DATA = 1
MARKET_FEED = 2

_desired_ticks = njit(desired_ticks)
_needs_requote = njit(needs_requote)


def build_events(capture: Capture) -> np.ndarray:
    """hftbacktest events for ``capture``: each snapshot preceded by a clear of the bids and of the asks."""
    events = np.zeros(len(capture), dtype=hbt.event_dtype)
    is_level = capture.kind == LEVEL
    kind = np.where(
        is_level,
        np.where(capture.flags & SNAPSHOT, hbt.DEPTH_SNAPSHOT_EVENT, hbt.DEPTH_EVENT),
        hbt.TRADE_EVENT,
    ).astype(np.uint64)
    side = np.where(capture.side == 0, hbt.BUY_EVENT, hbt.SELL_EVENT).astype(np.uint64)
    events["ev"] = hbt.EXCH_EVENT | hbt.LOCAL_EVENT | kind | side
    events["exch_ts"] = capture.ts
    events["local_ts"] = capture.ts
    events["px"] = capture.price / 10**PRICE_PRECISION
    events["qty"] = capture.size / 10**SIZE_PRECISION
    # A full clear: bids from the bottom of the ROI up, asks from the best up to the top of the ROI.
    clears = np.flatnonzero(capture.flags & CLEAR)
    clear_rows = np.zeros(2 * len(clears), dtype=hbt.event_dtype)
    base = hbt.EXCH_EVENT | hbt.LOCAL_EVENT | hbt.DEPTH_CLEAR_EVENT
    clear_rows["ev"][0::2] = base | hbt.BUY_EVENT
    clear_rows["px"][0::2] = ROI_LOW
    clear_rows["ev"][1::2] = base | hbt.SELL_EVENT
    clear_rows["px"][1::2] = ROI_HIGH
    clear_rows["exch_ts"] = np.repeat(capture.ts[clears], 2)
    clear_rows["local_ts"] = clear_rows["exch_ts"]
    return np.insert(events, np.repeat(clears, 2), clear_rows)


def make_backtest(events: np.ndarray) -> Any:
    """The backtest over ``events``; it reads the array in place, so keep it alive until ``close()``."""
    asset = (
        hbt.BacktestAsset()
        .data([events])
        .linear_asset(1.0)
        .constant_order_latency(LATENCY_NS, LATENCY_NS)
        .risk_adverse_queue_model()
        .no_partial_fill_exchange()
        .trading_value_fee_model(MAKER_FEE, TAKER_FEE)
        .tick_size(TICK)
        .lot_size(LOT)
        .roi_lb(ROI_LOW)
        .roi_ub(ROI_HIGH)
        .last_trades_capacity(64)
    )
    return hbt.ROIVectorMarketDepthBacktest([asset])


@njit
def _quote_side(backtest: Any, order_id: int, desired: int, buy: bool, next_id: int) -> tuple[int, int]:
    """Keeps one side's quote at ``desired``; returns the side's order id (0: none) and the next free id.

    An order with a request in flight (new or cancel) is left alone until its response arrives.
    """
    orders = backtest.orders(0)
    if order_id != 0 and order_id in orders:
        order = orders.get(order_id)
        if order.req != hbt.NONE:
            return order_id, next_id
        if order.status == hbt.NEW:
            if desired != NO_QUOTE and not _needs_requote(order.price_tick, desired):
                return order_id, next_id
            backtest.cancel(0, order_id, False)
            order_id = 0
    if desired == NO_QUOTE:
        return 0, next_id
    price = desired * TICK
    if buy:
        backtest.submit_buy_order(0, next_id, price, ORDER_LOTS * LOT, hbt.GTX, hbt.LIMIT, False)
    else:
        backtest.submit_sell_order(0, next_id, price, ORDER_LOTS * LOT, hbt.GTX, hbt.LIMIT, False)
    return next_id, next_id + 1


@njit
def _run_strategy(backtest: Any) -> tuple[int, int]:
    """Runs the market maker to the end of the data; returns (orders submitted, last wait status)."""
    bid_id = 0
    ask_id = 0
    next_id = 1
    while True:
        status = backtest.wait_next_feed(False, FEED_TIMEOUT_NS)
        if status == TIMEOUT:
            continue
        if status != MARKET_FEED:
            return next_id - 1, status
        if len(backtest.last_trades(0)) > 0:
            backtest.clear_last_trades(0)
            continue  # a trade message: the book is unchanged, the quotes wait for the next book update
        depth = backtest.depth(0)
        best_bid = depth.best_bid_tick
        best_ask = depth.best_ask_tick
        if best_bid <= 0 or best_ask >= ROI_HIGH / TICK or best_bid >= best_ask:
            continue  # a side is empty (INVALID_MIN / INVALID_MAX) or the book is crossed: nothing to quote
        backtest.clear_inactive_orders(0)
        position_lots = round(backtest.position(0) / LOT)
        bid, ask = _desired_ticks(best_bid, best_ask, position_lots, LOT)
        bid_id, next_id = _quote_side(backtest, bid_id, bid, True, next_id)
        ask_id, next_id = _quote_side(backtest, ask_id, ask, False, next_id)


def run(loops: int) -> dict[str, float | int]:
    """Replays the bundled capture ``loops`` times through the market maker; see the module docstring."""
    prepare_start = time.perf_counter()
    one_pass = load_capture()
    capture = one_pass.looped(loops)
    events = build_events(capture)
    warm_up_events = build_events(one_pass.head(WARM_UP_ROWS))
    warm_up = make_backtest(warm_up_events)
    _run_strategy(warm_up)  # numba compiles here, outside the timed run
    warm_up.close()
    del warm_up_events
    backtest = make_backtest(events)
    prepare_seconds = time.perf_counter() - prepare_start

    start, cpu_start = time.perf_counter(), time.process_time()
    orders, status = _run_strategy(backtest)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    if status != END_OF_DATA:
        raise RuntimeError(f"hftbacktest stopped with status {status} before the end of the data")
    state = backtest.state_values(0)
    fills, position = int(state.num_trades), float(backtest.position(0))
    backtest.close()
    market_events = len(capture)
    return {
        "events": market_events,
        "seconds": seconds,
        "events_per_s": market_events / seconds,
        "cpu_seconds": cpu_seconds,
        "prepare_seconds": prepare_seconds,
        "orders": int(orders),
        "fills": fills,
        "final_position": position,
        "peak_rss_mb": peak_rss_mb(),
    }


if __name__ == "__main__":
    main(run, __doc__)
