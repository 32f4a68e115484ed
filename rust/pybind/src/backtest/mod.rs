//! `_core.run_backtest`: configuration -> strategies -> catalog stream -> [`Backtest`] -> result tables.
//!
//! Runs with only Rust strategies go through [`crate::detach::run_interruptible_with`]: the whole run
//! happens on a worker thread without the GIL, and the caller's thread reports progress and turns Ctrl-C
//! into a clean stop. Runs with a Python strategy keep the GIL on the calling thread (every callback needs
//! it; taking and releasing it per event would cost more than the event), and check for Ctrl-C every few
//! thousand rows.

mod bus;
mod context;
mod pystrategy;
mod results;
mod source;

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use ferrotrade_catalog::{Catalog, StreamSpec, TableKind};
use ferrotrade_model::{Decimal, FeeRate, Instrument, Money, Price, Quantity, UnixNanos, Venue};
use ferrotrade_sim::config::VenueConfig;
use ferrotrade_sim::engine::{
    Backtest, BacktestConfig, BacktestOutput, Checkpoint, EngineError, EngineSetup, RunControl, StrategyConfig,
};
use ferrotrade_strategy::builtin::{Execution, MarketMaker, Trend};
use ferrotrade_strategy::{DataKind, Strategy, Subscription};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::arrow::ArrowBatches;
use crate::errors::{BookIntegrityError, ConfigError, DataFormatError, OrderStateError, StrategyError};
pub(crate) use pystrategy::PyStrategy;
use source::CatalogSource;

/// Rows per chunk read from the catalog.
const CHUNK_ROWS: usize = 1 << 16;

fn config_error(key: &str, message: impl std::fmt::Display) -> PyErr {
    if key.is_empty() {
        ConfigError::new_err(message.to_string())
    } else {
        ConfigError::new_err(format!("{key}: {message}"))
    }
}

/// A name not used yet: `base`, `base_2`, `base_3`, ...
fn unique_name(base: &str, taken: &[String]) -> String {
    if !taken.iter().any(|name| name == base) {
        return base.to_owned();
    }
    (2..).map(|n| format!("{base}_{n}")).find(|name| !taken.contains(name)).unwrap_or_else(|| base.to_owned())
}

/// The Rust strategies of the configuration (Python ones are built by [`python_strategies`]).
pub(crate) fn rust_strategies(entries: &[StrategyConfig]) -> PyResult<Vec<Box<dyn Strategy + Send>>> {
    let mut strategies: Vec<Box<dyn Strategy + Send>> = Vec::new();
    let mut names: Vec<String> = Vec::new();
    for (index, entry) in entries.iter().enumerate() {
        let key = format!("strategy[{index}]");
        let strategy: Box<dyn Strategy + Send> = match entry {
            StrategyConfig::MarketMaker { name, config } => {
                let name = name.clone().unwrap_or_else(|| unique_name("market_maker", &names));
                Box::new(MarketMaker::new(config.clone()).with_name(name))
            }
            StrategyConfig::Trend { name, config } => {
                let name = name.clone().unwrap_or_else(|| unique_name("trend", &names));
                Box::new(Trend::new(config.clone()).map_err(|error| config_error(&key, error))?.with_name(name))
            }
            StrategyConfig::ModelSignal { name, config } => {
                let name = name.clone().unwrap_or_else(|| unique_name("model_signal", &names));
                Box::new(crate::infer::model_signal(config, &key)?.with_name(name))
            }
            StrategyConfig::Execution { name, config } => {
                let name = name.clone().unwrap_or_else(|| unique_name("execution", &names));
                Box::new(Execution::new(config.clone()).map_err(|error| config_error(&key, error))?.with_name(name))
            }
            StrategyConfig::Python { .. } => continue,
        };
        names.push(strategy.name().to_owned());
        strategies.push(strategy);
    }
    Ok(strategies)
}

/// Imports and builds the `kind = "python"` strategies of the configuration.
pub(crate) fn python_strategies(
    py: Python<'_>,
    entries: &[StrategyConfig],
) -> PyResult<Vec<(Py<PyAny>, Option<String>)>> {
    let mut objects = Vec::new();
    for (index, entry) in entries.iter().enumerate() {
        let StrategyConfig::Python { name, class, params } = entry else { continue };
        let key = format!("strategy[{index}].class");
        let (module, class_name) = class
            .split_once(':')
            .ok_or_else(|| config_error(&key, format!("{class:?} is not \"package.module:ClassName\"")))?;
        let module =
            py.import(module).map_err(|error| config_error(&key, format!("cannot import {module:?}: {error}")))?;
        let class_object = module
            .getattr(class_name)
            .map_err(|_| config_error(&key, format!("{class_name:?} not found in the module")))?;
        let kwargs = PyDict::new(py);
        let json = py.import("json")?;
        for (param, value) in params {
            let value = json.call_method1("loads", (value.to_string(),))?;
            kwargs.set_item(param, value)?;
        }
        let object = class_object
            .call((), Some(&kwargs))
            .map_err(|error| config_error(&format!("strategy[{index}].params"), error))?;
        objects.push((object.unbind(), name.clone()));
    }
    Ok(objects)
}

/// Resolves the run's instruments (in order of first subscription) against the catalog and applies the
/// configuration's overrides and fees.
fn resolve_instruments(
    config: &BacktestConfig,
    catalog: &Catalog,
    subscriptions: &[Subscription],
) -> PyResult<(Vec<Instrument>, Vec<VenueConfig>)> {
    let mut names: Vec<String> = Vec::new();
    for subscription in subscriptions {
        if !names.iter().any(|name| name.eq_ignore_ascii_case(&subscription.instrument)) {
            names.push(subscription.instrument.clone());
        }
    }
    for key in config.instruments.keys() {
        if !names.iter().any(|name| name.eq_ignore_ascii_case(key)) {
            return Err(config_error(&format!("instruments.{key:?}"), "no strategy trades this instrument"));
        }
    }
    let mut instruments = Vec::new();
    let mut venues = Vec::new();
    for name in &names {
        let (venue, symbol) = name
            .split_once('.')
            .ok_or_else(|| ConfigError::new_err(format!("instrument {name:?} is not \"venue.SYMBOL\"")))?;
        let venue: Venue =
            venue.parse().map_err(|error| ConfigError::new_err(format!("instrument {name:?}: {error}")))?;
        let mut instrument = catalog.instrument(venue, symbol).ok_or_else(|| {
            ConfigError::new_err(format!("instrument {name:?} is not in the catalog {}", catalog.root().display()))
        })?;
        let mut venue_config = config.venue.clone();
        let overrides =
            config.instruments.iter().find(|(key, _)| key.eq_ignore_ascii_case(name)).map(|(_, value)| value);
        if let Some(overrides) = overrides {
            let key = |field: &str| format!("instruments.{name:?}.{field}");
            let fixed = |value: Decimal, precision: u8, field: &str| {
                value.to_fixed(precision).map_err(|error| config_error(&key(field), error))
            };
            if let Some(tick) = overrides.tick_size {
                instrument.tick_size = Price(fixed(tick, instrument.price_precision, "tick_size")?);
            }
            if let Some(lot) = overrides.lot_size {
                instrument.lot_size = Quantity(fixed(lot, instrument.size_precision, "lot_size")?);
            }
            if let Some(min_notional) = overrides.min_notional {
                instrument.min_notional = Some(min_notional);
            }
            if let Some(contract_size) = overrides.contract_size {
                instrument.contract_size = contract_size;
            }
            if let Some(maker) = overrides.maker_fee {
                venue_config.fees.maker = maker;
            }
            if let Some(taker) = overrides.taker_fee {
                venue_config.fees.taker = taker;
            }
            for (field, rate) in [("maker_fee", venue_config.fees.maker), ("taker_fee", venue_config.fees.taker)] {
                FeeRate::from_decimal(rate).ok_or_else(|| {
                    config_error(&key(field), "a fee rate has at most 8 decimals and lies in (-1, 1)")
                })?;
            }
        }
        instruments.push(instrument);
        venues.push(venue_config);
    }
    Ok((instruments, venues))
}

fn parse_time(text: Option<&str>, key: &str) -> PyResult<Option<UnixNanos>> {
    text.map(|text| {
        UnixNanos::parse_utc(text).ok_or_else(|| {
            config_error(key, format!("{text:?} is not a UTC date or time (2024-08-08, 2024-08-08T12:00:00Z)"))
        })
    })
    .transpose()
}

/// Everything resolved before the run starts; `Send`, so a Rust-only run can move it to a worker thread.
struct Plan {
    setup: EngineSetup,
    catalog: Catalog,
    start: Option<UnixNanos>,
    end: Option<UnixNanos>,
    preload: bool,
}

/// Wall-clock split of a run: reading the data ahead (preload only) and the replay itself.
#[derive(Clone, Copy, Default)]
struct Timing {
    load_seconds: f64,
    run_seconds: f64,
}

fn plan(config: &BacktestConfig, base_dir: &Path, subscriptions: &[Subscription]) -> PyResult<Plan> {
    let catalog_path = base_dir.join(&config.backtest.catalog);
    let catalog = Catalog::open(&catalog_path).map_err(|error| config_error("backtest.catalog", error))?;
    let (instruments, venues) = resolve_instruments(config, &catalog, subscriptions)?;
    let start = parse_time(config.backtest.start.as_deref(), "backtest.start")?;
    let end = parse_time(config.backtest.end.as_deref(), "backtest.end")?;
    if let (Some(start), Some(end)) = (start, end)
        && end <= start
    {
        return Err(config_error("backtest.end", "must be after backtest.start"));
    }
    let setup = EngineSetup {
        instruments,
        venues,
        latency: config.venue.latency.clone(),
        risk: config.risk.clone(),
        initial_equity: Money::from_decimal(config.backtest.initial_equity),
        seed: config.backtest.seed,
        sample_interval_ns: config.backtest.sample_interval_ms.saturating_mul(1_000_000),
    };
    Ok(Plan { setup, catalog, start, end, preload: config.backtest.preload })
}

fn table_kind(kind: DataKind) -> TableKind {
    match kind {
        DataKind::Book => TableKind::Book,
        DataKind::Trades => TableKind::Trades,
        DataKind::Bars => TableKind::Bars,
        DataKind::Mark => TableKind::Mark,
    }
}

/// Stream order at equal receive times: book before trades before bars before marks.
fn kind_order(kind: DataKind) -> u8 {
    match kind {
        DataKind::Book => 0,
        DataKind::Trades => 1,
        DataKind::Bars => 2,
        DataKind::Mark => 3,
    }
}

/// Builds the engine, opens the catalog stream and runs it.
fn execute(
    plan: Plan,
    strategies: Vec<Box<dyn Strategy + '_>>,
    progress: &AtomicU64,
    total: &AtomicU64,
    control: &mut dyn RunControl,
) -> Result<(BacktestOutput, Vec<Instrument>, Timing), EngineError> {
    let instruments = plan.setup.instruments.clone();
    let mut backtest = Backtest::new(plan.setup, strategies)?;
    // The simulated venues need every instrument's trades (queue position, maker fills, stops) and mark
    // updates (funding) whether or not a strategy subscribed to them; they are read when the catalog has
    // them, and strategies still get only the kinds they asked for.
    let mut streams = backtest.streams();
    for (index, instrument) in instruments.iter().enumerate() {
        for kind in [DataKind::Trades, DataKind::Mark] {
            let index = ferrotrade_model::InstrumentIndex(index as u32);
            let present = !plan.catalog.dates(table_kind(kind), instrument.id.venue, &instrument.id.symbol).is_empty();
            if present && !streams.contains(&(index, kind)) {
                streams.push((index, kind));
            }
        }
    }
    streams.sort_by_key(|(index, kind)| (*index, kind_order(*kind)));
    let specs: Vec<StreamSpec> = streams
        .into_iter()
        .map(|(index, kind)| {
            let instrument = &instruments[index.get()];
            StreamSpec {
                kind: table_kind(kind),
                venue: instrument.id.venue,
                symbol: instrument.id.symbol.clone(),
                instrument: index,
                start: plan.start,
                end: plan.end,
            }
        })
        .collect();
    let source = CatalogSource::open(&plan.catalog, &specs, CHUNK_ROWS, progress, total)
        .map_err(|error| EngineError::Setup(error.to_string()))?;
    let mut timing = Timing::default();
    let started = wall_clock();
    let result = if plan.preload {
        let mut memory = source.preload().map_err(EngineError::Source)?;
        timing.load_seconds = started.elapsed().as_secs_f64();
        let started = wall_clock();
        let result = backtest.run(&mut memory, control);
        timing.run_seconds = started.elapsed().as_secs_f64();
        result
    } else {
        let mut source = source;
        let result = backtest.run(&mut source, control);
        timing.run_seconds = started.elapsed().as_secs_f64();
        result
    };
    let output = backtest.finish();
    result.map(|()| (output, instruments, timing))
}

/// The wall clock, for the run's timing figures only (the engine itself never reads a clock).
#[allow(clippy::disallowed_methods, reason = "timing figures for the caller, outside the simulation")]
fn wall_clock() -> std::time::Instant {
    std::time::Instant::now()
}

/// Calls the caller's `checkpoint(events, ts, equity)` callback; its exception stops the run.
fn call_checkpoint(py: Python<'_>, callback: Option<&Py<PyAny>>, checkpoint: &Checkpoint<'_>) -> PyResult<()> {
    match callback {
        Some(callback) => {
            callback.call1(py, (checkpoint.events, checkpoint.ts.0, checkpoint.equity.to_f64())).map(drop)
        }
        None => Ok(()),
    }
}

/// Ctrl-C and checkpoints for a run on a worker thread. The checkpoint callback takes the GIL on the
/// worker thread (the caller's thread waits without it), once every `CHECKPOINT_ROWS` rows.
struct FlagControl<'a> {
    cancel: &'a AtomicBool,
    checkpoint: Option<&'a Py<PyAny>>,
    error: Option<PyErr>,
}

impl RunControl for FlagControl<'_> {
    fn checkpoint(&mut self, checkpoint: &Checkpoint<'_>) -> bool {
        if self.cancel.load(Ordering::Relaxed) {
            return true;
        }
        if self.checkpoint.is_none() {
            return false;
        }
        match Python::attach(|py| call_checkpoint(py, self.checkpoint, checkpoint)) {
            Ok(()) => false,
            Err(error) => {
                self.error = Some(error);
                true
            }
        }
    }
}

/// Ctrl-C, progress and checkpoints for a run on the Python thread.
struct PythonControl<'a> {
    progress: Option<&'a Py<PyAny>>,
    checkpoint: Option<&'a Py<PyAny>>,
    rows_read: &'a AtomicU64,
    total: &'a AtomicU64,
    error: Option<PyErr>,
}

impl RunControl for PythonControl<'_> {
    fn checkpoint(&mut self, checkpoint: &Checkpoint<'_>) -> bool {
        Python::attach(|py| {
            let result = py
                .check_signals()
                .and_then(|()| match self.progress {
                    Some(callback) => callback
                        .call1(py, (self.rows_read.load(Ordering::Relaxed), self.total.load(Ordering::Relaxed)))
                        .map(drop),
                    None => Ok(()),
                })
                .and_then(|()| call_checkpoint(py, self.checkpoint, checkpoint));
            match result {
                Ok(()) => false,
                Err(error) => {
                    self.error = Some(error);
                    true
                }
            }
        })
    }
}

fn engine_error(py: Python<'_>, error: EngineError, python_errors: &RefCell<Vec<(String, PyErr)>>) -> PyErr {
    match error {
        EngineError::Strategy { strategy, ts, message } => {
            let error = StrategyError::new_err(format!("strategy {strategy:?} failed at {ts}:\n{message}"));
            if let Some((_, cause)) = python_errors.borrow_mut().drain(..).find(|(name, _)| *name == strategy) {
                error.set_cause(py, Some(cause));
            }
            // Attributes on a fresh exception object cannot fail to set; if they did, the message still
            // carries both.
            let _ = error.value(py).setattr("strategy", strategy.as_str());
            let _ = error.value(py).setattr("ts", ts.0);
            error
        }
        EngineError::OrderState { .. } => OrderStateError::new_err(error.to_string()),
        EngineError::Book { .. } => BookIntegrityError::new_err(error.to_string()),
        EngineError::Source(_) => DataFormatError::new_err(error.to_string()),
        EngineError::Setup(message) => ConfigError::new_err(message),
        EngineError::Interrupted => pyo3::exceptions::PyKeyboardInterrupt::new_err("backtest interrupted"),
    }
}

fn stats_dict<'py>(py: Python<'py>, output: &BacktestOutput, timing: Timing) -> PyResult<Bound<'py, PyDict>> {
    let stats = &output.records.stats;
    let dict = PyDict::new(py);
    dict.set_item("events", stats.events)?;
    dict.set_item("book_rows", stats.book_rows)?;
    dict.set_item("trades", stats.trades)?;
    dict.set_item("bars", stats.bars)?;
    dict.set_item("marks", stats.marks)?;
    dict.set_item("callbacks", stats.callbacks)?;
    dict.set_item("orders", stats.orders)?;
    dict.set_item("denied", stats.denied)?;
    dict.set_item("funding_payments", stats.funding_payments)?;
    dict.set_item("first_ts", stats.first_ts.0)?;
    dict.set_item("last_ts", stats.last_ts.0)?;
    dict.set_item("load_seconds", timing.load_seconds)?;
    dict.set_item("run_seconds", timing.run_seconds)?;
    Ok(dict)
}

fn output_dict<'py>(
    py: Python<'py>,
    output: &BacktestOutput,
    instruments: &[Instrument],
    timing: Timing,
) -> PyResult<Bound<'py, PyDict>> {
    let tables = results::tables(output, instruments)
        .map_err(|error| pyo3::exceptions::PyRuntimeError::new_err(format!("building result tables: {error}")))?;
    let dict = PyDict::new(py);
    for (name, batch) in [
        ("orders", tables.orders),
        ("fills", tables.fills),
        ("equity", tables.equity),
        ("positions", tables.positions),
        ("parents", tables.parents),
        ("children", tables.children),
    ] {
        dict.set_item(name, Py::new(py, ArrowBatches::new(batch.schema(), vec![batch]))?)?;
    }
    dict.set_item("stats", stats_dict(py, output, timing)?)?;
    let denials = PyDict::new(py);
    for (code, count) in &output.denials {
        if *count > 0 {
            denials.set_item(*code, *count)?;
        }
    }
    dict.set_item("denials", denials)?;
    let risk_events = PyList::empty(py);
    for event in &output.records.risk_events {
        let item = PyDict::new(py);
        item.set_item("ts", event.ts.0)?;
        item.set_item("from", event.from.as_str())?;
        item.set_item("to", event.to.as_str())?;
        item.set_item("reason", event.reason)?;
        risk_events.append(item)?;
    }
    dict.set_item("risk_events", risk_events)?;
    dict.set_item("strategies", output.strategy_names.clone())?;
    dict.set_item("instruments", instruments.iter().map(|instrument| instrument.id.to_string()).collect::<Vec<_>>())?;
    Ok(dict)
}

/// A run resolved against the catalog, ready to start: the checks of [`run_backtest`] before any work.
struct Prepared {
    rust: Vec<Box<dyn Strategy + Send>>,
    python: Vec<PyStrategy>,
    python_errors: Rc<RefCell<Vec<(String, PyErr)>>>,
    plan: Plan,
}

fn prepare(
    py: Python<'_>,
    config_json: &str,
    base_dir: &Path,
    strategies: Vec<Py<PyAny>>,
    strategy_base: &Bound<'_, PyAny>,
) -> PyResult<Prepared> {
    let config = BacktestConfig::from_json(config_json).map_err(|error| config_error(&error.key, &error.message))?;
    let rust = rust_strategies(&config.strategies)?;
    let mut python_objects = python_strategies(py, &config.strategies)?;
    python_objects.extend(strategies.into_iter().map(|object| (object, None)));
    let python_errors: Rc<RefCell<Vec<(String, PyErr)>>> = Rc::new(RefCell::new(Vec::new()));
    let mut python: Vec<PyStrategy> = Vec::new();
    for (object, name) in python_objects {
        python.push(PyStrategy::new(py, object, strategy_base, name, Rc::clone(&python_errors))?);
    }
    let mut subscriptions: Vec<Subscription> = rust.iter().flat_map(|strategy| strategy.subscriptions()).collect();
    subscriptions.extend(python.iter().flat_map(Strategy::subscriptions));
    if subscriptions.is_empty() {
        return Err(ConfigError::new_err("no strategy: add a [[strategy]] table or pass strategies=[...]"));
    }
    let plan = plan(&config, base_dir, &subscriptions)?;
    Ok(Prepared { rust, python, python_errors, plan })
}

/// Checks a backtest configuration as [`run_backtest`] does before it starts (configuration, strategies,
/// instruments in the catalog, time range), without reading any data.
///
/// # Errors
/// `ConfigError` naming the key, as [`run_backtest`] would raise it.
#[pyfunction]
#[pyo3(signature = (config_json, base_dir, strategies, strategy_base))]
pub fn check_backtest(
    py: Python<'_>,
    config_json: &str,
    base_dir: PathBuf,
    strategies: Vec<Py<PyAny>>,
    strategy_base: Bound<'_, PyAny>,
) -> PyResult<()> {
    let (config_json, _) = bus::take_bus(config_json)?;
    prepare(py, &config_json, &base_dir, strategies, &strategy_base).map(drop)
}

/// Runs a backtest.
///
/// `config_json` is the configuration (TOML parsed by the caller, as JSON); relative paths in it are
/// relative to `base_dir`. `strategies` are extra Python strategy objects; `strategy_base` is the
/// `ferrotrade.Strategy` class; `progress(rows_read, rows_total)` is called a few times a second;
/// `checkpoint(events, ts, equity)` every `CHECKPOINT_ROWS` replayed rows, in event order (an exception it
/// raises stops the run and is raised here). A `[bus]` table publishes the run on the monitoring bus
/// (see [`bus`]).
#[pyfunction]
#[pyo3(signature = (config_json, base_dir, strategies, strategy_base, progress = None, checkpoint = None))]
pub fn run_backtest<'py>(
    py: Python<'py>,
    config_json: &str,
    base_dir: PathBuf,
    strategies: Vec<Py<PyAny>>,
    strategy_base: Bound<'py, PyAny>,
    progress: Option<Py<PyAny>>,
    checkpoint: Option<Py<PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    let (config_json, bus_config) = bus::take_bus(config_json)?;
    let Prepared { rust, python, python_errors, plan } =
        prepare(py, &config_json, &base_dir, strategies, &strategy_base)?;
    let mut tap = match &bus_config {
        Some(config) => {
            let names = rust.iter().map(|s| s.name().to_owned()).chain(python.iter().map(|s| s.name().to_owned()));
            Some(bus::BusTap::start(config, &plan.setup.instruments, names.collect())?)
        }
        None => None,
    };
    let rows_read = Arc::new(AtomicU64::new(0));
    let total = Arc::new(AtomicU64::new(0));
    let result = if python.is_empty() {
        let (rows_read_worker, total_worker) = (Arc::clone(&rows_read), Arc::clone(&total));
        let on_tick = |py: Python<'_>| match &progress {
            Some(callback) => {
                callback.call1(py, (rows_read.load(Ordering::Relaxed), total.load(Ordering::Relaxed))).map(drop)
            }
            None => Ok(()),
        };
        let checkpoint = checkpoint.as_ref();
        let worker_tap = tap.take();
        let (result, checkpoint_error, worker_tap) = crate::detach::run_interruptible_with(
            py,
            move |cancel| {
                let strategies: Vec<Box<dyn Strategy>> =
                    rust.into_iter().map(|strategy| strategy as Box<dyn Strategy>).collect();
                let mut control = FlagControl { cancel, checkpoint, error: None };
                let mut worker_tap = worker_tap;
                let result = match worker_tap.as_mut() {
                    Some(tap) => {
                        let mut tapped = bus::Tapped { inner: &mut control, tap };
                        execute(plan, strategies, &rows_read_worker, &total_worker, &mut tapped)
                    }
                    None => execute(plan, strategies, &rows_read_worker, &total_worker, &mut control),
                };
                (result, control.error, worker_tap)
            },
            on_tick,
        )?;
        tap = worker_tap;
        if let Some(error) = checkpoint_error {
            return Err(error);
        }
        result
    } else {
        let mut strategies: Vec<Box<dyn Strategy + '_>> =
            rust.into_iter().map(|strategy| strategy as Box<dyn Strategy>).collect();
        strategies.extend(python.into_iter().map(|strategy| Box::new(strategy) as Box<dyn Strategy>));
        let mut control = PythonControl {
            progress: progress.as_ref(),
            checkpoint: checkpoint.as_ref(),
            rows_read: &rows_read,
            total: &total,
            error: None,
        };
        let result = match tap.as_mut() {
            Some(tap) => execute(plan, strategies, &rows_read, &total, &mut bus::Tapped { inner: &mut control, tap }),
            None => execute(plan, strategies, &rows_read, &total, &mut control),
        };
        if let Some(error) = control.error {
            return Err(error);
        }
        result
    };
    if let Some(tap) = tap {
        // The bus drains on its own thread; waiting for it needs no GIL.
        let output = result.as_ref().ok().map(|(output, _, _)| output);
        py.detach(|| tap.finish(output));
    }
    match result {
        Ok((output, instruments, timing)) => output_dict(py, &output, &instruments, timing),
        Err(error) => Err(engine_error(py, error, &python_errors)),
    }
}

/// Registers the backtest functions and classes.
pub fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_function(wrap_pyfunction!(run_backtest, module)?)?;
    module.add_function(wrap_pyfunction!(check_backtest, module)?)?;
    module.add("CHECKPOINT_ROWS", ferrotrade_sim::engine::CHECKPOINT_ROWS)?;
    pystrategy::register(module)?;
    Ok(())
}
