"""The engine's bus end to end: a real ``ferrotrade live`` engine, a real local venue, loopback sockets.

One engine run is shared by the module (``session`` fixture): ``ferrotrade venue serve`` replays the real
Binance USD-M BTCUSDT capture; the engine runs in live mode against it (signed REST orders, the listenKey
user stream) with a ``[bus]`` table; before it starts, this process subscribes to everything and
``ferrotrade monitor record`` subscribes to books and trades, and the engine waits for both
(``wait_subscribers = 2``) so neither misses a message. Tests that need the engine running come first in
the file; ``finished`` stops the engine cleanly (SIGINT) and the recorder, for the tests that compare
what was published and recorded with the journal and the backtester.

The market maker listens to the book only; the bus's ``trades = true`` (the default) makes the feed
subscribe to trades as well, so trades are published and recorded.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

import ferrotrade as ft
from ferrotrade.monitor import ControlError, Controller, Subscriber
from ferrotrade.v1 import common_pb2, envelope_pb2

ROOT = Path(__file__).resolve().parents[2]
CAPTURE = ROOT / "tests" / "data" / "sessions" / "binance-usdm" / "btcusdt_20240808.gz"
CLI = [sys.executable, "-c", "from ferrotrade.cli import main; main()"]
# Throw-away secrets that exist only in these processes.
KEY = "bustestKey0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRS"
SECRET = "bustestSecret0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNO"
TOKEN = "bus-test-control-token-5f1c2d9e7a"
WRONG_TOKEN = "WRONG-token-8d3e1b7c4a9f"

CONFIG = """
[live]
mode = "live"
run_dir = "{run_dir}"
initial_equity = 100000
reconcile_every_s = 5
cancel_on_stop = true

[[venue]]
name = "binance-usdm"
network = "local"
rest = "http://{address}"
ws_public = "ws://{address}/binance-usdm"
credentials = {{ env = "FT_BUSTEST" }}

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


[bus]
publish = "tcp://127.0.0.1:{publish}"
control = "tcp://127.0.0.1:{control}"
http = "127.0.0.1:{http}"
wait_subscribers = 2
wait_ms = 20000
book_rate_hz = 20
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


def journaled_fills(run_dir: Path) -> int:
    path = run_dir / "journal.jsonl"
    return path.read_bytes().count(b'"k":"filled"') if path.exists() else 0


@dataclass
class Collector:
    """Everything the test's own subscriber received, collected on a thread."""

    subscriber: Subscriber
    messages: list[tuple[str, envelope_pb2.Envelope]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while not self.stop.is_set():
            received = self.subscriber.receive(0.1)
            if received is not None:
                with self.lock:
                    self.messages.append(received)

    def snapshot(self) -> list[tuple[str, envelope_pb2.Envelope]]:
        with self.lock:
            return list(self.messages)

    def wait_for(self, predicate: Any, timeout_s: float, start: int = 0) -> tuple[str, envelope_pb2.Envelope]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for message in self.snapshot()[start:]:
                if predicate(*message):
                    return message
            time.sleep(0.05)
        raise AssertionError("no such message within the timeout")


@dataclass
class Session:
    """A running engine with its venue, recorder and the test's subscriber."""

    tmp: Path
    venue_address: str
    publish: str
    control: str
    http: str
    run_dir: Path
    record_dir: Path
    engine: subprocess.Popen[str]
    recorder: subprocess.Popen[str]
    collector: Collector
    engine_stderr: Path
    report: dict[str, Any] | None = None
    recorder_stderr: str = ""


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory, free_port: Callable[[], int]) -> Iterator[Session]:
    tmp = tmp_path_factory.mktemp("bus")
    venue_env = {**os.environ, "FT_VENUE_API_KEY": KEY, "FT_VENUE_API_SECRET": SECRET}
    serve = [*CLI, "venue", "serve", "--replay", str(CAPTURE), "--port", "0", "--speed", "10"]
    venue = subprocess.Popen(serve, stderr=subprocess.PIPE, text=True, env=venue_env)
    engine: subprocess.Popen[str] | None = None
    recorder: subprocess.Popen[str] | None = None
    subscriber: Subscriber | None = None
    collector: Collector | None = None
    thread: threading.Thread | None = None
    try:
        assert venue.stderr is not None
        found = re.search(r"listening on (127\.0\.0\.1:\d+)", venue.stderr.readline())
        assert found
        address = found.group(1)
        ports = {"publish": free_port(), "control": free_port(), "http": free_port()}
        run_dir = tmp / "run"
        config = tmp / "live.toml"
        config.write_text(CONFIG.format(run_dir=run_dir, address=address, **ports))
        publish = f"tcp://127.0.0.1:{ports['publish']}"

        # Subscribers first: the engine waits for both before it publishes anything.
        subscriber = Subscriber(publish)
        collector = Collector(subscriber)
        thread = threading.Thread(target=collector.run, daemon=True)
        thread.start()
        record_dir = tmp / "recorded"
        recorder = subprocess.Popen(
            [*CLI, "monitor", "record", "--out", str(record_dir), "--endpoint", publish, "--rotate-s", "2"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        engine_stderr = tmp / "engine.stderr"
        engine_env = {
            **os.environ,
            "FT_BUSTEST_API_KEY": KEY,
            "FT_BUSTEST_API_SECRET": SECRET,
            "FERROTRADE_CONTROL_TOKEN": TOKEN,
        }
        with engine_stderr.open("w") as stderr_file:
            engine = subprocess.Popen(
                [*CLI, "live", str(config), "--json"],
                stdout=subprocess.PIPE,
                stderr=stderr_file,
                text=True,
                env=engine_env,
            )
        # Trading has started when the journal holds a few fills.
        deadline = time.monotonic() + 60
        while journaled_fills(run_dir) < 3 and time.monotonic() < deadline and engine.poll() is None:
            time.sleep(0.05)
        assert engine.poll() is None, engine_stderr.read_text()
        assert journaled_fills(run_dir) >= 3, "the engine traded"
        yield Session(
            tmp=tmp,
            venue_address=address,
            publish=publish,
            control=f"tcp://127.0.0.1:{ports['control']}",
            http=f"127.0.0.1:{ports['http']}",
            run_dir=run_dir,
            record_dir=record_dir,
            engine=engine,
            recorder=recorder,
            collector=collector,
            engine_stderr=engine_stderr,
        )
    finally:
        for process in (engine, recorder):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait(timeout=10)
        if collector is not None:
            collector.stop.set()
        if thread is not None:
            thread.join(timeout=5)
        if subscriber is not None:
            subscriber.close()
        venue.send_signal(signal.SIGINT)
        venue.communicate(timeout=15)


@pytest.fixture(scope="module")
def finished(session: Session) -> Session:
    """The session after a clean stop of the engine (SIGINT) and then of the recorder (SIGINT)."""
    if session.report is None:
        session.engine.send_signal(signal.SIGINT)
        stdout, _ = session.engine.communicate(timeout=60)
        assert session.engine.returncode in (0, 130), session.engine_stderr.read_text()
        session.report = json.loads(stdout)
        time.sleep(1.0)  # the publisher lingers for its last frames; the recorder drains them
        session.recorder.send_signal(signal.SIGINT)
        _, session.recorder_stderr = session.recorder.communicate(timeout=30)
        assert session.recorder.returncode == 130, session.recorder_stderr
        time.sleep(0.3)
        session.collector.stop.set()
    return session


def ctl(session: Session, *args: str, token: str = TOKEN) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FERROTRADE_CONTROL_TOKEN": token}
    return subprocess.run(
        [*CLI, "ctl", *args, "--endpoint", session.control, "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )


# --- while the engine runs ------------------------------------------------------------------------------


def test_metrics_endpoint_is_prometheus_text_with_fills_and_stage_latencies(session: Session) -> None:
    session.collector.wait_for(lambda topic, _: topic == "metrics", 10)
    time.sleep(1.2)  # a metrics period after the first fills
    with urllib.request.urlopen(f"http://{session.http}/metrics", timeout=5) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        text = response.read().decode()
    families = {family.name: family for family in text_string_to_metric_families(text)}
    samples = {sample.name: sample for family in families.values() for sample in family.samples}
    assert "ferrotrade_fills_total" in samples
    assert samples["ferrotrade_fills_total"].value >= 3
    latency = families["ferrotrade_stage_latency_seconds"]
    assert latency.type == "summary"
    stages = {sample.labels["stage"] for sample in latency.samples}
    assert {"frame_to_book", "frame_to_wire"} <= stages
    quantiles = {s.labels.get("quantile") for s in latency.samples if s.name == latency.name}
    assert {"0.5", "0.99", "0.999"} <= quantiles

    with urllib.request.urlopen(f"http://{session.http}/health", timeout=5) as response:
        assert json.load(response)["ok"] is True


def test_a_wrong_token_is_refused_on_http_and_socket_and_never_logged(session: Session) -> None:
    request = urllib.request.Request(f"http://{session.http}/kill", method="POST", data=b"")
    request.add_header("Authorization", f"Bearer {WRONG_TOKEN}")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 401
    assert json.load(refused.value) == {"ok": False, "error": "unauthorized"}

    with Controller(session.control, WRONG_TOKEN, 5.0) as controller:
        with pytest.raises(ControlError) as error:
            controller.status()
        assert error.value.reason == "unauthorized"
        assert WRONG_TOKEN not in str(error.value)
        assert WRONG_TOKEN not in repr(controller)
    done = ctl(session, "halt", token=WRONG_TOKEN)
    assert done.returncode == 1
    assert "unauthorized" in done.stderr
    assert WRONG_TOKEN not in done.stderr + done.stdout

    time.sleep(0.3)
    stderr = session.engine_stderr.read_text()
    refusals = [line for line in stderr.splitlines() if "command refused" in line]
    assert len(refusals) >= 3, stderr  # http kill, socket status, socket halt
    assert WRONG_TOKEN not in stderr
    assert TOKEN not in stderr
    with Controller(session.control, TOKEN, 5.0) as controller:
        assert controller.status().state == common_pb2.TRADING_STATE_ACTIVE, (
            "the refused commands did nothing"
        )


def test_set_changes_a_market_maker_parameter_and_refuses_an_unknown_one(session: Session) -> None:
    refused = ctl(session, "set", "mm", "half_spread", "3")
    assert refused.returncode == 1
    assert 'unknown parameter "half_spread"' in refused.stderr
    assert "half_spread_bps" in refused.stderr  # the message lists the known ones
    unknown = ctl(session, "set", "mm2", "half_spread_bps", "3")
    assert unknown.returncode == 1
    assert 'unknown strategy "mm2"' in unknown.stderr

    start = len(session.collector.snapshot())
    done = ctl(session, "set", "mm", "half_spread_bps", "40")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["ok"] is True

    # The quotes move out to about 40 bps from the mid: the next order the maker places or amends is far.
    def mid(before: int) -> Decimal:
        for topic, envelope in reversed(session.collector.snapshot()[:before]):
            if topic.startswith("book."):
                book = envelope.book
                best = (book.bid_price[0] + book.ask_price[0]) / 2
                return Decimal(best).scaleb(-book.instrument.price_precision)
        raise AssertionError("no book summary")

    def far_quote(topic: str, envelope: envelope_pb2.Envelope) -> bool:
        order = envelope.order
        return (
            topic.startswith("order.")
            and order.strategy == "mm"
            and order.kind in (2, 9)  # SUBMITTED, REPLACED
            and order.price > 0
        )

    index = start
    distances: list[Decimal] = []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not any(d > 20 for d in distances):
        messages = session.collector.snapshot()
        for position in range(index, len(messages)):
            topic, envelope = messages[position]
            if far_quote(topic, envelope):
                price = Decimal(envelope.order.price).scaleb(-envelope.order.instrument.price_precision)
                reference = mid(position)
                distances.append(abs(price - reference) / reference * 10_000)
        index = len(messages)
        time.sleep(0.1)
    assert any(d > 20 for d in distances), f"quote distances after the change (bps): {distances}"


def test_the_dashboard_runs_under_tmux(session: Session) -> None:
    tmux = shutil.which("tmux")
    if tmux is None:
        if os.environ.get("CI") == "true":
            pytest.fail("tmux must be installed in CI (tests/support/ensure-packages.sh installs it)")
        pytest.skip("tmux is not installed (make test-services installs it)")
    name = f"ftdash{os.getpid()}"
    socket_name = f"ferrotrade-test-{os.getpid()}"
    command = " ".join(
        [
            sys.executable,
            "-c",
            "'from ferrotrade.cli import main; main()'",
            "monitor",
            "dashboard",
            "--endpoint",
            session.publish,
            "--control",
            session.control,
        ]
    )
    env = {**os.environ, "FERROTRADE_CONTROL_TOKEN": TOKEN}
    base = [tmux, "-L", socket_name]
    subprocess.run(
        [*base, "new-session", "-d", "-x", "160", "-y", "50", "-s", name, command], check=True, env=env
    )
    try:
        screen = ""
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            time.sleep(0.5)
            captured = subprocess.run(
                [*base, "capture-pane", "-p", "-t", name], capture_output=True, text=True, check=False
            )
            screen = captured.stdout
            if "binance-usdm.BTCUSDT" in screen and "frame_to_wire" in screen and "account" in screen:
                break
        print(screen)
        assert "binance-usdm.BTCUSDT" in screen
        assert "positions and PnL" in screen
        assert "account" in screen  # the account's position / PnL row
        assert "latency" in screen
        assert "frame_to_wire" in screen
        assert "Traceback" not in screen
        assert TOKEN not in screen
    finally:
        subprocess.run([*base, "kill-server"], check=False, capture_output=True)


def test_ctl_status_and_snapshot(session: Session) -> None:
    status = ctl(session, "status")
    assert status.returncode == 0, status.stderr
    body = json.loads(status.stdout)
    assert body["state"] == "TRADING_STATE_ACTIVE"
    assert body["strategies"] == ["mm"]
    snapshot = ctl(session, "snapshot")
    assert snapshot.returncode == 0, snapshot.stderr
    books = json.loads(snapshot.stdout)["books"]
    assert books[0]["instrument"]["symbol"] == "BTCUSDT"
    assert TOKEN not in status.stdout + status.stderr + snapshot.stdout + snapshot.stderr


def test_tail_prints_one_line_per_message(session: Session) -> None:
    tail = [*CLI, "monitor", "tail", "--endpoint", session.publish]
    as_json = subprocess.run(
        [*tail, "--topic", "heartbeat", "--json", "--count", "2"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert as_json.returncode == 0, as_json.stderr
    lines = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert [line["topic"] for line in lines] == ["heartbeat", "heartbeat"]
    assert lines[1]["topic_seq"] == lines[0]["topic_seq"] + 1, lines
    assert lines[0]["kind"] == "heartbeat"
    text = subprocess.run(
        [*tail, "--topic", "book.", "--count", "3"], capture_output=True, text=True, timeout=30, check=False
    )
    assert text.returncode == 0, text.stderr
    assert len(text.stdout.splitlines()) == 3, text.stdout
    assert all("book.binance-usdm.BTCUSDT" in line for line in text.stdout.splitlines()), text.stdout


def test_kill_leaves_nothing_open_a_flat_position_and_halted(session: Session) -> None:
    start = len(session.collector.snapshot())
    done = ctl(session, "kill", "--kill-timeout-ms", "10000")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    print(f"kill took {report['elapsed_ms']:.1f} ms: {report}")
    assert report["state"] == "TRADING_STATE_HALTED"
    assert report["open_orders"] == 0
    assert report["open_positions"] == 0

    # The venue agrees: nothing working, no position.
    assert signed_get(session.venue_address, "/fapi/v1/openOrders", "symbol=BTCUSDT") == []
    positions = signed_get(session.venue_address, "/fapi/v2/positionRisk", "symbol=BTCUSDT")
    assert sum(Decimal(p["positionAmt"]) for p in positions) == 0, positions

    with Controller(session.control, TOKEN, 5.0) as controller:
        status = controller.status()
    assert status.state == common_pb2.TRADING_STATE_HALTED
    assert status.open_orders == 0
    session.collector.wait_for(
        lambda topic, e: topic == "heartbeat" and e.heartbeat.state == common_pb2.TRADING_STATE_HALTED,
        5,
        start,
    )
    session.collector.wait_for(
        lambda topic, e: topic == "risk.state" and e.risk.state_change.to == common_pb2.TRADING_STATE_HALTED,
        5,
        start,
    )


# --- after the engine stopped ---------------------------------------------------------------------------


def test_the_subscriber_received_every_journaled_fill_gapless(finished: Session) -> None:
    records = journal_records(finished.run_dir)
    journal = [r["kind"] for r in records if r["t"] == "event" and r["kind"]["k"] == "filled"]
    messages = finished.collector.snapshot()
    fills = [(topic, envelope) for topic, envelope in messages if topic.startswith("fill.")]
    assert len(fills) == len(journal) > 0
    assert [e.fill.trade_id for _, e in fills] == [f["trade_id"] for f in journal]
    per_topic: dict[str, list[int]] = {}
    for topic, envelope in fills:
        per_topic.setdefault(topic, []).append(envelope.topic_seq)
    for topic, numbers in per_topic.items():
        assert numbers == list(range(1, len(numbers) + 1)), topic
    # and nothing at all was lost on the way, on any topic
    assert finished.collector.subscriber.missed == 0
    assert [e.seq for _, e in messages] == list(range(1, len(messages) + 1))
    assert finished.report is not None
    assert finished.report["counters"]["fills"] == len(journal)


def test_the_recording_reimports_and_backtests(finished: Session) -> None:
    assert "interrupted" in finished.recorder_stderr
    parts = sorted(finished.record_dir.glob("*/venue=*/symbol=*/date=*/part-*.parquet"))
    assert parts, finished.recorder_stderr
    assert not list(finished.record_dir.rglob("*.tmp"))
    book = ft.data.scan(finished.record_dir, kind="book").collect()
    trades = ft.data.scan(finished.record_dir, kind="trades").collect()
    published_books = [
        e.book
        for topic, e in finished.collector.snapshot()
        if topic.startswith("book.") and e.book.synced and e.book.bid_price
    ]
    assert book["flags"].to_list().count(5) == len(published_books)  # one CLEAR|SNAPSHOT per summary
    assert book.height == sum(len(b.bid_price) + len(b.ask_price) for b in published_books)
    published_trades = [e.trade for topic, e in finished.collector.snapshot() if topic.startswith("trade.")]
    assert trades.height == len(published_trades) > 0
    assert trades["trade_id"].to_list() == [t.trade_id for t in published_trades]

    config = {
        "backtest": {"catalog": str(finished.record_dir), "initial_equity": 10000, "seed": 1},
        "venue": {"fees": {"maker": 0.0002, "taker": 0.0005}},
        "risk": {"max_position": 0.05},
        "strategy": [
            {
                "kind": "market_maker",
                "name": "mm",
                "instrument": "binance-usdm.BTCUSDT",
                "order_size": 0.002,
                "half_spread_bps": 0.5,
                "max_position": 0.01,
            }
        ],
    }
    result = ft.backtest.run(config)
    print(f"backtest over the recording: {result.stats}, {result.fills.height} fills")
    assert result.stats["events"] > 0
    assert result.orders.height > 0, "the market maker quoted on the recorded books"
