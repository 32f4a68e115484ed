"""`ft.backtest.optimize` and `ferrotrade optimize` on the bundled real catalog: samplers, pruning,
constraints, failures recorded per trial, worker processes, reproducibility, reports, and the errors that
come before any trial."""

from __future__ import annotations

import copy
import os
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import optuna
import polars as pl
import pytest
from typer.testing import CliRunner

import ferrotrade as ft
from ferrotrade._core import Context
from ferrotrade.backtest.result import BacktestResult
from ferrotrade.cli import app
from ferrotrade.cli.data import EXIT_ERROR
from ferrotrade.exceptions import ConfigError

ROOT = Path(__file__).parent.parent
CATALOG = ROOT / "tests" / "data" / "catalog"
EXAMPLES = ROOT / "examples"
USDM = "binance-usdm.BTCUSDT"


def example(name: str, **optimize: Any) -> dict[str, Any]:
    """An example configuration on the test catalog, its ``[optimize]`` table replaced by ``optimize``."""
    with (EXAMPLES / name).open("rb") as file:
        config = tomllib.load(file)
    config["backtest"]["catalog"] = str(CATALOG)
    config["optimize"] = optimize
    return config


# EMA crossover on two months of real hourly klines: a trial takes milliseconds.
TREND = example(
    "walk_forward_trend.toml",
    params={"strategy.ema.fast": {"low": 3, "high": 15}, "strategy.ema.slow": {"low": 20, "high": 60}},
    objective="pnl",
    trials=8,
    seed=5,
)
# The market maker on six minutes of real L2 data: 466,575 events, 7 checkpoints per trial.
MM = example(
    "optimize_mm.toml",
    params={
        "strategy.mm.half_spread_bps": {"low": 0.1, "high": 3.0},
        "strategy.mm.requote_threshold_ticks": {"low": 1, "high": 8},
    },
    objective="pnl",
    trials=12,
    seed=1,
)


def with_optimize(base: dict[str, Any], tmp_path: Path, **changes: Any) -> dict[str, Any]:
    """``base`` with ``[optimize]`` keys replaced and its storage in ``tmp_path``."""
    config = copy.deepcopy(base)
    config["optimize"].update({"storage": str(tmp_path / "study.log"), **changes})
    return config


def states(result: Any) -> dict[str, int]:
    return dict(result.trials.group_by("state").len().iter_rows())


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"params": {}}, "optimize.params: empty search space"),
        ({"params": {"strategy.ema.fast": {"low": 9, "high": 9}}}, "empty range: low 9 is not below high 9"),
        ({"params": {"strategy.ema.fast": {"low": 0, "high": 9, "log": True}}}, "log needs low > 0"),
        (
            {"params": {"strategy.ema.fast": {"low": 1, "high": 9, "step": 0.5}}},
            "integer range needs an integer",
        ),
        ({"params": {"strategy.ema.fast": {"low": 1, "high": 9, "stp": 2}}}, "unknown key 'stp'"),
        ({"params": {"strategy.ema.fast": {"choices": [3, 3]}}}, "choices are repeated"),
        ({"params": {"strategy.emma.fast": {"low": 1, "high": 9}}}, "no [[strategy]] named 'emma'"),
        ({"params": {"venue.latency.entry_ns": {"low": 1, "high": 9}}}, "venue.latency is not a table"),
        (
            {
                "params": {
                    "strategy.ema.fast": {"low": 3, "high": 9},
                    "strategy[0].fast": {"low": 3, "high": 9},
                }
            },
            "sets the same value as 'strategy.ema.fast'",
        ),
        ({"params": {"strategy.ema.fsat": {"low": 3, "high": 9}}}, "unknown field `fsat`"),
        ({"objective": "sharp"}, "'sharp' is not a metric"),
        ({"objective": "no_such_module:f"}, "cannot import 'no_such_module'"),
        ({"objective": ["pnl", "max_drawdown"], "direction": "maximize"}, "expected 2 direction(s)"),
        ({"constraints": ["trades > lots"]}, "is not 'metric op number'"),
        ({"constraints": ["trads >= 1"]}, "'trads' is not a metric"),
        ({"sampler": "bayes"}, "unknown sampler 'bayes'"),
        ({"sampler": {"name": "tpe", "n_startup": 3}}, "optimize.sampler: tpe: got an unexpected keyword"),
        (
            {"sampler": "grid", "params": {"strategy.ema.fast": {"low": 3.0, "high": 9.0}}},
            "grid sampler needs",
        ),
        (
            {"sampler": "cmaes", "params": {"strategy.ema.fast": {"choices": [3, 5]}}},
            "cmaes cannot search choices",
        ),
        ({"objective": ["pnl", "max_drawdown"], "pruner": "median"}, "cannot prune a study with several"),
        ({"trials": 0}, "optimize.trials: expected a positive integer"),
        ({"workers": 2, "objective": lambda result: 1.0}, "is not importable"),
        ({"trails": 3}, "optimize.trails: unknown key"),
    ],
)
def test_bad_studies_fail_before_any_trial_naming_the_key(
    tmp_path: Path, changes: dict[str, Any], message: str
) -> None:
    config = with_optimize(TREND, tmp_path)
    config["optimize"].update(changes)
    with pytest.raises(ConfigError) as caught:
        ft.backtest.optimize(config)
    assert message in str(caught.value)
    assert str(caught.value).startswith("<dict>: ")
    assert not (tmp_path / "study.log").exists(), "nothing was written to the storage"


def test_a_fixed_seed_reproduces_the_same_trials_and_best_trial(tmp_path: Path) -> None:
    first = ft.backtest.optimize(with_optimize(MM, tmp_path / "a"))
    second = ft.backtest.optimize(with_optimize(MM, tmp_path / "b"))
    columns = ["number", "state", "value_pnl", *MM["optimize"]["params"], "total_pnl", "last_step"]
    assert first.trials.select(columns).equals(second.trials.select(columns))
    assert first.best_number is not None
    assert (first.best_number, first.best_params) == (second.best_number, second.best_params)
    other = ft.backtest.optimize(with_optimize(MM, tmp_path / "c", seed=2))
    assert not other.trials.select(columns).equals(first.trials.select(columns))


def test_the_trials_table_has_one_row_per_trial_with_params_and_metrics(tmp_path: Path) -> None:
    result = ft.backtest.optimize(with_optimize(MM, tmp_path, pruner="none"))
    trials = result.trials
    assert trials.height == 12
    assert trials.schema["strategy.mm.requote_threshold_ticks"] == pl.Int64
    assert trials.schema["strategy.mm.half_spread_bps"] == pl.Float64
    complete = trials.filter(pl.col("state") == "complete")
    assert complete.height > 0
    assert (complete["value_pnl"] == complete["total_pnl"]).all()
    assert complete["trades"].min() > 0
    # The best trial's configuration re-runs to exactly its trial's value: runs are deterministic.
    assert result.best_run().metrics.total_pnl == result.best_value
    assert result.best_value == complete["value_pnl"].max()
    # The study is an ordinary optuna study (optuna-dashboard opens the same file).
    storage = optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(str(tmp_path / "study.log"))
    )
    study = optuna.load_study(study_name="ferrotrade", storage=storage)
    assert len(study.trials) == 12
    assert study.best_trial.number == result.best_number


def test_median_pruning_stops_hopeless_trials_at_a_checkpoint(tmp_path: Path) -> None:
    config = with_optimize(MM, tmp_path, trials=14, pruner={"name": "median", "n_startup_trials": 3})
    result = ft.backtest.optimize(config)
    pruned = result.trials.filter(pl.col("state") == "pruned")
    assert pruned.height > 0
    # 466,575 events: a full run reports 7 checkpoints of 65,536 events; a pruned one stops before the end.
    assert set(result.trials.filter(pl.col("state") == "complete")["last_step"]) == {7}
    assert pruned["last_step"].max() < 7
    assert pruned["fail_reason"].str.starts_with("pruned at ").all()


class Fragile(ft.Strategy):
    """Quotes nothing; above its ``spread`` limit it raises (``how = "raise"``, a strategy bug in one region)
    or ends its own process (``how = "exit"``, as a segfault in native strategy code would)."""

    subscriptions = {USDM: ["book"]}  # noqa: RUF012 - the base class declares it as a ClassVar

    def __init__(self, spread: float, limit: float, how: str) -> None:
        self.spread, self.limit, self.how = spread, limit, how

    def on_book(self, ctx: Context, instrument: int) -> None:
        if self.spread > self.limit:
            if self.how == "exit":
                os._exit(3)
            raise RuntimeError(f"spread {self.spread} is too wide")


def fragile_study(tmp_path: Path, limit: float, how: str, **optimize: Any) -> pl.DataFrame:
    """The trials of a random search of ``Fragile``'s spread in [0, 4]."""
    config = with_optimize(MM, tmp_path, objective="trades", pruner="none", sampler="random", **optimize)
    params = {"spread": 1.0, "limit": limit, "how": how}
    config["strategy"] = [{"kind": "python", "name": "py", "class": f"{__name__}:Fragile", "params": params}]
    config["optimize"]["params"] = {"strategy.py.params.spread": {"low": 0.0, "high": 4.0}}
    return ft.backtest.optimize(config).trials


def test_a_crashing_trial_is_recorded_as_failed_and_the_study_goes_on(tmp_path: Path) -> None:
    trials = fragile_study(tmp_path, 2.0, "raise", trials=10)
    failed = trials.filter(pl.col("state") == "fail")
    complete = trials.filter(pl.col("state") == "complete")
    assert trials.height == 10
    assert failed.height > 0
    assert complete.height > 0
    assert (failed["strategy.py.params.spread"] > 2).all()
    assert (complete["strategy.py.params.spread"] <= 2).all()
    assert failed["fail_reason"].str.contains('StrategyError: strategy "py" failed', literal=True).all()
    assert failed["fail_reason"].str.contains("too wide").all()


def test_a_worker_process_that_dies_fails_its_trial_and_is_replaced(tmp_path: Path) -> None:
    trials = fragile_study(tmp_path, 3.0, "exit", trials=8, workers=2, seed=4)
    died = trials.filter(pl.col("state") == "fail")
    assert trials.height in (8, 9)
    assert died.height > 0, "seed 4 draws a spread above 3 first"
    assert (died["strategy.py.params.spread"] > 3).all()
    assert died["fail_reason"].str.contains("died with exit code 3 while running this trial").all()
    assert (trials.filter(pl.col("state") == "complete")["strategy.py.params.spread"] <= 3).all()
    assert trials["worker"].n_unique() > 2, "dead workers were replaced"


def test_an_invalid_parameter_combination_fails_its_trial_with_the_engine_reason(tmp_path: Path) -> None:
    # fast >= slow is refused by the trend strategy; the centre (9, 10) is valid, so the study starts.
    config = with_optimize(TREND, tmp_path, trials=12, sampler="random")
    config["optimize"]["params"] = {
        "strategy.ema.fast": {"low": 3, "high": 15},
        "strategy.ema.slow": {"low": 5, "high": 15},
    }
    result = ft.backtest.optimize(config)
    failed = result.trials.filter(pl.col("state") == "fail")
    assert failed.height > 0
    assert (failed["strategy.ema.fast"] >= failed["strategy.ema.slow"]).all()
    assert failed["fail_reason"].str.contains(r"ConfigError: strategy\[0\]").all()
    assert result.trials.filter(pl.col("state") == "complete").height > 0


def test_the_centre_of_the_space_must_be_a_valid_configuration(tmp_path: Path) -> None:
    config = with_optimize(TREND, tmp_path)
    config["optimize"]["params"] = {
        "strategy.ema.fast": {"low": 20, "high": 40},
        "strategy.ema.slow": {"low": 5, "high": 15},
    }
    with pytest.raises(
        ConfigError, match=r"centre of the search space \(strategy.ema.fast=30, strategy.ema.slow=10\)"
    ):
        ft.backtest.optimize(config)


def test_an_undefined_objective_fails_the_trial_with_the_reason(tmp_path: Path) -> None:
    # Far quotes never fill: no closing trade, so no profit factor.
    config = with_optimize(MM, tmp_path, trials=3, objective="profit_factor", pruner="none")
    config["optimize"]["params"] = {"strategy.mm.half_spread_bps": {"low": 500.0, "high": 900.0}}
    result = ft.backtest.optimize(config)
    assert states(result) == {"fail": 3}
    assert result.trials["fail_reason"].str.starts_with("undefined objective: profit_factor undefined").all()
    assert result.best_params is None


def test_constraints_decide_the_best_trial(tmp_path: Path) -> None:
    config = with_optimize(MM, tmp_path, pruner="none", constraints=["trades >= 30"])
    result = ft.backtest.optimize(config)
    complete = result.trials.filter(pl.col("state") == "complete")
    assert (complete["feasible"] == (complete["trades"] >= 30)).all()
    assert complete["feasible"].any()
    assert not complete["feasible"].all()
    best = complete.filter(pl.col("number") == result.best_number).row(0, named=True)
    assert best["feasible"]
    assert best["value_pnl"] == complete.filter(pl.col("feasible"))["value_pnl"].max()
    impossible = ft.backtest.optimize(
        with_optimize(MM, tmp_path / "x", trials=3, constraints=["trades > 1e9"])
    )
    assert impossible.best_number is None
    with pytest.raises(LookupError, match="no feasible complete trial"):
        impossible.best_config()


def test_nsga2_finds_a_pareto_front_of_pnl_against_drawdown(tmp_path: Path) -> None:
    config = with_optimize(
        TREND,
        tmp_path,
        objective=["pnl", "max_drawdown"],
        sampler={"name": "nsga2", "population_size": 4},
        trials=10,
    )
    result = ft.backtest.optimize(config)
    assert result.plan.objective.directions == ("maximize", "minimize")
    assert result.best_number is None
    front = result.trials.filter(pl.col("number").is_in(result.pareto_numbers))
    assert front.height >= 1
    complete = result.trials.filter(pl.col("state") == "complete")
    for row in front.iter_rows(named=True):
        dominated = complete.filter(
            (pl.col("value_pnl") >= row["value_pnl"])
            & (pl.col("value_max_drawdown") <= row["value_max_drawdown"])
            & (
                (pl.col("value_pnl") > row["value_pnl"])
                | (pl.col("value_max_drawdown") < row["value_max_drawdown"])
            )
        )
        assert dominated.is_empty(), "no trial dominates a Pareto trial"


def test_grid_search_visits_every_point_once(tmp_path: Path) -> None:
    params = {
        "strategy.ema.fast": {"low": 4, "high": 12, "step": 4},
        "strategy.ema.slow": {"choices": [30, 50]},
    }
    result = ft.backtest.optimize(with_optimize(TREND, tmp_path, sampler="grid", params=params, trials=100))
    assert result.trials.height == 6, "the budget is capped at the grid's size"
    points = set(result.trials.select("strategy.ema.fast", "strategy.ema.slow").iter_rows())
    assert points == {(f, s) for f in (4, 8, 12) for s in (30, 50)}


@pytest.mark.parametrize("sampler", ["cmaes", "random", "tpe"])
def test_every_single_objective_sampler_runs_its_budget(tmp_path: Path, sampler: str) -> None:
    result = ft.backtest.optimize(with_optimize(TREND, tmp_path, sampler=sampler, trials=6))
    assert result.trials.height == 6
    assert result.best_number is not None


def sharpe_per_trade(result: BacktestResult) -> float:
    """A user objective: Sharpe divided by the number of trades (0 without trades)."""
    sharpe = result.metrics.sharpe
    return 0.0 if sharpe is None or result.metrics.trades == 0 else sharpe / result.metrics.trades


def test_a_user_function_is_an_objective_in_worker_processes_too(tmp_path: Path) -> None:
    config = with_optimize(TREND, tmp_path, objective=f"{__name__}:sharpe_per_trade", workers=2, trials=6)
    result = ft.backtest.optimize(config)
    complete = result.trials.filter(pl.col("state") == "complete")
    assert complete.height == result.trials.height >= 6
    best = result.best_run()
    assert sharpe_per_trade(best) == pytest.approx(result.best_value)
    direct = ft.backtest.optimize(with_optimize(TREND, tmp_path / "fn", objective=sharpe_per_trade, trials=2))
    assert direct.plan.objective.names == ("objective",)


def test_a_bus_table_needs_one_worker_as_each_trial_binds_its_endpoints(
    tmp_path: Path, free_port: Callable[[], int]
) -> None:
    config = with_optimize(TREND, tmp_path, workers=2)
    config["bus"] = {"publish": "tcp://127.0.0.1:5755"}
    bind = r"^<dict>: bus: 2 worker processes cannot all bind tcp://127\.0\.0\.1:5755"
    with pytest.raises(ConfigError, match=bind):
        ft.backtest.optimize(config)
    assert not (tmp_path / "study.log").exists(), "nothing was written to the storage"

    # One worker publishes its trials one after another, each binding the endpoint in turn.
    config["optimize"].update(workers=1, trials=3)
    config["bus"] = {"publish": f"tcp://127.0.0.1:{free_port()}"}
    result = ft.backtest.optimize(config)
    assert states(result) == {"complete": 3}


def test_two_worker_processes_share_the_budget_of_one_study(tmp_path: Path) -> None:
    seen: list[int] = []
    config = with_optimize(MM, tmp_path, workers=2, trials=16, pruner="none")
    result = ft.backtest.optimize(config, progress=lambda snap: seen.append(snap.done))
    # A worker checks the budget before asking for a trial: both may take the last one.
    assert result.trials.height in (16, 17)
    assert set(result.trials["state"]) == {"complete"}
    assert result.trials["worker"].n_unique() == 2
    assert seen[-1] == result.trials.height
    assert seen == sorted(seen)


def test_a_study_resumes_to_its_budget_and_refuses_another_definition(tmp_path: Path) -> None:
    config = with_optimize(TREND, tmp_path, trials=3)
    assert ft.backtest.optimize(config).trials.height == 3
    assert ft.backtest.optimize(config, trials=5).trials.height == 5
    config["optimize"]["params"] = {"strategy.ema.fast": {"low": 3, "high": 9}}
    with pytest.raises(ConfigError, match=r"study 'ferrotrade' in .* was created with another space"):
        ft.backtest.optimize(config)


def test_latency_sensitivity_reruns_the_best_configuration_with_more_latency(tmp_path: Path) -> None:
    result = ft.backtest.optimize(with_optimize(MM, tmp_path, trials=4, pruner="none"))
    sweep = result.latency_sensitivity([0, 5_000_000, 50_000_000])
    assert sweep["added_ns"].to_list() == [0, 5_000_000, 50_000_000]
    assert sweep["entry_ns"].to_list() == [2_000_000, 7_000_000, 52_000_000]
    assert sweep["total_pnl"][0] == result.best_value
    assert sweep["total_pnl"][2] != sweep["total_pnl"][0], "50 ms more latency changes which quotes fill"


def test_the_study_report_has_every_analysis(tmp_path: Path) -> None:
    result = ft.backtest.optimize(with_optimize(MM, tmp_path, trials=8, pruner="none"))
    path = result.write_report(tmp_path / "study.html", added_latency_ns=[0, 2_000_000], bootstrap_paths=200)
    text = path.read_text()
    for section in (
        "Study",
        "Trials",
        "Parameter importance",
        "Sensitivity surfaces",
        "Latency sensitivity",
        "Best trial",
        "Value at risk",
        "Trade bootstrap",
        "Correlation",
    ):
        assert f"<h2>{section}</h2>" in text
    assert "monte_carlo" in text
    assert set(result.importance["pnl"]) == set(MM["optimize"]["params"])
    assert sum(result.importance["pnl"].values()) == pytest.approx(1.0)


def test_cli_optimize_prints_the_best_trial_and_writes_the_report(tmp_path: Path) -> None:
    config = tmp_path / "trend.toml"
    config.write_text(
        f"""
[backtest]
catalog = "{CATALOG}"
initial_equity = 100000
sample_interval_ms = 3600000
[[strategy]]
kind = "trend"
name = "ema"
instrument = "binance-spot.BTCUSDT"
source = "bars"
fast = 12
slow = 26
order_size = 0.5
[optimize]
objective = "pnl"
trials = 5
seed = 1
storage = "{tmp_path / "cli.log"}"
[optimize.params]
"strategy.ema.fast" = {{ low = 3, high = 15 }}
"""
    )
    report = tmp_path / "study.html"
    result = CliRunner().invoke(app, ["optimize", str(config), "--report", str(report)])
    assert result.exit_code == 0, result.output
    assert "best trial #" in result.stdout
    assert "top trials" in result.stdout
    assert f"report: {report}" in result.stdout
    assert report.stat().st_size > 100_000
    worker = CliRunner().invoke(app, ["optimize", str(config), "--worker", "--trials", "7", "--json"])
    assert worker.exit_code == 0, worker.output
    assert '"complete": 7' in worker.stdout


def test_cli_optimize_reports_a_bad_search_space_and_exits_2(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(
        f'[backtest]\ncatalog = "{CATALOG}"\ninitial_equity = 1000\n[optimize.params]\n'
        '"strategy.x.y" = {{ low = 1, high = 2 }}\n'.replace("{{", "{").replace("}}", "}")
    )
    result = CliRunner().invoke(app, ["optimize", str(config)])
    assert result.exit_code == EXIT_ERROR
    assert "bad.toml: optimize.params" in result.stderr
    assert "no [[strategy]] table" in result.stderr
