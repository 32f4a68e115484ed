//! [`MarketMaker`]: quotes one post-only limit order per side around the mid price, skewed against its
//! inventory.
//!
//! # Pricing (all fixed-point, exact)
//! With `mid = (best bid + best ask) / 2`, `q` the signed position in instrument units (1.0 = one BTC),
//! `h = half_spread_bps` and `k = skew_bps_per_unit`:
//!
//! ```text
//! bid = floor_to_tick(mid x (1 - (h + k q) / 10^4))      ask = ceil_to_tick(mid x (1 + (h - k q) / 10^4))
//! ```
//!
//! so a long position moves both quotes down (sells become likelier, buys less), a short one up. Rounding
//! is always away from the mid (bids down, asks up), so the quoted spread is never narrower than asked.
//! The plain mid is used, not the microprice: it needs no size weighting, and inventory skew already
//! leans the quotes. A quote is then pulled behind the touch if it would cross it (`bid <= best ask - 1 tick`,
//! `ask >= best bid + 1 tick`), and every order is post-only, so the strategy never takes liquidity.
//!
//! # Order management
//! - At most one working order per side. A side is not quoted (and its order canceled) when a complete
//!   fill would take the position beyond `max_position`.
//! - A working order is re-priced with `ctx.amend` (one message, keeps the order id, cheaper than cancel +
//!   new) only when the desired price moved by at least `requote_threshold_ticks` ticks, and only
//!   `min_requote_interval_ms` after the side's previous submit or amend. Cancels are never delayed.
//! - After a denial (risk chain) or rejection (venue) a side sends nothing for `reject_backoff_ms`, so a
//!   refusal that will repeat (a position limit, a rate limit) does not turn into one order per book update.
//!   An amend refused as invalid (a venue that cannot re-price in place, as Binance spot) pulls the order
//!   instead: the side is quoted anew by cancel and new order.
//! - An order is forgotten on its terminal event (denied, rejected, canceled, expired, completely filled);
//!   the side is quoted again on the next book update (or at once after a fill, whose inventory change
//!   moves the quotes).
//!
//! # Cost
//! `on_book` reads the touch; when neither the touch nor the inventory changed and no order event arrived
//! since the last pass, it returns after one comparison. Otherwise it recomputes the two prices (two `i128`
//! divisions, only when touch or inventory moved) and checks both sides. The inventory is read from
//! `ctx.position` in `on_start` and after each fill (positions change only by fills), not per book update.
//! No allocation after `on_start`.

use ferrotrade_model::{
    ClientOrderId, Decimal, Fill, InstrumentIndex, OrderEvent, OrderEventKind, OrderRequest, OrderSide, Price,
    Quantity, RejectReason,
};
use serde::Deserialize;

use super::params::ParamText;
use super::{ConfigError, decimal_cmp, require_non_negative, require_positive, resolve_instrument, to_quantity};
use crate::context::Context;
use crate::subscription::Subscription;
use crate::traits::{Strategy, StrategyResult};

/// Configuration of a [`MarketMaker`] (TOML/JSON; unknown keys are an error).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarketMakerConfig {
    /// The instrument as `venue.SYMBOL` (`"binance-usdm.BTCUSDT"`).
    pub instrument: String,
    /// Size of each quote, in instrument units (`0.001` BTC); must fit the instrument's size precision and lot.
    pub order_size: Decimal,
    /// Distance of each quote from the mid, in basis points of the mid (`>= 0`, `< 10000`).
    pub half_spread_bps: Decimal,
    /// How far both quotes move against the inventory, in basis points per instrument unit of position
    /// (`>= 0`; default 0): long 0.5 BTC with 4 bps/unit moves both quotes 2 bps down.
    #[serde(default)]
    pub skew_bps_per_unit: Decimal,
    /// Largest absolute position a fill may lead to, in instrument units (`>= order_size`).
    pub max_position: Decimal,
    /// Re-quote a working order only when the desired price moved by at least this many ticks (`>= 0`;
    /// default 1).
    #[serde(default = "default_requote_threshold_ticks")]
    pub requote_threshold_ticks: i64,
    /// Least time between two submits or amends of one side, in milliseconds (default 0).
    #[serde(default)]
    pub min_requote_interval_ms: u64,
    /// After a side's order is denied or rejected, that side sends nothing for this many milliseconds
    /// (default 1000).
    #[serde(default = "default_reject_backoff_ms")]
    pub reject_backoff_ms: u64,
}

const fn default_reject_backoff_ms() -> u64 {
    1_000
}

const NANOS_PER_MILLI: u64 = 1_000_000;

/// The keys `set_parameter` changes.
const SETTABLE: &[&str] = &[
    "order_size",
    "half_spread_bps",
    "skew_bps_per_unit",
    "max_position",
    "requote_threshold_ticks",
    "min_requote_interval_ms",
    "reject_backoff_ms",
];

const fn default_requote_threshold_ticks() -> i64 {
    1
}

impl MarketMakerConfig {
    /// Checks what can be checked without the instrument table.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the first invalid key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        require_positive("order_size", self.order_size)?;
        require_non_negative("half_spread_bps", self.half_spread_bps)?;
        if decimal_cmp(self.half_spread_bps, Decimal::from_fixed(10_000, 0)).is_ge() {
            return Err(ConfigError::new("half_spread_bps", "must be below 10000 (a bid at or below zero)"));
        }
        require_non_negative("skew_bps_per_unit", self.skew_bps_per_unit)?;
        require_positive("max_position", self.max_position)?;
        if decimal_cmp(self.max_position, self.order_size).is_lt() {
            return Err(ConfigError::new(
                "max_position",
                format!("{} is below order_size {}: no quote could ever be sent", self.max_position, self.order_size),
            ));
        }
        if self.requote_threshold_ticks < 0 {
            return Err(ConfigError::new("requote_threshold_ticks", "must not be negative"));
        }
        Ok(())
    }
}

/// The configuration turned into the instrument's fixed-point units (set in `on_start`).
#[derive(Debug, Clone, Copy)]
struct Params {
    instrument: InstrumentIndex,
    tick: i64,
    order_size: i64,
    max_position: i64,
    /// `1` in the units of `half_spread` and `skew` below: `10^(4 + decimals)`.
    unity: i128,
    /// `half_spread_bps x 10^decimals`.
    half_spread: i128,
    /// `skew_bps_per_unit x 10^decimals`, per quantity mantissa unit.
    skew: i128,
    /// `2 x unity x tick`: divides `mid_x2 x (unity +- offset)` into ticks.
    tick_divisor: i128,
    requote_threshold: i64,
    min_interval_ns: u64,
    reject_backoff_ns: u64,
}

/// One working quote as this strategy tracks it.
#[derive(Debug, Clone, Copy)]
struct Quote {
    id: ClientOrderId,
    price: Price,
    quantity: i64,
    filled: i64,
    cancel_pending: bool,
    amend_pending: bool,
}

#[derive(Debug, Clone, Copy, Default)]
struct SideState {
    working: Option<Quote>,
    last_action_ns: Option<u64>,
    /// No submit or amend before this local time (after a denial or rejection).
    blocked_until_ns: u64,
}

/// Inventory-skewed L2 market maker; see the module docs for pricing and order handling.
#[derive(Debug, Clone)]
pub struct MarketMaker {
    config: MarketMakerConfig,
    name: String,
    params: Option<Params>,
    bid: SideState,
    ask: SideState,
    /// The position (size mantissa), read from `ctx.position` in `on_start` and after every fill: positions
    /// change only by fills, so `on_book` need not ask.
    inventory: i64,
    /// `(best bid, best ask, inventory)` the cached prices were computed for.
    cache_key: Option<(i64, i64, i64)>,
    desired: (Option<Price>, Option<Price>),
    /// Both sides matched `desired` after the last pass: nothing to do until the key changes or an order
    /// event arrives. Cleared by every order event, and left unset when an action waits for the interval.
    settled: bool,
}

impl MarketMaker {
    /// A market maker for `config`; its name is `market_maker:<instrument>`. Call
    /// [`MarketMakerConfig::validate`] first to report bad keys early; `on_start` validates again.
    #[must_use]
    pub fn new(config: MarketMakerConfig) -> MarketMaker {
        let name = format!("market_maker:{}", config.instrument);
        MarketMaker {
            config,
            name,
            params: None,
            bid: SideState::default(),
            ask: SideState::default(),
            inventory: 0,
            cache_key: None,
            desired: (None, None),
            settled: false,
        }
    }

    /// The same strategy under another name (names must be unique within a run; a configuration's
    /// `name` key sets it).
    #[must_use]
    pub fn with_name(mut self, name: String) -> MarketMaker {
        self.name = name;
        self
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &MarketMakerConfig {
        &self.config
    }

    fn resolve(&self, ctx: &dyn Context) -> Result<Params, ConfigError> {
        self.config.validate()?;
        let (instrument, spec) = resolve_instrument(ctx, &self.config.instrument)?;
        let order_size = to_quantity("order_size", self.config.order_size, &spec)?;
        let max_position = to_quantity("max_position", self.config.max_position, &spec)?;
        let tick = spec.tick_size.0;
        if tick <= 0 {
            return Err(ConfigError::new("instrument", format!("{} has a non-positive tick size", spec.id)));
        }
        let half_scale = u32::from(self.config.half_spread_bps.scale);
        let skew_scale = u32::from(self.config.skew_bps_per_unit.scale) + u32::from(spec.size_precision);
        let decimals = half_scale.max(skew_scale);
        // mid_x2 (up to ~10^13) x unity must stay far inside i128 (~1.7 x 10^38).
        if decimals + 4 > 22 {
            return Err(ConfigError::new(
                "skew_bps_per_unit",
                "half_spread_bps / skew_bps_per_unit have too many decimals for exact pricing",
            ));
        }
        let pow = |exponent: u32| 10i128.pow(exponent);
        let unity = pow(4 + decimals);
        Ok(Params {
            instrument,
            tick,
            order_size: order_size.0,
            max_position: max_position.0,
            unity,
            half_spread: i128::from(self.config.half_spread_bps.mantissa) * pow(decimals - half_scale),
            skew: i128::from(self.config.skew_bps_per_unit.mantissa) * pow(decimals - skew_scale),
            tick_divisor: 2 * unity * i128::from(tick),
            requote_threshold: self.config.requote_threshold_ticks.saturating_mul(tick),
            min_interval_ns: self.config.min_requote_interval_ms.saturating_mul(NANOS_PER_MILLI),
            reject_backoff_ns: self.config.reject_backoff_ms.saturating_mul(NANOS_PER_MILLI),
        })
    }

    /// The bid and ask to quote for this touch and position (`None`: do not quote that side).
    fn desired_prices(params: &Params, best_bid: i64, best_ask: i64, position: i64) -> (Option<Price>, Option<Price>) {
        let mid_x2 = i128::from(best_bid) + i128::from(best_ask);
        let Some(skew) = params.skew.checked_mul(i128::from(position)) else {
            return (None, None);
        };
        let bid_allowed = position.checked_add(params.order_size).is_some_and(|after| after <= params.max_position);
        let ask_allowed = position.checked_sub(params.order_size).is_some_and(|after| after >= -params.max_position);
        let bid = if bid_allowed {
            (params.unity - params.half_spread)
                .checked_sub(skew)
                .and_then(|factor| mid_x2.checked_mul(factor))
                .map(|numerator| numerator.div_euclid(params.tick_divisor))
                .and_then(|ticks| i64::try_from(ticks).ok())
                .and_then(|ticks| ticks.checked_mul(params.tick))
                .map(|price| price.min(best_ask.saturating_sub(params.tick)))
                .filter(|price| *price > 0)
        } else {
            None
        };
        let ask = if ask_allowed {
            (params.unity + params.half_spread)
                .checked_sub(skew)
                .and_then(|factor| mid_x2.checked_mul(factor))
                // Ceiling division: -floor(-x / d).
                .map(|numerator| -(-numerator).div_euclid(params.tick_divisor))
                .and_then(|ticks| i64::try_from(ticks).ok())
                .and_then(|ticks| ticks.checked_mul(params.tick))
                .map(|price| price.max(best_bid.saturating_add(params.tick)))
                .filter(|price| *price > 0)
        } else {
            None
        };
        (bid.map(Price), ask.map(Price))
    }

    /// Brings both sides in line with the current touch and inventory.
    ///
    /// Fast path (the common case: a message that did not move the touch): two best-level reads and a
    /// comparison.
    fn quote(&mut self, ctx: &mut dyn Context) {
        let Some(params) = self.params.as_ref() else {
            return;
        };
        let book = ctx.book(params.instrument);
        let (Some(best_bid), Some(best_ask)) = (book.best_bid(), book.best_ask()) else {
            // No mid to quote around: leave working orders alone until the book is two-sided again.
            return;
        };
        let key = (best_bid.price.0, best_ask.price.0, self.inventory);
        if self.cache_key == Some(key) {
            if self.settled {
                return;
            }
        } else {
            self.cache_key = Some(key);
            self.desired = Self::desired_prices(params, key.0, key.1, key.2);
        }
        let now = ctx.now().0;
        let (bid, ask) = self.desired;
        let bid_settled = update_side(&mut self.bid, params, ctx, OrderSide::Buy, bid, now);
        let ask_settled = update_side(&mut self.ask, params, ctx, OrderSide::Sell, ask, now);
        self.settled = bid_settled && ask_settled;
    }

    fn side_of(&mut self, id: ClientOrderId) -> Option<&mut SideState> {
        if self.bid.working.is_some_and(|quote| quote.id == id) {
            Some(&mut self.bid)
        } else if self.ask.working.is_some_and(|quote| quote.id == id) {
            Some(&mut self.ask)
        } else {
            None
        }
    }
}

/// Submits, amends or cancels one side's order so it matches `desired`; returns `false` when an action had
/// to wait for the re-quote interval and must be tried again on the next update. (An action waiting for a
/// pending cancel or amend needs no retry: the answer arrives as an order event, which clears `settled`.)
fn update_side(
    state: &mut SideState,
    params: &Params,
    ctx: &mut dyn Context,
    side: OrderSide,
    desired: Option<Price>,
    now: u64,
) -> bool {
    let may_act = now >= state.blocked_until_ns
        && state.last_action_ns.is_none_or(|last| now.saturating_sub(last) >= params.min_interval_ns);
    match (desired, state.working.as_mut()) {
        (None, Some(quote)) => {
            if !quote.cancel_pending {
                ctx.cancel(quote.id);
                quote.cancel_pending = true;
            }
            true
        }
        (Some(price), None) => {
            if !may_act {
                return false;
            }
            let mut request = OrderRequest::limit(params.instrument, side, price, Quantity(params.order_size));
            request.post_only = true;
            let id = ctx.submit(request);
            state.working = Some(Quote {
                id,
                price,
                quantity: params.order_size,
                filled: 0,
                cancel_pending: false,
                amend_pending: false,
            });
            state.last_action_ns = Some(now);
            true
        }
        (Some(price), Some(quote)) => {
            let moved = (price.0 - quote.price.0).abs();
            if moved == 0 || moved < params.requote_threshold {
                return true;
            }
            if quote.cancel_pending || quote.amend_pending {
                // Its answer arrives as an order event, which wakes this side up again.
                return true;
            }
            if !may_act {
                return false;
            }
            ctx.amend(quote.id, price, Quantity(quote.quantity));
            quote.amend_pending = true;
            state.last_action_ns = Some(now);
            true
        }
        (None, None) => true,
    }
}

impl Strategy for MarketMaker {
    fn name(&self) -> &str {
        &self.name
    }

    fn subscriptions(&self) -> Vec<Subscription> {
        vec![Subscription::book(&self.config.instrument)]
    }

    fn on_start(&mut self, ctx: &mut dyn Context) -> StrategyResult {
        let params = self.resolve(ctx)?;
        self.inventory = ctx.position(params.instrument).quantity.0;
        self.params = Some(params);
        Ok(())
    }

    /// Every numeric key of [`MarketMakerConfig`] can change at run time (`instrument` cannot); the new
    /// configuration is validated and resolved against the instrument as at the start, and the quotes move
    /// on the next book update.
    fn set_parameter(&mut self, ctx: &mut dyn Context, name: &str, value: &str) -> StrategyResult {
        let mut config = self.config.clone();
        let text = ParamText::new(name, value);
        match name {
            "order_size" => config.order_size = text.decimal()?,
            "half_spread_bps" => config.half_spread_bps = text.decimal()?,
            "skew_bps_per_unit" => config.skew_bps_per_unit = text.decimal()?,
            "max_position" => config.max_position = text.decimal()?,
            "requote_threshold_ticks" => config.requote_threshold_ticks = text.integer()?,
            "min_requote_interval_ms" => config.min_requote_interval_ms = text.count()?,
            "reject_backoff_ms" => config.reject_backoff_ms = text.count()?,
            _ => return Err(text.not_settable(&self.name, SETTABLE, &["instrument"], "its quotes are on that book")),
        }
        let previous = std::mem::replace(&mut self.config, config);
        match self.resolve(ctx) {
            Ok(params) => {
                self.params = Some(params);
                self.cache_key = None;
                self.settled = false;
                Ok(())
            }
            Err(error) => {
                self.config = previous;
                Err(error.into())
            }
        }
    }

    fn on_book(&mut self, ctx: &mut dyn Context, instrument: InstrumentIndex) -> StrategyResult {
        if self.params.is_some_and(|params| params.instrument == instrument) {
            self.quote(ctx);
        }
        Ok(())
    }

    fn on_order(&mut self, ctx: &mut dyn Context, event: &OrderEvent) -> StrategyResult {
        // Whatever changed, the next pass must look at the sides again.
        self.settled = false;
        let backoff_until = event.ts_recv.0.saturating_add(self.params.map_or(0, |params| params.reject_backoff_ns));
        let Some(state) = self.side_of(event.client_id) else {
            return Ok(());
        };
        let Some(quote) = state.working.as_mut() else {
            return Ok(());
        };
        let done = match event.kind {
            OrderEventKind::Denied(_) | OrderEventKind::Rejected(_) => {
                state.blocked_until_ns = backoff_until;
                true
            }
            OrderEventKind::Canceled | OrderEventKind::Expired => true,
            OrderEventKind::Filled(fill) => {
                quote.filled += fill.quantity.0;
                quote.filled >= quote.quantity
            }
            OrderEventKind::Replaced { price, quantity } => {
                quote.price = price;
                quote.quantity = quantity.0;
                quote.amend_pending = false;
                false
            }
            // The venue cannot change this order that way (Binance spot re-prices only by cancel and new):
            // pull it, and the side is quoted anew on the next update.
            OrderEventKind::ReplaceRejected(RejectReason::InvalidAmend) => {
                quote.amend_pending = false;
                if !quote.cancel_pending {
                    ctx.cancel(quote.id);
                    quote.cancel_pending = true;
                }
                false
            }
            OrderEventKind::ReplaceRejected(_) => {
                quote.amend_pending = false;
                state.blocked_until_ns = backoff_until;
                false
            }
            OrderEventKind::CancelRejected(_) => {
                // Asked again on the next update if the side is still to be pulled.
                quote.cancel_pending = false;
                false
            }
            OrderEventKind::Submitted
            | OrderEventKind::Accepted(_)
            | OrderEventKind::PendingCancel
            | OrderEventKind::PendingReplace
            | OrderEventKind::Triggered => false,
        };
        if done {
            state.working = None;
        }
        Ok(())
    }

    fn on_fill(&mut self, ctx: &mut dyn Context, fill: &Fill) -> StrategyResult {
        // The inventory changed: both quotes move with the skew, without waiting for the next book update.
        // The engine has applied the fill to the position before this call; reading it back (rather than
        // adding the fill) keeps the inventory equal to the OMS's whatever fills it deduplicated.
        if let Some(instrument) = self.params.map(|params| params.instrument)
            && instrument == fill.instrument
        {
            self.inventory = ctx.position(instrument).quantity.0;
            self.quote(ctx);
        }
        Ok(())
    }

    fn on_stop(&mut self, ctx: &mut dyn Context) -> StrategyResult {
        if let Some(params) = self.params {
            ctx.cancel_all(Some(params.instrument));
        }
        Ok(())
    }
}
