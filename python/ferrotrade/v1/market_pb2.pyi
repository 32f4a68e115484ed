from ferrotrade.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class BookSummary(_message.Message):
    __slots__ = ("instrument", "ts_event_ns", "ts_recv_ns", "update_id", "synced", "bid_price", "bid_size", "ask_price", "ask_size")
    INSTRUMENT_FIELD_NUMBER: _ClassVar[int]
    TS_EVENT_NS_FIELD_NUMBER: _ClassVar[int]
    TS_RECV_NS_FIELD_NUMBER: _ClassVar[int]
    UPDATE_ID_FIELD_NUMBER: _ClassVar[int]
    SYNCED_FIELD_NUMBER: _ClassVar[int]
    BID_PRICE_FIELD_NUMBER: _ClassVar[int]
    BID_SIZE_FIELD_NUMBER: _ClassVar[int]
    ASK_PRICE_FIELD_NUMBER: _ClassVar[int]
    ASK_SIZE_FIELD_NUMBER: _ClassVar[int]
    instrument: _common_pb2.InstrumentRef
    ts_event_ns: int
    ts_recv_ns: int
    update_id: int
    synced: bool
    bid_price: _containers.RepeatedScalarFieldContainer[int]
    bid_size: _containers.RepeatedScalarFieldContainer[int]
    ask_price: _containers.RepeatedScalarFieldContainer[int]
    ask_size: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, instrument: _Optional[_Union[_common_pb2.InstrumentRef, _Mapping]] = ..., ts_event_ns: _Optional[int] = ..., ts_recv_ns: _Optional[int] = ..., update_id: _Optional[int] = ..., synced: _Optional[bool] = ..., bid_price: _Optional[_Iterable[int]] = ..., bid_size: _Optional[_Iterable[int]] = ..., ask_price: _Optional[_Iterable[int]] = ..., ask_size: _Optional[_Iterable[int]] = ...) -> None: ...

class Trade(_message.Message):
    __slots__ = ("instrument", "ts_event_ns", "ts_recv_ns", "trade_id", "price", "size", "aggressor")
    INSTRUMENT_FIELD_NUMBER: _ClassVar[int]
    TS_EVENT_NS_FIELD_NUMBER: _ClassVar[int]
    TS_RECV_NS_FIELD_NUMBER: _ClassVar[int]
    TRADE_ID_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    AGGRESSOR_FIELD_NUMBER: _ClassVar[int]
    instrument: _common_pb2.InstrumentRef
    ts_event_ns: int
    ts_recv_ns: int
    trade_id: int
    price: int
    size: int
    aggressor: _common_pb2.Side
    def __init__(self, instrument: _Optional[_Union[_common_pb2.InstrumentRef, _Mapping]] = ..., ts_event_ns: _Optional[int] = ..., ts_recv_ns: _Optional[int] = ..., trade_id: _Optional[int] = ..., price: _Optional[int] = ..., size: _Optional[int] = ..., aggressor: _Optional[_Union[_common_pb2.Side, str]] = ...) -> None: ...

class Quote(_message.Message):
    __slots__ = ("instrument", "ts_event_ns", "ts_recv_ns", "bid_price", "bid_size", "ask_price", "ask_size")
    INSTRUMENT_FIELD_NUMBER: _ClassVar[int]
    TS_EVENT_NS_FIELD_NUMBER: _ClassVar[int]
    TS_RECV_NS_FIELD_NUMBER: _ClassVar[int]
    BID_PRICE_FIELD_NUMBER: _ClassVar[int]
    BID_SIZE_FIELD_NUMBER: _ClassVar[int]
    ASK_PRICE_FIELD_NUMBER: _ClassVar[int]
    ASK_SIZE_FIELD_NUMBER: _ClassVar[int]
    instrument: _common_pb2.InstrumentRef
    ts_event_ns: int
    ts_recv_ns: int
    bid_price: int
    bid_size: int
    ask_price: int
    ask_size: int
    def __init__(self, instrument: _Optional[_Union[_common_pb2.InstrumentRef, _Mapping]] = ..., ts_event_ns: _Optional[int] = ..., ts_recv_ns: _Optional[int] = ..., bid_price: _Optional[int] = ..., bid_size: _Optional[int] = ..., ask_price: _Optional[int] = ..., ask_size: _Optional[int] = ...) -> None: ...
