"""Fixtures shared by the test modules (``--import-mode=importlib``: modules cannot import each other)."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def free_port() -> Callable[[], int]:
    """A function returning a TCP port on 127.0.0.1 that was free a moment ago (for servers tests start)."""
    return _free_port


def _read_journal(run_dir: Path) -> list[dict[str, Any]]:
    with (run_dir / "journal.jsonl").open() as file:
        return [json.loads(line) for line in file if line.strip()]


@pytest.fixture(scope="session")
def read_journal() -> Callable[[Path], list[dict[str, Any]]]:
    """A function reading a live run directory's journal (``journal.jsonl``) into its records, in order."""
    return _read_journal
