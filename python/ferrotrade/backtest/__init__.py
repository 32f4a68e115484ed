"""Backtests: ``ft.backtest.run(config, strategies=[...])`` and its result.

A run replays catalog data tick by tick through the Rust engine: local books at receive time, simulated
venues at exchange time (queue position, latency, fees, funding), the OMS and the pre-trade risk chain;
the same strategy code runs live later.
"""

from ferrotrade.backtest.config import LoadedConfig, ReportSettings, load_config
from ferrotrade.backtest.result import BacktestResult
from ferrotrade.backtest.run import run

__all__ = ["BacktestResult", "LoadedConfig", "ReportSettings", "load_config", "run"]
