"""ferrotrade: a fast, exchange-correct trading system for crypto markets.

The native core (``ferrotrade._core``, Rust) does the heavy lifting; this package re-exports its public
names and hosts the Python layers. Importing ``ferrotrade`` loads only the native module: subpackages that
need polars or numpy (``ferrotrade.data``, ``ferrotrade.backtest``, ``ferrotrade.research``), ``OrderBook``
and ``Strategy`` load on first access, so a CLI start or a worker process pays only for what it uses.

Examples
--------
>>> import ferrotrade
>>> isinstance(ferrotrade.__version__, str)
True
>>> issubclass(ferrotrade.DataFormatError, ferrotrade.FerrotradeError)
True
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ferrotrade._core import __version__
from ferrotrade.exceptions import (
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

if TYPE_CHECKING:
    from ferrotrade import backtest, data, features, live, ml, research
    from ferrotrade.book import OrderBook
    from ferrotrade.strategy import Strategy

__all__ = [
    "AlgoRefusedError",
    "BookIntegrityError",
    "ConfigError",
    "DataFormatError",
    "FerrotradeError",
    "ModelMismatchError",
    "OrderBook",
    "OrderStateError",
    "PrecisionError",
    "SequenceGapError",
    "Strategy",
    "StrategyError",
    "VenueError",
    "__version__",
    "backtest",
    "data",
    "exceptions",
    "features",
    "live",
    "ml",
    "research",
]

# name -> (module, attribute or None for the module itself); resolved on first access.
_LAZY: dict[str, tuple[str, str | None]] = {
    "OrderBook": ("ferrotrade.book", "OrderBook"),
    "Strategy": ("ferrotrade.strategy", "Strategy"),
    "backtest": ("ferrotrade.backtest", None),
    "data": ("ferrotrade.data", None),
    "features": ("ferrotrade.features", None),
    "live": ("ferrotrade.live", None),
    "ml": ("ferrotrade.ml", None),
    "research": ("ferrotrade.research", None),
}


def __getattr__(name: str) -> Any:
    """Load the lazily exported names (``OrderBook``, ``Strategy``, subpackages) on first access."""
    try:
        module_name, attribute = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'ferrotrade' has no attribute {name!r}") from None
    module = importlib.import_module(module_name)
    value = module if attribute is None else getattr(module, attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
