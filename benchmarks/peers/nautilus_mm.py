"""The benchmark market maker on NautilusTrader: a ``Strategy`` in a ``BacktestEngine``.

Strategy: ``benchmarks/peers/strategy.py`` (half spread 2 bps, skew 100 bps of mid per BTC, 0.001 BTC
post-only GTC quotes, |q| <= 0.01 BTC, re-quote by cancel + new when >= 5 ticks off), the same
``desired_ticks`` the hftbacktest version compiles. Instrument BTCUSDT-PERP.BINANCE (a ``CryptoPerpetual``,
tick 0.1, lot 0.001, maker fee 0.0002, taker fee 0.0005).

NautilusTrader setup:

- data: one ``OrderBookDeltas`` per captured depth message (the snapshot's starts with a CLEAR delta and
  carries F_SNAPSHOT; the last delta of each message carries F_LAST) and one ``TradeTick`` per trade, so
  ``on_order_book_deltas`` runs once per book update message, as the hftbacktest version runs once per
  depth message; ``ts_event`` = ``ts_init`` = the collector's receive time;
- the strategy reads the touch from the data engine's managed L2 book (``cache.order_book``) and tracks its
  position from its own ``OrderFilled`` events; an order in flight (submitted, pending cancel) is left
  alone until the venue answers;
- venue: ``SimulatedExchange`` with an L2_MBP book, NETTING, a margin account of 1,000,000 USDT, the
  default ``FillModel()`` (limit orders fill when the book reaches their price, no queue position) and
  default fee model (the instrument's maker/taker fees); trades move only the last price
  (``trade_execution`` left at its default, False: with an L2 book, True only makes the matching engine
  log "no fills from book when fills were expected" for orders a trade reaches, without filling them);
  post-only orders that would take are rejected by the venue. The strategy does not subscribe to
  trades: it does not use them;
- latency: ``LatencyModel(base_latency_nanos=1 ms)`` on every command (insert, cancel); NautilusTrader
  has no response latency: the venue's events reach the strategy at the time they happen.

``events`` counts level updates and trades (not the CLEAR delta of each pass). ``seconds`` is the wall
time of ``BacktestEngine.run()``; building the data objects and ``add_data`` (which sorts them) are in
``prepare_seconds``. ``cpu_seconds`` is the process CPU time of the run, which tells a slow run from a
machine busy with other work. ``peak_rss_mb`` is the process-wide ``ru_maxrss`` at the end.

Usage::

    python -m benchmarks.peers.nautilus_mm --loops 2
"""

from __future__ import annotations

import time
from decimal import Decimal

from nautilus_trader.backtest.engine import BacktestEngine
from nautilus_trader.backtest.models import FillModel, LatencyModel
from nautilus_trader.config import BacktestEngineConfig, LoggingConfig, StrategyConfig
from nautilus_trader.model.book import OrderBook
from nautilus_trader.model.currencies import BTC, USDT
from nautilus_trader.model.data import OrderBookDelta, OrderBookDeltas, TradeTick
from nautilus_trader.model.enums import (
    AccountType,
    AggressorSide,
    BookAction,
    BookType,
    OmsType,
    OrderSide,
    OrderStatus,
    RecordFlag,
    TimeInForce,
)
from nautilus_trader.model.events import OrderFilled
from nautilus_trader.model.identifiers import InstrumentId, Symbol, TradeId, Venue
from nautilus_trader.model.instruments import CryptoPerpetual
from nautilus_trader.model.objects import FIXED_PRECISION, Money, Price, Quantity
from nautilus_trader.model.orders import LimitOrder
from nautilus_trader.trading.strategy import Strategy

from .capture import CLEAR, LAST, LEVEL, LOT, PRICE_PRECISION, SIZE_PRECISION, SNAPSHOT, Capture, load_capture
from .report import main, peak_rss_mb
from .strategy import LATENCY_NS, MAKER_FEE, NO_QUOTE, ORDER_LOTS, TAKER_FEE, desired_ticks, needs_requote

VENUE = Venue("BINANCE")
INSTRUMENT_ID = InstrumentId(Symbol("BTCUSDT-PERP"), VENUE)
PRICE_SCALE = 10 ** (FIXED_PRECISION - PRICE_PRECISION)  # raw fixed-point units per tick
SIZE_SCALE = 10 ** (FIXED_PRECISION - SIZE_PRECISION)  # raw fixed-point units per lot
CANCELLABLE = (OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED)


def instrument() -> CryptoPerpetual:
    """Binance USD-M BTCUSDT with the benchmark's fees."""
    return CryptoPerpetual(
        instrument_id=INSTRUMENT_ID,
        raw_symbol=Symbol("BTCUSDT"),
        base_currency=BTC,
        quote_currency=USDT,
        settlement_currency=USDT,
        is_inverse=False,
        price_precision=PRICE_PRECISION,
        price_increment=Price.from_str("0.1"),
        size_precision=SIZE_PRECISION,
        size_increment=Quantity.from_str("0.001"),
        max_quantity=Quantity.from_str("1000.000"),
        min_quantity=Quantity.from_str("0.001"),
        max_notional=None,
        min_notional=Money(10.00, USDT),
        max_price=Price.from_str("809484.0"),
        min_price=Price.from_str("261.1"),
        margin_init=Decimal("0.0500"),
        margin_maint=Decimal("0.0250"),
        maker_fee=Decimal(str(MAKER_FEE)),
        taker_fee=Decimal(str(TAKER_FEE)),
        ts_event=0,
        ts_init=0,
    )


def build_data(capture: Capture) -> list[OrderBookDeltas | TradeTick]:
    """NautilusTrader data objects for ``capture``, in arrival order (see the module docstring)."""
    data: list[OrderBookDeltas | TradeTick] = []
    sides = (OrderSide.BUY, OrderSide.SELL)
    aggressors = (AggressorSide.BUYER, AggressorSide.SELLER)
    pending: list[OrderBookDelta] = []
    kinds, row_sides, flags_column = capture.kind.tolist(), capture.side.tolist(), capture.flags.tolist()
    prices, sizes, stamps = capture.price.tolist(), capture.size.tolist(), capture.ts.tolist()
    for index, kind in enumerate(kinds):
        ts, flags = stamps[index], flags_column[index]
        if kind != LEVEL:
            size = sizes[index] * SIZE_SCALE
            trade_id = TradeId(str(index))
            price = prices[index] * PRICE_SCALE
            side = aggressors[row_sides[index]]
            data.append(
                TradeTick.from_raw(
                    INSTRUMENT_ID, price, PRICE_PRECISION, size, SIZE_PRECISION, side, trade_id, ts, ts
                )
            )
            continue
        record_flags = RecordFlag.F_SNAPSHOT if flags & SNAPSHOT else 0
        if flags & CLEAR:
            pending.append(OrderBookDelta.clear(INSTRUMENT_ID, 0, ts, ts))
        if flags & LAST:
            record_flags |= RecordFlag.F_LAST
        size = sizes[index]
        action = BookAction.UPDATE if size > 0 else BookAction.DELETE
        pending.append(
            OrderBookDelta.from_raw(
                INSTRUMENT_ID,
                action,
                sides[row_sides[index]],
                prices[index] * PRICE_SCALE,
                PRICE_PRECISION,
                size * SIZE_SCALE,
                SIZE_PRECISION,
                0,
                record_flags,
                index,
                ts,
                ts,
            )
        )
        if flags & LAST:
            data.append(OrderBookDeltas(INSTRUMENT_ID, pending))
            pending = []
    return data


class MarketMakerConfig(StrategyConfig, frozen=True):
    """The instrument to quote."""

    instrument_id: InstrumentId


class MarketMaker(Strategy):
    """Quotes both sides around mid with an inventory skew; counts its orders and fills."""

    def __init__(self, config: MarketMakerConfig) -> None:
        super().__init__(config)
        self.instrument_id = config.instrument_id
        self.position_lots = 0
        self.orders_submitted = 0
        self.fills = 0
        self._bid: LimitOrder | None = None
        self._ask: LimitOrder | None = None
        self._book: OrderBook | None = None
        self._quantity = Quantity(ORDER_LOTS * LOT, SIZE_PRECISION)

    def on_start(self) -> None:
        self.subscribe_order_book_deltas(self.instrument_id, BookType.L2_MBP)

    def on_order_book_deltas(self, deltas: OrderBookDeltas) -> None:
        book = self._book or self.cache.order_book(self.instrument_id)
        self._book = book
        best_bid, best_ask = book.best_bid_price(), book.best_ask_price()
        if best_bid is None or best_ask is None or best_bid >= best_ask:
            return  # a side is empty or the book is crossed: nothing to quote on
        bid_tick = best_bid.raw // PRICE_SCALE
        ask_tick = best_ask.raw // PRICE_SCALE
        bid, ask = desired_ticks(bid_tick, ask_tick, self.position_lots, LOT)
        self._bid = self._quote_side(self._bid, bid, OrderSide.BUY)
        self._ask = self._quote_side(self._ask, ask, OrderSide.SELL)

    def _quote_side(self, order: LimitOrder | None, desired: int, side: OrderSide) -> LimitOrder | None:
        """Keeps one side's quote at ``desired``; returns the side's working order, if any."""
        if order is not None and not order.is_closed:
            if order.status not in CANCELLABLE:
                return order  # a request is in flight: wait for the venue's answer
            if desired != NO_QUOTE and not needs_requote(order.price.raw // PRICE_SCALE, desired):
                return order
            self.cancel_order(order)
        if desired == NO_QUOTE:
            return None
        new = self.order_factory.limit(
            self.instrument_id,
            side,
            self._quantity,
            Price.from_raw(desired * PRICE_SCALE, PRICE_PRECISION),
            time_in_force=TimeInForce.GTC,
            post_only=True,
        )
        self.submit_order(new)
        self.orders_submitted += 1
        return new

    def on_order_filled(self, event: OrderFilled) -> None:
        self.fills += 1
        lots = event.last_qty.raw // SIZE_SCALE
        self.position_lots += lots if event.order_side == OrderSide.BUY else -lots


def make_engine() -> BacktestEngine:
    engine = BacktestEngine(
        BacktestEngineConfig(trader_id="BENCH-001", logging=LoggingConfig(log_level="ERROR"))
    )
    engine.add_venue(
        venue=VENUE,
        oms_type=OmsType.NETTING,
        account_type=AccountType.MARGIN,
        base_currency=USDT,
        starting_balances=[Money(1_000_000, USDT)],
        fill_model=FillModel(),
        latency_model=LatencyModel(base_latency_nanos=LATENCY_NS),
        book_type=BookType.L2_MBP,
        trade_execution=False,
    )
    engine.add_instrument(instrument())
    return engine


def run(loops: int) -> dict[str, float | int]:
    """Replays the bundled capture ``loops`` times through the market maker; see the module docstring."""
    prepare_start = time.perf_counter()
    capture = load_capture().looped(loops)
    data = build_data(capture)
    engine = make_engine()
    deltas = [item for item in data if isinstance(item, OrderBookDeltas)]
    trades = [item for item in data if isinstance(item, TradeTick)]
    del data
    engine.add_data(deltas)
    engine.add_data(trades)
    del deltas, trades
    strategy = MarketMaker(MarketMakerConfig(instrument_id=INSTRUMENT_ID))
    engine.add_strategy(strategy)
    prepare_seconds = time.perf_counter() - prepare_start

    start, cpu_start = time.perf_counter(), time.process_time()
    engine.run()
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    market_events = len(capture)
    result = {
        "events": market_events,
        "seconds": seconds,
        "events_per_s": market_events / seconds,
        "cpu_seconds": cpu_seconds,
        "prepare_seconds": prepare_seconds,
        "orders": strategy.orders_submitted,
        "fills": strategy.fills,
        "final_position": strategy.position_lots * LOT,
        "peak_rss_mb": peak_rss_mb(),
    }
    engine.dispose()
    return result


if __name__ == "__main__":
    main(run, __doc__)
