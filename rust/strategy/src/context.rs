//! [`Context`]: what a strategy can see and do. The backtester and the live engine each implement it.

use ferrotrade_book::OrderBook;
use ferrotrade_model::{ClientOrderId, FeeRate, Instrument, InstrumentIndex, OrderRequest, Price, Quantity, UnixNanos};
use ferrotrade_oms::{Order, ParentId, PnlSnapshot, Position};

use crate::algo::{AlgoOrder, AlgoRefusal, AlgoView};

/// A strategy's name for one of its timers, returned to it in `on_timer`.
pub type TimerId = u64;

/// The strategy's view of the market and its account, and its only way to act.
///
/// Orders are asynchronous: `submit`, `cancel` and `amend` return at once; outcomes (including risk
/// denials) arrive later as `on_order`/`on_fill`. Methods that take an instrument index panic-free return a
/// neutral value for an index the engine does not know (an empty book, a flat position).
pub trait Context {
    /// The strategy's local time: the receive time of the event being handled.
    fn now(&self) -> UnixNanos;

    /// The instrument table; an [`InstrumentIndex`] indexes it.
    fn instruments(&self) -> &[Instrument];

    /// The index of `venue.SYMBOL` (`"binance-usdm.BTCUSDT"`), if the run has it.
    fn instrument_index(&self, name: &str) -> Option<InstrumentIndex>;

    /// The local book of `instrument` as of `now()`.
    fn book(&self, instrument: InstrumentIndex) -> &OrderBook;

    /// Whether the book is synced (a strategy must not trade on an unsynced book).
    fn is_synced(&self, instrument: InstrumentIndex) -> bool;

    /// The position in `instrument` (from fills received so far).
    fn position(&self, instrument: InstrumentIndex) -> Position;

    /// Account PnL at the current marks.
    fn pnl(&self) -> PnlSnapshot;

    /// One of this strategy's orders.
    fn order(&self, id: ClientOrderId) -> Option<Order>;

    /// Number of this strategy's open orders in `instrument`.
    fn open_order_count(&self, instrument: InstrumentIndex) -> usize;

    /// Appends the ids of this strategy's open orders in `instrument` to `out` (so a caller can reuse its
    /// buffer and allocate nothing).
    fn open_orders(&self, instrument: InstrumentIndex, out: &mut Vec<ClientOrderId>);

    /// Sends an order through the risk chain to the venue; returns its client id at once.
    fn submit(&mut self, request: OrderRequest) -> ClientOrderId;

    /// Asks the venue to cancel an order.
    fn cancel(&mut self, id: ClientOrderId);

    /// Asks the venue to change an order's price and total quantity.
    fn amend(&mut self, id: ClientOrderId, price: Price, quantity: Quantity);

    /// Cancels every open order of this strategy (in `instrument`, or everywhere).
    fn cancel_all(&mut self, instrument: Option<InstrumentIndex>);

    /// Calls `on_timer(timer)` at local time `at`, then every `interval_ns` after it when `interval_ns > 0`.
    /// Setting an existing `timer` again replaces it.
    fn set_timer(&mut self, timer: TimerId, at: UnixNanos, interval_ns: u64);

    /// Cancels a timer (nothing happens when it is not set).
    fn cancel_timer(&mut self, timer: TimerId);

    /// Publishes a named value (a model's prediction, a fair value) to the monitoring bus as
    /// `signal.<strategy>.<name>`, when the engine runs one; `name` is at most 32 bytes. Returns whether it
    /// was published. Signals never change what the engine does; the default (backtests) publishes nothing.
    fn publish_signal(&mut self, name: &str, instrument: Option<InstrumentIndex>, value: f64) -> bool {
        let _ = (name, instrument, value);
        false
    }

    /// Publishes a parent order as it stands to the monitoring bus (`parent.<strategy>`), when the engine
    /// runs one: the algorithms' host calls it when a parent is accepted and at every status change.
    /// Returns whether it was published; the default (backtests) publishes nothing.
    fn publish_algo(&mut self, view: &AlgoView) -> bool {
        let _ = view;
        false
    }

    /// The maker and taker fee rates of `instrument`, when the engine knows them (the simulated venue's,
    /// or the configuration's in live runs). Routing uses the taker rate.
    fn fee_rates(&self, instrument: InstrumentIndex) -> Option<(FeeRate, FeeRate)> {
        let _ = instrument;
        None
    }

    /// Starts an execution algorithm ([`crate::algo`]): checks `order` and returns its parent id, or
    /// refuses it with a reason when it cannot be executed as asked. Only strategies whose
    /// [`Strategy::uses_algos`](crate::Strategy::uses_algos) is true have algorithms.
    ///
    /// # Errors
    /// [`AlgoRefusal`]: the key at fault and why.
    fn submit_algo(&mut self, order: &AlgoOrder) -> Result<ParentId, AlgoRefusal> {
        let _ = order;
        Err(AlgoRefusal::new("", "this strategy has no execution algorithms: its `uses_algos()` returns false"))
    }

    /// One of this strategy's parent orders.
    fn algo(&self, id: ParentId) -> Option<AlgoView> {
        let _ = id;
        None
    }

    /// Pauses a parent: its children are canceled and nothing is sent until it is resumed. Returns
    /// whether the parent could be paused (not when it is done or already closing).
    fn pause_algo(&mut self, id: ParentId) -> bool {
        let _ = id;
        false
    }

    /// Resumes a paused parent. Returns whether it was paused.
    fn resume_algo(&mut self, id: ParentId) -> bool {
        let _ = id;
        false
    }

    /// Cancels a parent: its children are canceled, then it ends `Canceled` (what filled stays filled).
    /// Returns whether it was still active.
    fn cancel_algo(&mut self, id: ParentId) -> bool {
        let _ = id;
        false
    }
}
