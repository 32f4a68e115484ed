from ferrotrade.v1 import common_pb2 as _common_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Signal(_message.Message):
    __slots__ = ("strategy", "name", "instrument", "value", "ts_ns")
    STRATEGY_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    INSTRUMENT_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    TS_NS_FIELD_NUMBER: _ClassVar[int]
    strategy: str
    name: str
    instrument: _common_pb2.InstrumentRef
    value: float
    ts_ns: int
    def __init__(self, strategy: _Optional[str] = ..., name: _Optional[str] = ..., instrument: _Optional[_Union[_common_pb2.InstrumentRef, _Mapping]] = ..., value: _Optional[float] = ..., ts_ns: _Optional[int] = ...) -> None: ...
