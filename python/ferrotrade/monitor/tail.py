"""Following the bus message by message: one line per envelope, for people (``describe``) or tools (JSON).

``ferrotrade monitor tail`` prints, per message, the topic, its ``topic_seq`` and the fields an operator
reads first (a fill's side, size, price and fee; an order's status; a book's touch). With ``--json`` each
line is :func:`ferrotrade.monitor.subscriber.to_dict` of the envelope, so ``jq`` can take it. Gaps in a
topic's numbering (messages ZeroMQ dropped for this subscriber) are reported as they are seen, on stderr,
so that stdout holds only messages.

Examples
--------
>>> from ferrotrade.v1 import envelope_pb2
>>> envelope = envelope_pb2.Envelope(seq=9, topic_seq=4)
>>> fill = envelope.fill
>>> fill.instrument.price_precision, fill.instrument.size_precision = 1, 3
>>> fill.strategy, fill.side, fill.price, fill.quantity = "mm", 2, 618033, 2
>>> fill.fee, fill.trade_id = "0.02", 7
>>> describe("fill.binance-usdm.BTCUSDT", envelope)
'fill.binance-usdm.BTCUSDT #4 mm SELL 0.002 @ 61803.3 fee 0.02 trade 7'
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Final

from ferrotrade.monitor.subscriber import DEFAULT_ENDPOINT, Gap, Subscriber, to_decimal, to_dict
from ferrotrade.v1 import common_pb2, envelope_pb2, orders_pb2

__all__ = ["describe", "enum_name", "tail"]

_PREFIXES: Final = (
    "SIDE_",
    "TRADING_STATE_",
    "ORDER_STATUS_",
    "PARENT_STATUS_",
    "ORDER_EVENT_KIND_",
    "ORDER_TYPE_",
    "LIQUIDITY_",
)


def enum_name(message_enum: object, number: int) -> str:
    """The short name of an enum value (``SIDE_BUY`` -> ``BUY``) of a generated enum wrapper."""
    name_of = getattr(message_enum, "Name", None)
    try:
        name = str(name_of(number)) if name_of is not None else str(number)
    except ValueError:
        return str(number)
    for prefix in _PREFIXES:
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


def _px(mantissa: int, instrument: common_pb2.InstrumentRef) -> str:
    return str(to_decimal(mantissa, instrument.price_precision))


def _qty(mantissa: int, instrument: common_pb2.InstrumentRef) -> str:
    return str(to_decimal(mantissa, instrument.size_precision))


def _us(nanos: int) -> str:
    return f"{nanos / 1000:.1f}us"


def _book(envelope: envelope_pb2.Envelope) -> str:
    book = envelope.book
    i = book.instrument
    bid = f"{_qty(book.bid_size[0], i)} @ {_px(book.bid_price[0], i)}" if book.bid_price else "-"
    ask = f"{_qty(book.ask_size[0], i)} @ {_px(book.ask_price[0], i)}" if book.ask_price else "-"
    state = "synced" if book.synced else "UNSYNCED"
    levels = f"{len(book.bid_price)}x{len(book.ask_price)}"
    return f"bid {bid} | ask {ask} ({levels} levels, {state}, u={book.update_id})"


def _trade(envelope: envelope_pb2.Envelope) -> str:
    trade = envelope.trade
    i = trade.instrument
    taker = enum_name(common_pb2.Side, trade.aggressor)
    return f"{taker} {_qty(trade.size, i)} @ {_px(trade.price, i)} id {trade.trade_id}"


def _quote(envelope: envelope_pb2.Envelope) -> str:
    quote = envelope.quote
    i = quote.instrument
    return (
        f"bid {_qty(quote.bid_size, i)} @ {_px(quote.bid_price, i)} | "
        f"ask {_qty(quote.ask_size, i)} @ {_px(quote.ask_price, i)}"
    )


def _order(envelope: envelope_pb2.Envelope) -> str:
    order = envelope.order
    i = order.instrument
    price = _px(order.price, i) if order.price else "market"
    event = enum_name(orders_pb2.OrderEventKind, order.kind)
    status = enum_name(orders_pb2.OrderStatus, order.status)
    side = enum_name(common_pb2.Side, order.side)
    order_type = enum_name(orders_pb2.OrderType, order.order_type)
    text = (
        f"{order.strategy or '-'} #{order.client_id} {event} -> {status} {side} {order_type} "
        f"{_qty(order.filled, i)}/{_qty(order.quantity, i)} @ {price}"
    )
    if order.reduce_only:
        text += " reduce-only"
    return f"{text} ({order.reason})" if order.reason else text


def _fill(envelope: envelope_pb2.Envelope) -> str:
    fill = envelope.fill
    i = fill.instrument
    side = enum_name(common_pb2.Side, fill.side)
    return (
        f"{fill.strategy or '-'} {side} {_qty(fill.quantity, i)} @ {_px(fill.price, i)} "
        f"fee {fill.fee} trade {fill.trade_id}"
    )


def _position(envelope: envelope_pb2.Envelope) -> str:
    position = envelope.position
    i = position.instrument
    return (
        f"{position.strategy or 'account'} qty {_qty(position.quantity, i)} entry {position.entry_value} "
        f"realized {position.realized_pnl} fees {position.fees}"
    )


def _pnl(envelope: envelope_pb2.Envelope) -> str:
    pnl = envelope.pnl
    return (
        f"{pnl.strategy or 'account'} equity {pnl.equity} realized {pnl.realized} "
        f"unrealized {pnl.unrealized} fees {pnl.fees}"
    )


def _risk(envelope: envelope_pb2.Envelope) -> str:
    risk = envelope.risk
    if risk.WhichOneof("event") == "rejection":
        rejection = risk.rejection
        return f"denied {rejection.strategy or '-'} #{rejection.client_id}: {rejection.reason}"
    change = risk.state_change
    before = enum_name(common_pb2.TradingState, getattr(change, "from"))
    return f"{before} -> {enum_name(common_pb2.TradingState, change.to)} ({change.reason})"


def _signal(envelope: envelope_pb2.Envelope) -> str:
    signal = envelope.signal
    return f"{signal.strategy}.{signal.name} = {signal.value:g}"


def _parent(envelope: envelope_pb2.Envelope) -> str:
    parent = envelope.parent
    side = enum_name(common_pb2.Side, parent.side)
    status = enum_name(orders_pb2.ParentStatus, parent.status)
    size = parent.size_precision
    reason = f" ({parent.reason})" if parent.reason else ""
    return (
        f"{parent.strategy} #{parent.parent_id} {parent.algo} {side} "
        f"{to_decimal(parent.filled, size)}/{to_decimal(parent.quantity, size)} {status}{reason} "
        f"children {parent.children}"
    )


def _metrics(envelope: envelope_pb2.Envelope) -> str:
    metrics = envelope.metrics
    wire = next((s for s in metrics.latency if s.stage == "frame_to_wire"), None)
    latency = ""
    if wire is not None and wire.count:
        latency = f" frame_to_wire p50 {_us(wire.p50_ns)} p99 {_us(wire.p99_ns)}"
    return (
        f"{metrics.messages_per_second:,.0f} msg/s orders {metrics.orders} fills {metrics.fills} "
        f"open {metrics.open_orders} equity {metrics.equity}{latency}"
    )


def _heartbeat(envelope: envelope_pb2.Envelope) -> str:
    beat = envelope.heartbeat
    state = enum_name(common_pb2.TradingState, beat.state)
    return (
        f"{beat.mode} {state} up {beat.uptime_ns / 1e9:.1f}s "
        f"published {beat.published} dropped {beat.dropped}"
    )


_DESCRIBE: Final[dict[str, Callable[[envelope_pb2.Envelope], str]]] = {
    "book": _book,
    "trade": _trade,
    "quote": _quote,
    "order": _order,
    "fill": _fill,
    "position": _position,
    "pnl": _pnl,
    "risk": _risk,
    "signal": _signal,
    "parent": _parent,
    "metrics": _metrics,
    "heartbeat": _heartbeat,
}


def describe(topic: str, envelope: envelope_pb2.Envelope) -> str:
    """Return the one-line human form of an envelope: topic, ``#topic_seq`` and its key fields."""
    kind = envelope.WhichOneof("body")
    body = _DESCRIBE[kind](envelope) if kind in _DESCRIBE else "(no body)"
    return f"{topic} #{envelope.topic_seq} {body}"


def tail(
    endpoint: str = DEFAULT_ENDPOINT,
    topics: Iterable[str] = ("",),
    *,
    as_json: bool = False,
    count: int | None = None,
    write: Callable[[str], None] = print,
    on_gap: Callable[[Gap], None] | None = None,
    subscriber: Subscriber | None = None,
) -> int:
    """Print each message from the bus as one line until ``count`` messages (or Ctrl-C); return the count.

    Parameters
    ----------
    endpoint : str
        The engine's PUB endpoint.
    topics : iterable of str
        Topic prefixes (``""``: everything).
    as_json : bool
        One JSON object per line (:func:`~ferrotrade.monitor.subscriber.to_dict`) instead of text.
    count : int, optional
        Stop after this many messages.
    write : callable
        Where lines go (``print``).
    on_gap : callable, optional
        Called with each gap as it is seen.
    subscriber : Subscriber, optional
        Read from this subscriber instead of connecting one (it is not closed).
    """
    bus = subscriber if subscriber is not None else Subscriber(endpoint, topics)
    printed = 0
    try:
        while count is None or printed < count:
            received = bus.receive(None)
            if received is None:
                continue
            topic, envelope = received
            if on_gap is not None and bus.last_gap is not None:
                on_gap(bus.last_gap)
            write(json.dumps(to_dict(topic, envelope)) if as_json else describe(topic, envelope))
            printed += 1
    finally:
        if subscriber is None:
            bus.close()
    return printed
