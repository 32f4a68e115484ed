"""The training configuration: the TOML file of ``ferrotrade ml train CONFIG.toml``.

.. code-block:: toml

    [data]
    catalog = "catalog"                 # relative paths are relative to this file
    instrument = "binance-spot.BTCUSDT"
    start = "2023-01-01"                # optional, UTC; end is exclusive
    end = "2023-06-01"

    [features]                          # exactly what the model_signal strategy will compute
    clock = "bars"                      # "book" or { interval_ms = 1000 }
    features = ["return_1", "rsi_14", "macd_12_26_9"]

    [label]
    kind = "direction"                  # forward_return | direction | triple_barrier
    horizon = 4                         # samples ahead
    threshold_bps = 0                   # direction: 0 = up / not up; > 0 = three classes
    # triple_barrier: upper_bps, lower_bps (or volatility = "realized_vol_24", multiplier), vertical

    [cv]
    folds = 5                           # purged k-fold on the training part
    embargo = 4                         # samples; default: the label horizon

    [walk_forward]
    folds = 4                           # expanding windows on the training part; 0 to skip

    [holdout]
    fraction = 0.2                      # the last 20 % of samples: never trained on, the out-of-sample test

    [[model]]
    name = "gbm"
    kind = "lightgbm"                   # lightgbm | sklearn_gbm | logistic | ridge
    params = { n_estimators = 100, num_leaves = 15, learning_rate = 0.05 }

    [export]
    model = "gbm"                       # which [[model]] to export
    path = "models/btcusdt_1h_gbm.onnx" # its card is written beside it: btcusdt_1h_gbm.card.json
    name = "btcusdt_1h_gbm"             # optional, default: the file stem

Every key is checked: an unknown one, a wrong type or an impossible value is a :class:`ConfigError` that
names it (``model[0].kind``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ferrotrade.config_file import read_config
from ferrotrade.exceptions import ConfigError
from ferrotrade.features import clock_value

__all__ = ["LabelConfig", "ModelConfig", "TrainConfig", "load_train_config"]

MODEL_KINDS = ("lightgbm", "sklearn_gbm", "logistic", "ridge")
LABEL_KINDS = ("forward_return", "direction", "triple_barrier")


@dataclass(frozen=True)
class LabelConfig:
    """``[label]``: what the model learns to predict."""

    kind: str
    horizon: int
    threshold_bps: float = 0.0
    upper_bps: float | None = None
    lower_bps: float | None = None
    volatility: str | None = None
    multiplier: float = 1.0
    vertical: str = "zero"

    @property
    def is_classification(self) -> bool:
        """Whether the label is a class (direction, triple barrier) rather than a return."""
        return self.kind != "forward_return"

    def as_dict(self) -> dict[str, Any]:
        """The definition, for the model card."""
        out: dict[str, Any] = {"kind": self.kind, "horizon": self.horizon}
        if self.kind == "direction":
            out["threshold_bps"] = self.threshold_bps
        if self.kind == "triple_barrier":
            out.update(
                upper_bps=self.upper_bps,
                lower_bps=self.lower_bps,
                volatility=self.volatility,
                multiplier=self.multiplier,
                vertical=self.vertical,
            )
        return out


@dataclass(frozen=True)
class ModelConfig:
    """One ``[[model]]``."""

    name: str
    kind: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TrainConfig:
    """A whole training configuration; see the module docs."""

    source: str
    catalog: Path
    instrument: str
    start: str | None
    end: str | None
    clock: str | dict[str, int]
    features: list[str]
    label: LabelConfig
    cv_folds: int
    embargo: int
    walk_forward_folds: int
    holdout_fraction: float
    models: list[ModelConfig]
    export_model: str
    export_path: Path
    export_name: str
    seed: int = 7


def _table(data: dict[str, Any], key: str, required: bool = True) -> dict[str, Any]:
    value = data.pop(key, None)
    if value is None:
        if required:
            raise ConfigError(f"{key}: missing table [{key}]")
        return {}
    if not isinstance(value, dict):
        raise ConfigError(f"{key}: expected a table")
    return value


def _take(
    table: dict[str, Any], path: str, key: str, kind: type | tuple[type, ...], default: Any = ...
) -> Any:
    if key not in table:
        if default is ...:
            raise ConfigError(f"{path}.{key}: missing")
        return default
    value = table.pop(key)
    if isinstance(value, bool) and kind in (int, float, (int, float)):
        raise ConfigError(f"{path}.{key}: expected a number, found {value!r}")
    if not isinstance(value, kind):
        raise ConfigError(f"{path}.{key}: expected {getattr(kind, '__name__', kind)}, found {value!r}")
    return value


def _no_more(table: dict[str, Any], path: str) -> None:
    if table:
        key = next(iter(table))
        raise ConfigError(f"{path}.{key}: unknown key" if path else f"{key}: unknown section")


def _label(table: dict[str, Any]) -> LabelConfig:
    kind = _take(table, "label", "kind", str)
    if kind not in LABEL_KINDS:
        raise ConfigError(f"label.kind: {kind!r} is not one of {', '.join(LABEL_KINDS)}")
    horizon = _take(table, "label", "horizon", int)
    if horizon < 1:
        raise ConfigError("label.horizon: must be at least 1 sample")
    number = (int, float)
    label = LabelConfig(
        kind=kind,
        horizon=horizon,
        threshold_bps=float(_take(table, "label", "threshold_bps", number, 0.0)),
        upper_bps=_take(table, "label", "upper_bps", number, None),
        lower_bps=_take(table, "label", "lower_bps", number, None),
        volatility=_take(table, "label", "volatility", str, None),
        multiplier=float(_take(table, "label", "multiplier", number, 1.0)),
        vertical=_take(table, "label", "vertical", str, "zero"),
    )
    _no_more(table, "label")
    if (
        kind == "triple_barrier"
        and label.volatility is None
        and (label.upper_bps is None or label.lower_bps is None)
    ):
        raise ConfigError("label.upper_bps: triple_barrier needs upper_bps and lower_bps, or volatility")
    if label.threshold_bps < 0:
        raise ConfigError("label.threshold_bps: must not be negative")
    return label


def load_train_config(config: str | Path | Mapping[str, Any]) -> TrainConfig:
    """Read and check a training configuration.

    Parameters
    ----------
    config : str, Path or Mapping
        A TOML file, or the configuration as a dict (paths relative to the working directory).

    Returns
    -------
    TrainConfig

    Raises
    ------
    ConfigError
        Naming the file and the key at fault.
    """
    data, base_dir, source = read_config(config)
    try:
        return _parse(data, base_dir, source)
    except ConfigError as error:
        raise ConfigError(f"{source}: {error}") from None


def _parse(data: dict[str, Any], base_dir: Path, source: str) -> TrainConfig:
    section = _table(data, "data")
    catalog = Path(os.path.normpath(base_dir / _take(section, "data", "catalog", str)))
    instrument = _take(section, "data", "instrument", str)
    start = _take(section, "data", "start", str, None)
    end = _take(section, "data", "end", str, None)
    seed = _take(section, "data", "seed", int, 7)
    _no_more(section, "data")

    section = _table(data, "features")
    raw_clock = section.pop("clock", "bars")
    try:
        clock = clock_value(raw_clock)
    except (TypeError, ValueError, AttributeError):
        raise ConfigError(
            f"features.clock: {raw_clock!r} is not 'bars', 'book' or {{ interval_ms = N }}"
        ) from None
    features = _take(section, "features", "features", list)
    if not features or not all(isinstance(name, str) for name in features):
        raise ConfigError("features.features: expected a non-empty list of feature names")
    _no_more(section, "features")

    label = _label(_table(data, "label"))

    section = _table(data, "cv", required=False)
    folds = _take(section, "cv", "folds", int, 5)
    embargo = _take(section, "cv", "embargo", int, label.horizon)
    _no_more(section, "cv")
    if folds < 2:
        raise ConfigError("cv.folds: must be at least 2")
    if embargo < 0:
        raise ConfigError("cv.embargo: must not be negative")
    section = _table(data, "walk_forward", required=False)
    walk_forward = _take(section, "walk_forward", "folds", int, 4)
    _no_more(section, "walk_forward")
    if walk_forward < 0 or walk_forward == 1:
        raise ConfigError("walk_forward.folds: 0 (skip) or at least 2")
    section = _table(data, "holdout", required=False)
    fraction = float(_take(section, "holdout", "fraction", (int, float), 0.2))
    _no_more(section, "holdout")
    if not 0.05 <= fraction <= 0.5:
        raise ConfigError("holdout.fraction: must be between 0.05 and 0.5")

    raw_models = data.pop("model", None)
    if not isinstance(raw_models, list) or not raw_models:
        raise ConfigError("model: add at least one [[model]] table")
    models: list[ModelConfig] = []
    for index, raw in enumerate(raw_models):
        path = f"model[{index}]"
        if not isinstance(raw, dict):
            raise ConfigError(f"{path}: expected a table")
        table = dict(raw)
        kind = _take(table, path, "kind", str)
        if kind not in MODEL_KINDS:
            raise ConfigError(f"{path}.kind: {kind!r} is not one of {', '.join(MODEL_KINDS)}")
        if kind == "ridge" and label.is_classification:
            raise ConfigError(f"{path}.kind: ridge is a regressor; label {label.kind!r} is a classification")
        if kind == "logistic" and not label.is_classification:
            raise ConfigError(f"{path}.kind: logistic is a classifier; label forward_return is a regression")
        name = _take(table, path, "name", str, kind)
        params = _take(table, path, "params", dict, {})
        _no_more(table, path)
        if any(model.name == name for model in models):
            raise ConfigError(f"{path}.name: {name!r} is used twice")
        models.append(ModelConfig(name=name, kind=kind, params=dict(params)))

    section = _table(data, "export")
    export_model = _take(section, "export", "model", str, models[0].name)
    if export_model not in {model.name for model in models}:
        raise ConfigError(f"export.model: {export_model!r} is not the name of a [[model]]")
    export_path = Path(os.path.normpath(base_dir / _take(section, "export", "path", str)))
    if export_path.suffix != ".onnx":
        raise ConfigError("export.path: must end in .onnx")
    export_name = _take(section, "export", "name", str, export_path.stem)
    _no_more(section, "export")
    _no_more(data, "")
    return TrainConfig(
        source=source,
        catalog=catalog,
        instrument=instrument,
        start=start,
        end=end,
        clock=clock,
        features=list(features),
        label=label,
        cv_folds=folds,
        embargo=embargo,
        walk_forward_folds=walk_forward,
        holdout_fraction=fraction,
        models=models,
        export_model=export_model,
        export_path=export_path,
        export_name=export_name,
        seed=seed,
    )
