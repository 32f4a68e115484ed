"""The built-in market maker, written as a Python strategy.

The same rules as ``kind = "market_maker"`` (``rust/strategy/src/builtin/market_maker.rs``): one post-only
quote per side around the mid, ``half_spread_bps`` away, both quotes moved against the inventory by
``skew_bps_per_unit`` per unit held, bids rounded down and asks up to the tick, never crossing the touch;
a side is re-priced by amend only when its price moved ``requote_threshold_ticks`` or more; no side that
a full fill would take beyond ``max_position``; after a denial or rejection the side waits
``reject_backoff_ms``. Prices are computed in ticks (integers) so they always land on the grid.

It is the Python half of ``benchmarks/backtest_mm.py`` and an example of a Python strategy::

    [[strategy]]
    kind = "python"
    class = "strategies.market_maker:MarketMaker"   # resolved relative to the configuration file
    params = { instrument = "binance-usdm.BTCUSDT", order_size = 0.001 }
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ferrotrade.strategy import Strategy

if TYPE_CHECKING:
    from ferrotrade._core import Context, Fill, OrderEvent

_DONE = frozenset({"canceled", "expired", "rejected", "denied"})


@dataclass
class _Side:
    """The working quote of one side."""

    order: int | None = None
    ticks: int = 0
    quantity: float = 0.0
    filled: float = 0.0
    pending: bool = False
    last_action: int = -(1 << 62)
    blocked_until: int = 0


class MarketMaker(Strategy):
    """Inventory-skewed L2 market maker (see the module docstring)."""

    def __init__(
        self,
        *,
        instrument: str = "binance-usdm.BTCUSDT",
        order_size: float = 0.001,
        half_spread_bps: float = 2.0,
        skew_bps_per_unit: float = 100.0,
        max_position: float = 0.01,
        requote_threshold_ticks: int = 5,
        min_requote_interval_ms: int = 0,
        reject_backoff_ms: int = 1000,
        name: str | None = None,
    ) -> None:
        self.name = name or "market_maker_py"
        self.subscriptions = {instrument: ["book"]}
        self.instrument_name = instrument
        self.order_size = order_size
        self.half_spread = half_spread_bps / 1e4
        self.skew = skew_bps_per_unit / 1e4
        self.max_position = max_position
        self.threshold = requote_threshold_ticks
        self.min_interval = min_requote_interval_ms * 1_000_000
        self.backoff = reject_backoff_ms * 1_000_000
        self.instrument = -1
        self.tick = 0.0
        self.position = 0.0
        self.key: tuple[float, float, float] | None = None
        self.settled = False
        self.sides = {"buy": _Side(), "sell": _Side()}

    def on_start(self, ctx: Context) -> None:
        index = ctx.instrument_index(self.instrument_name)
        if index is None:
            raise ValueError(f"instrument {self.instrument_name!r} is not in this run")
        self.instrument = index
        self.tick = ctx.instrument(index)["tick_size"]
        self.position = ctx.position(index)

    def on_book(self, ctx: Context, instrument: int) -> None:
        touch = ctx.touch(instrument)
        if touch is None:
            return
        key = (touch[0], touch[1], self.position)
        if key == self.key and self.settled:
            return
        self.key = key
        bid_ticks = round(touch[0] / self.tick)
        ask_ticks = round(touch[1] / self.tick)
        mid_ticks = (bid_ticks + ask_ticks) / 2
        lean = self.skew * self.position
        want_bid = self.position + self.order_size <= self.max_position + 1e-12
        want_ask = self.position - self.order_size >= -self.max_position - 1e-12
        bid = (
            min(math.floor(mid_ticks * (1 - self.half_spread - lean) + 1e-9), ask_ticks - 1)
            if want_bid
            else None
        )
        ask = (
            max(math.ceil(mid_ticks * (1 + self.half_spread - lean) - 1e-9), bid_ticks + 1)
            if want_ask
            else None
        )
        now = ctx.now
        settled_bid = self._update(ctx, "buy", bid, now)
        settled_ask = self._update(ctx, "sell", ask, now)
        self.settled = settled_bid and settled_ask

    def _update(self, ctx: Context, side: str, ticks: int | None, now: int) -> bool:
        state = self.sides[side]
        if state.order is not None and state.pending:
            return False
        may_act = now >= state.blocked_until and now - state.last_action >= self.min_interval
        if ticks is None or ticks <= 0:
            if state.order is not None:
                ctx.cancel(state.order)
                state.pending = True
            return True
        if state.order is None:
            if not may_act:
                return False
            state.order = ctx.submit(
                self.instrument, side, self.order_size, ticks * self.tick, post_only=True
            )
            state.ticks, state.quantity, state.filled = ticks, self.order_size, 0.0
            state.last_action = now
            return True
        if abs(ticks - state.ticks) >= self.threshold:
            if not may_act:
                return False
            ctx.amend(state.order, ticks * self.tick, state.quantity)
            state.pending = True
            state.ticks = ticks
            state.last_action = now
        return True

    def _side_of(self, order: int) -> _Side | None:
        for state in self.sides.values():
            if state.order == order:
                return state
        return None

    def on_order(self, ctx: Context, event: OrderEvent) -> None:
        state = self._side_of(event.client_id)
        if state is None:
            return
        kind = event.kind
        if kind in _DONE:
            state.order = None
            state.pending = False
            if kind in ("denied", "rejected"):
                state.blocked_until = event.ts_recv + self.backoff
        elif kind in ("replaced", "replace_rejected", "cancel_rejected"):
            state.pending = False
        self.settled = False

    def on_fill(self, ctx: Context, fill: Fill) -> None:
        state = self._side_of(fill.client_id)
        if state is not None:
            state.filled += fill.quantity
            if state.filled >= state.quantity - 1e-12:
                state.order = None
                state.pending = False
        self.position = ctx.position(self.instrument)
        self.settled = False

    def on_stop(self, ctx: Context) -> None:
        ctx.cancel_all(self.instrument)
