//! What the algorithms leave for the report: one [`ParentRecord`] per parent order and one
//! [`ChildRecord`] per child sent. Engines collect them at the end of a run
//! ([`Strategy::take_algo_records`](crate::Strategy::take_algo_records)); the fills table joins the
//! children on the client id for the fill timeline.

use ferrotrade_model::{ClientOrderId, InstrumentIndex, Money, OrderSide, Price, Quantity, UnixNanos};
use ferrotrade_oms::{ParentId, ParentStatus};

use super::order::AlgoKind;

/// A parent order as it ended (or as it stood when the run ended).
#[derive(Debug, Clone, PartialEq)]
pub struct ParentRecord {
    /// Its id.
    pub id: ParentId,
    /// The algorithm.
    pub algo: AlgoKind,
    /// The primary instrument (its units are the parent's).
    pub instrument: InstrumentIndex,
    /// Buy or sell.
    pub side: OrderSide,
    /// The quantity asked.
    pub quantity: Quantity,
    /// The quantity filled (parent units).
    pub filled: Quantity,
    /// Decimals of `quantity` and `filled`: the instrument's size precision, or for a routed parent the
    /// finest of its venues'.
    pub size_precision: u8,
    /// The price limit, if any.
    pub limit_price: Option<Price>,
    /// When it was accepted.
    pub accepted_at: UnixNanos,
    /// Its start and end times (end `None` when open-ended).
    pub start: UnixNanos,
    /// End time asked.
    pub end: Option<UnixNanos>,
    /// When it reached its final status (`None`: still active when the run ended).
    pub finished_at: Option<UnixNanos>,
    /// Final status.
    pub status: ParentStatus,
    /// Why it ended the way it did (a denial, a rejection, an expiry), if not simply completed.
    pub reason: Option<String>,
    /// The mid when accepted.
    pub arrival_price: f64,
    /// Average fill price over all its children (`None` without fills).
    pub average_price: Option<f64>,
    /// Market volume printed on its instruments while it was active (instrument units, as a float; `None`
    /// when the strategy does not receive trades).
    pub market_volume: Option<f64>,
    /// VWAP of those prints.
    pub market_vwap: Option<f64>,
    /// Fees of its fills.
    pub fees: Money,
    /// Children sent.
    pub children: u32,
    /// Child fills.
    pub fills: u32,
}

/// One child order of a parent.
#[derive(Debug, Clone, PartialEq)]
pub struct ChildRecord {
    /// The parent.
    pub parent: ParentId,
    /// The child's client id (the fills table's `client_id`).
    pub client_id: ClientOrderId,
    /// Its instrument (routed parents trade several).
    pub instrument: InstrumentIndex,
    /// When it was sent.
    pub sent_at: UnixNanos,
    /// Its quantity (instrument units).
    pub quantity: Quantity,
    /// Its limit price (zero for a market order).
    pub price: Price,
    /// Why it was sent (`"slice 3/10"`, a routing decision).
    pub note: String,
}

/// Everything one strategy's algorithms recorded.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AlgoRecords {
    /// Parents, in the order they were accepted.
    pub parents: Vec<ParentRecord>,
    /// Children, in the order they were sent.
    pub children: Vec<ChildRecord>,
}
