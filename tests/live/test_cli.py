"""The ``ferrotrade venue serve`` and ``ferrotrade live`` commands, run as subprocesses.

The venue is checked over plain HTTP with ``urllib`` (no WebSocket client needed): it must answer the
Binance USD-M time and depth endpoints from the replayed capture, then stop on SIGINT with exit code 130.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import tomllib
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "live_replay_mm.toml"
CAPTURE = ROOT / "tests" / "data" / "sessions" / "binance-usdm" / "btcusdt_20240808.gz"
CLI = [sys.executable, "-c", "from ferrotrade.cli import main; main()"]


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as response:
        assert response.status == 200
        return json.load(response)


def test_venue_serve_answers_rest_and_stops_on_sigint() -> None:
    command = [*CLI, "venue", "serve", "--replay", str(CAPTURE), "--port", "0", "--speed", "1"]
    with subprocess.Popen(command, stderr=subprocess.PIPE, text=True) as venue:
        try:
            assert venue.stderr is not None
            line = venue.stderr.readline()
            found = re.search(r"listening on (127\.0\.0\.1:\d+)", line)
            assert found, line
            base = f"http://{found.group(1)}"

            server_time = get_json(f"{base}/fapi/v1/time")
            assert isinstance(server_time["serverTime"], int)
            assert server_time["serverTime"] > 0
            depth = get_json(f"{base}/fapi/v1/depth?symbol=BTCUSDT&limit=5")
            assert depth["lastUpdateId"] > 0
            assert 0 < len(depth["bids"]) <= 5
            assert 0 < len(depth["asks"]) <= 5
            best_bid, best_ask = float(depth["bids"][0][0]), float(depth["asks"][0][0])
            assert 10_000 < best_bid < best_ask < 200_000  # BTCUSDT in August 2024, not crossed
            bids = [float(price) for price, _ in depth["bids"]]
            assert bids == sorted(bids, reverse=True)
        finally:
            venue.send_signal(signal.SIGINT)
            _, err = venue.communicate(timeout=15)
    assert venue.returncode == 130, err
    assert "stopped" in err
    assert "Traceback" not in err


def test_live_json_report(tmp_path: Path) -> None:
    data = tomllib.loads(EXAMPLE.read_text())
    config = tmp_path / "live.toml"
    text = (
        EXAMPLE.read_text()
        .replace(data["live"]["run_dir"], str(tmp_path / "run"))
        .replace(data["replay"]["paths"][0], str(CAPTURE))
        .replace("speed = 5 ", 'speed = "max" ')
    )
    assert tomllib.loads(text)["replay"]["speed"] == "max"
    config.write_text(text)

    done = subprocess.run(
        [*CLI, "live", str(config), "--stop-after", "3", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["mode"] == "replay"
    assert report["counters"]["messages"] > 0
    assert report["counters"]["orders"] > 0
    assert set(report["latency"]) >= {"frame_to_book", "frame_to_wire"}
    assert (tmp_path / "run" / "journal.jsonl").exists()


def test_live_bad_config_exits_2_naming_the_key(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(EXAMPLE.read_text().replace('name = "binance-usdm"', 'name = "kraken"'))

    done = subprocess.run(
        [*CLI, "live", str(config), "--stop-after", "1"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 2
    assert "venue[0].name" in done.stderr
    assert "kraken" in done.stderr
    assert "Traceback" not in done.stderr
