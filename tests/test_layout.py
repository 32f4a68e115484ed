"""Catalog layout helpers: session hashes, partition paths, part listing, instruments.json."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ferrotrade.data.layout import (
    iter_parts,
    parse_partition,
    part_name,
    partition_dir,
    read_instruments,
    require_catalog,
    session_hash,
    write_instruments,
)


def test_session_hash_is_stable_and_tracks_size_and_mtime(tmp_path: Path) -> None:
    capture = tmp_path / "a.gz"
    capture.write_bytes(b"abc")
    first = session_hash([capture])
    assert session_hash([str(capture)]) == first
    os.utime(capture, ns=(1, 1))
    touched = session_hash([capture])
    assert touched != first
    capture.write_bytes(b"abcd")
    os.utime(capture, ns=(1, 1))
    assert session_hash([capture]) not in (first, touched)


def test_session_hash_depends_on_file_order(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_text("1")
    b.write_text("2")
    assert session_hash([a, b]) != session_hash([b, a])


def test_partition_path_round_trip_with_odd_symbol(tmp_path: Path) -> None:
    folder = partition_dir(tmp_path, "trades", "binance-coinm", "BTC/USD=PERP", "2024-08-08")
    part = folder / part_name("00ff", 3)
    assert part.name == "part-00ff-000003.parquet"
    assert "/" not in folder.parent.name.partition("=")[2]
    assert parse_partition(part, tmp_path) == ("trades", "binance-coinm", "BTC/USD=PERP", "2024-08-08")


def test_iter_parts_filters_by_session_and_instrument(tmp_path: Path) -> None:
    paths = [
        partition_dir(tmp_path, "book", "bybit-linear", "XRPUSDT", "2024-12-01") / part_name("aa", 0),
        partition_dir(tmp_path, "book", "bybit-linear", "XRPUSDT", "2024-12-01") / part_name("bb", 0),
        partition_dir(tmp_path, "book", "bybit-linear", "BTCUSDT", "2024-12-01") / part_name("aa", 0),
        partition_dir(tmp_path, "trades", "bybit-linear", "XRPUSDT", "2024-12-02") / part_name("aa", 1),
    ]
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")
    (tmp_path / ".tmp-x" / "book").mkdir(parents=True)
    assert set(iter_parts(tmp_path)) == set(paths)
    assert set(iter_parts(tmp_path, session="aa")) == {paths[0], paths[2], paths[3]}
    assert list(iter_parts(tmp_path, kinds=["book"], instrument=("bybit-linear", "XRPUSDT"))) == paths[:2]


def test_instruments_json_round_trip(tmp_path: Path) -> None:
    assert read_instruments(tmp_path) == {}
    entries = {
        ("bybit-linear", "XRPUSDT"): {"venue": "bybit-linear", "symbol": "XRPUSDT", "price_precision": 4},
        ("binance-spot", "BTCUSDT"): {"venue": "binance-spot", "symbol": "BTCUSDT", "price_precision": 2},
    }
    write_instruments(tmp_path / "instruments.json", entries)
    assert read_instruments(tmp_path) == entries
    text = (tmp_path / "instruments.json").read_text()
    assert text.index("binance-spot") < text.index("bybit-linear")


def test_require_catalog(tmp_path: Path) -> None:
    assert require_catalog(tmp_path) == tmp_path
    with pytest.raises(FileNotFoundError, match="no catalog"):
        require_catalog(tmp_path / "missing")
