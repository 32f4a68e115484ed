"""Bus subscriber throughput in Python: messages/s a pyzmq SUB receives and protobuf-decodes.

Budget: >= 200k messages/s decoded by one Python subscriber.

Two sources. **flood** (the budget's figure): the bus alone at full speed (``rust/bus/examples/flood.rs``,
built in release) publishes one million fills, the publisher thread sending as fast as it can, and one
Python subscriber receives and decodes them through :class:`ferrotrade.monitor.Subscriber` (gap check per
message included); the figure is what the subscriber sustains, with the messages it missed. **engine**:
the real engine, ``ferrotrade live`` in replay mode at ``speed = "max"`` over the bundled Binance USD-M
BTCUSDT capture, with a ``[bus]`` that does not conflate books (``book_rate_hz`` very high) and publishes
trades, so nearly every venue frame becomes a message; the subscriber connects before the engine starts
(``wait_subscribers = 1``). There the engine's market data bounds the rate.

Three figures per engine run:
* **received**: frames read off the socket (``recv_multipart``), from the first message to the last one
  that is not a heartbeat or metrics (the end of the replay);
* **decoded**: the same frames parsed into ``Envelope`` afterwards, as fast as Python can (the subscriber's
  own ceiling, independent of how fast the engine publishes);
* **received + decoded live**: a second run in which the subscriber parses each message as it arrives
  (what ``ferrotrade monitor tail`` / ``record`` do), with the gap count from ``topic_seq``.
The engine's publishing rate bounds the first and the third; the second is the Python side alone.

Run: ``.venv/bin/python benchmarks/bus_throughput.py [--repeat N]``. Prints figures, asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import zmq

from ferrotrade.monitor import Subscriber
from ferrotrade.v1 import envelope_pb2

ROOT = Path(__file__).resolve().parents[1]
CAPTURE = ROOT / "tests" / "data" / "sessions" / "binance-usdm" / "btcusdt_20240808.gz"
CLI = [sys.executable, "-c", "from ferrotrade.cli import main; main()"]
BUDGET = 200_000
# Periodic topics: the stream's rate is measured up to the last message that is not one of them.
_IDLE_TOPICS = (b"heartbeat", b"metrics")

CONFIG = """
[live]
mode = "replay"
run_dir = "{run_dir}"
initial_equity = 10000
cancel_on_stop = true

[replay]
paths = ["{capture}"]
speed = "max"

[[venue]]
name = "binance-usdm"
network = "mainnet"

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
max_position = 0.02


[bus]
publish = "tcp://127.0.0.1:{port}"
control = ""
http = ""
book_rate_hz = 1000000
market_queue = 65536
wait_subscribers = 1
wait_ms = 20000
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _start_engine(folder: Path, port: int, run: int) -> subprocess.Popen[bytes]:
    config = folder / f"bench{run}.toml"
    config.write_text(CONFIG.format(run_dir=folder / f"run{run}", capture=CAPTURE, port=port))
    return subprocess.Popen(
        [*CLI, "live", str(config), "--json", "--stop-after", "15"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "FERROTRADE_CONTROL_TOKEN": "benchmark-token-0123456789"},
    )


def _idle_end(socket_: zmq.Socket[bytes], engine: subprocess.Popen[bytes], idle_s: float) -> bool:
    """Whether the stream is over: the engine exited, or nothing but heartbeats for ``idle_s``."""
    return engine.poll() is not None or not socket_.poll(int(idle_s * 1000))


def receive_raw(folder: Path, run: int) -> tuple[list[list[bytes]], float]:
    """Frames of one engine run, read without decoding; and the seconds from the first to the last."""
    port = _free_port()
    context = zmq.Context.instance()
    sub = context.socket(zmq.SUB)
    sub.setsockopt(zmq.RCVHWM, 0)
    sub.setsockopt(zmq.SUBSCRIBE, b"")
    sub.connect(f"tcp://127.0.0.1:{port}")
    engine = _start_engine(folder, port, run)
    frames: list[list[bytes]] = []
    first = last = 0.0
    try:
        while True:
            if not sub.poll(2000):
                if engine.poll() is not None or frames:
                    break
                continue
            message = sub.recv_multipart()
            now = time.perf_counter()
            if not frames:
                first = now
            if message[0] not in _IDLE_TOPICS:
                last = now
            frames.append(message)
            if message[0] == b"heartbeat" and len(frames) > 1000 and _idle_end(sub, engine, 1.0):
                break
    finally:
        engine.kill()
        engine.wait()
        sub.close(linger=0)
    return frames, max(0.0, last - first)


def decode_all(frames: list[list[bytes]]) -> float:
    """Seconds to parse every frame's envelope (topic decoded too)."""
    parse = envelope_pb2.Envelope.FromString
    started = time.perf_counter()
    for topic, body in frames:
        topic.decode()
        parse(body)
    return time.perf_counter() - started


def receive_decoded(folder: Path, run: int) -> tuple[int, float, int, int]:
    """One engine run through :class:`Subscriber` (receive + decode + gap check per message)."""
    port = _free_port()
    bus = Subscriber(f"tcp://127.0.0.1:{port}", rcvhwm=0)
    engine = _start_engine(folder, port, run)
    count = 0
    first = last = 0.0
    published = 0
    try:
        while True:
            received = bus.receive(2.0)
            if received is None:
                if engine.poll() is not None or count:
                    break
                continue
            now = time.perf_counter()
            if count == 0:
                first = now
            count += 1
            topic, envelope = received
            if topic.encode() not in _IDLE_TOPICS:
                last = now
            if topic == "heartbeat":
                published = envelope.heartbeat.published
                if count > 1000 and engine.poll() is not None:
                    break
    finally:
        engine.kill()
        engine.wait()
        bus.close()
    return count, max(0.0, last - first), bus.missed, published


def flood_binary() -> Path:
    """The release build of the bus's flood example (built here when missing)."""
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    subprocess.run(
        ["cargo", "build", "--quiet", "--release", "-p", "ferrotrade-bus", "--example", "flood"],
        cwd=ROOT,
        check=True,
    )
    return target / "release" / "examples" / "flood"


def receive_flood(binary: Path, count: int) -> tuple[int, float, int]:
    """Messages one Subscriber received and decoded from the flood, the seconds it took, and those missed."""
    port = _free_port()
    bus = Subscriber(f"tcp://127.0.0.1:{port}", topics=("fill.",), rcvhwm=0)
    flood = subprocess.Popen([str(binary), f"tcp://127.0.0.1:{port}", str(count)], stderr=subprocess.DEVNULL)
    received = 0
    first = last = 0.0
    try:
        while received < count:
            message = bus.receive(5.0)
            if message is None:
                break
            last = time.perf_counter()
            if received == 0:
                first = last
            received += 1
    finally:
        flood.wait(timeout=120)
        bus.close()
    return received, max(last - first, 1e-9), bus.missed + (count - received)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="Engine runs per measurement.")
    parser.add_argument("--flood", type=int, default=1_000_000, help="Messages of the flood source.")
    args = parser.parse_args()
    binary = flood_binary()
    for repeat in range(args.repeat):
        received, seconds, missed = receive_flood(binary, args.flood)
        rate = received / seconds
        print(
            f"flood {repeat + 1}: received + decoded {rate:>12,.0f} msg/s ({rate / BUDGET:.2f}x the budget), "
            f"{received:,} of {args.flood:,} messages over {seconds:.2f} s, missed {missed:,}"
        )
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for repeat in range(args.repeat):
            frames, seconds = receive_raw(folder, 2 * repeat)
            decode_s = decode_all(frames)
            sizes = sum(len(body) for _, body in frames)
            kinds: dict[str, int] = {}
            for topic, _ in frames:
                name = topic.split(b".", 1)[0].decode()
                kinds[name] = kinds.get(name, 0) + 1
            print(f"run {repeat + 1}: {len(frames):,} messages, {sizes / max(len(frames), 1):.0f} bytes each")
            print("  by kind: " + ", ".join(f"{k} {v:,}" for k, v in sorted(kinds.items())))
            print(
                f"  received (engine-bound):       {len(frames) / seconds:>12,.0f} msg/s over {seconds:.2f} s"
            )
            rate = len(frames) / decode_s
            print(f"  decoded (Python alone):        {rate:>12,.0f} msg/s  ({rate / BUDGET:.2f}x the budget)")
            count, live_s, missed, published = receive_decoded(folder, 2 * repeat + 1)
            live_rate = count / live_s if live_s > 0 else 0.0
            print(
                f"  received + decoded live:       {live_rate:>12,.0f} msg/s over {live_s:.2f} s, "
                f"{count:,} messages, missed {missed}, engine published >= {published:,}"
            )
    print(f"budget: >= {BUDGET:,} messages/s decoded by one Python subscriber")


if __name__ == "__main__":
    main()
