"""The column schemas of a backtest's results, documented in one place.

The backtest engine returns four polars frames: ``equity``, ``fills``, ``orders`` and ``positions``, and
for execution algorithms ``parents`` and ``children`` (checked by name, not in :data:`SCHEMAS`). The
research functions (:func:`ferrotrade.research.compute_metrics`, :func:`ferrotrade.research.write_report`)
read them by these exact names and types and refuse anything else with a :class:`ValueError` that names the
frame and every column that differs (:func:`check_frame`), so a drift between engine and research fails
loudly instead of producing wrong numbers.

Conventions
-----------
* Timestamps are ``Datetime("ns", "UTC")``. Money is ``Float64`` in the settlement currency (f64 is allowed
  here: these are report values, the engine accounts in fixed point).
* ``fee`` / ``fees`` are **costs**: positive means paid, negative means a maker rebate received.
* ``funding`` is a **cash flow to the account**: positive means received, negative means paid.
* ``equity`` rows are cumulative since the start of the run and satisfy
  ``equity = initial_equity + realized_pnl + unrealized_pnl - fees + funding``.
* ``fills.realized_pnl`` is the PnL realized by that one fill, before its fee; it is non-zero only for a
  fill that reduces or flips a position (a *closing* fill). ``fills.position`` is the strategy's signed
  position in the instrument after the fill (buy > 0).
* ``orders.status`` is the order's final status. ``denied`` means refused by the pre-trade risk checks, so
  the order never reached the venue; ``rejected`` means the venue (or the simulated venue) refused it.
  ``reason`` carries the code of a denial or rejection (``"max_position"``, ``"post_only_would_take"``...).

================  =========================================================================================
frame             columns
================  =========================================================================================
``equity``        ts, equity, realized_pnl, unrealized_pnl, fees, funding (f64); one row at a fixed interval
                  and one at every fill; account level
``fills``         ts_event, ts_recv, strategy str, instrument str (``"binance-usdm.BTCUSDT"``), client_id
                  u64, trade_id u64, side str (``"buy"``/``"sell"``), price, quantity, notional, fee f64,
                  liquidity str (``"maker"``/``"taker"``), realized_pnl f64, position f64
``orders``        client_id u64, strategy, instrument, side, order_type, time_in_force str, price f64 (null
                  for market orders), quantity, filled f64, avg_fill_price f64 (null if unfilled), status
                  str, reason str (nullable), ts_init, ts_last
``positions``     strategy, instrument str, quantity f64 (signed), avg_price f64 (null if flat),
                  realized_pnl, unrealized_pnl, fees, funding f64; one row per strategy and instrument at
                  the end of the run
``parents``       strategy str, parent_id u64, algo str (twap, vwap, pov, iceberg, chase, route),
                  instrument, side str, quantity, filled, limit_price f64 (nullable), accepted_at, start,
                  end (nullable), finished_at (null: still active at the end of the run), status, reason str
                  (nullable), arrival_price (mid when accepted), average_price (null without fills),
                  market_volume, market_vwap (null when the strategy did not receive trades), fees f64,
                  children, fills u32; one row per parent (execution-algorithm) order
``children``      strategy str, parent_id u64, client_id u64, instrument str, sent_at, quantity, price f64
                  (null for a market order), note str (``"slice 3/10"`` or a routing reason); one row per
                  child order; ``(strategy, client_id)`` joins it to ``fills`` and ``orders``
================  =========================================================================================

Quantities and prices of ``parents`` and ``children`` are in instrument units; ``parents.fees`` is a cost,
like ``fills.fee``. Their functions are in :mod:`ferrotrade.research.execution`.

Examples
--------
>>> from ferrotrade.research.schema import SCHEMAS, empty
>>> list(SCHEMAS)
['equity', 'fills', 'orders', 'positions']
>>> empty("equity").columns
['ts', 'equity', 'realized_pnl', 'unrealized_pnl', 'fees', 'funding']
"""

from __future__ import annotations

from typing import Final

import polars as pl

__all__ = [
    "CHILDREN_SCHEMA",
    "EQUITY_SCHEMA",
    "FILLS_SCHEMA",
    "ORDERS_SCHEMA",
    "PARENTS_SCHEMA",
    "POSITIONS_SCHEMA",
    "PRICES_SCHEMA",
    "SCHEMAS",
    "TIMESTAMP",
    "check_frame",
    "empty",
]

TIMESTAMP: Final[pl.DataType] = pl.Datetime("ns", "UTC")
"""The type of every timestamp column: nanoseconds since the Unix epoch, UTC."""

EQUITY_SCHEMA: Final[pl.Schema] = pl.Schema(
    {
        "ts": TIMESTAMP,
        "equity": pl.Float64(),
        "realized_pnl": pl.Float64(),
        "unrealized_pnl": pl.Float64(),
        "fees": pl.Float64(),
        "funding": pl.Float64(),
    }
)
"""The account's equity curve, cumulative columns, sorted by ``ts``."""

FILLS_SCHEMA: Final[pl.Schema] = pl.Schema(
    {
        "ts_event": TIMESTAMP,
        "ts_recv": TIMESTAMP,
        "strategy": pl.String(),
        "instrument": pl.String(),
        "client_id": pl.UInt64(),
        "trade_id": pl.UInt64(),
        "side": pl.String(),
        "price": pl.Float64(),
        "quantity": pl.Float64(),
        "notional": pl.Float64(),
        "fee": pl.Float64(),
        "liquidity": pl.String(),
        "realized_pnl": pl.Float64(),
        "position": pl.Float64(),
    }
)
"""Every fill in the order it happened (sorted by ``ts_event``)."""

ORDERS_SCHEMA: Final[pl.Schema] = pl.Schema(
    {
        "client_id": pl.UInt64(),
        "strategy": pl.String(),
        "instrument": pl.String(),
        "side": pl.String(),
        "order_type": pl.String(),
        "time_in_force": pl.String(),
        "price": pl.Float64(),
        "quantity": pl.Float64(),
        "filled": pl.Float64(),
        "avg_fill_price": pl.Float64(),
        "status": pl.String(),
        "reason": pl.String(),
        "ts_init": TIMESTAMP,
        "ts_last": TIMESTAMP,
    }
)
"""Every order submitted, with its final status."""

POSITIONS_SCHEMA: Final[pl.Schema] = pl.Schema(
    {
        "strategy": pl.String(),
        "instrument": pl.String(),
        "quantity": pl.Float64(),
        "avg_price": pl.Float64(),
        "realized_pnl": pl.Float64(),
        "unrealized_pnl": pl.Float64(),
        "fees": pl.Float64(),
        "funding": pl.Float64(),
    }
)
"""Final positions, one row per strategy and instrument."""

PRICES_SCHEMA: Final[pl.Schema] = pl.Schema(
    {"ts": TIMESTAMP, "instrument": pl.String(), "price": pl.Float64()}
)
"""Optional price series for the report's "fills over price" chart (a mid or a close per row)."""

PARENTS_SCHEMA: Final[pl.Schema] = pl.Schema(
    {
        "strategy": pl.String(),
        "parent_id": pl.UInt64(),
        "algo": pl.String(),
        "instrument": pl.String(),
        "side": pl.String(),
        "quantity": pl.Float64(),
        "filled": pl.Float64(),
        "limit_price": pl.Float64(),
        "accepted_at": TIMESTAMP,
        "start": TIMESTAMP,
        "end": TIMESTAMP,
        "finished_at": TIMESTAMP,
        "status": pl.String(),
        "reason": pl.String(),
        "arrival_price": pl.Float64(),
        "average_price": pl.Float64(),
        "market_volume": pl.Float64(),
        "market_vwap": pl.Float64(),
        "fees": pl.Float64(),
        "children": pl.UInt32(),
        "fills": pl.UInt32(),
    }
)
"""Every parent order of an execution algorithm, with its final (or end-of-run) state."""

CHILDREN_SCHEMA: Final[pl.Schema] = pl.Schema(
    {
        "strategy": pl.String(),
        "parent_id": pl.UInt64(),
        "client_id": pl.UInt64(),
        "instrument": pl.String(),
        "sent_at": TIMESTAMP,
        "quantity": pl.Float64(),
        "price": pl.Float64(),
        "note": pl.String(),
    }
)
"""Every child order a parent sent, in the order sent."""

SCHEMAS: Final[dict[str, pl.Schema]] = {
    "equity": EQUITY_SCHEMA,
    "fills": FILLS_SCHEMA,
    "orders": ORDERS_SCHEMA,
    "positions": POSITIONS_SCHEMA,
}
"""The engine's result frames by name."""


def _all_schemas() -> dict[str, pl.Schema]:
    return {**SCHEMAS, "prices": PRICES_SCHEMA, "parents": PARENTS_SCHEMA, "children": CHILDREN_SCHEMA}


def empty(name: str) -> pl.DataFrame:
    """Return an empty frame with the schema of ``name``.

    Parameters
    ----------
    name
        ``"equity"``, ``"fills"``, ``"orders"``, ``"positions"``, ``"prices"``, ``"parents"`` or
        ``"children"``.

    Returns
    -------
    polars.DataFrame
        Zero rows, the exact columns and types.

    Raises
    ------
    KeyError
        ``name`` is not a known frame.

    Examples
    --------
    >>> empty("positions").schema["avg_price"]
    Float64
    """
    return pl.DataFrame(schema=_all_schemas()[name])


def check_frame(name: str, frame: pl.DataFrame) -> None:
    """Raise if ``frame`` does not have exactly the columns and types of the schema ``name``.

    Extra columns are allowed (the engine may add some later); missing or differently typed ones are not.

    Parameters
    ----------
    name
        ``"equity"``, ``"fills"``, ``"orders"``, ``"positions"``, ``"prices"``, ``"parents"`` or
        ``"children"``.
    frame
        The frame to check.

    Raises
    ------
    ValueError
        One message listing every missing column and every column whose type differs.

    Examples
    --------
    >>> import polars as pl
    >>> check_frame("equity", empty("equity"))
    >>> check_frame("equity", pl.DataFrame({"ts": [1], "equity": [1.0]}))
    Traceback (most recent call last):
    ...
    ValueError: equity frame does not match the schema: ts is Int64, expected Datetime(time_unit='ns', \
time_zone='UTC'); missing realized_pnl, unrealized_pnl, fees, funding
    """
    expected = _all_schemas()[name]
    actual = frame.schema
    wrong = [
        f"{col} is {actual[col]}, expected {dtype}"
        for col, dtype in expected.items()
        if col in actual and actual[col] != dtype
    ]
    missing = [col for col in expected if col not in actual]
    problems = [*wrong]
    if missing:
        problems.append("missing " + ", ".join(missing))
    if problems:
        raise ValueError(f"{name} frame does not match the schema: " + "; ".join(problems))
