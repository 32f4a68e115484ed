//! The pre-trade check chain: [`RiskEngine::check`] runs every order through the rules below, in order; the
//! first failure is the order's [`RejectReason`].
//!
//! | # | rule | refused with |
//! |---|---|---|
//! | 1 | trading state: `Halted`; `Reducing` and the order could increase the position | `TradingHalted`, `ReducingOnly` |
//! | 2 | rate limit: the token bucket has no whole token | `RateLimit` |
//! | 3 | order quantity: not positive; above `max_order_quantity` | `InvalidLotSize`, `MaxOrderQuantity` |
//! | 4 | a non-positive limit or trigger price; order notional above `max_order_notional`, or no mid to value a market order by | `InvalidPrice`, `MaxOrderNotional`, `NoMarketPrice` |
//! | 5 | price band (limit orders): price through `mid x (1 ± band)` on the aggressive side; no mid | `PriceBand`, `NoMarketPrice` |
//! | 6 | max position, worst case: `position + open orders of the side + order` (reduce-only orders pass) | `MaxPosition` |
//! | 7 | max total notional after the order; no mid to value a market order that increases the position | `MaxTotalPosition`, `NoMarketPrice` |
//! | 8 | max concentration after the order, once total exposure exceeds the floor | `MaxConcentration` |
//!
//! Decisions:
//! - **Tokens are spent only by orders that pass the whole chain.** The bucket models the venue's order-rate
//!   limit, and a denied order never reaches the venue; so an order denied by a later rule leaves the token
//!   for the next one, and a burst of denied orders cannot starve good ones.
//! - **The order is valued** at its limit price (limit, stop-limit), its trigger (stop-market), or mid for a
//!   market order, rounded so the notional is not understated.
//! - **"Could increase the position"** (rule 1) is judged in the worst case: a reducing order passes only
//!   when it is opposite to a non-zero position and, with the open orders of its side, cannot flip it (a
//!   reduce-only order is cut by the venue, so its side alone suffices).
//! - **Exposure (rules 7, 8)** is `|position| x mark` as the engine reports it, plus the order valued as
//!   above; open orders are not included (the position rule covers them in quantity). An order that cannot
//!   increase `|position|` passes both: it can only lower total exposure and the instrument's share.
//! - **An instrument index outside the table** is refused with `TradingHalted`: the engine has no limits
//!   for it, so it may not trade it.
//!
//! `check` allocates nothing and reads no clock: `now` comes with the order.

use ferrotrade_model::{
    Decimal, Instrument, InstrumentIndex, Money, OrderRequest, OrderSide, OrderType, Price, Quantity, RejectReason,
    UnixNanos,
};

use crate::bucket::TokenBucket;
use crate::config::{FRACTION_DECIMALS, RiskConfig, RiskConfigError, instrument_key, parse_instrument_key, top_key};
use crate::counters::DenyCounters;
use crate::equity::EquityWatch;
use crate::limits::{FRACTION_ONE, InstrumentRisk, fixed_limit};
use crate::state::{RiskEvent, TradingState};

/// Everything the chain needs to judge one order, as plain values from the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderCheck {
    /// Clock value (backtest time or the live clock), drives the rate limit.
    pub now: UnixNanos,
    /// The order.
    pub request: OrderRequest,
    /// `2 x mid` at price precision (exact for half-tick mids); `None` when the book is empty or unsynced.
    pub mid_x2: Option<Price>,
    /// Signed net position of the instrument.
    pub position: Quantity,
    /// Leaves of the open buy orders of the instrument.
    pub open_buy: Quantity,
    /// Leaves of the open sell orders of the instrument.
    pub open_sell: Quantity,
    /// `sum |position| x mark` over all instruments, before this order.
    pub total_notional: Money,
    /// `|position| x mark` of this instrument, before this order.
    pub instrument_notional: Money,
}

/// Account-wide exposure limits, in settlement currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ExposureLimits {
    max_total: Option<Money>,
    /// `(max_concentration in 10^-8 units, floor)`.
    concentration: Option<(i128, Money)>,
}

/// The pre-trade risk chain and trading state of one engine (one account, all its instruments).
#[derive(Debug, Clone)]
pub struct RiskEngine {
    instruments: Vec<InstrumentRisk>,
    exposure: ExposureLimits,
    bucket: Option<TokenBucket>,
    state: TradingState,
    on_breach: TradingState,
    equity: EquityWatch,
    counters: DenyCounters,
}

fn with_key(key: String, value: Option<Decimal>) -> Option<(String, Decimal)> {
    value.map(|value| (key, value))
}

impl RiskEngine {
    /// Compiles `config` for `instruments` (indexed by [`InstrumentIndex`] in this order): every limit is
    /// converted once into the instrument's fixed-point units or [`Money`].
    ///
    /// # Errors
    /// Whatever [`RiskConfig::validate`] refuses; [`RiskConfigError::UnknownInstrument`] for an override of
    /// an instrument not in `instruments`; [`RiskConfigError::Invalid`] for two overrides of one instrument,
    /// a quantity limit below the instrument's smallest step, or an instrument with a non-positive contract
    /// size.
    pub fn new(config: &RiskConfig, instruments: &[Instrument]) -> Result<RiskEngine, RiskConfigError> {
        config.validate()?;
        let mut overridden = Vec::with_capacity(config.instruments.len());
        for name in config.instruments.keys() {
            let id = parse_instrument_key(name)?;
            if !instruments.iter().any(|instrument| instrument.id == id) {
                return Err(RiskConfigError::UnknownInstrument { key: instrument_key(name, None) });
            }
            if overridden.contains(&id) {
                // `"binance-usdm.btcusdt"` and `"binance-usdm.BTCUSDT"`: which one wins would be a guess.
                return Err(RiskConfigError::invalid(instrument_key(name, None), format!("a second override of {id}")));
            }
            overridden.push(id);
        }
        let mut compiled = Vec::with_capacity(instruments.len());
        for instrument in instruments {
            let found = config
                .instruments
                .iter()
                .find(|(name, _)| parse_instrument_key(name).is_ok_and(|id| id == instrument.id));
            let pick = |field: &str, top: Option<Decimal>, over: Option<Decimal>| match (found, over) {
                (Some((name, _)), Some(value)) => Some((instrument_key(name, Some(field)), value)),
                _ => with_key(top_key(field), top),
            };
            let over = found.map(|(_, limits)| limits);
            compiled.push(InstrumentRisk::compile(
                instrument,
                &format!("instrument {}", instrument.id),
                pick("max_order_quantity", config.max_order_quantity, over.and_then(|o| o.max_order_quantity)),
                pick("max_order_notional", config.max_order_notional, over.and_then(|o| o.max_order_notional)),
                pick("max_position", config.max_position, over.and_then(|o| o.max_position)),
                pick("price_band_bps", config.price_band_bps, over.and_then(|o| o.price_band_bps)),
            )?);
        }

        let max_total = config.max_total_notional.map(Money::from_decimal);
        let concentration = match config.max_concentration {
            Some(value) => {
                let fraction = i128::from(fixed_limit(&top_key("max_concentration"), value, FRACTION_DECIMALS)?);
                // validate() guarantees a floor or a total limit; default floor = fraction x total limit.
                let floor = match (config.concentration_floor, max_total) {
                    (Some(floor), _) => Money::from_decimal(floor),
                    (None, Some(total)) => Money(total.0.saturating_mul(fraction) / FRACTION_ONE),
                    (None, None) => Money::ZERO,
                };
                Some((fraction, floor))
            }
            None => None,
        };
        let bucket = match config.orders_per_second {
            Some(rate) => {
                let burst = config.burst.unwrap_or_else(|| one_second_of(rate));
                Some(TokenBucket::new(rate, burst).ok_or_else(|| {
                    RiskConfigError::invalid(top_key("orders_per_second"), format!("unusable rate {rate}"))
                })?)
            }
            None => None,
        };
        let max_drawdown = config
            .max_drawdown
            .map(|value| fixed_limit(&top_key("max_drawdown"), value, FRACTION_DECIMALS))
            .transpose()?;
        Ok(RiskEngine {
            instruments: compiled,
            exposure: ExposureLimits { max_total, concentration },
            bucket,
            state: TradingState::Active,
            on_breach: config.on_breach.state(),
            equity: EquityWatch::new(max_drawdown, config.max_daily_loss.map(Money::from_decimal)),
            counters: DenyCounters::default(),
        })
    }

    /// Runs `order` through the chain (see the module table); `Ok` means it may leave.
    ///
    /// # Errors
    /// The first rule the order fails, as its [`RejectReason`]; counted in [`RiskEngine::counters`].
    #[inline]
    pub fn check(&mut self, order: &OrderCheck) -> Result<(), RejectReason> {
        match self.evaluate(order) {
            Ok(()) => {
                if let Some(bucket) = &mut self.bucket {
                    bucket.consume();
                }
                self.counters.record_passed();
                Ok(())
            }
            Err(reason) => {
                self.counters.record_denied(reason);
                Err(reason)
            }
        }
    }

    #[inline]
    fn evaluate(&mut self, order: &OrderCheck) -> Result<(), RejectReason> {
        let request = &order.request;
        let Some(limits) = self.instruments.get(request.instrument.get()) else {
            return Err(RejectReason::TradingHalted);
        };
        let position = order.position.0;
        let quantity = request.quantity.0;
        let sign = request.side.sign();
        let same_side_open = match request.side {
            OrderSide::Buy => order.open_buy.0,
            OrderSide::Sell => order.open_sell.0,
        };

        // 1. Trading state.
        match self.state {
            TradingState::Active => {}
            TradingState::Halted => return Err(RejectReason::TradingHalted),
            TradingState::Reducing => {
                let opposite = position.signum() == -sign;
                let within =
                    request.reduce_only || quantity.saturating_add(same_side_open) <= position.saturating_abs();
                if !(opposite && within) {
                    return Err(RejectReason::ReducingOnly);
                }
            }
        }

        // 2. Rate limit (the token is taken in `check`, once every rule passed).
        if let Some(bucket) = &mut self.bucket
            && !bucket.has_token(order.now)
        {
            return Err(RejectReason::RateLimit);
        }

        // 3. Order quantity.
        if quantity <= 0 {
            return Err(RejectReason::InvalidLotSize);
        }
        if limits.max_order_quantity.is_some_and(|max| quantity > max) {
            return Err(RejectReason::MaxOrderQuantity);
        }

        // 4. Order notional, at the price the order is valued at.
        let mid_x2 = order.mid_x2.filter(|mid| mid.0 > 0);
        let valuation = match request.order_type {
            OrderType::Limit | OrderType::StopLimit => Some(request.price),
            OrderType::StopMarket => Some(request.trigger_price),
            OrderType::Market => mid_x2.map(|mid| limits.mid_for_notional(mid)),
        };
        if let Some(price) = valuation
            && price.0 <= 0
        {
            return Err(RejectReason::InvalidPrice);
        }
        if let Some(max) = limits.max_order_notional {
            let Some(price) = valuation else { return Err(RejectReason::NoMarketPrice) };
            if limits.notional(price, request.quantity) > max {
                return Err(RejectReason::MaxOrderNotional);
            }
        }

        // 5. Price band, limit orders on their aggressive side.
        if let Some((up, down)) = limits.band
            && request.order_type == OrderType::Limit
        {
            let Some(mid) = mid_x2 else { return Err(RejectReason::NoMarketPrice) };
            // price > mid x up / 10^8  <=>  price x 2 x 10^8 > mid_x2 x up; i64 x 2^28 fits i128.
            let price = i128::from(request.price.0) * (2 * FRACTION_ONE);
            let mid = i128::from(mid.0);
            let through = match request.side {
                OrderSide::Buy => price > mid * up,
                OrderSide::Sell => price < mid * down,
            };
            if through {
                return Err(RejectReason::PriceBand);
            }
        }

        // 6. Max position, worst case with the open orders of the side.
        if let Some(max) = limits.max_position
            && !request.reduce_only
        {
            // Exposure on the order's side: long for a buy, short for a sell.
            let worst = position.saturating_mul(sign).saturating_add(same_side_open).saturating_add(quantity);
            if worst > max {
                return Err(RejectReason::MaxPosition);
            }
        }

        // 7, 8. Account exposure, only for an order that can increase |position|.
        if self.exposure.max_total.is_none() && self.exposure.concentration.is_none() {
            return Ok(());
        }
        let after = position.saturating_add(quantity.saturating_mul(sign));
        if request.reduce_only || after.saturating_abs() <= position.saturating_abs() {
            return Ok(());
        }
        // Only here does an order without a price fail for exposure: a reducing one never needs it.
        let Some(price) = valuation else { return Err(RejectReason::NoMarketPrice) };
        let (instrument_after, total_after) = if position.signum() == -sign {
            // Flips: the old exposure closes, the remainder opens on the other side.
            let opened = limits.notional(price, Quantity(after.saturating_abs()));
            (opened, Money(order.total_notional.0.saturating_sub(order.instrument_notional.0).saturating_add(opened.0)))
        } else {
            let added = limits.notional(price, request.quantity);
            (
                Money(order.instrument_notional.0.saturating_add(added.0)),
                Money(order.total_notional.0.saturating_add(added.0)),
            )
        };
        if self.exposure.max_total.is_some_and(|max| total_after > max) {
            return Err(RejectReason::MaxTotalPosition);
        }
        if let Some((fraction, floor)) = self.exposure.concentration
            && total_after > floor
            && instrument_after.0.saturating_mul(FRACTION_ONE) > total_after.0.saturating_mul(fraction)
        {
            return Err(RejectReason::MaxConcentration);
        }
        Ok(())
    }

    /// Records the account equity at `now`; moves trading to the configured breach state when the drawdown
    /// or the day's loss crosses its limit (never back, and never to a milder state than the current one).
    pub fn on_equity(&mut self, now: UnixNanos, equity: Money) -> Option<RiskEvent> {
        let breach = self.equity.update(now, equity)?;
        if self.state.at_least(self.on_breach) {
            return None;
        }
        Some(self.transition(now, self.on_breach, breach.code()))
    }

    /// Sets the trading state by hand (halt, reduce-only, resume commands); `None` when already in it.
    /// Resuming to `Active` restarts the drawdown measurement at the last equity seen, so a resumed engine
    /// is not halted again by the same drawdown; the day's loss still counts.
    pub fn set_state(&mut self, now: UnixNanos, state: TradingState, reason: &'static str) -> Option<RiskEvent> {
        if state == self.state {
            return None;
        }
        if state == TradingState::Active {
            self.equity.rearm();
        }
        Some(self.transition(now, state, reason))
    }

    fn transition(&mut self, now: UnixNanos, to: TradingState, reason: &'static str) -> RiskEvent {
        let event = RiskEvent { ts: now, from: self.state, to, reason };
        self.state = to;
        event
    }

    /// The current trading state.
    #[must_use]
    pub const fn state(&self) -> TradingState {
        self.state
    }

    /// Passed and denied counts, per reason.
    #[must_use]
    pub const fn counters(&self) -> &DenyCounters {
        &self.counters
    }

    /// The drawdown and daily-loss tracker (peak and start-of-day equity, for reports).
    #[must_use]
    pub const fn equity(&self) -> &EquityWatch {
        &self.equity
    }

    /// Whole tokens left in the rate-limit bucket at its last refill; `None` without a rate limit.
    #[must_use]
    pub fn tokens(&self) -> Option<u64> {
        self.bucket.as_ref().map(TokenBucket::tokens)
    }

    /// Number of instruments the engine has limits for.
    #[must_use]
    pub fn instrument_count(&self) -> usize {
        self.instruments.len()
    }

    /// Whether `index` is an instrument of the table.
    #[must_use]
    pub fn knows(&self, index: InstrumentIndex) -> bool {
        index.get() < self.instruments.len()
    }
}

/// Default burst: one second's worth of orders, at least one.
fn one_second_of(rate: Decimal) -> u32 {
    let whole = ferrotrade_model::pow10(rate.scale).map_or(1, |one| (rate.mantissa + one - 1) / one);
    u32::try_from(whole.max(1)).unwrap_or(u32::MAX)
}
