"""import_captures on real captures: layout, contents, idempotence, atomicity, precision merge."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from collections.abc import Iterable
from pathlib import Path

import polars as pl
import pytest

from ferrotrade import _core
from ferrotrade.data import SCHEMAS, import_captures, scan
from ferrotrade.data.layout import iter_parts, parse_partition
from ferrotrade.data.schema import conform, mantissa_columns, price_columns
from ferrotrade.exceptions import DataFormatError

DATA = Path(__file__).parent / "data"
KLINES_JAN = DATA / "binance-vision" / "BTCUSDT-1h-2023-01.csv"
KLINES_FEB = DATA / "binance-vision" / "BTCUSDT-1h-2023-02.csv"
BYBIT_BOOK = DATA / "bybit" / "2024-12-01_XRPUSDT_ob500.data"
TARDIS_TRADES = DATA / "tardis" / "trades.csv"
TARDIS_QUOTES = DATA / "tardis" / "quotes.csv"
# a collector session of two files spanning midnight (spot BTCUSDT, book + trades + bookTicker)
SPOT_SESSION = [DATA / "sessions" / "binance-spot" / f"btcusdt_2024080{day}.gz" for day in (8, 9)]
# a cryptofeed capture of four spot books in one session
CRYPTOFEED = [DATA / "cryptofeed" / name for name in ("BINANCE.0", "BINANCE.http.0.0", "BINANCE.ws.1.0")]
# USD-M collector with markPrice: the same instrument as the tardis files, at another price precision
USDM_COLLECTOR = DATA / "collector" / "btcusdt_20230404.dat.gz"
INPUTS = [
    KLINES_JAN,
    KLINES_FEB,
    BYBIT_BOOK,
    TARDIS_TRADES,
    TARDIS_QUOTES,
    *SPOT_SESSION,
    *CRYPTOFEED,
    USDM_COLLECTOR,
]
CHUNK_ROWS = 300  # small, so the hourly bars come in chunks that span midnight

PART_PATH = re.compile(
    r"^(book|trades|agg_trades|quotes|bars|mark)/venue=[^/]+/symbol=[^/]+/date=\d{4}-\d{2}-\d{2}/"
    r"part-[0-9a-f]{16}-\d{6}\.parquet$"
)

Key = tuple[str, str, str]


def reader_frames(
    paths: Iterable[Path], chunk_rows: int = CHUNK_ROWS, *, raw: bool = False
) -> dict[Key, pl.DataFrame]:
    """What the native reader yields for ``paths``, concatenated per (kind, venue, symbol).

    Conformed to the catalog schema unless ``raw``.
    """
    frames: dict[Key, list[pl.DataFrame]] = {}
    for _, files in _core.plan_sessions([str(p.resolve()) for p in paths]):
        for _, kind, venue, symbol, batch in _core.CaptureReader(files, chunk_rows=chunk_rows):
            frame = pl.DataFrame(batch)
            frames.setdefault((kind, venue, symbol), []).append(frame if raw else conform(frame, kind))
    return {key: pl.concat(parts) for key, parts in frames.items()}


def snapshot(catalog: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``catalog`` with its size and mtime: equal snapshots mean an untouched catalog."""
    return {
        str(p.relative_to(catalog)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(catalog.rglob("*"))
        if p.is_file()
    }


def catalog_rows(catalog: Path) -> dict[Key, int]:
    counts: dict[Key, int] = {}
    for part in iter_parts(catalog):
        kind, venue, symbol, _ = parse_partition(part, catalog)
        counts[kind, venue, symbol] = (
            counts.get((kind, venue, symbol), 0) + pl.scan_parquet(part).select(pl.len()).collect().item()
        )
    return counts


@pytest.fixture(scope="module")
def expected() -> dict[Key, pl.DataFrame]:
    return reader_frames(INPUTS)


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("catalog") / "cat"
    import_captures(INPUTS, root, chunk_rows=CHUNK_ROWS)
    return root


def test_inputs_cover_several_kinds(expected: dict[Key, pl.DataFrame]) -> None:
    kinds = {kind for kind, _, _ in expected}
    assert {"bars", "book", "trades", "quotes"} <= kinds


def test_reader_batches_have_the_documented_schema() -> None:
    """The native reader keeps the column contract of ferrotrade.data.schema (no conforming needed)."""
    for (kind, _, _), frame in reader_frames(INPUTS, raw=True).items():
        assert frame.schema == SCHEMAS[kind], kind


def test_hive_layout(catalog: Path) -> None:
    parts = [p.relative_to(catalog).as_posix() for p in catalog.rglob("*.parquet")]
    assert parts
    for part in parts:
        assert PART_PATH.match(part), part
    assert (catalog / "instruments.json").is_file()
    assert not list(catalog.glob(".tmp-*"))


def test_parts_hold_the_kind_columns_only(catalog: Path) -> None:
    for part in iter_parts(catalog):
        kind = parse_partition(part, catalog)[0]
        assert pl.read_parquet_schema(part) == dict(SCHEMAS[kind]), part


def test_rows_match_the_reader(catalog: Path, expected: dict[Key, pl.DataFrame]) -> None:
    assert catalog_rows(catalog) == {key: frame.height for key, frame in expected.items()}


def reader_precisions(paths: Iterable[Path]) -> dict[tuple[str, str], list[tuple[int, int]]]:
    """(price, size) precision of each instrument, per session that has it, as the reader reports them."""
    precisions: dict[tuple[str, str], list[tuple[int, int]]] = {}
    for _, files in _core.plan_sessions([str(p.resolve()) for p in paths]):
        reader = _core.CaptureReader(files)
        for i in reader.instruments():
            precisions.setdefault((i["venue"], i["symbol"]), []).append(
                (i["price_precision"], i["size_precision"])
            )
        reader.close()
    return precisions


def at_precision(frame: pl.DataFrame, kind: str, shift: tuple[int, int, int]) -> pl.DataFrame:
    """``frame`` with its mantissas multiplied by 10^(price, size, mark) digits, computed independently."""
    digits = dict(zip(("price_precision", "size_precision", "mark_precision"), shift, strict=True))
    return frame.with_columns(pl.col(c) * 10 ** digits[key] for c, key in mantissa_columns(kind).items())


def precision_triple(instrument: dict[str, int]) -> tuple[int, int, int]:
    price = instrument["price_precision"]
    return price, instrument["size_precision"], instrument.get("mark_precision", price)


def test_real_inputs_need_a_precision_merge(catalog: Path) -> None:
    """Two instruments really come at two precisions from two sources; the catalog keeps the finer one."""
    stored = json.loads((catalog / "instruments.json").read_text())
    kept = {(i["venue"], i["symbol"]): (i["price_precision"], i["size_precision"]) for i in stored}
    mixed = {key: set(p) for key, p in reader_precisions(INPUTS).items() if len(set(p)) > 1}
    assert ("binance-usdm", "BTCUSDT") in mixed  # tardis vs collector
    assert ("binance-spot", "BTCUSDT") in mixed  # klines vs collector
    for key, precisions in mixed.items():
        assert kept[key] == (max(p for p, _ in precisions), max(s for _, s in precisions))


def test_contents_match_the_reader_at_the_catalog_precision(
    catalog: Path, expected: dict[Key, pl.DataFrame]
) -> None:
    """Every value survives: stored mantissas are the reader's, times 10^(catalog - source precision)."""
    kept = {(i["venue"], i["symbol"]): i for i in json.loads((catalog / "instruments.json").read_text())}
    for _, files in _core.plan_sessions([str(p.resolve()) for p in INPUTS]):
        reader = _core.CaptureReader(files)
        source = {(i["venue"], i["symbol"]): i for i in reader.instruments()}
        reader.close()
        session = reader_frames([Path(f) for f in files])
        for (kind, venue, symbol), frame in session.items():
            mine, theirs = precision_triple(source[venue, symbol]), precision_triple(kept[venue, symbol])
            shift = (theirs[0] - mine[0], theirs[1] - mine[1], theirs[2] - mine[2])
            want = at_precision(frame, kind, shift)
            start, end = frame["ts_event"].min(), frame["ts_event"].max()
            got = (
                scan(catalog, kind=kind, venue=venue, symbol=symbol).drop("venue", "symbol", "date").collect()
            )
            got = got.filter(pl.col("ts_event").is_between(start, end))
            columns = list(SCHEMAS[kind])
            assert got.sort(columns).equals(want.sort(columns)), (kind, venue, symbol)


def test_books_are_stored_in_receive_order(catalog: Path, expected: dict[Key, pl.DataFrame]) -> None:
    """Reading a book's date partitions in order replays the reader's rows in order (the session spans
    midnight)."""
    book_keys = [key for key in expected if key[0] == "book"]
    assert len(book_keys) >= 6
    for kind, venue, symbol in book_keys:
        stored = (
            scan(catalog, kind=kind, venue=venue, symbol=symbol).drop("venue", "symbol", "date").collect()
        )
        want = expected[kind, venue, symbol]
        assert stored.drop("price", "size").equals(want.drop("price", "size")), (venue, symbol)
    spot = scan(catalog, kind="book", venue="binance-spot", symbol="BTCUSDT").collect()
    assert spot["date"].unique().sort().to_list() == [dt.date(2024, 8, 8), dt.date(2024, 8, 9)]
    assert spot["ts_recv"].is_sorted()


def test_import_order_does_not_matter(tmp_path: Path) -> None:
    """Klines then collector rescales the stored bars; collector then klines rescales the incoming ones."""
    first, second = tmp_path / "klines-first", tmp_path / "collector-first"
    import_captures([KLINES_JAN], first)
    one = import_captures(SPOT_SESSION, first)
    import_captures(SPOT_SESSION, second)
    two = import_captures([KLINES_JAN], second)
    assert "existing catalog data size x10^1" in one.rescaled[0]
    assert "incoming data size x10^1" in two.rescaled[0]
    # precisions do not depend on the order; other fields come from the newest import
    one_kept = [precision_triple(i) for i in json.loads((first / "instruments.json").read_text())]
    assert one_kept == [precision_triple(i) for i in json.loads((second / "instruments.json").read_text())]
    for kind in ("bars", "book", "trades", "quotes"):
        a = scan(first, kind=kind).drop("date").collect()
        b = scan(second, kind=kind).drop("date").collect()
        assert a.sort(a.columns).equals(b.sort(b.columns)), kind
    bars = reader_frames([KLINES_JAN])["bars", "binance-spot", "BTCUSDT"]
    stored = scan(first, kind="bars").drop("venue", "symbol", "date").collect()
    assert stored.equals(at_precision(bars, "bars", (0, 1, 0)))


def test_date_partition_is_the_ts_recv_date(catalog: Path) -> None:
    bars = scan(catalog, kind="bars").collect()
    assert bars.select((pl.col("ts_recv").dt.date() == pl.col("date")).all()).item()
    per_day = bars.group_by("date").len()
    # hourly bars: whole days have 24, so chunks of 300 rows were split at midnight
    assert per_day["len"].max() == 24
    assert per_day.height >= 31 + 28


def test_reimport_is_idempotent(tmp_path: Path) -> None:
    first = import_captures([KLINES_JAN, BYBIT_BOOK], tmp_path, chunk_rows=CHUNK_ROWS)
    before = catalog_rows(tmp_path)
    parts = sorted(p.name for p in tmp_path.rglob("*.parquet"))
    second = import_captures([KLINES_JAN, BYBIT_BOOK], tmp_path, chunk_rows=CHUNK_ROWS)
    assert catalog_rows(tmp_path) == before
    assert sorted(p.name for p in tmp_path.rglob("*.parquet")) == parts
    assert second.files_replaced == first.files_written
    assert second.rows == first.rows


def test_reimport_with_other_chunking_leaves_no_stale_parts(tmp_path: Path) -> None:
    import_captures([KLINES_JAN], tmp_path, chunk_rows=10)
    many = len(list(tmp_path.rglob("*.parquet")))
    summary = import_captures([KLINES_JAN], tmp_path, chunk_rows=100_000)
    assert len(list(tmp_path.rglob("*.parquet"))) == summary.files_written < many
    assert sum(catalog_rows(tmp_path).values()) == summary.rows


def test_sessions_add_up(tmp_path: Path) -> None:
    import_captures([KLINES_JAN], tmp_path)
    jan = sum(catalog_rows(tmp_path).values())
    summary = import_captures([KLINES_FEB], tmp_path)
    assert summary.files_replaced == 0
    assert sum(catalog_rows(tmp_path).values()) == jan + summary.rows


def test_summary(catalog: Path, expected: dict[Key, pl.DataFrame], tmp_path: Path) -> None:
    seen: list[tuple[int, int]] = []
    summary = import_captures(
        INPUTS, tmp_path, chunk_rows=CHUNK_ROWS, progress=lambda d, t: seen.append((d, t))
    )
    assert {(p.kind, p.venue, p.symbol): p.rows for p in summary.partitions} == {
        key: frame.height for key, frame in expected.items()
    }
    assert summary.files_written == len(list(tmp_path.rglob("*.parquet")))
    assert summary.bytes_written == sum(p.stat().st_size for p in tmp_path.rglob("*.parquet"))
    assert {f for s in summary.sessions for f in s.files} == {str(p.resolve()) for p in INPUTS}
    bars = next(p for p in summary.partitions if p.kind == "bars")
    jan_feb = expected["bars", bars.venue, bars.symbol]
    assert bars.first_ts_event == jan_feb["ts_event"].dt.epoch("ns").min()
    assert bars.last_ts_event == jan_feb["ts_event"].dt.epoch("ns").max()
    total = sum(p.stat().st_size for p in INPUTS)
    assert seen[-1] == (total, total)
    assert all(t == total for _, t in seen)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def _corrupt_copy(source: Path, target: Path, line: int) -> None:
    lines = source.read_text().splitlines(keepends=True)
    fields = lines[line - 1].split(",")
    fields[1] = "not-a-price"
    lines[line - 1] = ",".join(fields)
    target.write_text("".join(lines))


def test_failed_import_leaves_catalog_unchanged(tmp_path: Path) -> None:
    catalog = tmp_path / "cat"
    import_captures([BYBIT_BOOK], catalog)
    before = snapshot(catalog)
    inputs = tmp_path / "in"
    inputs.mkdir()
    shutil.copy(KLINES_JAN, inputs / KLINES_JAN.name)
    bad = inputs / KLINES_FEB.name
    _corrupt_copy(KLINES_FEB, bad, line=500)
    with pytest.raises(DataFormatError) as caught:
        import_captures([inputs / KLINES_JAN.name, bad], catalog, chunk_rows=50)
    assert Path(caught.value.file).name == bad.name
    assert caught.value.line == 500
    assert snapshot(catalog) == before
    assert not list(catalog.glob(".tmp-*"))


def test_failed_import_into_new_catalog_leaves_nothing(tmp_path: Path) -> None:
    bad = tmp_path / KLINES_FEB.name
    _corrupt_copy(KLINES_FEB, bad, line=3)
    with pytest.raises(DataFormatError):
        import_captures([bad], tmp_path / "new")
    assert not (tmp_path / "new").exists()


def test_skip_bad_records_imports_the_rest(tmp_path: Path) -> None:
    bad = tmp_path / KLINES_FEB.name
    _corrupt_copy(KLINES_FEB, bad, line=500)
    summary = import_captures([bad], tmp_path / "cat", skip_bad_records=True)
    (session,) = summary.sessions
    assert session.bad_records == 1
    assert session.first_bad_record is not None
    assert f"{bad.name}:500" in session.first_bad_record
    good = reader_frames([KLINES_FEB])
    assert summary.rows == sum(f.height for f in good.values()) - 1


def test_missing_input_is_reported_before_anything_is_written(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        import_captures([KLINES_JAN, tmp_path / "nope.csv"], tmp_path / "cat")
    assert not (tmp_path / "cat").exists()


def _rescale_catalog(catalog: Path, venue: str, symbol: str, digits: int) -> None:
    """Rewrite a catalog as if its instrument had been imported at ``price_precision + digits``."""
    for part in iter_parts(catalog, instrument=(venue, symbol)):
        kind = parse_partition(part, catalog)[0]
        columns = price_columns(kind)
        frame = pl.read_parquet(part, hive_partitioning=False)
        scale = [(pl.col(c) * 10**digits) if digits > 0 else (pl.col(c) // 10**-digits) for c in columns]
        frame.with_columns(scale).write_parquet(part, compression="zstd")
    path = catalog / "instruments.json"
    entries = json.loads(path.read_text())
    for entry in entries:
        if (entry["venue"], entry["symbol"]) == (venue, symbol):
            entry["price_precision"] += digits
            entry["tick_size"] = entry["tick_size"] * 10**digits if digits > 0 else entry["tick_size"]
    path.write_text(json.dumps(entries))


def _bars(catalog: Path) -> pl.DataFrame:
    return scan(catalog, kind="bars").sort("ts_recv").drop("venue", "symbol", "date").collect()


def test_finer_catalog_rescales_incoming(tmp_path: Path) -> None:
    import_captures([KLINES_JAN], tmp_path)
    ((_, venue, symbol),) = catalog_rows(tmp_path)
    precision = json.loads((tmp_path / "instruments.json").read_text())[0]["price_precision"]
    _rescale_catalog(tmp_path, venue, symbol, 1)
    summary = import_captures([KLINES_FEB], tmp_path)
    assert len(summary.rescaled) == 1
    assert "incoming data price x10^1" in summary.rescaled[0]
    (instrument,) = json.loads((tmp_path / "instruments.json").read_text())
    assert instrument["price_precision"] == precision + 1
    reference = tmp_path.parent / "reference"
    import_captures([KLINES_JAN, KLINES_FEB], reference)
    expected = _bars(reference).with_columns(pl.col("open", "high", "low", "close") * 10)
    assert _bars(tmp_path).equals(expected)


def test_coarser_catalog_is_rewritten(tmp_path: Path) -> None:
    import_captures([KLINES_JAN], tmp_path)
    ((_, venue, symbol),) = catalog_rows(tmp_path)
    precision = json.loads((tmp_path / "instruments.json").read_text())[0]["price_precision"]
    _rescale_catalog(tmp_path, venue, symbol, -1)
    coarse_jan = _bars(tmp_path)
    summary = import_captures([KLINES_FEB], tmp_path)
    assert "existing catalog data price x10^1" in summary.rescaled[0]
    (instrument,) = json.loads((tmp_path / "instruments.json").read_text())
    assert instrument["price_precision"] == precision
    merged = _bars(tmp_path)
    feb = reader_frames([KLINES_FEB])["bars", venue, symbol]
    assert merged.height == coarse_jan.height + feb.height
    jan_part = merged.head(coarse_jan.height)
    assert jan_part.equals(coarse_jan.with_columns(pl.col("open", "high", "low", "close") * 10))
    assert merged.tail(feb.height).equals(feb)


def test_interrupted_import_leaves_catalog_unchanged(tmp_path: Path) -> None:
    catalog = tmp_path / "cat"
    import_captures([KLINES_JAN], catalog)
    before = snapshot(catalog)

    def interrupt(done: int, total: int) -> None:
        if done > 0:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        import_captures([KLINES_FEB, BYBIT_BOOK], catalog, chunk_rows=50, progress=interrupt)
    assert snapshot(catalog) == before
    assert not list(catalog.glob(".tmp-*"))
