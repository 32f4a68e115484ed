"""The normalized event schema of ferrotrade's data catalog, documented in one place.

Every recorded, historical or live source becomes batches of the same six *kinds*. Each kind has one
column schema, used in Arrow batches coming out of the native reader, in the Parquet files of the catalog
and in the frames returned by :func:`ferrotrade.data.scan`.

Invariants
----------
* Timestamps are ``Datetime("ns", "UTC")``: ``ts_event`` is the exchange's time, ``ts_recv`` the local
  receive time. The catalog's ``date=`` partition is the UTC date of ``ts_recv``, so reading the date
  partitions in order yields receive order.
* Prices and sizes are ``Int64`` fixed-point *mantissas*: the real value is ``mantissa / 10**precision``
  with the instrument's ``price_precision`` / ``size_precision`` (see ``instruments.json``); mark and
  index prices use ``mark_precision`` (venues compute them finer than the tick), see
  :func:`mantissa_columns`. Floats appear
  only in derived report columns (``scan(..., with_floats=True)``) and in ``quote_volume`` /
  ``funding_rate``, which the venues themselves publish as free-form decimals.

Columns per kind
----------------
================  =====================================================================================
kind              columns
================  =====================================================================================
``book``          ts_event, ts_recv, sequence u64, first_sequence u64, prev_sequence u64, side u8
                  (:data:`SIDE_BID` / :data:`SIDE_ASK`), price i64, size i64 (0 removes the level),
                  flags u8 (:data:`FLAG_SNAPSHOT`, :data:`FLAG_LAST`, :data:`FLAG_CLEAR`)
``trades``        ts_event, ts_recv, trade_id u64 (nullable), price i64, size i64, aggressor u8
``agg_trades``    same as ``trades`` (Binance aggregated trades)
``quotes``        ts_event, ts_recv, sequence u64, bid_price, bid_size, ask_price, ask_size (i64)
``bars``          ts_event, ts_recv, open_time, interval_ns i64, open, high, low, close, volume (i64),
                  quote_volume f64, trade_count u64, taker_buy_volume i64
``mark``          ts_event, ts_recv, mark_price i64, index_price i64 (nullable), funding_rate f64
                  (nullable), next_funding_time (nullable)
================  =====================================================================================

Examples
--------
>>> from ferrotrade.data.schema import KINDS, SCHEMAS, price_columns
>>> KINDS
('book', 'trades', 'agg_trades', 'quotes', 'bars', 'mark')
>>> list(SCHEMAS["trades"])
['ts_event', 'ts_recv', 'trade_id', 'price', 'size', 'aggressor']
>>> price_columns("quotes")
('bid_price', 'ask_price')
"""

from __future__ import annotations

from typing import Final

import polars as pl

from ferrotrade._core import DataFormatError

__all__ = [
    "AGGRESSOR_BUYER",
    "AGGRESSOR_SELLER",
    "AGGRESSOR_UNKNOWN",
    "FLAG_CLEAR",
    "FLAG_LAST",
    "FLAG_SNAPSHOT",
    "HIVE_SCHEMA",
    "INSTRUMENT_SCHEMA",
    "KINDS",
    "PRECISION_KEYS",
    "SCHEMAS",
    "SIDE_ASK",
    "SIDE_BID",
    "TIMESTAMP",
    "conform",
    "mantissa_columns",
    "price_columns",
    "size_columns",
]

TIMESTAMP: Final[pl.DataType] = pl.Datetime("ns", "UTC")
"""The type of every timestamp column: nanoseconds since the Unix epoch, UTC."""

SIDE_BID: Final = 0
"""``book.side`` of a bid level."""
SIDE_ASK: Final = 1
"""``book.side`` of an ask level."""

FLAG_SNAPSHOT: Final = 1
"""``book.flags`` bit: the row belongs to a snapshot, not to an incremental update."""
FLAG_LAST: Final = 2
"""``book.flags`` bit: the last row of one venue message; the book is consistent after applying it."""
FLAG_CLEAR: Final = 4
"""``book.flags`` bit: clear the book before applying this row (start of a snapshot)."""

AGGRESSOR_UNKNOWN: Final = 0
"""``trades.aggressor``: the venue does not say which side took liquidity."""
AGGRESSOR_BUYER: Final = 1
"""``trades.aggressor``: the buyer was the taker."""
AGGRESSOR_SELLER: Final = 2
"""``trades.aggressor``: the seller was the taker."""

_TRADES: Final = pl.Schema(
    {
        "ts_event": TIMESTAMP,
        "ts_recv": TIMESTAMP,
        "trade_id": pl.UInt64(),
        "price": pl.Int64(),
        "size": pl.Int64(),
        "aggressor": pl.UInt8(),
    }
)

SCHEMAS: Final[dict[str, pl.Schema]] = {
    "book": pl.Schema(
        {
            "ts_event": TIMESTAMP,
            "ts_recv": TIMESTAMP,
            "sequence": pl.UInt64(),
            "first_sequence": pl.UInt64(),
            "prev_sequence": pl.UInt64(),
            "side": pl.UInt8(),
            "price": pl.Int64(),
            "size": pl.Int64(),
            "flags": pl.UInt8(),
        }
    ),
    "trades": _TRADES,
    "agg_trades": _TRADES,
    "quotes": pl.Schema(
        {
            "ts_event": TIMESTAMP,
            "ts_recv": TIMESTAMP,
            "sequence": pl.UInt64(),
            "bid_price": pl.Int64(),
            "bid_size": pl.Int64(),
            "ask_price": pl.Int64(),
            "ask_size": pl.Int64(),
        }
    ),
    "bars": pl.Schema(
        {
            "ts_event": TIMESTAMP,
            "ts_recv": TIMESTAMP,
            "open_time": TIMESTAMP,
            "interval_ns": pl.Int64(),
            "open": pl.Int64(),
            "high": pl.Int64(),
            "low": pl.Int64(),
            "close": pl.Int64(),
            "volume": pl.Int64(),
            "quote_volume": pl.Float64(),
            "trade_count": pl.UInt64(),
            "taker_buy_volume": pl.Int64(),
        }
    ),
    "mark": pl.Schema(
        {
            "ts_event": TIMESTAMP,
            "ts_recv": TIMESTAMP,
            "mark_price": pl.Int64(),
            "index_price": pl.Int64(),
            "funding_rate": pl.Float64(),
            "next_funding_time": TIMESTAMP,
        }
    ),
}
"""Column schema of each kind, in column order."""

KINDS: Final[tuple[str, ...]] = tuple(SCHEMAS)
"""The kinds of data the catalog holds, one top-level folder each."""

HIVE_SCHEMA: Final = pl.Schema({"venue": pl.String(), "symbol": pl.String(), "date": pl.Date()})
"""Types of the hive partition columns ``venue=/symbol=/date=`` (strings stay strings: ``1000PEPE``)."""

INSTRUMENT_SCHEMA: Final = pl.Schema(
    {
        "venue": pl.String(),
        "symbol": pl.String(),
        "contract_type": pl.String(),
        "price_precision": pl.Int64(),
        "size_precision": pl.Int64(),
        "mark_precision": pl.Int64(),
        "tick_size": pl.Int64(),
        "lot_size": pl.Int64(),
        "min_notional": pl.String(),
        "contract_size": pl.String(),
    }
)
"""Schema of ``instruments.json`` as a frame; ``tick_size`` / ``lot_size`` are mantissas."""

PRECISION_KEYS: Final = ("price_precision", "size_precision", "mark_precision")
"""The instrument fields giving the decimals of mantissa columns, in the order of precision shifts."""

_MANTISSAS: Final[dict[str, dict[str, str]]] = {
    "book": {"price": "price_precision", "size": "size_precision"},
    "trades": {"price": "price_precision", "size": "size_precision"},
    "agg_trades": {"price": "price_precision", "size": "size_precision"},
    "quotes": {
        "bid_price": "price_precision",
        "bid_size": "size_precision",
        "ask_price": "price_precision",
        "ask_size": "size_precision",
    },
    "bars": {
        "open": "price_precision",
        "high": "price_precision",
        "low": "price_precision",
        "close": "price_precision",
        "volume": "size_precision",
        "taker_buy_volume": "size_precision",
    },
    # venues publish mark/index prices finer than the tick: they have their own precision
    "mark": {"mark_price": "mark_precision", "index_price": "mark_precision"},
}


def mantissa_columns(kind: str) -> dict[str, str]:
    """Return the fixed-point columns of ``kind``, each with the instrument field giving its decimals.

    ``mark_precision`` falls back to ``price_precision`` for instruments that do not have it.

    Raises
    ------
    KeyError
        For an unknown kind.

    Examples
    --------
    >>> mantissa_columns("trades")
    {'price': 'price_precision', 'size': 'size_precision'}
    >>> mantissa_columns("mark")
    {'mark_price': 'mark_precision', 'index_price': 'mark_precision'}
    """
    return dict(_MANTISSAS[kind])


def price_columns(kind: str) -> tuple[str, ...]:
    """Return the columns of ``kind`` that hold price mantissas at ``price_precision``.

    Examples
    --------
    >>> price_columns("bars")
    ('open', 'high', 'low', 'close')
    >>> price_columns("mark")  # mark and index prices are at mark_precision
    ()
    """
    return tuple(c for c, key in _MANTISSAS[kind].items() if key == "price_precision")


def size_columns(kind: str) -> tuple[str, ...]:
    """Return the columns of ``kind`` that hold size mantissas at ``size_precision``.

    Examples
    --------
    >>> size_columns("quotes")
    ('bid_size', 'ask_size')
    >>> size_columns("mark")
    ()
    """
    return tuple(c for c, key in _MANTISSAS[kind].items() if key == "size_precision")


def conform(frame: pl.DataFrame, kind: str) -> pl.DataFrame:
    """Return ``frame`` with exactly the columns of ``SCHEMAS[kind]``, in order and with their types.

    The catalog's schema is the contract for every reader of the catalog, so batches are conformed before
    they are written: columns are put in order and cast losslessly.

    Raises
    ------
    DataFormatError
        If a column is missing or cannot be cast losslessly.

    Examples
    --------
    >>> conform(pl.DataFrame({"price": [1]}), "trades")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ferrotrade.exceptions.DataFormatError: trades batch lacks columns ts_event, ts_recv, ...
    """
    schema = SCHEMAS[kind]
    if frame.schema == schema:
        return frame
    missing = [name for name in schema if name not in frame.columns]
    if missing:
        raise DataFormatError(f"{kind} batch lacks columns {', '.join(missing)}")
    try:
        return frame.select(pl.col(name).cast(dtype, strict=True) for name, dtype in schema.items())
    except pl.exceptions.InvalidOperationError as error:
        raise DataFormatError(f"{kind} batch does not fit the catalog schema: {error}") from None
