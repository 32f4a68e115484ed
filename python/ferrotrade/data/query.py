"""Reading a catalog: lazy scans with partition pruning, a table of contents, the instrument list.

:func:`scan` returns a ``polars.LazyFrame`` over the hive-partitioned Parquet parts of one kind; filters
on ``venue``, ``symbol`` and the time range are pushed down to the partition folders (``date=``) and to the
row groups, so a narrow query reads only the files it needs.

Time bounds
-----------
``start`` is inclusive and ``end`` exclusive, both on ``ts_event``. Each accepts an ISO string
(``"2024-08-08"``, ``"2024-08-08T12:30:00"``, with or without offset; naive means UTC), a ``datetime`` or
``date`` (naive means UTC) or an int of nanoseconds since the epoch.

Examples
--------
>>> to_nanos("2024-08-08")
1723075200000000000
>>> to_nanos("2024-08-08T00:00:01+00:00") - to_nanos("2024-08-08")
1000000000
>>> to_nanos(5)
5
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any, Final

import polars as pl

from ferrotrade._core import ConfigError
from ferrotrade.data.instruments import precisions
from ferrotrade.data.layout import (
    InstrumentKey,
    iter_parts,
    parse_partition,
    read_instruments,
    require_catalog,
)
from ferrotrade.data.schema import (
    HIVE_SCHEMA,
    INSTRUMENT_SCHEMA,
    KINDS,
    PRECISION_KEYS,
    SCHEMAS,
    mantissa_columns,
)

__all__ = ["INFO_SCHEMA", "TimeBound", "info", "instruments", "scan", "to_nanos"]

TimeBound = str | dt.datetime | dt.date | int
"""A time bound accepted by :func:`scan`."""

INFO_SCHEMA: Final = pl.Schema(
    {
        "kind": pl.String(),
        "venue": pl.String(),
        "symbol": pl.String(),
        "first_date": pl.Date(),
        "last_date": pl.Date(),
        "first_ts_event": pl.Datetime("ns", "UTC"),
        "last_ts_event": pl.Datetime("ns", "UTC"),
        "rows": pl.Int64(),
        "files": pl.Int64(),
        "bytes": pl.Int64(),
    }
)
"""Columns of :func:`info`."""

# date= partitions follow ts_recv; allow this much skew between ts_event and ts_recv when pruning.
_PRUNE_MARGIN: Final = dt.timedelta(days=1)
_EPOCH: Final = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def to_nanos(value: TimeBound) -> int:
    """Convert a time bound to nanoseconds since the Unix epoch (UTC).

    Raises
    ------
    ConfigError
        For a string that is not an ISO date or datetime, or an unsupported type.
    """
    if isinstance(value, bool):
        raise ConfigError(f"not a time bound: {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            raise ConfigError(f"not an ISO date or datetime: {value!r}") from None
    if isinstance(value, dt.datetime):
        moment = value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
        delta = moment - _EPOCH
        return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000
    if isinstance(value, dt.date):
        return to_nanos(dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC))
    raise ConfigError(f"not a time bound: {value!r}")


def _date_of(nanos: int) -> dt.date:
    return (_EPOCH + dt.timedelta(microseconds=nanos // 1_000)).date()


def _present(catalog: Path, kind: str) -> list[tuple[str, str]]:
    """``(venue, symbol)`` pairs with at least one part of ``kind``."""
    seen = {parse_partition(part, catalog)[1:3] for part in iter_parts(catalog, kinds=[kind])}
    return sorted(seen)


def _float_columns(kind: str, known: dict[InstrumentKey, dict[str, Any]]) -> list[pl.Expr]:
    """``<column>_f`` float columns: mantissa / 10**precision, the precision chosen per instrument."""
    expressions: list[pl.Expr] = []
    for column, key in mantissa_columns(kind).items():
        scaled: pl.Expr = pl.lit(None, dtype=pl.Float64())
        for (venue, symbol), instrument in known.items():
            digits = precisions(instrument)[PRECISION_KEYS.index(key)]
            scaled = (
                pl.when((pl.col("venue") == venue) & (pl.col("symbol") == symbol))
                .then(pl.col(column).cast(pl.Float64()) / 10.0**digits)
                .otherwise(scaled)
            )
        expressions.append(scaled.alias(f"{column}_f"))
    return expressions


def scan(
    catalog: str | os.PathLike[str],
    *,
    venue: str | None = None,
    symbol: str | None = None,
    kind: str = "book",
    start: TimeBound | None = None,
    end: TimeBound | None = None,
    with_floats: bool = False,
) -> pl.LazyFrame:
    """Lazily scan one kind of data in a catalog.

    Parameters
    ----------
    catalog
        The catalog folder.
    venue, symbol
        Keep only this venue / symbol; all when None.
    kind
        One of :data:`ferrotrade.data.schema.KINDS`.
    start, end
        Keep rows with ``start <= ts_event < end`` (see the module doc for accepted forms).
    with_floats
        Add ``<column>_f`` Float64 columns for every mantissa column (prices, sizes, mark prices), using
        the precisions in ``instruments.json``. For reports and research only: money stays fixed-point.

    Returns
    -------
    polars.LazyFrame
        The kind's columns (:data:`ferrotrade.data.schema.SCHEMAS`) plus ``venue``, ``symbol`` and
        ``date``, in partition order: receive order within one capture session (see
        :mod:`ferrotrade.data.catalog` for sessions sharing a day).

    Raises
    ------
    FileNotFoundError
        If ``catalog`` is not a folder.
    ConfigError
        For an unknown kind, or a kind, venue or symbol the catalog holds no data for; the message lists
        what the catalog has.

    Examples
    --------
    A catalog with three hourly bars (data.binance.vision kline CSV):

    >>> import pathlib, tempfile
    >>> from ferrotrade.data import import_captures
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> hour = 3_600_000
    >>> rows = [f"{1672531200000 + h * hour},16541.77,16545.70,16508.39,1652{h}.67,4364.8357,"
    ...         f"{1672534799999 + h * hour},72146293.58,149854,2179.94772,36032352.87,0" for h in range(3)]
    >>> _ = (folder / "BTCUSDT-1h-2023-01.csv").write_text("\\n".join(rows) + "\\n")
    >>> _ = import_captures([folder / "BTCUSDT-1h-2023-01.csv"], folder / "catalog")
    >>> bars = scan(folder / "catalog", kind="bars", start="2023-01-01T01:00", with_floats=True)
    >>> bars.select("open_time", "close", "close_f").collect().rows()  # doctest: +NORMALIZE_WHITESPACE
    [(datetime.datetime(2023, 1, 1, 1, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), 1652167, 16521.67),
     (datetime.datetime(2023, 1, 1, 2, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), 1652267, 16522.67)]
    >>> scan(folder / "catalog", kind="trades")
    Traceback (most recent call last):
    ...
    ferrotrade.exceptions.ConfigError: catalog ... holds no 'trades' data; it holds: bars
    >>> import shutil; shutil.rmtree(folder)
    """
    root = require_catalog(catalog)
    if kind not in SCHEMAS:
        raise ConfigError(f"unknown kind {kind!r}: expected one of {', '.join(KINDS)}")
    present = _present(root, kind)
    if not present:
        held = [k for k in KINDS if _present(root, k)]
        raise ConfigError(f"catalog {root} holds no {kind!r} data; it holds: {', '.join(held) or 'nothing'}")
    venues = sorted({v for v, _ in present})
    if venue is not None and venue not in venues:
        raise ConfigError(
            f"catalog {root} has no {kind!r} data for venue {venue!r}; venues: {', '.join(venues)}"
        )
    if symbol is not None:
        symbols = sorted({s for v, s in present if venue is None or v == venue})
        if symbol not in symbols:
            raise ConfigError(
                f"catalog {root} has no {kind!r} data for symbol {symbol!r}; symbols: {', '.join(symbols)}"
            )

    frame = pl.scan_parquet(
        root / kind / "**" / "*.parquet",
        hive_partitioning=True,
        hive_schema=HIVE_SCHEMA,
        schema=SCHEMAS[kind],
    )
    predicates: list[pl.Expr] = []
    if venue is not None:
        predicates.append(pl.col("venue") == venue)
    if symbol is not None:
        predicates.append(pl.col("symbol") == symbol)
    if start is not None:
        start_ns = to_nanos(start)
        predicates.append(pl.col("date") >= _date_of(start_ns) - _PRUNE_MARGIN)
        predicates.append(pl.col("ts_event").dt.epoch("ns") >= start_ns)
    if end is not None:
        end_ns = to_nanos(end)
        predicates.append(pl.col("date") <= _date_of(end_ns) + _PRUNE_MARGIN)
        predicates.append(pl.col("ts_event").dt.epoch("ns") < end_ns)
    if predicates:
        frame = frame.filter(*predicates)
    if with_floats:
        known = {
            key: value
            for key, value in read_instruments(root).items()
            if (venue is None or key[0] == venue) and (symbol is None or key[1] == symbol)
        }
        frame = frame.with_columns(_float_columns(kind, known))
    return frame


def info(catalog: str | os.PathLike[str]) -> pl.DataFrame:
    """Return the catalog's table of contents: one row per ``(kind, venue, symbol)``.

    Columns are :data:`INFO_SCHEMA`: first/last ``date=`` partition, first/last ``ts_event``, rows, part
    files and their bytes on disk.

    Raises
    ------
    FileNotFoundError
        If ``catalog`` is not a folder.
    """
    root = require_catalog(catalog)
    files: dict[tuple[str, str, str], tuple[int, int]] = {}
    for part in iter_parts(root, kinds=[k for k in KINDS if (root / k).is_dir()]):
        kind, venue, symbol, _ = parse_partition(part, root)
        count, size = files.get((kind, venue, symbol), (0, 0))
        files[kind, venue, symbol] = (count + 1, size + part.stat().st_size)
    frames: list[pl.DataFrame] = []
    for kind in sorted({k for k, _, _ in files}, key=KINDS.index):
        frames.append(
            scan(root, kind=kind)
            .group_by("venue", "symbol")
            .agg(
                pl.col("date").min().alias("first_date"),
                pl.col("date").max().alias("last_date"),
                pl.col("ts_event").min().alias("first_ts_event"),
                pl.col("ts_event").max().alias("last_ts_event"),
                pl.len().cast(pl.Int64).alias("rows"),
            )
            .with_columns(pl.lit(kind).alias("kind"))
            .collect()
        )
    if not frames:
        return pl.DataFrame(schema=INFO_SCHEMA)
    counts = pl.DataFrame(
        [(k, v, s, n, b) for (k, v, s), (n, b) in files.items()],
        schema={
            "kind": pl.String(),
            "venue": pl.String(),
            "symbol": pl.String(),
            "files": pl.Int64(),
            "bytes": pl.Int64(),
        },
        orient="row",
    )
    table = pl.concat(frames).join(counts, on=["kind", "venue", "symbol"], how="left")
    order = pl.col("kind").replace_strict(list(KINDS), list(range(len(KINDS))), return_dtype=pl.Int64)
    return table.sort(order, "venue", "symbol").select(list(INFO_SCHEMA))


def instruments(catalog: str | os.PathLike[str]) -> pl.DataFrame:
    """Return the catalog's instruments (``instruments.json``) as a frame of :data:`INSTRUMENT_SCHEMA`.

    Raises
    ------
    FileNotFoundError
        If ``catalog`` is not a folder.
    """
    root = require_catalog(catalog)
    entries = [instrument for _, instrument in sorted(read_instruments(root).items())]
    return pl.DataFrame(
        [{name: entry.get(name) for name in INSTRUMENT_SCHEMA} for entry in entries],
        schema=INSTRUMENT_SCHEMA,
    )
