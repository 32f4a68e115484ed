"""Checking captures without importing them: book rebuild, sequence gaps, BBO cross-checks, trade ids.

:func:`verify` runs the native verifier (``_core.verify``), which replays each capture session through the
same book-sync logic the live engine uses, and returns one :class:`VerifyReport` per book/instrument.
A report is ``ok`` when the book never had a sequence gap, never crossed, always agreed with the venue's
best bid/offer stream and no record was malformed.

Examples
--------
>>> report = VerifyReport.from_dict({name: 0 for name in VerifyReport.field_names()} | {
...     "session": "a.gz", "format": "collector", "venue": "binance-usdm", "symbol": "BTCUSDT",
...     "trade_id_gaps": None, "first_bad_record": None, "best_bid": (1.5, 2.0), "best_ask": None,
...     "synced": True, "ok": True})
>>> report.ok, report.best_bid
(True, (1.5, 2.0))
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ferrotrade import _core

__all__ = ["VerifyReport", "verify"]


@dataclass(frozen=True)
class VerifyReport:
    """The verification outcome of one book/instrument of one capture session.

    Attributes
    ----------
    session
        The session's first file.
    format
        The capture format.
    venue, symbol
        The instrument (venue like ``binance-usdm``).
    snapshots, diffs_applied, stale_dropped
        Book snapshots loaded, incremental updates applied, updates dropped as older than the snapshot.
    gaps
        Sequence gaps found (each triggers a resync, as live would).
    buffered_while_unsynced
        Updates buffered while waiting for a snapshot.
    crossed
        Times the book was crossed (best bid >= best ask) after a complete update.
    bbo_checked, bbo_mismatches, bbo_unmatched
        Venue best-bid/offer messages compared with the book, those that disagreed, and those with no
        book state at the same sequence to compare with.
    trades, agg_trades, quotes, bars, marks
        Counts of other events.
    trade_id_gaps
        Missing trade ids, or None when the venue's ids are not sequential.
    bad_records, first_bad_record
        Malformed records skipped, and the first as ``"file:line: reason"``.
    price_precision, size_precision
        Decimals of the instrument's prices and sizes (to print ``best_bid``/``best_ask`` exactly).
    first_bbo_mismatch
        The first quote that disagreed with the book, described; None when all agreed.
    bar_gaps
        Bars whose open time is not the previous bar's plus one interval (a missing or repeated bar).
    best_bid, best_ask
        ``(price, quantity)`` of the final book top, None for an empty side. Floats: for reports only.
    bid_levels, ask_levels
        Levels in the final book.
    synced
        Whether the book was in sync at the end.
    ok
        ``gaps == 0 and crossed == 0 and bbo_mismatches == 0 and bad_records == 0``.
    """

    session: str
    format: str
    venue: str
    symbol: str
    price_precision: int
    size_precision: int
    snapshots: int
    diffs_applied: int
    stale_dropped: int
    gaps: int
    buffered_while_unsynced: int
    crossed: int
    bbo_checked: int
    bbo_mismatches: int
    first_bbo_mismatch: str | None
    bbo_unmatched: int
    trades: int
    agg_trades: int
    trade_id_gaps: int | None
    quotes: int
    bars: int
    bar_gaps: int
    marks: int
    bad_records: int
    first_bad_record: str | None
    best_bid: tuple[float, float] | None
    best_ask: tuple[float, float] | None
    bid_levels: int
    ask_levels: int
    synced: bool
    ok: bool

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        """Return the report's field names, in declaration order."""
        return tuple(f.name for f in dataclasses.fields(cls))

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> VerifyReport:
        """Build a report from one dict of ``_core.verify``; keys beyond the known fields are ignored.

        Raises
        ------
        KeyError
            If a field is missing.
        """
        fields = {name: values[name] for name in cls.field_names()}
        for side in ("best_bid", "best_ask"):
            if fields[side] is not None:
                price, quantity = fields[side]
                fields[side] = (float(price), float(quantity))
        return cls(**fields)

    def to_dict(self) -> dict[str, Any]:
        """Return the report as a JSON-ready dict (tuples become lists when serialized)."""
        return dataclasses.asdict(self)


def verify(paths: Sequence[str | os.PathLike[str]], *, skip_bad_records: bool = True) -> list[VerifyReport]:
    """Verify capture files: rebuild every book and cross-check it, without writing anything.

    Parameters
    ----------
    paths
        Capture files; the native planner groups them into sessions as for an import.
    skip_bad_records
        Count malformed records (``bad_records``) instead of failing on the first.

    Returns
    -------
    list[VerifyReport]
        One report per book/instrument, in session order.

    Raises
    ------
    DataFormatError
        For an unknown format, or a malformed record when ``skip_bad_records`` is False.
    FileNotFoundError
        For a missing file.
    """
    reports = _core.verify([os.fspath(p) for p in paths], skip_bad_records)
    return [VerifyReport.from_dict(report) for report in reports]
