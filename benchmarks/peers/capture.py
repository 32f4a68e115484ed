"""The market events of one capture, with receive timestamps, shared by both peer market makers.

``benchmarks/book_replay.py`` flattens a capture into level updates only; the market makers also need the
trades and a timestamp per message, so this loader reads the same file (hftbacktest collector format: one
``<receive ns> <json>`` line per message) into one table of rows in arrival order:

- the REST snapshot first (its first row flagged CLEAR, all SNAPSHOT), then the ``depthUpdate`` diffs
  synced by the Binance futures rule exactly as ``book_replay.load_stream`` does (drop ``u`` <
  lastUpdateId, the first kept diff straddles it, then each ``pu`` equals the previous ``u``; stop at the
  first gap);
- the ``@trade`` messages received after the snapshot (``X == "MARKET"`` only: insurance-fund and ADL
  prints never rest on the book), up to the gap if there is one. ``bookTicker`` is ignored: it repeats the
  depth stream's top of book.

Every row carries the collector's receive time in nanoseconds, made monotonic (a diff received before the
snapshot is stamped with the snapshot's time, since it is applied after it); all rows of one message share
it and the last row of each message is flagged LAST. Prices and sizes are exact int64 mantissas (tick 0.1
-> 1 decimal, lot 0.001 -> 3 decimals); a decimal with more digits is refused, never rounded.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
DEFAULT_CAPTURE = REPO / "tests/data/sessions/binance-usdm/btcusdt_20240808.gz"
PRICE_PRECISION = 1
SIZE_PRECISION = 3
TICK = 0.1
LOT = 0.001

# ``kind`` values.
LEVEL = 0
TRADE = 1
# ``flags`` bits (CLEAR and SNAPSHOT have book_replay.py's values).
SNAPSHOT = 1
CLEAR = 4
LAST = 8
# Quiet time between two passes of a looped capture, so order responses of one pass settle before the next
# pass clears the book.
LOOP_GAP_NS = 1_000_000_000


@dataclass(frozen=True)
class Capture:
    """Market event rows in arrival order; see the module docstring for the columns' meaning.

    ``side`` is the book side of a level update (0 bid, 1 ask) and the aggressor of a trade (0 buyer,
    1 seller).
    """

    kind: np.ndarray
    side: np.ndarray
    price: np.ndarray
    size: np.ndarray
    flags: np.ndarray
    ts: np.ndarray

    def __len__(self) -> int:
        return len(self.kind)

    @property
    def level_updates(self) -> int:
        return int(np.count_nonzero(self.kind == LEVEL))

    @property
    def trades(self) -> int:
        return int(np.count_nonzero(self.kind == TRADE))

    def head(self, rows: int) -> Capture:
        """The first ``rows`` rows (a short run, e.g. to compile a numba loop before timing)."""
        return Capture(*(column[:rows] for column in self._columns()))

    def _columns(self) -> tuple[np.ndarray, ...]:
        return (self.kind, self.side, self.price, self.size, self.flags, self.ts)

    def looped(self, times: int) -> Capture:
        """The capture played ``times`` times in a row, each pass shifted after the previous one."""
        if times < 1:
            raise ValueError(f"loops must be >= 1, got {times}")
        period = int(self.ts[-1] - self.ts[0]) + LOOP_GAP_NS
        shifts = np.repeat(np.arange(times, dtype=np.int64) * period, len(self))
        kind, side, price, size, flags, ts = (np.tile(column, times) for column in self._columns())
        return Capture(kind, side, price, size, flags, ts + shifts)


def mantissa(text: str, precision: int) -> int:
    """Exact fixed-point mantissa of a decimal string such as ``"61800.20"``; refuses lost digits."""
    whole, _, fraction = text.partition(".")
    kept, dropped = fraction[:precision], fraction[precision:]
    if dropped.strip("0"):
        raise ValueError(f"{text} has more than {precision} decimals")
    sign = -1 if whole.startswith("-") else 1
    return sign * (abs(int(whole or "0")) * 10**precision + int(kept.ljust(precision, "0") or "0"))


def _read_messages(capture: Path) -> tuple[tuple[int, dict], list[tuple[int, dict]]]:
    """The first REST snapshot and the depth diffs and trades, each with its receive time (ns)."""
    snapshot: tuple[int, dict] | None = None
    messages: list[tuple[int, dict]] = []
    with gzip.open(capture, "rt") as lines:
        for number, line in enumerate(lines, 1):
            if "@bookTicker" in line:
                continue
            stamp, _, text = line.partition(" ")
            try:
                received, payload = int(stamp), json.loads(text)
            except ValueError as error:
                raise ValueError(f"{capture}:{number}: not '<ns> <json>': {error}") from error
            if "lastUpdateId" in payload:
                snapshot = snapshot or (received, payload)
            elif payload.get("data", {}).get("e") in ("depthUpdate", "trade"):
                messages.append((received, payload["data"]))
    if snapshot is None:
        raise ValueError(f"{capture}: no REST snapshot line")
    return snapshot, messages


def load_capture(capture: Path = DEFAULT_CAPTURE) -> Capture:
    """Reads one pass of ``capture``; raises ``ValueError`` (with the file) on malformed or unsynced input."""
    (snapshot_ts, snapshot), messages = _read_messages(capture)
    last_update_id = snapshot["lastUpdateId"]
    rows: list[tuple[int, int, int, int, int, int]] = []

    def add_levels(levels: list[list[str]], side: int, flags: int, ts: int) -> None:
        for index, (price, size) in enumerate(levels):
            row_flags = flags if index == 0 else flags & ~CLEAR
            rows.append(
                (LEVEL, side, mantissa(price, PRICE_PRECISION), mantissa(size, SIZE_PRECISION), row_flags, ts)
            )

    def end_message() -> None:
        kind, side, price, size, flags, ts = rows[-1]
        rows[-1] = (kind, side, price, size, flags | LAST, ts)

    add_levels(snapshot["bids"], 0, CLEAR | SNAPSHOT, snapshot_ts)
    add_levels(snapshot["asks"], 1, SNAPSHOT, snapshot_ts)
    end_message()
    previous: int | None = None
    clock = snapshot_ts
    for received, data in messages:
        if data["e"] == "trade":
            if received > snapshot_ts and data.get("X", "MARKET") == "MARKET":
                clock = max(clock, received)
                side = 1 if data["m"] else 0  # the buyer is the maker: a seller hit the bid
                price, size = mantissa(data["p"], PRICE_PRECISION), mantissa(data["q"], SIZE_PRECISION)
                rows.append((TRADE, side, price, size, LAST, clock))
            continue
        if data["u"] < last_update_id:
            continue
        if previous is None and data["U"] > last_update_id:
            raise ValueError(f"{capture}: the first diff after the snapshot starts after it: not synced")
        if previous is not None and data["pu"] != previous:
            break  # a gap: the book is unknown from here on, like book_replay.load_stream
        previous = data["u"]
        if not data["b"] and not data["a"]:
            continue
        clock = max(clock, received)
        add_levels(data["b"], 0, 0, clock)
        add_levels(data["a"], 1, 0, clock)
        end_message()
    table = np.array(rows, dtype=np.int64)
    return Capture(
        kind=table[:, 0].astype(np.uint8),
        side=table[:, 1].astype(np.uint8),
        price=np.ascontiguousarray(table[:, 2]),
        size=np.ascontiguousarray(table[:, 3]),
        flags=table[:, 4].astype(np.uint8),
        ts=np.ascontiguousarray(table[:, 5]),
    )
