"""``ferrotrade ml serve``: the Python side of the model bridge, for models the engine cannot run itself.

The engine (a ``model_signal`` strategy with ``bridge = { endpoint = ..., timeout_ms = ... }``) sends each
sample's feature vector to this server over ZeroMQ and never waits for the answer: answers arrive
asynchronously, and one that comes later than ``timeout_ms`` is counted and ignored by the engine. The server
binds a ROUTER socket; each request frame arrives behind the client's identity frame and is answered behind
it. The framing (``FTRQ`` requests, ``FTRP`` replies, little-endian) is specified in the Rust crate
``ferrotrade-infer`` (``bridge::wire``) and mirrored by :func:`decode_request` and :func:`encode_reply`.

A model is anything with ``predict(features) -> float`` for one ``float64`` vector in the card's feature
order:
:class:`OnnxPredictor` wraps an exported model (the signal is the expected class value, as in the engine), and
``--model package.module:factory`` builds any Python model (a PyTorch module, an ensemble) from a factory.

Examples
--------
>>> frame = encode_request(7, 123, [0.5, 1.0])
>>> decode_request(frame)
(7, 123, [0.5, 1.0])
>>> decode_reply(encode_reply(7, 0.25))
(7, 0.25, None)
"""

# ruff: noqa: PLC0415 - the ML libraries (optional extra `ml`) and rich load only when used

from __future__ import annotations

import importlib
import json
import struct
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ferrotrade.exceptions import ConfigError

__all__ = [
    "ModelServer",
    "OnnxPredictor",
    "Predictor",
    "ServerStats",
    "decode_reply",
    "decode_request",
    "encode_reply",
    "encode_request",
    "load_predictor",
]

_REQUEST = struct.Struct("<4sB3xQQI4x")
_REPLY = struct.Struct("<4sBB2xQd")


def encode_request(seq: int, ts: int, features: Sequence[float]) -> bytes:
    """A request frame (what the engine sends)."""
    return _REQUEST.pack(b"FTRQ", 1, seq, ts, len(features)) + struct.pack(f"<{len(features)}d", *features)


def decode_request(frame: bytes) -> tuple[int, int, list[float]]:
    """``(seq, ts, features)`` of a request frame.

    Raises
    ------
    ValueError
        A frame that is not a version-1 request.
    """
    if len(frame) < _REQUEST.size:
        raise ValueError(f"a request frame has at least {_REQUEST.size} bytes, got {len(frame)}")
    magic, version, seq, ts, count = _REQUEST.unpack_from(frame)
    if magic != b"FTRQ" or version != 1:
        raise ValueError("not a version 1 request frame")
    if len(frame) != _REQUEST.size + 8 * count:
        raise ValueError(
            f"a request of {count} features has {_REQUEST.size + 8 * count} bytes, got {len(frame)}"
        )
    return seq, ts, list(struct.unpack_from(f"<{count}d", frame, _REQUEST.size))


def encode_reply(seq: int, signal: float | None, error: str | None = None) -> bytes:
    """A reply frame: the signal, or the model's error."""
    if error is not None:
        return _REPLY.pack(b"FTRP", 1, 1, seq, 0.0) + error.encode()
    return _REPLY.pack(b"FTRP", 1, 0, seq, float(signal if signal is not None else np.nan))


def decode_reply(frame: bytes) -> tuple[int, float | None, str | None]:
    """``(seq, signal, error)`` of a reply frame."""
    magic, version, status, seq, signal = _REPLY.unpack_from(frame)
    if magic != b"FTRP" or version != 1:
        raise ValueError("not a version 1 reply frame")
    if status == 1:
        return seq, None, frame[_REPLY.size :].decode(errors="replace")
    return seq, signal, None


class Predictor(Protocol):
    """A model the server can run: one feature vector in, one signal out."""

    def predict(self, features: np.ndarray) -> float:
        """The signal of one ``float64`` feature vector."""
        ...


class OnnxPredictor:
    """An exported model (``.onnx`` with its card) run by ONNX Runtime; the signal is the engine's."""

    def __init__(self, path: str | Path) -> None:
        import onnxruntime

        path = Path(path)
        card_path = path.with_name(f"{path.stem}.card.json")
        try:
            self.card: dict[str, Any] = json.loads(card_path.read_text())
        except FileNotFoundError:
            raise ConfigError(f"{card_path}: every model needs its card beside it") from None
        self.features: list[str] = list(self.card["features"]["names"])
        self._classes = np.asarray(self.card.get("classes") or [], dtype=np.float64)
        self._output = self.card["outputs"].get("probabilities") or self.card["outputs"]["value"]
        self._input = self.card["input"]["name"]
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self._session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def predict(self, features: np.ndarray) -> float:
        """The signal: expected class value for a classifier, the value for a regressor.

        Raises
        ------
        ValueError
            A vector of another length than the card's feature list (answered as an error, never guessed).
        """
        row = np.asarray(features, dtype=np.float32).reshape(1, -1)
        if row.shape[1] != len(self.features):
            raise ValueError(
                f"{row.shape[1]} features sent, the model takes {len(self.features)}: {self.features}"
            )
        (out,) = self._session.run([self._output], {self._input: row})
        values = np.asarray(out, dtype=np.float64).reshape(-1)
        return float(values @ self._classes) if self._classes.size else float(values[0])


def load_predictor(model: str) -> Predictor:
    """An :class:`OnnxPredictor` for an ``.onnx`` path, or the object a ``package.module:factory`` returns."""
    if model.endswith(".onnx"):
        return OnnxPredictor(model)
    module_name, _, factory_name = model.partition(":")
    if not factory_name:
        raise ConfigError(f"--model {model!r}: an .onnx file or package.module:factory")
    try:
        factory: Callable[[], Predictor] = getattr(importlib.import_module(module_name), factory_name)
    except (ImportError, AttributeError) as error:
        raise ConfigError(f"--model {model!r}: {error}") from None
    return factory()


@dataclass
class ServerStats:
    """Counters of a running server."""

    requests: int = 0
    answered: int = 0
    errors: int = 0
    bad_frames: int = 0


class ModelServer:
    """Serves one predictor on a ZeroMQ ROUTER socket until :meth:`stop`.

    Parameters
    ----------
    predictor : Predictor
        The model.
    endpoint : str
        Where to bind, e.g. ``tcp://127.0.0.1:5555``.
    """

    def __init__(self, predictor: Predictor, endpoint: str) -> None:
        import zmq

        self.predictor = predictor
        self.stats = ServerStats()
        self._stop = threading.Event()
        self._context = zmq.Context()
        self._socket = self._context.socket(zmq.ROUTER)
        self._socket.setsockopt(zmq.LINGER, 0)
        try:
            self._socket.bind(endpoint)
        except zmq.ZMQError as error:
            self._context.destroy()
            raise ConfigError(f"cannot bind {endpoint}: {error}") from None
        self.endpoint = self._socket.getsockopt_string(zmq.LAST_ENDPOINT)

    def serve(self, max_requests: int | None = None) -> ServerStats:
        """Answer requests until :meth:`stop` (or ``max_requests``); returns the counters."""
        import zmq

        poller = zmq.Poller()
        poller.register(self._socket, zmq.POLLIN)
        try:
            while not self._stop.is_set() and (max_requests is None or self.stats.requests < max_requests):
                if not poller.poll(100):
                    continue
                frames = self._socket.recv_multipart()
                if len(frames) != 2:
                    self.stats.bad_frames += 1
                    continue
                identity, frame = frames
                try:
                    seq, _ts, features = decode_request(frame)
                except ValueError:
                    self.stats.bad_frames += 1
                    continue
                self.stats.requests += 1
                try:
                    reply = encode_reply(seq, self.predictor.predict(np.asarray(features, dtype=np.float64)))
                    self.stats.answered += 1
                except Exception as error:
                    reply = encode_reply(seq, None, f"{type(error).__name__}: {error}")
                    self.stats.errors += 1
                self._socket.send_multipart([identity, reply])
        finally:
            self._context.destroy(linger=0)
        return self.stats

    def stop(self) -> None:
        """Ask :meth:`serve` to return (from another thread)."""
        self._stop.set()
