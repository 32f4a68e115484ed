//! `serve_venue`: the local venue (`ferrotrade venue serve`) from Python, until Ctrl-C.
//!
//! The configuration arrives as JSON from `ferrotrade.live.serve_venue` (the CLI's options); the server runs
//! on its own runtime off the GIL, and Ctrl-C stops it and returns its counters.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use ferrotrade_localvenue::{ApiAccount, FaultConfig, LocalVenueConfig, LocalVenueError, ServeReport, Speed};
use ferrotrade_model::Decimal;
use ferrotrade_venues::auth::Secret;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use serde::Deserialize;

use crate::errors::ConfigError;
use crate::live::errors::VenueError;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AccountJson {
    api_key: String,
    secret: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FaultsJson {
    #[serde(default)]
    drop: f64,
    #[serde(default)]
    duplicate: f64,
    #[serde(default)]
    reorder: f64,
    #[serde(default)]
    disconnect_every_s: Option<f64>,
    #[serde(default)]
    delay_ms: Option<f64>,
    #[serde(default)]
    rest_5xx: f64,
    #[serde(default)]
    user_drop: f64,
}

/// The JSON `ferrotrade.live.serve_venue` sends.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServeJson {
    replay: Vec<PathBuf>,
    /// Multiple of recorded time; `null` replays as fast as the subscribers read.
    speed: Option<f64>,
    bind: SocketAddr,
    #[serde(default)]
    accounts: Vec<AccountJson>,
    #[serde(default)]
    faults: FaultsJson,
    #[serde(default)]
    seed: u64,
    #[serde(default)]
    busy_poll: bool,
}

fn probability(name: &str, value: f64) -> PyResult<f64> {
    if (0.0..=1.0).contains(&value) {
        Ok(value)
    } else {
        Err(ConfigError::new_err(format!("faults.{name}: {value} is not a probability in [0, 1]")))
    }
}

fn duration(name: &str, value: Option<f64>, unit: f64) -> PyResult<Option<Duration>> {
    match value {
        None => Ok(None),
        Some(v) if v.is_finite() && v > 0.0 => Ok(Some(Duration::from_secs_f64(v * unit))),
        Some(v) => Err(ConfigError::new_err(format!("faults.{name}: {v} must be a positive number"))),
    }
}

/// Builds the local venue's configuration from the JSON `ferrotrade.live.serve_venue` sends.
pub(crate) fn venue_config(json: &str) -> PyResult<LocalVenueConfig> {
    let raw: ServeJson = serde_json::from_str(json).map_err(|error| ConfigError::new_err(error.to_string()))?;
    if raw.replay.is_empty() {
        return Err(ConfigError::new_err("replay: give at least one recording to replay"));
    }
    let speed = match raw.speed {
        None => Speed::Max,
        Some(multiplier) if multiplier.is_finite() && multiplier > 0.0 => Speed::Realtime(multiplier),
        Some(multiplier) => return Err(ConfigError::new_err(format!("speed: {multiplier} must be positive"))),
    };
    let faults = FaultConfig {
        drop: probability("drop", raw.faults.drop)?,
        duplicate: probability("duplicate", raw.faults.duplicate)?,
        reorder: probability("reorder", raw.faults.reorder)?,
        disconnect_every: duration("disconnect_every_s", raw.faults.disconnect_every_s, 1.0)?,
        delay: duration("delay_ms", raw.faults.delay_ms, 1e-3)?,
        rest_5xx: probability("rest_5xx", raw.faults.rest_5xx)?,
        user_drop: probability("user_drop", raw.faults.user_drop)?,
    };
    let accounts = raw
        .accounts
        .into_iter()
        .map(|account| ApiAccount {
            api_key: account.api_key,
            secret: Secret::new(account.secret),
            ed25519_public_pem: None,
        })
        .collect();
    Ok(LocalVenueConfig {
        replay: raw.replay,
        speed,
        bind: raw.bind,
        accounts,
        balances: default_balances(),
        faults,
        seed: raw.seed,
        busy_poll: raw.busy_poll,
        ..LocalVenueConfig::default()
    })
}

/// Starting balances of every account of a served venue: enough quote currency to trade the bundled
/// recordings, nothing else.
pub(crate) fn default_balances() -> Vec<(String, Decimal)> {
    let amount = Decimal::from_fixed(100_000, 0);
    ["USDT", "USDC"].into_iter().map(|asset| (asset.to_owned(), amount)).collect()
}

pub(crate) fn local_venue_error(error: &LocalVenueError) -> PyErr {
    match error {
        LocalVenueError::Config(_) | LocalVenueError::Instrument { .. } => ConfigError::new_err(error.to_string()),
        LocalVenueError::Capture(inner) => Python::attach(|py| crate::errors::venue_error(py, inner)),
        LocalVenueError::Bind { .. } | LocalVenueError::Io(_) => VenueError::new_err(error.to_string()),
    }
}

pub(crate) fn report_dict<'py>(py: Python<'py>, report: &ServeReport) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    let c = &report.counters;
    dict.set_item("address", report.addr.to_string())?;
    dict.set_item("replay_done", report.replay_done)?;
    for (name, value) in [
        ("frames_read", c.frames_read),
        ("frames_sent", c.frames_sent),
        ("dropped", c.dropped),
        ("duplicated", c.duplicated),
        ("reordered", c.reordered),
        ("slow_disconnects", c.slow_disconnects),
        ("fault_disconnects", c.fault_disconnects),
        ("connections", c.connections),
        ("rest_requests", c.rest_requests),
        ("rest_5xx", c.rest_5xx),
        ("rate_limited", c.rate_limited),
        ("bad_records", c.bad_records),
        ("user_pushes", c.user_pushes),
        ("user_dropped", c.user_dropped),
    ] {
        dict.set_item(name, value)?;
    }
    Ok(dict)
}

/// Serves the local venue until Ctrl-C; `on_ready("host:port")` is called once it listens.
#[pyfunction]
#[pyo3(signature = (config_json, on_ready = None))]
pub fn serve_venue<'py>(
    py: Python<'py>,
    config_json: &str,
    on_ready: Option<Py<PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    let config = venue_config(config_json)?;
    let (ready_sender, ready_receiver) = std::sync::mpsc::channel::<SocketAddr>();
    let mut announced = false;
    let result = crate::detach::run_interruptible_with(
        py,
        move |cancel| {
            ferrotrade_localvenue::serve_blocking(config, cancel, |addr| {
                let _ = ready_sender.send(addr);
            })
        },
        |py| {
            if !announced && let Ok(addr) = ready_receiver.try_recv() {
                announced = true;
                if let Some(callback) = &on_ready {
                    callback.call1(py, (addr.to_string(),))?;
                }
            }
            Ok(())
        },
    );
    match result {
        Ok(Ok(report)) => report_dict(py, &report),
        Ok(Err(error)) => Err(local_venue_error(&error)),
        // Ctrl-C: the server stopped; the interrupt propagates as the CLI's clean stop.
        Err(interrupt) => Err(interrupt),
    }
}
