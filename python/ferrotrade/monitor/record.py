"""Recording a live session into a catalog the backtester reads: book summaries and trades off the bus.

``ferrotrade monitor record --out DIR`` subscribes to ``book.`` and ``trade.`` and writes rotating Parquet
parts in the catalog layout and schema of :mod:`ferrotrade.data` (see :mod:`ferrotrade.data.layout` and
:mod:`ferrotrade.data.schema`)::

    DIR/instruments.json
    DIR/book/venue=<venue>/symbol=<symbol>/date=<YYYY-MM-DD>/part-<session>-<n>.parquet
    DIR/trades/venue=<venue>/symbol=<symbol>/date=<YYYY-MM-DD>/part-<session>-<n>.parquet

so a live (or replayed) session becomes backtest data: ``ft.data.scan(DIR, ...)`` and
``ft.backtest.run(config, catalog=DIR)`` read it like any import.

What is written
---------------
* Each **book summary** (the engine's top ``[bus].book_depth`` levels, conflated to ``book_rate_hz``)
  becomes one full snapshot: its bid levels then its ask levels, ``CLEAR | SNAPSHOT`` on the first row,
  ``SNAPSHOT`` on every row, ``LAST`` on the last; ``sequence`` and ``first_sequence`` are the venue update
  id the book stands at, ``prev_sequence`` 0. A summary of an unsynced book (``synced = false``: the levels
  are the last good ones) or of an empty book is skipped, so the catalog holds only consistent books.
  A replay of the recording sees a book of ``book_depth`` levels, updated at the summary rate: coarser
  than the venue's diff stream, exact at each sample.
* Each **trade** becomes a trade row (``aggressor`` 1 buyer, 2 seller, as ``ferrotrade.v1.Side``).
* ``instruments.json`` gets each instrument's precisions from the messages' ``InstrumentRef``; an
  instrument already in the file at other precisions is refused (record into another folder).

Guarantees
----------
* **Atomic parts.** Every part is written to a hidden temporary name in its partition folder and renamed
  into place, so a reader never sees a half-written file; ``instruments.json`` likewise.
* **Nothing buffered is lost on a clean stop.** Rows are buffered in memory and written at each rotation
  (``rotate_s`` seconds or ``rotate_rows`` rows), at the end of ``duration_s``, and on Ctrl-C or SIGTERM
  (the CLI turns SIGTERM into the same clean stop).
* **Receive order.** Part names are ``part-<session>-<n>`` with ``<session>`` the recorder's start time
  (16 hex digits of nanoseconds) and ``<n>`` increasing, so sorting names sorts parts of one recording,
  and recordings of one day, in receive order; a part lies in the ``date=`` partition of its rows'
  ``ts_recv`` (UTC), a buffer spanning midnight is split.
* Gaps in ``topic_seq`` (ZeroMQ dropped messages for this subscriber) are counted in the summary; a
  missed book summary costs nothing (the next one is a full snapshot), a missed trade is lost.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import polars as pl

from ferrotrade.data.layout import (
    INSTRUMENTS_FILE,
    InstrumentKey,
    part_name,
    partition_dir,
    read_instruments,
    write_instruments,
)
from ferrotrade.data.schema import FLAG_CLEAR, FLAG_LAST, FLAG_SNAPSHOT, SIDE_ASK, SIDE_BID, conform
from ferrotrade.exceptions import DataFormatError
from ferrotrade.monitor.subscriber import DEFAULT_ENDPOINT, Subscriber
from ferrotrade.v1 import common_pb2, envelope_pb2, market_pb2

__all__ = ["RECORD_TOPICS", "CatalogRecorder", "RecordProgress", "RecordSummary", "record"]

RECORD_TOPICS: Final = ("book.", "trade.")
"""The topic prefixes a recorder subscribes to."""

_BOOK_COLUMNS: Final = (
    "ts_event",
    "ts_recv",
    "sequence",
    "first_sequence",
    "prev_sequence",
    "side",
    "price",
    "size",
    "flags",
)
_TRADE_COLUMNS: Final = ("ts_event", "ts_recv", "trade_id", "price", "size", "aggressor")


@dataclass
class RecordProgress:
    """Counts of a recording so far (also its final summary, :data:`RecordSummary`).

    Attributes
    ----------
    out : Path
        The catalog folder.
    books, trades : int
        Book summaries and trades recorded (buffered or written).
    book_rows, trade_rows : int
        Rows those became.
    skipped_books : int
        Summaries of unsynced or empty books, not recorded.
    missed : int
        Messages lost between the engine and the recorder (``topic_seq`` gaps).
    files : int
        Part files written.
    buffered_rows : int
        Rows in memory, not yet written.
    parts : list[Path]
        Every part written, in write order.
    interrupted : bool
        The recording ended on Ctrl-C or SIGTERM (after writing everything buffered).
    """

    out: Path
    books: int = 0
    trades: int = 0
    book_rows: int = 0
    trade_rows: int = 0
    skipped_books: int = 0
    missed: int = 0
    files: int = 0
    buffered_rows: int = 0
    parts: list[Path] = field(default_factory=list)
    interrupted: bool = False


RecordSummary = RecordProgress
"""The outcome of :func:`record`: the final :class:`RecordProgress`."""


class _Columns:
    """Column lists of one ``(kind, venue, symbol)`` buffer."""

    def __init__(self, names: tuple[str, ...]) -> None:
        self.names = names
        self.values: dict[str, list[int]] = {name: [] for name in names}

    def __len__(self) -> int:
        return len(self.values[self.names[0]])

    def frame(self, kind: str) -> pl.DataFrame:
        data: dict[str, Any] = dict(self.values)
        frame = pl.DataFrame(data, schema={name: pl.Int64() for name in self.names})
        if kind in {"trades", "book"}:
            frame = frame.with_columns(
                pl.from_epoch(pl.col(name), time_unit="ns").dt.replace_time_zone("UTC")
                for name in ("ts_event", "ts_recv")
            )
        unsigned = ("sequence", "first_sequence", "prev_sequence", "trade_id")
        return frame.with_columns(pl.col(name).cast(pl.UInt64()) for name in unsigned if name in self.names)

    def clear(self) -> None:
        for values in self.values.values():
            values.clear()


class CatalogRecorder:
    """Buffers book summaries and trades and writes them as catalog parts (see the module docs).

    Parameters
    ----------
    out : str or Path
        The catalog folder (created when missing; an existing catalog gets new parts).
    session : str, optional
        The 16-hex-digit id in part names; by default the recorder's start time in nanoseconds.

    Examples
    --------
    >>> import tempfile
    >>> from ferrotrade.v1 import envelope_pb2
    >>> envelope = envelope_pb2.Envelope(seq=1, topic_seq=1)
    >>> book = envelope.book
    >>> book.instrument.venue, book.instrument.symbol = "binance-usdm", "BTCUSDT"
    >>> book.instrument.price_precision, book.instrument.size_precision = 1, 3
    >>> book.ts_event_ns, book.ts_recv_ns, book.update_id, book.synced = 10**18, 10**18 + 5, 42, True
    >>> book.bid_price.extend([617970, 617960]); book.bid_size.extend([5, 7])
    >>> book.ask_price.append(617980); book.ask_size.append(1)
    >>> recorder = CatalogRecorder(tempfile.mkdtemp())
    >>> recorder.add(envelope)
    >>> [p.parent.parent.parent.name for p in recorder.flush()]
    ['venue=binance-usdm']
    >>> import ferrotrade as ft
    >>> ft.data.scan(recorder.out, kind="book").select("side", "price", "flags").collect().rows()
    [(0, 617970, 5), (0, 617960, 1), (1, 617980, 3)]
    """

    def __init__(self, out: str | os.PathLike[str], *, session: str | None = None) -> None:
        self.out = Path(out)
        self.out.mkdir(parents=True, exist_ok=True)
        self.session = session or f"{time.time_ns():016x}"
        self.progress = RecordProgress(out=self.out)
        self._books: dict[InstrumentKey, _Columns] = {}
        self._trades: dict[InstrumentKey, _Columns] = {}
        self._instruments = read_instruments(self.out)
        self._instruments_dirty = False
        self._next_index: dict[Path, int] = {}

    def _instrument(self, ref: common_pb2.InstrumentRef) -> InstrumentKey:
        key = (ref.venue, ref.symbol)
        known = self._instruments.get(key)
        if known is None:
            self._instruments[key] = {
                "venue": ref.venue,
                "symbol": ref.symbol,
                "price_precision": ref.price_precision,
                "size_precision": ref.size_precision,
                "mark_precision": ref.price_precision,
                "contract_type": None,
                "tick_size": None,
                "lot_size": None,
                "min_notional": None,
                "contract_size": None,
            }
            self._instruments_dirty = True
        elif (known["price_precision"], known["size_precision"]) != (ref.price_precision, ref.size_precision):
            raise DataFormatError(
                f"{self.out / INSTRUMENTS_FILE}: {ref.venue} {ref.symbol} is at price/size precision "
                f"{known['price_precision']}/{known['size_precision']}, the engine publishes "
                f"{ref.price_precision}/{ref.size_precision}: record into another folder"
            )
        return key

    def add(self, envelope: envelope_pb2.Envelope) -> None:
        """Buffer a book summary or a trade; other bodies are ignored."""
        kind = envelope.WhichOneof("body")
        if kind == "book":
            self._add_book(envelope.book)
        elif kind == "trade":
            self._add_trade(envelope.trade)

    def _add_book(self, book: market_pb2.BookSummary) -> None:
        levels = len(book.bid_price) + len(book.ask_price)
        if not book.synced or levels == 0:
            self.progress.skipped_books += 1
            return
        key = self._instrument(book.instrument)
        columns = self._books.get(key)
        if columns is None:
            columns = self._books[key] = _Columns(_BOOK_COLUMNS)
        values = columns.values
        values["ts_event"].extend([book.ts_event_ns] * levels)
        values["ts_recv"].extend([book.ts_recv_ns] * levels)
        values["sequence"].extend([book.update_id] * levels)
        values["first_sequence"].extend([book.update_id] * levels)
        values["prev_sequence"].extend([0] * levels)
        values["side"].extend([SIDE_BID] * len(book.bid_price) + [SIDE_ASK] * len(book.ask_price))
        values["price"].extend(book.bid_price)
        values["price"].extend(book.ask_price)
        values["size"].extend(book.bid_size)
        values["size"].extend(book.ask_size)
        flags = [FLAG_SNAPSHOT] * levels
        flags[0] |= FLAG_CLEAR
        flags[-1] |= FLAG_LAST
        values["flags"].extend(flags)
        self.progress.books += 1
        self.progress.book_rows += levels
        self.progress.buffered_rows += levels

    def _add_trade(self, trade: market_pb2.Trade) -> None:
        key = self._instrument(trade.instrument)
        columns = self._trades.get(key)
        if columns is None:
            columns = self._trades[key] = _Columns(_TRADE_COLUMNS)
        values = columns.values
        values["ts_event"].append(trade.ts_event_ns)
        values["ts_recv"].append(trade.ts_recv_ns)
        values["trade_id"].append(trade.trade_id)
        values["price"].append(trade.price)
        values["size"].append(trade.size)
        values["aggressor"].append(int(trade.aggressor))  # Side numbers are the catalog's aggressor codes
        self.progress.trades += 1
        self.progress.trade_rows += 1
        self.progress.buffered_rows += 1

    def flush(self) -> list[Path]:
        """Write everything buffered as new parts (atomically) and ``instruments.json``; the parts written."""
        written: list[Path] = []
        if self._instruments_dirty:
            temporary = self.out / f".{INSTRUMENTS_FILE}.{uuid.uuid4().hex}.tmp"
            write_instruments(temporary, self._instruments)
            os.replace(temporary, self.out / INSTRUMENTS_FILE)
            self._instruments_dirty = False
        for kind, buffers in (("book", self._books), ("trades", self._trades)):
            for (venue, symbol), columns in buffers.items():
                if len(columns) == 0:
                    continue
                frame = conform(columns.frame(kind), kind)
                written.extend(self._write(kind, venue, symbol, frame))
                columns.clear()
        self.progress.buffered_rows = 0
        self.progress.files += len(written)
        self.progress.parts.extend(written)
        return written

    def _write(self, kind: str, venue: str, symbol: str, frame: pl.DataFrame) -> list[Path]:
        dates = frame.get_column("ts_recv").dt.date()
        days = dates.unique(maintain_order=True).to_list()
        written = []
        for day in days:
            piece = frame if len(days) == 1 else frame.filter(dates == day)
            folder = partition_dir(self.out, kind, venue, symbol, day.isoformat())
            folder.mkdir(parents=True, exist_ok=True)
            index = self._next_index.get(folder, 0)
            self._next_index[folder] = index + 1
            target = folder / part_name(self.session, index)
            temporary = folder / f".{target.name}.{uuid.uuid4().hex}.tmp"
            try:
                piece.write_parquet(temporary, compression="zstd")
                os.replace(temporary, target)
            finally:
                temporary.unlink(missing_ok=True)
            written.append(target)
        return written


def record(
    out: str | os.PathLike[str],
    endpoint: str = DEFAULT_ENDPOINT,
    *,
    rotate_s: float | None = 60.0,
    rotate_rows: int | None = None,
    duration_s: float | None = None,
    on_progress: Callable[[RecordProgress], None] | None = None,
    progress_every_s: float = 0.5,
    subscriber: Subscriber | None = None,
) -> RecordSummary:
    """Record book summaries and trades from the bus at ``endpoint`` into the catalog ``out`` until stopped.

    Parameters
    ----------
    out : str or Path
        The catalog folder.
    endpoint : str
        The engine's PUB endpoint.
    rotate_s : float, optional
        Write the buffers every this many seconds (None: no time rotation).
    rotate_rows : int, optional
        Write the buffers when they hold this many rows (None: no size rotation).
    duration_s : float, optional
        Stop after this many seconds; None records until Ctrl-C.
    on_progress : callable, optional
        Called with the counts every ``progress_every_s`` and once at the end.
    subscriber : Subscriber, optional
        An already connected subscriber to read from (subscribed to :data:`RECORD_TOPICS`); by default one is
        made for ``endpoint`` and closed at the end.

    Returns
    -------
    RecordSummary
        The counts; ``interrupted`` when Ctrl-C (KeyboardInterrupt) ended it. Everything buffered is written
        whatever the end.
    """
    recorder = CatalogRecorder(out)
    owned = subscriber is None
    bus = subscriber if subscriber is not None else Subscriber(endpoint, RECORD_TOPICS)
    started = time.monotonic()
    last_rotation = started
    last_progress = started
    try:
        while True:
            now = time.monotonic()
            if duration_s is not None and now - started >= duration_s:
                break
            wait = progress_every_s
            if duration_s is not None:
                wait = min(wait, max(0.0, started + duration_s - now))
            received = bus.receive(wait)
            if received is not None:
                recorder.add(received[1])
            now = time.monotonic()
            due_rows = rotate_rows is not None and recorder.progress.buffered_rows >= rotate_rows
            due_time = rotate_s is not None and now - last_rotation >= rotate_s
            if due_rows or due_time:
                recorder.flush()
                last_rotation = now
            if on_progress is not None and now - last_progress >= progress_every_s:
                recorder.progress.missed = bus.missed
                on_progress(recorder.progress)
                last_progress = now
    except KeyboardInterrupt:
        recorder.progress.interrupted = True
    finally:
        recorder.flush()
        recorder.progress.missed = bus.missed
        if owned:
            bus.close()
    if on_progress is not None:
        on_progress(recorder.progress)
    return recorder.progress
