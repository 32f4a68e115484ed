"""Time-series cross-validation without leakage: purged and embargoed k-fold, and walk-forward.

Financial labels look ahead: the label of the sample at ``t`` is known only at ``label_end[t]``. A plain
k-fold split trains on samples whose labels overlap the test period (leakage through the label) and on
samples right after it whose features still carry its information (leakage through serial correlation).
Following López de Prado (*Advances in Financial Machine Learning*, ch. 7):

- **purging** drops every training sample whose label interval ``[ts, label_end]`` overlaps the test
  period ``[first test ts, last test label_end]``;
- the **embargo** drops the ``embargo`` samples that follow each test fold as well.

:func:`purged_kfold` splits the samples into ``folds`` contiguous test blocks and trains on the rest (past
and future, purged and embargoed). :func:`walk_forward` trains only on the past: expanding windows of the
blocks before each test block, purged of labels that reach into it. Both yield index arrays into the
samples, which must be in time order.

Examples
--------
>>> import numpy as np
>>> ts = np.arange(10)
>>> label_end = ts + 2            # each label looks two samples ahead
>>> train, test = next(purged_kfold(ts, label_end, folds=5, embargo=1))
>>> test.tolist(), train.tolist()     # 2 and 3 start before the test labels end (at 3)
([0, 1], [4, 5, 6, 7, 8, 9])
>>> [(tr.tolist(), te.tolist()) for tr, te in walk_forward(ts, label_end, folds=2)][:1]
[([0, 1], [4, 5, 6])]
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import numpy.typing as npt

__all__ = ["Split", "check_no_leakage", "purged_kfold", "walk_forward"]

Split = tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]


def _validate(
    ts: npt.ArrayLike, label_end: npt.ArrayLike, folds: int, embargo: int
) -> tuple[np.ndarray, np.ndarray]:
    times = np.asarray(ts)
    ends = np.asarray(label_end)
    if times.shape != ends.shape or times.ndim != 1:
        raise ValueError("ts and label_end must be 1-d arrays of one length")
    if folds < 2:
        raise ValueError(f"folds must be at least 2, got {folds}")
    if embargo < 0:
        raise ValueError(f"embargo must not be negative, got {embargo}")
    if len(times) < folds * 2:
        raise ValueError(f"{len(times)} samples are too few for {folds} folds")
    if np.any(np.diff(times) < 0):
        raise ValueError("samples must be in time order")
    if np.any(ends < times):
        raise ValueError("a label cannot end before its sample")
    return times, ends


def _purge(
    candidates: np.ndarray, times: np.ndarray, ends: np.ndarray, test: np.ndarray, embargo: int
) -> np.ndarray:
    """Training candidates minus those overlapping the test period and the embargo after it."""
    start, stop = times[test[0]], ends[test].max()
    overlapping = (times[candidates] <= stop) & (ends[candidates] >= start)
    last = test[-1]
    embargoed = (candidates > last) & (candidates <= last + embargo)
    kept: np.ndarray = candidates[~overlapping & ~embargoed]
    return kept


def purged_kfold(
    ts: npt.ArrayLike, label_end: npt.ArrayLike, folds: int = 5, embargo: int = 0
) -> Iterator[Split]:
    """Purged, embargoed k-fold splits over time-ordered samples.

    Parameters
    ----------
    ts, label_end : array-like
        Each sample's time and its label's end time (same unit).
    folds : int
        Number of contiguous test blocks.
    embargo : int
        Samples after each test block also kept out of training.

    Yields
    ------
    (train, test) : tuple of int64 arrays
        Indices into the samples.
    """
    times, ends = _validate(ts, label_end, folds, embargo)
    indices = np.arange(len(times), dtype=np.int64)
    for test in np.array_split(indices, folds):
        candidates = np.setdiff1d(indices, test, assume_unique=True)
        yield _purge(candidates, times, ends, test, embargo), test


def walk_forward(
    ts: npt.ArrayLike, label_end: npt.ArrayLike, folds: int = 4, embargo: int = 0
) -> Iterator[Split]:
    """Expanding-window walk-forward splits: train on the past only, test on the next block.

    The samples are cut into ``folds + 1`` blocks; split ``k`` tests block ``k`` and trains on blocks
    ``0..k``, purged of samples whose labels reach into the test block (the embargo only matters for
    :func:`purged_kfold`, where training data follows the test block; it is accepted here for symmetry).

    Parameters
    ----------
    ts, label_end : array-like
        Each sample's time and its label's end time.
    folds : int
        Number of test blocks.
    embargo : int
        Accepted for symmetry with :func:`purged_kfold`.

    Yields
    ------
    (train, test) : tuple of int64 arrays
    """
    times, ends = _validate(ts, label_end, folds, embargo)
    blocks = np.array_split(np.arange(len(times), dtype=np.int64), folds + 1)
    for k in range(1, folds + 1):
        test = blocks[k]
        candidates = np.concatenate(blocks[:k])
        train = _purge(candidates, times, ends, test, embargo)
        if len(train):
            yield train, test


def check_no_leakage(
    train: npt.ArrayLike, test: npt.ArrayLike, ts: npt.ArrayLike, label_end: npt.ArrayLike, embargo: int
) -> None:
    """Raise ``AssertionError`` if a training sample's label overlaps the test period or lies in its embargo.

    Parameters
    ----------
    train, test : array-like of int
        A split's indices.
    ts, label_end : array-like
        The samples' times and label end times.
    embargo : int
        Samples after the test block that must not be trained on.
    """
    train_idx, test_idx = np.asarray(train), np.asarray(test)
    times, ends = np.asarray(ts), np.asarray(label_end)
    start, stop = times[test_idx].min(), ends[test_idx].max()
    overlap = train_idx[(times[train_idx] <= stop) & (ends[train_idx] >= start)]
    assert overlap.size == 0, f"training samples {overlap[:5].tolist()} overlap the test period"
    last = test_idx.max()
    embargoed = train_idx[(train_idx > last) & (train_idx <= last + embargo)]
    assert embargoed.size == 0, f"training samples {embargoed[:5].tolist()} lie in the embargo"
    assert np.intersect1d(train_idx, test_idx).size == 0, "a sample is in both train and test"
