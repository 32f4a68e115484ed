//! [`Trend`]: EMA-crossover trend follower with an optional volatility filter.
//!
//! # Signal
//! Every source event (a trade's price, or a closed bar's close) updates a fast and a slow EMA of the price
//! (`alpha = 2 / (period + 1)`, seeded with the first price). Once the slow EMA has seen `slow` prices, the
//! target position is `+order_size` when `fast > slow`, otherwise `-order_size` (or flat with
//! `allow_short = false`). Before that the strategy does nothing.
//!
//! # Volatility filter
//! With `volatility_window` and `max_volatility` set, the sample standard deviation of the last
//! `volatility_window` log returns of the source price is tracked. While it exceeds `max_volatility` (or the
//! window is not yet full) no position is entered or increased: the target is cut to what only *reduces*
//! the current position (hold a long whose signal is still long, close a long whose signal turned short).
//!
//! # Orders
//! The strategy trades the difference between the target and its position, counting the unfilled rest of
//! its one working order (`ctx.position` + working order). Market orders, or limit orders at the touch of
//! their own side (buy at the best bid, sell at the best ask) that follow the touch by amend. A working
//! order that no longer matches the target is canceled, and the difference is sent once the cancel is
//! confirmed, so two orders never work at once. After a denial, rejection or expiry (or a refused amend)
//! the strategy sends nothing for `reject_backoff_ms`, so a refusal that will repeat (a position limit, no
//! liquidity) does not become one order per market event.
//!
//! # Cost
//! `O(1)` and allocation-free per event after `on_start` (the volatility window is allocated in `new`).

use ferrotrade_model::{
    Bar, ClientOrderId, Decimal, InstrumentIndex, OrderEvent, OrderEventKind, OrderRequest, OrderSide, Price, Quantity,
    Trade,
};
use serde::Deserialize;

use super::indicators::{Ema, RollingStdev};
use super::params::ParamText;
use super::{ConfigError, require_positive, resolve_instrument, to_quantity};
use crate::context::Context;
use crate::subscription::{DataKind, Subscription};
use crate::traits::{Strategy, StrategyError, StrategyResult};

/// Which prices feed the EMAs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrendSource {
    /// Every trade's price; periods count trades.
    Trades,
    /// Every closed bar's close; periods count bars.
    Bars,
}

/// How the strategy trades towards its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrendOrderType {
    /// Market orders (IOC).
    #[default]
    Market,
    /// GTC limit orders at the touch of their own side, following it by amend (needs the book).
    Limit,
}

/// Configuration of a [`Trend`] strategy (TOML/JSON; unknown keys are an error).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrendConfig {
    /// The instrument as `venue.SYMBOL` (`"binance-usdm.BTCUSDT"`).
    pub instrument: String,
    /// `"trades"` or `"bars"`.
    pub source: TrendSource,
    /// Fast EMA period, in source events (`>= 1`).
    pub fast: u32,
    /// Slow EMA period, in source events (`> fast`).
    pub slow: u32,
    /// Size of the long (and short) position, in instrument units; must fit the instrument's size precision
    /// and lot.
    pub order_size: Decimal,
    /// Number of log returns in the volatility window (`2..=1_000_000`); set together with `max_volatility`.
    #[serde(default)]
    pub volatility_window: Option<u32>,
    /// Entries are skipped while the rolling standard deviation of log returns exceeds this (`> 0`, e.g.
    /// `0.01` for 1 % per period); set together with `volatility_window`.
    #[serde(default)]
    pub max_volatility: Option<Decimal>,
    /// `"market"` (default) or `"limit"` (at the touch).
    #[serde(default)]
    pub order_type: TrendOrderType,
    /// Go short when `fast <= slow` (default `true`); otherwise go flat.
    #[serde(default = "default_allow_short")]
    pub allow_short: bool,
    /// After an order is denied, rejected or expires, send nothing for this many milliseconds (default 1000).
    #[serde(default = "default_reject_backoff_ms")]
    pub reject_backoff_ms: u64,
}

/// The keys `set_parameter` changes.
const SETTABLE: &[&str] = &["order_size", "allow_short", "max_volatility", "reject_backoff_ms"];

/// Largest `volatility_window`: the window is kept in memory (8 bytes per return).
pub const MAX_VOLATILITY_WINDOW: u32 = 1_000_000;

const fn default_allow_short() -> bool {
    true
}

const fn default_reject_backoff_ms() -> u64 {
    1_000
}

impl TrendConfig {
    /// Checks what can be checked without the instrument table.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the first invalid key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.fast == 0 {
            return Err(ConfigError::new("fast", "must be at least 1"));
        }
        if self.slow <= self.fast {
            return Err(ConfigError::new(
                "slow",
                format!("must be greater than fast ({}), got {}", self.fast, self.slow),
            ));
        }
        require_positive("order_size", self.order_size)?;
        match (self.volatility_window, self.max_volatility) {
            (Some(window), Some(limit)) => {
                if !(2..=MAX_VOLATILITY_WINDOW).contains(&window) {
                    return Err(ConfigError::new(
                        "volatility_window",
                        format!("must be between 2 and {MAX_VOLATILITY_WINDOW}, got {window}"),
                    ));
                }
                require_positive("max_volatility", limit)?;
            }
            (Some(_), None) => {
                return Err(ConfigError::new("max_volatility", "must be set when volatility_window is"));
            }
            (None, Some(_)) => {
                return Err(ConfigError::new("volatility_window", "must be set when max_volatility is"));
            }
            (None, None) => {}
        }
        Ok(())
    }
}

/// The configuration in the instrument's units (set in `on_start`).
#[derive(Debug, Clone, Copy)]
struct Params {
    instrument: InstrumentIndex,
    price_precision: u8,
    order_size: i64,
}

impl Params {
    /// `config` in the units of its instrument, as the engine knows it.
    fn resolve(ctx: &dyn Context, config: &TrendConfig) -> Result<Params, ConfigError> {
        let (instrument, spec) = resolve_instrument(ctx, &config.instrument)?;
        let order_size = to_quantity("order_size", config.order_size, &spec)?;
        Ok(Params { instrument, price_precision: spec.price_precision, order_size: order_size.0 })
    }
}

/// The one working order.
#[derive(Debug, Clone, Copy)]
struct Working {
    id: ClientOrderId,
    side: OrderSide,
    price: Price,
    quantity: i64,
    filled: i64,
    cancel_pending: bool,
    amend_pending: bool,
}

/// EMA-crossover trend follower; see the module docs.
#[derive(Debug, Clone)]
pub struct Trend {
    config: TrendConfig,
    name: String,
    fast: Ema,
    slow: Ema,
    volatility: Option<RollingStdev>,
    max_volatility: f64,
    last_price: Option<f64>,
    params: Option<Params>,
    /// Target position (size mantissa) once the EMAs are warm.
    target: Option<i64>,
    working: Option<Working>,
    /// No submit or amend before this local time (after a refusal).
    blocked_until_ns: u64,
}

impl Trend {
    /// A trend follower for `config`; its name is `trend:<instrument>`.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the first invalid key (see [`TrendConfig::validate`]).
    pub fn new(config: TrendConfig) -> Result<Trend, ConfigError> {
        config.validate()?;
        Ok(Trend {
            name: format!("trend:{}", config.instrument),
            fast: Ema::new(config.fast),
            slow: Ema::new(config.slow),
            volatility: config.volatility_window.map(RollingStdev::new),
            max_volatility: config.max_volatility.map_or(f64::INFINITY, Decimal::to_f64),
            last_price: None,
            params: None,
            target: None,
            working: None,
            blocked_until_ns: 0,
            config,
        })
    }

    /// The same strategy under another name (names must be unique within a run; a configuration's
    /// `name` key sets it).
    #[must_use]
    pub fn with_name(mut self, name: String) -> Trend {
        self.name = name;
        self
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &TrendConfig {
        &self.config
    }

    /// The current target position (size mantissa at the instrument's precision); `None` while the EMAs warm up.
    #[must_use]
    pub fn target(&self) -> Option<Quantity> {
        self.target.map(Quantity)
    }

    /// One source price: update the indicators, recompute the target, trade towards it.
    fn on_price(&mut self, ctx: &mut dyn Context, price: Price) {
        let Some(params) = self.params else {
            return;
        };
        let value = price.to_f64(params.price_precision);
        if let Some(volatility) = self.volatility.as_mut()
            && let Some(last) = self.last_price
            && last > 0.0
            && value > 0.0
        {
            volatility.update((value / last).ln());
        }
        self.last_price = Some(value);
        self.fast.update(value);
        self.slow.update(value);
        self.retarget(ctx);
    }

    /// The target from the averages and the volatility as they stand (nothing before the slow EMA is
    /// warm), then trades towards it.
    fn retarget(&mut self, ctx: &mut dyn Context) {
        let Some(params) = self.params else {
            return;
        };
        if !self.slow.is_ready() {
            return;
        }
        let signal = if self.fast.value() > self.slow.value() {
            params.order_size
        } else if self.config.allow_short {
            -params.order_size
        } else {
            0
        };
        let calm = match &self.volatility {
            Some(volatility) => volatility.value().is_some_and(|stdev| stdev <= self.max_volatility),
            None => true,
        };
        self.target = Some(if calm {
            signal
        } else {
            let current = self.effective_position(ctx, params);
            reduce_only(signal, current)
        });
        self.rebalance(ctx);
    }

    /// Position plus the signed unfilled rest of the working order.
    fn effective_position(&self, ctx: &dyn Context, params: Params) -> i64 {
        let position = ctx.position(params.instrument).quantity.0;
        position + self.working.map_or(0, |working| working.side.sign() * (working.quantity - working.filled))
    }

    /// The price a limit order of `side` joins: the best bid for a buy, the best ask for a sell.
    fn touch(ctx: &dyn Context, params: Params, side: OrderSide) -> Option<Price> {
        if !ctx.is_synced(params.instrument) {
            return None;
        }
        let book = ctx.book(params.instrument);
        match side {
            OrderSide::Buy => book.best_bid(),
            OrderSide::Sell => book.best_ask(),
        }
        .map(|level| level.price)
    }

    /// Trades towards the target: keeps, amends or cancels the working order, or sends the difference.
    fn rebalance(&mut self, ctx: &mut dyn Context) {
        let (Some(params), Some(target)) = (self.params, self.target) else {
            return;
        };
        let limit = self.config.order_type == TrendOrderType::Limit;
        let blocked = ctx.now().0 < self.blocked_until_ns;
        if let Some(working) = self.working.as_mut() {
            if working.cancel_pending {
                return;
            }
            let position = ctx.position(params.instrument).quantity.0;
            let rest = working.side.sign() * (working.quantity - working.filled);
            if position + rest != target {
                ctx.cancel(working.id);
                working.cancel_pending = true;
            } else if limit
                && !blocked
                && !working.amend_pending
                && let Some(touch) = Self::touch(ctx, params, working.side)
                && touch != working.price
            {
                ctx.amend(working.id, touch, Quantity(working.quantity));
                working.amend_pending = true;
            }
            return;
        }
        let delta = target - ctx.position(params.instrument).quantity.0;
        if delta == 0 || blocked {
            return;
        }
        let side = if delta > 0 { OrderSide::Buy } else { OrderSide::Sell };
        let quantity = Quantity(delta.abs());
        let request = if limit {
            let Some(price) = Self::touch(ctx, params, side) else {
                return;
            };
            OrderRequest::limit(params.instrument, side, price, quantity)
        } else {
            OrderRequest::market(params.instrument, side, quantity)
        };
        let id = ctx.submit(request);
        self.working = Some(Working {
            id,
            side,
            price: request.price,
            quantity: quantity.0,
            filled: 0,
            cancel_pending: false,
            amend_pending: false,
        });
    }
}

/// The part of `signal` that does not enter or increase a position: between zero and `current`.
fn reduce_only(signal: i64, current: i64) -> i64 {
    match current.signum() {
        1 => signal.clamp(0, current),
        -1 => signal.clamp(current, 0),
        _ => 0,
    }
}

impl Strategy for Trend {
    fn name(&self) -> &str {
        &self.name
    }

    fn subscriptions(&self) -> Vec<Subscription> {
        let source = match self.config.source {
            TrendSource::Trades => DataKind::Trades,
            TrendSource::Bars => DataKind::Bars,
        };
        let kinds: &[DataKind] = match self.config.order_type {
            TrendOrderType::Market => &[source],
            TrendOrderType::Limit => &[source, DataKind::Book],
        };
        vec![Subscription::new(&self.config.instrument, kinds)]
    }

    fn on_start(&mut self, ctx: &mut dyn Context) -> StrategyResult {
        self.params = Some(Params::resolve(ctx, &self.config)?);
        Ok(())
    }

    /// `order_size`, `allow_short`, `max_volatility` (of a strategy with a volatility filter) and
    /// `reject_backoff_ms` can change at run time. The windows, the source, the order type and the
    /// instrument cannot: the subscriptions, the averages and the volatility are built for them at the
    /// start, and would start over. The new configuration is
    /// validated and resolved against the instrument as at the start, and the target is recomputed at once
    /// from the averages as they stand, so the position follows without waiting for the next price.
    fn set_parameter(&mut self, ctx: &mut dyn Context, name: &str, value: &str) -> StrategyResult {
        let text = ParamText::new(name, value);
        let mut config = self.config.clone();
        match name {
            "order_size" => config.order_size = text.decimal()?,
            "allow_short" => config.allow_short = text.boolean()?,
            "max_volatility" if config.volatility_window.is_some() => config.max_volatility = Some(text.decimal()?),
            "max_volatility" => {
                return Err(StrategyError::new(format!(
                    "{}: max_volatility needs the volatility filter (volatility_window), which cannot be added at \
                     run time",
                    self.name
                )));
            }
            "reject_backoff_ms" => config.reject_backoff_ms = text.count()?,
            _ => {
                let fixed = ["instrument", "source", "fast", "slow", "volatility_window", "order_type"];
                let why = "the subscriptions and the averages are built for them at the start";
                return Err(text.not_settable(&self.name, SETTABLE, &fixed, why));
            }
        }
        config.validate()?;
        self.params = Some(Params::resolve(ctx, &config)?);
        self.max_volatility = config.max_volatility.map_or(f64::INFINITY, Decimal::to_f64);
        self.config = config;
        self.retarget(ctx);
        Ok(())
    }

    fn on_trade(&mut self, ctx: &mut dyn Context, instrument: InstrumentIndex, trade: &Trade) -> StrategyResult {
        if self.config.source == TrendSource::Trades && self.params.is_some_and(|p| p.instrument == instrument) {
            self.on_price(ctx, trade.price);
        }
        Ok(())
    }

    fn on_bar(&mut self, ctx: &mut dyn Context, instrument: InstrumentIndex, bar: &Bar) -> StrategyResult {
        if self.config.source == TrendSource::Bars && self.params.is_some_and(|p| p.instrument == instrument) {
            self.on_price(ctx, bar.close);
        }
        Ok(())
    }

    fn on_book(&mut self, ctx: &mut dyn Context, instrument: InstrumentIndex) -> StrategyResult {
        // Only limit orders care about the touch: follow it, or send an order that waited for a book.
        if self.config.order_type == TrendOrderType::Limit && self.params.is_some_and(|p| p.instrument == instrument) {
            self.rebalance(ctx);
        }
        Ok(())
    }

    fn on_order(&mut self, ctx: &mut dyn Context, event: &OrderEvent) -> StrategyResult {
        let backoff_until = event.ts_recv.0.saturating_add(self.config.reject_backoff_ms.saturating_mul(1_000_000));
        let Some(working) = self.working.as_mut().filter(|working| working.id == event.client_id) else {
            return Ok(());
        };
        match event.kind {
            OrderEventKind::Canceled => {
                // Our own cancel (target changed, or the order fell off the touch): send the difference now.
                self.working = None;
                self.rebalance(ctx);
            }
            OrderEventKind::Denied(_) | OrderEventKind::Rejected(_) | OrderEventKind::Expired => {
                self.working = None;
                self.blocked_until_ns = backoff_until;
            }
            OrderEventKind::Filled(fill) => {
                working.filled += fill.quantity.0;
                if working.filled >= working.quantity {
                    self.working = None;
                }
            }
            OrderEventKind::Replaced { price, quantity } => {
                working.price = price;
                working.quantity = quantity.0;
                working.amend_pending = false;
            }
            OrderEventKind::ReplaceRejected(_) => {
                working.amend_pending = false;
                self.blocked_until_ns = backoff_until;
            }
            OrderEventKind::CancelRejected(_) => working.cancel_pending = false,
            OrderEventKind::Submitted
            | OrderEventKind::Accepted(_)
            | OrderEventKind::PendingCancel
            | OrderEventKind::PendingReplace
            | OrderEventKind::Triggered => {}
        }
        Ok(())
    }
}
