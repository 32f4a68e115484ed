"""verify(): the VerifyReport wrapper over the native verifier, on real captures."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from ferrotrade import _core
from ferrotrade.data import VerifyReport, verify

DATA = Path(__file__).parent / "data"
BYBIT_BOOK = DATA / "bybit" / "2024-12-01_XRPUSDT_ob500.data"
KLINES_JAN = DATA / "binance-vision" / "BTCUSDT-1h-2023-01.csv"


def drop_line(source: Path, target: Path, line: int) -> Path:
    lines = source.read_text().splitlines(keepends=True)
    del lines[line - 1]
    target.write_text("".join(lines))
    return target


def test_report_fields_match_the_native_dicts() -> None:
    (raw,) = _core.verify([str(BYBIT_BOOK)])
    assert set(VerifyReport.field_names()) <= set(raw)
    (report,) = verify([BYBIT_BOOK])
    for name in VerifyReport.field_names():
        value = getattr(report, name)
        assert value == (tuple(raw[name]) if name in ("best_bid", "best_ask") and raw[name] else raw[name]), (
            name
        )


def test_bybit_archive_rebuilds_cleanly() -> None:
    (report,) = verify([BYBIT_BOOK])
    assert (report.venue, report.symbol) == ("bybit-linear", "XRPUSDT")
    assert report.snapshots == 1
    assert report.diffs_applied == 49
    assert (report.gaps, report.crossed, report.bad_records) == (0, 0, 0)
    assert report.synced
    assert report.ok
    assert report.best_bid is not None
    assert report.best_ask is not None
    assert report.best_bid[0] < report.best_ask[0]
    assert report.best_bid[1] > 0
    assert report.best_ask[1] > 0
    assert report.bid_levels > 0
    assert report.ask_levels > 0


def test_a_missing_message_is_a_gap(tmp_path: Path) -> None:
    (report,) = verify([drop_line(BYBIT_BOOK, tmp_path / BYBIT_BOOK.name, line=10)])
    assert report.gaps >= 1
    assert not report.ok


def test_ok_is_the_documented_conjunction(tmp_path: Path) -> None:
    reports = verify([BYBIT_BOOK, KLINES_JAN, drop_line(BYBIT_BOOK, tmp_path / BYBIT_BOOK.name, line=20)])
    assert len(reports) >= 3
    for r in reports:
        assert r.ok == (r.gaps == 0 and r.crossed == 0 and r.bbo_mismatches == 0 and r.bad_records == 0)
    assert any(r.ok for r in reports)
    assert not all(r.ok for r in reports)


def test_report_is_frozen_and_serializable() -> None:
    (report,) = verify([BYBIT_BOOK])
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.ok = False  # type: ignore[misc]
    assert VerifyReport.from_dict(report.to_dict()) == report
