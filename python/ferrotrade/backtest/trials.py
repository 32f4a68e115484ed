"""Running trials: one worker's loop over a shared study, in this process or in a spawned one.

Every worker (the local processes of ``ft.backtest.optimize``, ``ferrotrade optimize --worker`` on other
machines) runs the same loop against the storage: while the study has fewer started trials than its budget
(and the timeout has not passed), ask the sampler for a point, run the backtest, tell the result. The budget
is the study's, so workers share it and a re-run resumes an interrupted study. Workers check the budget
before they ask for a trial: when several finish at the same moment, the study can end with up to
``workers - 1`` trials more than its budget (as with optuna's ``MaxTrialsCallback``). ``timeout_s`` is each
worker's: no trial starts after it, a running one finishes.

What a trial records (optuna user attributes, shown by optuna-dashboard)
-------------------------------------------------------------------------
``metrics`` (every numeric metric of the run), ``data_start`` / ``data_end`` (receive times of the first and
last replayed event, ns), ``worker`` (``host:pid``), and for a failed trial ``fail_reason``: the exception's
type and message (a configuration the engine refused, a strategy that raised, an undefined objective). A
failed trial does not stop the study. A worker process that dies during a trial (native code crashing the
process) has that trial failed with its exit code or signal by the coordinator, which starts a replacement.

Why ``spawn``
-------------
Worker processes are started with the ``spawn`` method, not ``fork``: the Rust core keeps no global thread
or runtime between calls (each backtest's threads are scoped to the call), but polars keeps a global thread
pool and SQLAlchemy a connection pool, and a forked child inherits them in whatever state they were (a lock
held by a pool thread that does not exist in the child deadlocks it). A spawned worker starts a fresh
interpreter, imports ferrotrade and opens its own storage connection.
"""

from __future__ import annotations

import math
import os
import socket
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

import optuna
from optuna.trial import TrialState

from ferrotrade.backtest.objective import numeric_metrics
from ferrotrade.backtest.run import CHECKPOINT_EVENTS, run
from ferrotrade.backtest.space import Param, apply_params
from ferrotrade.backtest.storage import open_storage
from ferrotrade.backtest.study_plan import StudyPlan, build_pruner, build_sampler

__all__ = [
    "EXIT_INTERRUPTED",
    "STARTED_STATES",
    "ObjectiveUndefinedError",
    "budget_left",
    "run_worker",
    "suggest",
    "worker_id",
    "worker_main",
]

EXIT_INTERRUPTED = 130
"""Exit code of a worker process stopped by Ctrl-C."""

STARTED_STATES = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL, TrialState.RUNNING)
"""States that count against the study's trial budget."""


class ObjectiveUndefinedError(Exception):
    """The run finished but its objective has no value (a Sharpe ratio of a flat equity curve...)."""


def worker_id() -> str:
    """``host:pid`` of this process, recorded with each trial it runs."""
    return f"{socket.gethostname()}:{os.getpid()}"


def suggest(trial: optuna.Trial, param: Param) -> Any:
    """Ask the trial for a value of ``param``."""
    if param.kind == "categorical":
        assert param.choices is not None
        return trial.suggest_categorical(param.name, list(param.choices))
    assert param.low is not None
    assert param.high is not None
    if param.kind == "int":
        step = int(param.step) if param.step is not None else 1
        return trial.suggest_int(param.name, int(param.low), int(param.high), step=step, log=param.log)
    return trial.suggest_float(param.name, param.low, param.high, step=param.step, log=param.log)


class _Pruning:
    """The checkpoint callback of a trial: reports PnL (or drawdown) so far and prunes hopeless trials."""

    def __init__(self, trial: optuna.Trial, plan: StudyPlan) -> None:
        self.trial = trial
        self.initial = plan.initial_equity
        self.maximize = plan.objective.directions[0] == "maximize"
        self.absolute = plan.objective.names[0] == "max_drawdown_abs"
        self.peak = plan.initial_equity
        self.drawdown = 0.0

    def __call__(self, events: int, ts: int, equity: float) -> None:
        step = events // CHECKPOINT_EVENTS
        if self.maximize:
            value = equity - self.initial
        else:
            self.peak = max(self.peak, equity)
            drop = self.peak - equity
            self.drawdown = max(self.drawdown, drop if self.absolute or self.peak <= 0 else drop / self.peak)
            value = self.drawdown
        self.trial.report(value, step)
        if self.trial.should_prune():
            reason = f"pruned at {events:,} events ({'PnL' if self.maximize else 'drawdown'} {value:.6g})"
            self.trial.set_user_attr("fail_reason", reason)
            raise optuna.TrialPruned(reason)


def _objective(plan: StudyPlan, worker: str) -> Callable[[optuna.Trial], float | list[float]]:
    prune = not plan.objective.multi and plan.pruner[0] != "none"

    def objective(trial: optuna.Trial) -> float | list[float]:
        trial.set_user_attr("worker", worker)
        values = {param.name: suggest(trial, param) for param in plan.space}
        engine = apply_params(plan.engine, plan.space, values)
        try:
            result = run(engine, checkpoint=_Pruning(trial, plan) if prune else None)
        except optuna.TrialPruned:
            raise
        except BaseException as error:
            message = str(error).removeprefix("<dict>: ")
            failure = f"{type(error).__name__}: {message}"
            trial.set_user_attr(
                "fail_reason", "interrupted" if isinstance(error, KeyboardInterrupt) else failure
            )
            raise
        trial.set_user_attr("metrics", numeric_metrics(result.metrics))
        trial.set_user_attr("data_start", int(result.stats["first_ts"]))
        trial.set_user_attr("data_end", int(result.stats["last_ts"]))
        for constraint in plan.constraints:
            trial.set_constraint(constraint.describe(), constraint.violation(result.metrics))
        got, reason = plan.objective.values(result)
        if got is None:
            trial.set_user_attr("fail_reason", f"undefined objective: {reason}")
            raise ObjectiveUndefinedError(reason)
        return got if plan.objective.multi else got[0]

    return objective


def budget_left(study: optuna.Study, plan: StudyPlan) -> bool:
    """The study has fewer started trials than its budget."""
    started = study.get_trials(deepcopy=False, states=STARTED_STATES)
    return len(started) < plan.trials


def run_worker(plan: StudyPlan, index: int, on_trial: Callable[[optuna.Study], None] | None = None) -> int:
    """Run trials of the plan's study in this process until its budget is spent or its timeout passes.

    Parameters
    ----------
    plan : StudyPlan
        The checked study; the study must exist in the storage.
    index : int
        The worker's number on this machine (its sampler is seeded ``seed + index``).
    on_trial : callable, optional
        Called with the study after each trial.

    Returns
    -------
    int
        Trials this worker ran.
    """
    storage = open_storage(plan.storage, plan.base_dir, plan.source)
    study = optuna.load_study(
        study_name=plan.study, storage=storage, sampler=build_sampler(plan, index), pruner=build_pruner(plan)
    )
    objective = _objective(plan, worker_id())
    deadline = math.inf if plan.timeout_s is None else time.monotonic() + plan.timeout_s
    # `kind = "python"` strategy classes are imported relative to the configuration file.
    sys.path.insert(0, str(plan.base_dir))
    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    ran = 0
    try:
        while time.monotonic() < deadline and budget_left(study, plan):
            study.optimize(objective, n_trials=1, catch=(Exception,))
            ran += 1
            if on_trial is not None:
                on_trial(study)
    finally:
        optuna.logging.set_verbosity(verbosity)
        sys.path.remove(str(plan.base_dir))
    return ran


def worker_main(plan: StudyPlan, index: int, errors: Any) -> None:
    """Entry point of a spawned worker process: run trials, report an unexpected error on ``errors``."""
    try:
        run_worker(plan, index)
    except KeyboardInterrupt:
        sys.exit(EXIT_INTERRUPTED)
    except BaseException:
        errors.put((index, traceback.format_exc()))
        sys.exit(1)
