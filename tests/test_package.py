"""The top-level package: explicit re-exports, lazy heavy imports, one exception hierarchy."""

from __future__ import annotations

import subprocess
import sys

import ferrotrade
from ferrotrade import _core, exceptions


def test_import_loads_no_heavy_library() -> None:
    heavy = "('polars', 'numpy', 'rich', 'typer')"
    code = f"import sys, ferrotrade; print(sorted(m for m in {heavy} if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_data_subpackage_loads_on_access() -> None:
    assert ferrotrade.data.import_captures is not None
    assert "data" in dir(ferrotrade)


def test_all_names_resolve() -> None:
    for name in ferrotrade.__all__:
        if name == "OrderBook":
            continue  # written by another module (ferrotrade.book); resolved lazily
        assert getattr(ferrotrade, name) is not None, name
    assert ferrotrade.__version__ == _core.__version__


def test_exceptions_are_the_native_classes() -> None:
    for name in exceptions.__all__:
        assert getattr(exceptions, name) is getattr(_core, name)
        assert issubclass(getattr(exceptions, name), exceptions.FerrotradeError)
    assert issubclass(exceptions.PrecisionError, exceptions.DataFormatError)
    assert ferrotrade.ConfigError is exceptions.ConfigError
