"""Labels for supervised learning on feature frames: forward returns, direction classes, triple barriers.

Every function takes a frame with ``ts`` and ``price`` (as :func:`ferrotrade.features.compute` returns) and
adds two columns: ``label`` and ``label_end``, the time of the last price the label looks at. Purged
cross-validation (:mod:`ferrotrade.ml.cv`) uses ``label_end`` to drop training rows whose label overlaps a
test period. Rows whose horizon runs past the end of the data have a null label: they cannot be labelled
without looking into data that does not exist, and :func:`ferrotrade.ml.build_dataset` counts and drops them.

==================  ==================================================================================
function            ``label``
==================  ==================================================================================
forward_return      ``ln(price[t + h] / price[t])``
direction           ``1`` / ``0`` (up / not up) when ``threshold_bps == 0``; else ``1`` above
                    ``+threshold``, ``-1`` below ``-threshold``, ``0`` between
triple_barrier      ``1`` if the price first reaches ``price[t] x (1 + upper)``, ``-1`` if it first reaches
                    ``price[t] x (1 - lower)``, within ``h`` samples; otherwise ``0`` (or the sign of the
                    return at ``t + h`` with ``vertical="sign"``)
==================  ==================================================================================

Examples
--------
>>> import polars as pl
>>> frame = pl.DataFrame({"ts": [1, 2, 3, 4], "price": [100.0, 101.0, 100.5, 102.0]})
>>> forward_return(frame, 1)["label"].round(4).to_list()
[0.01, -0.005, 0.0148, None]
>>> direction(frame, 1)["label"].to_list()
[1, 0, 1, None]
>>> triple_barrier(frame, 2, upper_bps=80, lower_bps=80)["label"].to_list()
[1, 1, None, None]
"""

from __future__ import annotations

import numpy as np
import polars as pl

__all__ = ["direction", "forward_return", "triple_barrier"]


def _check(frame: pl.DataFrame, horizon: int) -> None:
    if horizon < 1:
        raise ValueError(f"horizon must be at least 1 sample, got {horizon}")
    missing = {"ts", "price"} - set(frame.columns)
    if missing:
        raise ValueError(f"the frame lacks {sorted(missing)} (use ferrotrade.features.compute)")


def forward_return(frame: pl.DataFrame, horizon: int) -> pl.DataFrame:
    """Add the log return over the next ``horizon`` samples as ``label``.

    Parameters
    ----------
    frame : polars.DataFrame
        With ``ts`` and ``price``.
    horizon : int
        Samples ahead.

    Returns
    -------
    polars.DataFrame
        ``frame`` with ``label`` (Float64) and ``label_end``.
    """
    _check(frame, horizon)
    return frame.with_columns(
        label=(pl.col("price").shift(-horizon) / pl.col("price")).log(),
        label_end=pl.col("ts").shift(-horizon),
    )


def direction(frame: pl.DataFrame, horizon: int, threshold_bps: float = 0.0) -> pl.DataFrame:
    """Add the direction of the next ``horizon`` samples' return as ``label``.

    Parameters
    ----------
    frame : polars.DataFrame
        With ``ts`` and ``price``.
    horizon : int
        Samples ahead.
    threshold_bps : float
        0: two classes, ``1`` for a positive return and ``0`` otherwise. Positive: three classes, ``1`` above
        ``+threshold``, ``-1`` below ``-threshold``, ``0`` in between.

    Returns
    -------
    polars.DataFrame
        ``frame`` with ``label`` (Int8) and ``label_end``.
    """
    if threshold_bps < 0:
        raise ValueError(f"threshold_bps must not be negative, got {threshold_bps}")
    returns = forward_return(frame, horizon)
    ret = pl.col("label")
    if threshold_bps == 0:
        label = pl.when(ret.is_null()).then(None).when(ret > 0).then(1).otherwise(0)
    else:
        threshold = np.log1p(threshold_bps / 1e4)
        label = (
            pl.when(ret.is_null())
            .then(None)
            .when(ret > threshold)
            .then(1)
            .when(ret < -threshold)
            .then(-1)
            .otherwise(0)
        )
    return returns.with_columns(label=label.cast(pl.Int8))


def triple_barrier(
    frame: pl.DataFrame,
    horizon: int,
    *,
    upper_bps: float | None = None,
    lower_bps: float | None = None,
    volatility: str | None = None,
    multiplier: float = 1.0,
    vertical: str = "zero",
) -> pl.DataFrame:
    """Add the triple-barrier label (López de Prado) as ``label``.

    The barriers are either fixed (``upper_bps``, ``lower_bps``) or ``multiplier`` times a volatility column
    of the frame (``volatility="realized_vol_24"``: a log-return scale at the sample). ``label_end`` is the
    time the first barrier was touched, or the vertical barrier's.

    Parameters
    ----------
    frame : polars.DataFrame
        With ``ts``, ``price`` (and the ``volatility`` column when given).
    horizon : int
        The vertical barrier, in samples.
    upper_bps, lower_bps : float, optional
        Fixed barrier distances in basis points.
    volatility : str, optional
        Column giving both barriers' distance (times ``multiplier``) instead.
    multiplier : float
        Scale of the volatility barriers.
    vertical : {"zero", "sign"}
        Label when neither barrier is touched: 0, or the sign of the return at the vertical barrier.

    Returns
    -------
    polars.DataFrame
        ``frame`` with ``label`` (Int8) and ``label_end``.
    """
    _check(frame, horizon)
    if vertical not in ("zero", "sign"):
        raise ValueError(f"vertical must be 'zero' or 'sign', got {vertical!r}")
    price = frame["price"].to_numpy().astype(np.float64)
    n = len(price)
    if volatility is not None:
        if upper_bps is not None or lower_bps is not None:
            raise ValueError("give either volatility or upper_bps/lower_bps")
        if volatility not in frame.columns:
            raise ValueError(f"volatility column {volatility!r} is not in the frame")
        scale = frame[volatility].to_numpy().astype(np.float64) * multiplier
        up = np.expm1(scale)
        down = -np.expm1(-scale)
    else:
        if upper_bps is None or lower_bps is None or upper_bps <= 0 or lower_bps <= 0:
            raise ValueError("triple_barrier needs positive upper_bps and lower_bps (or a volatility column)")
        up = np.full(n, upper_bps / 1e4)
        down = np.full(n, lower_bps / 1e4)
    labels: list[int | None] = [None] * n
    ends: list[int | None] = [None] * n
    ts = frame["ts"].to_physical().to_numpy()
    for i in range(n - horizon):
        if not (np.isfinite(up[i]) and np.isfinite(down[i])):
            continue
        path = price[i + 1 : i + horizon + 1] / price[i] - 1.0
        hit_up = np.flatnonzero(path >= up[i])
        hit_down = np.flatnonzero(path <= -down[i])
        first_up = hit_up[0] if hit_up.size else horizon
        first_down = hit_down[0] if hit_down.size else horizon
        if first_up < first_down:
            labels[i], ends[i] = 1, int(ts[i + 1 + first_up])
        elif first_down < first_up:
            labels[i], ends[i] = -1, int(ts[i + 1 + first_down])
        else:
            final = path[-1]
            labels[i] = 0 if vertical == "zero" else int(np.sign(final))
            ends[i] = int(ts[i + horizon])
    return frame.with_columns(
        label=pl.Series("label", labels, dtype=pl.Int8),
        label_end=pl.Series("label_end", ends, dtype=pl.Int64).cast(frame.schema["ts"]),
    )
