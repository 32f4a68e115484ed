"""What a live run reports when it stops: latency per stage, counters, reconciliation differences.

Examples
--------
>>> import json
>>> stage = {"stage": "frame_to_book", "count": 2, "p50_ns": 900, "p99_ns": 2000, "p999_ns": 2000}
>>> stage["max_ns"] = 2100
>>> core = {"mode": "paper", "latency": [stage], "messages": 10, "rejects": {"post_only": 1}}
>>> report = LiveReport.from_core({"report_json": json.dumps(core), "wall_seconds": 1.5})
>>> report.counters["messages"], report.counters["rejects.post_only"], report.latency_rows()[0][:3]
(10, 1, ('frame_to_book', 2, 0.9))
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

__all__ = ["LiveReport"]


@dataclass(frozen=True)
class LiveReport:
    """The summary of a finished live run.

    Attributes
    ----------
    mode : str
        ``live``, ``paper`` or ``replay``.
    wall_seconds : float
        How long the engine ran.
    latency : dict
        Per stage (``frame_to_engine``, ``frame_to_book``, ``book_to_decision``, ``decision_to_risk``,
        ``risk_to_wire``, ``write_call``, ``engine_to_wire``, ``frame_to_wire``, ``frame_to_write``,
        ``first_to_wire``, ``snapshot_to_book``), a dict of ``count``, ``p50_us``, ``p99_us``, ``p999_us``,
        ``max_us``.
    counters : dict
        Messages, resyncs, reconnects, trade gaps (backfilled and lost), orders, fills, rejections by
        reason, reconciliation differences.
    events : list of dict
        Notable events in order (resyncs, reconnects, reconciliation differences, risk state changes).
    positions : list of dict
        Final position per instrument (``instrument``, ``quantity``, ``quantity_f64``, ``fills``).
    markets : list of dict
        Per instrument at the end: ``instrument``, ``synced``, ``update_id`` (the venue's id of the last
        book message applied), the best ``bids`` and ``asks`` as
        ``(price, size)`` floats (20 levels), ``trades`` delivered and ``last_trade_id``.
    cash_flow : str
        The account's exact cash change in the settlement currency (realized PnL - fees + funding).
    strategies : list of str
        The strategies that ran.
    """

    mode: str
    wall_seconds: float
    latency: dict[str, dict[str, float]] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    positions: list[dict[str, Any]] = field(default_factory=list)
    markets: list[dict[str, Any]] = field(default_factory=list)
    cash_flow: str = "0"
    strategies: list[str] = field(default_factory=list)

    @classmethod
    def from_core(cls, raw: dict[str, Any]) -> LiveReport:
        """Build the report from what the native core returns.

        The core's report arrives as JSON (``report_json``): latency per stage in nanoseconds, counters,
        rejection and denial reasons, reconciliation differences and notices, final positions.
        """
        core = json.loads(raw["report_json"]) if "report_json" in raw else raw
        latency = {
            str(stage["stage"]): {
                "count": float(stage["count"]),
                "p50_us": stage["p50_ns"] / 1e3,
                "p99_us": stage["p99_ns"] / 1e3,
                "p999_us": stage["p999_ns"] / 1e3,
                "max_us": stage["max_ns"] / 1e3,
            }
            for stage in core.get("latency", [])
        }
        counters: dict[str, int] = {}
        for key, value in core.items():
            if isinstance(value, bool):
                continue
            if isinstance(value, int):
                counters[key] = value
            elif isinstance(value, dict):
                counters.update({f"{key}.{reason}": int(count) for reason, count in value.items()})
        events = [
            {"kind": kind, "text": text}
            for kind in ("difference_log", "notices", "risk_events")
            for text in core.get(kind, [])
        ]
        venue = raw.get("venue")
        if venue:
            numbers = {k: v for k, v in venue.items() if isinstance(v, int) and not isinstance(v, bool)}
            counters.update({f"venue.{k}": int(v) for k, v in numbers.items()})
        return cls(
            mode=str(core.get("mode", "")),
            wall_seconds=float(raw.get("wall_seconds", 0.0)),
            latency=latency,
            counters=counters,
            events=events,
            positions=list(core.get("positions", [])),
            markets=[_market(market) for market in core.get("markets", [])],
            cash_flow=str(core.get("cash_flow", "0")),
            strategies=[str(s) for s in core.get("strategies", [])],
        )

    def latency_rows(self) -> list[tuple[str, int, float, float, float, float]]:
        """``(stage, count, p50_us, p99_us, p999_us, max_us)`` per stage, in pipeline order."""
        return [
            (
                stage,
                int(values.get("count", 0)),
                float(values.get("p50_us", 0.0)),
                float(values.get("p99_us", 0.0)),
                float(values.get("p999_us", 0.0)),
                float(values.get("max_us", 0.0)),
            )
            for stage, values in self.latency.items()
        ]

    def as_dict(self) -> dict[str, Any]:
        """The report as plain data (for ``--json``)."""
        return {
            "mode": self.mode,
            "wall_seconds": self.wall_seconds,
            "latency": self.latency,
            "counters": self.counters,
            "events": self.events,
            "positions": self.positions,
            "markets": self.markets,
            "cash_flow": self.cash_flow,
            "strategies": self.strategies,
        }


def _market(raw: dict[str, Any]) -> dict[str, Any]:
    """A market entry of the core's report with its mantissas as floats."""
    price_scale = 10.0 ** -int(raw.get("price_precision", 0))
    size_scale = 10.0 ** -int(raw.get("size_precision", 0))

    def levels(side: str) -> list[tuple[float, float]]:
        return [(price * price_scale, size * size_scale) for price, size in raw.get(side, [])]

    return {
        "instrument": str(raw.get("instrument", "")),
        "synced": bool(raw.get("synced", False)),
        "update_id": int(raw.get("update_id", 0)),
        "bids": levels("bids"),
        "asks": levels("asks"),
        "trades": int(raw.get("trades", 0)),
        "last_trade_id": raw.get("last_trade_id"),
    }
