"""The ``[optimize]`` section: everything a study needs, parsed and checked before any trial runs.

```toml
[optimize]
study = "mm-spread"               # default: the configuration file's name
storage = "studies/mm.log"        # relative to this file; default studies/<study>.log in the working
                                  # directory; or sqlite:///..., postgresql://...
objective = "sharpe"              # a metric, a list of metrics, or "package.module:function"
direction = "maximize"            # optional for metrics, one per value for a function
constraints = ["trades >= 20"]
sampler = "tpe"                   # tpe, random, grid, cmaes, nsga2, or { name = "tpe", n_startup_trials = 5 }
pruner = "median"                 # median (default for one objective), percentile, successive_halving,
                                  # hyperband, none, or { name = "median", n_warmup_steps = 2 }
trials = 40                       # the study's budget, shared by every worker (grid: default its size)
workers = 2                       # worker processes on this machine (1 with a [bus] table: each
                                  # trial binds its endpoints)
timeout_s = 600                   # stop starting trials after this long (per worker)
seed = 7                          # sampler seed; worker i uses seed + i

[optimize.params]                 # see ferrotrade.backtest.space
"strategy.mm.half_spread_bps" = { low = 0.1, high = 3.0 }
```

Samplers and what they accept
-----------------------------
=============  ==========================================  =================================================
sampler        objectives                                  search space
=============  ==========================================  =================================================
``tpe``        one or several                              any; uses constraints
``random``     one or several                              any
``grid``       one or several                              every parameter finite (choices, int, or step)
``cmaes``      one                                         numeric only (no choices)
``nsga2``      one or several                              any; uses constraints
=============  ==========================================  =================================================

A sampler or pruner table's other keys are passed to the optuna class as keyword arguments, checked
against its signature here, so a typo fails before any trial.

Pruning compares trials at the same checkpoint of the replay (every
:data:`~ferrotrade.backtest.run.CHECKPOINT_EVENTS` events): by PnL so far when the objective is maximized,
by drawdown so far when it is minimized. Optuna cannot prune multi-objective studies, so there the default
pruner is ``none`` and asking for one is an error.
"""

from __future__ import annotations

import inspect
import os
import pickle
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import optuna

from ferrotrade.backtest.config import load_config
from ferrotrade.backtest.objective import (
    Constraint,
    ObjectiveSpec,
    UserObjective,
    parse_constraints,
    parse_objective,
)
from ferrotrade.backtest.space import Param, parse_space
from ferrotrade.backtest.storage import is_rdb
from ferrotrade.exceptions import ConfigError

__all__ = ["PRUNERS", "SAMPLERS", "StudyPlan", "build_pruner", "build_sampler", "plan_study"]

SAMPLERS: dict[str, type[optuna.samplers.BaseSampler]] = {
    "tpe": optuna.samplers.TPESampler,
    "random": optuna.samplers.RandomSampler,
    "grid": optuna.samplers.GridSampler,
    "cmaes": optuna.samplers.CmaEsSampler,
    "nsga2": optuna.samplers.NSGAIISampler,
}
"""Sampler names of ``[optimize].sampler``."""

PRUNERS: dict[str, type[optuna.pruners.BasePruner]] = {
    "median": optuna.pruners.MedianPruner,
    "percentile": optuna.pruners.PercentilePruner,
    "successive_halving": optuna.pruners.SuccessiveHalvingPruner,
    "hyperband": optuna.pruners.HyperbandPruner,
    "none": optuna.pruners.NopPruner,
}
"""Pruner names of ``[optimize].pruner``."""

_KEYS = (
    "study",
    "storage",
    "objective",
    "direction",
    "constraints",
    "sampler",
    "pruner",
    "trials",
    "workers",
    "timeout_s",
    "seed",
    "params",
    "walk_forward",
)
_MEDIAN_DEFAULTS = {"n_startup_trials": 5, "n_warmup_steps": 1}


@dataclass(frozen=True)
class StudyPlan:
    """A checked study: what every worker process (here or on another machine) needs to run trials.

    Picklable (it is handed to spawned worker processes); a user objective function is carried by
    reference, so it must be importable.
    """

    engine: dict[str, Any]
    base_dir: Path
    source: str
    study: str
    storage: str
    space: tuple[Param, ...]
    objective: ObjectiveSpec
    constraints: tuple[Constraint, ...]
    sampler: tuple[str, dict[str, Any]]
    pruner: tuple[str, dict[str, Any]]
    trials: int
    workers: int
    timeout_s: float | None
    seed: int | None
    initial_equity: float
    return_interval: str
    title: str
    walk_forward: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        """What the study's definition is, stored with it: a worker joining it must agree."""
        return {
            "space": {param.name: param.describe() for param in self.space},
            "objective": list(self.objective.names),
            "directions": list(self.objective.directions),
            "constraints": [c.describe() for c in self.constraints],
        }


def _named(
    raw: Any, table: Mapping[str, type[Any]], key: str, default: str, source: str
) -> tuple[str, dict[str, Any]]:
    if raw is None:
        raw = default
    if isinstance(raw, str):
        name, options = raw, {}
    elif isinstance(raw, Mapping) and isinstance(raw.get("name"), str):
        options = {k: v for k, v in raw.items() if k != "name"}
        name = raw["name"]
    else:
        raise ConfigError(f'{source}: optimize.{key}: expected a name or a table with name = "..."')
    if name not in table:
        raise ConfigError(f"{source}: optimize.{key}: unknown {key} {name!r} (known: {', '.join(table)})")
    reserved = {"seed", "search_space"} & set(options)
    if reserved:
        raise ConfigError(f"{source}: optimize.{key}.{sorted(reserved)[0]}: set by ferrotrade, not here")
    try:
        inspect.signature(table[name]).bind_partial(**options)
    except TypeError as error:
        raise ConfigError(f"{source}: optimize.{key}: {name}: {error}") from None
    return name, dict(options)


def _positive_int(raw: Any, key: str, source: str, default: int | None) -> int | None:
    if raw is None:
        return default
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < 1:
        raise ConfigError(f"{source}: optimize.{key}: expected a positive integer, found {raw!r}")
    return raw


def _grid(space: tuple[Param, ...], source: str) -> dict[str, list[Any]]:
    grid: dict[str, list[Any]] = {}
    for param in space:
        values = param.grid()
        if values is None:
            raise ConfigError(
                f'{source}: optimize.params."{param.name}": the grid sampler needs finite values: add a step '
                "or use choices"
            )
        grid[param.name] = values
    return grid


def grid_size(space: tuple[Param, ...], source: str = "<plan>") -> int:
    """Number of points of the grid over ``space``."""
    size = 1
    for values in _grid(space, source).values():
        size *= len(values)
    return size


def _check_pairing(
    space: tuple[Param, ...],
    objective: ObjectiveSpec,
    *,
    sampler: str,
    pruner: str,
    explicit: bool,
    source: str,
) -> None:
    if sampler == "cmaes":
        if objective.multi:
            raise ConfigError(f"{source}: optimize.sampler: cmaes optimizes one objective (use nsga2 or tpe)")
        for param in space:
            if param.kind == "categorical":
                raise ConfigError(
                    f'{source}: optimize.params."{param.name}": cmaes cannot search choices (use a range, or '
                    "the tpe sampler)"
                )
    if sampler == "grid":
        _grid(space, source)
    if objective.multi and explicit and pruner != "none":
        raise ConfigError(f"{source}: optimize.pruner: optuna cannot prune a study with several objectives")


def _check_picklable(objective: ObjectiveSpec, workers: int, source: str) -> None:
    function = objective.function
    if workers > 1 and callable(function):
        main = sys.modules.get("__main__")
        if getattr(function, "__module__", None) == "__main__" and not hasattr(main, "__file__"):
            raise ConfigError(
                f"{source}: optimize.objective: worker processes cannot import {function!r} from an "
                "interactive session: define it in a module (or use workers = 1)"
            )
        try:
            pickle.dumps(function)
        except (pickle.PicklingError, AttributeError, TypeError):
            raise ConfigError(
                f"{source}: optimize.objective: worker processes import the objective function by name; "
                f"{function!r} is not importable (define it at module level)"
            ) from None


def _check_bus(engine: Mapping[str, Any], workers: int, source: str) -> None:
    """A ``[bus]`` table makes every trial bind its endpoints: one trial at a time can (``workers = 1``
    publishes the trials one after another); several worker processes would fail every trial but one."""
    bus = engine.get("bus")
    if workers == 1 or bus is None:
        return
    table = bus if isinstance(bus, Mapping) else {}
    endpoints = ", ".join(str(table[key]) for key in ("publish", "control", "http") if key in table)
    raise ConfigError(
        f"{source}: bus: {workers} worker processes cannot all bind {endpoints or 'its endpoints'}: "
        "publish a study's trials with workers = 1, or remove [bus]"
    )


def _initial_equity(backtest: Mapping[str, Any]) -> float:
    """``[backtest].initial_equity`` as a float; a bad value is reported by the engine's check, by key."""
    try:
        return float(backtest.get("initial_equity", 0))
    except (TypeError, ValueError):
        return 0.0


def plan_study(
    config: str | Path | Mapping[str, Any],
    overrides: Mapping[str, Any] | None = None,
    *,
    catalog: str | Path | None = None,
) -> StudyPlan:
    """Read a configuration with an ``[optimize]`` section and check everything a study needs.

    Parameters
    ----------
    config : str, Path or Mapping
        A TOML file or a dict: the backtest configuration plus ``[optimize]``.
    overrides : Mapping, optional
        ``[optimize]`` keys that replace the file's (the Python API's keyword arguments, CLI options).
    catalog : str or Path, optional
        Catalog to read instead of ``[backtest].catalog``.

    Raises
    ------
    ConfigError
        Naming the file and the key: an unknown key, an empty or inconsistent search space, an objective
        that is not a metric, a sampler or pruner that does not fit, bad options.
    """
    loaded = load_config(config)
    source = loaded.source
    raw = loaded.engine.pop("optimize", None) or {}
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{source}: optimize: expected a table")
    merged = dict(raw)
    merged.update({k: v for k, v in (overrides or {}).items() if v is not None})
    for key in merged:
        if key not in _KEYS:
            raise ConfigError(f"{source}: optimize.{key}: unknown key (known: {', '.join(_KEYS)})")
    engine = loaded.engine
    backtest = engine.get("backtest")
    if not isinstance(backtest, Mapping) or "catalog" not in backtest:
        raise ConfigError(f"{source}: backtest: missing table [backtest] (catalog, initial_equity)")
    # Trials run in other processes (and other machines' working directories): resolve the catalog here.
    catalog_path = (
        Path(catalog).resolve() if catalog is not None else loaded.base_dir / str(backtest["catalog"])
    )
    engine["backtest"] = {**backtest, "catalog": str(catalog_path)}

    space = tuple(parse_space(merged.get("params"), engine, source))
    objective = parse_objective(merged.get("objective"), merged.get("direction"), source)
    constraints = parse_constraints(merged.get("constraints"), source)
    sampler = _named(merged.get("sampler"), SAMPLERS, "sampler", "tpe", source)
    default_pruner = "none" if objective.multi else "median"
    pruner = _named(merged.get("pruner"), PRUNERS, "pruner", default_pruner, source)
    if pruner == ("median", {}):
        pruner = ("median", dict(_MEDIAN_DEFAULTS))
    explicit = merged.get("pruner") is not None
    _check_pairing(space, objective, sampler=sampler[0], pruner=pruner[0], explicit=explicit, source=source)

    workers = _positive_int(merged.get("workers"), "workers", source, 1)
    assert workers is not None
    default_trials = grid_size(space, source) if sampler[0] == "grid" else 20
    trials = _positive_int(merged.get("trials"), "trials", source, default_trials)
    assert trials is not None
    if sampler[0] == "grid":
        trials = min(trials, grid_size(space, source))
    _check_picklable(objective, workers, source)
    _check_bus(engine, workers, source)
    timeout = merged.get("timeout_s")
    if timeout is not None and (
        isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0
    ):
        raise ConfigError(f"{source}: optimize.timeout_s: expected a positive number of seconds")
    seed = merged.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
        raise ConfigError(f"{source}: optimize.seed: expected a non-negative integer")
    stem = Path(source).stem if source != "<dict>" else "ferrotrade"
    study = merged.get("study", stem)
    if not isinstance(study, str) or not study:
        raise ConfigError(f"{source}: optimize.study: expected a name")
    storage = merged.get("storage", os.path.join("studies", f"{study}.log"))
    if not isinstance(storage, str) or not storage:
        raise ConfigError(f"{source}: optimize.storage: expected a file path or a database URL")
    if not is_rdb(storage):
        # A path in the file is relative to the file (as the catalog is); the default and one given as an
        # option are relative to the working directory (as reports are).
        in_file = "storage" in raw and (overrides or {}).get("storage") is None
        storage = str((loaded.base_dir if in_file else Path.cwd()) / storage)
    walk_forward = merged.get("walk_forward") or {}
    if not isinstance(walk_forward, Mapping):
        raise ConfigError(f"{source}: optimize.walk_forward: expected a table")
    return StudyPlan(
        engine=engine,
        base_dir=loaded.base_dir,
        source=source,
        study=study,
        storage=storage,
        space=space,
        objective=objective,
        constraints=constraints,
        sampler=sampler,
        pruner=pruner,
        trials=trials,
        workers=workers,
        timeout_s=None if timeout is None else float(timeout),
        seed=seed,
        initial_equity=_initial_equity(backtest),
        return_interval=loaded.report.return_interval,
        title=loaded.report.title or f"Optimization: {study}",
        walk_forward=dict(walk_forward),
    )


def build_sampler(plan: StudyPlan, worker: int) -> optuna.samplers.BaseSampler:
    """The sampler of worker ``worker``, seeded ``seed + worker`` so that workers do not propose alike."""
    name, options = plan.sampler
    seed = None if plan.seed is None else plan.seed + worker
    if name == "grid":
        return optuna.samplers.GridSampler(_grid(plan.space, plan.source), seed=seed)
    return SAMPLERS[name](seed=seed, **options)  # type: ignore[call-arg]


def build_pruner(plan: StudyPlan) -> optuna.pruners.BasePruner:
    """The plan's pruner."""
    name, options = plan.pruner
    return PRUNERS[name](**options)


def objective_function(plan: StudyPlan) -> UserObjective | None:
    """The user objective of the plan, imported in the calling process."""
    return plan.objective.resolve()
