# ferrotrade developer commands. `make demo` and `make test` are the README's two set-up commands: each
# works on a fresh machine with Python >= 3.11 and a Rust toolchain, creating .venv and building what it needs.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Reuse one cargo target directory outside the clone when the caller (CI) provides one.
export CARGO_TARGET_DIR ?= $(CURDIR)/target
DEMO_CATALOG := build/demo-catalog
# The protobuf compiler of `make proto` (bundled by grpcio-tools): its version is written into the Python
# modules, whose runtime check needs protobuf >= that version (pyproject.toml).
GRPCIO_TOOLS := 1.85.4
PROTO_FILES := $(sort $(wildcard proto/ferrotrade/v1/*.proto))
PROTO_OUT := rust/bus/src/proto python/ferrotrade/v1
# Real recordings bundled in tests/data: a Binance spot session over two files, cryptofeed spot and USD-M
# captures with their REST snapshots, the Bybit history archive, and five months of hourly klines.
DEMO_DATA := tests/data/sessions/binance-spot tests/data/sessions/binance-usdm tests/data/cryptofeed/BINANCE.ws.1.0 \
	tests/data/cryptofeed/BINANCE_FUTURES.ws.1.0 tests/data/bybit/2024-12-01_XRPUSDT_ob500.data \
	tests/data/binance-vision

.PHONY: demo test dev lint rust-test py-test stubs-check proto proto-check bench models clean test-services

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.dev-deps: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet "maturin>=1.9,<2" "polars>=1.20" "numpy>=1.26" "typer>=0.12" "rich>=13" \
		"plotly>=6.0" "pytest>=8" "ruff>=0.8" "mypy>=1.13" "optuna>=5.0" "cmaes>=0.11" "psycopg[binary]>=3.2" \
		"optuna-dashboard>=0.17" "grpcio-tools==$(GRPCIO_TOOLS)"
	$(BIN)/pip install --quiet "lightgbm>=4.0" "scikit-learn>=1.4" "skl2onnx>=1.17" "onnxmltools>=1.12" "onnx>=1.15" \
		"onnxruntime>=1.17" "pyzmq>=25" "prometheus-client>=0.20" "types-protobuf"
	touch $@

## demo: build the wheel (release) and run the main job on the bundled real data
demo: | $(BIN)/python
	$(BIN)/pip install --quiet ".[ml]"
	rm -rf $(DEMO_CATALOG)
	$(BIN)/ferrotrade data import $(DEMO_DATA) --catalog $(DEMO_CATALOG)
	$(BIN)/ferrotrade data info $(DEMO_CATALOG)
	$(BIN)/ferrotrade data verify $(DEMO_DATA)
	$(BIN)/ferrotrade backtest examples/backtest_trend_bars.toml --catalog $(DEMO_CATALOG) --report build/reports/trend_bars.html
	$(BIN)/ferrotrade backtest examples/backtest_mm.toml --catalog $(DEMO_CATALOG) --report build/reports/market_maker.html
	$(BIN)/ferrotrade backtest examples/backtest_model.toml --report build/reports/model_signal.html
	$(BIN)/ferrotrade backtest examples/backtest_execution.toml --catalog $(DEMO_CATALOG) --report build/reports/execution.html

## dev: build the extension in the dev profile into the venv (editable)
dev: $(VENV)/.dev-deps
	VIRTUAL_ENV=$(CURDIR)/$(VENV) $(BIN)/maturin develop --quiet

## test: every check CI runs: Rust and Python lint, Rust tests, the extension build, Python tests
test: lint proto-check rust-test dev stubs-check py-test

lint: $(VENV)/.dev-deps
	cargo fmt --all --check
	cargo clippy --workspace --all-targets --locked -- -D warnings
	$(BIN)/ruff check python tests benchmarks
	$(BIN)/ruff format --check python tests benchmarks

# The inference tests load the ONNX Runtime library of the onnxruntime package in .venv, as the engine does.
rust-test: $(VENV)/.dev-deps
	FERROTRADE_PYTHON=$(CURDIR)/$(BIN)/python cargo test --workspace --exclude ferrotrade-pybind --locked

stubs-check: dev
	$(BIN)/mypy --strict python/ferrotrade
	$(BIN)/python -m mypy.stubtest ferrotrade._core --allowlist python/stubtest-allowlist.txt

## proto: regenerate the checked-in Rust (prost) and Python modules of proto/ from one protoc parse
proto: $(VENV)/.dev-deps
	rm -rf build/proto python/ferrotrade/v1/*_pb2.py python/ferrotrade/v1/*_pb2.pyi rust/bus/src/proto/*.rs
	mkdir -p build/proto
	$(BIN)/python -m grpc_tools.protoc -Iproto --include_imports --include_source_info \
		--descriptor_set_out=build/proto/ferrotrade.fds --python_out=python --pyi_out=python $(PROTO_FILES)
	cargo run --quiet --locked --manifest-path proto/gen/Cargo.toml -- build/proto/ferrotrade.fds rust/bus/src/proto

## proto-check: the generated code matches proto/ (CI: a change to a .proto file must come with its code)
proto-check: proto
	@git diff --quiet -- $(PROTO_OUT) && [ -z "$$(git status --porcelain -- $(PROTO_OUT))" ] || \
		{ git status --short -- $(PROTO_OUT); echo "generated code differs from proto/: run make proto and commit"; exit 1; }

## test-services: Debian packages tests need (PostgreSQL server, tmux; installed in CI and as root)
test-services:
	bash tests/support/ensure-packages.sh

# pytest exits with 5 when it collects no test (say, a filtered run): that is reported, not a failure.
py-test: dev test-services
	$(BIN)/pytest || { status=$$?; [ $$status -eq 5 ] && echo "pytest: no tests collected"; [ $$status -eq 5 ]; }

## bench: release builds, then the benchmarks that print figures (no pass/fail)
bench: $(VENV)/.dev-deps
	VIRTUAL_ENV=$(CURDIR)/$(VENV) $(BIN)/maturin develop --release --quiet
	cargo bench -p ferrotrade-book -p ferrotrade-venues -p ferrotrade-risk -p ferrotrade-oms -p ferrotrade-bus
	cargo build --release -p ferrotrade-book --example replay_rows
	$(BIN)/python benchmarks/book_replay.py
	$(BIN)/python benchmarks/backtest_mm.py
	$(BIN)/python benchmarks/live_latency.py
	$(BIN)/python benchmarks/optimize.py
	$(BIN)/python benchmarks/inference.py
	$(BIN)/python benchmarks/bus_throughput.py
	$(BIN)/python benchmarks/algo_cost.py

## models: retrain the example model of models/ on the bundled real klines (deterministic)
models: dev
	$(BIN)/ferrotrade ml train examples/ml_train_bars.toml

clean:
	rm -rf $(VENV) build target
