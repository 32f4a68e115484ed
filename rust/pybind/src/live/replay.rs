//! `replay` mode: a local venue in this process replays recordings, and the engine trades against it over
//! the venues' real wire protocols.
//!
//! The `[replay]` section is this layer's (the live crate does not depend on the local venue):
//!
//! ```toml
//! [replay]
//! paths = ["data/btcusdt_20240808.gz"]   # relative to the configuration file
//! speed = 1.0                            # multiple of recorded time, or "max"
//! seed = 0
//! faults = { drop = 0.0, duplicate = 0.0, reorder = 0.0, disconnect_every_s = 30, delay_ms = 1, rest_5xx = 0.0, user_drop = 0.0 }
//! busy_poll = false                      # true: the venue's thread never sleeps (latency benchmarks)
//! ```
//!
//! With `[live] cpu` set, the venue's threads are kept off the engine's CPU.
//!
//! Every `[[venue]]` of the configuration is pointed at the local venue (network `local`) with a fresh
//! random API key that exists only in this process.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use ferrotrade_live::config::{CredentialSource, LiveConfig, Network};
use ferrotrade_live::endpoints::Endpoints;
use ferrotrade_localvenue::{LocalVenueError, ServeReport};
use ferrotrade_model::Venue;
use ferrotrade_venues::auth::Credentials;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use serde_json::{Value, json};

use crate::errors::ConfigError;
use crate::live::errors::VenueError;
use crate::live::venue::{local_venue_error, venue_config};

/// The `[replay]` section, as the local venue's JSON configuration.
#[derive(Debug)]
pub struct ReplaySection {
    venue_json: String,
    paths: Vec<String>,
}

/// Removes `[replay]` from the configuration; its paths become absolute (relative to `base_dir`).
///
/// # Errors
/// `ConfigError` naming the key for a malformed section.
pub fn take_section(value: &mut Value, base_dir: &Path) -> PyResult<Option<ReplaySection>> {
    let Some(section) = value.as_object_mut().and_then(|root| root.remove("replay")) else { return Ok(None) };
    let Value::Object(mut section) = section else {
        return Err(ConfigError::new_err("replay: expected a table"));
    };
    let paths = match section.remove("paths") {
        Some(Value::Array(paths)) if !paths.is_empty() => paths
            .iter()
            .map(|path| path.as_str().map(|text| base_dir.join(text).to_string_lossy().into_owned()))
            .collect::<Option<Vec<String>>>()
            .ok_or_else(|| ConfigError::new_err("replay.paths: expected a list of paths"))?,
        _ => return Err(ConfigError::new_err("replay.paths: give at least one recording to replay")),
    };
    let speed = match section.remove("speed") {
        None => json!(1.0),
        Some(Value::String(text)) if text == "max" => Value::Null,
        Some(number @ Value::Number(_)) => number,
        Some(other) => return Err(ConfigError::new_err(format!("replay.speed: {other} is not a number or \"max\""))),
    };
    let seed = section.remove("seed").unwrap_or(json!(0));
    let faults = section.remove("faults").unwrap_or(json!({}));
    let busy_poll = match section.remove("busy_poll") {
        None => false,
        Some(Value::Bool(value)) => value,
        Some(other) => return Err(ConfigError::new_err(format!("replay.busy_poll: {other} is not true or false"))),
    };
    if let Some(key) = section.keys().next() {
        return Err(ConfigError::new_err(format!(
            "replay.{key}: unknown key (known: paths, speed, seed, faults, busy_poll)"
        )));
    }
    let (api_key, secret) = (random_hex(), random_hex());
    let venue_json = json!({
        "replay": &paths, "speed": speed, "bind": "127.0.0.1:0", "seed": seed, "faults": faults, "busy_poll": busy_poll,
        "accounts": [{"api_key": api_key, "secret": secret}],
    });
    Ok(Some(ReplaySection { venue_json: venue_json.to_string(), paths }))
}

/// 128 random bits in hex, from the standard library's per-process random hash keys.
fn random_hex() -> String {
    let mut out = String::with_capacity(32);
    for _ in 0..2 {
        let mut hasher = RandomState::new().build_hasher();
        hasher.write_u64(std::process::id().into());
        out.push_str(&format!("{:016x}", hasher.finish()));
    }
    out
}

/// A local venue serving the replay on its own thread; dropped without [`ReplayVenue::stop`] (an error
/// before the run), it still stops the server.
#[derive(Debug)]
pub struct ReplayVenue {
    cancel: Arc<AtomicBool>,
    thread: Option<JoinHandle<Result<ServeReport, LocalVenueError>>>,
}

impl Drop for ReplayVenue {
    fn drop(&mut self) {
        self.cancel.store(true, Ordering::Relaxed);
    }
}

/// Starts the local venue of `section` and points every venue of `config` at it.
///
/// # Errors
/// `ConfigError`/`DataFormatError` for recordings that cannot be replayed; `VenueError` if the venue
/// does not come up.
pub fn start(py: Python<'_>, section: &ReplaySection, config: &mut LiveConfig) -> PyResult<ReplayVenue> {
    if let Some((index, missing)) = section.paths.iter().enumerate().find(|(_, path)| !Path::new(path).exists()) {
        return Err(ConfigError::new_err(format!("replay.paths[{index}]: {missing}: no such file")));
    }
    let venue_config = venue_config(&section.venue_json)?;
    let account = venue_config.accounts.first().cloned().ok_or_else(|| VenueError::new_err("replay: no account"))?;
    let cancel = Arc::new(AtomicBool::new(false));
    let (sender, receiver) = std::sync::mpsc::channel::<SocketAddr>();
    let thread_cancel = Arc::clone(&cancel);
    let engine_cpu = config.live.cpu;
    let thread = std::thread::Builder::new()
        .name("ferrotrade-replay-venue".into())
        .spawn(move || {
            // Off the engine's CPU (`[live] cpu`), with the reader thread it starts (threads inherit the set).
            if let Some(cpu) = engine_cpu {
                ferrotrade_live::affinity::avoid_current(cpu).map_err(|error| {
                    ferrotrade_localvenue::LocalVenueError::Config(format!("replay venue: {error}"))
                })?;
            }
            ferrotrade_localvenue::serve_blocking(venue_config, &thread_cancel, |addr| {
                let _ = sender.send(addr);
            })
        })
        .map_err(|error| VenueError::new_err(format!("replay: cannot start the local venue: {error}")))?;
    // Scanning the recordings can take a few seconds; Ctrl-C still works meanwhile.
    let addr = py.detach(move || receiver.recv_timeout(Duration::from_secs(120)));
    let Ok(addr) = addr else {
        cancel.store(true, Ordering::Relaxed);
        return Err(match thread.join() {
            Ok(Err(error)) => local_venue_error(&error),
            _ => VenueError::new_err("replay: the local venue did not start"),
        });
    };
    let rest = format!("http://{addr}");
    let credentials = Credentials::hmac(account.api_key.clone(), account.secret.expose());
    for venue in &mut config.venues {
        let ws = match venue.name {
            Venue::BybitLinear => format!("ws://{addr}/v5/public/linear"),
            Venue::BybitSpot => format!("ws://{addr}/v5/public/spot"),
            other => format!("ws://{addr}/{}", other.as_str()),
        };
        let endpoints = Endpoints::local(&rest, &ws, venue.name);
        venue.network = Network::Local;
        venue.rest = Some(endpoints.rest);
        venue.ws_public = Some(endpoints.ws_public);
        venue.ws_private = Some(endpoints.ws_private);
        venue.credentials = Some(CredentialSource::Provided(credentials.clone()));
    }
    Ok(ReplayVenue { cancel, thread: Some(thread) })
}

impl ReplayVenue {
    /// Stops the venue and returns its counters.
    ///
    /// # Errors
    /// The venue's own failure, if it stopped with one.
    pub fn stop(mut self) -> PyResult<Py<PyDict>> {
        self.cancel.store(true, Ordering::Relaxed);
        let thread = self.thread.take().ok_or_else(|| VenueError::new_err("replay: the local venue was stopped"))?;
        let report = thread
            .join()
            .map_err(|_| VenueError::new_err("replay: the local venue thread panicked"))?
            .map_err(|error| local_venue_error(&error))?;
        Python::attach(|py| crate::live::venue::report_dict(py, &report).map(Bound::unbind))
    }
}
