"""What an optimization maximizes or minimizes, and the constraints a trial must meet.

Objectives
----------
``objective`` is a metric name, a list of them (multi-objective, e.g. ``["sharpe", "max_drawdown"]``), or a
user function given as ``"package.module:function"`` (or a callable in Python) that takes the trial's
:class:`~ferrotrade.backtest.BacktestResult` and returns one float (or one per direction). Each metric has
a natural direction (:data:`METRIC_DIRECTIONS`); ``direction`` overrides it and is required, one per value,
for a user function (default ``"maximize"``).

A metric that is undefined for a run (a Sharpe ratio of a flat equity curve, a profit factor without a
losing trade) is not a number the sampler can learn from: that trial is recorded as failed, with the reason.

Constraints
-----------
``constraints = ["trades >= 20", "max_drawdown <= 0.05"]``: a metric, a comparison (``>=``, ``<=``, ``>``,
``<``) and a number. They are stored with each trial as optuna constraint values (``<= 0`` means met), which
the TPE and NSGA-II samplers use to steer away from infeasible regions; the best trial is always a feasible
one. An undefined metric violates its constraint.

Examples
--------
>>> spec = parse_objective("sharpe", None, "<dict>")
>>> spec.names, spec.directions
(('sharpe',), ('maximize',))
>>> parse_objective(["sharpe", "max_drawdown"], None, "<dict>").directions
('maximize', 'minimize')
>>> parse_objective("sharp", None, "<dict>")
Traceback (most recent call last):
...
ferrotrade.exceptions.ConfigError: <dict>: optimize.objective: 'sharp' is not a metric (known: sharpe, \
sortino, calmar, pnl, total_pnl, return_pct, annualized_return, final_equity, win_rate, profit_factor, \
fill_ratio, maker_ratio, trades, round_trips, max_drawdown, max_drawdown_abs, fees), nor a \
"module:function"
>>> [c.describe() for c in parse_constraints(["trades >= 20"], "<dict>")]
['trades >= 20.0']
"""

from __future__ import annotations

import importlib
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, Literal

from ferrotrade.exceptions import ConfigError
from ferrotrade.research.metrics import Metrics

if TYPE_CHECKING:
    from ferrotrade.backtest.result import BacktestResult

__all__ = [
    "METRIC_DIRECTIONS",
    "Constraint",
    "ObjectiveSpec",
    "metric_value",
    "parse_constraints",
    "parse_objective",
]

Direction = Literal["maximize", "minimize"]
UserObjective = Callable[["BacktestResult"], float | Sequence[float]]

METRIC_DIRECTIONS: dict[str, Direction] = {
    "sharpe": "maximize",
    "sortino": "maximize",
    "calmar": "maximize",
    "pnl": "maximize",
    "total_pnl": "maximize",
    "return_pct": "maximize",
    "annualized_return": "maximize",
    "final_equity": "maximize",
    "win_rate": "maximize",
    "profit_factor": "maximize",
    "fill_ratio": "maximize",
    "maker_ratio": "maximize",
    "trades": "maximize",
    "round_trips": "maximize",
    "max_drawdown": "minimize",
    "max_drawdown_abs": "minimize",
    "fees": "minimize",
}
"""The metrics an optimization can target, with their natural direction (``pnl`` is ``total_pnl``)."""

_ALIASES = {"pnl": "total_pnl"}
# Every numeric field of Metrics can be constrained; only the ones above make sense as objectives.
_NUMERIC = tuple(
    f.name
    for f in fields(Metrics)
    if f.name not in ("start", "end", "return_interval", "orders_by_status", "denied_by_reason")
)
_CONSTRAINT = re.compile(r"^\s*([a-z_]+)\s*(>=|<=|>|<)\s*([-+0-9.eE_]+)\s*$")


def metric_value(metrics: Metrics, name: str) -> float | None:
    """The value of metric ``name`` (``pnl`` is ``total_pnl``), None when undefined for the run.

    Examples
    --------
    >>> from ferrotrade.research import compute_metrics, empty
    >>> m = compute_metrics(empty("equity"), empty("fills"), empty("orders"), initial_equity=1.0,
    ...                     events=0, wall_seconds=0.0)
    >>> metric_value(m, "pnl"), metric_value(m, "sharpe")
    (0.0, None)
    """
    value = getattr(metrics, _ALIASES.get(name, name))
    return None if value is None else float(value)


@dataclass(frozen=True)
class ObjectiveSpec:
    """The objective(s) of a study.

    Attributes
    ----------
    names : tuple of str
        One per value: metric names, or ``function[i]`` labels for a user function.
    directions : tuple of {"maximize", "minimize"}
    function : str or callable or None
        The user function (``"module:function"`` or the callable itself); None for metrics.
    """

    names: tuple[str, ...]
    directions: tuple[Direction, ...]
    function: str | UserObjective | None = None

    @property
    def multi(self) -> bool:
        """More than one objective."""
        return len(self.directions) > 1

    def resolve(self) -> UserObjective | None:
        """Import the user function (in the process that runs the trials)."""
        if self.function is None or callable(self.function):
            return self.function
        return _import_function(self.function, "<objective>")

    def values(self, result: BacktestResult) -> tuple[list[float] | None, str | None]:
        """The objective values of one run, or None and the reason they are undefined."""
        function = self.resolve()
        if function is None:
            values = [metric_value(result.metrics, name) for name in self.names]
            undefined = [name for name, value in zip(self.names, values, strict=True) if value is None]
            if undefined:
                return None, f"{', '.join(undefined)} undefined for this run ({result.metrics.trades} trades)"
            return [float(v) for v in values if v is not None], None
        raw = function(result)
        out = [raw] if isinstance(raw, int | float) else list(raw)
        if len(out) != len(self.directions):
            return (
                None,
                f"the objective function returned {len(out)} values for {len(self.directions)} directions",
            )
        if any(not isinstance(v, int | float) or not math.isfinite(v) for v in out):
            return None, f"the objective function returned {raw!r}, not finite numbers"
        return [float(v) for v in out], None


def _import_function(spec: str, key: str) -> UserObjective:
    module_name, _, attribute = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise ConfigError(f"{key}: cannot import {module_name!r}: {error}") from None
    function = getattr(module, attribute, None)
    if not callable(function):
        raise ConfigError(f"{key}: {attribute!r} is not a function of {module_name!r}")
    return function  # type: ignore[no-any-return]


def _directions(raw: Any, count: int, defaults: Sequence[Direction], source: str) -> tuple[Direction, ...]:
    if raw is None:
        return tuple(defaults)
    given = [raw] if isinstance(raw, str) else raw
    if not isinstance(given, list) or len(given) != count:
        raise ConfigError(f"{source}: optimize.direction: expected {count} direction(s), found {raw!r}")
    for value in given:
        if value not in ("maximize", "minimize"):
            raise ConfigError(f"{source}: optimize.direction: {value!r} is not maximize or minimize")
    return tuple(given)


def parse_objective(raw: Any, direction: Any, source: str) -> ObjectiveSpec:
    """Parse ``objective`` and ``direction``; a callable ``raw`` is a user function.

    Raises
    ------
    ConfigError
        An unknown metric, a function that cannot be imported, or directions that do not match.
    """
    if raw is None:
        raw = "sharpe"
    if callable(raw) or (isinstance(raw, str) and ":" in raw):
        if isinstance(raw, str):
            _import_function(raw, f"{source}: optimize.objective")
        count = len(direction) if isinstance(direction, list) else 1
        names = ("objective",) if count == 1 else tuple(f"objective_{i}" for i in range(count))
        directions = _directions(direction, count, ["maximize"] * count, source)
        return ObjectiveSpec(names, directions, raw)
    names_raw = [raw] if isinstance(raw, str) else raw
    if not isinstance(names_raw, list) or not names_raw:
        raise ConfigError(f"{source}: optimize.objective: expected a metric name or a list of them")
    for name in names_raw:
        if name not in METRIC_DIRECTIONS:
            raise ConfigError(
                f"{source}: optimize.objective: {name!r} is not a metric (known: "
                f'{", ".join(METRIC_DIRECTIONS)}), nor a "module:function"'
            )
    if len(set(names_raw)) != len(names_raw):
        raise ConfigError(f"{source}: optimize.objective: a metric is repeated")
    defaults = [METRIC_DIRECTIONS[name] for name in names_raw]
    return ObjectiveSpec(tuple(names_raw), _directions(direction, len(names_raw), defaults, source))


@dataclass(frozen=True)
class Constraint:
    """``metric op bound``; its optuna value is how far the run is from meeting it (``<= 0``: met)."""

    metric: str
    op: str
    bound: float

    def describe(self) -> str:
        """The constraint as written (normalized)."""
        return f"{self.metric} {self.op} {self.bound}"

    def violation(self, metrics: Metrics) -> float:
        """``<= 0`` when met; positive (``inf`` for an undefined metric) when violated."""
        value = metric_value(metrics, self.metric)
        if value is None:
            return math.inf
        gap = self.bound - value if self.op in (">=", ">") else value - self.bound
        # A strict comparison at equality is violated, by the least amount there is.
        if gap == 0 and self.op in (">", "<"):
            return 1e-12
        return gap


def parse_constraints(raw: Any, source: str) -> tuple[Constraint, ...]:
    """Parse ``constraints = ["trades >= 20", ...]``.

    Raises
    ------
    ConfigError
        A constraint that is not ``metric op number``, or names no metric.
    """
    if raw is None:
        return ()
    items = [raw] if isinstance(raw, str) else raw
    if not isinstance(items, list):
        raise ConfigError(f'{source}: optimize.constraints: expected a list such as ["trades >= 20"]')
    out = []
    for item in items:
        match = _CONSTRAINT.match(item) if isinstance(item, str) else None
        if match is None:
            raise ConfigError(
                f"{source}: optimize.constraints: {item!r} is not 'metric op number' (op: >=, <=, >, <)"
            )
        metric, op, number = match.groups()
        if metric not in _NUMERIC and metric not in _ALIASES:
            raise ConfigError(
                f"{source}: optimize.constraints: {metric!r} is not a metric (known: {', '.join(_NUMERIC)})"
            )
        try:
            bound = float(number)
        except ValueError:
            raise ConfigError(f"{source}: optimize.constraints: {number!r} is not a number") from None
        out.append(Constraint(metric, op, bound))
    return tuple(out)


def numeric_metrics(metrics: Metrics) -> dict[str, float | None]:
    """Every numeric metric of a run, for the trials table and the study's user attributes."""
    out: dict[str, float | None] = {}
    for name in _NUMERIC:
        value = getattr(metrics, name)
        out[name] = None if value is None else float(value)
    return out


def metric_names() -> tuple[str, ...]:
    """Names of the numeric metrics recorded for every trial, in :class:`Metrics` order."""
    return _NUMERIC


def as_mapping(raw: Any, source: str, key: str) -> Mapping[str, Any]:
    """``raw`` as a table, or a ConfigError naming ``key``."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{source}: {key}: expected a table")
    return raw
