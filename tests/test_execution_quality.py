"""Execution quality of parent orders (ferrotrade.research.execution), its report section, and the
intraday volume profile (ferrotrade.data.profile) on the bundled catalog."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from ferrotrade.data import scan, volume_profile
from ferrotrade.data.schema import SCHEMAS as DATA_SCHEMAS
from ferrotrade.research import compute_metrics, empty, execution_quality, fill_timeline, write_report
from ferrotrade.research.execution import QUALITY_COLUMNS
from ferrotrade.research.report import EXECUTION_SECTION, SECTIONS
from ferrotrade.research.schema import CHILDREN_SCHEMA, FILLS_SCHEMA, PARENTS_SCHEMA

CATALOG = Path(__file__).parent / "data" / "catalog"
BTC = "binance-usdm.BTCUSDT"
T0 = datetime(2024, 8, 8, 12, 0, tzinfo=UTC)


def parent(**overrides: Any) -> dict[str, Any]:
    """A completed 2 BTC TWAP buy over ten minutes; ``overrides`` change any column."""
    row: dict[str, Any] = {
        "strategy": "exec",
        "parent_id": 1,
        "algo": "twap",
        "instrument": BTC,
        "side": "buy",
        "quantity": 2.0,
        "filled": 2.0,
        "limit_price": None,
        "accepted_at": T0,
        "start": T0,
        "end": T0 + timedelta(minutes=10),
        "finished_at": T0 + timedelta(minutes=10),
        "status": "completed",
        "reason": None,
        "arrival_price": 60_000.0,
        "average_price": 60_030.0,
        "market_volume": 40.0,
        "market_vwap": 60_015.0,
        "fees": 48.0,
        "children": 10,
        "fills": 10,
    }
    return row | overrides


def parents_frame(*rows: dict[str, Any]) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=PARENTS_SCHEMA, orient="row")


def child(client_id: int, parent_id: int = 1, strategy: str = "exec", note: str = "slice") -> dict[str, Any]:
    return {
        "strategy": strategy,
        "parent_id": parent_id,
        "client_id": client_id,
        "instrument": BTC,
        "sent_at": T0 + timedelta(seconds=client_id),
        "quantity": 1.0,
        "price": None,
        "note": note,
    }


def fill(
    client_id: int,
    seconds: float,
    price: float,
    quantity: float,
    *,
    strategy: str = "exec",
    liquidity: str = "taker",
    side: str = "buy",
) -> dict[str, Any]:
    ts = T0 + timedelta(seconds=seconds)
    return {
        "ts_event": ts,
        "ts_recv": ts + timedelta(milliseconds=2),
        "strategy": strategy,
        "instrument": BTC,
        "client_id": client_id,
        "trade_id": int(seconds * 1000),
        "side": side,
        "price": price,
        "quantity": quantity,
        "notional": price * quantity,
        "fee": price * quantity * 0.0004,
        "liquidity": liquidity,
        "realized_pnl": 0.0,
        "position": 0.0,
    }


def children_frame(*rows: dict[str, Any]) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=CHILDREN_SCHEMA, orient="row")


def fills_frame(*rows: dict[str, Any]) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=FILLS_SCHEMA, orient="row")


def assert_no_nan_or_inf(frame: pl.DataFrame) -> None:
    for name, dtype in frame.schema.items():
        if dtype == pl.Float64:
            column = frame[name]
            assert not column.is_nan().any(), name
            assert not column.is_infinite().any(), name


# --- execution_quality -------------------------------------------------------------------------------


def test_shortfall_is_a_positive_cost_for_a_buy_above_and_a_sell_below_arrival() -> None:
    quality = execution_quality(
        parents_frame(
            parent(parent_id=1, side="buy", average_price=60_030.0, market_vwap=60_015.0),
            parent(parent_id=2, side="sell", average_price=59_940.0, market_vwap=59_970.0),
            parent(parent_id=3, side="buy", average_price=59_970.0, market_vwap=60_000.0),
            parent(parent_id=4, side="sell", average_price=60_060.0, market_vwap=60_060.0),
        )
    )
    assert quality.columns == list(QUALITY_COLUMNS)
    shortfall = quality["implementation_shortfall_bps"].to_list()
    assert shortfall == pytest.approx([5.0, 10.0, -5.0, -10.0])  # negative: price improvement
    vs_vwap = quality["slippage_vs_vwap_bps"].to_list()
    assert vs_vwap == pytest.approx([15 / 60_015 * 1e4, 30 / 59_970 * 1e4, -30 / 60_000 * 1e4, 0.0])
    assert quality["interval_vwap"].to_list() == [60_015.0, 59_970.0, 60_000.0, 60_060.0]


def test_participation_fill_ratio_and_duration() -> None:
    quality = execution_quality(
        parents_frame(
            parent(parent_id=1, filled=2.0, market_volume=40.0),
            parent(
                parent_id=2, quantity=4.0, filled=1.0, market_volume=5.0, status="canceled", reason="user"
            ),
        )
    )
    assert quality["participation"].to_list() == pytest.approx([0.05, 0.2])
    assert quality["fill_ratio"].to_list() == pytest.approx([1.0, 0.25])
    assert quality["duration_s"].to_list() == [600.0, 600.0]
    assert quality["reason"].to_list() == [None, "user"]
    # The parents' own columns pass through unchanged.
    assert quality.select("strategy", "parent_id", "fees", "children", "fills").rows() == [
        ("exec", 1, 48.0, 10, 10),
        ("exec", 2, 48.0, 10, 10),
    ]
    assert quality.schema["children"] == pl.UInt32
    assert quality.schema["duration_s"] == pl.Float64


def test_undefined_figures_are_null_never_nan_or_inf() -> None:
    quality = execution_quality(
        parents_frame(
            # Never filled, the run ended while it was working, no trades received.
            parent(
                parent_id=1,
                filled=0.0,
                average_price=None,
                market_volume=None,
                market_vwap=None,
                finished_at=None,
                status="working",
                fills=0,
            ),
            # Trades received but none printed; a zero quantity and a zero arrival price.
            parent(parent_id=2, quantity=0.0, filled=0.0, market_volume=0.0, arrival_price=0.0, fills=0),
            # Canceled while still scheduled: finished before its start.
            parent(parent_id=3, start=T0 + timedelta(minutes=5), finished_at=T0 + timedelta(minutes=1)),
            # A side the definitions do not know has no sign.
            parent(parent_id=4, side="unknown"),
        )
    )
    assert_no_nan_or_inf(quality)
    rows = {row["parent_id"]: row for row in quality.iter_rows(named=True)}
    for column in ("implementation_shortfall_bps", "participation", "slippage_vs_vwap_bps", "duration_s"):
        assert rows[1][column] is None, column
    assert rows[1]["fill_ratio"] == 0.0
    assert rows[2]["fill_ratio"] is None
    assert rows[2]["participation"] is None
    assert rows[2]["implementation_shortfall_bps"] is None
    assert rows[3]["duration_s"] == 0.0
    assert rows[4]["implementation_shortfall_bps"] is None
    assert rows[4]["participation"] == pytest.approx(0.05)
    assert quality["maker_ratio"].null_count() == 4  # no fills and children given


def test_maker_ratio_from_the_fills_of_the_children() -> None:
    parents = parents_frame(parent(parent_id=1), parent(parent_id=2), parent(parent_id=3, fills=0))
    children = children_frame(child(10, parent_id=1), child(11, parent_id=1), child(12, parent_id=2))
    fills = fills_frame(
        fill(10, 1, 60_000.0, 1.5, liquidity="maker"),
        fill(11, 2, 60_010.0, 0.5),
        fill(12, 3, 60_020.0, 1.0),
        fill(10, 4, 60_000.0, 9.0, strategy="other", liquidity="maker"),  # another strategy's client 10
    )
    quality = execution_quality(parents, fills, children)
    assert quality.columns == list(QUALITY_COLUMNS)
    assert quality["parent_id"].to_list() == [1, 2, 3]
    assert quality["maker_ratio"].to_list() == [0.75, 0.0, None]


def test_fills_without_children_cannot_be_attributed() -> None:
    with pytest.raises(ValueError, match="fills and children together"):
        execution_quality(parents_frame(parent()), empty("fills"))


def test_a_parents_frame_of_another_schema_is_refused() -> None:
    bad = parents_frame(parent()).with_columns(pl.col("children").cast(pl.Int64)).drop("market_vwap")
    with pytest.raises(ValueError, match=r"parents frame .*children is Int64.*missing market_vwap"):
        execution_quality(bad)


# --- fill_timeline -----------------------------------------------------------------------------------


def timeline_frames() -> tuple[pl.DataFrame, pl.DataFrame]:
    children = children_frame(
        child(10, note="slice 1/3"),
        child(11, note="slice 2/3"),
        child(12, note="slice 3/3"),
        child(20, parent_id=2, note="slice 1/1"),
        child(30, parent_id=1, strategy="other", note="best venue"),
    )
    fills = fills_frame(
        fill(12, 30, 103.0, 1.0),
        fill(10, 10, 100.0, 1.0),
        fill(20, 15, 500.0, 7.0),  # parent 2
        fill(11, 20, 101.0, 0.5),
        fill(10, 10, 102.0, 1.0),  # same time as the first fill of client 10, after it in the frame
        fill(30, 5, 900.0, 3.0, strategy="other"),  # the other strategy's parent 1
    )
    return children, fills


def test_fill_timeline_is_in_time_order_with_running_totals() -> None:
    children, fills = timeline_frames()
    timeline = fill_timeline(children, fills, 1, strategy="exec")
    assert timeline.columns == [
        "ts_event",
        "ts_recv",
        "strategy",
        "parent_id",
        "client_id",
        "instrument",
        "side",
        "price",
        "quantity",
        "fee",
        "liquidity",
        "filled",
        "average_price",
        "note",
    ]
    assert timeline["ts_event"].is_sorted()
    assert timeline.select("client_id", "price", "filled", "note").rows() == [
        (10, 100.0, 1.0, "slice 1/3"),
        (10, 102.0, 2.0, "slice 1/3"),
        (11, 101.0, 2.5, "slice 2/3"),
        (12, 103.0, 3.5, "slice 3/3"),
    ]
    expected = [100.0, 101.0, (100 + 102 + 50.5) / 2.5, (100 + 102 + 50.5 + 103) / 3.5]
    assert timeline["average_price"].to_list() == pytest.approx(expected)
    assert set(timeline["parent_id"].to_list()) == {1}
    assert timeline.schema["ts_event"] == pl.Datetime("ns", "UTC")


def test_fill_timeline_asks_for_the_strategy_when_the_parent_id_is_ambiguous() -> None:
    children, fills = timeline_frames()
    with pytest.raises(ValueError, match=r"parent 1 exists in strategies exec, other: pass strategy="):
        fill_timeline(children, fills, 1)
    other = fill_timeline(children, fills, 1, strategy="other")
    assert other.select("price", "filled", "average_price", "note").rows() == [
        (900.0, 3.0, 900.0, "best venue")
    ]
    assert fill_timeline(children, fills, 2)["filled"].to_list() == [7.0]


def test_fill_timeline_of_a_parent_without_children_or_fills_is_empty() -> None:
    children, fills = timeline_frames()
    assert fill_timeline(children, fills, 99).height == 0
    unfilled = fill_timeline(children_frame(child(40, parent_id=4)), fills, 4)
    assert unfilled.height == 0
    assert unfilled.columns[-3:] == ["filled", "average_price", "note"]


# --- report section ----------------------------------------------------------------------------------


def report(path: Path, fills: pl.DataFrame, **kwargs: Any) -> str:
    equity, orders, positions = empty("equity"), empty("orders"), empty("positions")
    metrics = compute_metrics(equity, fills, orders, initial_equity=100_000.0, events=0, wall_seconds=0.0)
    out = write_report(
        path,
        title="exec run",
        metrics=metrics,
        equity=equity,
        fills=fills,
        orders=orders,
        positions=positions,
        **kwargs,
    )
    return out.read_text(encoding="utf-8")


def new_plots(page: str) -> list[str]:
    return re.findall(r'Plotly\.newPlot\(\s*"([^"]+)"', page)


def execution_run() -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    parents = parents_frame(
        parent(parent_id=1, filled=2.0, average_price=60_030.0),
        parent(
            parent_id=2,
            algo="pov",
            side="sell",
            filled=0.0,
            average_price=None,
            market_volume=None,
            market_vwap=None,
            status="canceled",
            reason="limit <breached>",
            fills=0,
        ),
    )
    children = children_frame(child(10), child(11), child(20, parent_id=2))
    fills = fills_frame(fill(10, 60, 60_020.0, 1.0), fill(11, 300, 60_040.0, 1.0))
    return parents, children, fills


def test_report_ends_with_the_execution_section(tmp_path: Path) -> None:
    parents, children, fills = execution_run()
    page = report(tmp_path / "run.html", fills, parents=parents, children=children)
    for section in (*SECTIONS, EXECUTION_SECTION):
        assert f"<h2>{section}</h2>" in page
    assert page.index(f"<h2>{SECTIONS[-1]}</h2>") < page.index(f"<h2>{EXECUTION_SECTION}</h2>")
    section = page[page.index(f"<h2>{EXECUTION_SECTION}</h2>") :]
    for header in ("<th>IS bps</th>", "<th>participation</th>", "<th>vs VWAP bps</th>"):
        assert header in section
    assert "<td>exec #1</td>" in section
    assert '<td class="num">+5.00</td>' in section  # 60,030 against 60,000
    assert '<td class="num">5.00 %</td>' in section  # 2 of 40 printed
    assert '<td class="num">2 / 2</td>' in section
    assert "<td>canceled (limit &lt;breached&gt;)</td>" in section  # escaped
    plots = new_plots(page)
    assert plots == [*(f"chart-{i}" for i in range(2, 7)), "chart-7"]
    assert "chart-7" in section
    # One line, for the only parent with fills: from 0 at its start to 2 at its last fill.
    chart = section[section.index("Plotly.newPlot(") :]
    data, _ = json.JSONDecoder().raw_decode(chart, chart.index("[{"))
    assert len(data) == 1
    assert data[0]["name"] == f"exec #1 twap buy {BTC}"
    assert data[0]["x"] == ["2024-08-08 12:00:00.000", "2024-08-08 12:01:00.000", "2024-08-08 12:05:00.000"]


def test_report_without_parents_has_no_execution_section(tmp_path: Path) -> None:
    _, _, fills = execution_run()
    for kwargs in ({}, {"parents": empty("parents"), "children": empty("children")}):
        page = report(tmp_path / "run.html", fills, **kwargs)
        assert f"<h2>{EXECUTION_SECTION}</h2>" not in page
        assert len(new_plots(page)) == 5


def test_report_with_parents_but_no_children_lists_them_without_a_chart(tmp_path: Path) -> None:
    parents, _, fills = execution_run()
    page = report(tmp_path / "run.html", fills, parents=parents)
    assert f"<h2>{EXECUTION_SECTION}</h2>" in page
    assert "no children frame" in page
    assert len(new_plots(page)) == 5


def test_report_draws_at_most_20_parents_and_says_so(tmp_path: Path) -> None:
    n = 25
    parents = parents_frame(
        *(parent(parent_id=i, start=T0 + timedelta(seconds=n - i), fills=1) for i in range(n))
    )
    children = children_frame(*(child(100 + i, parent_id=i) for i in range(n)))
    fills = fills_frame(*(fill(100 + i, 60 + i, 60_000.0, 2.0) for i in range(n)))
    page = report(tmp_path / "run.html", fills, parents=parents, children=children)
    assert "25 parents have fills: the first 20 by start are drawn" in page
    section = page[page.index(f"<h2>{EXECUTION_SECTION}</h2>") :]
    chart = section[section.index("Plotly.newPlot(") :]
    data, _ = json.JSONDecoder().raw_decode(chart, chart.index("[{"))
    assert len(data) == 20
    # The latest parents start first.
    assert data[0]["name"].startswith("exec #24 ")
    assert section.count("<td>exec #") == n


# --- volume_profile ----------------------------------------------------------------------------------


def test_volume_profile_of_the_bundled_catalog() -> None:
    profile = volume_profile(CATALOG, BTC)
    assert len(profile) == 96
    assert sum(profile) == pytest.approx(1.0)
    # The catalog's trades are the last six minutes of 2024-08-08.
    assert profile[-1] == pytest.approx(1.0)
    assert all(share == 0.0 for share in profile[:-1])
    assert len(volume_profile(CATALOG, BTC, bucket_minutes=60)) == 24


def test_volume_profile_by_minute_matches_the_trades() -> None:
    profile = volume_profile(CATALOG, BTC, bucket_minutes=1)
    assert len(profile) == 1440
    assert sum(profile) == pytest.approx(1.0)
    trades = scan(CATALOG, venue="binance-usdm", symbol="BTCUSDT", kind="trades").collect()
    minute = pl.col("ts_event").dt.hour().cast(pl.Int64) * 60 + pl.col("ts_event").dt.minute()
    per_minute = trades.group_by(minute.alias("minute")).agg(pl.col("size").sum()).sort("minute")
    total = per_minute["size"].sum()
    assert [i for i, share in enumerate(profile) if share > 0] == per_minute["minute"].to_list()
    for m, size in per_minute.iter_rows():
        assert profile[m] == pytest.approx(size / total)


def test_volume_profile_weighs_every_day_the_same(tmp_path: Path) -> None:
    catalog = tmp_path / "catalog"
    (catalog / "trades").mkdir(parents=True)
    (catalog / "instruments.json").write_text((CATALOG / "instruments.json").read_text())
    days = {
        # A busy day trading only in the first hour, a quiet one split over hours 0 and 12.
        "2024-08-01": [(0, 900)],
        "2024-08-02": [(0, 50), (12, 50)],
    }
    for day, trades in days.items():
        start = datetime.fromisoformat(day).replace(tzinfo=UTC)
        stamps = [start + timedelta(hours=hour, minutes=5) for hour, _ in trades]
        frame = pl.DataFrame(
            {
                "ts_event": stamps,
                "ts_recv": stamps,
                "trade_id": list(range(len(trades))),
                "price": 60_000_0,
                "size": [size for _, size in trades],
                "aggressor": 1,
            },
            schema=DATA_SCHEMAS["trades"],
        )
        folder = catalog / "trades" / "venue=binance-usdm" / "symbol=BTCUSDT" / f"date={day}"
        folder.mkdir(parents=True)
        frame.write_parquet(folder / "part-0.parquet")
    profile = volume_profile(catalog, BTC, bucket_minutes=60)
    assert profile[0] == pytest.approx((1.0 + 0.5) / 2)
    assert profile[12] == pytest.approx(0.5 / 2)
    assert sum(profile) == pytest.approx(1.0)
    # Bounded to the second day only.
    assert volume_profile(catalog, BTC, 60, start="2024-08-02", end="2024-08-03")[:13:12] == [0.5, 0.5]


@pytest.mark.parametrize("minutes", [7, 0, -15, 2000])
def test_volume_profile_needs_buckets_that_divide_a_day(minutes: int) -> None:
    with pytest.raises(ValueError, match="bucket_minutes must"):
        volume_profile(CATALOG, BTC, bucket_minutes=minutes)


def test_volume_profile_without_trades_names_the_instrument() -> None:
    with pytest.raises(ValueError, match=r"no trades for binance-usdm\.ETHUSDT .*symbols: BTCUSDT"):
        volume_profile(CATALOG, "binance-usdm.ETHUSDT")
    with pytest.raises(ValueError, match=r"no traded volume for binance-usdm\.BTCUSDT .*2024-08-09"):
        volume_profile(CATALOG, BTC, start="2024-08-09", end="2024-08-10")
    with pytest.raises(ValueError, match=r"no trades for binance-spot\.BTCUSDT"):
        volume_profile(CATALOG, "binance-spot.BTCUSDT")  # bars only
    with pytest.raises(ValueError, match=r"venue\.symbol"):
        volume_profile(CATALOG, "BTCUSDT")
