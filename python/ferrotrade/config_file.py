"""Reading a TOML configuration file (or a mapping) with errors that name the file.

Shared by ``ferrotrade.backtest`` and ``ferrotrade.live``: both hand the sections to the Rust core, which
validates them and names the offending key; this module only reads the file and keeps where it came from.

Examples
--------
>>> data, base_dir, source = read_config({"live": {"mode": "paper"}})
>>> data["live"]["mode"], source
('paper', '<dict>')
>>> read_config("no/such/file.toml")
Traceback (most recent call last):
...
ferrotrade.exceptions.ConfigError: no/such/file.toml: no such configuration file
"""

from __future__ import annotations

import copy
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ferrotrade.exceptions import ConfigError

__all__ = ["read_config"]


def read_config(config: str | Path | Mapping[str, Any]) -> tuple[dict[str, Any], Path, str]:
    """Read a configuration from a TOML file or a mapping.

    Parameters
    ----------
    config : str, Path or Mapping
        Path of a TOML file, or the configuration itself (paths in it are relative to the working
        directory).

    Returns
    -------
    tuple
        ``(data, base_dir, source)``: a deep copy of the configuration, the directory relative paths are
        relative to, and the file name (``"<dict>"`` for a mapping) to prefix error messages with.

    Raises
    ------
    ConfigError
        The file is missing or is not valid TOML (with line and column).
    """
    if isinstance(config, Mapping):
        data = copy.deepcopy(dict(config))
        _resolve_model_paths(data, Path.cwd())
        return data, Path.cwd(), "<dict>"
    path = Path(config)
    source = str(path)
    try:
        with path.open("rb") as file:
            data = tomllib.load(file)
    except FileNotFoundError:
        raise ConfigError(f"{source}: no such configuration file") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{source}: invalid TOML: {error}") from None
    base_dir = path.resolve().parent
    _resolve_model_paths(data, base_dir)
    return data, base_dir, source


def _resolve_model_paths(data: dict[str, Any], base_dir: Path) -> None:
    """Make the ``model`` of every ``kind = "model_signal"`` strategy absolute (relative to ``base_dir``)."""
    strategies = data.get("strategy")
    if not isinstance(strategies, list):
        return
    for table in strategies:
        if (
            isinstance(table, dict)
            and table.get("kind") == "model_signal"
            and isinstance(table.get("model"), str)
        ):
            table["model"] = str(base_dir / table["model"])
