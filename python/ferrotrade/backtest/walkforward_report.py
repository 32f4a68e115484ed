"""The HTML report of a walk-forward run.

==========================  ==============================================================================
section                     content
==========================  ==============================================================================
Walk-forward                the windows: bounds, best in-sample trial, in-sample vs out-of-sample value
In-sample vs out-of-sample  both values per window over the stitched out-of-sample equity curve
Out-of-sample metrics       the metrics of the stitched out-of-sample run
Value at risk ...           the risk sections of :mod:`ferrotrade.backtest.study_report`, stitched run
==========================  ==============================================================================
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ferrotrade.backtest.study_report import frame_table, risk_sections
from ferrotrade.research.page import figure_html, table_html, write_page
from ferrotrade.research.report import metrics_table
from ferrotrade.research.study_figures import walk_forward_figure

if TYPE_CHECKING:
    from ferrotrade.backtest.walkforward import WalkForwardResult

__all__ = ["write_walk_forward_report"]


def write_walk_forward_report(result: WalkForwardResult, path: Path, *, bootstrap_paths: int) -> Path:
    """Write the report described in the module docs."""
    plan = result.plan
    objective = plan.objective.names[0]
    windows = result.windows
    sections = [
        ("Walk-forward", frame_table(windows)),
        (
            "In-sample vs out-of-sample",
            figure_html(walk_forward_figure(windows, result.equity, objective), "walk-forward"),
        ),
    ]
    if result.metrics is not None:
        sections.append(
            ("Out-of-sample metrics", table_html(None, metrics_table(result.metrics), [False, True]))
        )
    if result.stitched is not None:
        sections += risk_sections(result.stitched, bootstrap_paths=bootstrap_paths, seed=plan.seed or 0)
    return write_page(path, f"Walk-forward: {plan.study}", sections)
