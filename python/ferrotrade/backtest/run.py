"""``ft.backtest.run``: one backtest from a configuration and optional Python strategies.

Examples
--------
>>> import ferrotrade as ft
>>> ft.backtest.run({"backtest": {"catalog": "nowhere", "initial_equity": 1000}})
Traceback (most recent call last):
...
ferrotrade.exceptions.ConfigError: <dict>: no strategy: add a [[strategy]] table or pass strategies=[...]
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import polars as pl

from ferrotrade import _core
from ferrotrade.backtest.config import LoadedConfig, load_config
from ferrotrade.backtest.result import BacktestResult
from ferrotrade.data.profile import volume_profile
from ferrotrade.exceptions import ConfigError
from ferrotrade.research.metrics import compute_metrics
from ferrotrade.strategy import Strategy

__all__ = ["CHECKPOINT_EVENTS", "check", "run"]

Progress = Callable[[int, int], None]
Checkpoint = Callable[[int, int, float], None]

CHECKPOINT_EVENTS: int = _core.CHECKPOINT_ROWS
"""Replayed events between two calls of a run's ``checkpoint`` callback (65,536)."""


@contextlib.contextmanager
def _named_errors(loaded: LoadedConfig) -> Iterator[None]:
    """Prefix the file name to configuration errors; import ``kind = "python"`` classes relative to it."""
    sys.path.insert(0, str(loaded.base_dir))
    try:
        yield
    except ConfigError as error:
        # Keep the subclass (ModelMismatchError is a ConfigError callers may catch precisely).
        raise type(error)(f"{loaded.source}: {error}") from None
    finally:
        sys.path.remove(str(loaded.base_dir))


def _resolve_profiles(loaded: LoadedConfig) -> None:
    """Replace ``profile = "catalog"`` in VWAP orders by the catalog's volume profile of the instrument.

    ``profile_bucket_minutes`` (default 15) sets the buckets; the profile averages every day the catalog
    holds for the instrument (:func:`ferrotrade.data.volume_profile`).
    """
    catalog = loaded.base_dir / str(loaded.engine.get("backtest", {}).get("catalog", "."))
    for index, table in enumerate(loaded.engine.get("strategy", [])):
        if not isinstance(table, dict) or table.get("kind") != "execution":
            continue
        for number, order in enumerate(table.get("orders", [])):
            if not isinstance(order, dict):
                continue
            bucket = order.pop("profile_bucket_minutes", None)
            if order.get("profile") != "catalog":
                if bucket is not None:
                    key = f"strategy[{index}].orders[{number}].profile_bucket_minutes"
                    raise ConfigError(f'{key}: only with profile = "catalog"')
                continue
            try:
                order["profile"] = volume_profile(
                    catalog, str(order.get("instrument")), bucket_minutes=int(bucket or 15)
                )
            except ValueError as error:
                raise ConfigError(f"strategy[{index}].orders[{number}].profile: {error}") from error


def check(
    config: str | Path | Mapping[str, Any],
    strategies: Iterable[Strategy] = (),
    *,
    catalog: str | Path | None = None,
) -> None:
    """Check a configuration as :func:`run` does before it starts, without reading any data.

    The configuration, the strategies (Python classes are imported and built), the instruments against
    the catalog and the time range are checked.

    Raises
    ------
    ConfigError
        The message names the file and the key, as :func:`run` would raise it.

    Examples
    --------
    >>> check({"backtest": {"catalog": "nowhere", "initial_equity": 1000}})
    Traceback (most recent call last):
    ...
    ferrotrade.exceptions.ConfigError: <dict>: no strategy: add a [[strategy]] table or pass strategies=[...]
    """
    loaded = load_config(config)
    if catalog is not None:
        loaded.engine.setdefault("backtest", {})["catalog"] = str(Path(catalog).resolve())
    with _named_errors(loaded):
        _resolve_profiles(loaded)
        _core.check_backtest(json.dumps(loaded.engine), str(loaded.base_dir), list(strategies), Strategy)


def run(
    config: str | Path | Mapping[str, Any],
    strategies: Iterable[Strategy] = (),
    *,
    catalog: str | Path | None = None,
    progress: Progress | None = None,
    checkpoint: Checkpoint | None = None,
) -> BacktestResult:
    """Run a backtest.

    Parameters
    ----------
    config : str, Path or Mapping
        A TOML file or the configuration as a dict (see ``ferrotrade backtest --help`` and
        ``examples/``): ``[backtest]`` (catalog, start, end, initial_equity, seed), ``[venue]`` (fees, queue
        model, latency), ``[instruments."venue.SYMBOL"]``, ``[risk]``, ``[[strategy]]``, ``[report]``, and
        optionally ``[bus]`` (``publish = "tcp://..."``): the run's fills, risk events, heartbeats and final
        positions on the monitoring bus while it runs (``ferrotrade monitor tail`` follows it).
    strategies : iterable of Strategy
        Python strategy objects to run besides the configured ones.
    catalog : str or Path, optional
        Catalog to read instead of ``[backtest].catalog`` (relative to the working directory).
    progress : callable, optional
        ``progress(rows_read, rows_total)``, called a few times a second.
    checkpoint : callable, optional
        ``checkpoint(events, ts_ns, equity)``, called every :data:`CHECKPOINT_EVENTS` replayed events
        with the receive time of the last one and the account's equity then. Calls happen at the same
        events whatever the machine's speed; an exception it raises stops the run and propagates (an
        optimizer prunes a trial this way).

    Returns
    -------
    BacktestResult

    Raises
    ------
    ConfigError
        Before any work, for a configuration problem (the message names the file and the key).
    StrategyError
        A strategy callback raised; the strategy's exception is the ``__cause__``.
    """
    loaded = load_config(config)
    if catalog is not None:
        loaded.engine.setdefault("backtest", {})["catalog"] = str(Path(catalog).resolve())
    started = time.perf_counter()
    with _named_errors(loaded):
        _resolve_profiles(loaded)
        raw = _core.run_backtest(
            json.dumps(loaded.engine), str(loaded.base_dir), list(strategies), Strategy, progress, checkpoint
        )
    wall_seconds = time.perf_counter() - started
    orders = pl.DataFrame(raw["orders"])
    fills = pl.DataFrame(raw["fills"])
    equity = pl.DataFrame(raw["equity"])
    positions = pl.DataFrame(raw["positions"])
    initial_equity = float(loaded.engine["backtest"]["initial_equity"])
    metrics = compute_metrics(
        equity,
        fills,
        orders,
        initial_equity=initial_equity,
        events=raw["stats"]["events"],
        wall_seconds=wall_seconds,
        return_interval=loaded.report.return_interval,
    )
    title = loaded.report.title or (
        Path(loaded.source).stem if loaded.source != "<dict>" else "ferrotrade backtest"
    )
    return BacktestResult(
        orders=orders,
        fills=fills,
        equity=equity,
        positions=positions,
        metrics=metrics,
        stats=dict(raw["stats"]),
        denials=dict(raw["denials"]),
        risk_events=list(raw["risk_events"]),
        strategies=list(raw["strategies"]),
        instruments=list(raw["instruments"]),
        wall_seconds=wall_seconds,
        title=title,
        catalog=loaded.base_dir / str(loaded.engine["backtest"]["catalog"]),
        parents=pl.DataFrame(raw["parents"]),
        children=pl.DataFrame(raw["children"]),
    )
