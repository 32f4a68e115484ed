"""Walk-forward optimization: optimize in-sample, evaluate out-of-sample, advance, stitch.

```toml
[optimize.walk_forward]
train = "14d"        # in-sample length (fixed durations: s, m, h, d, w; "1h30m")
test = "7d"          # out-of-sample length
step = "7d"          # how far each window advances (default: test, so test windows tile the data)
gap = "0s"           # time left out between a window's training and test data (an embargo)
anchored = false     # true: every window trains from the start of the data (an expanding window)
```

The data's range is ``[backtest].start`` / ``end`` when set, otherwise the span of the strategies'
instruments in the catalog. Window ``k`` trains on ``[train_start, train_end)`` and tests on
``[train_end + gap, train_end + gap + test)``, half-open intervals of receive time, as the engine reads
``start`` and ``end``: a window's test data never overlaps its training data, and test windows never
overlap each other while ``step >= test``. Only whole test windows are used.

Each window is its own study (``<study>.wf00``, ``<study>.wf01``, ... in the same storage), run with the
``[optimize]`` settings; its best trial's configuration is then run once on the test window. The report
shows in-sample (the best trial's value) against out-of-sample per window, and the out-of-sample equity
curves stitched end to end: each window's PnL is added to where the previous one ended (strategies trade
fixed sizes, so PnL adds up; nothing is compounded).

Examples
--------
>>> day = 86_400 * 10**9
>>> [(w.train_start // day, w.train_end // day, w.test_start // day, w.test_end // day)
...  for w in make_windows(0, 10 * day, train=4 * day, test=2 * day)]
[(0, 4, 4, 6), (2, 6, 6, 8), (4, 8, 8, 10)]
>>> [(w.train_start // day, w.train_end // day) for w in make_windows(0, 10 * day, train=4 * day,
...  test=2 * day, anchored=True)]
[(0, 4), (0, 6), (0, 8)]
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from ferrotrade.backtest.optimize_result import OptimizationResult
from ferrotrade.backtest.result import BacktestResult
from ferrotrade.backtest.run import run
from ferrotrade.backtest.search import ProgressArg, optimize_plan
from ferrotrade.backtest.study_plan import StudyPlan, plan_study
from ferrotrade.data.query import info
from ferrotrade.exceptions import ConfigError
from ferrotrade.research.metrics import Metrics, compute_metrics, interval_seconds
from ferrotrade.research.schema import SCHEMAS, TIMESTAMP

__all__ = ["WINDOWS_SCHEMA", "WalkForwardResult", "Window", "make_windows", "walk_forward"]

_KEYS = ("train", "test", "step", "gap", "anchored")

WINDOWS_SCHEMA = pl.Schema(
    {
        "window": pl.Int64(),
        "train_start": TIMESTAMP,
        "train_end": TIMESTAMP,
        "test_start": TIMESTAMP,
        "test_end": TIMESTAMP,
        "best_trial": pl.Int64(),
        "in_sample": pl.Float64(),
        "out_of_sample": pl.Float64(),
        "in_sample_pnl": pl.Float64(),
        "out_of_sample_pnl": pl.Float64(),
        "out_of_sample_trades": pl.Int64(),
        "params": pl.String(),
        "note": pl.String(),
    }
)
"""One row per window: its bounds, the best in-sample trial and value, the out-of-sample value and PnL."""


@dataclass(frozen=True)
class Window:
    """One walk-forward window; bounds in ns since the epoch, ends exclusive."""

    index: int
    train_start: int
    train_end: int
    test_start: int
    test_end: int


def make_windows(
    start: int,
    end: int,
    *,
    train: int,
    test: int,
    step: int | None = None,
    gap: int = 0,
    anchored: bool = False,
) -> list[Window]:
    """The windows over ``[start, end)``; see the module docs.

    Raises
    ------
    ValueError
        A non-positive length, a negative gap, or a range too short for one window.
    """
    step = test if step is None else step
    if train <= 0 or test <= 0 or step <= 0 or gap < 0:
        raise ValueError("train, test and step must be positive and gap not negative")
    windows = []
    k = 0
    while True:
        train_start = start if anchored else start + k * step
        train_end = start + train + k * step
        test_start = train_end + gap
        test_end = test_start + test
        if test_end > end:
            break
        windows.append(Window(k, train_start, train_end, test_start, test_end))
        k += 1
    if not windows:
        raise ValueError(
            f"train + gap + test = {(train + gap + test) / 1e9:,.0f} s does not fit the data's "
            f"{(end - start) / 1e9:,.0f} s"
        )
    return windows


def _ns(text: str, key: str, source: str) -> int:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"{source}: {key}: {text!r} is not a UTC date or time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp()) * 1_000_000_000 + moment.microsecond * 1_000


def _iso(ns: int) -> str:
    seconds, fraction = divmod(ns, 1_000_000_000)
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{fraction:09d}Z"


def _data_range(plan: StudyPlan) -> tuple[int, int]:
    backtest = plan.engine["backtest"]
    start = backtest.get("start")
    end = backtest.get("end")
    if start is not None and end is not None:
        return _ns(str(start), "backtest.start", plan.source), _ns(str(end), "backtest.end", plan.source)
    names = {
        str(table["instrument"]).lower()
        for table in plan.engine.get("strategy", [])
        if isinstance(table, Mapping) and "instrument" in table
    }
    toc = info(backtest["catalog"]).with_columns(
        (pl.col("venue") + "." + pl.col("symbol")).str.to_lowercase().alias("name")
    )
    toc = toc.filter(pl.col("name").is_in(list(names)) & pl.col("first_ts_event").is_not_null())
    if toc.is_empty():
        raise ConfigError(
            f"{plan.source}: optimize.walk_forward: set [backtest].start and end (the strategies name no "
            "instrument of the catalog to take the data's range from)"
        )
    first = int(toc["first_ts_event"].dt.epoch("ns").min())  # type: ignore[arg-type]
    last = int(toc["last_ts_event"].dt.epoch("ns").max())  # type: ignore[arg-type]
    lo = _ns(str(start), "backtest.start", plan.source) if start is not None else first
    hi = _ns(str(end), "backtest.end", plan.source) if end is not None else last + 1
    return lo, hi


def _duration(raw: Mapping[str, Any], key: str, source: str, default: int | None) -> int | None:
    value = raw.get(key)
    if value is None:
        return default
    try:
        return round(interval_seconds(str(value)) * 1e9)
    except ValueError:
        raise ConfigError(
            f"{source}: optimize.walk_forward.{key}: {value!r} is not a duration like '14d', '2h' or '90s'"
        ) from None


def plan_windows(plan: StudyPlan) -> list[Window]:
    """The windows of the plan's ``[optimize.walk_forward]`` over its data range.

    Raises
    ------
    ConfigError
        A missing or malformed key, several objectives, or data too short for one window.
    """
    raw = plan.walk_forward
    source = plan.source
    for key in raw:
        if key not in _KEYS:
            raise ConfigError(
                f"{source}: optimize.walk_forward.{key}: unknown key (known: {', '.join(_KEYS)})"
            )
    if plan.objective.multi:
        raise ConfigError(
            f"{source}: optimize.objective: walk-forward needs one objective to pick a best trial"
        )
    train = _duration(raw, "train", source, None)
    test = _duration(raw, "test", source, None)
    if train is None or test is None:
        raise ConfigError(f"{source}: optimize.walk_forward: train and test are required (e.g. '14d', '7d')")
    anchored = raw.get("anchored", False)
    if not isinstance(anchored, bool):
        raise ConfigError(f"{source}: optimize.walk_forward.anchored: expected true or false")
    start, end = _data_range(plan)
    try:
        return make_windows(
            start,
            end,
            train=train,
            test=test,
            step=_duration(raw, "step", source, None),
            gap=_duration(raw, "gap", source, 0) or 0,
            anchored=anchored,
        )
    except ValueError as error:
        raise ConfigError(f"{source}: optimize.walk_forward: {error}") from None


def _with_range(engine: Mapping[str, Any], start: int, end: int) -> dict[str, Any]:
    out = dict(engine)
    out["backtest"] = {**engine["backtest"], "start": _iso(start), "end": _iso(end)}
    return out


@dataclass
class WalkForwardResult:
    """What a walk-forward run produced.

    Attributes
    ----------
    windows : polars.DataFrame
        :data:`WINDOWS_SCHEMA`, one row per window.
    equity : polars.DataFrame
        The stitched out-of-sample equity curve (the ``equity`` schema).
    metrics : Metrics or None
        Metrics of the stitched out-of-sample run (None when no window had a test run).
    studies : list of OptimizationResult
        The in-sample study of each window.
    tests : list of BacktestResult or None
        Each window's out-of-sample run (None where its study found no feasible trial).
    plan : StudyPlan
    stitched : BacktestResult or None
        The test runs end to end as one result (what the metrics and the report's risk figures use).
    """

    windows: pl.DataFrame
    equity: pl.DataFrame
    metrics: Metrics | None
    studies: list[OptimizationResult]
    tests: list[BacktestResult | None]
    plan: StudyPlan
    stitched: BacktestResult | None = None

    def write_report(self, path: str | Path, *, bootstrap_paths: int = 1_000) -> Path:
        """Write the walk-forward HTML report (windows, stitched equity, risk of the stitched run)."""
        from ferrotrade.backtest.walkforward_report import write_walk_forward_report  # noqa: PLC0415

        return write_walk_forward_report(self, Path(path), bootstrap_paths=bootstrap_paths)


def _stitch(tests: list[BacktestResult], initial: float) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    offset = 0.0
    equity: list[pl.DataFrame] = []
    fills, orders = [], []
    for test in tests:
        pnl_columns = ("realized_pnl", "unrealized_pnl", "fees", "funding")
        last = test.equity.row(-1, named=True)
        equity.append(
            test.equity.with_columns(
                pl.col("equity") + offset,
                *[
                    pl.col(c) + carried
                    for c, carried in zip(pnl_columns, _carried(equity, pnl_columns), strict=True)
                ],
            )
        )
        fills.append(test.fills)
        orders.append(test.orders)
        offset += float(last["equity"]) - initial
    return pl.concat(equity), pl.concat(fills), pl.concat(orders)


def _carried(previous: list[pl.DataFrame], columns: tuple[str, ...]) -> list[float]:
    if not previous:
        return [0.0] * len(columns)
    last = previous[-1].row(-1, named=True)
    return [float(last[c]) for c in columns]


def walk_forward(
    config: str | Path | Mapping[str, Any],
    *,
    catalog: str | Path | None = None,
    progress: ProgressArg = False,
    **options: Any,
) -> WalkForwardResult:
    """Optimize on each window's training data and evaluate the best parameters on its test data.

    Parameters
    ----------
    config : str, Path or Mapping
        A backtest configuration with ``[optimize]`` and ``[optimize.walk_forward]`` (module docs).
    catalog : str or Path, optional
        Catalog to read instead of ``[backtest].catalog``.
    progress : bool or callable
        As for :func:`~ferrotrade.backtest.optimize`, per window.
    **options
        ``[optimize]`` keys that replace the configuration's (``walk_forward`` included).

    Raises
    ------
    ConfigError
        Before any trial: the ``[optimize]`` checks, a bad ``[optimize.walk_forward]``, several objectives,
        or data too short for one window.
    """
    base = plan_study(config, options, catalog=catalog)
    windows = plan_windows(base)
    rows: list[dict[str, Any]] = []
    studies: list[OptimizationResult] = []
    tests: list[BacktestResult | None] = []
    for window in windows:
        plan = dataclasses.replace(
            base,
            engine=_with_range(base.engine, window.train_start, window.train_end),
            study=f"{base.study}.wf{window.index:02d}",
        )
        study = optimize_plan(plan, progress=progress)
        studies.append(study)
        row: dict[str, Any] = {
            "window": window.index,
            "train_start": window.train_start,
            "train_end": window.train_end,
            "test_start": window.test_start,
            "test_end": window.test_end,
            "best_trial": study.best_number,
            "in_sample": study.best_value,
        }
        if study.best_number is None:
            tests.append(None)
            rows.append({**row, "note": "no feasible complete trial in-sample"})
            continue
        best = study.trials.filter(pl.col("number") == study.best_number).row(0, named=True)
        test = run(_with_range(study.best_config(), window.test_start, window.test_end))
        tests.append(test)
        values, reason = base.objective.values(test)
        rows.append(
            {
                **row,
                "out_of_sample": None if values is None else values[0],
                "in_sample_pnl": best["total_pnl"],
                "out_of_sample_pnl": test.metrics.total_pnl,
                "out_of_sample_trades": test.metrics.trades,
                "params": ", ".join(f"{k}={v}" for k, v in (study.best_params or {}).items()),
                "note": reason,
            }
        )
    frame = pl.DataFrame(
        [{key: row.get(key) for key in WINDOWS_SCHEMA} for row in rows],
        schema={
            **WINDOWS_SCHEMA,
            **dict.fromkeys(("train_start", "train_end", "test_start", "test_end"), pl.Int64()),
        },
    ).with_columns(pl.col("train_start", "train_end", "test_start", "test_end").cast(TIMESTAMP))
    stitched = _stitched_result(base, tests)
    equity = stitched.equity if stitched is not None else pl.DataFrame(schema=SCHEMAS["equity"])
    metrics = stitched.metrics if stitched is not None else None
    return WalkForwardResult(frame, equity, metrics, studies, tests, base, stitched)


def _stitched_result(plan: StudyPlan, tests: list[BacktestResult | None]) -> BacktestResult | None:
    """The test runs end to end as one backtest result (equity stitched, fills and orders concatenated)."""
    runs = [test for test in tests if test is not None and not test.equity.is_empty()]
    if not runs:
        return None
    equity, fills, orders = _stitch(runs, plan.initial_equity)
    events = sum(int(t.stats["events"]) for t in runs)
    wall_seconds = sum(t.wall_seconds for t in runs)
    metrics = compute_metrics(
        equity,
        fills,
        orders,
        initial_equity=plan.initial_equity,
        events=events,
        wall_seconds=wall_seconds,
        return_interval=plan.return_interval,
    )
    return BacktestResult(
        orders=orders,
        fills=fills,
        equity=equity,
        positions=runs[-1].positions,
        metrics=metrics,
        stats={"events": events, "first_ts": runs[0].stats["first_ts"], "last_ts": runs[-1].stats["last_ts"]},
        denials={},
        risk_events=[],
        strategies=runs[0].strategies,
        instruments=runs[0].instruments,
        wall_seconds=wall_seconds,
        title=f"{plan.study}: stitched out-of-sample",
        catalog=runs[0].catalog,
    )
