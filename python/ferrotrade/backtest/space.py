"""The search space of an optimization: ``[optimize.params]``, checked before any trial runs.

Each key is the path of one configuration value, each value says how to vary it:

* ``"strategy.mm.half_spread_bps" = { low = 0.1, high = 3 }``: float, uniform in ``[low, high]``;
* ``"strategy.mm.requote_threshold_ticks" = { low = 1, high = 8 }``: int (``low`` and ``high`` are
  integers);
* ``"venue.latency.entry_ns" = { low = 100000, high = 10000000, log = true }``: int, log-uniform;
* ``"strategy.trend.fast" = { low = 4, high = 20, step = 4 }``: int on a grid (4, 8, 12, 16, 20);
* ``"strategy.mm.skew_bps_per_unit" = { choices = [0, 25, 50] }``: categorical.

Paths
-----
A path walks the configuration: ``venue.latency.entry_ns`` is ``[venue]`` -> ``latency`` -> ``entry_ns``;
``strategy.<name>`` picks the ``[[strategy]]`` table with that ``name`` (``strategy[0]`` picks by
position), and a Python strategy's constructor arguments are under ``strategy.<name>.params``. The last key
may be absent from the configuration (an optional key taking its default); every table before it must
exist. Two paths reaching the same value are refused.

What is refused, before any trial
---------------------------------
An empty space; a range with ``low >= high``; ``log`` with ``low <= 0`` or together with ``step``; a
``step`` that is not positive or larger than the range; an integer range with a fractional ``step``;
empty, repeated or non-scalar ``choices``; unknown keys in an entry; a path that leads nowhere.

Examples
--------
>>> engine = {"strategy": [{"kind": "trend", "name": "t", "fast": 12, "slow": 26}]}
>>> space = parse_space({"strategy.t.fast": {"low": 4, "high": 20, "step": 4}}, engine, "<dict>")
>>> space[0].kind, space[0].grid()
('int', [4, 8, 12, 16, 20])
>>> apply_params(engine, space, {"strategy.t.fast": 8})["strategy"][0]["fast"]
8
>>> parse_space({"strategy.x.fast": {"low": 1, "high": 2}}, engine, "<dict>")
Traceback (most recent call last):
...
ferrotrade.exceptions.ConfigError: <dict>: optimize.params."strategy.x.fast": no [[strategy]] named 'x' \
(names: t)
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from ferrotrade.exceptions import ConfigError

__all__ = ["FLOAT_DIGITS", "Param", "apply_params", "centre", "engine_value", "parse_space"]

FLOAT_DIGITS = 10
"""Significant digits a float parameter keeps on its way to the engine (see :func:`engine_value`)."""

Scalar = str | int | float | bool
_ENTRY_KEYS = ("low", "high", "step", "log", "choices")
_INDEX = re.compile(r"^strategy\[(\d+)\]$")


@dataclass(frozen=True)
class Param:
    """One dimension of the search space.

    Attributes
    ----------
    name : str
        The path as written in ``[optimize.params]``; also the optuna parameter name.
    target : tuple
        Where the value goes in the engine configuration: keys and list indices.
    kind : {"float", "int", "categorical"}
    low, high : float or None
        Bounds (inclusive) of a numeric parameter.
    step : float or None
        Grid step of a numeric parameter.
    log : bool
        Sample ``log(value)`` uniformly.
    choices : tuple or None
        Values of a categorical parameter.
    """

    name: str
    target: tuple[str | int, ...]
    kind: Literal["float", "int", "categorical"]
    low: float | None = None
    high: float | None = None
    step: float | None = None
    log: bool = False
    choices: tuple[Scalar, ...] | None = None

    def grid(self) -> list[Scalar] | None:
        """The finite set of values this parameter can take, or None for a continuous range.

        Examples
        --------
        >>> Param("a", ("a",), "float", low=0.0, high=1.0, step=0.25).grid()
        [0.0, 0.25, 0.5, 0.75, 1.0]
        >>> Param("a", ("a",), "float", low=0.0, high=1.0).grid() is None
        True
        """
        if self.choices is not None:
            return list(self.choices)
        assert self.low is not None
        assert self.high is not None
        step = self.step if self.step is not None else (1 if self.kind == "int" else None)
        if step is None:
            return None
        count = math.floor((self.high - self.low) / step + 1e-9) + 1
        values = [self.low + i * step for i in range(count)]
        if self.kind == "int":
            return [round(v) for v in values]
        return [round(v, 12) for v in values]

    def describe(self) -> dict[str, Any]:
        """A JSON-ready description, stored with the study so that every worker can check it agrees."""
        return {
            "kind": self.kind,
            "low": self.low,
            "high": self.high,
            "step": self.step,
            "log": self.log,
            "choices": None if self.choices is None else list(self.choices),
        }


def _fail(source: str, name: str, message: str) -> ConfigError:
    return ConfigError(f'{source}: optimize.params."{name}": {message}')


def _resolve(name: str, engine: Mapping[str, Any], source: str) -> tuple[str | int, ...]:
    """The path ``name`` as keys and list indices into ``engine``; every table before the leaf must exist."""
    parts = name.split(".")
    if len(parts) < 2 or any(not part for part in parts):
        raise _fail(source, name, "expected a dotted path such as strategy.mm.half_spread_bps")
    target: list[str | int] = []
    node: Any = engine
    index = 0
    while index < len(parts) - 1:
        part = parts[index]
        match = _INDEX.match(part)
        if part == "strategy" or match:
            tables = engine.get("strategy")
            if not isinstance(tables, list) or not tables or index != 0:
                raise _fail(source, name, "the configuration has no [[strategy]] table")
            if match:
                position = int(match.group(1))
                if position >= len(tables):
                    raise _fail(source, name, f"there are only {len(tables)} [[strategy]] tables")
                index += 1
            else:
                names = [str(table.get("name")) for table in tables if isinstance(table, Mapping)]
                wanted = parts[1]
                if wanted not in names:
                    raise _fail(source, name, f"no [[strategy]] named {wanted!r} (names: {', '.join(names)})")
                position = names.index(wanted)
                index += 2
            target += ["strategy", position]
            node = tables[position]
            continue
        if not isinstance(node, Mapping) or not isinstance(node.get(part), Mapping):
            where = ".".join(str(p) for p in [*target, part])
            raise _fail(source, name, f"{where} is not a table of the configuration")
        target.append(part)
        node = node[part]
        index += 1
    if index != len(parts) - 1:
        raise _fail(source, name, "the path names a table, not a value")
    leaf = parts[-1]
    if isinstance(node, Mapping) and isinstance(node.get(leaf), Mapping | list):
        raise _fail(source, name, f"{leaf} is a table, not a value")
    target.append(leaf)
    return tuple(target)


def _number(value: Any, source: str, name: str, key: str) -> float | int:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _fail(source, name, f"{key} must be a finite number, found {value!r}")
    return value


def _parse_entry(name: str, raw: Any, target: tuple[str | int, ...], source: str) -> Param:
    if not isinstance(raw, Mapping):
        raise _fail(source, name, "expected a table such as { low = 1, high = 5 } or { choices = [...] }")
    unknown = [key for key in raw if key not in _ENTRY_KEYS]
    if unknown:
        raise _fail(source, name, f"unknown key {unknown[0]!r} (known: {', '.join(_ENTRY_KEYS)})")
    if "choices" in raw:
        if set(raw) - {"choices"}:
            raise _fail(source, name, "choices cannot be combined with low, high, step or log")
        choices = raw["choices"]
        if not isinstance(choices, list) or not choices:
            raise _fail(source, name, "choices must be a non-empty list")
        if any(not isinstance(c, str | int | float | bool) for c in choices):
            raise _fail(source, name, "choices must be strings, numbers or booleans")
        if len({(type(c), c) for c in choices}) != len(choices):
            raise _fail(source, name, "choices are repeated")
        return Param(name, target, "categorical", choices=tuple(choices))
    if "low" not in raw or "high" not in raw:
        raise _fail(source, name, "a range needs both low and high (or use choices)")
    low = _number(raw["low"], source, name, "low")
    high = _number(raw["high"], source, name, "high")
    if not low < high:
        raise _fail(source, name, f"empty range: low {low} is not below high {high}")
    log = raw.get("log", False)
    if not isinstance(log, bool):
        raise _fail(source, name, "log must be true or false")
    if log and low <= 0:
        raise _fail(source, name, f"log needs low > 0, found {low}")
    step = raw.get("step")
    if step is not None:
        step = _number(step, source, name, "step")
        if log:
            raise _fail(source, name, "log and step cannot be combined")
        if step <= 0 or step > high - low:
            raise _fail(source, name, f"step must be in (0, high - low], found {step}")
    is_int = isinstance(low, int) and isinstance(high, int) and (step is None or isinstance(step, int))
    if isinstance(low, int) and isinstance(high, int) and step is not None and not isinstance(step, int):
        raise _fail(
            source, name, "an integer range needs an integer step (write low = 1.0 for a float range)"
        )
    return Param(
        name,
        target,
        "int" if is_int else "float",
        low=low,
        high=high,
        step=None if step is None else step,
        log=log,
    )


def parse_space(raw: Any, engine: Mapping[str, Any], source: str) -> list[Param]:
    """Parse and check ``[optimize.params]`` against the engine configuration it will modify.

    Parameters
    ----------
    raw : Mapping
        ``{path: entry}`` as in the module docs.
    engine : Mapping
        The engine sections of the configuration (``backtest``, ``venue``, ``strategy`` ...).
    source : str
        The configuration's file name, prefixed to errors.

    Returns
    -------
    list of Param
        In the order written.

    Raises
    ------
    ConfigError
        Naming the entry, for everything listed in the module docs.
    """
    if raw is None or (isinstance(raw, Mapping) and not raw):
        raise ConfigError(f"{source}: optimize.params: empty search space: add at least one parameter")
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{source}: optimize.params: expected a table of path = {{ low, high }} entries")
    params: list[Param] = []
    seen: dict[tuple[str | int, ...], str] = {}
    for name, entry in raw.items():
        target = _resolve(str(name), engine, source)
        if target in seen:
            raise _fail(source, str(name), f"sets the same value as {seen[target]!r}")
        seen[target] = str(name)
        params.append(_parse_entry(str(name), entry, target, source))
    return params


def centre(space: Sequence[Param]) -> dict[str, Scalar]:
    """A point in the middle of the space (the first choice of a categorical parameter).

    Used to check, before any trial, that the engine accepts the configuration the space produces.

    Examples
    --------
    >>> centre([Param("a", ("a",), "int", low=1, high=4), Param("b", ("b",), "float", low=1.0,
    ...         high=100.0, log=True), Param("c", ("c",), "categorical", choices=("x", "y"))])
    {'a': 2, 'b': 10.0, 'c': 'x'}
    """
    point: dict[str, Scalar] = {}
    for param in space:
        grid = param.grid()
        if param.choices is not None:
            point[param.name] = param.choices[0]
        elif grid is not None:
            point[param.name] = grid[(len(grid) - 1) // 2]
        else:
            assert param.low is not None
            assert param.high is not None
            if param.log:
                point[param.name] = round(math.sqrt(param.low * param.high), 12)
            else:
                point[param.name] = (param.low + param.high) / 2
    return point


def engine_value(param: Param, value: Any) -> Any:
    """The value the engine gets: a float rounded to :data:`FLOAT_DIGITS` significant digits.

    The engine holds configuration numbers in fixed point; a sampled float's 17 digits (or a grid step's
    ``0.30000000000000004``) do not fit, and no strategy setting needs them.

    Examples
    --------
    >>> p = Param("a", ("a",), "float", low=0.0, high=1.0)
    >>> engine_value(p, 0.10033168697030018), engine_value(p, 0.1 + 0.2)
    (0.100331687, 0.3)
    """
    if param.kind == "float" and isinstance(value, float):
        return float(f"{value:.{FLOAT_DIGITS}g}")
    return value


def apply_params(
    engine: Mapping[str, Any], space: Sequence[Param], values: Mapping[str, Any]
) -> dict[str, Any]:
    """Return a copy of ``engine`` with each parameter's value set at its path.

    Examples
    --------
    >>> space = [Param("venue.latency.entry_ns", ("venue", "latency", "entry_ns"), "int", low=0, high=9)]
    >>> apply_params({"venue": {"latency": {"model": "constant"}}}, space, {"venue.latency.entry_ns": 5})
    {'venue': {'latency': {'model': 'constant', 'entry_ns': 5}}}
    """
    config = copy.deepcopy(dict(engine))
    for param in space:
        node: Any = config
        for key in param.target[:-1]:
            node = node[key]
        node[param.target[-1]] = engine_value(param, values[param.name])
    return config
