//! [`LiveContext`]: the [`Context`] a strategy acts through in live and paper runs.
//!
//! Reads come from the core (books, OMS, portfolios); actions go through the core's order path
//! ([`LiveCore::submit`] runs the risk chain and hands the order to the gateway before returning, so the
//! order is on the wire when `submit` returns). The read side mirrors the backtester's context; see the
//! report for the proposal to share it.

use ferrotrade_book::OrderBook;
use ferrotrade_model::{ClientOrderId, Instrument, InstrumentIndex, OrderRequest, Price, Quantity, UnixNanos};
use ferrotrade_oms::{Order, PnlSnapshot, Position};
use ferrotrade_strategy::{Context, TimerId};

use super::core::LiveCore;

/// The context of one strategy during one callback.
pub(crate) struct LiveContext<'a> {
    pub core: &'a mut LiveCore,
    pub strategy: u16,
}

impl LiveContext<'_> {
    /// The ids of this strategy's own open orders in `instrument`, ascending.
    fn own_open(&self, instrument: InstrumentIndex) -> impl Iterator<Item = ClientOrderId> + '_ {
        self.core.store.open(instrument).iter().copied().filter(|id| self.core.owner_of(*id) == Some(self.strategy))
    }
}

impl Context for LiveContext<'_> {
    fn now(&self) -> UnixNanos {
        self.core.now
    }

    fn instruments(&self) -> &[Instrument] {
        &self.core.instruments
    }

    fn instrument_index(&self, name: &str) -> Option<InstrumentIndex> {
        self.core
            .names
            .iter()
            .position(|known| known.eq_ignore_ascii_case(name))
            .map(|index| InstrumentIndex(index as u32))
    }

    fn book(&self, instrument: InstrumentIndex) -> &OrderBook {
        static EMPTY: std::sync::OnceLock<OrderBook> = std::sync::OnceLock::new();
        self.core.books.get(instrument.get()).unwrap_or_else(|| EMPTY.get_or_init(|| OrderBook::with_window(64)))
    }

    fn is_synced(&self, instrument: InstrumentIndex) -> bool {
        self.core.synced.get(instrument.get()).copied().unwrap_or(false)
            && self.core.books.get(instrument.get()).is_some_and(|book| !book.is_crossed())
    }

    fn position(&self, instrument: InstrumentIndex) -> Position {
        self.core.portfolios[usize::from(self.strategy)].position(instrument)
    }

    fn pnl(&self) -> PnlSnapshot {
        self.core.portfolios[usize::from(self.strategy)].pnl(&self.core.marks())
    }

    fn order(&self, id: ClientOrderId) -> Option<Order> {
        (self.core.owner_of(id) == Some(self.strategy)).then(|| self.core.store.get(id).copied()).flatten()
    }

    fn open_order_count(&self, instrument: InstrumentIndex) -> usize {
        self.own_open(instrument).count()
    }

    fn open_orders(&self, instrument: InstrumentIndex, out: &mut Vec<ClientOrderId>) {
        out.extend(self.own_open(instrument));
    }

    fn submit(&mut self, request: OrderRequest) -> ClientOrderId {
        self.core.submit(self.strategy, request)
    }

    fn cancel(&mut self, id: ClientOrderId) {
        self.core.cancel(self.strategy, id);
    }

    fn amend(&mut self, id: ClientOrderId, price: Price, quantity: Quantity) {
        self.core.amend(self.strategy, id, price, quantity);
    }

    fn cancel_all(&mut self, instrument: Option<InstrumentIndex>) {
        self.core.cancel_all(self.strategy, instrument);
    }

    fn set_timer(&mut self, timer: TimerId, at: UnixNanos, interval_ns: u64) {
        self.core.set_timer(self.strategy, timer, at, interval_ns);
    }

    fn cancel_timer(&mut self, timer: TimerId) {
        if let Some(timers) = self.core.timer_generations.get_mut(usize::from(self.strategy)) {
            timers.remove(&timer);
        }
    }

    fn publish_signal(&mut self, name: &str, instrument: Option<InstrumentIndex>, value: f64) -> bool {
        self.core.publish_signal(self.strategy, name, instrument, value)
    }

    fn publish_algo(&mut self, view: &ferrotrade_strategy::algo::AlgoView) -> bool {
        self.core.publish_parent(self.strategy, view)
    }

    fn fee_rates(&self, instrument: InstrumentIndex) -> Option<(ferrotrade_model::FeeRate, ferrotrade_model::FeeRate)> {
        self.core.fees.get(instrument.get()).copied()
    }
}
