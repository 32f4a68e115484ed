from ferrotrade.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Heartbeat(_message.Message):
    __slots__ = ("session", "mode", "state", "uptime_ns", "published", "dropped", "ts_ns")
    SESSION_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    UPTIME_NS_FIELD_NUMBER: _ClassVar[int]
    PUBLISHED_FIELD_NUMBER: _ClassVar[int]
    DROPPED_FIELD_NUMBER: _ClassVar[int]
    TS_NS_FIELD_NUMBER: _ClassVar[int]
    session: str
    mode: str
    state: _common_pb2.TradingState
    uptime_ns: int
    published: int
    dropped: int
    ts_ns: int
    def __init__(self, session: _Optional[str] = ..., mode: _Optional[str] = ..., state: _Optional[_Union[_common_pb2.TradingState, str]] = ..., uptime_ns: _Optional[int] = ..., published: _Optional[int] = ..., dropped: _Optional[int] = ..., ts_ns: _Optional[int] = ...) -> None: ...

class StageLatency(_message.Message):
    __slots__ = ("stage", "count", "p50_ns", "p99_ns", "p999_ns", "max_ns")
    STAGE_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    P50_NS_FIELD_NUMBER: _ClassVar[int]
    P99_NS_FIELD_NUMBER: _ClassVar[int]
    P999_NS_FIELD_NUMBER: _ClassVar[int]
    MAX_NS_FIELD_NUMBER: _ClassVar[int]
    stage: str
    count: int
    p50_ns: int
    p99_ns: int
    p999_ns: int
    max_ns: int
    def __init__(self, stage: _Optional[str] = ..., count: _Optional[int] = ..., p50_ns: _Optional[int] = ..., p99_ns: _Optional[int] = ..., p999_ns: _Optional[int] = ..., max_ns: _Optional[int] = ...) -> None: ...

class FeedHealth(_message.Message):
    __slots__ = ("venue", "messages", "resyncs", "reconnects", "rollovers", "synced", "instruments", "trades_lost")
    VENUE_FIELD_NUMBER: _ClassVar[int]
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    RESYNCS_FIELD_NUMBER: _ClassVar[int]
    RECONNECTS_FIELD_NUMBER: _ClassVar[int]
    ROLLOVERS_FIELD_NUMBER: _ClassVar[int]
    SYNCED_FIELD_NUMBER: _ClassVar[int]
    INSTRUMENTS_FIELD_NUMBER: _ClassVar[int]
    TRADES_LOST_FIELD_NUMBER: _ClassVar[int]
    venue: str
    messages: int
    resyncs: int
    reconnects: int
    rollovers: int
    synced: int
    instruments: int
    trades_lost: int
    def __init__(self, venue: _Optional[str] = ..., messages: _Optional[int] = ..., resyncs: _Optional[int] = ..., reconnects: _Optional[int] = ..., rollovers: _Optional[int] = ..., synced: _Optional[int] = ..., instruments: _Optional[int] = ..., trades_lost: _Optional[int] = ...) -> None: ...

class LabeledCount(_message.Message):
    __slots__ = ("label", "count")
    LABEL_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    label: str
    count: int
    def __init__(self, label: _Optional[str] = ..., count: _Optional[int] = ...) -> None: ...

class Metrics(_message.Message):
    __slots__ = ("ts_ns", "latency", "feeds", "messages", "messages_per_second", "orders", "cancels", "amends", "fills", "open_orders", "denials", "rejections", "equity", "realized_pnl", "fees", "state")
    TS_NS_FIELD_NUMBER: _ClassVar[int]
    LATENCY_FIELD_NUMBER: _ClassVar[int]
    FEEDS_FIELD_NUMBER: _ClassVar[int]
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    MESSAGES_PER_SECOND_FIELD_NUMBER: _ClassVar[int]
    ORDERS_FIELD_NUMBER: _ClassVar[int]
    CANCELS_FIELD_NUMBER: _ClassVar[int]
    AMENDS_FIELD_NUMBER: _ClassVar[int]
    FILLS_FIELD_NUMBER: _ClassVar[int]
    OPEN_ORDERS_FIELD_NUMBER: _ClassVar[int]
    DENIALS_FIELD_NUMBER: _ClassVar[int]
    REJECTIONS_FIELD_NUMBER: _ClassVar[int]
    EQUITY_FIELD_NUMBER: _ClassVar[int]
    REALIZED_PNL_FIELD_NUMBER: _ClassVar[int]
    FEES_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    ts_ns: int
    latency: _containers.RepeatedCompositeFieldContainer[StageLatency]
    feeds: _containers.RepeatedCompositeFieldContainer[FeedHealth]
    messages: int
    messages_per_second: float
    orders: int
    cancels: int
    amends: int
    fills: int
    open_orders: int
    denials: _containers.RepeatedCompositeFieldContainer[LabeledCount]
    rejections: _containers.RepeatedCompositeFieldContainer[LabeledCount]
    equity: str
    realized_pnl: str
    fees: str
    state: _common_pb2.TradingState
    def __init__(self, ts_ns: _Optional[int] = ..., latency: _Optional[_Iterable[_Union[StageLatency, _Mapping]]] = ..., feeds: _Optional[_Iterable[_Union[FeedHealth, _Mapping]]] = ..., messages: _Optional[int] = ..., messages_per_second: _Optional[float] = ..., orders: _Optional[int] = ..., cancels: _Optional[int] = ..., amends: _Optional[int] = ..., fills: _Optional[int] = ..., open_orders: _Optional[int] = ..., denials: _Optional[_Iterable[_Union[LabeledCount, _Mapping]]] = ..., rejections: _Optional[_Iterable[_Union[LabeledCount, _Mapping]]] = ..., equity: _Optional[str] = ..., realized_pnl: _Optional[str] = ..., fees: _Optional[str] = ..., state: _Optional[_Union[_common_pb2.TradingState, str]] = ...) -> None: ...
