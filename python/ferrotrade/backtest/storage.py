"""Where a study lives: a local journal file by default, or an optuna RDB storage that many machines share.

==============================================  ============================================================
``storage =``                                   storage
==============================================  ============================================================
a path (default ``studies/<study>.log``)        optuna ``JournalStorage`` over a ``JournalFileBackend``: safe
                                                for the worker processes of one machine, no server needed
``sqlite:///studies/mm.db``                     ``RDBStorage`` on SQLite (one machine)
``postgresql://user:pw@host:5432/db``           ``RDBStorage`` on PostgreSQL through psycopg 3 (the URL is
                                                rewritten to ``postgresql+psycopg://``): workers on many
                                                machines join the same study
``mysql+pymysql://...`` and other SQLAlchemy    ``RDBStorage`` with that driver (installed by the user)
==============================================  ============================================================

Both kinds open in optuna-dashboard (``optuna-dashboard studies/mm.log``, ``optuna-dashboard
postgresql+psycopg://...``). RDB storages run optuna's heartbeat: a trial whose worker died is marked failed
by the next worker. A journal file has no heartbeat; the local coordinator marks the trials of its own dead
workers failed instead.

A password in a URL is never printed: :func:`display_url` masks it.

Examples
--------
>>> display_url("postgresql://ft:s3cret@127.0.0.1:5432/studies")
'postgresql+psycopg://ft:***@127.0.0.1:5432/studies'
>>> display_url("studies/mm.log")
'studies/mm.log'
"""

from __future__ import annotations

import re
import time
import warnings
from pathlib import Path

import optuna
import sqlalchemy.exc
from optuna.storages.journal import JournalFileBackend
from sqlalchemy.engine import make_url

from ferrotrade.exceptions import ConfigError

__all__ = ["HEARTBEAT_S", "display_url", "is_rdb", "normalize_url", "open_storage"]

HEARTBEAT_S = 10
"""Seconds between a running trial's heartbeats in an RDB storage (a trial is stale after 3 missed)."""

_SETUP_ATTEMPTS = 5
_URL = re.compile(r"^[a-z][a-z0-9+]*://")


def is_rdb(storage: str) -> bool:
    """Whether ``storage`` is a database URL (otherwise it is a journal file path)."""
    return bool(_URL.match(storage))


def normalize_url(storage: str) -> str:
    """A PostgreSQL URL without a driver gets psycopg 3, which ferrotrade installs.

    Examples
    --------
    >>> normalize_url("postgres://u@h/db"), normalize_url("postgresql+psycopg2://u@h/db")
    ('postgresql+psycopg://u@h/db', 'postgresql+psycopg2://u@h/db')
    """
    for prefix in ("postgresql://", "postgres://"):
        if storage.startswith(prefix):
            return "postgresql+psycopg://" + storage.removeprefix(prefix)
    return storage


def display_url(storage: str) -> str:
    """``storage`` with any password masked, fit for logs, progress bars and reports."""
    if not is_rdb(storage):
        return storage
    try:
        return make_url(normalize_url(storage)).render_as_string(hide_password=True)
    except sqlalchemy.exc.ArgumentError:
        return re.sub(r"://([^:/@]*):[^@]*@", r"://\1:***@", storage)


def open_storage(storage: str, base_dir: Path, source: str) -> optuna.storages.BaseStorage:
    """Open (and for a database, connect to and set up) the storage, before any trial runs.

    Parameters
    ----------
    storage : str
        A path (relative to ``base_dir``) or a database URL.
    base_dir : Path
        Directory relative paths are relative to.
    source : str
        Configuration file name, prefixed to errors.

    Raises
    ------
    ConfigError
        The database cannot be reached (or its driver is missing), or the file cannot be created; the
        message shows the URL with its password masked.
    """
    if not is_rdb(storage):
        path = base_dir / storage
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            backend = JournalFileBackend(str(path))
        except OSError as error:
            raise ConfigError(f"{source}: optimize.storage: cannot open {path}: {error}") from None
        return optuna.storages.JournalStorage(backend)
    url = normalize_url(storage)
    engine_kwargs: dict[str, object] = {"pool_pre_ping": True}
    if url.startswith("postgresql"):
        engine_kwargs["connect_args"] = {"connect_timeout": 10}
    elif url.startswith("sqlite"):
        engine_kwargs["connect_args"] = {"timeout": 60}
    for attempt in range(_SETUP_ATTEMPTS):
        try:
            with warnings.catch_warnings():
                # Heartbeats are what fail a dead worker's trial; optuna still calls them experimental.
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                return optuna.storages.RDBStorage(
                    url,
                    engine_kwargs=engine_kwargs,
                    heartbeat_interval=HEARTBEAT_S,
                    grace_period=3 * HEARTBEAT_S,
                )
        except (sqlalchemy.exc.IntegrityError, sqlalchemy.exc.ProgrammingError):
            # Workers starting together race to create optuna's tables; the loser finds them made.
            if attempt == _SETUP_ATTEMPTS - 1:
                raise
            time.sleep(0.2 * (attempt + 1))
        except (sqlalchemy.exc.SQLAlchemyError, ImportError, ValueError) as error:
            reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
            raise ConfigError(
                f"{source}: optimize.storage: cannot reach {display_url(storage)}: {reason}"
            ) from None
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises
