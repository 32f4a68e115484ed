from ferrotrade.v1 import common_pb2 as _common_pb2
from ferrotrade.v1 import market_pb2 as _market_pb2
from ferrotrade.v1 import orders_pb2 as _orders_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Command(_message.Message):
    __slots__ = ("token", "request_id", "status", "halt", "resume", "reduce_only", "kill", "set", "snapshot")
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    HALT_FIELD_NUMBER: _ClassVar[int]
    RESUME_FIELD_NUMBER: _ClassVar[int]
    REDUCE_ONLY_FIELD_NUMBER: _ClassVar[int]
    KILL_FIELD_NUMBER: _ClassVar[int]
    SET_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    token: str
    request_id: int
    status: StatusCommand
    halt: HaltCommand
    resume: ResumeCommand
    reduce_only: ReduceOnlyCommand
    kill: KillCommand
    set: SetCommand
    snapshot: SnapshotCommand
    def __init__(self, token: _Optional[str] = ..., request_id: _Optional[int] = ..., status: _Optional[_Union[StatusCommand, _Mapping]] = ..., halt: _Optional[_Union[HaltCommand, _Mapping]] = ..., resume: _Optional[_Union[ResumeCommand, _Mapping]] = ..., reduce_only: _Optional[_Union[ReduceOnlyCommand, _Mapping]] = ..., kill: _Optional[_Union[KillCommand, _Mapping]] = ..., set: _Optional[_Union[SetCommand, _Mapping]] = ..., snapshot: _Optional[_Union[SnapshotCommand, _Mapping]] = ...) -> None: ...

class StatusCommand(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class HaltCommand(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ResumeCommand(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ReduceOnlyCommand(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class KillCommand(_message.Message):
    __slots__ = ("timeout_ms",)
    TIMEOUT_MS_FIELD_NUMBER: _ClassVar[int]
    timeout_ms: int
    def __init__(self, timeout_ms: _Optional[int] = ...) -> None: ...

class SetCommand(_message.Message):
    __slots__ = ("strategy", "parameter", "value")
    STRATEGY_FIELD_NUMBER: _ClassVar[int]
    PARAMETER_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    strategy: str
    parameter: str
    value: str
    def __init__(self, strategy: _Optional[str] = ..., parameter: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...

class SnapshotCommand(_message.Message):
    __slots__ = ("depth",)
    DEPTH_FIELD_NUMBER: _ClassVar[int]
    depth: int
    def __init__(self, depth: _Optional[int] = ...) -> None: ...

class Reply(_message.Message):
    __slots__ = ("request_id", "ok", "error", "status", "snapshot", "kill")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    OK_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    KILL_FIELD_NUMBER: _ClassVar[int]
    request_id: int
    ok: bool
    error: str
    status: EngineStatus
    snapshot: EngineSnapshot
    kill: KillReport
    def __init__(self, request_id: _Optional[int] = ..., ok: _Optional[bool] = ..., error: _Optional[str] = ..., status: _Optional[_Union[EngineStatus, _Mapping]] = ..., snapshot: _Optional[_Union[EngineSnapshot, _Mapping]] = ..., kill: _Optional[_Union[KillReport, _Mapping]] = ...) -> None: ...

class EngineStatus(_message.Message):
    __slots__ = ("session", "mode", "state", "uptime_ns", "messages", "orders", "fills", "open_orders", "strategies", "unsynced")
    SESSION_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    UPTIME_NS_FIELD_NUMBER: _ClassVar[int]
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    ORDERS_FIELD_NUMBER: _ClassVar[int]
    FILLS_FIELD_NUMBER: _ClassVar[int]
    OPEN_ORDERS_FIELD_NUMBER: _ClassVar[int]
    STRATEGIES_FIELD_NUMBER: _ClassVar[int]
    UNSYNCED_FIELD_NUMBER: _ClassVar[int]
    session: str
    mode: str
    state: _common_pb2.TradingState
    uptime_ns: int
    messages: int
    orders: int
    fills: int
    open_orders: int
    strategies: _containers.RepeatedScalarFieldContainer[str]
    unsynced: _containers.RepeatedCompositeFieldContainer[_common_pb2.InstrumentRef]
    def __init__(self, session: _Optional[str] = ..., mode: _Optional[str] = ..., state: _Optional[_Union[_common_pb2.TradingState, str]] = ..., uptime_ns: _Optional[int] = ..., messages: _Optional[int] = ..., orders: _Optional[int] = ..., fills: _Optional[int] = ..., open_orders: _Optional[int] = ..., strategies: _Optional[_Iterable[str]] = ..., unsynced: _Optional[_Iterable[_Union[_common_pb2.InstrumentRef, _Mapping]]] = ...) -> None: ...

class EngineSnapshot(_message.Message):
    __slots__ = ("status", "books", "positions", "orders", "pnl")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    BOOKS_FIELD_NUMBER: _ClassVar[int]
    POSITIONS_FIELD_NUMBER: _ClassVar[int]
    ORDERS_FIELD_NUMBER: _ClassVar[int]
    PNL_FIELD_NUMBER: _ClassVar[int]
    status: EngineStatus
    books: _containers.RepeatedCompositeFieldContainer[_market_pb2.BookSummary]
    positions: _containers.RepeatedCompositeFieldContainer[_orders_pb2.Position]
    orders: _containers.RepeatedCompositeFieldContainer[_orders_pb2.OrderEvent]
    pnl: _containers.RepeatedCompositeFieldContainer[_orders_pb2.Pnl]
    def __init__(self, status: _Optional[_Union[EngineStatus, _Mapping]] = ..., books: _Optional[_Iterable[_Union[_market_pb2.BookSummary, _Mapping]]] = ..., positions: _Optional[_Iterable[_Union[_orders_pb2.Position, _Mapping]]] = ..., orders: _Optional[_Iterable[_Union[_orders_pb2.OrderEvent, _Mapping]]] = ..., pnl: _Optional[_Iterable[_Union[_orders_pb2.Pnl, _Mapping]]] = ...) -> None: ...

class KillReport(_message.Message):
    __slots__ = ("cancelled", "flatten_orders", "open_orders", "open_positions", "elapsed_ns", "state")
    CANCELLED_FIELD_NUMBER: _ClassVar[int]
    FLATTEN_ORDERS_FIELD_NUMBER: _ClassVar[int]
    OPEN_ORDERS_FIELD_NUMBER: _ClassVar[int]
    OPEN_POSITIONS_FIELD_NUMBER: _ClassVar[int]
    ELAPSED_NS_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    cancelled: int
    flatten_orders: int
    open_orders: int
    open_positions: int
    elapsed_ns: int
    state: _common_pb2.TradingState
    def __init__(self, cancelled: _Optional[int] = ..., flatten_orders: _Optional[int] = ..., open_orders: _Optional[int] = ..., open_positions: _Optional[int] = ..., elapsed_ns: _Optional[int] = ..., state: _Optional[_Union[_common_pb2.TradingState, str]] = ...) -> None: ...
