"""The L2 market maker both peers run, as plain arithmetic on integer ticks and lots.

On every book update message, with the touch ``best_bid``/``best_ask`` (ticks) and the position ``q``
(BTC, held as an integer number of 0.001 lots):

- ``mid = (best_bid + best_ask) / 2``;
- desired bid = ``floor(mid * (1 - 2e-4) - q * mid * 1e-2)``, desired ask = ``ceil(mid * (1 + 2e-4) -
  q * mid * 1e-2)``: a half spread of 2 bps around mid, shifted by 100 bps of mid per BTC of inventory;
- never through the touch: bid <= best bid, ask >= best ask;
- no bid when ``q >= 0.01``, no ask when ``q <= -0.01``;
- each quote is one post-only GTC limit order of 0.001, re-quoted (cancel + new) only when the side has
  no working order or the desired price is >= 5 ticks from the working order's price.

The arithmetic runs in tick units (``x * mid / tick == x * mid_ticks``), so no price is divided by 0.1 and
both peers get the same integers from the same floats. The function has no Python-only construct, so the
hftbacktest module compiles this very function with numba: the two peers cannot drift apart.
"""

from __future__ import annotations

import math

HALF_SPREAD = 2e-4
SKEW_PER_BTC = 1e-2
ORDER_LOTS = 1
MAX_POSITION_LOTS = 10
REQUOTE_TICKS = 5
NO_QUOTE = -1
MAKER_FEE = 0.0002
TAKER_FEE = 0.0005
LATENCY_NS = 1_000_000


def desired_ticks(best_bid: int, best_ask: int, position_lots: int, lot: float) -> tuple[int, int]:
    """The (bid, ask) prices in ticks to quote; ``NO_QUOTE`` for a side that must not be quoted."""
    mid = (best_bid + best_ask) / 2.0
    shift = position_lots * lot * mid * SKEW_PER_BTC
    bid = NO_QUOTE
    ask = NO_QUOTE
    if position_lots < MAX_POSITION_LOTS:
        bid = min(math.floor(mid * (1.0 - HALF_SPREAD) - shift), best_bid)
    if position_lots > -MAX_POSITION_LOTS:
        ask = max(math.ceil(mid * (1.0 + HALF_SPREAD) - shift), best_ask)
    return bid, ask


def needs_requote(working_tick: int, desired_tick: int) -> bool:
    """Whether a working order at ``working_tick`` is too far from ``desired_tick`` to be kept."""
    return abs(desired_tick - working_tick) >= REQUOTE_TICKS
