"""The exception hierarchy of ferrotrade.

Every error ferrotrade raises on purpose derives from :class:`FerrotradeError`, so one ``except`` clause
catches them all, while each subclass lets callers handle one failure precisely. The classes are defined
in the native core (``ferrotrade._core``) so that Rust errors map onto them without a translation layer;
this module is their public home.

Errors about input data carry structured attributes besides the message: :class:`DataFormatError` (and
its subclass :class:`PrecisionError`) has ``file`` and ``line`` when the error has a place in a file.

=======================  ==========================================================================
class                    raised when
=======================  ==========================================================================
``FerrotradeError``      base class; never raised directly
``DataFormatError``      input that cannot be read: malformed record, unknown format, truncated file
``PrecisionError``       a value with more decimals than its instrument's precision, or out of range
``BookIntegrityError``   a book operation that would break the book's invariants
``SequenceGapError``     a book stream whose ids do not chain where a resync cannot handle it
``ConfigError``          invalid configuration or arguments (unknown kind, venue, symbol ...)
``StrategyError``        a strategy callback failed; ``strategy``, ``ts``; the cause is its exception
``OrderStateError``      an order event the order state machine does not allow
``VenueError``           a venue refused the engine for good (bad key, unreachable endpoint)
``ModelMismatchError``   a model whose card does not match the strategy's features (a ``ConfigError``)
``AlgoRefusedError``     a parent order ``ctx.submit_algo`` cannot execute as asked (a ``ConfigError``)
=======================  ==========================================================================

Examples
--------
>>> from ferrotrade.exceptions import DataFormatError, FerrotradeError, PrecisionError
>>> issubclass(PrecisionError, DataFormatError) and issubclass(DataFormatError, FerrotradeError)
True
"""

from ferrotrade._core import (
    AlgoRefusedError,
    BookIntegrityError,
    ConfigError,
    DataFormatError,
    FerrotradeError,
    ModelMismatchError,
    OrderStateError,
    PrecisionError,
    SequenceGapError,
    StrategyError,
    VenueError,
)

__all__ = [
    "AlgoRefusedError",
    "BookIntegrityError",
    "ConfigError",
    "DataFormatError",
    "FerrotradeError",
    "ModelMismatchError",
    "OrderStateError",
    "PrecisionError",
    "SequenceGapError",
    "StrategyError",
    "VenueError",
]
