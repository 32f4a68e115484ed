//! What a run leaves behind for the report: fills, equity samples, risk events and counters.
//!
//! Records are plain `Copy` structs appended to `Vec`s (amortized O(1), no per-record allocation); the
//! Python layer turns them into Arrow columns once the run is over. Orders are not copied here: the OMS
//! order store keeps every order of the run and is read at the end.

use ferrotrade_model::{
    ClientOrderId, InstrumentIndex, Liquidity, Money, OrderSide, Price, Quantity, UnixNanos, VenueOrderId,
};
use ferrotrade_risk::RiskEvent;

/// One fill as the strategy received it, with the accounting it caused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FillRecord {
    /// Venue time.
    pub ts_event: UnixNanos,
    /// Time the strategy received it.
    pub ts_recv: UnixNanos,
    /// Index of the strategy in the run.
    pub strategy: u16,
    /// The instrument.
    pub instrument: InstrumentIndex,
    /// The order.
    pub client_id: ClientOrderId,
    /// The simulated venue's id of the order.
    pub venue_order_id: VenueOrderId,
    /// Venue trade id.
    pub trade_id: u64,
    /// Side of the order.
    pub side: OrderSide,
    /// Price.
    pub price: Price,
    /// Size.
    pub quantity: Quantity,
    /// Fee (negative: rebate).
    pub fee: Money,
    /// Maker or taker.
    pub liquidity: Liquidity,
    /// PnL this fill realized (before fees).
    pub realized_pnl: Money,
    /// The strategy's position in the instrument after the fill.
    pub position: Quantity,
}

/// One point of the account's equity curve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EquitySample {
    /// Local time.
    pub ts: UnixNanos,
    /// Equity.
    pub equity: Money,
    /// Realized PnL so far.
    pub realized: Money,
    /// Unrealized PnL at the local mid.
    pub unrealized: Money,
    /// Fees so far.
    pub fees: Money,
    /// Funding so far.
    pub funding: Money,
}

/// Counters of one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RunStats {
    /// Rows replayed (every kind).
    pub events: u64,
    /// Book rows.
    pub book_rows: u64,
    /// Trade rows.
    pub trades: u64,
    /// Bars.
    pub bars: u64,
    /// Mark updates.
    pub marks: u64,
    /// Strategy callbacks made.
    pub callbacks: u64,
    /// Orders submitted by strategies (including denied ones).
    pub orders: u64,
    /// Orders denied by the risk chain.
    pub denied: u64,
    /// Funding payments applied.
    pub funding_payments: u64,
    /// Local time of the first event.
    pub first_ts: UnixNanos,
    /// Local time of the last event.
    pub last_ts: UnixNanos,
}

/// Everything a run recorded.
#[derive(Debug, Clone, Default)]
pub struct Records {
    /// Fills in the order strategies received them.
    pub fills: Vec<FillRecord>,
    /// The equity curve (every `sample_interval` and after every fill).
    pub equity: Vec<EquitySample>,
    /// Trading-state changes of the risk chain.
    pub risk_events: Vec<RiskEvent>,
    /// Counters.
    pub stats: RunStats,
}
