"""The L2 order book: a thin Python face on the Rust book of ``ferrotrade._core``.

Prices and sizes go *in* as fixed-point mantissas (integers at the book's ``price_precision`` and
``size_precision``: with ``price_precision=1`` the price 61800.2 is ``618002``) and come *out* as floats,
which are for research and reports only. Whole streams go in through :meth:`OrderBook.apply_batch`, which
reads numpy arrays in place and releases the GIL; one call costs about as much as a handful of level
updates, so batch thousands of rows at a time.

Examples
--------
>>> import numpy as np
>>> from ferrotrade.book import OrderBook
>>> book = OrderBook(price_precision=1, size_precision=3)
>>> book.apply_batch(
...     side=np.array([0, 0, 1, 1], dtype=np.uint8),
...     price=np.array([618002, 618001, 618003, 618010]),
...     size=np.array([2507, 696, 3330, 1000]),
... )
4
>>> book.best_bid(), book.best_ask()
((61800.2, 2.507), (61800.3, 3.33))
>>> round(book.spread(), 1), book.level_counts()
(0.1, (2, 2))
>>> book.depth(1)
shape: (2, 4)
┌──────┬───────┬─────────┬───────┐
│ side ┆ level ┆ price   ┆ size  │
│ ---  ┆ ---   ┆ ---     ┆ ---   │
│ str  ┆ u32   ┆ f64     ┆ f64   │
╞══════╪═══════╪═════════╪═══════╡
│ bid  ┆ 0     ┆ 61800.2 ┆ 2.507 │
│ ask  ┆ 0     ┆ 61800.3 ┆ 3.33  │
└──────┴───────┴─────────┴───────┘
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from ferrotrade import _core

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

__all__ = ["ASK", "BID", "CLEAR", "LAST", "SNAPSHOT", "OrderBook"]

#: ``side`` value of a bid row.
BID = 0
#: ``side`` value of an ask row.
ASK = 1
#: Row flag: the row belongs to a full book snapshot.
SNAPSHOT = 1
#: Row flag: the last row of one venue message.
LAST = 2
#: Row flag: clear the book before applying this row (first row of a snapshot).
CLEAR = 4


def _column(values: ArrayLike | pl.Series, dtype: type[np.generic], name: str) -> np.ndarray[Any, Any]:
    """A one-dimensional C-contiguous numpy array of ``dtype``; polars Series and lists are converted.

    Integer arrays of another width are cast only when every value fits, so nothing wraps silently.
    """
    if isinstance(values, pl.Series):
        values = values.to_numpy()
    array = np.asarray(values)
    if array.dtype != dtype:
        if array.dtype.kind not in "iub":
            raise TypeError(f"{name} must hold integers, got dtype {array.dtype}")
        cast = array.astype(dtype)
        if not np.array_equal(cast, array):
            raise ValueError(f"{name} has values that do not fit {np.dtype(dtype).name}")
        array = cast
    return np.ascontiguousarray(array)


class OrderBook(_core.OrderBook):
    """An L2 (market-by-price) order book of one instrument.

    Parameters
    ----------
    price_precision
        Decimals of price mantissas; best the number of decimals of the instrument's tick (BTCUSDT
        futures, tick 0.1: ``1``), since one slot of the dense window covers one mantissa unit.
    size_precision
        Decimals of size mantissas.
    window
        Slots per side of the dense window around the touch (default ``2**17``); levels outside it live in
        a sorted overflow. Memory per book is about ``16 * window`` bytes, mapped lazily.

    Notes
    -----
    Updates cost a few nanoseconds each inside the window. The book does not refuse a crossed state (a
    venue message can cross briefly); :meth:`is_crossed` and :meth:`check_integrity` report it.
    """

    def apply_batch(
        self,
        side: ArrayLike | pl.Series,
        price: ArrayLike | pl.Series,
        size: ArrayLike | pl.Series,
        flags: ArrayLike | pl.Series | None = None,
    ) -> int:
        """Apply rows of level updates; size 0 deletes a level.

        Parameters
        ----------
        side
            ``0`` (:data:`BID`) or ``1`` (:data:`ASK`) per row (uint8; other integer types are cast).
        price, size
            Price and size mantissas (int64).
        flags
            Optional row flags (uint8); :data:`CLEAR` clears the book before its row.

        Returns
        -------
        int
            The number of rows applied.

        Raises
        ------
        BookIntegrityError
            A side other than 0/1 or a negative size; nothing of the batch is applied.
        ValueError
            Arrays of different lengths, or values that do not fit the column type.

        Examples
        --------
        >>> import polars as pl
        >>> book = OrderBook(price_precision=2, size_precision=0)
        >>> rows = pl.DataFrame({"side": [1, 1], "price": [10_050, 10_025], "size": [3, 0], "flags": [4, 0]})
        >>> book.apply_batch(rows["side"], rows["price"], rows["size"], rows["flags"])
        2
        >>> book.best_ask()
        (100.5, 3.0)
        """
        return super().apply_batch(
            _column(side, np.uint8, "side"),
            _column(price, np.int64, "price"),
            _column(size, np.int64, "size"),
            None if flags is None else _column(flags, np.uint8, "flags"),
        )

    def depth(self, n: int = 10) -> pl.DataFrame:  # type: ignore[override]
        """The top ``n`` levels of each side, best first.

        Parameters
        ----------
        n
            Levels per side.

        Returns
        -------
        polars.DataFrame
            Columns ``side`` (``"bid"``/``"ask"``), ``level`` (0 = best), ``price``, ``size``; bids first.

        Examples
        --------
        >>> book = OrderBook(price_precision=0, size_precision=0)
        >>> book.apply(0, 99, 5)
        >>> book.depth()["price"].to_list()
        [99.0]
        """
        columns = super().depth(n)
        return pl.DataFrame(
            columns,
            schema={"side": pl.String, "level": pl.UInt32, "price": pl.Float64, "size": pl.Float64},
        )
