"""Tests of ferrotrade.research.report, figures and downsample: the HTML page, its charts, its table."""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

from ferrotrade.research import Metrics, compute_metrics, empty, m4_downsample, metrics_table, write_report
from ferrotrade.research.report import SECTIONS
from ferrotrade.research.schema import (
    EQUITY_SCHEMA,
    FILLS_SCHEMA,
    ORDERS_SCHEMA,
    POSITIONS_SCHEMA,
    PRICES_SCHEMA,
)

T0 = np.datetime64("2024-03-01T00:00:00", "ns")
INSTRUMENTS = ("binance-usdm.BTCUSDT", "binance-usdm.ETHUSDT")


def synthetic_run(n_fills: int, n_prices: int, seed: int = 7) -> dict[str, pl.DataFrame]:
    """Frames with the engine's exact schemas: two strategies, two instruments, a week of activity."""
    rng = np.random.default_rng(seed)
    span_ns = 7 * 86_400 * 10**9
    ts = T0 + np.sort(rng.integers(0, span_ns, n_fills)).astype("timedelta64[ns]")
    side = rng.choice(["buy", "sell"], n_fills)
    qty = rng.uniform(0.001, 0.1, n_fills)
    price = 60_000 + np.cumsum(rng.normal(0, 5, n_fills))
    strategy = rng.choice(["mm", "taker"], n_fills)
    instrument = rng.choice(INSTRUMENTS, n_fills)
    fills = pl.DataFrame(
        {
            "ts_event": ts,
            "ts_recv": ts + np.timedelta64(2_000_000, "ns"),
            "strategy": strategy,
            "instrument": instrument,
            "client_id": np.arange(n_fills, dtype=np.uint64),
            "trade_id": np.arange(n_fills, dtype=np.uint64),
            "side": side,
            "price": price,
            "quantity": qty,
            "notional": price * qty,
            "fee": price * qty * 0.0002,
            "liquidity": rng.choice(["maker", "taker"], n_fills),
            "realized_pnl": rng.normal(0, 1, n_fills) * (rng.random(n_fills) < 0.5),
            "position": np.zeros(n_fills),
        },
        schema=FILLS_SCHEMA,
    ).with_columns(
        pl.when(pl.col("side") == "buy")
        .then(pl.col("quantity"))
        .otherwise(-pl.col("quantity"))
        .cum_sum()
        .over("strategy", "instrument")
        .alias("position")
    )
    price_ts = T0 + (np.arange(n_prices) * (span_ns // max(n_prices, 1))).astype("timedelta64[ns]")
    prices = pl.DataFrame(
        {
            "ts": price_ts,
            "instrument": np.array(INSTRUMENTS)[np.arange(n_prices) % 2],
            "price": 60_000 + np.cumsum(rng.normal(0, 1, n_prices)),
        },
        schema=PRICES_SCHEMA,
    )
    grid = T0 + (np.arange(7 * 1440) * 60 * 10**9).astype("timedelta64[ns]")
    eq_ts = np.sort(np.concatenate([grid, ts]))
    equity = pl.DataFrame(
        {
            "ts": eq_ts,
            "equity": 100_000 + np.cumsum(rng.normal(0, 10, eq_ts.size)),
            "realized_pnl": 0.0,
            "unrealized_pnl": 0.0,
            "fees": 0.0,
            "funding": 0.0,
        },
        schema=EQUITY_SCHEMA,
    )
    n_orders = n_fills + n_fills // 5
    status = rng.choice(["filled", "canceled", "denied", "rejected"], n_orders, p=[0.7, 0.2, 0.05, 0.05])
    orders = pl.DataFrame(
        {
            "client_id": np.arange(n_orders, dtype=np.uint64),
            "strategy": "mm",
            "instrument": INSTRUMENTS[0],
            "side": "buy",
            "order_type": "limit",
            "time_in_force": "gtc",
            "price": 60_000.0,
            "quantity": 0.01,
            "filled": np.where(status == "filled", 0.01, 0.0),
            "avg_fill_price": np.where(status == "filled", 60_000.0, np.nan),
            "status": status,
            "reason": np.where(status == "denied", "max_position", "post_only_would_take"),
            "ts_init": np.full(n_orders, T0),
            "ts_last": np.full(n_orders, T0),
        },
        schema=ORDERS_SCHEMA,
    ).with_columns(
        pl.col("avg_fill_price").fill_nan(None),
        pl.when(pl.col("status").is_in(["denied", "rejected"])).then(pl.col("reason")),
    )
    positions = pl.DataFrame(
        [
            {
                "strategy": "mm",
                "instrument": INSTRUMENTS[0],
                "quantity": 0.25,
                "avg_price": 60_010.5,
                "realized_pnl": 12.0,
                "unrealized_pnl": -3.0,
                "fees": 1.5,
                "funding": -0.2,
            },
            {
                "strategy": "taker",
                "instrument": INSTRUMENTS[1],
                "quantity": 0.0,
                "avg_price": None,
                "realized_pnl": -4.0,
                "unrealized_pnl": 0.0,
                "fees": 2.5,
                "funding": 0.0,
            },
        ],
        schema=POSITIONS_SCHEMA,
    )
    return {"equity": equity, "fills": fills, "orders": orders, "positions": positions, "prices": prices}


def metrics_for(frames: dict[str, pl.DataFrame]) -> Metrics:
    return compute_metrics(
        frames["equity"],
        frames["fills"],
        frames["orders"],
        initial_equity=100_000.0,
        events=1_000_000,
        wall_seconds=2.0,
    )


def report(path: Path, frames: dict[str, pl.DataFrame], **kwargs: Any) -> Path:
    return write_report(path, title="BTC <mm> run", metrics=metrics_for(frames), **frames, **kwargs)


def charts(page: str) -> dict[str, tuple[list[dict[str, Any]], dict[str, Any]]]:
    """Decode each ``Plotly.newPlot(id, data, layout, config)`` call into its data and layout."""
    decoder = json.JSONDecoder()
    found = {}
    for match in re.finditer(r'Plotly\.newPlot\(\s*"([^"]+)",\s*', page):
        data, end = decoder.raw_decode(page, match.end())
        layout, _ = decoder.raw_decode(page, re.compile(r",\s*").match(page, end).end())  # type: ignore[union-attr]
        found[match.group(1)] = (data, layout)
    return found


def over_price_markers(found: dict[str, Any]) -> list[dict[str, Any]]:
    return [t for t in found["chart-3"][0] if t["mode"] == "markers"]


def values(encoded: Any) -> np.ndarray[Any, Any]:
    """A plotly array: plain JSON list, or {"dtype", "bdata"} base64 typed array."""
    if isinstance(encoded, dict):
        return np.frombuffer(base64.b64decode(encoded["bdata"]), dtype=np.dtype(encoded["dtype"]))
    return np.asarray(encoded)


@pytest.fixture(scope="module")
def frames() -> dict[str, pl.DataFrame]:
    return synthetic_run(n_fills=600, n_prices=5_000)


def test_report_has_every_section_and_one_plot_per_chart(tmp_path: Path, frames: dict[str, Any]) -> None:
    out = report(tmp_path / "sub" / "run.html", frames)
    assert out == tmp_path / "sub" / "run.html"
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert page.rstrip().endswith("</html>")
    for section in SECTIONS:
        assert f"<h2>{section}</h2>" in page
    assert page.count("Plotly.newPlot(") == 5
    # plotly.js inline exactly once, nothing fetched from the network.
    assert page.count("* plotly.js v") == 1
    body = page[page.index("</head>") :]
    assert "src=" not in body
    assert "https://" not in body
    assert page.count("<script") == 6  # plotly.js, then one per chart
    assert "<title>BTC &lt;mm&gt; run</title>" in page
    assert "<td>Profit factor</td>" in page
    assert "60,010.5" in page  # positions table
    assert list(tmp_path.joinpath("sub").iterdir()) == [out]  # no temporary file left behind
    plain = tmp_path / "plain.txt"
    plain.write_text("")
    assert out.stat().st_mode == plain.stat().st_mode  # the umask's mode, not a temp file's 0600


def test_chart_data_matches_the_frames(tmp_path: Path, frames: dict[str, pl.DataFrame]) -> None:
    page = report(tmp_path / "run.html", frames).read_text(encoding="utf-8")
    found = charts(page)
    assert list(found) == ["chart-2", "chart-3", "chart-4", "chart-5", "chart-6"]
    fills = frames["fills"]

    equity, _ = found["chart-2"]
    assert [t["name"] for t in equity] == ["equity", "drawdown %"]
    eq_y = values(equity[0]["y"])
    assert frames["equity"].height > 10_000 >= eq_y.size  # M4-downsampled, extremes kept
    assert (eq_y.min(), eq_y.max()) == (frames["equity"]["equity"].min(), frames["equity"]["equity"].max())
    assert values(equity[1]["y"]).min() == pytest.approx(-metrics_for(frames).max_drawdown * 100)
    # UTC strings: plotly.js would shift epoch numbers into the browser's time zone.
    assert equity[0]["x"][0] == "2024-03-01 00:00:00.000"
    first_fill = fills.sort("ts_event")["ts_event"][0].strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
    assert first_fill in {t["x"][0] for t in over_price_markers(found)}

    over_price, layout = found["chart-3"]
    lines = [t for t in over_price if t["mode"] == "lines"]
    assert sorted(t["name"] for t in lines) == [f"{i} price" for i in INSTRUMENTS]
    markers = [t for t in over_price if t["mode"] == "markers"]
    assert sum(values(t["x"]).size for t in markers) == fills.height
    buys = sum(values(t["x"]).size for t in markers if t["name"].endswith(" buy"))
    assert buys == fills.filter(pl.col("side") == "buy").height
    assert all(t["marker"]["symbol"] == "triangle-up" for t in markers if t["name"].endswith(" buy"))
    assert {a["text"] for a in layout["annotations"]} == set(INSTRUMENTS)

    position, _ = found["chart-4"]
    assert len(position) == 4  # 2 strategies x 2 instruments
    assert all(t["line"]["shape"] == "hv" for t in position)

    histogram, _ = found["chart-5"]
    closing = fills.filter(pl.col("realized_pnl") != 0.0).height
    assert values(histogram[0]["y"]).sum() == closing

    orders, _ = found["chart-6"]
    by_status = dict(zip(orders[0]["x"], values(orders[0]["y"]).tolist(), strict=True))
    assert by_status == dict(frames["orders"]["status"].value_counts().iter_rows())
    denied = next(t for t in orders if t["name"] == "denied")
    assert denied["x"] == ["max_position"]


def test_report_without_prices_draws_markers_only(tmp_path: Path, frames: dict[str, pl.DataFrame]) -> None:
    no_prices = {k: v for k, v in frames.items() if k != "prices"}
    page = report(tmp_path / "run.html", no_prices).read_text(encoding="utf-8")
    over_price, _ = charts(page)["chart-3"]
    assert {t["mode"] for t in over_price} == {"markers"}


def test_report_of_an_empty_run(tmp_path: Path) -> None:
    frames = {name: empty(name) for name in ("equity", "fills", "orders", "positions")}
    m = compute_metrics(
        frames["equity"], frames["fills"], frames["orders"], initial_equity=1.0, events=0, wall_seconds=0.0
    )
    page = write_report(tmp_path / "empty.html", title="empty", metrics=m, **frames).read_text()
    assert page.count("Plotly.newPlot(") == 5
    assert "no positions" in page
    notes = [a["text"] for _, layout in charts(page).values() for a in layout.get("annotations", [])]
    assert {"no equity samples", "no fills", "no closing fills", "no orders"} <= set(notes)


def test_write_is_atomic(tmp_path: Path, frames: dict[str, pl.DataFrame], monkeypatch: Any) -> None:
    out = tmp_path / "run.html"
    out.write_text("previous report")

    def fail(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        report(out, frames)
    assert out.read_text() == "previous report"
    assert list(tmp_path.iterdir()) == [out]
    monkeypatch.undo()
    report(out, frames)
    assert out.read_text(encoding="utf-8").count("Plotly.newPlot(") == 5


def test_bad_frames_are_refused_before_writing(tmp_path: Path, frames: dict[str, pl.DataFrame]) -> None:
    bad = {**frames, "prices": frames["prices"].rename({"price": "mid"})}
    with pytest.raises(ValueError, match=r"prices frame .* missing price"):
        report(tmp_path / "run.html", bad)
    assert not any(tmp_path.iterdir())


def test_report_size_with_100k_fills(tmp_path: Path) -> None:
    big = synthetic_run(n_fills=100_000, n_prices=1_000_000)
    out = report(tmp_path / "big.html", big)
    size_mb = out.stat().st_size / 1e6
    # Measured 12.6 MB: 4.8 plotly.js, 4.7 the 100k fill markers (UTC time string, price, quantity),
    # 0.7 the two price lines (1M prices -> 2 x 10k points), 1.2 the four position lines, 0.7 equity.
    assert size_mb < 13.5
    over_price, _ = charts(out.read_text(encoding="utf-8"))["chart-3"]
    for line in (t for t in over_price if t["mode"] == "lines"):
        assert values(line["x"]).size <= 10_000
    assert sum(values(t["x"]).size for t in over_price if t["mode"] == "markers") == 100_000


def test_metrics_table_formats_every_row() -> None:
    base = compute_metrics(
        empty("equity"), empty("fills"), empty("orders"), initial_equity=10_000.0, events=0, wall_seconds=0.0
    )
    m = replace(
        base,
        start=datetime(2024, 3, 1, tzinfo=UTC),
        end=datetime(2024, 3, 2, 12, 30, tzinfo=UTC),
        final_equity=10_250.5,
        total_pnl=250.5,
        return_pct=2.505,
        annualized_return=0.84321,
        sharpe=2.3456,
        sortino=-0.5,
        calmar=12.0,
        max_drawdown=0.0123,
        max_drawdown_abs=125.0,
        trades=12_345,
        round_trips=321,
        closing_fills=600,
        win_rate=0.5512,
        profit_factor=1.234,
        maker_ratio=0.9,
        orders=20_000,
        orders_by_status={"filled": 12_000, "canceled": 7_000, "denied": 1_000},
        denied_by_reason={"max_position": 900, "unknown": 100},
        fill_ratio=0.6316,
        turnover=1_234_567.891,
        turnover_ratio=123.4567891,
        fees=-12.5,
        funding=3.25,
        events=45_000_000,
        wall_seconds=1.5,
        events_per_s=30_000_000.0,
    )
    assert metrics_table(m) == [
        ("Period (UTC)", "2024-03-01 00:00:00 to 2024-03-02 12:30:00"),
        ("Initial equity", "10,000.00"),
        ("Final equity", "10,250.50"),
        ("Total PnL", "+250.50"),
        ("Return", "+2.50 %"),
        ("Annualized return", "+84.32 %"),
        ("Sharpe (1m returns, annualized)", "2.35"),
        ("Sortino (1m returns, annualized)", "-0.50"),
        ("Calmar", "12.00"),
        ("Max drawdown", "1.23 % (125.00)"),
        ("Trades (fills)", "12,345"),
        ("Round trips", "321"),
        ("Win rate", "55.12 % of 600 closing fills"),
        ("Profit factor", "1.23"),
        ("Maker fills", "90.00 %"),
        ("Orders", "20,000"),
        ("Fill ratio", "63.16 %"),
        ("Orders by status", "filled 12,000, canceled 7,000, denied 1,000"),
        ("Denied by reason", "max_position 900, unknown 100"),
        ("Turnover", "1,234,567.89 (123.46x initial equity)"),
        ("Fees paid (negative = rebates)", "-12.50"),
        ("Funding received", "+3.25"),
        ("Events", "45,000,000"),
        ("Events/s", "30,000,000"),
        ("Wall time", "1.50 s"),
    ]


def test_metrics_table_says_n_a_for_undefined_values() -> None:
    m = compute_metrics(
        empty("equity"), empty("fills"), empty("orders"), initial_equity=1.0, events=0, wall_seconds=0.0
    )
    rows = dict(metrics_table(m))
    for label in ("Sharpe (1m returns, annualized)", "Calmar", "Profit factor", "Fill ratio", "Events/s"):
        assert rows[label] == "n/a"
    assert rows["Period (UTC)"] == "n/a to n/a"
    assert rows["Win rate"] == "n/a of 0 closing fills"


def test_metrics_and_table_do_not_import_plotly() -> None:
    code = "import sys, ferrotrade.research; print('plotly' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_m4_keeps_extremes_ends_and_order_per_group() -> None:
    rng = np.random.default_rng(3)
    n = 200_000
    frame = pl.DataFrame(
        {
            "ts": T0 + np.arange(n).astype("timedelta64[ms]"),
            "key": np.where(np.arange(n) < 150_000, "a", "b"),
            "y": np.cumsum(rng.normal(size=n)),
        }
    ).with_columns(pl.col("ts").dt.replace_time_zone("UTC"))
    small = m4_downsample(frame, "ts", "y", max_points=1_000, group_by=["key"])
    for key in ("a", "b"):
        full = frame.filter(pl.col("key") == key)
        kept = small.filter(pl.col("key") == key)
        assert 900 <= kept.height <= 1_000
        assert kept["y"].max() == full["y"].max()
        assert kept["y"].min() == full["y"].min()
        assert (kept["ts"][0], kept["ts"][-1]) == (full["ts"][0], full["ts"][-1])
        assert kept["ts"].is_sorted()
        assert kept.join(full, on=["ts", "key", "y"], how="anti").height == 0  # rows are originals


def test_m4_leaves_small_groups_and_small_frames_alone() -> None:
    frame = pl.DataFrame({"x": range(1_010), "key": ["big"] * 1_000 + ["small"] * 10, "y": 1.0})
    out = m4_downsample(frame, "x", "y", max_points=40, group_by=["key"])
    assert out.filter(pl.col("key") == "small").height == 10
    assert out.filter(pl.col("key") == "big").height <= 40
    assert m4_downsample(frame.head(40), "x", "y", max_points=40).equals(frame.head(40))
    with pytest.raises(ValueError, match=">= 4"):
        m4_downsample(frame, "x", "y", max_points=3)
