"""ferrotrade's research layer: metrics and HTML reports of backtest results.

The backtest engine returns four polars frames (``equity``, ``fills``, ``orders``, ``positions``) whose
exact schemas, sign conventions and invariants are documented in :mod:`ferrotrade.research.schema`.
:func:`compute_metrics` reduces them to one :class:`Metrics` value; :func:`write_report` renders a single,
self-contained HTML page (works offline) and :func:`metrics_table` gives the same numbers as
``(label, value)`` rows for a console table.

==========================  ===========================================================================
what                        where
==========================  ===========================================================================
result frame schemas        :data:`SCHEMAS`, :func:`check_frame` (:mod:`ferrotrade.research.schema`)
Sharpe, drawdown, win rate  :func:`compute_metrics`, :class:`Metrics` (:mod:`ferrotrade.research.metrics`)
HTML report, summary table  :func:`write_report`, :func:`metrics_table` (:mod:`ferrotrade.research.report`)
line downsampling           :func:`m4_downsample` (:mod:`ferrotrade.research.downsample`)
execution quality           :func:`execution_quality`, :func:`fill_timeline`
                            (:mod:`ferrotrade.research.execution`)
==========================  ===========================================================================

Examples
--------
>>> from ferrotrade import research
>>> list(research.SCHEMAS)
['equity', 'fills', 'orders', 'positions']
"""

from ferrotrade.research.downsample import m4_downsample
from ferrotrade.research.execution import execution_quality, fill_timeline
from ferrotrade.research.metrics import Metrics, compute_metrics
from ferrotrade.research.report import metrics_table, write_report
from ferrotrade.research.schema import SCHEMAS, check_frame, empty

__all__ = [
    "SCHEMAS",
    "Metrics",
    "check_frame",
    "compute_metrics",
    "empty",
    "execution_quality",
    "fill_timeline",
    "m4_downsample",
    "metrics_table",
    "write_report",
]
