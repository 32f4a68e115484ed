"""Execution quality of parent orders (TWAP, VWAP, POV, iceberg, limit chase, smart routing).

An execution algorithm works one *parent* order through *child* orders; a backtest returns both as the
``parents`` and ``children`` frames (schemas in :mod:`ferrotrade.research.schema`), and the child orders'
fills are rows of ``fills`` (joined on ``strategy`` and ``client_id``). These functions take only frames.

Definitions
-----------
* **side sign** ``s`` is +1 for a buy and -1 for a sell, so every cost below is positive when the execution
  did worse than its benchmark: a buy paying above it, a sell receiving below it.
* **implementation shortfall** (bps) ``= s * (average_price - arrival_price) / arrival_price * 1e4``, against
  the mid when the parent was accepted. Fees are not in it; they are in ``fees``.
* **slippage vs VWAP** (bps) ``= s * (average_price - interval_vwap) / interval_vwap * 1e4``, against the
  VWAP of the market's prints on the parent's instruments while it was active (``market_vwap``).
* **participation** ``= filled / market_volume``: the parent's share of the market volume printed while it
  was active. Null when the strategy did not receive trades, or no volume printed.
* **duration** ``= finished_at - start`` in seconds; null for a parent still active when the run ended, 0
  for one finished before its start (canceled while scheduled).

A figure without a defined value (no fill, no market volume, a zero price) is null, never NaN or inf.

Examples
--------
>>> from datetime import datetime
>>> import polars as pl
>>> from ferrotrade.research.schema import PARENTS_SCHEMA
>>> t0, t1 = datetime(2024, 8, 8, 12, 0), datetime(2024, 8, 8, 12, 10)
>>> parents = pl.DataFrame(
...     {"strategy": "exec", "parent_id": [1, 2], "algo": ["twap", "pov"],
...      "instrument": "binance-usdm.BTCUSDT", "side": ["buy", "sell"], "quantity": [2.0, 1.0],
...      "filled": [2.0, 0.0], "limit_price": None, "accepted_at": t0, "start": t0, "end": t1,
...      "finished_at": [t1, None], "status": ["completed", "working"], "reason": None,
...      "arrival_price": 60_000.0, "average_price": [60_030.0, None], "market_volume": [40.0, None],
...      "market_vwap": [60_015.0, None], "fees": [48.0, 0.0], "children": [10, 1], "fills": [12, 0]},
...     schema=PARENTS_SCHEMA,
... )
>>> quality = execution_quality(parents)
>>> quality.select("parent_id", "implementation_shortfall_bps", "participation", "duration_s").rows()
[(1, 5.0, 0.05, 600.0), (2, None, None, None)]
"""

from __future__ import annotations

from typing import Final

import polars as pl

from ferrotrade.research.schema import check_frame

__all__ = ["QUALITY_COLUMNS", "execution_quality", "fill_timeline"]

QUALITY_COLUMNS: Final = (
    "strategy",
    "parent_id",
    "algo",
    "instrument",
    "side",
    "quantity",
    "filled",
    "fill_ratio",
    "status",
    "reason",
    "arrival_price",
    "average_price",
    "implementation_shortfall_bps",
    "participation",
    "interval_vwap",
    "slippage_vs_vwap_bps",
    "fees",
    "children",
    "fills",
    "duration_s",
    "start",
    "finished_at",
    "maker_ratio",
)
"""Columns of :func:`execution_quality`, in order."""

_BPS: Final = 1e4


def _finite(value: pl.Expr) -> pl.Expr:
    """Null where ``value`` is NaN or infinite (a division by zero), so nulls are the only gaps."""
    return pl.when(value.is_finite()).then(value)


def _side_sign() -> pl.Expr:
    side = pl.col("side")
    return pl.when(side == "buy").then(pl.lit(1.0)).when(side == "sell").then(pl.lit(-1.0))


def _cost_bps(price: pl.Expr, benchmark: pl.Expr) -> pl.Expr:
    return _finite(_side_sign() * (price - benchmark) / benchmark * _BPS)


def _maker_ratio(children: pl.DataFrame, fills: pl.DataFrame) -> pl.DataFrame:
    """Per ``(strategy, parent_id)``: the share of the filled quantity that provided liquidity."""
    quantity = pl.col("quantity")
    maker = quantity.filter(pl.col("liquidity") == "maker").sum()
    return (
        fills.select("strategy", "client_id", "quantity", "liquidity")
        .join(children.select("strategy", "client_id", "parent_id"), on=["strategy", "client_id"])
        .group_by("strategy", "parent_id")
        .agg(_finite(maker / quantity.sum()).alias("maker_ratio"))
    )


def execution_quality(
    parents: pl.DataFrame,
    fills: pl.DataFrame | None = None,
    children: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Return one row of execution-quality figures per parent order.

    Parameters
    ----------
    parents
        The ``parents`` frame.
    fills, children
        The ``fills`` and ``children`` frames, both or neither: they attribute fills to parents (a fill
        knows its child order, a child its parent) for ``maker_ratio``.

    Returns
    -------
    polars.DataFrame
        :data:`QUALITY_COLUMNS`, in the order of ``parents``. ``fill_ratio`` is ``filled / quantity``,
        ``interval_vwap`` the parent's ``market_vwap``, ``duration_s`` a Float64 of seconds,
        ``maker_ratio`` the maker share of the filled quantity (null without ``fills`` and ``children``,
        or without fills); the other figures are defined in the module doc.

    Raises
    ------
    ValueError
        A frame does not match its schema, or only one of ``fills`` and ``children`` is given.

    Examples
    --------
    A sell of 1 BTC filled at 59,940 against an arrival mid of 60,000 cost 10 bps; the market printed
    20 BTC at a VWAP of 59,970 meanwhile, so it took 5 % of the volume and lost 5 bps to the VWAP:

    >>> from datetime import datetime
    >>> import polars as pl
    >>> from ferrotrade.research.schema import PARENTS_SCHEMA
    >>> t0 = datetime(2024, 8, 8, 12, 0)
    >>> parent = pl.DataFrame(
    ...     {"strategy": "exec", "parent_id": 7, "algo": "vwap", "instrument": "binance-usdm.BTCUSDT",
    ...      "side": "sell", "quantity": 1.0, "filled": 1.0, "limit_price": None, "accepted_at": t0,
    ...      "start": t0, "end": None, "finished_at": datetime(2024, 8, 8, 12, 30), "status": "completed",
    ...      "reason": None, "arrival_price": 60_000.0, "average_price": 59_940.0, "market_volume": 20.0,
    ...      "market_vwap": 59_970.0, "fees": 24.0, "children": 6, "fills": 6},
    ...     schema=PARENTS_SCHEMA,
    ... )
    >>> row = execution_quality(parent).row(0, named=True)
    >>> row["implementation_shortfall_bps"], row["participation"], row["duration_s"]
    (10.0, 0.05, 1800.0)
    >>> round(row["slippage_vs_vwap_bps"], 4)
    5.0025
    """
    check_frame("parents", parents)
    if (fills is None) != (children is None):
        raise ValueError(
            "execution_quality needs fills and children together: fills reach their parent through the "
            "child order (strategy, client_id)"
        )
    average = pl.col("average_price")
    vwap = pl.col("market_vwap")
    duration_ns = (pl.col("finished_at") - pl.col("start")).dt.total_nanoseconds()
    quality = parents.select(
        "strategy",
        "parent_id",
        "algo",
        "instrument",
        "side",
        "quantity",
        "filled",
        _finite(pl.col("filled") / pl.col("quantity")).alias("fill_ratio"),
        "status",
        "reason",
        "arrival_price",
        "average_price",
        _cost_bps(average, pl.col("arrival_price")).alias("implementation_shortfall_bps"),
        _finite(pl.col("filled") / pl.col("market_volume")).alias("participation"),
        vwap.alias("interval_vwap"),
        _cost_bps(average, vwap).alias("slippage_vs_vwap_bps"),
        "fees",
        "children",
        "fills",
        (duration_ns.cast(pl.Float64) / 1e9).clip(lower_bound=0.0).alias("duration_s"),
        "start",
        "finished_at",
    )
    if fills is None or children is None:
        return quality.with_columns(pl.lit(None, dtype=pl.Float64()).alias("maker_ratio"))
    check_frame("fills", fills)
    check_frame("children", children)
    return quality.join(
        _maker_ratio(children, fills), on=["strategy", "parent_id"], how="left", maintain_order="left"
    ).select(QUALITY_COLUMNS)


def fill_timeline(
    children: pl.DataFrame,
    fills: pl.DataFrame,
    parent_id: int,
    strategy: str | None = None,
) -> pl.DataFrame:
    """Return the fills of one parent's child orders in time order, with the parent's running totals.

    Parameters
    ----------
    children, fills
        The ``children`` and ``fills`` frames; a fill belongs to the child with its ``strategy`` and
        ``client_id``.
    parent_id
        The parent order.
    strategy
        The parent's strategy; needed only when several strategies have a parent with this id.

    Returns
    -------
    polars.DataFrame
        ``ts_event``, ``ts_recv``, ``strategy``, ``parent_id``, ``client_id``, ``instrument``, ``side``,
        ``price``, ``quantity``, ``fee``, ``liquidity``, then ``filled`` (cumulative quantity),
        ``average_price`` (quantity-weighted average price so far) and the child's ``note``; sorted by
        ``ts_event``, fills at the same time in their order in ``fills``. Empty when the parent has no
        child or no fill. The last row's ``filled`` and ``average_price`` are the parent's.

    Raises
    ------
    ValueError
        A frame does not match its schema, or ``strategy`` is None and several strategies have a parent
        ``parent_id``.

    Examples
    --------
    >>> from datetime import datetime
    >>> import polars as pl
    >>> from ferrotrade.research.schema import CHILDREN_SCHEMA, FILLS_SCHEMA
    >>> t = [datetime(2024, 8, 8, 12, m) for m in range(3)]
    >>> children = pl.DataFrame(
    ...     {"strategy": "exec", "parent_id": [1, 1, 2], "client_id": [10, 11, 12],
    ...      "instrument": "binance-usdm.BTCUSDT", "sent_at": t, "quantity": [1.0, 1.0, 3.0],
    ...      "price": None, "note": ["slice 1/2", "slice 2/2", "slice 1/1"]},
    ...     schema=CHILDREN_SCHEMA,
    ... )
    >>> fills = pl.DataFrame(
    ...     {"ts_event": [t[2], t[0], t[1]], "ts_recv": [t[2], t[0], t[1]], "strategy": "exec",
    ...      "instrument": "binance-usdm.BTCUSDT", "client_id": [11, 10, 12], "trade_id": [3, 1, 2],
    ...      "side": "buy", "price": [100.0, 90.0, 95.0], "quantity": [1.0, 1.0, 3.0], "notional": 0.0,
    ...      "fee": 0.0, "liquidity": "taker", "realized_pnl": 0.0, "position": 0.0},
    ...     schema=FILLS_SCHEMA,
    ... )
    >>> fill_timeline(children, fills, 1).select("client_id", "filled", "average_price", "note").rows()
    [(10, 1.0, 90.0, 'slice 1/2'), (11, 2.0, 95.0, 'slice 2/2')]
    """
    check_frame("children", children)
    check_frame("fills", fills)
    own = children.filter(pl.col("parent_id") == parent_id)
    if strategy is not None:
        own = own.filter(pl.col("strategy") == strategy)
    strategies = own["strategy"].unique().sort().to_list()
    if len(strategies) > 1:
        raise ValueError(
            f"parent {parent_id} exists in strategies {', '.join(strategies)}: pass strategy= to pick one"
        )
    quantity = pl.col("quantity")
    return (
        fills.join(
            own.select("strategy", "client_id", "parent_id", "note"),
            on=["strategy", "client_id"],
            maintain_order="left",
        )
        .sort("ts_event", maintain_order=True)
        .select(
            "ts_event",
            "ts_recv",
            "strategy",
            "parent_id",
            "client_id",
            "instrument",
            "side",
            "price",
            "quantity",
            "fee",
            "liquidity",
            quantity.cum_sum().alias("filled"),
            _finite((pl.col("price") * quantity).cum_sum() / quantity.cum_sum()).alias("average_price"),
            "note",
        )
    )
