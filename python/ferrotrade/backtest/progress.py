"""Following a study: a snapshot of its trials, and a rich progress bar with the best value so far.

The bar reads the storage (every half second while worker processes run, after every trial otherwise), so
it shows the trials of every worker, on this machine or another.

Examples
--------
>>> snap = StudyProgress("mm", total=10, complete=3, pruned=1, failed=1, running=2, best_value=1.5,
...                      best_number=2, objective="sharpe")
>>> snap.done, snap.summary()
(5, 'best sharpe 1.5 (#2) · 1 pruned · 1 failed · 2 running')
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from types import TracebackType

import optuna
from optuna.trial import TrialState
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

__all__ = ["StudyProgress", "StudyProgressBar", "feasible", "snapshot"]


@dataclass(frozen=True)
class StudyProgress:
    """Counts of a study's trials and its best value so far (single objective; None for several)."""

    study: str
    total: int
    complete: int
    pruned: int
    failed: int
    running: int
    best_value: float | None
    best_number: int | None
    objective: str

    @property
    def done(self) -> int:
        """Finished trials: complete, pruned or failed."""
        return self.complete + self.pruned + self.failed

    def summary(self) -> str:
        """One line: best value, pruned, failed and running trials."""
        best = (
            "no feasible trial yet"
            if self.best_value is None
            else f"best {self.objective} {self.best_value:.6g} (#{self.best_number})"
        )
        return f"{best} · {self.pruned} pruned · {self.failed} failed · {self.running} running"


def feasible(trial: optuna.trial.FrozenTrial) -> bool:
    """A trial meets all its constraints (a trial without constraints always does)."""
    return all(value <= 0.0 for value in trial.constraints.values())


def snapshot(study: optuna.Study, total: int, objective: str) -> StudyProgress:
    """Read the study's trials from the storage."""
    trials = study.get_trials(deepcopy=False)
    counts = dict.fromkeys(TrialState, 0)
    for trial in trials:
        counts[trial.state] += 1
    best_value: float | None = None
    best_number: int | None = None
    if len(study.directions) == 1:
        sign = 1.0 if study.directions[0] == optuna.study.StudyDirection.MAXIMIZE else -1.0
        for trial in trials:
            if trial.state != TrialState.COMPLETE or trial.value is None or not feasible(trial):
                continue
            if best_value is None or sign * trial.value > sign * best_value:
                best_value, best_number = trial.value, trial.number
    if best_value is not None and not math.isfinite(best_value):
        best_value = None
    return StudyProgress(
        study=study.study_name,
        total=total,
        complete=counts[TrialState.COMPLETE],
        pruned=counts[TrialState.PRUNED],
        failed=counts[TrialState.FAIL],
        running=counts[TrialState.RUNNING],
        best_value=best_value,
        best_number=best_number,
        objective=objective,
    )


class StudyProgressBar:
    """A transient rich bar on stderr: ``study ━━━━ 12/40 trials best sharpe 1.23 (#7) · 2 pruned ...``.

    Use as a context manager and call it with each :class:`StudyProgress`.
    """

    def __init__(self, description: str, console: Console | None = None) -> None:
        width = None if sys.stderr.isatty() else 200
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("trials"),
            TimeElapsedColumn(),
            TextColumn("{task.fields[summary]}"),
            console=console or Console(stderr=True, width=width),
            transient=True,
        )
        self._task = self._progress.add_task(description, total=None, summary="")

    def __enter__(self) -> StudyProgressBar:
        self._progress.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._progress.stop()

    def __call__(self, progress: StudyProgress) -> None:
        self._progress.update(
            self._task, completed=progress.done, total=progress.total, summary=progress.summary()
        )
