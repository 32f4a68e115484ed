//! [`LiveConfig`]: the TOML file of a live or paper run (`ferrotrade live CONFIG.toml`), also accepted as
//! JSON (the Python layer parses TOML with `tomllib` and hands JSON over, as for backtests).
//!
//! ```toml
//! [live]
//! mode = "paper"                  # live | paper | replay (real orders to a local replaying venue)
//! run_dir = "runs/mm-btc"         # journal and report; a restart from the same dir resumes
//! initial_equity = 10000          # settlement currency: PnL, drawdown
//! reconcile_every_s = 30          # 0: only at start
//! cancel_on_stop = true
//! unknown_orders = "cancel"       # open orders at the venue the OMS never sent: cancel | adopt | ignore
//! journal_fsync = "fills"         # fills | every | never
//! stale_after_s = 30              # a silent market-data connection is replaced after this
//! rollover_after_s = 84600        # market-data connections are renewed without a gap (venues cut at 24 h)
//! busy_poll = false               # true: the engine thread never sleeps (one CPU at 100 %, lower latency)
//! cpu = 1                         # optional: pin the engine thread to this CPU
//!
//! [[venue]]
//! name = "binance-usdm"           # binance-spot | binance-usdm | bybit-linear | bybit-spot
//! network = "testnet"             # mainnet | testnet | local
//! rest = "http://127.0.0.1:9000"  # endpoint overrides (required for network = "local")
//! ws_public = "ws://127.0.0.1:9000/binance-usdm"
//! ws_private = "ws://127.0.0.1:9000/binance-usdm"
//! credentials = { env = "FT_BINANCE_USDM" }     # or { file = "keys/binance.toml" }
//! recv_window_ms = 5000
//! book_depth = 500                # optional: Binance snapshot limit / Bybit orderbook.N (default 1000)
//!
//! [instruments."binance-usdm.BTCUSDT"]  # tick_size and lot_size are required: they fix the precisions
//! tick_size = 0.1
//! lot_size = 0.001
//!
//! [paper]                         # the simulated venue of paper mode (ferrotrade_sim::VenueConfig)
//! fees = { maker = 0.0002, taker = 0.0005 }
//!
//! [risk]                          # as in a backtest (ferrotrade_risk::RiskConfig)
//! max_position = 0.05
//!
//! [[strategy]]                    # as in a backtest
//! kind = "market_maker"
//! instrument = "binance-usdm.BTCUSDT"
//!
//! [bus]                           # optional: monitoring and control (ferrotrade_bus::BusConfig)
//! publish = "tcp://127.0.0.1:5555"
//! token_env = "FERROTRADE_CONTROL_TOKEN"
//! ```
//!
//! # Shared sections
//! `[instruments]`, `[paper]`, `[risk]` and `[[strategy]]` are the backtest's own types, parsed by
//! [`BacktestConfig::from_json`] so the two configurations can never drift apart; errors keep their key
//! paths (`strategy[0].order_size`, `paper.fees.maker`). Every other key is checked with
//! `deny_unknown_fields`, so a typo is an error naming the key, never a silent default.

use std::collections::BTreeMap;
use std::path::PathBuf;

use ferrotrade_bus::BusConfig;
use ferrotrade_model::{Decimal, Instrument, InstrumentId, Price, Quantity, Venue};
use ferrotrade_risk::RiskConfig;
use ferrotrade_sim::VenueConfig;
use ferrotrade_sim::engine::{BacktestConfig, InstrumentOverride, StrategyConfig};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::LiveError;

/// What the run trades against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Real orders on the configured venues.
    Live,
    /// Live market data, orders matched by a simulated venue in process.
    Paper,
    /// Real orders (signed REST, user-data stream) to a local venue that replays a capture and matches
    /// them (tests, demos); needs credentials like live.
    Replay,
}

/// Which deployment of a venue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Network {
    /// The production venue.
    Mainnet,
    /// The venue's public testnet.
    Testnet,
    /// A local venue (`ferrotrade venue serve`); endpoints must be given.
    Local,
}

/// What to do with an open order at the venue that the OMS does not know (sent by another process, or
/// by a run whose journal was lost).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnknownOrders {
    /// Cancel it: the safe default, nothing trades that no strategy owns.
    #[default]
    Cancel,
    /// Take it into the OMS (owned by no strategy) so its fills count in positions.
    Adopt,
    /// Leave it alone; it is still reported as a reconciliation difference.
    Ignore,
}

/// When the journal forces its writes to disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FsyncPolicy {
    /// After every fill (a fill must survive a crash; other records can be re-learnt by reconciliation).
    #[default]
    Fills,
    /// After every record.
    Every,
    /// Never (tests, throw-away paper runs).
    Never,
}

/// Where a venue's API key comes from.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum CredentialSource {
    /// `{ env = "FT_BINANCE_USDM" }`: `<prefix>_API_KEY`, `<prefix>_API_SECRET` or
    /// `<prefix>_ED25519_KEY_FILE`.
    Env(String),
    /// `{ file = "keys/binance.toml" }`: a TOML file with `api_key` and `api_secret` or `ed25519_key_file`,
    /// refused when group or others can read it.
    File(PathBuf),
    /// Credentials handed over by the embedding program (the Python layer's replay mode, which creates a
    /// throw-away key for its local venue); never read from a configuration file.
    #[serde(skip)]
    Provided(ferrotrade_venues::auth::Credentials),
}

impl PartialEq for CredentialSource {
    /// Provided credentials compare by API key only: the secret is never compared or shown.
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (CredentialSource::Env(a), CredentialSource::Env(b)) => a == b,
            (CredentialSource::File(a), CredentialSource::File(b)) => a == b,
            (CredentialSource::Provided(a), CredentialSource::Provided(b)) => a.api_key == b.api_key,
            _ => false,
        }
    }
}

/// `[live]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LiveSection {
    /// Live, paper or replay.
    pub mode: Mode,
    /// Directory of the journal and the report.
    pub run_dir: PathBuf,
    /// Starting equity in the settlement currency (PnL and drawdown checks).
    pub initial_equity: Decimal,
    /// Seconds between reconciliations with the venue (0: only at start).
    #[serde(default = "default_reconcile_every_s")]
    pub reconcile_every_s: u64,
    /// Cancel every open order on a clean stop.
    #[serde(default = "default_true")]
    pub cancel_on_stop: bool,
    /// Open orders at the venue the OMS does not know.
    #[serde(default)]
    pub unknown_orders: UnknownOrders,
    /// When the journal fsyncs.
    #[serde(default)]
    pub journal_fsync: FsyncPolicy,
    /// Milliseconds to wait for cancel acknowledgements on stop.
    #[serde(default = "default_stop_timeout_ms")]
    pub stop_timeout_ms: u64,
    /// Seconds without a message after which a feed reconnects.
    #[serde(default = "default_stale_after_s")]
    pub stale_after_s: u64,
    /// Seconds after which a market-data connection is replaced by a fresh one without a gap, before the
    /// venue's own 24 h cut (default 84 600, 23.5 h; lower when a proxy on the way cuts sooner).
    #[serde(default = "default_rollover_after_s")]
    pub rollover_after_s: u64,
    /// The engine thread never sleeps between inputs: it polls its sockets and timers in a loop, so a
    /// frame is handled as soon as the kernel has it and the hot path stays in the CPU's caches. Costs
    /// one CPU at 100 % for the whole run (see `benchmarks/live_latency.py` for what it buys). The gateways
    /// and the journal then also warm the order path once a millisecond (encode a representative order's
    /// journal records and sign and encode its request; nothing is written or sent).
    #[serde(default)]
    pub busy_poll: bool,
    /// Pins the engine thread to this CPU for the run (its previous CPU set is restored after); in replay
    /// mode the local venue's threads are kept off it. Linux only.
    #[serde(default)]
    pub cpu: Option<usize>,
}

const fn default_reconcile_every_s() -> u64 {
    30
}
const fn default_true() -> bool {
    true
}
const fn default_stop_timeout_ms() -> u64 {
    5_000
}
const fn default_stale_after_s() -> u64 {
    30
}
const fn default_rollover_after_s() -> u64 {
    84_600
}

/// One `[[venue]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VenueSection {
    /// `binance-spot`, `binance-usdm`, `bybit-linear` or `bybit-spot`.
    #[serde(deserialize_with = "venue_name")]
    pub name: Venue,
    /// Mainnet, testnet or a local venue.
    pub network: Network,
    /// REST base override.
    #[serde(default)]
    pub rest: Option<String>,
    /// Public WebSocket base override.
    #[serde(default)]
    pub ws_public: Option<String>,
    /// Private (user data) WebSocket base override.
    #[serde(default)]
    pub ws_private: Option<String>,
    /// API key source (required in live mode).
    #[serde(default)]
    pub credentials: Option<CredentialSource>,
    /// Binance `recvWindow` / Bybit `X-BAPI-RECV-WINDOW`, milliseconds.
    #[serde(default = "default_recv_window_ms")]
    pub recv_window_ms: u64,
    /// Order book depth to ask for (Binance: the REST snapshot's `limit`; Bybit: the smallest
    /// `orderbook.N` topic at least this deep); the feed's default when absent.
    #[serde(default)]
    pub book_depth: Option<u32>,
}

const fn default_recv_window_ms() -> u64 {
    5_000
}

fn venue_name<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Venue, D::Error> {
    let name = String::deserialize(deserializer)?;
    match name.parse::<Venue>() {
        Ok(venue @ (Venue::BinanceSpot | Venue::BinanceUsdm | Venue::BybitLinear | Venue::BybitSpot)) => Ok(venue),
        _ => Err(serde::de::Error::custom(format!(
            "unknown venue {name:?} (live trading supports binance-spot, binance-usdm, bybit-linear, bybit-spot)"
        ))),
    }
}

/// The whole configuration of a live, paper or replay run.
#[derive(Debug, Clone)]
pub struct LiveConfig {
    /// `[live]`.
    pub live: LiveSection,
    /// `[[venue]]`, at most one per venue.
    pub venues: Vec<VenueSection>,
    /// `[instruments."venue.SYMBOL"]`, resolved into specifications (name order).
    pub instruments: Vec<Instrument>,
    /// The per-instrument overrides as written (fees for the paper venue).
    pub overrides: BTreeMap<String, InstrumentOverride>,
    /// `[paper]`: the simulated venue of paper mode.
    pub paper: VenueConfig,
    /// `[risk]`.
    pub risk: RiskConfig,
    /// `[[strategy]]`.
    pub strategies: Vec<StrategyConfig>,
    /// `[bus]`: monitoring and control over ZeroMQ (none without the table).
    pub bus: Option<BusConfig>,
}

fn config_error(key: &str, message: impl std::fmt::Display) -> LiveError {
    if key.is_empty() { LiveError::Config(message.to_string()) } else { LiveError::Config(format!("{key}: {message}")) }
}

/// Deserializes `value` as `T`, reporting the full key path on failure.
fn typed<T: DeserializeOwned>(value: Value, path: &str) -> Result<T, LiveError> {
    serde_path_to_error::deserialize(value).map_err(|error| {
        let inner = error.path().to_string();
        let key = match inner.as_str() {
            "." | "" => path.to_owned(),
            _ if inner.starts_with('[') => format!("{path}{inner}"),
            _ => format!("{path}.{inner}"),
        };
        config_error(&key, error.into_inner())
    })
}

impl LiveConfig {
    /// Parses a TOML document.
    ///
    /// # Errors
    /// [`LiveError::Config`] naming the key (or the TOML syntax error with its line).
    pub fn from_toml(text: &str) -> Result<LiveConfig, LiveError> {
        let value: Value = toml::from_str(text).map_err(|error| config_error("", error))?;
        LiveConfig::from_value(value)
    }

    /// Parses the JSON form of the TOML document.
    ///
    /// # Errors
    /// [`LiveError::Config`] naming the key.
    pub fn from_json(text: &str) -> Result<LiveConfig, LiveError> {
        let value: Value = serde_json::from_str(text).map_err(|error| config_error("", error))?;
        LiveConfig::from_value(value)
    }

    fn from_value(value: Value) -> Result<LiveConfig, LiveError> {
        let Value::Object(mut root) = value else { return Err(config_error("", "the configuration must be a table")) };
        let live: LiveSection = match root.remove("live") {
            Some(value) => typed(value, "live")?,
            None => return Err(config_error("live", "missing table [live] (mode, run_dir, initial_equity)")),
        };
        let venues: Vec<VenueSection> = match root.remove("venue") {
            Some(value) => typed(value, "venue")?,
            None => return Err(config_error("venue", "missing [[venue]] (at least one)")),
        };
        let bus: Option<BusConfig> = match root.remove("bus") {
            Some(value) => Some(typed(value, "bus")?),
            None => None,
        };
        if let Some(bus) = &bus {
            bus.validate().map_err(|error| LiveError::Config(error.to_string()))?;
        }
        // The shared sections go through the backtest's parser; its `venue` is our `paper`.
        let mut shared = Map::new();
        shared.insert("backtest".into(), serde_json::json!({ "catalog": "", "initial_equity": "1" }));
        for (ours, theirs) in
            [("paper", "venue"), ("instruments", "instruments"), ("risk", "risk"), ("strategy", "strategy")]
        {
            if let Some(value) = root.remove(ours) {
                shared.insert(theirs.into(), value);
            }
        }
        if let Some(key) = root.keys().next() {
            return Err(config_error(
                key,
                "unknown section (known: live, venue, instruments, paper, risk, strategy, bus)",
            ));
        }
        let text = Value::Object(shared).to_string();
        let backtest = BacktestConfig::from_json(&text).map_err(|error| {
            let key = match error.key.strip_prefix("venue") {
                Some(rest) => format!("paper{rest}"),
                None => error.key.clone(),
            };
            config_error(&key, error.message)
        })?;
        let config = LiveConfig {
            instruments: resolve_instruments(&backtest.instruments)?,
            live,
            venues,
            overrides: backtest.instruments,
            paper: backtest.venue,
            risk: backtest.risk,
            strategies: backtest.strategies,
            bus,
        };
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), LiveError> {
        if self.live.initial_equity.mantissa <= 0 {
            return Err(config_error("live.initial_equity", "must be positive"));
        }
        if self.venues.is_empty() {
            return Err(config_error("venue", "at least one [[venue]] is needed"));
        }
        for (index, venue) in self.venues.iter().enumerate() {
            let key = format!("venue[{index}]");
            if self.venues[..index].iter().any(|other| other.name == venue.name) {
                return Err(config_error(
                    &format!("{key}.name"),
                    format!("{} is configured twice", venue.name.as_str()),
                ));
            }
            if venue.network == Network::Local && (venue.rest.is_none() || venue.ws_public.is_none()) {
                return Err(config_error(&key, "network = \"local\" needs rest and ws_public"));
            }
            // Replay gets its throw-away key from the embedder that starts the local venue (the Python layer);
            // without one, the gateway refuses to start.
            if self.live.mode == Mode::Live && venue.credentials.is_none() {
                return Err(config_error(&format!("{key}.credentials"), "live mode needs credentials"));
            }
            if venue.recv_window_ms == 0 || venue.recv_window_ms > 60_000 {
                return Err(config_error(&format!("{key}.recv_window_ms"), "must lie in 1..=60000"));
            }
        }
        for instrument in &self.instruments {
            if !self.venues.iter().any(|venue| venue.name == instrument.id.venue) {
                return Err(config_error(
                    &format!("instruments.{:?}", instrument.id.to_string()),
                    format!("no [[venue]] named {}", instrument.id.venue.as_str()),
                ));
            }
        }
        if self.instruments.is_empty() {
            return Err(config_error("instruments", "at least one instrument is needed"));
        }
        Ok(())
    }

    /// The `[[venue]]` of `venue`, if configured.
    #[must_use]
    pub fn venue(&self, venue: Venue) -> Option<&VenueSection> {
        self.venues.iter().find(|section| section.name == venue)
    }

    /// The paper venue configuration of instrument `index` (fees overridden per instrument).
    #[must_use]
    pub fn paper_venue(&self, index: usize) -> VenueConfig {
        let mut config = self.paper.clone();
        let Some(instrument) = self.instruments.get(index) else { return config };
        let name = instrument.id.to_string();
        if let Some((_, overrides)) = self.overrides.iter().find(|(key, _)| key.eq_ignore_ascii_case(&name)) {
            if let Some(maker) = overrides.maker_fee {
                config.fees.maker = maker;
            }
            if let Some(taker) = overrides.taker_fee {
                config.fees.taker = taker;
            }
        }
        config
    }
}

/// Builds the instrument specifications: precisions are the decimals of `tick_size` and `lot_size`.
fn resolve_instruments(overrides: &BTreeMap<String, InstrumentOverride>) -> Result<Vec<Instrument>, LiveError> {
    let mut instruments = Vec::with_capacity(overrides.len());
    for (name, spec) in overrides {
        let key = |field: &str| format!("instruments.{name:?}{field}");
        let (venue, symbol) =
            name.split_once('.').ok_or_else(|| config_error(&key(""), "expected \"venue.SYMBOL\""))?;
        let venue: Venue = venue.parse().map_err(|error| config_error(&key(""), error))?;
        let tick = spec.tick_size.ok_or_else(|| config_error(&key(".tick_size"), "required in a live config"))?;
        let lot = spec.lot_size.ok_or_else(|| config_error(&key(".lot_size"), "required in a live config"))?;
        if tick.mantissa <= 0 {
            return Err(config_error(&key(".tick_size"), "must be positive"));
        }
        if lot.mantissa <= 0 {
            return Err(config_error(&key(".lot_size"), "must be positive"));
        }
        let mut instrument = Instrument::with_precisions(InstrumentId::new(venue, symbol), tick.scale, lot.scale);
        instrument.tick_size =
            Price(tick.to_fixed(tick.scale).map_err(|error| config_error(&key(".tick_size"), error))?);
        instrument.lot_size =
            Quantity(lot.to_fixed(lot.scale).map_err(|error| config_error(&key(".lot_size"), error))?);
        instrument.min_notional = spec.min_notional;
        if let Some(size) = spec.contract_size {
            instrument.contract_size = size;
        }
        instruments.push(instrument);
    }
    Ok(instruments)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[live]
mode = "paper"
run_dir = "runs/x"
initial_equity = 1000

[[venue]]
name = "binance-usdm"
network = "testnet"

[instruments."binance-usdm.BTCUSDT"]
tick_size = 0.1
lot_size = 0.001
maker_fee = -0.0001

[paper]
fees = { maker = 0.0002, taker = 0.0005 }

[risk]
max_position = 0.05

[[strategy]]
kind = "market_maker"
instrument = "binance-usdm.BTCUSDT"
order_size = 0.001
half_spread_bps = 1
max_position = 0.01
"#;

    fn error(text: &str) -> String {
        LiveConfig::from_toml(text).expect_err("invalid").to_string()
    }

    #[test]
    fn a_full_config_parses_with_shared_sections_and_defaults() {
        let config = LiveConfig::from_toml(GOOD).expect("valid");
        assert_eq!(config.live.mode, Mode::Paper);
        assert_eq!(config.live.reconcile_every_s, 30);
        assert!(config.live.cancel_on_stop);
        assert_eq!(config.live.unknown_orders, UnknownOrders::Cancel);
        assert_eq!(config.venues[0].name, Venue::BinanceUsdm);
        let btc = &config.instruments[0];
        assert_eq!(
            (btc.price_precision, btc.size_precision, btc.tick_size, btc.lot_size),
            (1, 3, Price(1), Quantity(1))
        );
        assert_eq!(config.strategies.len(), 1);
        // The per-instrument maker fee overrides [paper].
        assert_eq!(config.paper_venue(0).fees.maker.to_string(), "-0.0001");
        assert_eq!(config.paper_venue(0).fees.taker.to_string(), "0.0005");
        let json = serde_json::to_string(&toml::from_str::<Value>(GOOD).expect("toml")).expect("json");
        assert_eq!(LiveConfig::from_json(&json).expect("json form").instruments, config.instruments);
    }

    #[test]
    fn errors_name_the_key() {
        let typo = GOOD.replace("initial_equity = 1000", "initial_equity = 1000\ncancel_on_stp = true");
        assert!(error(&typo).starts_with("live.cancel_on_stp: unknown field `cancel_on_stp`"), "{}", error(&typo));
        let venue = GOOD.replace("\"binance-usdm\"\nnetwork", "\"kraken\"\nnetwork");
        assert!(error(&venue).starts_with("venue[0].name: unknown venue \"kraken\""), "{}", error(&venue));
        let strategy = GOOD.replace("order_size = 0.001", "order_sise = 0.001");
        assert!(error(&strategy).contains("strategy[0]"), "{}", error(&strategy));
        let paper = GOOD.replace("taker = 0.0005", "takr = 0.0005");
        assert!(error(&paper).starts_with("paper.fees"), "{}", error(&paper));
        let risk = GOOD.replace("max_position = 0.05", "max_positon = 0.05");
        assert!(error(&risk).starts_with("risk"), "{}", error(&risk));
        let tick = GOOD.replace("tick_size = 0.1\n", "");
        assert!(error(&tick).contains(".tick_size: required"), "{}", error(&tick));
        let section = format!("{GOOD}\n[extra]\na = 1\n");
        assert!(error(&section).starts_with("extra: unknown section"), "{}", error(&section));
        let bus = format!("{GOOD}\n[bus]\npublsh = \"tcp://127.0.0.1:1\"\n");
        assert!(error(&bus).starts_with("bus.publsh: unknown field"), "{}", error(&bus));
        let depth = format!("{GOOD}\n[bus]\nbook_depth = 50\n");
        assert!(error(&depth).starts_with("bus.book_depth: expected 1..=20"), "{}", error(&depth));
        let with_bus = LiveConfig::from_toml(&format!("{GOOD}\n[bus]\nbook_rate_hz = 2.5\n")).expect("bus table");
        assert_eq!(with_bus.bus.map(|bus| bus.book_rate_hz), Some(2.5));
        assert!(LiveConfig::from_toml(GOOD).expect("valid").bus.is_none(), "no table, no bus");
    }

    #[test]
    fn consistency_rules_are_checked() {
        let live = GOOD.replace("mode = \"paper\"", "mode = \"live\"");
        assert!(error(&live).starts_with("venue[0].credentials: live mode needs"), "{}", error(&live));
        let local = GOOD.replace("network = \"testnet\"", "network = \"local\"");
        assert!(error(&local).contains("needs rest and ws_public"), "{}", error(&local));
        let orphan = GOOD.replace("name = \"binance-usdm\"", "name = \"bybit-linear\"");
        assert!(error(&orphan).contains("no [[venue]] named binance-usdm"), "{}", error(&orphan));
        let window = GOOD.replace("network = \"testnet\"", "network = \"testnet\"\nrecv_window_ms = 70000");
        assert!(error(&window).starts_with("venue[0].recv_window_ms"), "{}", error(&window));
        let credentials =
            GOOD.replace("network = \"testnet\"", "network = \"testnet\"\ncredentials = { env = \"FT_B\" }");
        let config = LiveConfig::from_toml(&credentials).expect("valid");
        assert_eq!(config.venues[0].credentials, Some(CredentialSource::Env("FT_B".into())));
    }
}
