"""Merging instrument definitions across imports, and rescaling fixed-point data to a new precision.

Prices and sizes are stored as integer mantissas at the instrument's precisions (``price_precision``,
``size_precision``, and ``mark_precision`` for mark/index prices). Two captures of the same instrument may
disagree on a precision (a venue changed its tick size, or one source prints more decimals). A catalog keeps
*one* precision per instrument and field: the larger of the two, because going up is exact (multiply by
``10**k``) while going down would lose digits. Whatever side was coarser, the existing Parquet parts or the
incoming batches, gets multiplied.

Every other field (tick and lot size, minimum notional, contract size) is taken from the newest import,
with tick and lot mantissas brought to the kept precisions.

Examples
--------
>>> old = {"venue": "binance-usdm", "symbol": "BTCUSDT", "price_precision": 1, "size_precision": 3,
...        "tick_size": 1, "lot_size": 1}
>>> new = dict(old, price_precision=2, tick_size=10)
>>> merge = merge_instrument(old, new)
>>> merge.existing_shift, merge.incoming_shift, merge.merged["price_precision"]
((1, 0, 1), (0, 0, 0), 2)
>>> import polars as pl
>>> rescale_frame(pl.DataFrame({"price": [123], "size": [5]}), "trades", (1, 0, 0))["price"].to_list()
[1230]
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from ferrotrade._core import PrecisionError
from ferrotrade.data.schema import PRECISION_KEYS, mantissa_columns

__all__ = [
    "NO_SHIFT",
    "InstrumentMerge",
    "Shift",
    "merge_instrument",
    "precisions",
    "rescale_frame",
    "rescale_instrument",
    "rescale_part",
]

Shift = tuple[int, int, int]
"""Digits to add to ``(price, size, mark)`` mantissas: multiply by ``10**digits``."""

NO_SHIFT: Shift = (0, 0, 0)
"""The shift that changes nothing."""

_I64_MAX = 2**63 - 1


def precisions(instrument: dict[str, Any]) -> Shift:
    """Return ``(price_precision, size_precision, mark_precision)``; mark defaults to the price precision.

    Examples
    --------
    >>> precisions({"price_precision": 1, "size_precision": 3})
    (1, 3, 1)
    """
    price = int(instrument["price_precision"])
    mark = instrument.get("mark_precision")
    return price, int(instrument["size_precision"]), price if mark is None else int(mark)


@dataclass(frozen=True)
class InstrumentMerge:
    """The outcome of merging an incoming instrument definition into a catalog's.

    Attributes
    ----------
    merged
        The definition to keep, at the larger of both precisions.
    existing_shift
        Digits to add to the data already in the catalog, ``(price, size, mark)``.
    incoming_shift
        Digits to add to the incoming batches, ``(price, size, mark)``.
    """

    merged: dict[str, Any]
    existing_shift: Shift
    incoming_shift: Shift

    @property
    def rescales(self) -> bool:
        """Whether any data (existing or incoming) must be multiplied."""
        return self.existing_shift != NO_SHIFT or self.incoming_shift != NO_SHIFT

    def describe(self) -> str:
        """Return one line saying what was rescaled, for import summaries."""
        parts = []
        for side, shift in (
            ("existing catalog data", self.existing_shift),
            ("incoming data", self.incoming_shift),
        ):
            for what, digits in zip(("price", "size", "mark"), shift, strict=True):
                if digits:
                    parts.append(f"{side} {what} x10^{digits}")
        kept = ", ".join(
            f"{key}={value}" for key, value in zip(PRECISION_KEYS, precisions(self.merged), strict=True)
        )
        return f"{self.merged['venue']}/{self.merged['symbol']}: rescaled to {kept} ({', '.join(parts)})"


def rescale_instrument(instrument: dict[str, Any], shift: Shift) -> dict[str, Any]:
    """Return a copy of ``instrument`` with precisions raised and tick/lot mantissas multiplied by ``shift``.

    Examples
    --------
    >>> scaled = rescale_instrument(
    ...     {"price_precision": 1, "size_precision": 0, "tick_size": 5, "lot_size": 1}, (2, 1, 3)
    ... )
    >>> scaled["price_precision"], scaled["size_precision"], scaled["mark_precision"]
    (3, 1, 4)
    >>> scaled["tick_size"], scaled["lot_size"]
    (500, 10)
    """
    price, size, mark = precisions(instrument)
    return dict(
        instrument,
        price_precision=price + shift[0],
        size_precision=size + shift[1],
        mark_precision=mark + shift[2],
        tick_size=instrument["tick_size"] * 10 ** shift[0],
        lot_size=instrument["lot_size"] * 10 ** shift[1],
    )


def merge_instrument(existing: dict[str, Any] | None, incoming: dict[str, Any]) -> InstrumentMerge:
    """Merge an incoming instrument definition into the catalog's definition of the same instrument.

    The incoming definition wins for every field except the precisions, which become the larger of both;
    tick and lot mantissas follow the kept precisions.

    Parameters
    ----------
    existing
        The catalog's current definition, or None for a new instrument.
    incoming
        The definition the capture reader reports.

    Returns
    -------
    InstrumentMerge
        The merged definition and how much to shift existing and incoming mantissas.
    """
    if existing is None:
        return InstrumentMerge(dict(incoming), NO_SHIFT, NO_SHIFT)
    old, new = precisions(existing), precisions(incoming)
    kept = tuple(max(a, b) for a, b in zip(old, new, strict=True))
    existing_shift: Shift = (kept[0] - old[0], kept[1] - old[1], kept[2] - old[2])
    incoming_shift: Shift = (kept[0] - new[0], kept[1] - new[1], kept[2] - new[2])
    return InstrumentMerge(rescale_instrument(incoming, incoming_shift), existing_shift, incoming_shift)


def rescale_frame(frame: pl.DataFrame, kind: str, shift: Shift) -> pl.DataFrame:
    """Multiply the mantissa columns of a ``kind`` frame by ``10**digits`` of their precision's shift.

    Parameters
    ----------
    frame
        Rows of one instrument, in the schema of ``kind``.
    kind
        Which columns are prices, sizes and mark prices (:func:`ferrotrade.data.schema.mantissa_columns`).
    shift
        ``(price, size, mark)`` digits, each >= 0.

    Raises
    ------
    PrecisionError
        If a scaled value would not fit in Int64.
    """
    digits_of = dict(zip(PRECISION_KEYS, shift, strict=True))
    scaled: list[pl.Expr] = []
    for column, key in mantissa_columns(kind).items():
        digits = digits_of[key]
        if digits <= 0 or column not in frame.columns:
            continue
        factor = 10**digits
        largest = frame.select(pl.col(column).abs().max()).item()
        if largest is not None and largest > _I64_MAX // factor:
            raise PrecisionError(
                f"cannot rescale {kind}.{column} by 10^{digits}: {largest} would overflow a 64-bit mantissa"
            )
        scaled.append(pl.col(column) * factor)
    return frame.with_columns(scaled) if scaled else frame


def rescale_part(source: Path, target: Path, kind: str, shift: Shift) -> None:
    """Rewrite the Parquet part ``source`` as ``target`` with mantissas multiplied by ``10**shift``.

    ``source`` and ``target`` may be the same path: the whole part is read before writing.

    Raises
    ------
    PrecisionError
        If a scaled value would not fit in Int64.
    """
    frame = rescale_frame(pl.read_parquet(source, hive_partitioning=False), kind, shift)
    target.parent.mkdir(parents=True, exist_ok=True)
    frame.write_parquet(target, compression="zstd")
