"""The model-signal strategy in the live engine: a model trained here on the test catalog's book features
(six minutes of the real Binance USD-M BTCUSDT capture) is exported to ONNX, loaded by the engine with its
card, and trades in replay mode (signed orders to the local venue replaying the same capture) and in paper
mode, with the same ``[[strategy]]`` table a backtest takes."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import ferrotrade as ft
from ferrotrade.exceptions import ModelMismatchError

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "live_replay_mm.toml"
CAPTURE = ROOT / "tests" / "data" / "sessions" / "binance-usdm" / "btcusdt_20240808.gz"
CATALOG = ROOT / "tests" / "data" / "catalog"
BTC = "binance-usdm.BTCUSDT"
# Book features only: defined from the first synced book, so a short live run has samples at once.
FEATURES = ["book_imbalance_5", "microprice_bps", "spread_bps"]


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("model")
    ft.ml.train(
        {
            "data": {"catalog": str(CATALOG), "instrument": BTC},
            "features": {"clock": "book", "features": FEATURES},
            "label": {"kind": "forward_return", "horizon": 50},
            "cv": {"folds": 3},
            "walk_forward": {"folds": 2},
            "holdout": {"fraction": 0.25},
            "model": [{"name": "ridge", "kind": "ridge"}],
            "export": {"model": "ridge", "path": str(folder / "book_ridge.onnx")},
        },
        progress=False,
    )
    return folder / "book_ridge.onnx"


def config(run_dir: Path, model: Path, **strategy: Any) -> dict[str, Any]:
    data = tomllib.loads(EXAMPLE.read_text())
    data["live"]["run_dir"] = str(run_dir)
    data["replay"]["paths"] = [str(CAPTURE)]
    data["strategy"] = [
        {
            "kind": "model_signal",
            "name": "model",
            "instrument": BTC,
            "model": str(model),
            "clock": "book",
            "features": FEATURES,
            # Any prediction of the forward return is above -1: the first sample makes the target long.
            "long_entry": -1.0,
            "order_size": 0.002,
            **strategy,
        }
    ]
    return data


@pytest.mark.parametrize("mode", ["replay", "paper"])
def test_the_exported_model_trades_in_the_live_engine(
    tmp_path: Path, model: Path, mode: str, read_journal: Callable[[Path], list[dict[str, Any]]]
) -> None:
    card = json.loads(model.with_suffix(".card.json").read_text())
    assert card["features"]["names"] == FEATURES

    report = ft.live.run(config(tmp_path, model), mode=mode, stop_after=3)

    assert report.strategies == ["model"]
    assert report.counters["fills"] >= 1
    position = next(row["quantity"] for row in report.positions if row["instrument"] == BTC)
    assert position * 0.001 == pytest.approx(0.002), "the model's target (long 0.002) is the venue's position"
    orders = [record for record in read_journal(tmp_path) if record["t"] == "order"]
    assert len(orders) == 1, "one market order to the target, then nothing while the target holds"


def test_a_model_whose_card_disagrees_is_refused_before_trading(tmp_path: Path, model: Path) -> None:
    data = config(tmp_path, model, features=[FEATURES[1], FEATURES[0], FEATURES[2]])
    with pytest.raises(ModelMismatchError):
        ft.live.run(data, mode="paper", stop_after=1)
