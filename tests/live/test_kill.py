"""Kill the live engine with SIGKILL mid-run and start it again: it resumes from its journal.

The venue is a separate ``ferrotrade venue serve`` process replaying the real USD-M capture, so it keeps
the orders, fills and position across the engine's death, as a real venue would. The engine runs in live
mode as ``ferrotrade live`` (signed REST orders, the listenKey user stream) until its journal holds a few
fills, is killed without any chance to clean up, and is started again on the same run directory. The
restarted engine must replay the journal (each fill once), reconcile with the venue, continue client ids
above the killed session's, and end with exactly the venue's position, nothing left open at the venue.
The venue's view is read over its own signed REST API, as any client would.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CAPTURE = ROOT / "tests" / "data" / "sessions" / "binance-usdm" / "btcusdt_20240808.gz"
CLI = [sys.executable, "-c", "from ferrotrade.cli import main; main()"]
# A throw-away key pair that exists only in these processes.
KEY = "killtestKey0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQR"
SECRET = "killtestSecret0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN"

CONFIG = """
[live]
mode = "live"
run_dir = "{run_dir}"
initial_equity = 100000
reconcile_every_s = 1
cancel_on_stop = true

[[venue]]
name = "binance-usdm"
network = "local"
rest = "http://{address}"
ws_public = "ws://{address}/binance-usdm"
credentials = {{ env = "FT_KILLTEST" }}

[instruments."binance-usdm.BTCUSDT"]
tick_size = 0.1
lot_size = 0.001

[risk]
max_position = 0.05

[[strategy]]
kind = "market_maker"
name = "mm"
instrument = "binance-usdm.BTCUSDT"
order_size = 0.002
half_spread_bps = 0.5
max_position = 0.01
requote_threshold_ticks = 1
"""


def signed_get(address: str, path: str, params: str) -> Any:
    """A signed Binance GET (HMAC-SHA256 over the query, as the venue verifies it)."""
    query = f"{params}&timestamp={int(time.time() * 1000)}&recvWindow=5000"
    signature = hmac.new(SECRET.encode(), query.encode(), hashlib.sha256).hexdigest()
    request = urllib.request.Request(f"http://{address}{path}?{query}&signature={signature}")
    request.add_header("X-MBX-APIKEY", KEY)
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.load(response)


def journal_records(run_dir: Path) -> list[dict[str, Any]]:
    """The journal's records; the file is written through a memory map, so its tail may be zeros."""
    text = (run_dir / "journal.jsonl").read_bytes().rstrip(b"\0").decode()
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def fill_events(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The ``filled`` order events' kinds (each carries the fill)."""
    return [r["kind"] for r in records if r["t"] == "event" and r["kind"]["k"] == "filled"]


def journaled_fills(run_dir: Path) -> int:
    path = run_dir / "journal.jsonl"
    return path.read_bytes().count(b'"k":"filled"') if path.exists() else 0


def test_a_killed_engine_restarts_from_its_journal_and_agrees_with_the_venue(tmp_path: Path) -> None:
    venue_env = {**os.environ, "FT_VENUE_API_KEY": KEY, "FT_VENUE_API_SECRET": SECRET}
    serve = [*CLI, "venue", "serve", "--replay", str(CAPTURE), "--port", "0", "--speed", "10"]
    with subprocess.Popen(serve, stderr=subprocess.PIPE, text=True, env=venue_env) as venue:
        try:
            assert venue.stderr is not None
            found = re.search(r"listening on (127\.0\.0\.1:\d+)", venue.stderr.readline())
            assert found
            address = found.group(1)
            run_dir = tmp_path / "run"
            config = tmp_path / "live.toml"
            config.write_text(CONFIG.format(run_dir=run_dir, address=address))
            engine_env = {**os.environ, "FT_KILLTEST_API_KEY": KEY, "FT_KILLTEST_API_SECRET": SECRET}

            # First session: killed as soon as its journal holds three fills.
            first = subprocess.Popen(
                [*CLI, "live", str(config), "--json"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=engine_env,
            )
            deadline = time.monotonic() + 60
            while journaled_fills(run_dir) < 3 and time.monotonic() < deadline and first.poll() is None:
                time.sleep(0.05)
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=10)
            assert first.returncode == -signal.SIGKILL
            killed = journal_records(run_dir)
            killed_fills = fill_events(killed)
            assert len(killed_fills) >= 3, "the first session traded before it was killed"
            killed_ids = {r["id"] for r in killed if r["t"] == "order"}

            # Second session on the same journal: a clean run of a few seconds, orders cancelled at stop.
            second = subprocess.run(
                [*CLI, "live", str(config), "--json", "--stop-after", "4"],
                capture_output=True,
                text=True,
                timeout=90,
                env=engine_env,
                check=False,
            )
            assert second.returncode == 0, second.stderr
            report = json.loads(second.stdout)

            # Each journaled fill is replayed once, none is counted twice, and ids continue above the
            # killed session's (a reused client id would collide at the venue).
            assert report["counters"]["replayed_fills"] == len(killed_fills), report["counters"]
            assert report["counters"]["duplicate_fills"] == 0
            records = journal_records(run_dir)
            trade_ids = [fill["trade_id"] for fill in fill_events(records)]
            assert len(trade_ids) == len(set(trade_ids)), "a fill was journaled twice"
            new_ids = {r["id"] for r in records if r["t"] == "order"} - killed_ids
            assert not new_ids or min(new_ids) > max(killed_ids)

            # The venue agrees: the same position, and nothing left working.
            positions = signed_get(address, "/fapi/v2/positionRisk", "symbol=BTCUSDT")
            venue_lots = round(sum(float(p["positionAmt"]) for p in positions) * 1000)
            engine_lots = sum(int(p["quantity"]) for p in report["positions"])
            assert engine_lots == venue_lots, (report["positions"], positions)
            assert signed_get(address, "/fapi/v1/openOrders", "symbol=BTCUSDT") == []
        finally:
            venue.send_signal(signal.SIGINT)
            venue.communicate(timeout=15)
