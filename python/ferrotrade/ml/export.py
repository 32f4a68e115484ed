"""ONNX export with a parity check, and the model card written beside the model.

:func:`to_onnx` converts a fitted estimator with skl2onnx (scikit-learn models and pipelines) or through
the LightGBM converter onnxmltools registers with skl2onnx. Classifiers are exported without the ZipMap
node, so their outputs are two tensors, ``label`` and ``probabilities``; regressors have one, ``variable``.
The input is one float32 tensor ``features`` of shape ``[rows, n_features]``.

:func:`check_parity` runs the native model and ONNX Runtime on the same held-out rows and raises
:class:`ParityError` if any output differs by more than ``1e-5``: a model that would behave differently in
the engine than in research is never written.

:func:`write_card` writes ``NAME.card.json`` beside ``NAME.onnx``: what the model is, the features it takes
(names, order, clock, feature code version), the training data (range, rows, hash), the label, the metrics,
library versions and opsets, and the parity it passed. It holds no wall-clock time: training the same
configuration on the same data with the same libraries writes the same card. The Rust engine refuses the
model at load unless the
card matches the strategy's features and the file's SHA-256.
"""

# ruff: noqa: PLC0415 - the ML libraries (optional extra `ml`) and rich load only when used

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ferrotrade import __version__
from ferrotrade.exceptions import FerrotradeError

__all__ = ["PARITY_TOLERANCE", "ParityError", "check_parity", "native_outputs", "to_onnx", "write_card"]

PARITY_TOLERANCE = 1e-5
INPUT_NAME = "features"
TARGET_OPSET = {"": 15, "ai.onnx.ml": 3}


class ParityError(FerrotradeError):
    """The exported model's outputs differ from the native model's by more than the tolerance."""


_LIGHTGBM_REGISTERED = False


def _register_lightgbm() -> None:
    """Register onnxmltools' LightGBM converter with skl2onnx (once)."""
    global _LIGHTGBM_REGISTERED  # noqa: PLW0603 - a one-time registration in skl2onnx's global registry
    if _LIGHTGBM_REGISTERED:
        return
    from lightgbm import LGBMClassifier, LGBMRegressor
    from onnxmltools.convert.lightgbm.operator_converters.LightGbm import convert_lightgbm
    from skl2onnx import update_registered_converter
    from skl2onnx.common.shape_calculator import (
        calculate_linear_classifier_output_shapes,
        calculate_linear_regressor_output_shapes,
    )

    update_registered_converter(
        LGBMClassifier,
        "LightGbmLGBMClassifier",
        calculate_linear_classifier_output_shapes,
        convert_lightgbm,
        options={"nocl": [True, False], "zipmap": [True, False, "columns"]},
    )
    update_registered_converter(
        LGBMRegressor, "LightGbmLGBMRegressor", calculate_linear_regressor_output_shapes, convert_lightgbm
    )
    _LIGHTGBM_REGISTERED = True


def _final_estimator(model: Any) -> Any:
    return model.steps[-1][1] if hasattr(model, "steps") else model


def is_classifier(model: Any) -> bool:
    """Whether the (fitted) model predicts classes."""
    return hasattr(_final_estimator(model), "predict_proba")


def to_onnx(model: Any, n_features: int) -> bytes:
    """Convert a fitted model to a serialized ONNX graph.

    Parameters
    ----------
    model : estimator
        A fitted LightGBM or scikit-learn model (or pipeline).
    n_features : int
        Width of the input.

    Returns
    -------
    bytes
        The ONNX model.
    """
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType

    if type(_final_estimator(model)).__module__.startswith("lightgbm"):
        _register_lightgbm()
    options = {type(_final_estimator(model)): {"zipmap": False}} if is_classifier(model) else None
    onx = convert_sklearn(
        model,
        initial_types=[(INPUT_NAME, FloatTensorType([None, n_features]))],
        target_opset=TARGET_OPSET,
        options=options,
    )
    return bytes(onx.SerializeToString())


def native_outputs(model: Any, x: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
    """The native model's outputs: class probabilities, or predictions as one column."""
    rows = np.asarray(x, dtype=np.float32).astype(np.float64)
    if is_classifier(model):
        return np.asarray(model.predict_proba(rows), dtype=np.float64)
    return np.asarray(model.predict(rows), dtype=np.float64).reshape(-1, 1)


def onnx_outputs(onnx_bytes: bytes, x: npt.NDArray[np.float32], classifier: bool) -> npt.NDArray[np.float64]:
    """ONNX Runtime's outputs of the same rows."""
    import onnxruntime

    session = onnxruntime.InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"])
    name = "probabilities" if classifier else "variable"
    (result,) = session.run([name], {INPUT_NAME: np.asarray(x, dtype=np.float32)})
    return np.asarray(result, dtype=np.float64).reshape(len(x), -1)


def check_parity(model: Any, onnx_bytes: bytes, x: npt.NDArray[np.float32]) -> dict[str, Any]:
    """Compare native and ONNX Runtime outputs on ``x``; raise :class:`ParityError` beyond the tolerance.

    Returns
    -------
    dict
        ``rows``, ``max_abs_diff`` and ``tolerance``, for the model card.
    """
    native = native_outputs(model, x)
    exported = onnx_outputs(onnx_bytes, x, is_classifier(model))
    if native.shape != exported.shape:
        raise ParityError(f"native outputs {native.shape} vs ONNX {exported.shape}")
    diff = np.abs(native - exported)
    worst = float(diff.max()) if diff.size else 0.0
    if not worst <= PARITY_TOLERANCE:
        row = int(np.unravel_index(np.argmax(diff), diff.shape)[0])
        raise ParityError(
            f"ONNX export differs from the native model by {worst:.3g} (> {PARITY_TOLERANCE}) at held-out "
            f"row {row}: native {native[row].tolist()} vs ONNX {exported[row].tolist()}; the model was not "
            "written"
        )
    return {"rows": len(x), "max_abs_diff": worst, "tolerance": PARITY_TOLERANCE}


def _versions() -> dict[str, str]:
    out = {"ferrotrade": __version__}
    for package in (
        "lightgbm",
        "scikit-learn",
        "skl2onnx",
        "onnxmltools",
        "onnx",
        "onnxruntime",
        "numpy",
        "polars",
    ):
        try:
            out[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            continue
    return out


def _finite(value: Any) -> Any:
    """``value`` with every NaN or infinity replaced by ``None`` (JSON has neither; a metric undefined on a
    fold, such as ROC AUC with one class, is recorded as null)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    return value


def write_card(path: Path, onnx_bytes: bytes, card: dict[str, Any]) -> Path:
    """Write ``path`` (the ONNX model) and its card ``<stem>.card.json`` beside it.

    Parameters
    ----------
    path : Path
        The ``.onnx`` file to write.
    onnx_bytes : bytes
        The model.
    card : dict
        The card's content (name, task, classes, features, training, label, metrics, parity...); the file
        name and hash, input and output names, opsets, library versions and creation time are added here.

    Returns
    -------
    Path
        The card's path.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(onnx_bytes)
    classifier = card["task"] == "classification"
    full = {
        "card_version": 1,
        **card,
        "model_file": path.name,
        "model_sha256": hashlib.sha256(onnx_bytes).hexdigest(),
        "input": {"name": INPUT_NAME, "dtype": "float32", "shape": [None, len(card["features"]["names"])]},
        "outputs": {"probabilities": "probabilities", "label": "label"}
        if classifier
        else {"value": "variable"},
        "opset": TARGET_OPSET,
        "libraries": _versions(),
    }
    card_path = path.with_name(f"{path.stem}.card.json")
    card_path.write_text(json.dumps(_finite(full), indent=2, allow_nan=False) + "\n")
    return card_path
