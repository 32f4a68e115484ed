"""The example model in the backtest engine: a `model_signal` strategy computes the model's 16 features
from the bars as they close and trades its predictions; the run is deterministic, and a model whose card
does not match the strategy's features is refused before the run starts."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import ferrotrade as ft
from ferrotrade.exceptions import ConfigError, ModelMismatchError

ROOT = Path(__file__).parents[2]
CONFIG = ROOT / "examples" / "backtest_model.toml"


def _config() -> dict[str, Any]:
    config = tomllib.loads(CONFIG.read_text())
    config["backtest"]["catalog"] = str(ROOT / "tests" / "data" / "catalog")
    config["strategy"][0]["model"] = str(ROOT / "models" / "btcusdt_1h_gbm.onnx")
    config.pop("report")
    return config


def test_the_example_model_backtest_is_deterministic() -> None:
    first = ft.backtest.run(CONFIG)
    second = ft.backtest.run(_config())
    assert first.fills.height > 0, "the model never traded"
    assert first.strategies == ["gbm_direction"]
    for table in ("fills", "orders", "equity", "positions"):
        left, right = getattr(first, table), getattr(second, table)
        assert left.equals(right), table
    # It trades both ways over the holdout, in whole order sizes.
    sides = set(first.fills["side"].to_list())
    assert sides == {"buy", "sell"}
    assert all(abs(q / 0.5 - round(q / 0.5)) < 1e-9 for q in first.fills["quantity"].to_list())
    assert first.fills["ts_recv"].min() >= datetime(2023, 2, 13, tzinfo=UTC)  # type: ignore[operator]


def test_a_model_trained_on_other_features_is_refused() -> None:
    config = _config()
    features = config["strategy"][0]["features"]
    config["strategy"][0]["features"] = [features[1], features[0], *features[2:]]
    with pytest.raises(ModelMismatchError, match="feature names"):
        ft.backtest.run(config)
    config = _config()
    config["strategy"][0]["features"] = config["strategy"][0]["features"][:-1]
    with pytest.raises(ModelMismatchError):
        ft.backtest.run(config)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s: s.pop("model"), "model: missing"),
        (
            lambda s: [s.pop(key) for key in ("long_entry", "long_exit", "short_entry", "short_exit")],
            "long_entry",
        ),
        (lambda s: s.update(model="/nonexistent/model.onnx"), "model card"),
        (lambda s: s.update(short_entry=0.6), "short_entry"),
        (lambda s: s.update(features=["rsx_14"]), "unknown feature"),
    ],
)
def test_bad_model_signal_settings_name_the_key(change: Any, message: str) -> None:
    config = _config()
    change(config["strategy"][0])
    with pytest.raises((ConfigError, FileNotFoundError), match=message):
        ft.backtest.run(config)
