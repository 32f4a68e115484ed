"""Latency sensitivity: the same configuration re-run with more order latency, one row per setting.

The added latency goes on both legs of the venue's latency model (``[venue.latency]``): the order's way to
the venue (``entry_ns``) and the answer's way back (``response_ns``); for an empirical model it is added to
every sample. A strategy whose PnL collapses with a millisecond more is fitted to the simulator's latency,
not to the market.

Examples
--------
>>> with_added_latency({"venue": {"latency": {"model": "constant", "entry_ns": 5, "response_ns": 7}}},
...                    10)["venue"]["latency"]
{'model': 'constant', 'entry_ns': 15, 'response_ns': 17}
>>> with_added_latency({}, 3)["venue"]["latency"]
{'model': 'constant', 'entry_ns': 3, 'response_ns': 3}
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from ferrotrade.backtest.run import run
from ferrotrade.exceptions import ConfigError

__all__ = ["DEFAULT_ADDED_LATENCY_NS", "LATENCY_SCHEMA", "latency_sensitivity", "with_added_latency"]

DEFAULT_ADDED_LATENCY_NS = (0, 1_000_000, 2_000_000, 5_000_000, 10_000_000, 20_000_000)
"""Added latency per leg of the default sweep: 0 to 20 ms."""

LATENCY_SCHEMA = pl.Schema(
    {
        "added_ns": pl.Int64(),
        "entry_ns": pl.Float64(),
        "response_ns": pl.Float64(),
        "total_pnl": pl.Float64(),
        "sharpe": pl.Float64(),
        "max_drawdown": pl.Float64(),
        "trades": pl.Int64(),
        "fill_ratio": pl.Float64(),
        "fees": pl.Float64(),
    }
)
"""One row per added latency; ``entry_ns`` / ``response_ns`` are the (mean) latencies of the run."""


def with_added_latency(engine: Mapping[str, Any], added_ns: int) -> dict[str, Any]:
    """A copy of the engine configuration with ``added_ns`` more latency on entry and response.

    Raises
    ------
    ConfigError
        ``added_ns`` is negative, or the latency model is unknown.
    """
    if added_ns < 0:
        raise ConfigError(f"added latency must not be negative, found {added_ns}")
    config = copy.deepcopy(dict(engine))
    venue = config.setdefault("venue", {})
    latency = venue.setdefault("latency", {"model": "constant", "entry_ns": 0, "response_ns": 0})
    model = latency.get("model")
    for leg in ("entry_ns", "response_ns"):
        if model == "constant":
            latency[leg] = int(latency.get(leg, 0)) + added_ns
        elif model == "empirical":
            latency[leg] = [int(sample) + added_ns for sample in latency.get(leg, [])]
        else:
            raise ConfigError(f"venue.latency.model: cannot add latency to model {model!r}")
    return config


def _mean(value: int | list[int]) -> float:
    return float(sum(value) / len(value)) if isinstance(value, list) else float(value)


def latency_sensitivity(
    engine: Mapping[str, Any], added_ns: Sequence[int] = DEFAULT_ADDED_LATENCY_NS
) -> pl.DataFrame:
    """Run the configuration once per added latency and return the key metrics of each run.

    Parameters
    ----------
    engine : Mapping
        A backtest configuration (a dict, with an absolute catalog path).
    added_ns : sequence of int
        Latency added to each leg, nanoseconds.

    Returns
    -------
    polars.DataFrame
        :data:`LATENCY_SCHEMA`, one row per ``added_ns``, in the order given.
    """
    rows = []
    for added in added_ns:
        config = with_added_latency(engine, int(added))
        result = run(config)
        latency = config["venue"]["latency"]
        m = result.metrics
        rows.append(
            {
                "added_ns": int(added),
                "entry_ns": _mean(latency["entry_ns"]),
                "response_ns": _mean(latency["response_ns"]),
                "total_pnl": m.total_pnl,
                "sharpe": m.sharpe,
                "max_drawdown": m.max_drawdown,
                "trades": m.trades,
                "fill_ratio": m.fill_ratio,
                "fees": m.fees,
            }
        )
    return pl.DataFrame(rows, schema=LATENCY_SCHEMA)
