"""M4 downsampling of line series, so a report of a long backtest stays small and fast to draw.

A chart a few thousand pixels wide cannot show more than a few points per pixel column; sending millions
of points to the browser only makes the HTML huge. M4 (Jugel et al., "M4: A Visualization-Oriented Time
Series Data Aggregation", VLDB 2014) splits the x range into equal-width buckets and keeps, per bucket, the
first, last, minimum and maximum points. A line drawn through the kept points covers exactly the same pixels
as the full line at a width of up to one pixel per bucket: spikes and drawdown troughs are never lost, unlike
with striding or averaging.

Invariants
----------
* Output rows are a subset of the input rows, in input order, with all columns kept.
* A group with at most ``max_points`` rows is returned whole; a larger one keeps at most ``max_points``
  rows (4 per bucket, ``max_points // 4`` buckets).
* Each group's first and last rows, global minimum and global maximum are always kept.

Examples
--------
>>> import polars as pl
>>> frame = pl.DataFrame({"x": list(range(100)), "y": [float(i % 10) for i in range(100)]})
>>> m4_downsample(frame, "x", "y", max_points=8).height <= 8
True
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

__all__ = ["m4_downsample"]

_ROW = "__m4_row"
_BUCKET = "__m4_bucket"


def m4_downsample(
    frame: pl.DataFrame,
    x: str,
    y: str,
    *,
    max_points: int = 10_000,
    group_by: Sequence[str] = (),
) -> pl.DataFrame:
    """Keep at most ``max_points`` rows per group with the M4 method (first, last, min, max per bucket).

    Parameters
    ----------
    frame
        The series; rows in x order within each group.
    x
        The x column: numeric or temporal (a Datetime is bucketed on its integer value).
    y
        The numeric y column whose extremes must survive.
    max_points
        Row budget per group, >= 4.
    group_by
        Columns identifying independent series (e.g. ``["instrument"]``); each gets the full budget.

    Returns
    -------
    polars.DataFrame
        The kept rows, in input order.

    Raises
    ------
    ValueError
        ``max_points`` is below 4.

    Examples
    --------
    A spike in the middle of a flat series survives a 10x reduction:

    >>> import polars as pl
    >>> ys = [0.0] * 1000
    >>> ys[537] = 50.0
    >>> frame = pl.DataFrame({"x": range(1000), "y": ys})
    >>> small = m4_downsample(frame, "x", "y", max_points=100)
    >>> small.height <= 100, small["y"].max(), small["x"][0], small["x"][-1]
    (True, 50.0, 0, 999)
    """
    if max_points < 4:
        raise ValueError(f"max_points must be >= 4, got {max_points}")
    if frame.height <= max_points:
        return frame
    keys = list(group_by)
    over = keys or None
    buckets = max_points // 4
    xi = pl.col(x).to_physical().cast(pl.Float64)
    x_min = xi.min().over(over) if over else xi.min()
    x_max = xi.max().over(over) if over else xi.max()
    # Float arithmetic: an ns span times the bucket count would overflow Int64.
    bucket = ((xi - x_min) / (x_max - x_min) * buckets).floor().fill_nan(0.0).clip(0, buckets - 1)
    group_len = pl.len().over(over) if over else pl.len()
    tagged = frame.with_row_index(_ROW).with_columns(
        bucket.cast(pl.Int64).alias(_BUCKET), (group_len <= max_points).alias("__m4_small")
    )
    small = tagged.filter(pl.col("__m4_small"))[_ROW]
    row = pl.col(_ROW)
    picked = (
        tagged.filter(~pl.col("__m4_small"))
        .group_by([*keys, _BUCKET])
        .agg(
            pl.concat_list(
                row.first(),
                row.last(),
                row.get(pl.col(y).arg_min().fill_null(0)),
                row.get(pl.col(y).arg_max().fill_null(0)),
            ).alias(_ROW)
        )
        .select(pl.col(_ROW).explode())
        .to_series()
    )
    keep = pl.concat([small, picked]).unique()
    return tagged.filter(row.is_in(keep.implode())).drop(_ROW, _BUCKET, "__m4_small")
