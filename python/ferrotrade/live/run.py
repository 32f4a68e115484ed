"""``ft.live.run``: the live engine from a configuration and optional Python strategies.

The engine runs in Rust on the calling thread's behalf: with only Rust strategies it runs with the GIL
released and Ctrl-C stops it cleanly (strategies' ``on_stop``, optional cancel of every open order, journal
flushed); Python strategies get their callbacks on this one Python thread.

Examples
--------
>>> import ferrotrade as ft
>>> ft.live.run({"live": {"mode": "paper"}})
Traceback (most recent call last):
...
ferrotrade.exceptions.ConfigError: <dict>: no strategy: add a [[strategy]] table or pass strategies=[...]
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from ferrotrade import _core
from ferrotrade.config_file import read_config
from ferrotrade.exceptions import ConfigError
from ferrotrade.live.report import LiveReport
from ferrotrade.strategy import Strategy

__all__ = ["run"]

StatusCallback = Callable[[dict[str, Any]], None]


def run(
    config: str | Path | Mapping[str, Any],
    strategies: Iterable[Strategy] = (),
    *,
    mode: str | None = None,
    stop_after: float | None = None,
    on_status: StatusCallback | None = None,
) -> LiveReport:
    """Run the live engine until it is stopped.

    Parameters
    ----------
    config : str, Path or Mapping
        A TOML file or the configuration as a dict (see ``examples/live_*.toml``): ``[live]`` (mode,
        run_dir, cancel_on_stop, reconcile_every_s), ``[[venue]]`` (name, network, endpoints, credentials),
        ``[instruments."venue.SYMBOL"]``, ``[risk]``, ``[paper]``, ``[replay]`` and ``[[strategy]]``.
    strategies : iterable of Strategy
        Python strategy objects to run besides the configured ones.
    mode : str, optional
        Overrides ``[live].mode`` (``live``, ``paper`` or ``replay``).
    stop_after : float, optional
        Stop cleanly after this many seconds (Ctrl-C stops at any time).
    on_status : callable, optional
        ``on_status(status)`` with a dict of counters, called about once a second.

    Returns
    -------
    LiveReport

    Raises
    ------
    ConfigError
        Before connecting, for a configuration problem (the message names the file and the key), a
        missing credential or a key file readable by others.
    VenueError
        A venue refused the engine in a way it cannot recover from (bad key, banned IP).
    StrategyError
        A strategy callback raised; the strategy's exception is the ``__cause__``.
    """
    data, base_dir, source = read_config(config)
    live = data.setdefault("live", {})
    if mode is not None:
        live["mode"] = mode
    if stop_after is not None:
        live["stop_after_s"] = float(stop_after)
    strategies = list(strategies)
    if not data.get("strategy") and not strategies:
        raise ConfigError(f"{source}: no strategy: add a [[strategy]] table or pass strategies=[...]")
    started = time.perf_counter()
    sys.path.insert(0, str(base_dir))
    try:
        raw = _core.run_live(json.dumps(data), str(base_dir), strategies, Strategy, on_status)
    except ConfigError as error:
        # Keep the subclass (a ModelMismatchError stays one) and name the file.
        raise type(error)(f"{source}: {error}") from None
    finally:
        sys.path.remove(str(base_dir))
    raw.setdefault("wall_seconds", time.perf_counter() - started)
    report = LiveReport.from_core(dict(raw))
    if report.strategies:
        return report
    # The core's report does not list the strategies: name them as the engine does (configured name or
    # kind; a Python strategy's name or class name).
    names = [str(table.get("name", table.get("kind", ""))) for table in data.get("strategy", [])]
    names += [strategy.name or type(strategy).__name__ for strategy in strategies]
    return dataclasses.replace(report, strategies=names)
