"""Importing recorded captures into a Parquet catalog, all or nothing.

:func:`import_captures` streams the input files through one native ``CaptureReader``, which groups them into
capture sessions and reads them all, and writes every batch as it arrives, so memory stays bounded
by ``chunk_rows`` whatever the capture size. The layout is described in :mod:`ferrotrade.data.layout`.

Guarantees
----------
* **All or nothing.** Everything is written into ``CATALOG/.tmp-<uuid>/`` first; files move into place only
  once every session has been read without error. On any exception (bad record, Ctrl-C, full disk) the
  staging folder is removed and the catalog is left as it was. (The final moves are renames within one
  filesystem; only a crash of the process during those few renames could leave a partial import.)
* **Idempotent.** Part names derive from a hash of the session's files (absolute path, size, mtime), and
  an import removes the parts an earlier import of the same session wrote: importing twice gives the same
  catalog as importing once.
* **One precision per instrument.** When a session disagrees with ``instruments.json`` on an instrument's
  precision, the coarser side is multiplied up to the finer one (see :mod:`ferrotrade.data.instruments`);
  the summary says so.
* **Receive order.** A part lies in the ``date=`` partition of its rows' ``ts_recv`` (UTC); a batch
  spanning midnight is split. Reading one session's parts in path order replays it in receive order.
  Within one date, parts of *different* sessions sort by session hash, not by time: sort on ``ts_recv``
  when a query mixes sessions that share a day.

Concurrent imports into one catalog are not supported.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from ferrotrade import _core
from ferrotrade.data.instruments import NO_SHIFT, Shift, merge_instrument, rescale_frame, rescale_part
from ferrotrade.data.layout import (
    INSTRUMENTS_FILE,
    TMP_PREFIX,
    InstrumentKey,
    iter_parts,
    parse_partition,
    part_name,
    partition_dir,
    read_instruments,
    session_hash,
    write_instruments,
)
from ferrotrade.data.schema import conform

__all__ = ["ImportSummary", "PartitionSummary", "ProgressCallback", "SessionSummary", "import_captures"]

ProgressCallback = Callable[[int, int], None]
"""Called with ``(bytes done, bytes total)`` over all input files while an import runs."""


@dataclass(frozen=True)
class SessionSummary:
    """One capture session of an import.

    Attributes
    ----------
    session
        The session hash used in part names.
    format
        The capture format (``collector``, ``cryptofeed``, ``binance-kline-csv`` ...).
    files
        The session's files, in read order.
    messages, bad_records
        Counts from the reader; bad records are non-zero only with ``skip_bad_records``.
    first_bad_record
        ``"file:line: reason"`` of the first skipped record, or None.
    """

    session: str
    format: str
    files: tuple[str, ...]
    messages: int
    bad_records: int
    first_bad_record: str | None


@dataclass(frozen=True)
class PartitionSummary:
    """What an import wrote for one ``(kind, venue, symbol)``; timestamps are ns since the epoch (UTC)."""

    kind: str
    venue: str
    symbol: str
    rows: int
    files: int
    bytes: int
    first_ts_event: int | None
    last_ts_event: int | None
    first_date: str
    last_date: str


@dataclass(frozen=True)
class ImportSummary:
    """The outcome of :func:`import_captures`.

    Attributes
    ----------
    catalog
        The catalog folder.
    sessions
        The sessions read, in order.
    partitions
        Rows, files and time range written per ``(kind, venue, symbol)``, sorted.
    files_written, bytes_written
        New part files and their total size.
    files_replaced
        Parts of earlier imports of the same sessions that were removed (re-import).
    rescaled
        One line per instrument whose data was rescaled to a larger precision.
    """

    catalog: Path
    sessions: tuple[SessionSummary, ...]
    partitions: tuple[PartitionSummary, ...]
    files_written: int
    bytes_written: int
    files_replaced: int
    rescaled: tuple[str, ...]

    @property
    def rows(self) -> int:
        """Total rows written."""
        return sum(p.rows for p in self.partitions)


@dataclass
class _Tally:
    rows: int = 0
    parts: list[Path] = field(default_factory=list)  # relative to the catalog
    first_ts: int | None = None
    last_ts: int | None = None
    dates: set[str] = field(default_factory=set)


class _Import:
    """The state of one import: staging folder, merged instruments, counters."""

    def __init__(self, catalog: Path, staging: Path, replacing: set[str]) -> None:
        self.catalog = catalog
        self.staging = staging
        self.new_root = staging / "new"
        self.rewrite_root = staging / "rewrite"
        self.replacing = replacing
        self.instruments = read_instruments(catalog)
        self.rewrites: dict[Path, Path] = {}
        self.next_index: dict[Path, int] = {}
        self.tallies: dict[tuple[str, str, str], _Tally] = {}
        self.rescaled: list[str] = []
        self.sessions: list[SessionSummary] = []

    def read(
        self,
        reader: _core.CaptureReader,
        sessions: list[tuple[str, str, list[str]]],
        progress: ProgressCallback | None,
    ) -> None:
        """Write every batch of ``reader`` (whose sessions are ``sessions``) into the staging area."""
        try:
            shifts = self._merge_instruments(reader.instruments())
            for index, kind, venue, symbol, batch in reader:
                frame = conform(pl.DataFrame(batch), kind)
                shift = shifts.get((venue, symbol), NO_SHIFT)
                if shift != NO_SHIFT:
                    frame = rescale_frame(frame, kind, shift)
                self._write(sessions[index][0], kind, venue, symbol, frame)
                if progress is not None:
                    progress(*_input_progress(reader))
            stats = reader.stats()
        finally:
            # stops the reader's worker at once when we fail (a write error, Ctrl-C) instead of at GC
            reader.close()
        for (session, fmt, files), counts in zip(sessions, stats["sessions"], strict=True):
            self.sessions.append(
                SessionSummary(
                    session=session,
                    format=fmt,
                    files=tuple(files),
                    messages=int(counts["messages"]),
                    bad_records=int(counts["bad_records"]),
                    first_bad_record=counts["first_bad_record"],
                )
            )

    def _merge_instruments(self, incoming: Iterable[dict[str, Any]]) -> dict[InstrumentKey, Shift]:
        shifts: dict[InstrumentKey, Shift] = {}
        for instrument in incoming:
            key = (instrument["venue"], instrument["symbol"])
            merge = merge_instrument(self.instruments.get(key), instrument)
            if merge.existing_shift != NO_SHIFT:
                self._rescale_existing(key, merge.existing_shift)
            if merge.rescales:
                self.rescaled.append(merge.describe())
            shifts[key] = merge.incoming_shift
            self.instruments[key] = merge.merged
        return shifts

    def _rescale_existing(self, key: InstrumentKey, shift: Shift) -> None:
        """Rescale the instrument's committed parts (into the staging area) and its staged new parts."""
        for part in iter_parts(self.catalog, instrument=key):
            if part.name.split("-")[1] in self.replacing:
                continue  # about to be replaced by this import
            relative = part.relative_to(self.catalog)
            staged = self.rewrite_root / relative
            rescale_part(
                self.rewrites.get(relative, part), staged, parse_partition(part, self.catalog)[0], shift
            )
            self.rewrites[relative] = staged
        if self.new_root.exists():
            for part in iter_parts(self.new_root, instrument=key):
                rescale_part(part, part, parse_partition(part, self.new_root)[0], shift)

    def _write(self, session: str, kind: str, venue: str, symbol: str, frame: pl.DataFrame) -> None:
        if frame.is_empty():
            return
        dates = frame.get_column("ts_recv").dt.date()
        tally = self.tallies.setdefault((kind, venue, symbol), _Tally())
        days = dates.unique(maintain_order=True).to_list()
        for date in days:
            piece = frame if len(days) == 1 else frame.filter(dates == date)
            folder = partition_dir(self.new_root, kind, venue, symbol, date.isoformat())
            index = self.next_index.get(folder, 0)
            self.next_index[folder] = index + 1
            folder.mkdir(parents=True, exist_ok=True)
            target = folder / part_name(session, index)
            piece.write_parquet(target, compression="zstd")
            first, last = piece.select(
                pl.col("ts_event").dt.epoch("ns").min().alias("first"),
                pl.col("ts_event").dt.epoch("ns").max().alias("last"),
            ).row(0)
            tally.rows += piece.height
            tally.parts.append(target.relative_to(self.new_root))
            tally.first_ts = first if tally.first_ts is None else min(tally.first_ts, first)
            tally.last_ts = last if tally.last_ts is None else max(tally.last_ts, last)
            tally.dates.add(date.isoformat())

    def commit(self) -> int:
        """Move the staged files into the catalog; return how many earlier parts were removed."""
        for relative, staged in self.rewrites.items():
            os.replace(staged, self.catalog / relative)
        previous = [
            part for session in sorted(self.replacing) for part in iter_parts(self.catalog, session=session)
        ]
        new_parts = list(iter_parts(self.new_root)) if self.new_root.exists() else []
        moved: set[Path] = set()
        for part in new_parts:
            relative = part.relative_to(self.new_root)
            target = self.catalog / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(part, target)
            moved.add(target)
        stale = [part for part in previous if part not in moved]
        for part in stale:
            part.unlink()
            _remove_empty_parents(part.parent, self.catalog)
        staged_instruments = self.staging / INSTRUMENTS_FILE
        write_instruments(staged_instruments, self.instruments)
        os.replace(staged_instruments, self.catalog / INSTRUMENTS_FILE)
        return len(previous)

    def partitions(self) -> tuple[PartitionSummary, ...]:
        """Per (kind, venue, symbol) totals; call after :meth:`commit`."""
        return tuple(
            PartitionSummary(
                kind=kind,
                venue=venue,
                symbol=symbol,
                rows=t.rows,
                files=len(t.parts),
                # measured in place: a part may have been rescaled after it was written
                bytes=sum((self.catalog / part).stat().st_size for part in t.parts),
                first_ts_event=t.first_ts,
                last_ts_event=t.last_ts,
                first_date=min(t.dates),
                last_date=max(t.dates),
            )
            for (kind, venue, symbol), t in sorted(self.tallies.items())
        )


def _input_progress(reader: _core.CaptureReader) -> tuple[int, int]:
    """``(bytes done, input bytes)``: the reader reads every input byte twice (two passes), so its count is
    scaled to the size of the input files."""
    done, total = reader.progress()
    inputs = total // 2
    return (done * inputs // total if total else 0), inputs


def _remove_empty_parents(folder: Path, catalog: Path) -> None:
    while folder != catalog and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent


def _expand(paths: Iterable[str | os.PathLike[str]]) -> list[str]:
    """Absolute input files: folders expand to their non-hidden files, sorted by path."""
    files: list[str] = []
    for raw in paths:
        path = Path(raw).resolve()
        if path.is_dir():
            files.extend(
                str(p)
                for p in sorted(path.rglob("*"))
                if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
        elif path.exists():
            files.append(str(path))
        else:
            raise FileNotFoundError(f"{raw}: no such file or folder")
    return files


def import_captures(
    paths: Sequence[str | os.PathLike[str]],
    catalog: str | os.PathLike[str],
    *,
    chunk_rows: int = 1_000_000,
    skip_bad_records: bool = False,
    progress: ProgressCallback | None = None,
) -> ImportSummary:
    """Import recorded captures into a Parquet catalog, all or nothing.

    Parameters
    ----------
    paths
        Capture files or folders (expanded to their files). The native planner groups them into
        sessions (a collector day and its ``_next-day`` file, a cryptofeed WS capture and its REST
        snapshots ...) and picks each session's format.
    catalog
        The catalog folder; created when missing.
    chunk_rows
        Rows per batch from the reader: the bound on memory, and the largest part file.
    skip_bad_records
        Count and skip malformed records instead of failing; the summary holds the first one.
    progress
        Called with ``(bytes done, bytes total)`` over all input files after each batch.

    Returns
    -------
    ImportSummary
        What was written, per session and per ``(kind, venue, symbol)``.

    Raises
    ------
    DataFormatError
        A malformed or unrecognised input (with ``file`` and ``line``); the catalog is unchanged.
    PrecisionError
        A value that does not fit its instrument's precision; the catalog is unchanged.
    FileNotFoundError
        A missing input path.
    KeyboardInterrupt
        Ctrl-C; the catalog is unchanged.

    Examples
    --------
    One hourly bar in data.binance.vision's kline CSV format:

    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> bar = "1672531200000,16541.77,16545.70,16508.39,16529.67,4364.83570,"
    >>> bar += "1672534799999,72146293.58,149854,2179.94772,36032352.87,0"
    >>> _ = (folder / "BTCUSDT-1h-2023-01.csv").write_text(bar + "\\n")
    >>> summary = import_captures([folder / "BTCUSDT-1h-2023-01.csv"], folder / "catalog")
    >>> [(p.kind, p.venue, p.symbol, p.rows, p.first_date) for p in summary.partitions]
    [('bars', 'binance-spot', 'BTCUSDT', 1, '2023-01-01')]
    >>> summary = import_captures([folder / "BTCUSDT-1h-2023-01.csv"], folder / "catalog")  # again: replaces
    >>> summary.files_replaced, summary.files_written
    (1, 1)
    >>> import shutil; shutil.rmtree(folder)
    """
    root = Path(catalog)
    created = not root.exists()
    files = _expand(paths)
    root.mkdir(parents=True, exist_ok=True)
    staging = root / f"{TMP_PREFIX}{uuid.uuid4().hex}"
    staging.mkdir()
    try:
        # One reader over every session: one first pass, so each instrument gets one precision per import.
        reader = _core.CaptureReader(files, chunk_rows=chunk_rows, skip_bad_records=skip_bad_records)
        sessions = [
            (session_hash(session_files), fmt, session_files) for fmt, session_files in reader.sessions()
        ]
        job = _Import(root, staging, {session for session, _, _ in sessions})
        job.read(reader, sessions, progress)
        if progress is not None:
            _, total = _input_progress(reader)
            progress(total, total)
        replaced = job.commit()
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        if created:
            shutil.rmtree(root, ignore_errors=True)
        raise
    shutil.rmtree(staging, ignore_errors=True)
    partitions = job.partitions()
    return ImportSummary(
        catalog=root,
        sessions=tuple(job.sessions),
        partitions=partitions,
        files_written=sum(p.files for p in partitions),
        bytes_written=sum(p.bytes for p in partitions),
        files_replaced=replaced,
        rescaled=tuple(job.rescaled),
    )
