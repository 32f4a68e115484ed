"""Tests of ferrotrade.book.OrderBook: the Python surface of the Rust L2 book."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest

import ferrotrade
from ferrotrade.book import ASK, BID, CLEAR, OrderBook
from ferrotrade.exceptions import BookIntegrityError, ConfigError, FerrotradeError

CAPTURE = Path(__file__).parent / "data" / "book" / "usdm_btcusdt_head.jsonl"


def _book() -> OrderBook:
    book = OrderBook(price_precision=1, size_precision=3, window=256)
    book.apply_batch(
        side=np.array([BID, BID, BID, ASK, ASK, ASK], dtype=np.uint8),
        price=np.array([1000, 999, 900, 1001, 1003, 5000], dtype=np.int64),
        size=np.array([1000, 2000, 4000, 3000, 1000, 5000], dtype=np.int64),
    )
    return book


def test_queries_answer_in_floats_at_the_books_precision() -> None:
    book = _book()
    assert book.best_bid() == (100.0, 1.0)
    assert book.best_ask() == (100.1, 3.0)
    assert book.mid() == pytest.approx(100.05)
    assert book.spread() == pytest.approx(0.1)
    assert book.level_counts() == (3, 3)
    assert book.imbalance(1) == pytest.approx((1 - 3) / 4)
    assert book.imbalance() == pytest.approx((7 - 9) / 16)
    assert not book.is_crossed()
    book.check_integrity()
    assert "bid=100.0 x 1.0" in repr(book)
    assert (book.price_precision, book.size_precision, book.window) == (1, 3, 256)


def test_fill_price_walks_the_book_and_is_none_when_too_thin() -> None:
    book = _book()
    assert book.fill_price("buy", 4.0) == pytest.approx((3 * 100.1 + 100.3) / 4)
    assert book.fill_price("sell", 1.0) == pytest.approx(100.0)
    assert book.fill_price("sell", 7.001) is None
    with pytest.raises(ValueError, match="'buy' or 'sell'"):
        book.fill_price("up", 1.0)
    with pytest.raises(ValueError, match="positive"):
        book.fill_price("buy", -1.0)
    with pytest.raises(ValueError, match="positive"):
        book.fill_price("buy", float("nan"))


def test_depth_is_a_polars_frame_best_first() -> None:
    frame = _book().depth(2)
    assert isinstance(frame, pl.DataFrame)
    assert frame.columns == ["side", "level", "price", "size"]
    assert frame["side"].to_list() == ["bid", "bid", "ask", "ask"]
    assert frame["level"].to_list() == [0, 1, 0, 1]
    assert frame["price"].to_list() == pytest.approx([100.0, 99.9, 100.1, 100.3])
    assert OrderBook(0, 0).depth().height == 0


def test_single_updates_delete_and_clear() -> None:
    book = _book()
    book.apply(BID, 1000, 0)
    assert book.best_bid() == (99.9, 2.0)
    book.apply(ASK, 1001, 500)
    assert book.best_ask() == (100.1, 0.5)
    book.clear()
    assert book.level_counts() == (0, 0)
    assert book.best_bid() is None
    assert book.mid() is None
    assert book.spread() is None
    assert book.imbalance() is None


def test_apply_batch_accepts_polars_series_and_clear_flag() -> None:
    book = _book()
    rows = pl.DataFrame({"side": [ASK, BID], "price": [2000, 1500], "size": [7, 9], "flags": [CLEAR, 0]})
    assert book.apply_batch(rows["side"], rows["price"], rows["size"], rows["flags"]) == 2
    assert book.level_counts() == (1, 1)
    assert book.best_bid() == (150.0, 0.009)


def test_bad_rows_raise_book_integrity_error_and_apply_nothing() -> None:
    book = _book()
    with pytest.raises(BookIntegrityError, match="row 1: side must be 0"):
        book.apply_batch(np.array([0, 2], np.uint8), np.array([950, 951]), np.array([1, 1]))
    with pytest.raises(BookIntegrityError, match="row 0: negative size -5"):
        book.apply_batch(np.array([0, 0], np.uint8), np.array([950, 951]), np.array([-5, 1]))
    with pytest.raises(BookIntegrityError, match="negative size"):
        book.apply(ASK, 1001, -1)
    with pytest.raises(BookIntegrityError, match="side must be 0"):
        book.apply(3, 1001, 1)
    assert issubclass(BookIntegrityError, FerrotradeError)
    assert book.level_counts() == (3, 3)
    assert book.best_ask() == (100.1, 3.0)


def test_bad_arrays_raise_value_errors() -> None:
    book = _book()
    with pytest.raises(ValueError, match="equal lengths"):
        book.apply_batch(np.array([0], np.uint8), np.array([1, 2]), np.array([1, 2]))
    with pytest.raises(ValueError, match="do not fit"):
        book.apply_batch(np.array([300]), np.array([1]), np.array([1]))
    with pytest.raises(TypeError, match="integers"):
        book.apply_batch(np.array([0], np.uint8), np.array([1.5]), np.array([1]))
    strided = np.arange(10, dtype=np.int64)[::2]
    with pytest.raises(ValueError, match="C-contiguous"):
        _core_apply(book, np.zeros(5, np.uint8), strided, np.ones(5, np.int64))
    with pytest.raises(ConfigError):
        OrderBook(price_precision=17, size_precision=0)


def _core_apply(book: OrderBook, side: np.ndarray, price: np.ndarray, size: np.ndarray) -> int:
    """Calls the native method directly, bypassing the wrapper's conversion to contiguous arrays."""
    return int(ferrotrade._core.OrderBook.apply_batch(book, side, price, size))


def test_crossed_book_is_reported() -> None:
    book = OrderBook(0, 0)
    book.apply(BID, 10, 1)
    book.apply(ASK, 10, 1)
    assert book.is_crossed()
    with pytest.raises(BookIntegrityError, match="crossed"):
        book.check_integrity()


def test_lazy_export() -> None:
    assert ferrotrade.OrderBook is OrderBook


def _rows(levels: list[list[str]], side: int) -> list[tuple[int, int, int]]:
    return [(side, round(float(p) * 10), round(float(s) * 1000)) for p, s in levels]


def test_real_binance_stream_matches_book_ticker() -> None:
    """Binance USD-M BTCUSDT: snapshot + synced diffs; the touch equals bookTicker at the same id."""
    lines = CAPTURE.read_text().splitlines()
    snapshot = json.loads(lines[0])
    rows = _rows(snapshot["bids"], BID) + _rows(snapshot["asks"], ASK)
    book = OrderBook(price_precision=1, size_precision=3)
    side, price, size = (np.array(column) for column in zip(*rows, strict=True))
    flags = np.zeros(len(rows), np.uint8)
    flags[0] = CLEAR
    book.apply_batch(side, price, size, flags)
    assert book.level_counts() == (1000, 1000)
    touch: dict[int, tuple[object, object]] = {}
    tickers = []
    for line in lines[1:]:
        data = json.loads(line)["data"]
        if data["e"] == "bookTicker":
            bid = (float(data["b"]), float(data["B"]))
            ask = (float(data["a"]), float(data["A"]))
            tickers.append((data["u"], (bid, ask)))
        elif data["u"] >= snapshot["lastUpdateId"]:
            diff = _rows(data["b"], BID) + _rows(data["a"], ASK)
            if diff:
                side, price, size = (np.array(column) for column in zip(*diff, strict=True))
                book.apply_batch(side.astype(np.uint8), price, size)
            assert not book.is_crossed()
            touch[data["u"]] = (book.best_bid(), book.best_ask())
    book.check_integrity()
    assert len(tickers) == 24
    for u, expected in tickers:
        assert touch[u] == expected
