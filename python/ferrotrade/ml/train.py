"""``ft.ml.train`` / ``ferrotrade ml train CONFIG.toml``: dataset, cross-validation, export, card.

1. **Dataset** (:func:`ferrotrade.ml.build_dataset`): features from the catalog, labels, warm-up and
   unlabelled rows dropped (and counted).
2. **Split**: the last ``[holdout] fraction`` of the samples is the out-of-sample test, never trained on;
   the samples before it are the training part, purged of labels that reach into the holdout and embargoed.
3. **Cross-validation** on the training part, for every ``[[model]]``: purged, embargoed k-fold
   (:func:`ferrotrade.ml.cv.purged_kfold`) and expanding walk-forward (:func:`ferrotrade.ml.cv.walk_forward`);
   metrics per fold and their mean.
4. **Fit** every model on the whole training part and score it on the holdout (out of sample).
5. **Export** ``[export] model`` to ONNX, check parity with the native model on the holdout rows (1e-5, or
   :class:`~ferrotrade.ml.export.ParityError`), and write the model and its card.
"""

# ruff: noqa: PLC0415 - the ML libraries (optional extra `ml`) and rich load only when used

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ferrotrade.features import FEATURE_CODE_VERSION
from ferrotrade.ml.config import ModelConfig, TrainConfig, load_train_config
from ferrotrade.ml.cv import purged_kfold, walk_forward
from ferrotrade.ml.dataset import Dataset, build_dataset
from ferrotrade.ml.export import (
    check_parity,
    is_classifier,
    native_outputs,
    onnx_outputs,
    to_onnx,
    write_card,
)
from ferrotrade.ml.metrics import classification_metrics, regression_metrics
from ferrotrade.ml.models import fit_model

__all__ = ["TrainReport", "train"]


@dataclass
class TrainReport:
    """What a training run did and measured."""

    config: TrainConfig
    dataset: Dataset
    train_rows: int
    holdout_rows: int
    purged_rows: int
    cv: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    walk_forward: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    holdout: dict[str, dict[str, Any]] = field(default_factory=dict)
    parity: dict[str, Any] = field(default_factory=dict)
    model_path: Path | None = None
    card_path: Path | None = None

    def summary_rows(self) -> list[tuple[str, str, str, str]]:
        """``(model, metric, cv mean, holdout)`` rows for a console table."""
        key = "roc_auc" if self.config.label.is_classification else "ic"
        other = "accuracy" if self.config.label.is_classification else "rmse"
        rows = []
        for name in self.holdout:
            for metric in (key, other):
                folds = [fold[metric] for fold in self.cv.get(name, []) if fold.get(metric) is not None]
                cv = f"{np.mean(folds):.4f}" if folds else "-"
                value = self.holdout[name].get(metric)
                rows.append((name, metric, cv, "-" if value is None else f"{value:.4f}"))
        return rows


def _score(
    config: TrainConfig,
    model: Any,
    x: npt.NDArray[np.float32],
    y: npt.NDArray[np.float64],
    classes: list[float],
) -> dict[str, Any]:
    outputs = native_outputs(model, x)
    if config.label.is_classification:
        return classification_metrics(y, outputs, classes)
    return regression_metrics(y, outputs[:, 0])


def _fit(
    config: TrainConfig, spec: ModelConfig, x: npt.NDArray[np.float32], y: npt.NDArray[np.float64]
) -> Any:
    return fit_model(spec, config.label.is_classification, config.seed, x, y)


def train(config: str | Path | Mapping[str, Any] | TrainConfig, *, progress: bool = True) -> TrainReport:
    """Train, cross-validate, export and document the models of a configuration.

    Parameters
    ----------
    config : str, Path, Mapping or TrainConfig
        A TOML file (see :mod:`ferrotrade.ml.config`), a dict, or a loaded configuration.
    progress : bool
        Show progress bars.

    Returns
    -------
    TrainReport

    Raises
    ------
    ConfigError
        A bad configuration or too little data.
    ParityError
        The exported model does not reproduce the native one within 1e-5 (nothing is written).
    """
    config = config if isinstance(config, TrainConfig) else load_train_config(config)
    dataset = build_dataset(config, progress=progress)
    n = dataset.rows
    holdout_start = int(n * (1 - config.holdout_fraction))
    holdout = np.arange(holdout_start, n)
    # The training part: before the holdout, minus samples whose labels reach into it, minus the embargo
    # (nothing follows the holdout, so its embargo is only the purge).
    before = np.arange(holdout_start)
    train_part = before[dataset.label_end[before] < dataset.ts[holdout_start]]
    report = TrainReport(
        config=config,
        dataset=dataset,
        train_rows=len(train_part),
        holdout_rows=len(holdout),
        purged_rows=holdout_start - len(train_part),
    )
    classes = dataset.classes() if config.label.is_classification else []
    x, y = dataset.x, dataset.y
    ts, ends = dataset.ts[train_part], dataset.label_end[train_part]
    splits: list[tuple[str, Any]] = [("cv", list(purged_kfold(ts, ends, config.cv_folds, config.embargo)))]
    if config.walk_forward_folds:
        splits.append(
            ("walk_forward", list(walk_forward(ts, ends, config.walk_forward_folds, config.embargo)))
        )
    steps = len(config.models) * (sum(len(folds) for _, folds in splits) + 1) + 1
    bar: Any = None
    if progress:
        from rich.progress import Progress

        bar = Progress(transient=True)
        task = bar.add_task("training", total=steps)
        bar.start()
    try:
        for spec in config.models:
            for kind, folds in splits:
                results = []
                for fold_train, fold_test in folds:
                    rows_train, rows_test = train_part[fold_train], train_part[fold_test]
                    model = _fit(config, spec, x[rows_train], y[rows_train])
                    metrics = _score(config, model, x[rows_test], y[rows_test], classes)
                    metrics["train_rows"] = len(rows_train)
                    results.append(metrics)
                    if bar is not None:
                        bar.advance(task)
                getattr(report, kind)[spec.name] = results
            model = _fit(config, spec, x[train_part], y[train_part])
            report.holdout[spec.name] = _score(config, model, x[holdout], y[holdout], classes)
            if bar is not None:
                bar.advance(task)
            if spec.name == config.export_model:
                exported = model
        onnx_bytes = to_onnx(exported, len(config.features))
        report.parity = check_parity(exported, onnx_bytes, x[holdout])
        # A few rows with ONNX Runtime's outputs: the Rust engine's tests check its inference against them.
        sample = x[holdout][:8]
        report.parity["sample"] = {
            "features": sample.astype(np.float64).tolist(),
            "onnxruntime": onnx_outputs(onnx_bytes, sample, is_classifier(exported)).tolist(),
        }
        if bar is not None:
            bar.advance(task)
    finally:
        if bar is not None:
            bar.stop()
    spec = next(model for model in config.models if model.name == config.export_model)
    report.model_path = config.export_path
    report.card_path = write_card(config.export_path, onnx_bytes, _card(report, spec, exported, classes))
    return report


def _mean(folds: list[dict[str, Any]]) -> dict[str, float]:
    keys = {key for fold in folds for key, value in fold.items() if isinstance(value, float)}
    return {
        key: float(np.mean([fold[key] for fold in folds if isinstance(fold.get(key), float)]))
        for key in sorted(keys)
    }


def _iso(ns: int) -> str:
    return np.datetime_as_string(np.datetime64(int(ns), "ns"), unit="s") + "Z"


def _card(report: TrainReport, spec: ModelConfig, model: Any, classes: list[float]) -> dict[str, Any]:
    config, dataset = report.config, report.dataset
    params = {
        key: value for key, value in model.get_params().items() if isinstance(value, (int, float, str, bool))
    }
    return {
        "name": config.export_name,
        "model_kind": f"{type(model).__module__.split('.')[0]}.{type(model).__name__}",
        "model_config": {"name": spec.name, "kind": spec.kind, "params": params},
        "task": "classification" if config.label.is_classification else "regression",
        "classes": classes,
        "signal": "expected class value sum(p_i x class_i)" if classes else "predicted value",
        "features": {
            "names": list(config.features),
            "clock": config.clock,
            "code_version": FEATURE_CODE_VERSION,
            "instrument": config.instrument,
        },
        "label": config.label.as_dict(),
        "training": {
            "catalog": os.path.relpath(config.catalog, config.export_path.parent),
            "instrument": config.instrument,
            "requested_start": config.start,
            "requested_end": config.end,
            "first_sample": _iso(int(dataset.ts[0])),
            "last_sample": _iso(int(dataset.ts[-1])),
            "holdout_start": _iso(int(dataset.ts[report.dataset.rows - report.holdout_rows])),
            "samples": dataset.samples,
            "warmup_dropped": dataset.warmup_dropped,
            "unlabeled_dropped": dataset.unlabeled_dropped,
            "rows": dataset.rows,
            "train_rows": report.train_rows,
            "purged_rows": report.purged_rows,
            "holdout_rows": report.holdout_rows,
            "data_sha256": dataset.sha256(),
            "seed": config.seed,
        },
        "cv": {
            "purged_kfold": {
                "folds": config.cv_folds,
                "embargo": config.embargo,
                "mean": _mean(report.cv[spec.name]),
            },
            "walk_forward": {
                "folds": config.walk_forward_folds,
                "mean": _mean(report.walk_forward.get(spec.name, [])),
            },
        },
        "metrics": {
            "holdout": report.holdout[spec.name],
            "other_models_holdout": {
                name: metrics for name, metrics in report.holdout.items() if name != spec.name
            },
        },
        "parity": report.parity,
    }
