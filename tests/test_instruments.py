"""Precision merge and rescale helpers of ferrotrade.data.instruments."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from ferrotrade.data.instruments import (
    merge_instrument,
    precisions,
    rescale_frame,
    rescale_instrument,
    rescale_part,
)
from ferrotrade.exceptions import PrecisionError

BASE = {
    "venue": "binance-usdm",
    "symbol": "BTCUSDT",
    "contract_type": "linear",
    "price_precision": 1,
    "size_precision": 3,
    "tick_size": 1,
    "lot_size": 1,
    "min_notional": "5",
    "contract_size": "1",
}


def test_new_instrument_is_taken_as_is() -> None:
    merge = merge_instrument(None, BASE)
    assert merge.merged == BASE
    assert not merge.rescales


def test_finer_incoming_rescales_existing() -> None:
    merge = merge_instrument(BASE, dict(BASE, price_precision=2, tick_size=10))
    assert merge.existing_shift == (1, 0, 1)  # mark prices default to the price precision
    assert merge.incoming_shift == (0, 0, 0)
    assert merge.merged["price_precision"] == 2
    assert merge.merged["tick_size"] == 10
    assert "existing catalog data price x10^1" in merge.describe()


def test_coarser_incoming_is_rescaled_and_keeps_finer_precision() -> None:
    merge = merge_instrument(dict(BASE, size_precision=5), dict(BASE, min_notional="10"))
    assert merge.existing_shift == (0, 0, 0)
    assert merge.incoming_shift == (0, 2, 0)
    # incoming wins for other fields, but lot_size follows the kept precision
    assert merge.merged["min_notional"] == "10"
    assert merge.merged["size_precision"] == 5
    assert merge.merged["lot_size"] == 100
    assert "incoming data size x10^2" in merge.describe()


def test_mark_precision_merges_on_its_own() -> None:
    existing = dict(BASE, mark_precision=8)
    merge = merge_instrument(existing, dict(BASE, price_precision=2, tick_size=10, mark_precision=6))
    assert merge.existing_shift == (1, 0, 0)
    assert merge.incoming_shift == (0, 0, 2)
    assert precisions(merge.merged) == (2, 3, 8)
    assert "incoming data mark x10^2" in merge.describe()


def test_rescale_instrument_multiplies_tick_and_lot() -> None:
    scaled = rescale_instrument(BASE, (2, 1, 0))
    assert (scaled["price_precision"], scaled["size_precision"], scaled["mark_precision"]) == (3, 4, 1)
    assert (scaled["tick_size"], scaled["lot_size"]) == (100, 10)


def test_rescale_frame_touches_only_mantissa_columns() -> None:
    quotes = pl.DataFrame(
        {"sequence": [7], "bid_price": [101], "bid_size": [2], "ask_price": [102], "ask_size": [3]},
        schema=dict.fromkeys(("sequence", "bid_price", "bid_size", "ask_price", "ask_size"), pl.Int64),
    )
    scaled = rescale_frame(quotes, "quotes", (2, 1, 5))
    assert scaled.row(0) == (7, 10100, 20, 10200, 30)


def test_rescale_frame_keeps_nulls() -> None:
    mark = pl.DataFrame(
        {"mark_price": [5, 6], "index_price": [None, 7]},
        schema={"mark_price": pl.Int64, "index_price": pl.Int64},
    )
    assert rescale_frame(mark, "mark", (3, 0, 1))["index_price"].to_list() == [None, 70]


def test_rescale_frame_refuses_overflow() -> None:
    frame = pl.DataFrame({"price": [2**62], "size": [1]})
    with pytest.raises(PrecisionError, match="overflow"):
        rescale_frame(frame, "trades", (1, 0, 0))


def test_rescale_part_in_place(tmp_path: Path) -> None:
    part = tmp_path / "part.parquet"
    pl.DataFrame({"price": [1, 2], "size": [3, 4], "trade_id": [1, 2]}).write_parquet(part)
    rescale_part(part, part, "trades", (1, 2, 0))
    assert pl.read_parquet(part).rows() == [(10, 300, 1), (20, 400, 2)]
