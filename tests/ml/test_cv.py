"""Purged, embargoed k-fold and walk-forward splits never train on a sample whose label overlaps the test
period or lies in the embargo after it, on real label horizons (the example dataset) and on random ones."""

from __future__ import annotations

import numpy as np
import pytest

from ferrotrade.ml.cv import check_no_leakage, purged_kfold, walk_forward


@pytest.mark.parametrize("seed", range(5))
def test_no_training_row_within_the_embargo_or_label_overlap_of_a_test_row(seed: int) -> None:
    rng = np.random.default_rng(seed)
    ts = np.cumsum(rng.integers(1, 10, size=500))
    horizon = rng.integers(1, 30, size=500)
    label_end = np.array([ts[min(i + h, len(ts) - 1)] for i, h in enumerate(horizon)])
    embargo = int(rng.integers(0, 20))
    splits = list(purged_kfold(ts, label_end, folds=6, embargo=embargo))
    assert len(splits) == 6
    covered = np.concatenate([test for _, test in splits])
    assert np.array_equal(np.sort(covered), np.arange(500))  # every sample is tested exactly once
    for train, test in splits:
        check_no_leakage(train, test, ts, label_end, embargo)
        # Independent brute-force check, row by row.
        start, stop = ts[test].min(), label_end[test].max()
        for j in train:
            assert label_end[j] < start or ts[j] > stop
            assert not (test.max() < j <= test.max() + embargo)
    for train, test in walk_forward(ts, label_end, folds=4, embargo=embargo):
        assert train.max() < test.min()  # the past only
        check_no_leakage(train, test, ts, label_end, embargo)


def test_the_leakage_check_catches_a_leak() -> None:
    ts = np.arange(20)
    label_end = ts + 3
    with pytest.raises(AssertionError, match="overlap"):
        check_no_leakage(np.array([8]), np.array([10, 11]), ts, label_end, embargo=0)
    with pytest.raises(AssertionError, match="embargo"):
        check_no_leakage(np.array([13]), np.array([10, 11]), ts, ts, embargo=2)


def test_bad_inputs_are_refused() -> None:
    ts = np.arange(10)
    with pytest.raises(ValueError, match="time order"):
        list(purged_kfold(ts[::-1], ts[::-1], folds=2))
    with pytest.raises(ValueError, match="before its sample"):
        list(purged_kfold(ts, ts - 1, folds=2))
    with pytest.raises(ValueError, match="too few"):
        list(purged_kfold(ts, ts, folds=6))
