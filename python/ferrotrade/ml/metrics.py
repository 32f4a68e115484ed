"""Out-of-sample metrics of a model's predictions.

Classification: accuracy, balanced accuracy, log loss, ROC AUC (one-vs-rest for more than two classes),
and the hit rate of the signal's direction on the realized forward return. Regression: RMSE, MAE, R² and
the information coefficient (Spearman rank correlation of prediction and outcome).
"""

# ruff: noqa: PLC0415 - the ML libraries (optional extra `ml`) and rich load only when used

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["classification_metrics", "regression_metrics", "signal_of"]


def signal_of(probabilities: npt.NDArray[np.float64], classes: list[float]) -> npt.NDArray[np.float64]:
    """The strategy's signal from class probabilities: the expected class value (``P(1)`` for ``[0, 1]``)."""
    return np.asarray(probabilities, dtype=np.float64) @ np.asarray(classes, dtype=np.float64)


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def classification_metrics(
    y: npt.NDArray[np.float64], probabilities: npt.NDArray[np.float64], classes: list[float]
) -> dict[str, Any]:
    """Metrics of predicted class probabilities against the true labels."""
    from sklearn.metrics import accuracy_score, balanced_accuracy_score, log_loss, roc_auc_score

    predicted = np.asarray(classes)[np.argmax(probabilities, axis=1)]
    out: dict[str, Any] = {
        "rows": len(y),
        "accuracy": float(accuracy_score(y, predicted)),
        "balanced_accuracy": float(balanced_accuracy_score(y, predicted)),
        "log_loss": float(log_loss(y, probabilities, labels=classes)),
        "base_rate": {str(c): float(np.mean(y == c)) for c in classes},
    }
    if len(np.unique(y)) < 2:
        out["roc_auc"] = None  # undefined on a fold with one class only
    elif len(classes) == 2:
        out["roc_auc"] = float(roc_auc_score(y, probabilities[:, 1]))
    else:
        try:
            out["roc_auc"] = float(roc_auc_score(y, probabilities, multi_class="ovr", labels=classes))
        except ValueError:
            out["roc_auc"] = None  # a class missing from this fold
    return out


def regression_metrics(y: npt.NDArray[np.float64], predicted: npt.NDArray[np.float64]) -> dict[str, Any]:
    """Metrics of predicted values against the true ones."""
    from scipy.stats import spearmanr
    from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

    ic = spearmanr(predicted, y).statistic if np.std(predicted) > 0 else float("nan")
    return {
        "rows": len(y),
        "rmse": float(math.sqrt(mean_squared_error(y, predicted))),
        "mae": float(mean_absolute_error(y, predicted)),
        "r2": float(r2_score(y, predicted)),
        "ic": _finite(float(ic)),
        "hit_rate": float(np.mean(np.sign(predicted) == np.sign(y))),
    }
