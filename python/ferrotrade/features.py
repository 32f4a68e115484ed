"""Features over a catalog: the batch side of the feature library the engines stream.

:func:`compute` runs a feature set (a clock and a list of feature names, see :data:`FEATURES`) over one
instrument of a catalog in the Rust core and returns a polars frame with one row per sample: ``ts``
(UTC), ``price`` (the sample's reference price: a bar's close, or the book's mid) and one ``Float64``
column per feature, in the order given. The computation is the one a ``model_signal`` strategy runs on
the engine's events during a backtest or live session, so a model trained on this frame sees, bit for bit,
the values it will be served. A feature is ``NaN`` while it warms up.

Examples
--------
>>> from pathlib import Path
>>> import ferrotrade as ft
>>> catalog = Path(ft.__file__).parents[2] / "tests" / "data" / "catalog"
>>> frame = ft.features.compute(catalog, "binance-spot.BTCUSDT", ["return_1", "rsi_14"], clock="bars",
...                             progress=False)
>>> frame.columns
['ts', 'price', 'return_1', 'rsi_14']
>>> frame.height, frame["rsi_14"].is_nan().sum()
(1416, 14)
"""

# ruff: noqa: PLC0415 - the ML libraries (optional extra `ml`) and rich load only when used

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import polars as pl

from ferrotrade import _core

__all__ = ["FEATURES", "FEATURE_CODE_VERSION", "Clock", "clock_value", "compute"]

FEATURE_CODE_VERSION: str = _core.FEATURE_CODE_VERSION
"""Version of the feature definitions; model cards record it and engines refuse other versions."""

#: The feature patterns and what each computes at a sample (``p`` is the sample's reference price).
FEATURES: dict[str, str] = {
    "return_{h}": "ln(p / p h samples ago)",
    "sma_{n}": "p / SMA(n) - 1",
    "ema_{n}": "p / EMA(n) - 1 (EMA seeded with the SMA of its first n prices)",
    "wma_{n}": "p / WMA(n) - 1 (linear weights, newest heaviest)",
    "rsi_{n}": "Wilder RSI, 0..100",
    "macd_{fast}_{slow}_{signal}": "MACD histogram / p",
    "stoch_k_{k}": "stochastic %K, 0..100",
    "stoch_d_{k}_{d}": "stochastic %D (SMA of %K), 0..100",
    "atr_{n}": "Wilder ATR / p",
    "bb_pctb_{n}_{k}": "Bollinger %B (population deviation)",
    "bb_width_{n}_{k}": "Bollinger bandwidth (upper - lower) / middle",
    "obv_{n}": "OBV change over n samples / volume over n samples, -1..1",
    "vwap_{n}": "p / VWAP over n samples - 1",
    "realized_vol_{n}": "sqrt(sum of squared log returns over n samples)",
    "trade_imbalance_{n}": "(taker buy - taker sell) / their sum over n samples, -1..1",
    "book_imbalance_{levels}": "(bid - ask) / (bid + ask) volume over the top levels (book clocks)",
    "microprice_bps": "(microprice - mid) / mid in bps (book clocks)",
    "spread_bps": "(ask - bid) / mid in bps (book clocks)",
    "hour_sin": "time of day (UTC) on the unit circle, sine",
    "hour_cos": "time of day (UTC) on the unit circle, cosine",
    "dow_sin": "time of week (UTC) on the unit circle, sine",
    "dow_cos": "time of week (UTC) on the unit circle, cosine",
}

Clock = str | Mapping[str, int]
"""``"bars"`` (one sample per closed bar), ``"book"`` (per book message) or ``{"interval_ms": N}``."""


def clock_value(clock: Clock | int) -> str | dict[str, int]:
    """Normalize a clock to its configuration form (an int is an interval in milliseconds).

    Examples
    --------
    >>> clock_value(1000), clock_value("bars")
    ({'interval_ms': 1000}, 'bars')
    """
    if isinstance(clock, bool):
        raise TypeError("clock must be 'bars', 'book', {'interval_ms': N} or an int")
    if isinstance(clock, int):
        return {"interval_ms": clock}
    if isinstance(clock, str):
        return clock
    return {str(key): int(value) for key, value in clock.items()}


def compute(
    catalog: str | Path,
    instrument: str,
    features: Sequence[str],
    *,
    clock: Clock | int = "bars",
    start: str | None = None,
    end: str | None = None,
    progress: bool = True,
) -> pl.DataFrame:
    """Compute features over one instrument of a catalog.

    Parameters
    ----------
    catalog : str or Path
        The catalog directory.
    instrument : str
        ``"venue.SYMBOL"``, e.g. ``"binance-usdm.BTCUSDT"``.
    features : sequence of str
        Feature names (:data:`FEATURES` lists the patterns), in column order.
    clock : str, mapping or int
        When samples are taken: ``"bars"`` reads the instrument's bars; ``"book"`` and
        ``{"interval_ms": N}`` (or ``N``) read its book and trades.
    start, end : str, optional
        UTC dates or times bounding the receive times read (``end`` exclusive).
    progress : bool
        Show a progress bar on stderr while the catalog is read.

    Returns
    -------
    polars.DataFrame
        ``ts``, ``price`` and one column per feature.

    Raises
    ------
    ConfigError
        An unknown feature, a bad parameter, a book feature on a bar clock, an instrument the catalog
        lacks, or no data of the kind the clock needs.
    """
    config = json.dumps({"clock": clock_value(clock), "features": list(features)})
    callback: Any = None
    bar: Any = None
    if progress:
        from rich.progress import Progress

        bar = Progress(transient=True)
        task = bar.add_task(f"features {instrument}", total=None)
        bar.start()

        def callback(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total or None)

    try:
        batches = _core.compute_features(str(catalog), instrument, config, start, end, callback)
    finally:
        if bar is not None:
            bar.stop()
    return pl.DataFrame(batches)
