//! [`ModelSignal`]: trades a model's signal, computed from the shared feature library at every sample.
//!
//! # Signal
//! The strategy feeds its [`FeatureSet`] from the engine's callbacks (book messages, trades, bars: the same
//! events, in the same order, as `ft.features.compute` over the catalog, so the model sees the features it
//! was trained on). At each sample whose features are all defined (warm-up samples are skipped and counted)
//! the feature vector goes to the strategy's [`SignalSource`]: an ONNX model run in process (synchronous) or
//! the bridge to a model server (asynchronous; an answer arrives on a later callback, and late answers never
//! arrive at all). A signal moves the target position:
//!
//! | position | becomes long when | becomes flat when | becomes short when |
//! |---|---|---|---|
//! | flat | `signal >= long_entry` | — | `signal <= short_entry` |
//! | long | — | `signal < long_exit` | `signal <= short_entry` |
//! | short | `signal >= long_entry` | `signal > short_exit` | — |
//!
//! The long side needs `long_entry` (`long_exit` defaults to it), the short side `short_entry` (`short_exit`
//! defaults to it); configure either or both. For a classifier with classes `[0, 1]` the signal is the
//! probability of class 1; for `[-1, 0, 1]`, `P(up) - P(down)`; for a regressor the predicted value.
//!
//! # Orders
//! One working order at a time, for the difference between the target and the position: a market order,
//! or a limit order `offset_bps` behind the touch (a buy at `bid x (1 - offset)`, rounded down to the tick; a
//! sell at `ask x (1 + offset)`, rounded up; bar-only data prices from the last close). A limit order not
//! filled within `order_timeout_ms` is canceled, and the rest is sent again at the then-current price if the
//! target still wants it. A working order whose side no longer matches the target is canceled. After a
//! denial, rejection or expiry nothing is sent for `reject_backoff_ms`.
//!
//! # Configuration
//! ```toml
//! [[strategy]]
//! kind = "model_signal"
//! instrument = "binance-spot.BTCUSDT"
//! model = "models/btcusdt_1h_gbm.onnx"     # its card beside it; or bridge = { endpoint = "tcp://127.0.0.1:5555", timeout_ms = 20 }
//! clock = "bars"                           # "book" or { interval_ms = 1000 }: as the model was trained
//! features = ["return_1", "rsi_14", "macd_12_26_9"]   # exactly the card's list, in its order
//! long_entry = 0.55
//! long_exit = 0.5                          # default: long_entry
//! short_entry = 0.45                       # optional: no shorts without it
//! order_size = 0.01
//! order_type = "limit"                     # default "market"
//! offset_bps = 1.0                         # limit orders only; default 0
//! order_timeout_ms = 60000                 # limit orders only; default: none (until filled or the target changes)
//! reject_backoff_ms = 1000                 # default
//! ```
//!
//! # Cost
//! Per event: the feature set's `O(features)` update; per sample one prediction. Nothing allocates after
//! `on_start`.

use ferrotrade_features::{Clock, FeatureConfig, FeatureSet};
use ferrotrade_model::{
    Bar, ClientOrderId, Decimal, Instrument, InstrumentIndex, OrderEvent, OrderEventKind, OrderRequest, OrderSide,
    Price, Quantity, Trade, UnixNanos,
};
use serde::Deserialize;

use super::params::ParamText;
use super::{ConfigError, require_positive, resolve_instrument, to_quantity};
use crate::context::{Context, TimerId};
use crate::subscription::{DataKind, Subscription};
use crate::traits::{Strategy, StrategyError, StrategyResult};

/// Where predictions come from: an in-process model, or a bridge to a model server.
pub trait SignalSource: Send {
    /// Asks for the prediction of the sample at `ts` with feature values `features` (card order).
    ///
    /// # Errors
    /// A model that fails to run (the run stops: a broken model must not trade).
    fn request(&mut self, ts: UnixNanos, features: &[f64]) -> Result<(), String>;

    /// The newest prediction that arrived since the last call, if any. Must not block.
    fn poll(&mut self) -> Option<f64>;
}

/// The model-server bridge settings (`bridge = { endpoint = ..., timeout_ms = ... }`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BridgeSettings {
    /// ZeroMQ endpoint of `ferrotrade ml serve` (`tcp://127.0.0.1:5555`).
    pub endpoint: String,
    /// Answers later than this are counted and ignored.
    pub timeout_ms: u64,
    /// Requests waiting to be sent before new ones are dropped (default 64).
    #[serde(default)]
    pub queue: Option<usize>,
}

/// How orders are sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignalOrderType {
    /// Market orders.
    #[default]
    Market,
    /// GTC limit orders `offset_bps` behind the touch.
    Limit,
}

/// Configuration of a [`ModelSignal`] strategy (TOML/JSON; unknown keys are an error).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSignalConfig {
    /// The instrument as `venue.SYMBOL`.
    pub instrument: String,
    /// An ONNX model file (its `.card.json` beside it); relative to the configuration file.
    #[serde(default)]
    pub model: Option<String>,
    /// Or a model server.
    #[serde(default)]
    pub bridge: Option<BridgeSettings>,
    /// The sampling clock the model was trained on.
    pub clock: Clock,
    /// The model's features, in its input order.
    pub features: Vec<String>,
    /// Go (or stay) long at or above this signal.
    #[serde(default)]
    pub long_entry: Option<f64>,
    /// Leave a long below this signal (default `long_entry`).
    #[serde(default)]
    pub long_exit: Option<f64>,
    /// Go short at or below this signal.
    #[serde(default)]
    pub short_entry: Option<f64>,
    /// Leave a short above this signal (default `short_entry`).
    #[serde(default)]
    pub short_exit: Option<f64>,
    /// Position size, in instrument units (exact at its precision and lot).
    pub order_size: Decimal,
    /// `"market"` (default) or `"limit"`.
    #[serde(default)]
    pub order_type: SignalOrderType,
    /// Limit orders: distance behind the touch, in basis points (default 0).
    #[serde(default)]
    pub offset_bps: f64,
    /// Limit orders: cancel after this many milliseconds unfilled.
    #[serde(default)]
    pub order_timeout_ms: Option<u64>,
    /// After a denial, rejection or expiry, send nothing for this many milliseconds (default 1000).
    #[serde(default = "default_backoff_ms")]
    pub reject_backoff_ms: u64,
}

const fn default_backoff_ms() -> u64 {
    1_000
}

const ORDER_TIMEOUT: TimerId = 1;

/// The keys `set_parameter` changes.
const SETTABLE: &[&str] = &[
    "long_entry",
    "long_exit",
    "short_entry",
    "short_exit",
    "order_size",
    "offset_bps",
    "order_timeout_ms",
    "reject_backoff_ms",
];

impl ModelSignalConfig {
    /// The feature set's configuration.
    #[must_use]
    pub fn feature_config(&self) -> FeatureConfig {
        FeatureConfig { clock: self.clock, features: self.features.clone() }
    }

    /// Checks what can be checked without the instrument table or the model.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the first invalid key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        match (&self.model, &self.bridge) {
            (Some(_), Some(_)) => return Err(ConfigError::new("bridge", "set either model or bridge, not both")),
            (None, None) => return Err(ConfigError::new("model", "missing (an .onnx file, or bridge = { ... })")),
            _ => {}
        }
        if self.long_entry.is_none() && self.short_entry.is_none() {
            return Err(ConfigError::new("long_entry", "set long_entry, short_entry or both"));
        }
        let finite = |key: &'static str, value: Option<f64>| match value {
            Some(value) if !value.is_finite() => Err(ConfigError::new(key, "must be a finite number")),
            _ => Ok(()),
        };
        for (key, value) in [
            ("long_entry", self.long_entry),
            ("long_exit", self.long_exit),
            ("short_entry", self.short_entry),
            ("short_exit", self.short_exit),
        ] {
            finite(key, value)?;
        }
        if self.long_exit.is_some() && self.long_entry.is_none() {
            return Err(ConfigError::new("long_exit", "needs long_entry"));
        }
        if self.short_exit.is_some() && self.short_entry.is_none() {
            return Err(ConfigError::new("short_exit", "needs short_entry"));
        }
        if let (Some(entry), Some(exit)) = (self.long_entry, self.long_exit)
            && exit > entry
        {
            return Err(ConfigError::new("long_exit", format!("must not exceed long_entry ({entry}), got {exit}")));
        }
        if let (Some(entry), Some(exit)) = (self.short_entry, self.short_exit)
            && exit < entry
        {
            return Err(ConfigError::new("short_exit", format!("must not be below short_entry ({entry}), got {exit}")));
        }
        if let (Some(long), Some(short)) = (self.long_entry, self.short_entry)
            && short >= long
        {
            return Err(ConfigError::new("short_entry", format!("must be below long_entry ({long}), got {short}")));
        }
        require_positive("order_size", self.order_size)?;
        if !(0.0..=1_000.0).contains(&self.offset_bps) {
            return Err(ConfigError::new("offset_bps", format!("must be between 0 and 1000, got {}", self.offset_bps)));
        }
        if self.order_type == SignalOrderType::Market && (self.offset_bps != 0.0 || self.order_timeout_ms.is_some()) {
            return Err(ConfigError::new("offset_bps", "offset_bps and order_timeout_ms apply to limit orders only"));
        }
        if self.order_timeout_ms == Some(0) {
            return Err(ConfigError::new("order_timeout_ms", "must be at least 1"));
        }
        // The feature list, before any model is loaded for it (built again with the instrument's precisions).
        FeatureSet::new(&self.feature_config(), 0, 0)
            .map_err(|error| ConfigError::new("features", error.to_string()))?;
        Ok(())
    }
}

/// The configuration in the instrument's units (set in `on_start`).
#[derive(Debug, Clone, Copy)]
struct Params {
    instrument: InstrumentIndex,
    price_precision: u8,
    tick: i64,
    order_size: i64,
}

impl Params {
    /// `config` in the units of its instrument, as the engine knows it.
    fn resolve(ctx: &dyn Context, config: &ModelSignalConfig) -> Result<(Params, Instrument), ConfigError> {
        let (instrument, spec) = resolve_instrument(ctx, &config.instrument)?;
        let order_size = to_quantity("order_size", config.order_size, &spec)?;
        let params = Params {
            instrument,
            price_precision: spec.price_precision,
            tick: spec.tick_size.0,
            order_size: order_size.0,
        };
        Ok((params, spec))
    }
}

/// Counters of a run, for reports and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SignalCounters {
    /// Samples taken by the feature set.
    pub samples: u64,
    /// Samples skipped because a feature was still warming up.
    pub warmup: u64,
    /// Predictions requested.
    pub requests: u64,
    /// Signals received.
    pub signals: u64,
    /// Orders sent.
    pub orders: u64,
}

/// A market event for the feature set.
#[derive(Debug, Clone, Copy)]
enum Event<'a> {
    Book,
    Trade(&'a Trade),
    Bar(&'a Bar),
}

/// The last sample the feature set emitted (copied out of its callback).
#[derive(Debug)]
struct Latest {
    values: Vec<f64>,
    /// Set when a sample was taken and not yet predicted.
    ts: Option<UnixNanos>,
    price: f64,
}

impl Latest {
    fn keep(&mut self, sample: &ferrotrade_features::Sample<'_>) {
        self.values.copy_from_slice(sample.values);
        self.ts = Some(sample.ts);
        self.price = sample.price;
    }
}

/// Trades a model's signal; see the module docs.
pub struct ModelSignal {
    config: ModelSignalConfig,
    name: String,
    /// Built in `on_start`, when the instrument's precisions are known.
    set: Option<FeatureSet>,
    source: Box<dyn SignalSource>,
    latest: Latest,
    params: Option<Params>,
    /// Target position (size mantissa).
    target: i64,
    working: Option<ClientOrderId>,
    cancel_pending: bool,
    blocked_until_ns: u64,
    counters: SignalCounters,
}

impl std::fmt::Debug for ModelSignal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelSignal")
            .field("name", &self.name)
            .field("counters", &self.counters)
            .finish_non_exhaustive()
    }
}

impl ModelSignal {
    /// A model-signal strategy for `config` trading the predictions of `source` (already checked against
    /// the features by whoever built it); its name is `model_signal:<instrument>`.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the first invalid key (see [`ModelSignalConfig::validate`]), or `features`
    /// for a feature list the feature library refuses.
    pub fn new(config: ModelSignalConfig, source: Box<dyn SignalSource>) -> Result<ModelSignal, ConfigError> {
        config.validate()?;
        // Checked now so a bad list fails before the run; built again with the instrument's precisions.
        FeatureSet::new(&config.feature_config(), 0, 0)
            .map_err(|error| ConfigError::new("features", error.to_string()))?;
        Ok(ModelSignal {
            name: format!("model_signal:{}", config.instrument),
            latest: Latest { values: vec![f64::NAN; config.features.len()], ts: None, price: f64::NAN },
            set: None,
            source,
            params: None,
            target: 0,
            working: None,
            cancel_pending: false,
            blocked_until_ns: 0,
            counters: SignalCounters::default(),
            config,
        })
    }

    /// The same strategy under another name.
    #[must_use]
    pub fn with_name(mut self, name: String) -> ModelSignal {
        self.name = name;
        self
    }

    /// The counters so far.
    #[must_use]
    pub fn counters(&self) -> SignalCounters {
        self.counters
    }

    /// The current target position (size mantissa).
    #[must_use]
    pub fn target(&self) -> Quantity {
        Quantity(self.target)
    }

    /// Feeds one event of the strategy's instrument to the feature set, then predicts and acts.
    fn feed(&mut self, ctx: &mut dyn Context, instrument: InstrumentIndex, event: Event<'_>) -> StrategyResult {
        if self.params.map(|params| params.instrument) != Some(instrument) {
            return Ok(());
        }
        let (Some(set), latest) = (self.set.as_mut(), &mut self.latest) else { return Ok(()) };
        let keep = &mut |sample: &ferrotrade_features::Sample<'_>| latest.keep(sample);
        match event {
            Event::Book => set.on_book(ctx.now(), ctx.book(instrument), keep),
            Event::Trade(trade) => set.on_trade(trade, keep),
            Event::Bar(bar) => set.on_bar(bar, keep),
        }
        self.counters.samples = set.samples();
        self.after_event(ctx)
    }

    /// After the feature set saw an event: predict the new sample, act on any signal that arrived.
    fn after_event(&mut self, ctx: &mut dyn Context) -> StrategyResult {
        if let Some(ts) = self.latest.ts.take() {
            if self.latest.values.iter().all(|value| value.is_finite()) {
                self.counters.requests += 1;
                self.source.request(ts, &self.latest.values).map_err(StrategyError::new)?;
            } else {
                self.counters.warmup += 1;
            }
        }
        if let Some(signal) = self.source.poll() {
            self.counters.signals += 1;
            self.on_signal(ctx, signal);
        }
        Ok(())
    }

    fn on_signal(&mut self, ctx: &mut dyn Context, signal: f64) {
        let Some(params) = self.params else { return };
        let size = params.order_size;
        let config = &self.config;
        let long_enter = config.long_entry.is_some_and(|entry| signal >= entry);
        let short_enter = config.short_entry.is_some_and(|entry| signal <= entry);
        let current = self.target.signum();
        let target = if long_enter {
            size
        } else if short_enter {
            -size
        } else {
            match current {
                1 if config.long_exit.or(config.long_entry).is_some_and(|exit| signal < exit) => 0,
                -1 if config.short_exit.or(config.short_entry).is_some_and(|exit| signal > exit) => 0,
                _ => self.target,
            }
        };
        self.target = target;
        self.rebalance(ctx);
    }

    /// Cancels a working order that no longer fits the target, or sends the difference.
    fn rebalance(&mut self, ctx: &mut dyn Context) {
        let Some(params) = self.params else { return };
        if let Some(id) = self.working {
            match ctx.order(id) {
                Some(order) if !order.status.is_terminal() => {
                    let position = ctx.position(params.instrument).quantity.0;
                    let rest = order.request.side.sign() * (order.request.quantity.0 - order.filled.0);
                    if position + rest != self.target && !self.cancel_pending {
                        ctx.cancel(id);
                        self.cancel_pending = true;
                    }
                    return;
                }
                _ => {
                    self.working = None;
                    self.cancel_pending = false;
                }
            }
        }
        let delta = self.target - ctx.position(params.instrument).quantity.0;
        if delta == 0 || ctx.now().0 < self.blocked_until_ns {
            return;
        }
        let side = if delta > 0 { OrderSide::Buy } else { OrderSide::Sell };
        let quantity = Quantity(delta.abs());
        let request = match self.config.order_type {
            SignalOrderType::Market => OrderRequest::market(params.instrument, side, quantity),
            SignalOrderType::Limit => {
                let Some(price) = self.limit_price(ctx, params, side) else { return };
                OrderRequest::limit(params.instrument, side, price, quantity)
            }
        };
        self.working = Some(ctx.submit(request));
        self.counters.orders += 1;
        if let (SignalOrderType::Limit, Some(timeout)) = (self.config.order_type, self.config.order_timeout_ms) {
            ctx.set_timer(ORDER_TIMEOUT, UnixNanos(ctx.now().0.saturating_add(timeout.saturating_mul(1_000_000))), 0);
        }
    }

    /// `offset_bps` behind the touch (or the last sample's price without a book), on the tick.
    #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation)]
    fn limit_price(&self, ctx: &dyn Context, params: Params, side: OrderSide) -> Option<Price> {
        let scale = ferrotrade_model::pow10(params.price_precision)? as f64;
        let book = ctx.book(params.instrument);
        let touch = if ctx.is_synced(params.instrument) {
            match side {
                OrderSide::Buy => book.best_bid(),
                OrderSide::Sell => book.best_ask(),
            }
        } else {
            None
        };
        let reference = touch.map_or(self.latest.price * scale, |level| level.price.0 as f64);
        if !reference.is_finite() || reference <= 0.0 {
            return None;
        }
        let offset = self.config.offset_bps / 1e4;
        let tick = params.tick.max(1);
        let mantissa = match side {
            OrderSide::Buy => ((reference * (1.0 - offset)).floor() as i64).div_euclid(tick) * tick,
            OrderSide::Sell => {
                let raw = (reference * (1.0 + offset)).ceil() as i64;
                raw.div_euclid(tick) * tick + if raw.rem_euclid(tick) == 0 { 0 } else { tick }
            }
        };
        (mantissa > 0).then_some(Price(mantissa))
    }
}

impl Strategy for ModelSignal {
    fn name(&self) -> &str {
        &self.name
    }

    fn subscriptions(&self) -> Vec<Subscription> {
        let kinds: &[DataKind] = match (self.config.clock, self.config.order_type) {
            (Clock::Bars, SignalOrderType::Market) => &[DataKind::Bars],
            (Clock::Bars, SignalOrderType::Limit) => &[DataKind::Bars, DataKind::Book],
            (Clock::Book | Clock::Interval { .. }, _) => &[DataKind::Book, DataKind::Trades],
        };
        vec![Subscription::new(&self.config.instrument, kinds)]
    }

    fn on_start(&mut self, ctx: &mut dyn Context) -> StrategyResult {
        let (params, spec) = Params::resolve(ctx, &self.config)?;
        self.params = Some(params);
        let set = FeatureSet::new(&self.config.feature_config(), spec.price_precision, spec.size_precision)
            .map_err(|error| ConfigError::new("features", error.to_string()))?;
        self.set = Some(set);
        Ok(())
    }

    /// The thresholds, `order_size`, `offset_bps`, `order_timeout_ms` and `reject_backoff_ms` can change at
    /// run time; the model (or bridge), its clock and features, the order type and the instrument cannot
    /// (the feature set and the signal source are built for them at the start). The new configuration is
    /// validated as at construction and its size resolved against the instrument. New thresholds act on the
    /// next signal; a new `order_size` resizes the current target at once (long stays long, at the new
    /// size), and a new timeout applies to the next order sent.
    fn set_parameter(&mut self, ctx: &mut dyn Context, name: &str, value: &str) -> StrategyResult {
        let text = ParamText::new(name, value);
        let mut config = self.config.clone();
        match name {
            "long_entry" => config.long_entry = Some(text.number()?),
            "long_exit" => config.long_exit = Some(text.number()?),
            "short_entry" => config.short_entry = Some(text.number()?),
            "short_exit" => config.short_exit = Some(text.number()?),
            "order_size" => config.order_size = text.decimal()?,
            "offset_bps" => config.offset_bps = text.number()?,
            "order_timeout_ms" => config.order_timeout_ms = Some(text.count()?),
            "reject_backoff_ms" => config.reject_backoff_ms = text.count()?,
            _ => {
                let fixed = ["instrument", "model", "bridge", "clock", "features", "order_type"];
                let why = "the feature set and the signal source are built for them at the start";
                return Err(text.not_settable(&self.name, SETTABLE, &fixed, why));
            }
        }
        config.validate()?;
        let (resolved, _) = Params::resolve(ctx, &config)?;
        self.config = config;
        if let Some(params) = self.params.as_mut()
            && params.order_size != resolved.order_size
        {
            params.order_size = resolved.order_size;
            self.target = self.target.signum() * resolved.order_size;
            self.rebalance(ctx);
        }
        Ok(())
    }

    fn on_book(&mut self, ctx: &mut dyn Context, instrument: InstrumentIndex) -> StrategyResult {
        self.feed(ctx, instrument, Event::Book)
    }

    fn on_trade(&mut self, ctx: &mut dyn Context, instrument: InstrumentIndex, trade: &Trade) -> StrategyResult {
        self.feed(ctx, instrument, Event::Trade(trade))
    }

    fn on_bar(&mut self, ctx: &mut dyn Context, instrument: InstrumentIndex, bar: &Bar) -> StrategyResult {
        self.feed(ctx, instrument, Event::Bar(bar))
    }

    fn on_timer(&mut self, ctx: &mut dyn Context, timer: TimerId) -> StrategyResult {
        if timer == ORDER_TIMEOUT
            && let Some(id) = self.working
            && !self.cancel_pending
            && ctx.order(id).is_some_and(|order| !order.status.is_terminal())
        {
            ctx.cancel(id);
            self.cancel_pending = true;
        }
        Ok(())
    }

    fn on_order(&mut self, ctx: &mut dyn Context, event: &OrderEvent) -> StrategyResult {
        if self.working != Some(event.client_id) {
            return Ok(());
        }
        match event.kind {
            OrderEventKind::Canceled => {
                self.working = None;
                self.cancel_pending = false;
                ctx.cancel_timer(ORDER_TIMEOUT);
                self.rebalance(ctx);
            }
            OrderEventKind::Denied(_) | OrderEventKind::Rejected(_) | OrderEventKind::Expired => {
                self.working = None;
                self.cancel_pending = false;
                ctx.cancel_timer(ORDER_TIMEOUT);
                self.blocked_until_ns =
                    event.ts_recv.0.saturating_add(self.config.reject_backoff_ms.saturating_mul(1_000_000));
            }
            OrderEventKind::CancelRejected(_) => self.cancel_pending = false,
            _ => {}
        }
        Ok(())
    }

    fn on_fill(&mut self, ctx: &mut dyn Context, fill: &ferrotrade_model::Fill) -> StrategyResult {
        let _ = fill;
        // A completed order frees the slot; the position now counts the fill.
        if let Some(id) = self.working
            && ctx.order(id).is_some_and(|order| order.status.is_terminal())
        {
            self.working = None;
            self.cancel_pending = false;
            ctx.cancel_timer(ORDER_TIMEOUT);
            self.rebalance(ctx);
        }
        Ok(())
    }
}
