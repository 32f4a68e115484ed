"""`ft.ml.train` end to end on the bundled real data: the example model of models/ is reproduced (a drift
check), its ONNX export agrees with the native model and with the Rust engine's inference on held-out rows,
the card says what the engine checks, a broken export fails loudly, and a regression on tick data trains
too."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import ferrotrade as ft
from ferrotrade import _core
from ferrotrade.exceptions import ConfigError, ModelMismatchError
from ferrotrade.ml.export import ParityError, check_parity, native_outputs, onnx_outputs, to_onnx

ROOT = Path(__file__).parents[2]
EXAMPLE = ROOT / "examples" / "ml_train_bars.toml"
MODEL = ROOT / "models" / "btcusdt_1h_gbm.onnx"
CARD = json.loads((ROOT / "models" / "btcusdt_1h_gbm.card.json").read_text())
CATALOG = ROOT / "tests" / "data" / "catalog"


def _example(tmp_path: Path) -> dict[str, Any]:
    config = tomllib.loads(EXAMPLE.read_text())
    config["data"]["catalog"] = str(CATALOG)
    config["export"]["path"] = str(tmp_path / "btcusdt_1h_gbm.onnx")
    return config


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> ft.ml.TrainReport:
    return ft.ml.train(_example(tmp_path_factory.mktemp("model")), progress=False)


def test_the_example_model_is_reproduced(report: ft.ml.TrainReport) -> None:
    assert report.card_path is not None
    card = json.loads(report.card_path.read_text())
    # Same data, same features, same label: the training data hash is exact.
    assert card["training"]["data_sha256"] == CARD["training"]["data_sha256"]
    assert card["features"] == CARD["features"]
    assert card["label"] == CARD["label"]
    # The retrained model predicts what the committed one does (bytes may differ across library versions).
    rows = np.asarray(CARD["parity"]["sample"]["features"], dtype=np.float32)
    assert report.model_path is not None
    fresh = onnx_outputs(report.model_path.read_bytes(), rows, classifier=True)
    committed = onnx_outputs(MODEL.read_bytes(), rows, classifier=True)
    np.testing.assert_allclose(fresh, committed, atol=1e-6)


def test_the_card_documents_the_model(report: ft.ml.TrainReport) -> None:
    assert report.card_path is not None
    card = json.loads(report.card_path.read_text())
    assert card["features"]["names"] == tomllib.loads(EXAMPLE.read_text())["features"]["features"]
    assert card["features"]["code_version"] == ft.features.FEATURE_CODE_VERSION
    assert card["features"]["clock"] == "bars"
    assert card["task"] == "classification"
    assert card["classes"] == [0.0, 1.0]
    assert card["model_kind"] == "lightgbm.LGBMClassifier"
    assert card["model_config"]["params"]["n_estimators"] == 100
    assert card["label"] == {"kind": "direction", "horizon": 4, "threshold_bps": 0.0}
    training = card["training"]
    assert training["rows"] == training["train_rows"] + training["purged_rows"] + training["holdout_rows"]
    assert training["samples"] == 1416
    assert training["warmup_dropped"] > 0
    assert training["unlabeled_dropped"] == 4
    assert training["first_sample"].startswith("2023-01")
    assert training["last_sample"].startswith("2023-02")
    assert set(card["libraries"]) >= {"lightgbm", "scikit-learn", "skl2onnx", "onnxruntime", "ferrotrade"}
    assert card["opset"] == {"": 15, "ai.onnx.ml": 3}
    assert card["parity"]["max_abs_diff"] <= 1e-5
    assert 0 < card["metrics"]["holdout"]["roc_auc"] < 1
    assert set(card["metrics"]["other_models_holdout"]) == {"sklearn_gbm", "linear"}
    assert card["cv"]["purged_kfold"]["embargo"] == 24
    assert len(report.cv["gbm"]) == 5
    assert len(report.walk_forward["linear"]) == 4


def test_native_onnxruntime_and_rust_agree_on_held_out_rows(report: ft.ml.TrainReport) -> None:
    dataset = report.dataset
    holdout = dataset.x[dataset.rows - report.holdout_rows :]
    assert report.model_path is not None
    onnx = onnx_outputs(report.model_path.read_bytes(), holdout, classifier=True)
    rust = _core.OnnxModel(str(report.model_path), dataset.features, json.dumps("bars"))
    signals, outputs = rust.predict(holdout.astype(np.float64).tolist())
    np.testing.assert_allclose(np.asarray(outputs), onnx, atol=1e-6)
    np.testing.assert_allclose(signals, onnx[:, 1], atol=1e-6)
    assert report.parity["rows"] == len(holdout)
    assert report.parity["max_abs_diff"] <= 1e-5


def test_a_mismatching_card_is_refused(report: ft.ml.TrainReport) -> None:
    names = list(report.dataset.features)
    with pytest.raises(ModelMismatchError, match="feature names"):
        _core.OnnxModel(str(MODEL), [names[1], names[0], *names[2:]], json.dumps("bars"))
    with pytest.raises(ModelMismatchError, match="clock"):
        _core.OnnxModel(str(MODEL), names, json.dumps({"interval_ms": 1000}))
    assert issubclass(ModelMismatchError, ConfigError)


def test_an_export_that_disagrees_fails_loudly(report: ft.ml.TrainReport) -> None:
    from sklearn.linear_model import LogisticRegression  # noqa: PLC0415 - the optional ML extra

    x, y = report.dataset.x, report.dataset.y.astype(int)
    first = LogisticRegression(max_iter=500).fit(x[:300], y[:300])
    second = LogisticRegression(max_iter=500).fit(x[300:600], y[300:600])
    assert np.abs(native_outputs(first, x[:50]) - native_outputs(second, x[:50])).max() > 1e-5
    with pytest.raises(ParityError, match="differs from the native model"):
        check_parity(first, to_onnx(second, x.shape[1]), x[:50])


def test_a_regression_and_a_triple_barrier_on_tick_data(tmp_path: Path) -> None:
    features = ["return_5", "ema_20", "rsi_14", "book_imbalance_5", "microprice_bps", "trade_imbalance_20"]
    base: dict[str, Any] = {
        "data": {"catalog": str(CATALOG), "instrument": "binance-usdm.BTCUSDT"},
        "features": {"clock": {"interval_ms": 1000}, "features": features},
        "cv": {"folds": 3},
        "walk_forward": {"folds": 2},
        "holdout": {"fraction": 0.25},
    }
    regression = {
        **base,
        "label": {"kind": "forward_return", "horizon": 10},
        "model": [
            {"name": "gbm", "kind": "lightgbm", "params": {"n_estimators": 20, "min_child_samples": 10}},
            {"name": "ridge", "kind": "ridge"},
        ],
        "export": {"model": "ridge", "path": str(tmp_path / "ret.onnx")},
    }
    report = ft.ml.train(regression, progress=False)
    assert set(report.holdout["gbm"]) >= {"rmse", "ic", "r2"}
    card = json.loads((tmp_path / "ret.card.json").read_text())
    assert card["task"] == "regression"
    assert card["outputs"] == {"value": "variable"}
    rust = _core.OnnxModel(str(tmp_path / "ret.onnx"), features, json.dumps({"interval_ms": 1000}))
    holdout = report.dataset.x[-report.holdout_rows :]
    signals, _ = rust.predict(holdout.astype(np.float64).tolist())
    np.testing.assert_allclose(
        signals, onnx_outputs((tmp_path / "ret.onnx").read_bytes(), holdout, False)[:, 0], atol=1e-6
    )
    barrier = {
        **base,
        "label": {"kind": "triple_barrier", "horizon": 20, "upper_bps": 2, "lower_bps": 2},
        "model": [{"name": "gbm", "kind": "sklearn_gbm", "params": {"n_estimators": 20}}],
        "export": {"path": str(tmp_path / "tb.onnx")},
    }
    report = ft.ml.train(barrier, progress=False)
    card = json.loads((tmp_path / "tb.card.json").read_text())
    assert card["classes"] == sorted(set(card["classes"]))
    assert set(card["classes"]) <= {-1.0, 0.0, 1.0}
    assert report.parity["max_abs_diff"] <= 1e-5
    # Strict JSON (a metric undefined on a one-class fold is null, not NaN): the engine reads the card.
    json.loads((tmp_path / "tb.card.json").read_text(), parse_constant=pytest.fail)
    _core.OnnxModel(str(tmp_path / "tb.onnx"), features, json.dumps({"interval_ms": 1000}))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c: c["label"].update(kind="magic"), "label.kind"),
        (lambda c: c["model"][0].update(kind="xgboost"), r"model\[0\].kind"),
        (lambda c: c["export"].update(model="nope"), "export.model"),
        (lambda c: c["data"].update(colour="blue"), "data.colour: unknown key"),
        (lambda c: c["features"].update(features=["rsx_1"]), "unknown feature"),
    ],
)
def test_bad_configurations_name_the_key(tmp_path: Path, change: Any, message: str) -> None:
    config = _example(tmp_path)
    change(config)
    with pytest.raises(ConfigError, match=message):
        ft.ml.train(config, progress=False)
