"""Reading the engine's bus: a ZeroMQ SUB that yields decoded envelopes and watches their numbering.

The live engine publishes two-frame messages ``[topic, Envelope]`` on a PUB socket (``[bus].publish``,
``tcp://127.0.0.1:5555`` by default; topics are listed in ``proto/ferrotrade/v1/envelope.proto``). A
:class:`Subscriber` connects, subscribes by topic prefix and iterates ``(topic, Envelope)`` pairs.

Why it counts
-------------
ZeroMQ drops messages for a subscriber that falls behind its high-water mark, silently. Every envelope
carries ``topic_seq``, numbered from 1 per exact topic, so a subscriber of a prefix can tell, per topic, that
it missed messages and how many: :class:`GapTracker` does that and :class:`Subscriber` exposes it
(``missed``, ``last_seq``, ``gaps``). A subscriber that connects while the engine runs starts in the
middle of every topic: the first number it sees per topic is not a gap (``joined_late`` says it happened).
A number lower than the last one means a new engine session (a restart): that topic starts over.

Invariants
----------
* Prices and sizes stay integer mantissas in the messages; :func:`price`, :func:`size` and
  :func:`to_decimal` turn them into exact ``Decimal`` values with the message's ``InstrumentRef``
  precisions (:func:`to_float` for display).
* :func:`to_dict` gives a plain, JSON-ready dict of an envelope: enum names instead of numbers, every
  mantissa field (``price``, ``bid_size``, ...) as a number, with the raw mantissa kept beside it as
  ``<field>_raw``.

Examples
--------
>>> from ferrotrade.v1 import envelope_pb2
>>> envelope = envelope_pb2.Envelope(seq=3, topic_seq=2)
>>> envelope.trade.instrument.symbol = "BTCUSDT"
>>> envelope.trade.instrument.price_precision = 1
>>> envelope.trade.instrument.size_precision = 3
>>> envelope.trade.price, envelope.trade.size = 617970, 2
>>> row = to_dict("trade.binance-usdm.BTCUSDT", envelope)
>>> row["kind"], row["trade"]["price"], row["trade"]["price_raw"], row["trade"]["size"]
('trade', 61797.0, 617970, 0.002)
>>> tracker = GapTracker()
>>> [tracker.observe("pnl", n) for n in (1, 2, 5, 6)]
[0, 0, 2, 0]
>>> tracker.missed, tracker.last_seq["pnl"]
(2, 6)
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from types import TracebackType
from typing import Any, Final

import zmq
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import DecodeError, Message

from ferrotrade.v1 import common_pb2, envelope_pb2

__all__ = [
    "DEFAULT_ENDPOINT",
    "Gap",
    "GapTracker",
    "Subscriber",
    "body_of",
    "message_to_dict",
    "price",
    "size",
    "to_decimal",
    "to_dict",
    "to_float",
]

DEFAULT_ENDPOINT: Final = "tcp://127.0.0.1:5555"
"""The engine's default PUB endpoint (``[bus].publish``)."""

DEFAULT_RCVHWM: Final = 1_000_000
"""Messages ZeroMQ queues for a subscriber before it drops (large: a monitor must not lose fills)."""

# Mantissa fields and the InstrumentRef precision that gives their decimals.
_PRICE_FIELDS: Final = frozenset({"price", "bid_price", "ask_price"})
_SIZE_FIELDS: Final = frozenset({"size", "bid_size", "ask_size", "quantity", "filled"})


def to_decimal(mantissa: int, precision: int) -> Decimal:
    """Return the exact value of a fixed-point ``mantissa`` with ``precision`` decimals.

    Examples
    --------
    >>> to_decimal(617970, 1), to_decimal(-2, 3), to_decimal(5, 0)
    (Decimal('61797.0'), Decimal('-0.002'), Decimal('5'))
    """
    return Decimal(mantissa).scaleb(-precision)


def to_float(mantissa: int, precision: int) -> float:
    """Return a fixed-point ``mantissa`` as the nearest float (for display and reports, not accounting).

    Examples
    --------
    >>> to_float(617970, 1)
    61797.0
    """
    return float(to_decimal(mantissa, precision))


def price(mantissa: int, instrument: common_pb2.InstrumentRef) -> Decimal:
    """Return a price mantissa of a message about ``instrument`` as an exact ``Decimal``."""
    return to_decimal(mantissa, instrument.price_precision)


def size(mantissa: int, instrument: common_pb2.InstrumentRef) -> Decimal:
    """Return a size (quantity) mantissa of a message about ``instrument`` as an exact ``Decimal``."""
    return to_decimal(mantissa, instrument.size_precision)


def body_of(envelope: envelope_pb2.Envelope) -> tuple[str, Message | None]:
    """Return ``(kind, body)``: the name of the envelope's ``body`` field (``"book"``, ...) and its message.

    ``("", None)`` for an envelope without a body (sent by a newer engine with a body this module does not
    know).
    """
    kind = envelope.WhichOneof("body")
    if kind is None:
        return "", None
    body: Message = getattr(envelope, kind)
    return kind, body


def _value(field: Any, value: Any) -> Any:
    """``value`` of ``field`` (a ``FieldDescriptor``) as plain data: a dict, an enum's name, or itself."""
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        return _message_dict(value)
    if field.type == FieldDescriptor.TYPE_ENUM and field.enum_type is not None:
        enum_value = field.enum_type.values_by_number.get(value)
        return enum_value.name if enum_value is not None else value
    return value


def _message_dict(message: Message) -> dict[str, Any]:
    """The fields of ``message`` as a dict: every scalar (defaults included), set sub-messages, one oneof."""
    out: dict[str, Any] = {}
    instrument = getattr(message, "instrument", None)
    precisions: tuple[int, int] | None = None
    if isinstance(instrument, common_pb2.InstrumentRef) and message.HasField("instrument"):
        precisions = (instrument.price_precision, instrument.size_precision)
        if message.DESCRIPTOR.name == "ParentOrder":
            # A parent counts in its own units (a routed one in its finest venue's precision).
            precisions = (instrument.price_precision, message.size_precision)  # type: ignore[attr-defined]
    for field in message.DESCRIPTOR.fields:
        oneof = field.containing_oneof
        if oneof is not None and message.WhichOneof(oneof.name) != field.name:
            continue
        repeated = field.is_repeated
        if field.type == FieldDescriptor.TYPE_MESSAGE and not repeated and not message.HasField(field.name):
            continue
        value = getattr(message, field.name)
        if repeated:
            out[field.name] = [_value(field, item) for item in value]
        else:
            out[field.name] = _value(field, value)
        digits: int | None = None
        if precisions is not None and field.name in _PRICE_FIELDS:
            digits = precisions[0]
        elif precisions is not None and field.name in _SIZE_FIELDS:
            digits = precisions[1]
        if digits is not None:
            raw = out[field.name]
            out[f"{field.name}_raw"] = raw
            out[field.name] = [to_float(m, digits) for m in raw] if repeated else to_float(raw, digits)
    return out


def message_to_dict(message: Message) -> dict[str, Any]:
    """Return any bus message (a ``Reply`` body, a ``BookSummary``...) as a plain dict, as :func:`to_dict`
    does for an envelope's body: integers stay integers, enums are names, mantissas are numbers with
    ``<field>_raw`` beside them.

    Examples
    --------
    >>> from ferrotrade.v1 import control_pb2
    >>> message_to_dict(control_pb2.KillReport(elapsed_ns=6311016, state=3))["state"]
    'TRADING_STATE_HALTED'
    """
    return _message_dict(message)


def to_dict(topic: str, envelope: envelope_pb2.Envelope) -> dict[str, Any]:
    """Return ``envelope`` as a plain, JSON-ready dict.

    The keys are ``topic``, ``seq``, ``topic_seq``, ``ts_ns``, ``kind`` (the body's name) and the body
    under its own name. Enums are their names (``"SIDE_BUY"``); price and size mantissa fields of messages
    with an ``instrument`` are numbers (``61797.0``) with the mantissa beside them as ``<field>_raw``;
    money amounts stay decimal strings, as the engine sends them.
    """
    kind, body = body_of(envelope)
    out: dict[str, Any] = {
        "topic": topic,
        "seq": envelope.seq,
        "topic_seq": envelope.topic_seq,
        "ts_ns": envelope.ts_ns,
        "kind": kind,
    }
    if body is not None:
        out[kind] = _message_dict(body)
    return out


@dataclass(frozen=True)
class Gap:
    """Messages of one topic a subscriber did not receive: numbers ``first`` to ``last`` (inclusive)."""

    topic: str
    first: int
    last: int

    @property
    def count(self) -> int:
        """How many messages the gap holds."""
        return self.last - self.first + 1


class GapTracker:
    """Per-topic ``topic_seq`` bookkeeping: the last number seen, and what was missed.

    Attributes
    ----------
    last_seq : dict[str, int]
        The last ``topic_seq`` received, per topic.
    missed : int
        Messages missed over all topics (sum of the gaps' counts).
    gaps : list[Gap]
        The most recent gaps (at most ``keep``), oldest first.
    joined_late : set[str]
        Topics whose first message received was not number 1 (the subscriber connected mid-run).
    restarts : int
        How often a topic's numbering went back (a new engine session).
    """

    def __init__(self, keep: int = 100) -> None:
        self.last_seq: dict[str, int] = {}
        self.missed = 0
        self.gaps: list[Gap] = []
        self.joined_late: set[str] = set()
        self.restarts = 0
        self._keep = keep

    def observe(self, topic: str, topic_seq: int) -> int:
        """Record message ``topic_seq`` of ``topic``; return how many messages of the topic were missed
        just before it (0 when it follows the previous one)."""
        last = self.last_seq.get(topic)
        self.last_seq[topic] = topic_seq
        if last is None:
            if topic_seq > 1:
                self.joined_late.add(topic)
            return 0
        if topic_seq <= last:
            self.restarts += 1
            return 0
        missing = topic_seq - last - 1
        if missing > 0:
            self.missed += missing
            self.gaps.append(Gap(topic, last + 1, topic_seq - 1))
            del self.gaps[: -self._keep]
        return missing


class Subscriber:
    """A ZeroMQ SUB socket on the engine's bus, iterating decoded ``(topic, Envelope)`` pairs.

    Parameters
    ----------
    endpoint : str
        The engine's PUB endpoint (``tcp://127.0.0.1:5555``, ``ipc://...``).
    topics : iterable of str
        Topic prefixes to subscribe to (``"fill."``, ``"book.binance-usdm."``); ``""`` is everything.
    rcvhwm : int
        The socket's receive high-water mark: messages queued before ZeroMQ drops (then counted as gaps).
    context : zmq.Context, optional
        The ZeroMQ context (the process-wide instance by default).

    Attributes
    ----------
    gaps : GapTracker
        Per-topic numbering; ``missed`` and ``last_seq`` are shortcuts to it.
    received : int
        Envelopes decoded so far.
    undecodable : int
        Messages that were not a two-frame ``[topic, Envelope]`` (skipped).
    last_gap : Gap or None
        The gap just before the envelope last returned, if there was one.

    Examples
    --------
    >>> with Subscriber("tcp://127.0.0.1:5555", topics=["fill."]) as bus:  # doctest: +SKIP
    ...     for topic, envelope in bus:
    ...         print(topic, envelope.fill.trade_id)
    """

    def __init__(
        self,
        endpoint: str = DEFAULT_ENDPOINT,
        topics: Iterable[str] = ("",),
        *,
        rcvhwm: int = DEFAULT_RCVHWM,
        context: zmq.Context[zmq.Socket[bytes]] | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.topics = tuple(topics)
        self.gaps = GapTracker()
        self.received = 0
        self.undecodable = 0
        self.last_gap: Gap | None = None
        self._socket: zmq.Socket[bytes] = (context or zmq.Context.instance()).socket(zmq.SUB)
        self._socket.setsockopt(zmq.RCVHWM, rcvhwm)
        self._socket.setsockopt(zmq.LINGER, 0)
        for topic in self.topics:
            self._socket.setsockopt(zmq.SUBSCRIBE, topic.encode())
        self._socket.connect(endpoint)

    def __repr__(self) -> str:
        return f"Subscriber({self.endpoint!r}, topics={self.topics!r}, received={self.received})"

    @property
    def missed(self) -> int:
        """Messages missed so far, over all topics (from ``topic_seq`` gaps)."""
        return self.gaps.missed

    @property
    def last_seq(self) -> dict[str, int]:
        """The last ``topic_seq`` received per topic."""
        return self.gaps.last_seq

    def receive(self, timeout_s: float | None = None) -> tuple[str, envelope_pb2.Envelope] | None:
        """Return the next ``(topic, envelope)``, or None when nothing arrived within ``timeout_s``.

        ``timeout_s=None`` waits as long as it takes. Malformed messages are skipped and counted in
        ``undecodable``.
        """
        timeout_ms = None if timeout_s is None else max(0, int(timeout_s * 1000))
        while True:
            # A message already queued is taken without a poll (one call less per message under load).
            try:
                frames = self._socket.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                if timeout_ms is not None and not self._socket.poll(timeout_ms):
                    return None
                frames = self._socket.recv_multipart()
            decoded = self._decode(frames)
            if decoded is not None:
                return decoded

    def _decode(self, frames: list[bytes]) -> tuple[str, envelope_pb2.Envelope] | None:
        if len(frames) != 2:
            self.undecodable += 1
            return None
        try:
            envelope = envelope_pb2.Envelope.FromString(frames[1])
            topic = frames[0].decode()
        except (DecodeError, UnicodeDecodeError):
            self.undecodable += 1
            return None
        self.received += 1
        missing = self.gaps.observe(topic, envelope.topic_seq)
        self.last_gap = Gap(topic, envelope.topic_seq - missing, envelope.topic_seq - 1) if missing else None
        return topic, envelope

    def __iter__(self) -> Iterator[tuple[str, envelope_pb2.Envelope]]:
        """Yield envelopes as they arrive, forever (stop with ``break`` or Ctrl-C)."""
        while True:
            decoded = self.receive(None)
            if decoded is not None:
                yield decoded

    def iter_for(self, timeout_s: float) -> Iterator[tuple[str, envelope_pb2.Envelope] | None]:
        """Yield envelopes as they arrive, and None whenever ``timeout_s`` passes without one.

        The None items let a loop do periodic work (redraw, rotate files, check a deadline) while idle.
        """
        while True:
            yield self.receive(timeout_s)

    def close(self) -> None:
        """Close the socket (idempotent)."""
        self._socket.close(linger=0)

    def __enter__(self) -> Subscriber:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
