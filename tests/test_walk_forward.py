"""Walk-forward optimization: window arithmetic, and runs on the bundled real hourly klines whose trials and
test runs must only ever read their own window's data."""

from __future__ import annotations

import random
import tomllib
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from typer.testing import CliRunner

import ferrotrade as ft
from ferrotrade.backtest.walkforward import make_windows
from ferrotrade.cli import app
from ferrotrade.exceptions import ConfigError

CATALOG = Path(__file__).parent / "data" / "catalog"
EXAMPLE = Path(__file__).parent.parent / "examples" / "walk_forward_trend.toml"
DAY = 86_400 * 10**9


def config(tmp_path: Path, **walk_forward: Any) -> dict[str, Any]:
    """``examples/walk_forward_trend.toml`` on the test catalog: 4 trials per 14-day window, 7-day tests."""
    with EXAMPLE.open("rb") as file:
        out = tomllib.load(file)
    out["backtest"]["catalog"] = str(CATALOG)
    out["optimize"].update(
        storage=str(tmp_path / "wf.log"),
        objective="pnl",
        constraints=[],
        trials=4,
        seed=5,
        walk_forward={"train": "14d", "test": "7d", **walk_forward},
    )
    return out


@pytest.mark.parametrize("anchored", [False, True])
def test_windows_never_overlap_test_data_with_training_data(anchored: bool) -> None:
    rng = random.Random(7)
    for _ in range(500):
        start = rng.randrange(0, 10**18)
        train, test = rng.randrange(1, 50 * DAY), rng.randrange(1, 20 * DAY)
        step = rng.choice([None, rng.randrange(test, 3 * test + 1)])
        gap = rng.choice([0, rng.randrange(0, DAY)])
        end = start + train + gap + test + rng.randrange(0, 200 * DAY)
        windows = make_windows(start, end, train=train, test=test, step=step, gap=gap, anchored=anchored)
        previous_test_end = None
        for window in windows:
            assert (
                start <= window.train_start < window.train_end <= window.test_start < window.test_end <= end
            )
            assert window.test_start - window.train_end == gap
            assert window.test_end - window.test_start == test
            if anchored:
                assert window.train_start == start
            else:
                assert window.train_end - window.train_start == train
            if previous_test_end is not None:
                assert window.test_start >= previous_test_end, (
                    "test windows do not overlap while step >= test"
                )
            previous_test_end = window.test_end
        # No room is left for one more whole test window.
        assert windows[-1].test_end + (step or test) > end


def test_a_range_too_short_for_one_window_is_refused() -> None:
    with pytest.raises(ValueError, match="does not fit"):
        make_windows(0, 10 * DAY, train=8 * DAY, test=3 * DAY)


def test_walk_forward_trials_and_test_runs_read_only_their_own_window(tmp_path: Path) -> None:
    result = ft.backtest.walk_forward(config(tmp_path))
    windows = result.windows
    assert windows.height == 6  # two months of hourly klines: 14 + 7 days, advancing 7 days
    bounds = windows.select(pl.col("train_start", "train_end", "test_start", "test_end").dt.epoch("ns"))
    rows = zip(windows.iter_rows(named=True), bounds.iter_rows(), result.studies, result.tests, strict=True)
    for row, (train_start, train_end, test_start, test_end), study, test in rows:
        assert train_end <= test_start
        trials = study.trials.filter(pl.col("state") == "complete")
        assert trials.height == 4
        starts = [t.user_attrs["data_start"] for t in _frozen(study)]
        ends = [t.user_attrs["data_end"] for t in _frozen(study)]
        assert min(starts) >= train_start
        assert max(ends) < train_end, "no trial saw a row of its test window"
        assert test is not None
        assert test.stats["first_ts"] >= test_start
        assert test.stats["last_ts"] < test_end
        assert row["in_sample"] == study.best_value
        assert row["out_of_sample_pnl"] == test.metrics.total_pnl


def _frozen(study: ft.backtest.OptimizationResult) -> list[Any]:
    import optuna  # noqa: PLC0415

    from ferrotrade.backtest.storage import open_storage  # noqa: PLC0415

    storage = open_storage(study.plan.storage, study.plan.base_dir, study.plan.source)
    return optuna.load_study(study_name=study.plan.study, storage=storage).get_trials(
        states=(optuna.trial.TrialState.COMPLETE,)
    )


def test_the_stitched_out_of_sample_curve_adds_each_window_pnl(tmp_path: Path) -> None:
    result = ft.backtest.walk_forward(config(tmp_path, anchored=True))
    assert result.windows["train_start"].n_unique() == 1, "anchored: every window trains from the start"
    equity = result.equity
    assert equity["ts"].is_sorted()
    total = sum(test.metrics.total_pnl for test in result.tests if test is not None)
    assert equity["equity"][-1] == pytest.approx(100_000 + total)
    assert result.metrics is not None
    assert result.metrics.total_pnl == pytest.approx(total)
    # The account identity holds on the stitched curve too.
    identity = (
        equity["realized_pnl"] + equity["unrealized_pnl"] - equity["fees"] + equity["funding"] + 100_000
    )
    assert (identity - equity["equity"]).abs().max() < 1e-6
    path = result.write_report(tmp_path / "wf.html", bootstrap_paths=100)
    text = path.read_text()
    for section in ("Walk-forward", "In-sample vs out-of-sample", "Out-of-sample metrics", "Value at risk"):
        assert f"<h2>{section}</h2>" in text


@pytest.mark.parametrize(
    ("walk_forward", "message"),
    [
        ({"train": None}, "train and test are required"),
        ({"test": "1mo"}, "walk_forward.test: '1mo' is not a duration"),
        ({"train": "60d"}, "does not fit the data"),
        ({"anchored": "yes"}, "anchored: expected true or false"),
        ({"stride": "1d"}, "walk_forward.stride: unknown key"),
    ],
)
def test_bad_walk_forward_settings_fail_before_any_trial(
    tmp_path: Path, walk_forward: dict[str, Any], message: str
) -> None:
    cfg = config(tmp_path)
    cfg["optimize"]["walk_forward"].update(walk_forward)
    cfg["optimize"]["walk_forward"] = {
        k: v for k, v in cfg["optimize"]["walk_forward"].items() if v is not None
    }
    with pytest.raises(ConfigError, match=message):
        ft.backtest.walk_forward(cfg)
    assert not (tmp_path / "wf.log").exists()


def test_walk_forward_needs_one_objective(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="walk-forward needs one objective"):
        ft.backtest.walk_forward(config(tmp_path), objective=["pnl", "max_drawdown"])


def test_cli_walk_forward_prints_the_windows(tmp_path: Path) -> None:
    path = Path(__file__).parent.parent / "examples" / "walk_forward_trend.toml"
    result = CliRunner().invoke(
        app,
        [
            "walk-forward",
            str(path),
            "--catalog",
            str(CATALOG),
            "--trials",
            "3",
            "--storage",
            str(tmp_path / "cli.log"),
            "--report",
            str(tmp_path / "wf.html"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "walk-forward walk_forward_trend: sharpe" in result.stdout
    assert "stitched out-of-sample" in result.stdout
    assert (tmp_path / "wf.html").exists()
