//! Order and fill value types shared by the OMS, the risk chain, the simulated venue, the strategies and
//! (later) the live gateways.
//!
//! These are plain `Copy` values: the hot path moves them around without allocating. Instruments are
//! referred to by [`InstrumentIndex`], the position of the instrument in the engine's instrument table, so
//! no string is hashed per order; the table maps it back to an [`crate::InstrumentId`].
//!
//! # Order lifecycle
//! [`OrderStatus`] lists the states; the legal transitions live in one table in `ferrotrade-oms`. Every
//! change reaches the strategy as an [`OrderEvent`]; fills additionally as [`Fill`].

use std::fmt;

use crate::fixed::{Price, Quantity};
use crate::money::Money;
use crate::time::UnixNanos;

/// Position of an instrument in the engine's instrument table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[repr(transparent)]
pub struct InstrumentIndex(pub u32);

impl InstrumentIndex {
    /// The index as a `usize`, for indexing per-instrument tables.
    #[inline]
    #[must_use]
    pub const fn get(self) -> usize {
        self.0 as usize
    }
}

/// Client order id: assigned by the OMS, strictly increasing within a run (and across restarts in live).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[repr(transparent)]
pub struct ClientOrderId(pub u64);

impl fmt::Display for ClientOrderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Order id assigned by the venue on acceptance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[repr(transparent)]
pub struct VenueOrderId(pub u64);

/// Buy or sell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum OrderSide {
    /// Buy (bid).
    Buy = 1,
    /// Sell (ask).
    Sell = 2,
}

impl OrderSide {
    /// `+1` for a buy, `-1` for a sell: the sign a fill of this side adds to a position.
    #[inline]
    #[must_use]
    pub const fn sign(self) -> i64 {
        match self {
            OrderSide::Buy => 1,
            OrderSide::Sell => -1,
        }
    }

    /// The other side.
    #[inline]
    #[must_use]
    pub const fn opposite(self) -> OrderSide {
        match self {
            OrderSide::Buy => OrderSide::Sell,
            OrderSide::Sell => OrderSide::Buy,
        }
    }

    /// `"buy"` or `"sell"`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            OrderSide::Buy => "buy",
            OrderSide::Sell => "sell",
        }
    }
}

/// How the order prices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum OrderType {
    /// Takes whatever the book offers, up to the quantity.
    Market = 1,
    /// Rests at its price (or better) according to its time in force.
    Limit = 2,
    /// Becomes a market order when the trigger price trades.
    StopMarket = 3,
    /// Becomes a limit order at `price` when the trigger price trades.
    StopLimit = 4,
}

impl OrderType {
    /// Lower-case name (`"stop_limit"`).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            OrderType::Market => "market",
            OrderType::Limit => "limit",
            OrderType::StopMarket => "stop_market",
            OrderType::StopLimit => "stop_limit",
        }
    }
}

/// How long an order stays working.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum TimeInForce {
    /// Good till canceled.
    Gtc = 1,
    /// Immediate or cancel: what does not fill at once is canceled.
    Ioc = 2,
    /// Fill or kill: fills completely at once or not at all.
    Fok = 3,
}

impl TimeInForce {
    /// Upper-case venue name (`"GTC"`).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            TimeInForce::Gtc => "GTC",
            TimeInForce::Ioc => "IOC",
            TimeInForce::Fok => "FOK",
        }
    }
}

/// What a strategy asks for. The OMS assigns the client id and validates before anything leaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OrderRequest {
    /// The instrument.
    pub instrument: InstrumentIndex,
    /// Buy or sell.
    pub side: OrderSide,
    /// Market, limit, stop-market or stop-limit.
    pub order_type: OrderType,
    /// GTC, IOC or FOK (market orders behave as IOC).
    pub time_in_force: TimeInForce,
    /// Size, at the instrument's size precision.
    pub quantity: Quantity,
    /// Limit price (limit and stop-limit); ignored for market and stop-market.
    pub price: Price,
    /// Trigger price (stop orders); ignored otherwise.
    pub trigger_price: Price,
    /// Rejected instead of taking liquidity (Binance `GTX`, Bybit `PostOnly`).
    pub post_only: bool,
    /// May only reduce the position; rejected (or cut) when it would increase it.
    pub reduce_only: bool,
}

impl OrderRequest {
    /// A GTC limit order.
    #[must_use]
    pub const fn limit(instrument: InstrumentIndex, side: OrderSide, price: Price, quantity: Quantity) -> Self {
        OrderRequest {
            instrument,
            side,
            order_type: OrderType::Limit,
            time_in_force: TimeInForce::Gtc,
            quantity,
            price,
            trigger_price: Price::ZERO,
            post_only: false,
            reduce_only: false,
        }
    }

    /// A market order.
    #[must_use]
    pub const fn market(instrument: InstrumentIndex, side: OrderSide, quantity: Quantity) -> Self {
        OrderRequest {
            instrument,
            side,
            order_type: OrderType::Market,
            time_in_force: TimeInForce::Ioc,
            quantity,
            price: Price::ZERO,
            trigger_price: Price::ZERO,
            post_only: false,
            reduce_only: false,
        }
    }
}

/// The state of an order; legal transitions are in `ferrotrade-oms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum OrderStatus {
    /// Created by the strategy, not yet checked.
    Initialized = 0,
    /// Refused by the pre-trade risk chain; never left the process.
    Denied = 1,
    /// Sent to the venue, no answer yet.
    Submitted = 2,
    /// Working at the venue.
    Accepted = 3,
    /// Working, partly filled.
    PartiallyFilled = 4,
    /// Completely filled (terminal).
    Filled = 5,
    /// Cancel sent, no answer yet.
    PendingCancel = 6,
    /// Canceled (terminal).
    Canceled = 7,
    /// Amend sent, no answer yet.
    PendingReplace = 8,
    /// Refused by the venue (terminal).
    Rejected = 9,
    /// Ended by its time in force (IOC/FOK rest, no liquidity) (terminal).
    Expired = 10,
    /// A stop order whose trigger traded; now working as market or limit.
    Triggered = 11,
}

impl OrderStatus {
    /// Whether no further change can happen.
    #[must_use]
    pub const fn is_terminal(self) -> bool {
        matches!(
            self,
            OrderStatus::Denied
                | OrderStatus::Filled
                | OrderStatus::Canceled
                | OrderStatus::Rejected
                | OrderStatus::Expired
        )
    }

    /// Whether the order may still fill (it is, or may be, working at the venue).
    #[must_use]
    pub const fn is_open(self) -> bool {
        matches!(
            self,
            OrderStatus::Submitted
                | OrderStatus::Accepted
                | OrderStatus::PartiallyFilled
                | OrderStatus::PendingCancel
                | OrderStatus::PendingReplace
                | OrderStatus::Triggered
        )
    }

    /// Snake-case name (`"partially_filled"`).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Initialized => "initialized",
            OrderStatus::Denied => "denied",
            OrderStatus::Submitted => "submitted",
            OrderStatus::Accepted => "accepted",
            OrderStatus::PartiallyFilled => "partially_filled",
            OrderStatus::Filled => "filled",
            OrderStatus::PendingCancel => "pending_cancel",
            OrderStatus::Canceled => "canceled",
            OrderStatus::PendingReplace => "pending_replace",
            OrderStatus::Rejected => "rejected",
            OrderStatus::Expired => "expired",
            OrderStatus::Triggered => "triggered",
        }
    }
}

/// Why an order (or a cancel or amend) was refused: by the pre-trade risk chain (`Denied`) or by the venue
/// (`Rejected`). `code()` is the stable name reports count by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum RejectReason {
    // --- venue: order validation (Binance filter names / Bybit retCodes in the docs) ---
    /// Price not a multiple of the tick size (Binance `PRICE_FILTER`).
    InvalidTickSize,
    /// Quantity not a multiple of the lot size, or not positive (Binance `LOT_SIZE`).
    InvalidLotSize,
    /// Price x quantity below the instrument's minimum notional (Binance `MIN_NOTIONAL`/`NOTIONAL`).
    MinNotional,
    /// A price that must be positive is not.
    InvalidPrice,
    /// A post-only order would have taken liquidity (Binance -5022 `GTX`, Bybit 110094-style).
    PostOnlyWouldTake,
    /// A reduce-only order would increase the position (Binance -2022).
    ReduceOnlyWouldIncrease,
    /// A stop order whose trigger is already through the market (Binance -2021 "would immediately trigger").
    WouldTriggerImmediately,
    /// Cancel or amend of an order the venue does not know or that is already done (Binance -2011).
    UnknownOrder,
    /// An amend that changes nothing or is not allowed for the order (Binance -5027).
    InvalidAmend,
    /// A market order with no liquidity on the other side.
    NoLiquidity,
    // --- pre-trade risk chain ---
    /// Order quantity above the configured maximum.
    MaxOrderQuantity,
    /// Order notional above the configured maximum.
    MaxOrderNotional,
    /// The resulting position of the instrument would exceed its limit.
    MaxPosition,
    /// The resulting total position notional across instruments would exceed its limit.
    MaxTotalPosition,
    /// The instrument would take too large a share of the total exposure.
    MaxConcentration,
    /// Limit price too far from mid (fat finger).
    PriceBand,
    /// The order-rate token bucket is empty.
    RateLimit,
    /// Drawdown from the equity peak exceeded its limit (trading is reducing or halted).
    MaxDrawdown,
    /// Loss since the start of the UTC day exceeded its limit.
    DailyLoss,
    /// Trading state is HALTED.
    TradingHalted,
    /// Trading state is REDUCING and the order would not reduce the position.
    ReducingOnly,
    /// No market price to check a band or notional against (book empty or unsynced).
    NoMarketPrice,
    // --- venue: anything else ---
    /// A venue refusal whose error code maps to no reason above (the venue's code and message are in the
    /// gateway's notice); kept last so the discriminants of the other reasons stay stable.
    Venue,
}

impl RejectReason {
    /// Stable snake-case code (`"post_only_would_take"`), used in reports and events.
    #[must_use]
    pub const fn code(self) -> &'static str {
        match self {
            RejectReason::InvalidTickSize => "invalid_tick_size",
            RejectReason::InvalidLotSize => "invalid_lot_size",
            RejectReason::MinNotional => "min_notional",
            RejectReason::InvalidPrice => "invalid_price",
            RejectReason::PostOnlyWouldTake => "post_only_would_take",
            RejectReason::ReduceOnlyWouldIncrease => "reduce_only_would_increase",
            RejectReason::WouldTriggerImmediately => "would_trigger_immediately",
            RejectReason::UnknownOrder => "unknown_order",
            RejectReason::InvalidAmend => "invalid_amend",
            RejectReason::NoLiquidity => "no_liquidity",
            RejectReason::MaxOrderQuantity => "max_order_quantity",
            RejectReason::MaxOrderNotional => "max_order_notional",
            RejectReason::MaxPosition => "max_position",
            RejectReason::MaxTotalPosition => "max_total_position",
            RejectReason::MaxConcentration => "max_concentration",
            RejectReason::PriceBand => "price_band",
            RejectReason::RateLimit => "rate_limit",
            RejectReason::MaxDrawdown => "max_drawdown",
            RejectReason::DailyLoss => "daily_loss",
            RejectReason::TradingHalted => "trading_halted",
            RejectReason::ReducingOnly => "reducing_only",
            RejectReason::NoMarketPrice => "no_market_price",
            RejectReason::Venue => "venue_reject",
        }
    }
}

impl fmt::Display for RejectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Whether a fill added liquidity (maker) or took it (taker).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Liquidity {
    /// A resting order was hit.
    Maker = 1,
    /// The order crossed the spread.
    Taker = 2,
}

/// One execution of an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fill {
    /// The order.
    pub client_id: ClientOrderId,
    /// The venue's id of the order.
    pub venue_order_id: VenueOrderId,
    /// The venue's trade id; the OMS drops a second fill with the same `(instrument, trade_id)`.
    pub trade_id: u64,
    /// The instrument.
    pub instrument: InstrumentIndex,
    /// Side of the order.
    pub side: OrderSide,
    /// Execution price.
    pub price: Price,
    /// Executed size.
    pub quantity: Quantity,
    /// Fee charged (negative: rebate), in the settlement currency.
    pub fee: Money,
    /// Maker or taker.
    pub liquidity: Liquidity,
    /// Venue time of the execution.
    pub ts_event: UnixNanos,
    /// Time the strategy learns of it.
    pub ts_recv: UnixNanos,
}

/// What happened to an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderEventKind {
    /// Refused by the risk chain before leaving.
    Denied(RejectReason),
    /// Sent to the venue.
    Submitted,
    /// Working at the venue.
    Accepted(VenueOrderId),
    /// Refused by the venue.
    Rejected(RejectReason),
    /// A cancel was sent.
    PendingCancel,
    /// Canceled.
    Canceled,
    /// A cancel was refused; the order keeps its state.
    CancelRejected(RejectReason),
    /// An amend was sent.
    PendingReplace,
    /// Amended: the new price and total quantity (the venue keeps the filled part).
    Replaced {
        /// New limit price.
        price: Price,
        /// New total quantity.
        quantity: Quantity,
    },
    /// An amend was refused; the order keeps its price and quantity.
    ReplaceRejected(RejectReason),
    /// A stop order's trigger traded.
    Triggered,
    /// Ended by its time in force without (complete) fill.
    Expired,
    /// A fill (part or all).
    Filled(Fill),
}

/// An [`OrderEventKind`] with its order and times.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OrderEvent {
    /// The order.
    pub client_id: ClientOrderId,
    /// The instrument.
    pub instrument: InstrumentIndex,
    /// What happened.
    pub kind: OrderEventKind,
    /// When it happened at the venue (or in the risk chain, for `Denied`).
    pub ts_event: UnixNanos,
    /// When the strategy learns of it.
    pub ts_recv: UnixNanos,
}
