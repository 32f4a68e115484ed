"""Where things live in a ferrotrade catalog, and how part files are named.

A catalog is a folder::

    CATALOG/
      instruments.json                       list of instrument dicts, merged across imports
      <kind>/venue=<venue>/symbol=<symbol>/date=<YYYY-MM-DD>/part-<session>-<n>.parquet
      .tmp-<uuid>/                           an import in progress (removed when it ends, whatever the end)

``<session>`` is a hash of the session's input files (absolute path, size, mtime), so importing the same
files again produces the same names and replaces the earlier parts instead of duplicating them. ``<n>``
is zero-padded so that sorting names sorts parts in write (receive) order.

Examples
--------
>>> from pathlib import Path
>>> partition_dir(Path("cat"), "book", "binance-usdm", "BTCUSDT", "2024-08-08").as_posix()
'cat/book/venue=binance-usdm/symbol=BTCUSDT/date=2024-08-08'
>>> part_name("0123456789abcdef", 7)
'part-0123456789abcdef-000007.parquet'
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote, unquote

__all__ = [
    "INSTRUMENTS_FILE",
    "TMP_PREFIX",
    "InstrumentKey",
    "iter_parts",
    "parse_partition",
    "part_name",
    "partition_dir",
    "read_instruments",
    "require_catalog",
    "session_hash",
    "write_instruments",
]

INSTRUMENTS_FILE: Final = "instruments.json"
"""Name of the instrument list at the catalog's root."""

TMP_PREFIX: Final = ".tmp-"
"""Prefix of the staging folder of an import in progress."""

InstrumentKey = tuple[str, str]
"""``(venue, symbol)``: how instruments are told apart in a catalog."""

# Hive values are percent-encoded so a symbol with "/" or "=" cannot break the layout.
_SAFE: Final = "-_.+"


def session_hash(files: Sequence[str | os.PathLike[str]]) -> str:
    """Return the 16-hex-digit id of a capture session, from its files' absolute paths, sizes and mtimes.

    The same files, unchanged, always give the same id; touching or growing any file gives a new one.

    Parameters
    ----------
    files
        The session's files, in read order.

    Raises
    ------
    FileNotFoundError
        If a file does not exist.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     f = pathlib.Path(folder, "a.csv")
    ...     _ = f.write_text("x")
    ...     session_hash([f]) == session_hash([str(f)]) and len(session_hash([f]))
    16
    """
    digest = hashlib.sha256()
    for file in files:
        path = Path(file).resolve()
        stat = path.stat()
        digest.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def partition_dir(catalog: Path, kind: str, venue: str, symbol: str, date: str) -> Path:
    """Return the folder of one ``(kind, venue, symbol, date)`` partition under ``catalog``."""
    return (
        catalog
        / kind
        / f"venue={quote(venue, safe=_SAFE)}"
        / f"symbol={quote(symbol, safe=_SAFE)}"
        / f"date={date}"
    )


def part_name(session: str, index: int) -> str:
    """Return the file name of the ``index``-th part a session writes into one partition."""
    return f"part-{session}-{index:06d}.parquet"


def parse_partition(part: Path, catalog: Path) -> tuple[str, str, str, str]:
    """Return ``(kind, venue, symbol, date)`` of a part file inside ``catalog``.

    Examples
    --------
    >>> from pathlib import Path
    >>> part = Path("c/trades/venue=bybit-linear/symbol=BTCUSDT/date=2024-01-02/p.parquet")
    >>> parse_partition(part, Path("c"))
    ('trades', 'bybit-linear', 'BTCUSDT', '2024-01-02')
    """
    kind, venue, symbol, date = part.relative_to(catalog).parts[:4]
    return kind, unquote(venue.partition("=")[2]), unquote(symbol.partition("=")[2]), date.partition("=")[2]


def iter_parts(
    root: Path,
    *,
    kinds: Iterable[str] | None = None,
    session: str | None = None,
    instrument: InstrumentKey | None = None,
) -> Iterator[Path]:
    """Yield the part files under ``root`` (a catalog or a staging folder), sorted by path.

    Parameters
    ----------
    root
        The catalog (or staging) folder.
    kinds
        Only these kinds; all kind folders present when None.
    session
        Only the parts written by this session hash.
    instrument
        Only the parts of this ``(venue, symbol)``.
    """
    if kinds is None:
        kinds = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    venue_glob, symbol_glob = "venue=*", "symbol=*"
    if instrument is not None:
        venue_glob = f"venue={quote(instrument[0], safe=_SAFE)}"
        symbol_glob = f"symbol={quote(instrument[1], safe=_SAFE)}"
    name_glob = f"part-{session}-*.parquet" if session is not None else "part-*.parquet"
    for kind in kinds:
        yield from sorted((root / kind).glob(f"{venue_glob}/{symbol_glob}/date=*/{name_glob}"))


def require_catalog(catalog: str | os.PathLike[str]) -> Path:
    """Return ``catalog`` as a Path, raising ``FileNotFoundError`` when it is not an existing folder."""
    path = Path(catalog)
    if not path.is_dir():
        raise FileNotFoundError(f"no catalog at {path}: the folder does not exist")
    return path


def read_instruments(catalog: Path) -> dict[InstrumentKey, dict[str, Any]]:
    """Return the catalog's instruments keyed by ``(venue, symbol)``; empty when there are none yet."""
    path = catalog / INSTRUMENTS_FILE
    if not path.exists():
        return {}
    with path.open(encoding="utf-8") as stream:
        entries: list[dict[str, Any]] = json.load(stream)
    return {(entry["venue"], entry["symbol"]): entry for entry in entries}


def write_instruments(path: Path, instruments: dict[InstrumentKey, dict[str, Any]]) -> None:
    """Write ``instruments`` as ``instruments.json`` at ``path``, sorted by ``(venue, symbol)``."""
    entries = [instruments[key] for key in sorted(instruments)]
    path.write_text(json.dumps(entries, indent=2, sort_keys=True) + "\n", encoding="utf-8")
