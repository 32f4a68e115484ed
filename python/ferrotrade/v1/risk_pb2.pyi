from ferrotrade.v1 import common_pb2 as _common_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Rejection(_message.Message):
    __slots__ = ("instrument", "strategy", "client_id", "reason")
    INSTRUMENT_FIELD_NUMBER: _ClassVar[int]
    STRATEGY_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    instrument: _common_pb2.InstrumentRef
    strategy: str
    client_id: int
    reason: str
    def __init__(self, instrument: _Optional[_Union[_common_pb2.InstrumentRef, _Mapping]] = ..., strategy: _Optional[str] = ..., client_id: _Optional[int] = ..., reason: _Optional[str] = ...) -> None: ...

class StateChange(_message.Message):
    __slots__ = ("to", "reason")
    FROM_FIELD_NUMBER: _ClassVar[int]
    TO_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    to: _common_pb2.TradingState
    reason: str
    def __init__(self, to: _Optional[_Union[_common_pb2.TradingState, str]] = ..., reason: _Optional[str] = ..., **kwargs) -> None: ...

class RiskEvent(_message.Message):
    __slots__ = ("ts_ns", "rejection", "state_change")
    TS_NS_FIELD_NUMBER: _ClassVar[int]
    REJECTION_FIELD_NUMBER: _ClassVar[int]
    STATE_CHANGE_FIELD_NUMBER: _ClassVar[int]
    ts_ns: int
    rejection: Rejection
    state_change: StateChange
    def __init__(self, ts_ns: _Optional[int] = ..., rejection: _Optional[_Union[Rejection, _Mapping]] = ..., state_change: _Optional[_Union[StateChange, _Mapping]] = ...) -> None: ...
