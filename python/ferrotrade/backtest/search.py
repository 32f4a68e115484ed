"""``ft.backtest.optimize``: a parameter search over any strategy's configuration, with optuna.

A study is planned and checked (:mod:`ferrotrade.backtest.study_plan`), created in (or joined from) its
storage (:mod:`ferrotrade.backtest.storage`), and its trials run in worker processes
(:mod:`ferrotrade.backtest.trials`); the result is one polars row per trial
(:class:`~ferrotrade.backtest.optimize_result.OptimizationResult`).

Strategies are the configuration's ``[[strategy]]`` tables: a Python strategy is a ``kind = "python"`` table,
its constructor arguments (``params``) searchable as ``strategy.<name>.params.<key>``; strategy objects
cannot be re-parameterized, so :func:`optimize` takes none.

Before any trial runs
---------------------
The search space, objective, constraints, sampler and pruner are checked; the storage is opened (a
database is connected to); a study of the same name that was created with another space or objective is
refused; and the engine checks the configuration at the centre of the space (every key, strategy and
instrument), so a typo in a parameter path fails at once instead of in every trial.

Examples
--------
>>> import ferrotrade as ft
>>> ft.backtest.optimize({"backtest": {"catalog": "tests/data/catalog", "initial_equity": 1000},
...                       "optimize": {"params": {}}})
Traceback (most recent call last):
...
ferrotrade.exceptions.ConfigError: <dict>: optimize.params: empty search space: add at least one parameter
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import socket
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import TrialState

from ferrotrade.backtest.optimize_result import OptimizationResult, collect_result
from ferrotrade.backtest.progress import StudyProgress, StudyProgressBar, snapshot
from ferrotrade.backtest.run import check
from ferrotrade.backtest.space import apply_params, centre
from ferrotrade.backtest.storage import display_url, open_storage
from ferrotrade.backtest.study_plan import StudyPlan, plan_study
from ferrotrade.backtest.trials import run_worker, worker_main
from ferrotrade.exceptions import ConfigError, FerrotradeError

__all__ = ["optimize", "optimize_plan", "prepare_study"]

ProgressArg = bool | Callable[[StudyProgress], None]
_DEFINITION = "ferrotrade:definition"
_POLL_S = 0.5


def _refusal(engine: dict[str, Any]) -> str | None:
    """Why the engine refuses a configuration (its checks before a run), or None."""
    try:
        check(engine)
    except ConfigError as error:
        return str(error).removeprefix("<dict>: ")
    return None


def _check_centre(plan: StudyPlan) -> None:
    point = centre(plan.space)
    # `kind = "python"` strategy classes are imported relative to the configuration file, as in trials.
    sys.path.insert(0, str(plan.base_dir))
    try:
        base = _refusal(plan.engine)
        at_centre = None if base is not None else _refusal(apply_params(plan.engine, plan.space, point))
    finally:
        sys.path.remove(str(plan.base_dir))
    if base is not None:
        raise ConfigError(f"{plan.source}: {base}")
    if at_centre is not None:
        shown = ", ".join(f"{name}={value!r}" for name, value in point.items())
        raise ConfigError(
            f"{plan.source}: optimize.params: the engine refuses the configuration at the centre of the "
            f"search space ({shown}): {at_centre}"
        )


def prepare_study(plan: StudyPlan) -> tuple[optuna.storages.BaseStorage, optuna.Study]:
    """Check the plan against the engine, open its storage and create or join its study.

    Raises
    ------
    ConfigError
        The centre of the search space is refused by the engine, the storage cannot be reached, or a study
        of that name exists with another definition (search space, objectives, constraints).
    """
    _check_centre(plan)
    storage = open_storage(plan.storage, plan.base_dir, plan.source)
    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        study = optuna.create_study(
            study_name=plan.study,
            storage=storage,
            directions=list(plan.objective.directions),
            load_if_exists=True,
        )
    finally:
        optuna.logging.set_verbosity(verbosity)
    definition = plan.describe()
    stored = study.user_attrs.get(_DEFINITION)
    if stored is None:
        study.set_user_attr(_DEFINITION, definition)
        study.set_user_attr("ferrotrade:config", plan.source)
    elif stored != definition:
        differs = sorted(key for key in definition if stored.get(key) != definition[key])
        raise ConfigError(
            f"{plan.source}: optimize.study: study {plan.study!r} in {display_url(plan.storage)} was created "
            f"with another {' and '.join(differs)}; choose another study name or storage"
        )
    return storage, study


def _fail_orphans(storage: optuna.storages.BaseStorage, study: optuna.Study, pids: set[int] | None) -> None:
    """Mark failed the running trials of this machine's workers that are gone (``pids``: only those)."""
    host = socket.gethostname()
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        worker = str(trial.user_attrs.get("worker", ""))
        name, _, pid_text = worker.rpartition(":")
        if name != host or not pid_text.isdigit():
            continue
        pid = int(pid_text)
        if pids is not None and pid not in pids:
            continue
        if pids is None:
            try:
                os.kill(pid, 0)
                continue  # still running
            except ProcessLookupError:
                pass
            except PermissionError:
                continue
        storage.set_trial_user_attr(trial._trial_id, "fail_reason", f"worker process {worker} exited")
        with contextlib.suppress(optuna.exceptions.UpdateFinishedTrialError):
            storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)


def _run_processes(
    plan: StudyPlan, storage: optuna.storages.BaseStorage, study: optuna.Study, report: Callable[[], None]
) -> None:
    context = multiprocessing.get_context("spawn")
    errors = context.Queue()
    processes = [
        context.Process(target=worker_main, args=(plan, index, errors), name=f"ferrotrade-worker-{index}")
        for index in range(plan.workers)
    ]
    for process in processes:
        process.start()
    try:
        while any(process.is_alive() for process in processes):
            next(process for process in processes if process.is_alive()).join(_POLL_S)
            report()
    except KeyboardInterrupt:
        # The workers got the same SIGINT: each records its running trial as failed and exits.
        for process in processes:
            process.join(10)
            if process.is_alive():
                process.terminate()
        raise
    finally:
        _fail_orphans(storage, study, {p.pid for p in processes if p.pid is not None and p.exitcode != 0})
    failures = []
    while not errors.empty():
        index, text = errors.get()
        failures.append(f"worker {index}: {text.strip().splitlines()[-1]}")
    failures += [
        f"worker {i} exited with code {p.exitcode}"
        for i, p in enumerate(processes)
        if p.exitcode not in (0, 1) and p.exitcode is not None
    ]
    if failures:
        raise FerrotradeError("optimization worker failed: " + "; ".join(failures))


def optimize_plan(plan: StudyPlan, *, progress: ProgressArg = False) -> OptimizationResult:
    """Run a checked plan: create or join its study, run its workers, collect the trials.

    See :func:`optimize`.
    """
    storage, study = prepare_study(plan)
    _fail_orphans(storage, study, None)
    objective = plan.objective.names[0] if not plan.objective.multi else ", ".join(plan.objective.names)
    bar = StudyProgressBar(f"optimize {plan.study}") if progress is True else None
    callback = bar if bar is not None else (progress if callable(progress) else None)
    started = time.perf_counter()

    def report() -> None:
        if callback is not None:
            callback(snapshot(study, plan.trials, objective))

    try:
        if bar is not None:
            bar.__enter__()
        report()
        if plan.workers == 1:
            run_worker(plan, 0, on_trial=lambda _study: report())
        else:
            _run_processes(plan, storage, study, report)
        report()
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    return collect_result(plan, study, wall_seconds=time.perf_counter() - started)


def optimize(
    config: str | Path | Mapping[str, Any],
    *,
    catalog: str | Path | None = None,
    progress: ProgressArg = False,
    **options: Any,
) -> OptimizationResult:
    """Search a strategy's parameters with optuna.

    Parameters
    ----------
    config : str, Path or Mapping
        A backtest configuration (TOML file or dict) with an ``[optimize]`` section; see
        :mod:`ferrotrade.backtest.study_plan` for its keys and :mod:`ferrotrade.backtest.space` for
        ``[optimize.params]``.
    catalog : str or Path, optional
        Catalog to read instead of ``[backtest].catalog``.
    progress : bool or callable
        True draws a progress bar on stderr with the best value so far; a callable receives a
        :class:`~ferrotrade.backtest.progress.StudyProgress` after each trial (every half second with
        several workers).
    **options
        ``[optimize]`` keys that replace the configuration's: ``params``, ``objective`` (a metric, a list, a
        ``"module:function"`` or a callable taking a :class:`~ferrotrade.backtest.BacktestResult`),
        ``direction``, ``constraints``, ``sampler``, ``pruner``, ``trials``, ``workers``, ``timeout_s``,
        ``seed``, ``study``, ``storage``.

    Returns
    -------
    OptimizationResult
        One row per trial (params, metrics, state, failure reason), the best trial, parameter importance;
        the best configuration can be re-run, swept over added latency and reported.

    Raises
    ------
    ConfigError
        Before any trial: see the module docs.
    FerrotradeError
        A worker process failed outside a trial (a trial's own failure is recorded, not raised).
    """
    plan = plan_study(config, options, catalog=catalog)
    return optimize_plan(plan, progress=progress)
