"""A catalog replays into exactly the book the venue's own stream describes.

The spot session of 2024-08-08/09 is imported, its book rows are read back in catalog order (date
partitions, then parts) and applied to ``ft.OrderBook``; the final book must equal the one ``verify``
rebuilt from the raw recording (which itself matched all 1,072 bookTickers that carried a diff's id).
"""

from __future__ import annotations

from pathlib import Path

import ferrotrade as ft
from ferrotrade.data import import_captures, scan, verify

SESSION = Path(__file__).parent / "data" / "sessions" / "binance-spot"


def test_catalog_book_replays_to_the_verified_book(tmp_path: Path) -> None:
    catalog = tmp_path / "catalog"
    import_captures([SESSION], catalog)
    (report,) = verify([SESSION])
    assert report.ok

    rows = scan(catalog, venue="binance-spot", symbol="BTCUSDT", kind="book").collect()
    assert rows["ts_recv"].is_sorted(), "catalog order is receive order"
    book = ft.OrderBook(price_precision=report.price_precision, size_precision=report.size_precision)
    book.apply_batch(rows["side"], rows["price"], rows["size"], rows["flags"])

    assert book.best_bid() == report.best_bid == (61602.01, 1.67177)
    assert book.best_ask() == report.best_ask == (61602.02, 2.66795)
    assert book.level_counts() == (report.bid_levels, report.ask_levels)
    assert not book.is_crossed()
