"""``ft.ml``: datasets from the core's features, time-series cross-validation, training, ONNX export with
parity checks, model cards, and the model server of the engine's bridge.

The research loop, end to end (``ferrotrade ml train CONFIG.toml`` does steps 1-4 from a TOML file)::

    frame = ft.features.compute(catalog, "binance-spot.BTCUSDT", ["rsi_14", "macd_12_26_9"], clock="bars")
    report = ft.ml.train("examples/ml_train_bars.toml")     # dataset, purged CV, walk-forward, export, card
    result = ft.backtest.run("examples/backtest_model.toml")  # the model in the engine, features streamed

========================  =============================================================================
what                      where
========================  =============================================================================
configuration (TOML)      :func:`load_train_config` (:mod:`ferrotrade.ml.config`)
dataset                   :func:`build_dataset`, :class:`Dataset` (:mod:`ferrotrade.ml.dataset`)
labels                    :mod:`ferrotrade.research.labels`
purged k-fold, walk-fwd   :func:`purged_kfold`, :func:`walk_forward` (:mod:`ferrotrade.ml.cv`)
training and metrics      :func:`train`, :class:`TrainReport` (:mod:`ferrotrade.ml.train`)
ONNX export and card      :func:`to_onnx`, :func:`check_parity`, :class:`ParityError`
                          (:mod:`ferrotrade.ml.export`)
model server              :class:`ModelServer` (:mod:`ferrotrade.ml.serve`)
========================  =============================================================================
"""

from ferrotrade.ml.config import TrainConfig, load_train_config
from ferrotrade.ml.cv import check_no_leakage, purged_kfold, walk_forward
from ferrotrade.ml.dataset import Dataset, build_dataset
from ferrotrade.ml.export import PARITY_TOLERANCE, ParityError, check_parity, to_onnx
from ferrotrade.ml.serve import ModelServer, OnnxPredictor
from ferrotrade.ml.train import TrainReport, train

__all__ = [
    "PARITY_TOLERANCE",
    "Dataset",
    "ModelServer",
    "OnnxPredictor",
    "ParityError",
    "TrainConfig",
    "TrainReport",
    "build_dataset",
    "check_no_leakage",
    "check_parity",
    "load_train_config",
    "purged_kfold",
    "to_onnx",
    "train",
    "walk_forward",
]
