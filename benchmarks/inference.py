"""Inference latency of the example model and the cost of the feature library per event.

The example model (``models/btcusdt_1h_gbm.onnx``: LightGBM, 100 trees, 16 features, exported by
``make models``) predicts one row at a time, as a ``model_signal`` strategy does at each sample:

- **Rust engine**: ``ferrotrade-infer``'s ``OnnxModel.predict`` (ort, load-dynamic, ONNX Runtime of the
  onnxruntime wheel, one intra-op thread, pre-allocated tensors), timed around each call in Rust with the
  GIL released (``_core.OnnxModel.time_predictions``);
- **Python**: ``onnxruntime.InferenceSession.run`` on a ``(1, 16)`` float32 array (same library, same
  thread settings), timed around each call with ``time.perf_counter_ns``.

Then ``rust/features/examples/update_cost.rs`` (release) replays the test catalog's real USD-M depth and
trades through a book alone and through the book plus 16 features on the book clock, and prints the
features' cost per event and per sample.

Printed: p50 / p90 / p99 / p99.9 / max in microseconds for each path, and the budget of DESIGN.md
(Rust p99 <= 20 us). Nothing is asserted. Build the extension in release first (``make bench`` does).

Usage::

    python benchmarks/inference.py [--iterations 200000]
"""

# ruff: noqa: PLC0415 - the ML libraries (optional extra `ml`) and rich load only when used

from __future__ import annotations

import argparse
import json
import os
import subprocess
import time
from pathlib import Path

import numpy as np

from ferrotrade import _core

REPO = Path(__file__).resolve().parent.parent
MODEL = REPO / "models" / "btcusdt_1h_gbm.onnx"


def _percentiles(nanos: np.ndarray) -> str:
    micros = nanos / 1e3
    parts = [f"p{q:g} {np.percentile(micros, q):7.2f}" for q in (50, 90, 99, 99.9)]
    return "  ".join([*parts, f"max {micros.max():8.2f}"]) + "  (us)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=200_000)
    args = parser.parse_args()
    card = json.loads(MODEL.with_name("btcusdt_1h_gbm.card.json").read_text())
    rows = np.asarray(card["parity"]["sample"]["features"], dtype=np.float64)
    row = rows[0]
    print(
        f"model: {MODEL.name}, {card['model_kind']}, {card['model_config']['params']['n_estimators']} trees, "
        f"{len(card['features']['names'])} features; "
        f"machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}"
    )

    rust = _core.OnnxModel(str(MODEL), card["features"]["names"], json.dumps(card["features"]["clock"]))
    times = np.asarray(rust.time_predictions(row.tolist(), args.iterations, 10_000), dtype=np.float64)
    print(f"Rust engine (ort)       {_percentiles(times)}")

    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = onnxruntime.InferenceSession(str(MODEL), options, providers=["CPUExecutionProvider"])
    feed = {"features": row.astype(np.float32).reshape(1, -1)}
    for _ in range(10_000):
        session.run(["probabilities"], feed)
    python = np.empty(args.iterations, dtype=np.float64)
    for i in range(args.iterations):
        started = time.perf_counter_ns()
        session.run(["probabilities"], feed)
        python[i] = time.perf_counter_ns() - started
    print(f"Python onnxruntime.run  {_percentiles(python)}")
    p99 = np.percentile(times, 99) / 1e3
    print(
        f"Rust p99 {p99:.2f} us (budget 20 us: {'met' if p99 <= 20 else 'MISSED'}); "
        f"Python/Rust p50 ratio {np.percentile(python, 50) / np.percentile(times, 50):.1f}x"
    )

    target = os.environ.get("CARGO_TARGET_DIR", str(REPO / "target"))
    subprocess.run(
        ["cargo", "build", "--release", "--quiet", "-p", "ferrotrade-features", "--example", "update_cost"],
        cwd=REPO,
        check=True,
    )
    output = subprocess.run(
        [str(Path(target) / "release" / "examples" / "update_cost")],
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
    )
    print("feature update cost (real USD-M depth + trades, book clock):")
    for line in output.stdout.splitlines():
        print(f"  {line}")


if __name__ == "__main__":
    main()
