//! [`BusConfig`]: the `[bus]` table of a live run.
//!
//! ```toml
//! [bus]
//! publish = "tcp://127.0.0.1:5555"   # or ipc:///run/ferrotrade/pub
//! control = "tcp://127.0.0.1:5556"   # "" disables commands
//! http = "127.0.0.1:9102"            # /metrics, /kill, /health; "" disables
//! token_env = "FERROTRADE_CONTROL_TOKEN"
//! # token_file = "secrets/control.token"   # must not be readable by group or others
//! book_depth = 10
//! book_rate_hz = 10.0
//! ```

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use crate::BusError;
use crate::event::MAX_BOOK_DEPTH;

/// The `[bus]` table (every key optional).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BusConfig {
    /// The PUB endpoint (`tcp://HOST:PORT` or `ipc://PATH`).
    pub publish: String,
    /// The command endpoint (ZeroMQ ROUTER); empty: no commands.
    pub control: String,
    /// `HOST:PORT` of the HTTP endpoint (metrics and kill switch); empty: none.
    pub http: String,
    /// The environment variable holding the control token.
    pub token_env: String,
    /// A file holding the control token (takes precedence over `token_env`); relative to the config file.
    pub token_file: Option<PathBuf>,
    /// Levels per side in book summaries (1..=20).
    pub book_depth: usize,
    /// Book summaries per second per instrument at most (the latest state wins), for every configured
    /// instrument (the feeds subscribe to its book for it); 0 publishes none.
    pub book_rate_hz: f64,
    /// Publish every trade of every configured instrument (the feeds subscribe to trades for it).
    pub trades: bool,
    /// Capacity of the market-summary queue (drop-oldest).
    pub market_queue: usize,
    /// Capacity of the order/fill/risk queue (never drops; overflow waits on the engine thread).
    pub event_queue: usize,
    /// Heartbeat period.
    pub heartbeat_ms: u64,
    /// Metrics period (topic `metrics` and the HTTP endpoint's figures).
    pub metrics_ms: u64,
    /// How long the start waits for this many subscribers to connect (see `wait_ms`): a recorder started
    /// before the engine then misses nothing.
    pub wait_subscribers: usize,
    /// The bound of that wait.
    pub wait_ms: u64,
    /// How long an HTTP `POST /kill` waits for the engine to confirm (also the default of a `KillCommand`
    /// without a timeout).
    pub kill_timeout_ms: u64,
}

impl Default for BusConfig {
    fn default() -> Self {
        BusConfig {
            publish: "tcp://127.0.0.1:5555".into(),
            control: "tcp://127.0.0.1:5556".into(),
            http: "127.0.0.1:9102".into(),
            token_env: "FERROTRADE_CONTROL_TOKEN".into(),
            token_file: None,
            book_depth: 10,
            book_rate_hz: 10.0,
            trades: true,
            market_queue: 4096,
            event_queue: 65_536,
            heartbeat_ms: 1000,
            metrics_ms: 1000,
            wait_subscribers: 0,
            wait_ms: 5000,
            kill_timeout_ms: 5000,
        }
    }
}

impl BusConfig {
    /// Checks the values that serde cannot.
    ///
    /// # Errors
    /// [`BusError::Config`] naming the key.
    pub fn validate(&self) -> Result<(), BusError> {
        let bad = |key, reason: String| Err(BusError::Config { key, reason });
        if !(self.publish.starts_with("tcp://") || self.publish.starts_with("ipc://")) {
            return bad("publish", format!("expected tcp://HOST:PORT or ipc://PATH, found {:?}", self.publish));
        }
        let control_ok =
            self.control.is_empty() || self.control.starts_with("tcp://") || self.control.starts_with("ipc://");
        if !control_ok {
            return bad("control", format!("expected tcp://HOST:PORT, ipc://PATH or \"\", found {:?}", self.control));
        }
        if !self.http.is_empty() && self.http.parse::<std::net::SocketAddr>().is_err() {
            return bad("http", format!("expected HOST:PORT (an IP address) or \"\", found {:?}", self.http));
        }
        if self.book_depth == 0 || self.book_depth > MAX_BOOK_DEPTH {
            return bad("book_depth", format!("expected 1..={MAX_BOOK_DEPTH}, found {}", self.book_depth));
        }
        if !self.book_rate_hz.is_finite() || self.book_rate_hz < 0.0 {
            return bad("book_rate_hz", format!("expected a rate >= 0, found {}", self.book_rate_hz));
        }
        // A market slot holds a book summary inline (680 bytes), an engine slot 184: the bounds keep the
        // queues' memory, allocated at start, to about 45 MB and 100 MB (the defaults: 3 MB and 12 MB).
        for (key, value, max) in
            [("market_queue", self.market_queue, 65_536), ("event_queue", self.event_queue, 1 << 19)]
        {
            if !(16..=max).contains(&value) {
                return bad(key, format!("expected 16..={max}, found {value}"));
            }
        }
        for (key, value) in [("heartbeat_ms", self.heartbeat_ms), ("metrics_ms", self.metrics_ms)] {
            if value < 10 {
                return bad(key, format!("expected at least 10 ms, found {value}"));
            }
        }
        Ok(())
    }

    /// The least time between two book summaries of one instrument (`None`: no book summaries).
    #[must_use]
    pub fn book_interval(&self) -> Option<Duration> {
        (self.book_rate_hz > 0.0).then(|| Duration::from_secs_f64(1.0 / self.book_rate_hz))
    }

    /// Whether commands (socket or HTTP kill) are enabled, so a token is needed.
    #[must_use]
    pub fn has_control(&self) -> bool {
        !self.control.is_empty() || !self.http.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_loopback_and_valid() {
        let config = BusConfig::default();
        config.validate().expect("defaults");
        assert!(config.publish.starts_with("tcp://127.0.0.1:"));
        assert!(config.control.starts_with("tcp://127.0.0.1:"));
        assert!(config.http.starts_with("127.0.0.1:"));
        assert_eq!(config.book_interval(), Some(Duration::from_millis(100)));
    }

    #[test]
    fn bad_values_name_their_key() {
        type Change = fn(&mut BusConfig);
        let cases: [(&str, Change); 5] = [
            ("publish", |c| c.publish = "127.0.0.1:5555".into()),
            ("http", |c| c.http = "localhost".into()),
            ("book_depth", |c| c.book_depth = 21),
            ("book_rate_hz", |c| c.book_rate_hz = f64::NAN),
            ("heartbeat_ms", |c| c.heartbeat_ms = 0),
        ];
        let mut huge = BusConfig { market_queue: 1 << 20, ..BusConfig::default() };
        assert!(huge.validate().expect_err("huge").to_string().starts_with("bus.market_queue: expected 16..=65536"));
        huge.market_queue = 65_536;
        huge.validate().expect("the largest market queue");
        for (key, change) in cases {
            let mut config = BusConfig::default();
            change(&mut config);
            let error = config.validate().expect_err(key).to_string();
            assert!(error.starts_with(&format!("bus.{key}:")), "{error}");
        }
    }

    #[test]
    fn unknown_keys_are_refused() {
        let error = toml_like(r#"{"publsh": "tcp://127.0.0.1:1"}"#).expect_err("typo");
        assert!(error.contains("unknown field `publsh`"), "{error}");
        let config = toml_like(r#"{"book_depth": 5, "control": ""}"#).expect("partial table");
        assert_eq!(config.book_depth, 5);
        assert!(config.control.is_empty());
        assert!(config.has_control(), "the HTTP kill switch still needs the token");
    }

    fn toml_like(json: &str) -> Result<BusConfig, String> {
        serde_json::from_str(json).map_err(|error| error.to_string())
    }
}
