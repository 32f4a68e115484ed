//! `_core.run_live` and `_core.serve_venue`: the live engine and the local venue from Python.
//!
//! `run_live` parses the configuration (TOML parsed by Python, handed over as JSON), builds the Rust and
//! Python strategies exactly as a backtest does, and runs [`ferrotrade_live::run`] on the calling thread.
//! With only Rust strategies the GIL is released for the whole run; a Python strategy takes it per
//! callback. Either way the engine's hooks check Python signals every 100 ms, so Ctrl-C stops the run
//! cleanly (strategies' `on_stop`, optional cancel of open orders, journal flushed) instead of killing it.
//!
//! `replay` mode starts a local venue in this process ([`replay`]) replaying the `[replay]` recordings, and
//! points every configured venue at it with a throw-away API key: the engine then runs over the venues' real
//! wire protocols end to end, against recorded data.

mod errors;
mod replay;
mod venue;

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use ferrotrade_live::clock::now_instant;
use ferrotrade_live::config::{LiveConfig, Mode};
use ferrotrade_live::{LiveError, LiveHooks, LiveStatus};
use ferrotrade_strategy::Strategy;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use serde_json::Value;

use crate::backtest::{PyStrategy, python_strategies, rust_strategies};
use crate::errors::{ConfigError, StrategyError};
pub use errors::VenueError;

/// Hooks of a run with Python strategies (on the calling thread, with the GIL): Ctrl-C and `stop_after`
/// stop the run cleanly; the status callback is called about once a second.
struct PythonHooks {
    on_status: Option<Py<PyAny>>,
    last_status: Instant,
    deadline: Option<Instant>,
    interrupted: bool,
    callback_error: Option<PyErr>,
}

fn status_dict<'py>(py: Python<'py>, status: &LiveStatus) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    dict.set_item("messages", status.messages)?;
    dict.set_item("orders", status.orders)?;
    dict.set_item("fills", status.fills)?;
    dict.set_item("open_orders", status.open_orders)?;
    dict.set_item("books_synced", status.synced.iter().filter(|synced| **synced).count())?;
    dict.set_item("books", status.synced.len())?;
    Ok(dict)
}

impl LiveHooks for PythonHooks {
    fn should_stop(&mut self) -> bool {
        if self.interrupted || self.callback_error.is_some() || self.deadline.is_some_and(|at| now_instant() >= at) {
            return true;
        }
        self.interrupted = Python::attach(|py| py.check_signals().is_err());
        self.interrupted
    }

    fn on_status(&mut self, status: &LiveStatus) {
        let Some(callback) = &self.on_status else { return };
        if self.last_status.elapsed() < STATUS_EVERY || self.callback_error.is_some() {
            return;
        }
        self.last_status = now_instant();
        Python::attach(|py| {
            if let Err(error) = status_dict(py, status).and_then(|dict| callback.call1(py, (dict,))) {
                self.callback_error = Some(error);
            }
        });
    }
}

/// Hooks of a run with only Rust strategies (on a worker thread, without the GIL): the calling thread turns
/// Ctrl-C into `cancel` and reads the latest status from `status`.
struct WorkerHooks<'a> {
    cancel: &'a AtomicBool,
    deadline: Option<Instant>,
    status: &'a Mutex<Option<LiveStatus>>,
}

impl LiveHooks for WorkerHooks<'_> {
    fn should_stop(&mut self) -> bool {
        self.cancel.load(Ordering::Relaxed) || self.deadline.is_some_and(|at| now_instant() >= at)
    }

    fn on_status(&mut self, status: &LiveStatus) {
        if let Ok(mut slot) = self.status.lock() {
            *slot = Some(status.clone());
        }
    }
}

const STATUS_EVERY: Duration = Duration::from_secs(1);

fn live_error(py: Python<'_>, error: LiveError, python_errors: &RefCell<Vec<(String, PyErr)>>) -> PyErr {
    match error {
        LiveError::Config(message) => ConfigError::new_err(message),
        LiveError::Credentials { .. } => ConfigError::new_err(error.to_string()),
        LiveError::Strategy { strategy, message } => {
            let exception = StrategyError::new_err(format!("strategy {strategy:?} failed:\n{message}"));
            if let Some((_, cause)) = python_errors.borrow_mut().drain(..).find(|(name, _)| *name == strategy) {
                exception.set_cause(py, Some(cause));
            }
            let _ = exception.value(py).setattr("strategy", strategy.as_str());
            exception
        }
        LiveError::Wire(inner) => crate::errors::venue_error(py, &inner),
        other => VenueError::new_err(other.to_string()),
    }
}

/// Runs the live engine until Ctrl-C, `[live].stop_after_s`, or an error; returns the report as a dict.
///
/// `config_json` is the configuration (TOML parsed by the caller, as JSON); relative paths in it are
/// relative to `base_dir`. `strategies` are extra Python strategy objects; `strategy_base` is the
/// `ferrotrade.Strategy` class; `on_status(dict)` is called about once a second.
#[pyfunction]
#[pyo3(signature = (config_json, base_dir, strategies, strategy_base, on_status = None))]
pub fn run_live<'py>(
    py: Python<'py>,
    config_json: &str,
    base_dir: PathBuf,
    strategies: Vec<Py<PyAny>>,
    strategy_base: Bound<'py, PyAny>,
    on_status: Option<Py<PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    let mut value: Value =
        serde_json::from_str(config_json).map_err(|error| ConfigError::new_err(error.to_string()))?;
    let replay_section = replay::take_section(&mut value, &base_dir)?;
    let stop_after = take_stop_after(&mut value)?;
    resolve_paths(&mut value, &base_dir);
    let mut config =
        LiveConfig::from_json(&value.to_string()).map_err(|error| ConfigError::new_err(error.to_string()))?;
    let venue = match (config.live.mode, replay_section) {
        (Mode::Replay, Some(section)) => Some(replay::start(py, &section, &mut config)?),
        (Mode::Replay, None) => {
            return Err(ConfigError::new_err("replay: mode = \"replay\" needs a [replay] section with paths"));
        }
        // Paper over a replay: the recorded data comes through the local venue, orders fill in-process.
        (Mode::Paper, Some(section)) => Some(replay::start(py, &section, &mut config)?),
        (Mode::Live, Some(_)) => {
            return Err(ConfigError::new_err("replay: mode = \"live\" sends real orders: remove [replay]"));
        }
        (_, None) => None,
    };
    let rust = rust_strategies(&config.strategies)?;
    let mut python_objects = python_strategies(py, &config.strategies)?;
    python_objects.extend(strategies.into_iter().map(|object| (object, None)));
    if rust.is_empty() && python_objects.is_empty() {
        return Err(ConfigError::new_err("no strategy: add a [[strategy]] table or pass strategies=[...]"));
    }
    let python_errors: Rc<RefCell<Vec<(String, PyErr)>>> = Rc::new(RefCell::new(Vec::new()));
    let deadline = stop_after.map(|seconds| now_instant() + Duration::from_secs_f64(seconds));
    let started = now_instant();
    let result = if python_objects.is_empty() {
        let status: Mutex<Option<LiveStatus>> = Mutex::new(None);
        let mut last_status = now_instant();
        let (result, _interrupted) = crate::detach::run_until_interrupted(
            py,
            |cancel| {
                let strategies: Vec<Box<dyn Strategy>> = rust.into_iter().map(|s| s as Box<dyn Strategy>).collect();
                ferrotrade_live::run(config, strategies, &mut WorkerHooks { cancel, deadline, status: &status })
            },
            |py| {
                let Some(callback) = &on_status else { return Ok(()) };
                if last_status.elapsed() < STATUS_EVERY {
                    return Ok(());
                }
                last_status = now_instant();
                let latest = status.lock().ok().and_then(|mut slot| slot.take());
                match latest {
                    Some(latest) => callback.call1(py, (status_dict(py, &latest)?,)).map(drop),
                    None => Ok(()),
                }
            },
        )?;
        result
    } else {
        let mut strategies: Vec<Box<dyn Strategy + '_>> = rust.into_iter().map(|s| s as Box<dyn Strategy>).collect();
        for (object, name) in python_objects {
            let strategy = PyStrategy::new(py, object, &strategy_base, name, Rc::clone(&python_errors))?;
            strategies.push(Box::new(strategy));
        }
        // Python strategies are not `Send`: the engine runs on this thread, holding the GIL as a backtest does
        // (every callback needs it); the hooks still check for Ctrl-C every 100 ms.
        let mut hooks =
            PythonHooks { on_status, last_status: now_instant(), deadline, interrupted: false, callback_error: None };
        let result = ferrotrade_live::run(config, strategies, &mut hooks);
        if let Some(error) = hooks.callback_error.take() {
            return Err(error);
        }
        result
    };
    let wall_seconds = started.elapsed().as_secs_f64();
    let served = venue.map(replay::ReplayVenue::stop).transpose()?;
    let report = result.map_err(|error| live_error(py, error, &python_errors))?;
    let json = serde_json::to_string(&report).map_err(|error| VenueError::new_err(error.to_string()))?;
    let dict = PyDict::new(py);
    dict.set_item("report_json", json)?;
    dict.set_item("wall_seconds", wall_seconds)?;
    if let Some(served) = served {
        dict.set_item("venue", served)?;
    }
    Ok(dict)
}

/// Takes `[live].stop_after_s` (a Python-side option: the hooks stop the run after that many seconds).
fn take_stop_after(value: &mut Value) -> PyResult<Option<f64>> {
    let Some(seconds) =
        value.get_mut("live").and_then(Value::as_object_mut).and_then(|live| live.remove("stop_after_s"))
    else {
        return Ok(None);
    };
    match seconds.as_f64() {
        Some(seconds) if seconds.is_finite() && seconds > 0.0 => Ok(Some(seconds)),
        _ => Err(ConfigError::new_err(format!("live.stop_after_s: {seconds} must be a positive number of seconds"))),
    }
}

/// Makes the configuration's paths (`[live].run_dir`, key files, the bus token file) relative to the configuration's folder.
fn resolve_paths(value: &mut Value, base_dir: &Path) {
    let absolute = |path: &mut Value| {
        if let Some(text) = path.as_str()
            && Path::new(text).is_relative()
        {
            *path = Value::String(base_dir.join(text).to_string_lossy().into_owned());
        }
    };
    if let Some(run_dir) = value.get_mut("live").and_then(|live| live.get_mut("run_dir")) {
        absolute(run_dir);
    }
    if let Some(file) = value.get_mut("bus").and_then(|bus| bus.get_mut("token_file")) {
        absolute(file);
    }
    if let Some(venues) = value.get_mut("venue").and_then(Value::as_array_mut) {
        for venue in venues {
            if let Some(file) = venue.get_mut("credentials").and_then(|credentials| credentials.get_mut("file")) {
                absolute(file);
            }
        }
    }
}

/// Registers the live functions and the `VenueError` exception.
pub fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    errors::register(module)?;
    module.add_function(wrap_pyfunction!(run_live, module)?)?;
    module.add_function(wrap_pyfunction!(venue::serve_venue, module)?)?;
    Ok(())
}
