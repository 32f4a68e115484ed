"""The HTML report of a study: what was searched, what was found, how fragile it is, how risky.

======================  ==================================================================================
section                 content
======================  ==================================================================================
Study                   storage, sampler, pruner, objectives, constraints, trials by state, best trial
Trials                  objective per trial and the best value so far
Parameter importance    PED-ANOVA importance of each parameter, per objective
Sensitivity surfaces    the objective over pairs of the most important numeric parameters
Pareto front            two objectives of every trial, the front highlighted (several objectives)
Latency sensitivity     PnL and Sharpe of the best configuration with 0 to 20 ms more latency per leg
Best trial              the metrics of the best configuration's run
Value at risk           VaR and CVaR of its period returns: historical, parametric, Monte Carlo
Trade bootstrap         its closing trades resampled: distribution of final PnL and maximum drawdown
Correlation             PnL across strategies and instruments, price returns across instruments
======================  ==================================================================================

Definitions of the risk figures are in :mod:`ferrotrade.research.risk`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from ferrotrade.backtest.result import BacktestResult, price_series
from ferrotrade.research.metrics import period_returns
from ferrotrade.research.page import figure_html, format_cell, table_html, write_page
from ferrotrade.research.report import metrics_table
from ferrotrade.research.risk import bootstrap_trades, pnl_correlation, value_at_risk
from ferrotrade.research.study_figures import (
    bootstrap_figure,
    correlation_figure,
    history_figure,
    importance_figure,
    latency_figure,
    pareto_figure,
    surface_figure,
    surface_pairs,
)

if TYPE_CHECKING:
    from ferrotrade.backtest.optimize_result import OptimizationResult

__all__ = ["frame_table", "risk_sections", "write_study_report"]

Section = tuple[str, str]


def frame_table(frame: pl.DataFrame) -> str:
    """A polars frame as an HTML table (floats to 6 significant digits, nulls as n/a)."""
    numeric = [dtype.is_numeric() for dtype in frame.dtypes]
    rows = ([format_cell(v) for v in row] for row in frame.iter_rows())
    return table_html(frame.columns, rows, numeric)


def _note(text: str) -> str:
    return f'<p class="note">{text}</p>'


def _named(spec: tuple[str, dict[str, object]]) -> str:
    name, options = spec
    return f"{name} ({', '.join(f'{k}={v}' for k, v in options.items())})" if options else name


def _study_table(result: OptimizationResult) -> str:
    plan = result.plan
    states = dict(result.trials.group_by("state").len().iter_rows())
    rows = [
        ("Study", plan.study),
        ("Storage", result.storage),
        ("Configuration", plan.source),
        ("Sampler", _named(plan.sampler) + f", seed {plan.seed}"),
        ("Pruner", _named(plan.pruner)),
        (
            "Objectives",
            ", ".join(
                f"{n} ({d})" for n, d in zip(plan.objective.names, plan.objective.directions, strict=True)
            ),
        ),
        ("Constraints", ", ".join(c.describe() for c in plan.constraints) or "none"),
        ("Parameters", ", ".join(p.name for p in plan.space)),
        ("Trials", ", ".join(f"{state} {n}" for state, n in sorted(states.items())) or "none"),
        ("Best trial", "none feasible" if result.best_number is None else f"#{result.best_number}"),
        ("Best value", format_cell(result.best_value)),
        (
            "Best parameters",
            ", ".join(f"{k} = {format_cell(v)}" for k, v in (result.best_params or {}).items()),
        ),
        ("Pareto front", ", ".join(f"#{n}" for n in result.pareto_numbers) if plan.objective.multi else "-"),
    ]
    return table_html(None, rows, [False, False])


def _surfaces(result: OptimizationResult, value: str, index: int) -> str:
    plan = result.plan
    numeric = [p.name for p in plan.space if p.kind != "categorical"]
    importance = result.importance.get(plan.objective.names[0], {})
    pairs = surface_pairs(numeric, importance)
    if not pairs:
        return _note("a surface needs two numeric parameters")
    return "\n".join(
        figure_html(surface_figure(result.trials, x, y, value), f"surface-{index}-{k}")
        for k, (x, y) in enumerate(pairs)
    )


def risk_sections(
    run: BacktestResult, *, bootstrap_paths: int = 1_000, seed: int = 0, prefix: str = "risk"
) -> list[Section]:
    """The risk sections of a report for one backtest: VaR/CVaR, trade bootstrap, correlation."""
    interval = run.metrics.return_interval
    returns = period_returns(run.equity, interval)
    var = value_at_risk(returns, equity=run.metrics.final_equity, seed=seed)
    var_html = (
        _note(f"one period = {interval}; fractions of equity, money at the final equity") + frame_table(var)
        if var.height
        else _note("fewer than two period returns: nothing to estimate")
    )
    paths = bootstrap_trades(run.fills, paths=bootstrap_paths, seed=seed)
    if paths.height:
        levels = (0.05, 0.5, 0.95)
        final = paths["final_pnl"].to_numpy()
        drawdowns = paths["max_drawdown"].to_numpy()
        quantiles = pl.DataFrame(
            {
                "quantile": [f"{q:.0%}" for q in levels],
                "final_pnl": np.quantile(final, levels),
                "max_drawdown": np.quantile(drawdowns, levels),
            }
        )
        loss = float(np.mean(final < 0))
        closing = run.fills.filter(pl.col("realized_pnl") != 0.0)
        net = (closing["realized_pnl"] - closing["fee"]).cum_sum()
        cumulative = net.to_numpy()
        actual_dd = float((np.maximum.accumulate(np.maximum(cumulative, 0.0)) - cumulative).max())
        summary = (
            f"{bootstrap_paths:,} paths of {closing.height:,} closing trades; P(final PnL < 0) = {loss:.1%}"
        )
        boot_html = (
            _note(summary)
            + frame_table(quantiles)
            + figure_html(bootstrap_figure(paths, float(net[-1]), actual_dd), f"{prefix}-bootstrap")
        )
    else:
        boot_html = _note("no closing fill to resample")
    prices = None
    if run.catalog is not None and run.stats["events"]:
        prices = price_series(
            run.catalog, run.instruments, int(run.stats["first_ts"]), int(run.stats["last_ts"])
        )
    if prices is None or run.fills.height == 0:
        corr_html = _note("no fills or no price series to correlate")
    else:
        pairs, instruments = pnl_correlation(run.fills, prices, interval=interval)
        corr_html = figure_html(
            correlation_figure(pairs, f"PnL increments per {interval}, by strategy and instrument"),
            f"{prefix}-corr",
        ) + figure_html(correlation_figure(instruments, f"price returns per {interval}"), f"{prefix}-corr-px")
    return [("Value at risk", var_html), ("Trade bootstrap", boot_html), ("Correlation", corr_html)]


def write_study_report(
    result: OptimizationResult,
    path: Path,
    *,
    added_latency_ns: Sequence[int] | None,
    bootstrap_paths: int,
) -> Path:
    """Write the report described in the module docs; see :meth:`OptimizationResult.write_report`."""
    plan = result.plan
    value = f"value_{plan.objective.names[0]}"
    sections: list[Section] = [("Study", _study_table(result))]
    sections.append(
        ("Trials", figure_html(history_figure(result.trials, value, plan.objective.directions[0]), "history"))
    )
    sections.append(("Parameter importance", figure_html(importance_figure(result.importance), "importance")))
    sections.append(("Sensitivity surfaces", _surfaces(result, value, 0)))
    if plan.objective.multi:
        x, y = (f"value_{n}" for n in plan.objective.names[:2])
        sections.append(
            ("Pareto front", figure_html(pareto_figure(result.trials, x, y, result.pareto_numbers), "pareto"))
        )
    if result.best_params is None:
        sections.append(("Best trial", _note("no feasible complete trial: nothing to re-run")))
        return write_page(path, plan.title, sections)
    if added_latency_ns:
        latency = result.latency_sensitivity(added_latency_ns)
        sections.append(
            ("Latency sensitivity", frame_table(latency) + figure_html(latency_figure(latency), "latency"))
        )
    best = result.best_run()
    sections.append(("Best trial", table_html(None, metrics_table(best.metrics), [False, True])))
    sections += risk_sections(best, bootstrap_paths=bootstrap_paths, seed=plan.seed or 0)
    return write_page(path, plan.title, sections)
