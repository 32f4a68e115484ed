"""The bridge end to end: the engine's Rust client (`_core.BridgeClient`, zeromq in pure Rust) against
`ferrotrade ml serve`'s server (pyzmq over libzmq) on loopback, with the example model, a slow model whose
answers arrive late, and a model that fails."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from ferrotrade import _core
from ferrotrade.ml.serve import ModelServer, OnnxPredictor, decode_request, encode_request

MODEL = Path(__file__).parents[2] / "models" / "btcusdt_1h_gbm.onnx"
CARD = json.loads(MODEL.with_name("btcusdt_1h_gbm.card.json").read_text())


class Slow:
    """Answers `seq` 2 after 500 ms, the rest at once; fails on a NaN feature."""

    def __init__(self) -> None:
        self.calls = 0

    def predict(self, features: np.ndarray) -> float:
        self.calls += 1
        if np.isnan(features).any():
            raise ValueError("NaN feature")
        if self.calls == 2:
            time.sleep(0.5)
        return float(features.sum())


def _serve(predictor: object) -> Iterator[ModelServer]:
    server = ModelServer(predictor, "tcp://127.0.0.1:*")  # type: ignore[arg-type]
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    yield server
    server.stop()
    thread.join(timeout=5)


@pytest.fixture
def example_server() -> Iterator[ModelServer]:
    yield from _serve(OnnxPredictor(MODEL))


@pytest.fixture
def slow_server() -> Iterator[ModelServer]:
    yield from _serve(Slow())


def _wait(client: _core.BridgeClient, seconds: float = 5.0) -> float | None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        answer = client.poll()
        if answer is not None:
            return answer
        time.sleep(0.005)
    return None


def test_the_example_model_answers_through_the_bridge(example_server: ModelServer) -> None:
    client = _core.BridgeClient(example_server.endpoint, timeout_ms=2_000)
    rows = CARD["parity"]["sample"]["features"]
    want = [row[1] for row in CARD["parity"]["sample"]["onnxruntime"]]
    for ts, (row, expected) in enumerate(zip(rows, want, strict=True)):
        assert client.request(ts, row) is not None
        answer = _wait(client)
        assert answer is not None
        assert abs(answer - expected) < 1e-6
    stats = client.stats()
    assert stats["answered"] == len(rows)
    assert stats["late"] == 0
    assert example_server.stats.answered == len(rows)
    # A vector that is not the card's features is answered with an error, never with a signal.
    client.request(99, [0.0, 1.0])
    deadline = time.monotonic() + 5
    while client.stats()["errors"] == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert client.stats()["errors"] == 1
    assert client.poll() is None


def test_late_answers_are_counted_and_ignored(slow_server: ModelServer) -> None:
    client = _core.BridgeClient(slow_server.endpoint, timeout_ms=150)
    client.request(1, [1.0, 2.0])
    assert _wait(client) == 3.0
    client.request(2, [5.0, 5.0])  # the server takes 500 ms for this one
    deadline = time.monotonic() + 5
    while client.stats()["late"] == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert client.poll() is None
    client.request(3, [0.5, 0.25])
    assert _wait(client) == 0.75
    client.request(4, [float("nan")])  # the model fails: an error answer, never a signal
    deadline = time.monotonic() + 5
    while client.stats()["errors"] == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    stats = client.stats()
    assert (stats["sent"], stats["answered"], stats["late"], stats["errors"]) == (4, 2, 1, 1)
    assert client.poll() is None


def test_the_framing_round_trips() -> None:
    assert decode_request(encode_request(9, 10, [1.5, -2.0])) == (9, 10, [1.5, -2.0])
    with pytest.raises(ValueError, match="request frame"):
        decode_request(b"FTRQ")
