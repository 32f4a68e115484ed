//! Models for the engines: the ONNX Runtime library of the installed `onnxruntime` package, the
//! `model_signal` strategy's prediction sources, and `_core.OnnxModel` (Rust inference from Python, for
//! parity checks and benchmarks).
//!
//! The library is found through the Python package in process (`onnxruntime.__file__`, then its `capi`
//! folder), unless `FERROTRADE_ONNXRUNTIME` names one; it is loaded once per process.

use std::path::{Path, PathBuf};

use ferrotrade_features::{Clock, FEATURE_CODE_VERSION};
use ferrotrade_infer::{BridgeClient, BridgeConfig, FeatureContract, InferError, OnnxModel};
use ferrotrade_model::UnixNanos;
use ferrotrade_strategy::builtin::{ModelSignal, ModelSignalConfig, SignalSource};
use pyo3::prelude::*;
use serde_json::Value;

use crate::errors::{ConfigError, FerrotradeError, ModelMismatchError};

/// The clock as a configuration and a model card write it.
pub fn clock_json(clock: Clock) -> Value {
    match clock {
        Clock::Bars => Value::from("bars"),
        Clock::Book => Value::from("book"),
        Clock::Interval { interval_ms } => serde_json::json!({ "interval_ms": interval_ms }),
    }
}

/// Maps an inference error to `ModelMismatchError` (card vs features), `ConfigError` (files, cards,
/// graphs, bridge settings) or `FerrotradeError` (the runtime, a failed prediction).
pub fn infer_error(error: &InferError) -> PyErr {
    let message = error.to_string();
    match error {
        InferError::FeatureMismatch { .. } => ModelMismatchError::new_err(message),
        InferError::Io { path, .. } if !path.exists() => pyo3::exceptions::PyFileNotFoundError::new_err(message),
        InferError::Io { .. } | InferError::Card { .. } | InferError::Graph { .. } | InferError::Bridge(_) => {
            ConfigError::new_err(message)
        }
        InferError::Runtime(_) | InferError::Run(_) => FerrotradeError::new_err(message),
    }
}

/// The ONNX Runtime library: `FERROTRADE_ONNXRUNTIME`, or the one in the installed `onnxruntime` package.
pub fn runtime_library(py: Python<'_>) -> PyResult<PathBuf> {
    if std::env::var_os(ferrotrade_infer::runtime::RUNTIME_ENV).is_some_and(|value| !value.is_empty()) {
        return ferrotrade_infer::runtime::locate().map_err(|error| infer_error(&error));
    }
    let package = py.import("onnxruntime").map_err(|error| {
        FerrotradeError::new_err(format!(
            "ONNX models need the onnxruntime package (pip install onnxruntime), or {} naming the library: {error}",
            ferrotrade_infer::runtime::RUNTIME_ENV
        ))
    })?;
    let file: PathBuf = package.getattr("__file__")?.extract()?;
    let capi = file.parent().map(|dir| dir.join("capi")).unwrap_or_default();
    let mut found: Vec<PathBuf> = std::fs::read_dir(&capi)
        .map(|entries| entries.filter_map(Result::ok).map(|entry| entry.path()).collect())
        .unwrap_or_default();
    found.retain(|path| {
        let name = path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
        name.starts_with("libonnxruntime.so")
            || (name.starts_with("libonnxruntime") && name.ends_with(".dylib"))
            || name == "onnxruntime.dll"
    });
    found.sort();
    found.into_iter().next().ok_or_else(|| {
        FerrotradeError::new_err(format!("the onnxruntime package at {} ships no ONNX Runtime library", capi.display()))
    })
}

/// An ONNX model as a signal source: the prediction is ready when asked for.
struct OnnxSource {
    model: OnnxModel,
    ready: Option<f64>,
}

impl SignalSource for OnnxSource {
    fn request(&mut self, _ts: UnixNanos, features: &[f64]) -> Result<(), String> {
        self.ready = Some(self.model.predict(features).map_err(|error| error.to_string())?);
        Ok(())
    }

    fn poll(&mut self) -> Option<f64> {
        self.ready.take()
    }
}

/// The model server as a signal source: answers arrive on later calls, late ones never.
struct BridgeSource {
    client: BridgeClient,
}

impl SignalSource for BridgeSource {
    fn request(&mut self, ts: UnixNanos, features: &[f64]) -> Result<(), String> {
        // A full queue drops the request (counted by the client): the engine never waits for the server.
        let _ = self.client.request(ts.0, features);
        Ok(())
    }

    fn poll(&mut self) -> Option<f64> {
        self.client.poll()
    }
}

fn contract(config: &ModelSignalConfig) -> FeatureContract {
    FeatureContract {
        names: config.features.clone(),
        clock: clock_json(config.clock),
        code_version: FEATURE_CODE_VERSION.to_owned(),
    }
}

/// Builds a `kind = "model_signal"` strategy: loads its model (checking the card against its features) or
/// connects its bridge.
pub fn model_signal(config: &ModelSignalConfig, key: &str) -> PyResult<ModelSignal> {
    let config_error = |message: String| ConfigError::new_err(format!("{key}: {message}"));
    let source: Box<dyn SignalSource> = match (&config.model, &config.bridge) {
        (Some(model), _) => {
            let library = Python::attach(runtime_library)?;
            let model =
                OnnxModel::load(Path::new(model), &library, &contract(config)).map_err(|error| infer_error(&error))?;
            Box::new(OnnxSource { model, ready: None })
        }
        (None, Some(bridge)) => {
            let settings = BridgeConfig {
                endpoint: bridge.endpoint.clone(),
                timeout_ms: bridge.timeout_ms,
                queue: bridge.queue.unwrap_or(64),
            };
            Box::new(BridgeSource {
                client: BridgeClient::connect(&settings).map_err(|error| config_error(error.to_string()))?,
            })
        }
        (None, None) => return Err(config_error("model: missing".into())),
    };
    ModelSignal::new(config.clone(), source).map_err(|error| config_error(error.to_string()))
}

/// An ONNX model run by the Rust engine's inference code (for parity checks and latency benchmarks).
#[pyclass(module = "ferrotrade._core", name = "OnnxModel", unsendable)]
pub struct PyOnnxModel {
    model: OnnxModel,
}

#[pymethods]
impl PyOnnxModel {
    /// Loads `path` (its card beside it), refusing it unless the card lists `features` on `clock_json`.
    #[new]
    fn new(py: Python<'_>, path: PathBuf, features: Vec<String>, clock_json: &str) -> PyResult<PyOnnxModel> {
        let clock: Value = serde_json::from_str(clock_json).map_err(|error| ConfigError::new_err(error.to_string()))?;
        let library = runtime_library(py)?;
        let contract = FeatureContract { names: features, clock, code_version: FEATURE_CODE_VERSION.to_owned() };
        let model = OnnxModel::load(&path, &library, &contract).map_err(|error| infer_error(&error))?;
        Ok(PyOnnxModel { model })
    }

    /// Predicts each row; returns `(signals, outputs)`: one signal per row and the raw outputs (class
    /// probabilities, or the value) per row.
    fn predict(&mut self, rows: Vec<Vec<f64>>) -> PyResult<(Vec<f64>, Vec<Vec<f32>>)> {
        let mut signals = Vec::with_capacity(rows.len());
        let mut outputs = Vec::with_capacity(rows.len());
        for row in &rows {
            signals.push(self.model.predict(row).map_err(|error| infer_error(&error))?);
            outputs.push(self.model.outputs().to_vec());
        }
        Ok((signals, outputs))
    }

    /// Latency of `iterations` single predictions of `row` (after `warmup` more), in nanoseconds each,
    /// measured around `predict` alone, off the GIL.
    #[pyo3(signature = (row, iterations, warmup = 1_000))]
    fn time_predictions(
        &mut self,
        py: Python<'_>,
        row: Vec<f64>,
        iterations: usize,
        warmup: usize,
    ) -> PyResult<Vec<u64>> {
        let model = &mut self.model;
        py.detach(|| {
            for _ in 0..warmup {
                model.predict(&row).map_err(|error| error.to_string())?;
            }
            let mut times = Vec::with_capacity(iterations);
            for _ in 0..iterations {
                let started = wall_clock();
                model.predict(&row).map_err(|error| error.to_string())?;
                times.push(u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX));
            }
            Ok(times)
        })
        .map_err(|error: String| FerrotradeError::new_err(error))
    }

    /// The card's feature names.
    #[getter]
    fn features(&self) -> Vec<String> {
        self.model.card().features.names.clone()
    }
}

/// The engine's bridge client, from Python: for tests of the bridge against `ferrotrade ml serve`.
#[pyclass(module = "ferrotrade._core", name = "BridgeClient", unsendable)]
pub struct PyBridgeClient {
    client: BridgeClient,
}

#[pymethods]
impl PyBridgeClient {
    /// Connects to `endpoint` (the server may start later); answers later than `timeout_ms` are ignored.
    #[new]
    #[pyo3(signature = (endpoint, timeout_ms, queue = 64))]
    fn new(endpoint: String, timeout_ms: u64, queue: usize) -> PyResult<PyBridgeClient> {
        let config = BridgeConfig { endpoint, timeout_ms, queue };
        Ok(PyBridgeClient { client: BridgeClient::connect(&config).map_err(|error| infer_error(&error))? })
    }

    /// Queues a request (never blocks); its `seq`, or `None` when dropped.
    fn request(&mut self, ts: u64, features: Vec<f64>) -> Option<u64> {
        self.client.request(ts, &features)
    }

    /// The newest in-time answer since the last call (never blocks).
    fn poll(&mut self) -> Option<f64> {
        self.client.poll()
    }

    /// Counters: sent, dropped, answered, late, errors, socket_errors.
    fn stats(&self) -> std::collections::BTreeMap<&'static str, u64> {
        let [sent, dropped, answered, late, errors, socket_errors] = self.client.stats().snapshot();
        [
            ("sent", sent),
            ("dropped", dropped),
            ("answered", answered),
            ("late", late),
            ("errors", errors),
            ("socket_errors", socket_errors),
        ]
        .into_iter()
        .collect()
    }
}

/// The wall clock, for benchmark figures only.
#[allow(clippy::disallowed_methods, reason = "latency figures for the benchmark, outside any simulation")]
fn wall_clock() -> std::time::Instant {
    std::time::Instant::now()
}

/// Registers the inference classes.
pub fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<PyOnnxModel>()?;
    module.add_class::<PyBridgeClient>()?;
    Ok(())
}
