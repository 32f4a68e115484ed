"""Backtests: ``ft.backtest.run(config, strategies=[...])`` and its result; optimization and walk-forward.

A run replays catalog data tick by tick through the Rust engine: local books at receive time, simulated
venues at exchange time (queue position, latency, fees, funding), the OMS and the pre-trade risk chain;
the same strategy code runs live later.

``ft.backtest.optimize(config)`` searches a strategy's parameters with optuna (worker processes, a local
journal file or a PostgreSQL study shared by many machines); ``ft.backtest.walk_forward(config)`` optimizes
in-sample and evaluates out-of-sample over rolling or anchored windows. Both load optuna on first use, so a
plain backtest does not pay for it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ferrotrade.backtest.config import LoadedConfig, ReportSettings, load_config
from ferrotrade.backtest.result import BacktestResult
from ferrotrade.backtest.run import CHECKPOINT_EVENTS, check, run
from ferrotrade.backtest.sensitivity import latency_sensitivity

if TYPE_CHECKING:
    from ferrotrade.backtest.optimize_result import OptimizationResult
    from ferrotrade.backtest.search import optimize
    from ferrotrade.backtest.walkforward import WalkForwardResult, walk_forward

__all__ = [
    "CHECKPOINT_EVENTS",
    "BacktestResult",
    "LoadedConfig",
    "OptimizationResult",
    "ReportSettings",
    "WalkForwardResult",
    "check",
    "latency_sensitivity",
    "load_config",
    "optimize",
    "run",
    "walk_forward",
]

_LAZY = {
    "optimize": "ferrotrade.backtest.search",
    "OptimizationResult": "ferrotrade.backtest.optimize_result",
    "walk_forward": "ferrotrade.backtest.walkforward",
    "WalkForwardResult": "ferrotrade.backtest.walkforward",
}


def __getattr__(name: str) -> Any:
    """Load the optuna-based names on first access."""
    try:
        module = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'ferrotrade.backtest' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
