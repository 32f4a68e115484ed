"""Datasets: features from the catalog (through the Rust feature library) joined with labels.

:func:`build_dataset` computes the configured features over the catalog, labels each sample, and keeps the
rows a model can learn from: every feature defined (warm-up rows dropped) and a label (rows whose horizon
runs past the data dropped). Both counts are reported, never silently applied. Features become ``float32``
here because that is what the exported model and the Rust engine feed it, so the model is trained, checked
and served on the same numbers.

The dataset's hash (SHA-256 over the sample times, the feature matrix and the labels) goes into the model
card: the same catalog range and configuration always give the same hash.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl

from ferrotrade.exceptions import ConfigError
from ferrotrade.features import compute
from ferrotrade.ml.config import LabelConfig, TrainConfig
from ferrotrade.research.labels import direction, forward_return, triple_barrier

__all__ = ["Dataset", "build_dataset", "label_frame"]


@dataclass(frozen=True)
class Dataset:
    """A labelled feature matrix in time order."""

    features: list[str]
    x: npt.NDArray[np.float32]
    y: npt.NDArray[np.float64]
    ts: npt.NDArray[np.int64]
    label_end: npt.NDArray[np.int64]
    price: npt.NDArray[np.float64]
    samples: int
    warmup_dropped: int
    unlabeled_dropped: int

    @property
    def rows(self) -> int:
        """Number of usable rows."""
        return len(self.y)

    def sha256(self) -> str:
        """SHA-256 of the sample times, the float32 features and the labels."""
        digest = hashlib.sha256()
        for array in (self.ts.astype("<i8"), self.x.astype("<f4"), self.y.astype("<f8")):
            digest.update(np.ascontiguousarray(array).tobytes())
        return digest.hexdigest()

    def classes(self) -> list[float]:
        """The label values present, sorted (classification)."""
        return [float(value) for value in np.unique(self.y)]


def label_frame(frame: pl.DataFrame, label: LabelConfig) -> pl.DataFrame:
    """Add ``label`` and ``label_end`` to a feature frame as ``label`` configures."""
    if label.kind == "forward_return":
        return forward_return(frame, label.horizon)
    if label.kind == "direction":
        return direction(frame, label.horizon, label.threshold_bps)
    return triple_barrier(
        frame,
        label.horizon,
        upper_bps=label.upper_bps,
        lower_bps=label.lower_bps,
        volatility=label.volatility,
        multiplier=label.multiplier,
        vertical=label.vertical,
    )


def build_dataset(config: TrainConfig, *, progress: bool = True) -> Dataset:
    """Compute, label and clean the dataset of a training configuration.

    Parameters
    ----------
    config : TrainConfig
        The configuration (``[data]``, ``[features]``, ``[label]``).
    progress : bool
        Show a progress bar while the catalog is read.

    Returns
    -------
    Dataset

    Raises
    ------
    ConfigError
        Bad features or catalog, a volatility column that is not a feature, or too few usable rows.
    """
    if config.label.volatility is not None and config.label.volatility not in config.features:
        raise ConfigError(f"label.volatility: {config.label.volatility!r} must be one of the features")
    frame = compute(
        config.catalog,
        config.instrument,
        config.features,
        clock=config.clock,
        start=config.start,
        end=config.end,
        progress=progress,
    )
    samples = frame.height
    labelled = label_frame(frame, config.label)
    defined = pl.all_horizontal([pl.col(name).is_finite() for name in config.features])
    warm = labelled.filter(defined)
    usable = warm.filter(pl.col("label").is_not_null())
    if usable.height < 50:
        raise ConfigError(
            f"only {usable.height} usable rows of {samples} samples ({samples - warm.height} warming up, "
            f"{warm.height - usable.height} without a label): widen [data] start/end"
        )
    ts = usable["ts"].dt.epoch("ns").to_numpy().astype(np.int64)
    label_end = usable["label_end"].dt.epoch("ns").to_numpy().astype(np.int64)
    return Dataset(
        features=list(config.features),
        x=usable.select(config.features).to_numpy().astype(np.float32),
        y=usable["label"].cast(pl.Float64).to_numpy(),
        ts=ts,
        label_end=label_end,
        price=usable["price"].to_numpy(),
        samples=samples,
        warmup_dropped=samples - warm.height,
        unlabeled_dropped=warm.height - usable.height,
    )
