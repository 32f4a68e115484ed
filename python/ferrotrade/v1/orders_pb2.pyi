from ferrotrade.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class OrderType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ORDER_TYPE_UNSPECIFIED: _ClassVar[OrderType]
    ORDER_TYPE_MARKET: _ClassVar[OrderType]
    ORDER_TYPE_LIMIT: _ClassVar[OrderType]
    ORDER_TYPE_STOP_MARKET: _ClassVar[OrderType]
    ORDER_TYPE_STOP_LIMIT: _ClassVar[OrderType]

class OrderStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ORDER_STATUS_UNSPECIFIED: _ClassVar[OrderStatus]
    ORDER_STATUS_INITIALIZED: _ClassVar[OrderStatus]
    ORDER_STATUS_DENIED: _ClassVar[OrderStatus]
    ORDER_STATUS_SUBMITTED: _ClassVar[OrderStatus]
    ORDER_STATUS_ACCEPTED: _ClassVar[OrderStatus]
    ORDER_STATUS_REJECTED: _ClassVar[OrderStatus]
    ORDER_STATUS_PENDING_CANCEL: _ClassVar[OrderStatus]
    ORDER_STATUS_PENDING_REPLACE: _ClassVar[OrderStatus]
    ORDER_STATUS_PARTIALLY_FILLED: _ClassVar[OrderStatus]
    ORDER_STATUS_FILLED: _ClassVar[OrderStatus]
    ORDER_STATUS_CANCELED: _ClassVar[OrderStatus]
    ORDER_STATUS_EXPIRED: _ClassVar[OrderStatus]
    ORDER_STATUS_TRIGGERED: _ClassVar[OrderStatus]

class OrderEventKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ORDER_EVENT_KIND_UNSPECIFIED: _ClassVar[OrderEventKind]
    ORDER_EVENT_KIND_DENIED: _ClassVar[OrderEventKind]
    ORDER_EVENT_KIND_SUBMITTED: _ClassVar[OrderEventKind]
    ORDER_EVENT_KIND_ACCEPTED: _ClassVar[OrderEventKind]
    ORDER_EVENT_KIND_REJECTED: _ClassVar[OrderEventKind]
    ORDER_EVENT_KIND_PENDING_CANCEL: _ClassVar[OrderEventKind]
    ORDER_EVENT_KIND_CANCELED: _ClassVar[OrderEventKind]
    ORDER_EVENT_KIND_CANCEL_REJECTED: _ClassVar[OrderEventKind]
    ORDER_EVENT_KIND_PENDING_REPLACE: _ClassVar[OrderEventKind]
    ORDER_EVENT_KIND_REPLACED: _ClassVar[OrderEventKind]
    ORDER_EVENT_KIND_REPLACE_REJECTED: _ClassVar[OrderEventKind]
    ORDER_EVENT_KIND_TRIGGERED: _ClassVar[OrderEventKind]
    ORDER_EVENT_KIND_EXPIRED: _ClassVar[OrderEventKind]
    ORDER_EVENT_KIND_FILLED: _ClassVar[OrderEventKind]

class Liquidity(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LIQUIDITY_UNSPECIFIED: _ClassVar[Liquidity]
    LIQUIDITY_MAKER: _ClassVar[Liquidity]
    LIQUIDITY_TAKER: _ClassVar[Liquidity]

class ParentStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PARENT_STATUS_UNSPECIFIED: _ClassVar[ParentStatus]
    PARENT_STATUS_SCHEDULED: _ClassVar[ParentStatus]
    PARENT_STATUS_WORKING: _ClassVar[ParentStatus]
    PARENT_STATUS_PAUSED: _ClassVar[ParentStatus]
    PARENT_STATUS_CANCELING: _ClassVar[ParentStatus]
    PARENT_STATUS_COMPLETED: _ClassVar[ParentStatus]
    PARENT_STATUS_CANCELED: _ClassVar[ParentStatus]
    PARENT_STATUS_EXPIRED: _ClassVar[ParentStatus]
    PARENT_STATUS_FAILED: _ClassVar[ParentStatus]
ORDER_TYPE_UNSPECIFIED: OrderType
ORDER_TYPE_MARKET: OrderType
ORDER_TYPE_LIMIT: OrderType
ORDER_TYPE_STOP_MARKET: OrderType
ORDER_TYPE_STOP_LIMIT: OrderType
ORDER_STATUS_UNSPECIFIED: OrderStatus
ORDER_STATUS_INITIALIZED: OrderStatus
ORDER_STATUS_DENIED: OrderStatus
ORDER_STATUS_SUBMITTED: OrderStatus
ORDER_STATUS_ACCEPTED: OrderStatus
ORDER_STATUS_REJECTED: OrderStatus
ORDER_STATUS_PENDING_CANCEL: OrderStatus
ORDER_STATUS_PENDING_REPLACE: OrderStatus
ORDER_STATUS_PARTIALLY_FILLED: OrderStatus
ORDER_STATUS_FILLED: OrderStatus
ORDER_STATUS_CANCELED: OrderStatus
ORDER_STATUS_EXPIRED: OrderStatus
ORDER_STATUS_TRIGGERED: OrderStatus
ORDER_EVENT_KIND_UNSPECIFIED: OrderEventKind
ORDER_EVENT_KIND_DENIED: OrderEventKind
ORDER_EVENT_KIND_SUBMITTED: OrderEventKind
ORDER_EVENT_KIND_ACCEPTED: OrderEventKind
ORDER_EVENT_KIND_REJECTED: OrderEventKind
ORDER_EVENT_KIND_PENDING_CANCEL: OrderEventKind
ORDER_EVENT_KIND_CANCELED: OrderEventKind
ORDER_EVENT_KIND_CANCEL_REJECTED: OrderEventKind
ORDER_EVENT_KIND_PENDING_REPLACE: OrderEventKind
ORDER_EVENT_KIND_REPLACED: OrderEventKind
ORDER_EVENT_KIND_REPLACE_REJECTED: OrderEventKind
ORDER_EVENT_KIND_TRIGGERED: OrderEventKind
ORDER_EVENT_KIND_EXPIRED: OrderEventKind
ORDER_EVENT_KIND_FILLED: OrderEventKind
LIQUIDITY_UNSPECIFIED: Liquidity
LIQUIDITY_MAKER: Liquidity
LIQUIDITY_TAKER: Liquidity
PARENT_STATUS_UNSPECIFIED: ParentStatus
PARENT_STATUS_SCHEDULED: ParentStatus
PARENT_STATUS_WORKING: ParentStatus
PARENT_STATUS_PAUSED: ParentStatus
PARENT_STATUS_CANCELING: ParentStatus
PARENT_STATUS_COMPLETED: ParentStatus
PARENT_STATUS_CANCELED: ParentStatus
PARENT_STATUS_EXPIRED: ParentStatus
PARENT_STATUS_FAILED: ParentStatus

class OrderEvent(_message.Message):
    __slots__ = ("instrument", "strategy", "client_id", "kind", "reason", "status", "side", "order_type", "price", "quantity", "filled", "reduce_only", "ts_event_ns", "ts_recv_ns")
    INSTRUMENT_FIELD_NUMBER: _ClassVar[int]
    STRATEGY_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    SIDE_FIELD_NUMBER: _ClassVar[int]
    ORDER_TYPE_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    FILLED_FIELD_NUMBER: _ClassVar[int]
    REDUCE_ONLY_FIELD_NUMBER: _ClassVar[int]
    TS_EVENT_NS_FIELD_NUMBER: _ClassVar[int]
    TS_RECV_NS_FIELD_NUMBER: _ClassVar[int]
    instrument: _common_pb2.InstrumentRef
    strategy: str
    client_id: int
    kind: OrderEventKind
    reason: str
    status: OrderStatus
    side: _common_pb2.Side
    order_type: OrderType
    price: int
    quantity: int
    filled: int
    reduce_only: bool
    ts_event_ns: int
    ts_recv_ns: int
    def __init__(self, instrument: _Optional[_Union[_common_pb2.InstrumentRef, _Mapping]] = ..., strategy: _Optional[str] = ..., client_id: _Optional[int] = ..., kind: _Optional[_Union[OrderEventKind, str]] = ..., reason: _Optional[str] = ..., status: _Optional[_Union[OrderStatus, str]] = ..., side: _Optional[_Union[_common_pb2.Side, str]] = ..., order_type: _Optional[_Union[OrderType, str]] = ..., price: _Optional[int] = ..., quantity: _Optional[int] = ..., filled: _Optional[int] = ..., reduce_only: _Optional[bool] = ..., ts_event_ns: _Optional[int] = ..., ts_recv_ns: _Optional[int] = ...) -> None: ...

class Fill(_message.Message):
    __slots__ = ("instrument", "strategy", "client_id", "venue_order_id", "trade_id", "side", "price", "quantity", "fee", "liquidity", "ts_event_ns", "ts_recv_ns")
    INSTRUMENT_FIELD_NUMBER: _ClassVar[int]
    STRATEGY_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    VENUE_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    TRADE_ID_FIELD_NUMBER: _ClassVar[int]
    SIDE_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    FEE_FIELD_NUMBER: _ClassVar[int]
    LIQUIDITY_FIELD_NUMBER: _ClassVar[int]
    TS_EVENT_NS_FIELD_NUMBER: _ClassVar[int]
    TS_RECV_NS_FIELD_NUMBER: _ClassVar[int]
    instrument: _common_pb2.InstrumentRef
    strategy: str
    client_id: int
    venue_order_id: int
    trade_id: int
    side: _common_pb2.Side
    price: int
    quantity: int
    fee: str
    liquidity: Liquidity
    ts_event_ns: int
    ts_recv_ns: int
    def __init__(self, instrument: _Optional[_Union[_common_pb2.InstrumentRef, _Mapping]] = ..., strategy: _Optional[str] = ..., client_id: _Optional[int] = ..., venue_order_id: _Optional[int] = ..., trade_id: _Optional[int] = ..., side: _Optional[_Union[_common_pb2.Side, str]] = ..., price: _Optional[int] = ..., quantity: _Optional[int] = ..., fee: _Optional[str] = ..., liquidity: _Optional[_Union[Liquidity, str]] = ..., ts_event_ns: _Optional[int] = ..., ts_recv_ns: _Optional[int] = ...) -> None: ...

class Position(_message.Message):
    __slots__ = ("instrument", "strategy", "quantity", "entry_value", "realized_pnl", "fees", "ts_ns")
    INSTRUMENT_FIELD_NUMBER: _ClassVar[int]
    STRATEGY_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    ENTRY_VALUE_FIELD_NUMBER: _ClassVar[int]
    REALIZED_PNL_FIELD_NUMBER: _ClassVar[int]
    FEES_FIELD_NUMBER: _ClassVar[int]
    TS_NS_FIELD_NUMBER: _ClassVar[int]
    instrument: _common_pb2.InstrumentRef
    strategy: str
    quantity: int
    entry_value: str
    realized_pnl: str
    fees: str
    ts_ns: int
    def __init__(self, instrument: _Optional[_Union[_common_pb2.InstrumentRef, _Mapping]] = ..., strategy: _Optional[str] = ..., quantity: _Optional[int] = ..., entry_value: _Optional[str] = ..., realized_pnl: _Optional[str] = ..., fees: _Optional[str] = ..., ts_ns: _Optional[int] = ...) -> None: ...

class Pnl(_message.Message):
    __slots__ = ("strategy", "equity", "realized", "unrealized", "fees", "funding", "ts_ns")
    STRATEGY_FIELD_NUMBER: _ClassVar[int]
    EQUITY_FIELD_NUMBER: _ClassVar[int]
    REALIZED_FIELD_NUMBER: _ClassVar[int]
    UNREALIZED_FIELD_NUMBER: _ClassVar[int]
    FEES_FIELD_NUMBER: _ClassVar[int]
    FUNDING_FIELD_NUMBER: _ClassVar[int]
    TS_NS_FIELD_NUMBER: _ClassVar[int]
    strategy: str
    equity: str
    realized: str
    unrealized: str
    fees: str
    funding: str
    ts_ns: int
    def __init__(self, strategy: _Optional[str] = ..., equity: _Optional[str] = ..., realized: _Optional[str] = ..., unrealized: _Optional[str] = ..., fees: _Optional[str] = ..., funding: _Optional[str] = ..., ts_ns: _Optional[int] = ...) -> None: ...

class ParentOrder(_message.Message):
    __slots__ = ("strategy", "parent_id", "algo", "instrument", "side", "status", "quantity", "filled", "size_precision", "children", "reason", "ts_ns")
    STRATEGY_FIELD_NUMBER: _ClassVar[int]
    PARENT_ID_FIELD_NUMBER: _ClassVar[int]
    ALGO_FIELD_NUMBER: _ClassVar[int]
    INSTRUMENT_FIELD_NUMBER: _ClassVar[int]
    SIDE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    FILLED_FIELD_NUMBER: _ClassVar[int]
    SIZE_PRECISION_FIELD_NUMBER: _ClassVar[int]
    CHILDREN_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    TS_NS_FIELD_NUMBER: _ClassVar[int]
    strategy: str
    parent_id: int
    algo: str
    instrument: _common_pb2.InstrumentRef
    side: _common_pb2.Side
    status: ParentStatus
    quantity: int
    filled: int
    size_precision: int
    children: int
    reason: str
    ts_ns: int
    def __init__(self, strategy: _Optional[str] = ..., parent_id: _Optional[int] = ..., algo: _Optional[str] = ..., instrument: _Optional[_Union[_common_pb2.InstrumentRef, _Mapping]] = ..., side: _Optional[_Union[_common_pb2.Side, str]] = ..., status: _Optional[_Union[ParentStatus, str]] = ..., quantity: _Optional[int] = ..., filled: _Optional[int] = ..., size_precision: _Optional[int] = ..., children: _Optional[int] = ..., reason: _Optional[str] = ..., ts_ns: _Optional[int] = ...) -> None: ...
