from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class Side(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SIDE_UNSPECIFIED: _ClassVar[Side]
    SIDE_BUY: _ClassVar[Side]
    SIDE_SELL: _ClassVar[Side]

class TradingState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TRADING_STATE_UNSPECIFIED: _ClassVar[TradingState]
    TRADING_STATE_ACTIVE: _ClassVar[TradingState]
    TRADING_STATE_REDUCING: _ClassVar[TradingState]
    TRADING_STATE_HALTED: _ClassVar[TradingState]
SIDE_UNSPECIFIED: Side
SIDE_BUY: Side
SIDE_SELL: Side
TRADING_STATE_UNSPECIFIED: TradingState
TRADING_STATE_ACTIVE: TradingState
TRADING_STATE_REDUCING: TradingState
TRADING_STATE_HALTED: TradingState

class InstrumentRef(_message.Message):
    __slots__ = ("venue", "symbol", "price_precision", "size_precision")
    VENUE_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    PRICE_PRECISION_FIELD_NUMBER: _ClassVar[int]
    SIZE_PRECISION_FIELD_NUMBER: _ClassVar[int]
    venue: str
    symbol: str
    price_precision: int
    size_precision: int
    def __init__(self, venue: _Optional[str] = ..., symbol: _Optional[str] = ..., price_precision: _Optional[int] = ..., size_precision: _Optional[int] = ...) -> None: ...
