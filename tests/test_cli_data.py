"""`ferrotrade data ...` and `ferrotrade --version`: output, --json and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from ferrotrade import __version__
from ferrotrade.cli import app
from ferrotrade.cli import data as cli_data
from ferrotrade.cli.data import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_NOT_OK
from ferrotrade.data import info, verify
from ferrotrade.data.query import INFO_SCHEMA

DATA = Path(__file__).parent / "data"
KLINES_JAN = DATA / "binance-vision" / "BTCUSDT-1h-2023-01.csv"
BYBIT_BOOK = DATA / "bybit" / "2024-12-01_XRPUSDT_ob500.data"

runner = CliRunner()


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"ferrotrade {__version__}"


def test_console_script_entry_point() -> None:
    code = "import sys; from ferrotrade.cli import main; sys.argv = ['ferrotrade', '--version']; main()"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0
    assert __version__ in result.stdout


def test_import_then_info(tmp_path: Path) -> None:
    catalog = tmp_path / "cat"
    result = runner.invoke(
        app, ["data", "import", str(KLINES_JAN), str(BYBIT_BOOK), "--catalog", str(catalog)]
    )
    assert result.exit_code == 0, result.output
    assert "744" in result.stdout  # hourly bars of January 2023
    assert "XRPUSDT" in result.stdout
    assert "total" in result.stdout

    listed = runner.invoke(app, ["data", "info", str(catalog), "--json"])
    assert listed.exit_code == 0
    rows = json.loads(listed.stdout)
    assert [list(row) for row in rows] == [list(INFO_SCHEMA)] * len(rows)
    table = info(catalog)
    assert [(r["kind"], r["venue"], r["symbol"], r["rows"], r["files"]) for r in rows] == table.select(
        "kind", "venue", "symbol", "rows", "files"
    ).rows()
    bars = next(r for r in rows if r["kind"] == "bars")
    assert bars["rows"] == 744
    assert bars["first_ts_event"].endswith("Z")
    assert pl.Series([bars["first_ts_event"]]).str.to_datetime("%Y-%m-%dT%H:%M:%S.%9fZ").item() is not None

    pretty = runner.invoke(app, ["data", "info", str(catalog)])
    assert pretty.exit_code == 0
    assert "bars" in pretty.stdout
    assert "book" in pretty.stdout


def test_import_bad_file_exits_2_without_traceback(tmp_path: Path) -> None:
    bad = tmp_path / KLINES_JAN.name
    lines = KLINES_JAN.read_text().splitlines(keepends=True)
    lines[41] = lines[41].replace(",", ",x", 1)  # line 42 of the file
    bad.write_text("".join(lines))
    result = runner.invoke(app, ["data", "import", str(bad), "--catalog", str(tmp_path / "cat")])
    assert result.exit_code == EXIT_ERROR
    assert f"{bad.name}:42" in result.stderr
    assert "Traceback" not in result.output
    assert not (tmp_path / "cat").exists()

    skipped = runner.invoke(
        app, ["data", "import", str(bad), "--catalog", str(tmp_path / "cat"), "--skip-bad-records"]
    )
    assert skipped.exit_code == 0
    assert "1 bad records skipped" in skipped.stderr


def test_unknown_format_exits_2(tmp_path: Path) -> None:
    junk = tmp_path / "notes.txt"
    junk.write_text("this is not a capture\n")
    for command in (
        ["data", "verify", str(junk)],
        ["data", "import", str(junk), "--catalog", str(tmp_path / "c")],
    ):
        result = runner.invoke(app, command)
        assert result.exit_code == EXIT_ERROR, command
        assert "error:" in result.stderr
        assert "Traceback" not in result.output


def test_missing_paths_exit_2(tmp_path: Path) -> None:
    assert runner.invoke(app, ["data", "info", str(tmp_path / "none")]).exit_code == EXIT_ERROR
    assert runner.invoke(app, ["data", "verify", str(tmp_path / "none.gz")]).exit_code == EXIT_ERROR
    result = runner.invoke(
        app, ["data", "import", str(tmp_path / "none.gz"), "--catalog", str(tmp_path / "c")]
    )
    assert result.exit_code == EXIT_ERROR


def test_verify_ok_exits_0() -> None:
    result = runner.invoke(app, ["data", "verify", str(BYBIT_BOOK)])
    assert result.exit_code == 0, result.output
    (report,) = verify([BYBIT_BOOK])
    assert report.best_bid is not None
    # Prices and sizes print at the instrument's precision, exactly as the venue quotes them.
    assert "1.9537 x 10605" in result.stdout
    assert "1.9538 x 6702" in result.stdout
    assert "1 of 1 ok" in result.stdout
    for column in ("diffs", "gaps", "crossed", "bbo ok", "id gaps", "levels"):
        assert column in result.stdout
    # Only books that are not ok get the field-by-field table.
    assert "diffs_applied" not in result.stdout


@pytest.mark.parametrize("as_json", [False, True])
def test_verify_not_ok_exits_1(tmp_path: Path, as_json: bool) -> None:
    gap = tmp_path / BYBIT_BOOK.name
    lines = BYBIT_BOOK.read_text().splitlines(keepends=True)
    del lines[9]
    gap.write_text("".join(lines))
    result = runner.invoke(
        app, ["data", "verify", str(BYBIT_BOOK), str(gap), *(["--json"] if as_json else [])]
    )
    assert result.exit_code == EXIT_NOT_OK
    if as_json:
        reports = json.loads(result.stdout)
        assert [r["ok"] for r in reports] == [r.ok for r in verify([BYBIT_BOOK, gap])]
        assert any(r["gaps"] > 0 for r in reports)
    else:
        assert "NOT OK" in result.stdout


def test_verify_json_is_the_report_list() -> None:
    result = runner.invoke(app, ["data", "verify", str(BYBIT_BOOK), "--json"])
    assert result.exit_code == 0
    (row,) = json.loads(result.stdout)
    (report,) = verify([BYBIT_BOOK])
    assert row == json.loads(json.dumps(report.to_dict()))


def test_verify_bad_record_exit_codes(tmp_path: Path) -> None:
    bad = tmp_path / KLINES_JAN.name
    lines = KLINES_JAN.read_text().splitlines(keepends=True)
    lines[41] = lines[41].replace(",", ",x", 1)  # line 42 of the file
    bad.write_text("".join(lines))
    counted = runner.invoke(app, ["data", "verify", str(bad), "--json"])
    assert counted.exit_code == EXIT_NOT_OK  # skipped by default, but a bad record makes the report not ok
    (report,) = json.loads(counted.stdout)
    assert report["bad_records"] == 1
    assert f"{bad.name}:42" in report["first_bad_record"]
    strict = runner.invoke(app, ["data", "verify", str(bad), "--fail-on-bad-record"])
    assert strict.exit_code == EXIT_ERROR
    assert f"{bad.name}:42" in strict.stderr
    assert "Traceback" not in strict.output


def test_ctrl_c_exits_130(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The import itself cleans up on KeyboardInterrupt (test_catalog); the CLI turns it into exit 130."""

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli_data, "import_captures", interrupted)
    result = runner.invoke(app, ["data", "import", str(KLINES_JAN), "--catalog", str(tmp_path / "cat")])
    assert result.exit_code == EXIT_INTERRUPTED
    assert "interrupted" in result.stderr
