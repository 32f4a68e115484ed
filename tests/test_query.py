"""scan, info and instruments over a catalog imported from real captures."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from ferrotrade.data import KINDS, import_captures, info, instruments, scan
from ferrotrade.data.query import INFO_SCHEMA, to_nanos
from ferrotrade.data.schema import INSTRUMENT_SCHEMA, SCHEMAS
from ferrotrade.exceptions import ConfigError

DATA = Path(__file__).parent / "data"
KLINES_JAN = DATA / "binance-vision" / "BTCUSDT-1h-2023-01.csv"
KLINES_FEB = DATA / "binance-vision" / "BTCUSDT-1h-2023-02.csv"
BYBIT_BOOK = DATA / "bybit" / "2024-12-01_XRPUSDT_ob500.data"
TARDIS_TRADES = DATA / "tardis" / "trades.csv"
USDM_COLLECTOR = DATA / "collector" / "btcusdt_20230404.dat.gz"  # has markPriceUpdate


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("query")
    import_captures([KLINES_JAN, KLINES_FEB, BYBIT_BOOK, TARDIS_TRADES, USDM_COLLECTOR], root, chunk_rows=500)
    return root


def _instrument(catalog: Path, kind: str) -> tuple[str, str]:
    row = info(catalog).filter(pl.col("kind") == kind).row(0, named=True)
    return row["venue"], row["symbol"]


def test_scan_returns_the_kind_schema_and_partition_columns(catalog: Path) -> None:
    for kind in ("bars", "book", "trades"):
        frame = scan(catalog, kind=kind)
        schema = frame.collect_schema()
        assert list(schema)[: len(SCHEMAS[kind])] == list(SCHEMAS[kind])
        assert {"venue", "symbol", "date"} <= set(schema)
        assert frame.select(pl.len()).collect().item() > 0


def test_scan_filters_by_venue_and_symbol(catalog: Path) -> None:
    bars = scan(catalog, kind="bars", venue="binance-spot", symbol="BTCUSDT").collect()
    assert bars.height == 744 + 672
    assert set(bars["symbol"]) == {"BTCUSDT"}
    every_book = scan(catalog, kind="book").collect()
    assert set(every_book["venue"]) == {"bybit-linear", "binance-usdm"}
    for venue, symbol in (("bybit-linear", "XRPUSDT"), ("binance-usdm", "BTCUSDT")):
        book = scan(catalog, kind="book", venue=venue).collect()
        assert set(book["symbol"]) == {symbol}
        assert book.height == every_book.filter(pl.col("venue") == venue).height > 0
    # the same symbol on two venues: the venue filter tells them apart
    assert set(scan(catalog, kind="trades", symbol="BTCUSDT").collect()["venue"]) == {"binance-usdm"}
    assert scan(catalog, kind="book", symbol="XRPUSDT", venue="bybit-linear").collect().height > 0


def test_scan_time_window(catalog: Path) -> None:
    venue, symbol = _instrument(catalog, "bars")
    every = scan(catalog, kind="bars", venue=venue).collect()
    start, end = dt.datetime(2023, 1, 10, 6, tzinfo=dt.UTC), dt.datetime(2023, 1, 12, tzinfo=dt.UTC)
    expected = every.filter((pl.col("ts_event") >= start) & (pl.col("ts_event") < end)).height
    assert expected == 42  # hourly bars: 18 on the 10th from 06:00, 24 on the 11th
    for low, high in (
        ("2023-01-10T06:00:00", "2023-01-12"),
        ("2023-01-10T07:00:00+01:00", dt.date(2023, 1, 12)),
        (start.replace(tzinfo=None), end),
        (to_nanos(start), to_nanos(end)),
    ):
        window = scan(catalog, kind="bars", venue=venue, symbol=symbol, start=low, end=high).collect()
        assert window.height == expected, (low, high)
        assert window["ts_event"].min() >= start
        assert window["ts_event"].max() < end
    assert (
        scan(catalog, kind="bars", start="2023-02-15").collect().height
        == every.filter(pl.col("ts_event") >= dt.datetime(2023, 2, 15, tzinfo=dt.UTC)).height
    )


def test_scan_with_floats(catalog: Path) -> None:
    table = instruments(catalog)
    for kind in ("bars", "book", "trades"):
        venue, symbol = _instrument(catalog, kind)
        precision = table.filter((pl.col("venue") == venue) & (pl.col("symbol") == symbol)).row(0, named=True)
        frame = scan(catalog, kind=kind, venue=venue, with_floats=True).head(50).collect()
        price = "close" if kind == "bars" else "price"
        size = "volume" if kind == "bars" else "size"
        assert frame[f"{price}_f"].to_list() == pytest.approx(
            (frame[price] / 10 ** precision["price_precision"]).to_list()
        )
        assert frame[f"{size}_f"].to_list() == pytest.approx(
            (frame[size] / 10 ** precision["size_precision"]).to_list()
        )
        assert frame[f"{price}_f"].null_count() == 0


def test_scan_errors(catalog: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown kind 'candles'"):
        scan(catalog, kind="candles")
    with pytest.raises(ConfigError, match="venue 'nowhere'"):
        scan(catalog, kind="bars", venue="nowhere")
    with pytest.raises(ConfigError, match="symbol 'DOGEUSDT'"):
        scan(catalog, kind="bars", symbol="DOGEUSDT")
    with pytest.raises(ConfigError, match="no 'agg_trades' data; it holds: book, trades, quotes, bars, mark"):
        scan(catalog, kind="agg_trades")
    with pytest.raises(FileNotFoundError):
        scan(tmp_path / "missing", kind="bars")
    with pytest.raises(ConfigError, match="ISO"):
        scan(catalog, kind="bars", start="yesterday")


def test_info_lists_what_is_there(catalog: Path) -> None:
    table = info(catalog)
    assert table.schema == INFO_SCHEMA
    assert table["kind"].to_list() == sorted(table["kind"].to_list(), key=KINDS.index)
    assert set(table["kind"]) == {"book", "trades", "quotes", "bars", "mark"}
    for row in table.iter_rows(named=True):
        frame = scan(catalog, kind=row["kind"], venue=row["venue"], symbol=row["symbol"]).collect()
        assert row["rows"] == frame.height
        assert row["first_ts_event"] == frame["ts_event"].min()
        assert row["last_ts_event"] == frame["ts_event"].max()
        assert row["first_date"] == frame["date"].min() == frame["ts_recv"].dt.date().min()
        assert row["last_date"] == frame["date"].max() == frame["ts_recv"].dt.date().max()
        folder = catalog / row["kind"]
        parts = [p for p in folder.rglob("*.parquet") if f"symbol={row['symbol']}" in str(p)]
        assert row["files"] == len(parts)
        assert row["bytes"] == sum(p.stat().st_size for p in parts)
    bars = table.filter(pl.col("kind") == "bars").row(0, named=True)
    assert bars["rows"] == 744 + 672
    assert bars["first_date"] == dt.date(2023, 1, 1)


def test_info_of_an_empty_catalog(tmp_path: Path) -> None:
    assert info(tmp_path).is_empty()
    with pytest.raises(FileNotFoundError):
        info(tmp_path / "missing")


def test_instruments(catalog: Path) -> None:
    table = instruments(catalog)
    assert table.schema == INSTRUMENT_SCHEMA
    assert {"XRPUSDT", "BTCUSDT"} <= set(table["symbol"])
    assert table.select(pl.col("price_precision").is_between(0, 18).all()).item()
    assert set(table["contract_type"]) <= {"spot", "linear", "inverse"}


def test_mark_floats_use_the_mark_precision(catalog: Path) -> None:
    (instrument,) = (
        instruments(catalog)
        .filter(pl.col("symbol") == "BTCUSDT", pl.col("venue") == "binance-usdm")
        .rows(named=True)
    )
    assert (
        instrument["mark_precision"] > instrument["price_precision"]
    )  # Binance marks are finer than the tick
    mark = scan(catalog, kind="mark", with_floats=True).collect()
    assert mark.height > 0
    assert mark["mark_price_f"].to_list() == pytest.approx(
        (mark["mark_price"] / 10 ** instrument["mark_precision"]).to_list()
    )
    assert 10_000 < mark["mark_price_f"].mean() < 100_000  # BTC in April 2023: about 28k
