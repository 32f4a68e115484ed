//! The pre-trade risk chain every order passes before it leaves, in backtest and live alike.
//!
//! [`RiskEngine::check`] takes an [`OrderCheck`] (the order plus the few plain values it is judged
//! against: mid, position, open orders, exposure) and returns `Ok(())` or the [`RejectReason`](ferrotrade_model::RejectReason) of the first
//! rule it breaks: trading state, rate limit, order quantity and notional, price band, position, total
//! exposure, concentration. [`RiskEngine::on_equity`] follows the equity curve and moves the
//! [`TradingState`] to `Reducing` or `Halted` when the drawdown or the day's loss crosses its limit.
//!
//! # Invariants
//! - Limits are configured in human units ([`RiskConfig`], the `[risk]` TOML table) and converted once, in
//!   [`RiskEngine::new`], into each instrument's fixed-point units: `check` compares integers, allocates
//!   nothing and reads no clock (time comes with the order), so backtests are deterministic.
//! - The state never relaxes on its own: only [`RiskEngine::set_state`] leaves `Reducing` or `Halted`.
//! - The crate does not depend on the book or the OMS; the engine hands it values.
//!
//! # Example
//! ```
//! use ferrotrade_model::{Instrument, InstrumentId, InstrumentIndex, Money, OrderRequest, OrderSide, Price, Quantity,
//!     RejectReason, UnixNanos, Venue};
//! use ferrotrade_risk::{OrderCheck, RiskConfig, RiskEngine};
//!
//! let btcusdt = Instrument::with_precisions(InstrumentId::new(Venue::BinanceUsdm, "BTCUSDT"), 1, 3);
//! let limit = ferrotrade_model::Decimal::parse_str("0.5").unwrap();
//! let config = RiskConfig { max_order_quantity: Some(limit), ..RiskConfig::default() };
//! let mut risk = RiskEngine::new(&config, &[btcusdt]).unwrap();
//! let order = |quantity| OrderCheck {
//!     now: UnixNanos(0),
//!     request: OrderRequest::limit(InstrumentIndex(0), OrderSide::Buy, Price(618_000), Quantity(quantity)),
//!     mid_x2: Some(Price(1_236_001)),
//!     position: Quantity(0),
//!     open_buy: Quantity(0),
//!     open_sell: Quantity(0),
//!     total_notional: Money::ZERO,
//!     instrument_notional: Money::ZERO,
//! };
//! assert_eq!(risk.check(&order(500)), Ok(()));                               // 0.500 BTC
//! assert_eq!(risk.check(&order(501)), Err(RejectReason::MaxOrderQuantity));  // 0.501 BTC
//! ```
#![deny(missing_docs)]

mod bucket;
mod chain;
mod config;
mod counters;
mod equity;
mod limits;
mod state;

pub use bucket::TokenBucket;
pub use chain::{OrderCheck, RiskEngine};
pub use config::{
    BAND_BPS_DECIMALS, FRACTION_DECIMALS, InstrumentLimits, OnBreach, RATE_DECIMALS, RiskConfig, RiskConfigError,
};
pub use counters::{DenyCounters, REJECT_REASON_COUNT, RISK_REASONS};
pub use equity::{Breach, EquityWatch};
pub use state::{RiskEvent, TradingState};
