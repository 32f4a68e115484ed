"""Loading a backtest configuration: a TOML file or a mapping, checked before any work.

The engine's sections (``backtest``, ``venue``, ``instruments``, ``risk``, ``strategy``) are validated by
the Rust core, which names the offending key; this module adds the file name, reads TOML with the
standard library (syntax errors keep their line and column) and owns the ``[report]`` section, which only
the Python layer uses.

Examples
--------
>>> cfg = load_config({"backtest": {"catalog": "cat", "initial_equity": 1000}, "report": {"title": "x"}})
>>> cfg.report.title, cfg.source, "report" in cfg.engine
('x', '<dict>', False)
>>> load_config({"backtest": {}, "report": {"colour": "red"}})
Traceback (most recent call last):
...
ferrotrade.exceptions.ConfigError: <dict>: report.colour: unknown key (known: path, title, return_interval)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ferrotrade.config_file import read_config
from ferrotrade.exceptions import ConfigError

__all__ = ["LoadedConfig", "ReportSettings", "load_config"]

_REPORT_KEYS = ("path", "title", "return_interval")


@dataclass(frozen=True)
class ReportSettings:
    """The ``[report]`` section.

    Attributes
    ----------
    path : Path or None
        Where to write the HTML report (relative to the configuration file); None lets the caller choose.
    title : str or None
        Report title; defaults to the configuration's name.
    return_interval : str
        Interval of the returns behind Sharpe and Sortino (a polars duration such as ``"1m"``, ``"1h"``).
    """

    path: Path | None = None
    title: str | None = None
    return_interval: str = "1m"


@dataclass(frozen=True)
class LoadedConfig:
    """A configuration ready for the engine.

    Attributes
    ----------
    engine : dict
        The sections the Rust core validates.
    base_dir : Path
        Directory that relative paths are relative to.
    source : str
        The file name, or ``"<dict>"``, prefixed to error messages.
    report : ReportSettings
        The ``[report]`` section.
    """

    engine: dict[str, Any]
    base_dir: Path
    source: str
    report: ReportSettings


def _report_settings(raw: Any, source: str, base_dir: Path) -> ReportSettings:
    if raw is None:
        return ReportSettings()
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{source}: report: expected a table")
    for key in raw:
        if key not in _REPORT_KEYS:
            raise ConfigError(f"{source}: report.{key}: unknown key (known: {', '.join(_REPORT_KEYS)})")
    for key in _REPORT_KEYS:
        if key in raw and not isinstance(raw[key], str):
            raise ConfigError(f"{source}: report.{key}: expected a string, found {type(raw[key]).__name__}")
    path = raw.get("path")
    return ReportSettings(
        path=None if path is None else base_dir / path,
        title=raw.get("title"),
        return_interval=raw.get("return_interval", "1m"),
    )


def load_config(config: str | Path | Mapping[str, Any]) -> LoadedConfig:
    """Read a configuration from a TOML file or a mapping.

    Parameters
    ----------
    config : str, Path or Mapping
        Path of a TOML file, or the configuration itself (paths in it are relative to the working
        directory).

    Returns
    -------
    LoadedConfig

    Raises
    ------
    ConfigError
        The file is missing or is not valid TOML (with line and column), or ``[report]`` is wrong.
    """
    data, base_dir, source = read_config(config)
    report = _report_settings(data.pop("report", None), source, base_dir)
    return LoadedConfig(engine=data, base_dir=base_dir, source=source, report=report)
