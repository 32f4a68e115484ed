"""What an optimization produced: one polars row per trial, the best trial, and what to do with it.

The ``trials`` frame
--------------------
=====================  ===================================================================================
column                 content
=====================  ===================================================================================
``number``             the trial's number in the study (Int64)
``state``              ``complete``, ``pruned``, ``fail`` or ``running``
objective columns      one Float64 per objective, named as the objective (``sharpe``: ``value_sharpe``);
                       null unless complete
``feasible``           every constraint met (Boolean; null unless complete)
parameter columns      one per parameter, named by its path (``strategy.mm.half_spread_bps``)
metric columns         every numeric metric of the run (``total_pnl``, ``trades``, ...), null when the
                       run did not finish
``fail_reason``        why a trial failed (String), or why it was pruned
``last_step``          the last checkpoint reported (Int64), for pruning
``worker``             ``host:pid`` of the process that ran it
``started``            start time (Datetime, UTC); ``duration_s`` its wall-clock length
=====================  ===================================================================================
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from typing import Any

import optuna
import polars as pl
from optuna.trial import TrialState

from ferrotrade.backtest.objective import metric_names
from ferrotrade.backtest.progress import feasible
from ferrotrade.backtest.result import BacktestResult
from ferrotrade.backtest.run import run
from ferrotrade.backtest.sensitivity import DEFAULT_ADDED_LATENCY_NS, latency_sensitivity
from ferrotrade.backtest.space import apply_params, engine_value
from ferrotrade.backtest.storage import display_url
from ferrotrade.backtest.study_plan import StudyPlan

__all__ = ["OptimizationResult", "collect_result", "trials_frame"]


def _value_column(name: str) -> str:
    return f"value_{name}"


def _param_dtype(kind: str, choices: Sequence[Any] | None) -> pl.DataType:
    if kind == "int":
        return pl.Int64()
    if kind == "float":
        return pl.Float64()
    assert choices is not None
    if all(isinstance(c, bool) for c in choices):
        return pl.Boolean()
    if all(isinstance(c, int) and not isinstance(c, bool) for c in choices):
        return pl.Int64()
    if all(isinstance(c, int | float) and not isinstance(c, bool) for c in choices):
        return pl.Float64()
    return pl.String()


def trials_frame(plan: StudyPlan, trials: Sequence[optuna.trial.FrozenTrial]) -> pl.DataFrame:
    """One row per trial, columns as in the module docs."""
    schema: dict[str, pl.DataType] = {"number": pl.Int64(), "state": pl.String()}
    for name in plan.objective.names:
        schema[_value_column(name)] = pl.Float64()
    schema["feasible"] = pl.Boolean()
    for param in plan.space:
        schema[param.name] = _param_dtype(param.kind, param.choices)
    for name in metric_names():
        schema[name] = pl.Float64()
    schema.update(
        fail_reason=pl.String(),
        last_step=pl.Int64(),
        worker=pl.String(),
        started=pl.Datetime("us", "UTC"),
        duration_s=pl.Float64(),
    )
    rows = []
    for trial in trials:
        complete = trial.state == TrialState.COMPLETE
        row: dict[str, Any] = {"number": trial.number, "state": trial.state.name.lower()}
        values = trial.values if complete and trial.values is not None else [None] * len(plan.objective.names)
        for name, value in zip(plan.objective.names, values, strict=True):
            row[_value_column(name)] = value
        row["feasible"] = feasible(trial) if complete else None
        for param in plan.space:
            value = trial.params.get(param.name)
            if value is not None:
                value = engine_value(param, float(value) if param.kind == "float" else value)
            row[param.name] = value
        metrics = trial.user_attrs.get("metrics") or {}
        for name in metric_names():
            row[name] = metrics.get(name)
        reason = trial.user_attrs.get("fail_reason")
        row["fail_reason"] = reason
        row["last_step"] = trial.last_step
        row["worker"] = trial.user_attrs.get("worker")
        start = trial.datetime_start
        row["started"] = None if start is None else start.astimezone(UTC)
        end = trial.datetime_complete
        row["duration_s"] = None if start is None or end is None else (end - start).total_seconds()
        rows.append(row)
    return pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)


def _target(index: int, sign: float) -> Callable[[optuna.trial.FrozenTrial], float]:
    def target(trial: optuna.trial.FrozenTrial) -> float:
        return sign * trial.values[index] if trial.values else math.nan

    return target


def _importance(study: optuna.Study, plan: StudyPlan) -> dict[str, dict[str, float]]:
    """Parameter importance per objective (PED-ANOVA, optuna's default), {} with too few trials."""
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if len(complete) < 3 or len(plan.space) < 1:
        return {}
    out: dict[str, dict[str, float]] = {}
    for index, name in enumerate(plan.objective.names):
        try:
            # PED-ANOVA explains what makes the target low: flip a maximized objective.
            sign = -1.0 if plan.objective.directions[index] == "maximize" else 1.0
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                scores = optuna.importance.get_param_importances(study, target=_target(index, sign))
        except (RuntimeError, ValueError, ZeroDivisionError):
            continue
        if scores:
            out[name] = {param: float(score) for param, score in scores.items()}
    return out


@dataclass
class OptimizationResult:
    """The trials of a study, its best trial(s) and the plan that produced them.

    Attributes
    ----------
    plan : StudyPlan
        The checked study definition (configuration, space, objective, sampler ...).
    trials : polars.DataFrame
        One row per trial (see the module docs).
    best_number : int or None
        The best feasible complete trial (single objective); None when there is none.
    pareto_numbers : list of int
        The Pareto front's feasible trials (several objectives; the best trial alone for one).
    importance : dict
        Per objective name, ``{param: importance}`` summing to 1 (PED-ANOVA); empty with fewer than 3
        complete trials.
    wall_seconds : float
        Wall-clock duration of this call.
    """

    plan: StudyPlan
    trials: pl.DataFrame
    best_number: int | None
    pareto_numbers: list[int]
    importance: dict[str, dict[str, float]]
    wall_seconds: float
    _best_run: BacktestResult | None = field(default=None, repr=False)

    @property
    def storage(self) -> str:
        """The storage, password masked."""
        return display_url(self.plan.storage)

    @property
    def best_params(self) -> dict[str, Any] | None:
        """Parameters of the best trial (of the first Pareto trial for several objectives)."""
        number = self.best_number if self.best_number is not None else next(iter(self.pareto_numbers), None)
        if number is None:
            return None
        row = self.trials.filter(pl.col("number") == number).row(0, named=True)
        return {param.name: row[param.name] for param in self.plan.space}

    @property
    def best_value(self) -> float | None:
        """The best trial's objective value (single objective)."""
        if self.best_number is None:
            return None
        column = _value_column(self.plan.objective.names[0])
        value = self.trials.filter(pl.col("number") == self.best_number)[column][0]
        return None if value is None else float(value)

    def best_config(self) -> dict[str, Any]:
        """The backtest configuration with the best parameters, ready for :func:`ferrotrade.backtest.run`.

        Raises
        ------
        LookupError
            No trial completed feasibly.
        """
        params = self.best_params
        if params is None:
            raise LookupError(f"study {self.plan.study!r} has no feasible complete trial")
        return apply_params(self.plan.engine, self.plan.space, params)

    def best_run(self) -> BacktestResult:
        """The best configuration's backtest (run once, then kept): the same run as its trial."""
        if self._best_run is None:
            self._best_run = run(self.best_config())
        return self._best_run

    def latency_sensitivity(self, added_ns: Sequence[int] = DEFAULT_ADDED_LATENCY_NS) -> pl.DataFrame:
        """The best configuration re-run with more order latency (:mod:`ferrotrade.backtest.sensitivity`)."""
        return latency_sensitivity(self.best_config(), added_ns)

    def write_report(
        self,
        path: str | Path,
        *,
        added_latency_ns: Sequence[int] | None = DEFAULT_ADDED_LATENCY_NS,
        bootstrap_paths: int = 1_000,
    ) -> Path:
        """Write the study's HTML report and return its path.

        Sections: the study, trials over time, parameter importance, sensitivity surfaces for pairs of
        parameters, the Pareto front (several objectives), latency sensitivity and the risk of the best
        trial (VaR and CVaR three ways, bootstrap of its trades, correlation across instruments and
        strategies). The best configuration is re-run for the last two (``added_latency_ns=None`` skips the
        latency sweep).
        """
        from ferrotrade.backtest.study_report import write_study_report  # noqa: PLC0415 - plotly on demand

        return write_study_report(
            self, Path(path), added_latency_ns=added_latency_ns, bootstrap_paths=bootstrap_paths
        )


def _pareto(study: optuna.Study) -> list[int]:
    try:
        return sorted(t.number for t in study.best_trials if feasible(t))
    except (ValueError, RuntimeError):
        return []


def collect_result(plan: StudyPlan, study: optuna.Study, *, wall_seconds: float) -> OptimizationResult:
    """Read the study's trials into an :class:`OptimizationResult`."""
    trials = study.get_trials(deepcopy=False)
    frame = trials_frame(plan, trials)
    best: int | None = None
    if not plan.objective.multi:
        complete = frame.filter((pl.col("state") == "complete") & pl.col("feasible"))
        column = _value_column(plan.objective.names[0])
        if complete.height:
            descending = plan.objective.directions[0] == "maximize"
            # Ties go to the earliest trial, so a seeded study always names the same best trial.
            best = int(complete.sort([column, "number"], descending=[descending, False])["number"][0])
    pareto = _pareto(study) if plan.objective.multi else ([] if best is None else [best])
    return OptimizationResult(
        plan=plan,
        trials=frame,
        best_number=best,
        pareto_numbers=pareto,
        importance=_importance(study, plan),
        wall_seconds=wall_seconds,
    )
