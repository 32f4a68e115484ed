"""Monitoring and control of a running engine over its bus (ZeroMQ + protobuf, ``proto/ferrotrade/v1``).

The live engine publishes every event on a ZeroMQ PUB socket and takes commands on a ROUTER
(``[bus]`` in its configuration). This package holds the Python side of both:

=====================================  ==================================================================
what                                   where
=====================================  ==================================================================
decoded envelopes, gap detection       :class:`Subscriber` (:mod:`ferrotrade.monitor.subscriber`)
envelope -> JSON-ready dict            :func:`to_dict`
commands (status, halt, kill, set...)  :class:`Controller` (:mod:`ferrotrade.monitor.control`)
bus -> Parquet catalog (backtestable)  :func:`record`, :class:`CatalogRecorder` (:mod:`.record`)
one line per message                   :func:`tail`, :func:`describe` (:mod:`ferrotrade.monitor.tail`)
full-screen view                       :func:`run_dashboard`, :func:`render` (:mod:`.dashboard`)
=====================================  ==================================================================

The ``ferrotrade monitor ...`` and ``ferrotrade ctl ...`` commands are thin wrappers around these.
Dependencies: ``ferrotrade.v1`` (generated protobuf modules), ``ferrotrade.data`` (the catalog layout),
pyzmq, rich; never ``ferrotrade.cli``.
"""

from ferrotrade.monitor.control import DEFAULT_CONTROL, DEFAULT_TOKEN_ENV, ControlError, Controller
from ferrotrade.monitor.dashboard import DashboardState, render, run_dashboard
from ferrotrade.monitor.record import CatalogRecorder, RecordProgress, RecordSummary, record
from ferrotrade.monitor.subscriber import (
    DEFAULT_ENDPOINT,
    Gap,
    GapTracker,
    Subscriber,
    to_decimal,
    to_dict,
    to_float,
)
from ferrotrade.monitor.tail import describe, tail

__all__ = [
    "DEFAULT_CONTROL",
    "DEFAULT_ENDPOINT",
    "DEFAULT_TOKEN_ENV",
    "CatalogRecorder",
    "ControlError",
    "Controller",
    "DashboardState",
    "Gap",
    "GapTracker",
    "RecordProgress",
    "RecordSummary",
    "Subscriber",
    "describe",
    "record",
    "render",
    "run_dashboard",
    "tail",
    "to_decimal",
    "to_dict",
    "to_float",
]
