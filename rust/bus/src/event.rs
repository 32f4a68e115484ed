//! The values the engine thread hands to the bus: small, `Copy` where it matters, and cheap to build.
//!
//! They name instruments and strategies by index; the publisher thread turns indexes into names
//! ([`crate::Names`]) and values into protobuf. Prices and sizes stay fixed-point mantissas end to end.

use ferrotrade_model::{
    ClientOrderId, Fill, InstrumentIndex, Level, Money, OrderEvent, OrderRequest, OrderSide, OrderStatus, Quantity,
    Quote, RejectReason, Trade, UnixNanos,
};

use crate::proto;

/// Levels per side a book summary can hold.
pub const MAX_BOOK_DEPTH: usize = 20;

/// The strategy index of orders no strategy owns (adopted from the venue, or the engine's own: a kill's
/// flattening orders). Published with an empty strategy name.
pub const NO_STRATEGY: u16 = u16::MAX;

/// The top of a book after a venue message (best first; `bid_count`/`ask_count` levels are valid).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BookTop {
    /// The instrument.
    pub instrument: InstrumentIndex,
    /// Venue time of the message the book stands at.
    pub ts_event: UnixNanos,
    /// Local receive time of that message.
    pub ts_recv: UnixNanos,
    /// The venue's update id (0 if unknown).
    pub update_id: u64,
    /// Whether the feed reports the book synced.
    pub synced: bool,
    /// Valid bid levels.
    pub bid_count: u8,
    /// Valid ask levels.
    pub ask_count: u8,
    /// Bids, best first.
    pub bids: [Level; MAX_BOOK_DEPTH],
    /// Asks, best first.
    pub asks: [Level; MAX_BOOK_DEPTH],
}

impl BookTop {
    /// An empty summary of `instrument`, to fill level by level.
    #[must_use]
    pub fn empty(instrument: InstrumentIndex) -> BookTop {
        BookTop {
            instrument,
            ts_event: UnixNanos(0),
            ts_recv: UnixNanos(0),
            update_id: 0,
            synced: false,
            bid_count: 0,
            ask_count: 0,
            bids: [Level::default(); MAX_BOOK_DEPTH],
            asks: [Level::default(); MAX_BOOK_DEPTH],
        }
    }

    /// Fills one side from `levels` (best first), keeping at most [`MAX_BOOK_DEPTH`].
    pub fn set_side(&mut self, bids: bool, levels: impl Iterator<Item = Level>) {
        let (slots, count) =
            if bids { (&mut self.bids, &mut self.bid_count) } else { (&mut self.asks, &mut self.ask_count) };
        let mut filled = 0;
        for (slot, level) in slots.iter_mut().zip(levels) {
            *slot = level;
            filled += 1;
        }
        *count = filled;
    }
}

/// A market summary: may be dropped (oldest first) when subscribers fall behind.
///
/// The book variant is large on purpose: a queue slot holds the levels inline, so publishing a summary
/// copies them and allocates nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)]
pub enum MarketEvent {
    /// Top of book (conflated at the source to `book_rate_hz`).
    Book(BookTop),
    /// Best bid and offer changed (conflated with the book).
    Quote {
        /// The instrument.
        instrument: InstrumentIndex,
        /// The quote.
        quote: Quote,
    },
    /// A trade the feed delivered.
    Trade {
        /// The instrument.
        instrument: InstrumentIndex,
        /// The trade.
        trade: Trade,
    },
}

/// Account figures in the settlement currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PnlValues {
    /// Initial equity + realized + unrealized - fees + funding.
    pub equity: Money,
    /// Realized PnL.
    pub realized: Money,
    /// Unrealized PnL at the local marks.
    pub unrealized: Money,
    /// Fees paid (negative: rebates).
    pub fees: Money,
    /// Funding received (negative: paid).
    pub funding: Money,
}

/// A signal's name, held inline (at most 32 bytes of UTF-8) so publishing one does not allocate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignalName {
    bytes: [u8; 32],
    len: u8,
}

impl SignalName {
    /// `name` if it fits in 32 bytes.
    #[must_use]
    pub fn new(name: &str) -> Option<SignalName> {
        if name.len() > 32 {
            return None;
        }
        let mut bytes = [0; 32];
        bytes[..name.len()].copy_from_slice(name.as_bytes());
        Some(SignalName { bytes, len: name.len() as u8 })
    }

    /// The name.
    #[must_use]
    pub fn as_str(&self) -> &str {
        // Built from a &str and cut at its own length: always valid UTF-8.
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or_default()
    }
}

/// An event the bus never drops: orders, fills, positions, PnL, risk, signals and the engine's health.
#[derive(Debug, Clone, PartialEq)]
pub enum EngineEvent {
    /// An order event the OMS applied (or a risk denial), with the order after it.
    Order {
        /// Owner (index into the strategies, or [`NO_STRATEGY`]).
        strategy: u16,
        /// The event.
        event: OrderEvent,
        /// The order's request (side, type, price and quantity after amends).
        request: OrderRequest,
        /// The order's status after the event.
        status: OrderStatus,
        /// Filled so far.
        filled: Quantity,
    },
    /// A fill, counted once.
    Fill {
        /// Owner.
        strategy: u16,
        /// The fill.
        fill: Fill,
    },
    /// A position after a fill (`strategy` = [`NO_STRATEGY`]: the account's).
    Position {
        /// Owner, or the account.
        strategy: u16,
        /// The instrument.
        instrument: InstrumentIndex,
        /// Signed quantity.
        quantity: Quantity,
        /// Signed entry value of the open quantity.
        entry_value: Money,
        /// Realized PnL on the instrument.
        realized: Money,
        /// Fees paid on the instrument.
        fees: Money,
        /// Engine time.
        ts: UnixNanos,
    },
    /// PnL after a fill (`strategy` = [`NO_STRATEGY`]: the account's).
    Pnl {
        /// Owner, or the account.
        strategy: u16,
        /// The figures.
        pnl: PnlValues,
        /// Engine time.
        ts: UnixNanos,
    },
    /// The risk chain refused an order.
    Rejection {
        /// Owner.
        strategy: u16,
        /// The instrument.
        instrument: InstrumentIndex,
        /// The refused order.
        client_id: ClientOrderId,
        /// Why.
        reason: RejectReason,
        /// Engine time.
        ts: UnixNanos,
    },
    /// The trading state changed.
    StateChange {
        /// State before.
        from: proto::TradingState,
        /// State after.
        to: proto::TradingState,
        /// Why.
        reason: &'static str,
        /// Engine time.
        ts: UnixNanos,
    },
    /// A strategy's signal.
    Signal {
        /// Owner.
        strategy: u16,
        /// Its name.
        name: SignalName,
        /// The instrument it is about, if any.
        instrument: Option<InstrumentIndex>,
        /// The value.
        value: f64,
        /// Engine time.
        ts: UnixNanos,
    },
    /// The engine is alive, in this state.
    Heartbeat {
        /// Trading state now.
        state: proto::TradingState,
        /// Engine time.
        ts: UnixNanos,
    },
    /// The engine's figures (built once per metrics period, off the hot path).
    Metrics(Box<proto::Metrics>),
    /// A parent order of an execution algorithm was accepted or changed status (rare: boxed).
    Parent(Box<ParentUpdate>),
}

/// A parent order's state, as published on `parent.<strategy>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParentUpdate {
    /// Owner.
    pub strategy: u16,
    /// Its id (dense per strategy, from 1).
    pub parent_id: u64,
    /// The algorithm (`"twap"`).
    pub algo: &'static str,
    /// The primary instrument.
    pub instrument: InstrumentIndex,
    /// Buy or sell.
    pub side: OrderSide,
    /// Status now.
    pub status: proto::ParentStatus,
    /// Quantity and filled quantity, mantissas at `size_precision` decimals.
    pub quantity: Quantity,
    /// Filled so far.
    pub filled: Quantity,
    /// Decimals of the two quantities.
    pub size_precision: u8,
    /// Children sent so far.
    pub children: u32,
    /// Why it failed or expired.
    pub reason: Option<String>,
    /// Engine time.
    pub ts: UnixNanos,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The slot sizes the queue bounds of `BusConfig::validate` are computed from.
    #[test]
    fn slot_sizes_stay_as_budgeted() {
        assert!(std::mem::size_of::<MarketEvent>() <= 704, "{}", std::mem::size_of::<MarketEvent>());
        assert!(std::mem::size_of::<EngineEvent>() <= 192, "{}", std::mem::size_of::<EngineEvent>());
    }
}
