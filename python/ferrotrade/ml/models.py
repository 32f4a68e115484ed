"""The model kinds ``[[model]]`` can name, built with the user's ``params`` on top of sound defaults.

==============  ==========================================  ==========================================
kind            classification (direction, triple barrier)  regression (forward return)
==============  ==========================================  ==========================================
``lightgbm``    ``lightgbm.LGBMClassifier``                 ``lightgbm.LGBMRegressor``
``sklearn_gbm`` ``GradientBoostingClassifier``              ``GradientBoostingRegressor``
``logistic``    ``StandardScaler`` + ``LogisticRegression``  (not a regressor)
``ridge``       (not a classifier)                          ``StandardScaler`` + ``Ridge``
==============  ==========================================  ==========================================

Every model is seeded (``[data] seed``) and single-threaded, so training is reproducible on any machine.

LightGBM learns its split thresholds in double precision, ONNX stores them as float32. A threshold that
lies just below a float32 value the feature takes (``hour_sin`` takes values one float32 ulp apart) would
round up onto it and send that value down the other branch in ONNX. :func:`snap_thresholds_to_float32`
replaces every threshold ``t`` by the largest float32 ``<= t``: no float32 lies between the two, so the
model's decisions on float32 inputs (all the engine feeds it) are unchanged, and ONNX takes the same
branches bit for bit.
"""

# ruff: noqa: PLC0415 - the ML libraries (optional extra `ml`) and rich load only when used

from __future__ import annotations

import re
from typing import Any

import numpy as np
import numpy.typing as npt

from ferrotrade.exceptions import ConfigError
from ferrotrade.ml.config import ModelConfig

__all__ = ["fit_model", "make_model", "snap_thresholds_to_float32"]


def make_model(config: ModelConfig, classification: bool, seed: int) -> Any:
    """Build the (unfitted) estimator of one ``[[model]]``.

    Parameters
    ----------
    config : ModelConfig
        Its kind and params.
    classification : bool
        Whether the label is a class.
    seed : int
        Random seed.

    Returns
    -------
    estimator
        A scikit-learn compatible estimator.

    Raises
    ------
    ConfigError
        A parameter the estimator does not take.
    """
    params = dict(config.params)
    try:
        if config.kind == "lightgbm":
            import lightgbm

            defaults = {"n_estimators": 100, "num_leaves": 15, "learning_rate": 0.05, "min_child_samples": 20}
            defaults.update(random_state=seed, n_jobs=1, verbose=-1, deterministic=True, force_row_wise=True)
            cls = lightgbm.LGBMClassifier if classification else lightgbm.LGBMRegressor
            return cls(**{**defaults, **params})
        if config.kind == "sklearn_gbm":
            from sklearn.ensemble import GradientBoostingClassifier, GradientBoostingRegressor

            defaults = {"n_estimators": 100, "max_depth": 3, "learning_rate": 0.05, "random_state": seed}
            cls = GradientBoostingClassifier if classification else GradientBoostingRegressor
            return cls(**{**defaults, **params})
        from sklearn.linear_model import LogisticRegression, Ridge
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        if config.kind == "logistic":
            return make_pipeline(StandardScaler(), LogisticRegression(**{"max_iter": 1000, **params}))
        return make_pipeline(StandardScaler(), Ridge(**{"alpha": 1.0, **params}))
    except TypeError as error:
        raise ConfigError(f"model {config.name!r}: {error}") from None


def _float32_floor(value: float) -> float:
    single = np.float32(value)
    if float(single) > value:
        single = np.nextafter(single, np.float32(-np.inf))
    return float(single)


def snap_thresholds_to_float32(model: Any) -> None:
    """Make a fitted LightGBM model's thresholds float32 numbers without changing its float32 decisions."""
    import lightgbm

    text = model.booster_.model_to_string()

    def snap(match: re.Match[str]) -> str:
        values = [repr(_float32_floor(float(value))) for value in match.group(1).split()]
        return "threshold=" + " ".join(values)

    snapped = re.sub(r"^threshold=(.*)$", snap, text, flags=re.MULTILINE)
    # The header's byte offsets of the trees no longer hold; without them LightGBM reads the trees in order.
    snapped = re.sub(r"^tree_sizes=.*\n", "", snapped, flags=re.MULTILINE)
    model._Booster = lightgbm.Booster(model_str=snapped)


def fit_model(
    config: ModelConfig,
    classification: bool,
    seed: int,
    x: npt.NDArray[np.float32],
    y: npt.NDArray[np.float64],
) -> Any:
    """Build and fit one ``[[model]]`` on float32 features (as the engine will feed it).

    Returns
    -------
    estimator
        The fitted model (LightGBM thresholds snapped to float32, see the module docs).
    """
    model = make_model(config, classification, seed)
    labels = y.astype(np.int64) if classification else y
    model.fit(np.asarray(x, dtype=np.float32).astype(np.float64), labels)
    if config.kind == "lightgbm":
        snap_thresholds_to_float32(model)
    return model
