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
import signal
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
from ferrotrade.backtest.trials import EXIT_INTERRUPTED, budget_left, run_worker, worker_main
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


def _fail_orphans(
    storage: optuna.storages.BaseStorage, study: optuna.Study, pids: set[int] | None, how: str = "exited"
) -> None:
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
        reason = f"worker process {worker} {how} while running this trial"
        storage.set_trial_user_attr(trial._trial_id, "fail_reason", reason)
        with contextlib.suppress(optuna.exceptions.UpdateFinishedTrialError):
            storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)


def _death(exitcode: int) -> str:
    if exitcode < 0:
        with contextlib.suppress(ValueError):
            return f"was killed by {signal.Signals(-exitcode).name}"
    return f"died with exit code {exitcode}"


class _Workers:
    """The spawned worker processes of one study; a worker that dies (a strategy that crashes its process)
    fails its trial and is replaced, with a new seed, while the budget lasts (at most 3 per worker)."""

    def __init__(self, plan: StudyPlan, storage: optuna.storages.BaseStorage, study: optuna.Study) -> None:
        self.plan, self.storage, self.study = plan, storage, study
        self.context = multiprocessing.get_context("spawn")
        self.errors = self.context.Queue()
        self.restarts = 0
        self.failures: list[str] = []
        self.running = {slot: self._start(slot) for slot in range(plan.workers)}

    def _start(self, number: int) -> multiprocessing.process.BaseProcess:
        process = self.context.Process(
            target=worker_main, args=(self.plan, number, self.errors), name=f"ferrotrade-worker-{number}"
        )
        process.start()
        return process

    def poll(self) -> bool:
        """Wait up to half a second; handle ended workers; False once none runs."""
        next(iter(self.running.values())).join(_POLL_S)
        for slot, process in list(self.running.items()):
            if process.is_alive():
                continue
            del self.running[slot]
            code = process.exitcode
            if code in (0, None) or code == 1:
                continue  # done, or an error it reported on the queue
            how = "was interrupted" if code == EXIT_INTERRUPTED else _death(code)
            _fail_orphans(self.storage, self.study, {process.pid or -1}, how)
            if code == EXIT_INTERRUPTED:
                self.failures.append(f"worker {slot} {how}")
            elif budget_left(self.study, self.plan):
                if self.restarts >= 3 * self.plan.workers:
                    self.failures.append(f"worker {slot} {how}, and {self.restarts} workers died before it")
                    continue
                self.restarts += 1
                self.running[slot] = self._start(slot + self.plan.workers * self.restarts)
        return bool(self.running)

    def stop(self) -> None:
        """After Ctrl-C: the workers got the same SIGINT; each records its trial as failed and exits."""
        for process in self.running.values():
            process.join(10)
            if process.is_alive():
                process.terminate()
        _fail_orphans(
            self.storage, self.study, {p.pid for p in self.running.values() if p.pid}, "was stopped"
        )

    def raise_failures(self) -> None:
        while not self.errors.empty():
            slot, text = self.errors.get()
            self.failures.append(f"worker {slot}: {text.strip().splitlines()[-1]}")
        if self.failures:
            raise FerrotradeError("optimization worker failed: " + "; ".join(self.failures))


def _run_processes(
    plan: StudyPlan, storage: optuna.storages.BaseStorage, study: optuna.Study, report: Callable[[], None]
) -> None:
    workers = _Workers(plan, storage, study)
    try:
        while workers.poll():
            report()
    except KeyboardInterrupt:
        workers.stop()
        raise
    workers.raise_failures()


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
