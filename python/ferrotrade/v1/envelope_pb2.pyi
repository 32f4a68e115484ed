from ferrotrade.v1 import engine_pb2 as _engine_pb2
from ferrotrade.v1 import market_pb2 as _market_pb2
from ferrotrade.v1 import orders_pb2 as _orders_pb2
from ferrotrade.v1 import risk_pb2 as _risk_pb2
from ferrotrade.v1 import signal_pb2 as _signal_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Envelope(_message.Message):
    __slots__ = ("seq", "topic_seq", "ts_ns", "book", "trade", "quote", "signal", "order", "fill", "position", "pnl", "risk", "metrics", "heartbeat", "parent")
    SEQ_FIELD_NUMBER: _ClassVar[int]
    TOPIC_SEQ_FIELD_NUMBER: _ClassVar[int]
    TS_NS_FIELD_NUMBER: _ClassVar[int]
    BOOK_FIELD_NUMBER: _ClassVar[int]
    TRADE_FIELD_NUMBER: _ClassVar[int]
    QUOTE_FIELD_NUMBER: _ClassVar[int]
    SIGNAL_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    FILL_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    PNL_FIELD_NUMBER: _ClassVar[int]
    RISK_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    PARENT_FIELD_NUMBER: _ClassVar[int]
    seq: int
    topic_seq: int
    ts_ns: int
    book: _market_pb2.BookSummary
    trade: _market_pb2.Trade
    quote: _market_pb2.Quote
    signal: _signal_pb2.Signal
    order: _orders_pb2.OrderEvent
    fill: _orders_pb2.Fill
    position: _orders_pb2.Position
    pnl: _orders_pb2.Pnl
    risk: _risk_pb2.RiskEvent
    metrics: _engine_pb2.Metrics
    heartbeat: _engine_pb2.Heartbeat
    parent: _orders_pb2.ParentOrder
    def __init__(self, seq: _Optional[int] = ..., topic_seq: _Optional[int] = ..., ts_ns: _Optional[int] = ..., book: _Optional[_Union[_market_pb2.BookSummary, _Mapping]] = ..., trade: _Optional[_Union[_market_pb2.Trade, _Mapping]] = ..., quote: _Optional[_Union[_market_pb2.Quote, _Mapping]] = ..., signal: _Optional[_Union[_signal_pb2.Signal, _Mapping]] = ..., order: _Optional[_Union[_orders_pb2.OrderEvent, _Mapping]] = ..., fill: _Optional[_Union[_orders_pb2.Fill, _Mapping]] = ..., position: _Optional[_Union[_orders_pb2.Position, _Mapping]] = ..., pnl: _Optional[_Union[_orders_pb2.Pnl, _Mapping]] = ..., risk: _Optional[_Union[_risk_pb2.RiskEvent, _Mapping]] = ..., metrics: _Optional[_Union[_engine_pb2.Metrics, _Mapping]] = ..., heartbeat: _Optional[_Union[_engine_pb2.Heartbeat, _Mapping]] = ..., parent: _Optional[_Union[_orders_pb2.ParentOrder, _Mapping]] = ...) -> None: ...
