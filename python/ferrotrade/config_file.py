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
        return copy.deepcopy(dict(config)), Path.cwd(), "<dict>"
    path = Path(config)
    source = str(path)
    try:
        with path.open("rb") as file:
            data = tomllib.load(file)
    except FileNotFoundError:
        raise ConfigError(f"{source}: no such configuration file") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{source}: invalid TOML: {error}") from None
    return data, path.resolve().parent, source
