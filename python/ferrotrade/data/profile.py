"""Intraday volume profiles from a catalog's trades: the curve a VWAP schedule follows.

:func:`volume_profile` cuts the UTC day into equal buckets and returns the share of the day's traded
volume in each, averaged over the days that have trades: every day weighs the same, so one busy day does
not shape the curve alone. A day at the edge of the data (or of ``start`` / ``end``) counts as it is, so a
partial day puts its whole weight on the hours it covers; bound the range to whole days for a clean curve.

Sizes are summed as the catalog's integer mantissas: one instrument has one size precision, and the shares
do not depend on the scale.

Examples
--------
>>> buckets_per_day(15), buckets_per_day(60)
(96, 24)
>>> buckets_per_day(7)
Traceback (most recent call last):
...
ValueError: bucket_minutes must divide the 1440 minutes of a day, got 7 (15, 30 and 60 do)
"""

from __future__ import annotations

import os
from typing import Final

import polars as pl

from ferrotrade.data.query import TimeBound, scan
from ferrotrade.exceptions import ConfigError

__all__ = ["buckets_per_day", "volume_profile"]

_DAY_MINUTES: Final = 24 * 60


def buckets_per_day(bucket_minutes: int) -> int:
    """Return how many ``bucket_minutes`` buckets make a UTC day.

    Raises
    ------
    ValueError
        ``bucket_minutes`` is not a positive divisor of 1440.
    """
    if isinstance(bucket_minutes, bool) or not isinstance(bucket_minutes, int) or bucket_minutes <= 0:
        raise ValueError(f"bucket_minutes must be a positive whole number of minutes, got {bucket_minutes!r}")
    if _DAY_MINUTES % bucket_minutes:
        raise ValueError(
            f"bucket_minutes must divide the {_DAY_MINUTES} minutes of a day, got {bucket_minutes} "
            "(15, 30 and 60 do)"
        )
    return _DAY_MINUTES // bucket_minutes


def volume_profile(
    catalog: str | os.PathLike[str],
    instrument: str,
    bucket_minutes: int = 15,
    start: TimeBound | None = None,
    end: TimeBound | None = None,
) -> list[float]:
    """Return the average share of a UTC day's traded volume in each ``bucket_minutes`` bucket.

    Parameters
    ----------
    catalog
        The catalog folder.
    instrument
        ``"venue.symbol"``, e.g. ``"binance-usdm.BTCUSDT"``.
    bucket_minutes
        Bucket width; must divide 1440 (a day).
    start, end
        Read trades with ``start <= ts_event < end`` (forms as in :func:`ferrotrade.data.scan`).

    Returns
    -------
    list of float
        ``1440 / bucket_minutes`` shares, bucket 0 starting at 00:00 UTC, summing to 1: the mean over the
        days with trades of each day's volume share per bucket.

    Raises
    ------
    ValueError
        ``bucket_minutes`` does not divide a day, ``instrument`` is not ``venue.symbol``, or the catalog
        has no trades (or only zero sizes) for the instrument in the range; the message names it.
    FileNotFoundError
        ``catalog`` is not a folder.

    Examples
    --------
    The bundled catalog holds the last six minutes of 2024-08-08 for Binance USD-M BTCUSDT:

    >>> from pathlib import Path
    >>> import ferrotrade as ft
    >>> catalog = Path(ft.__file__).parents[2] / "tests" / "data" / "catalog"
    >>> profile = volume_profile(catalog, "binance-usdm.BTCUSDT", bucket_minutes=60)
    >>> len(profile), profile[-1], sum(profile[:-1])
    (24, 1.0, 0.0)
    """
    buckets = buckets_per_day(bucket_minutes)
    venue, dot, symbol = instrument.partition(".")
    if not dot or not venue or not symbol:
        raise ValueError(f"instrument must be 'venue.symbol', got {instrument!r}")
    try:
        trades = scan(catalog, venue=venue, symbol=symbol, kind="trades", start=start, end=end)
    except ConfigError as err:
        raise ValueError(f"no trades for {instrument} in the catalog: {err}") from err
    ts = pl.col("ts_event")
    daily = (
        trades.select(
            ts.dt.date().alias("day"),
            ((ts.dt.hour().cast(pl.Int64) * 60 + ts.dt.minute()) // bucket_minutes).alias("bucket"),
            pl.col("size").cast(pl.Float64).alias("volume"),
        )
        .group_by("day", "bucket")
        .agg(pl.col("volume").sum())
        .with_columns(pl.col("volume").sum().over("day").alias("day_volume"))
        .filter(pl.col("day_volume") > 0)
        .collect()
    )
    days = daily["day"].n_unique()
    if days == 0:
        bounds = "" if start is None and end is None else f" between {start} and {end}"
        raise ValueError(f"no traded volume for {instrument} in the catalog{bounds}")
    shares = (
        daily.group_by("bucket")
        .agg((pl.col("volume") / pl.col("day_volume")).sum().alias("share"))
        .sort("bucket")
    )
    profile = [0.0] * buckets
    for bucket, share in shares.iter_rows():
        profile[bucket] = share / days
    return profile
