//! The engine state a strategy acts on, and the [`Context`] implementation over it.
//!
//! [`Core`] owns everything except the strategies: local books, simulated venues, the OMS, the portfolios,
//! the risk chain, the in-flight messages and the timers. Keeping the strategies outside lets a callback
//! borrow its strategy mutably while [`Ctx`] borrows the core. Order events a callback causes are queued in
//! `outbox` and delivered by the loop after the callback returns, so callbacks never nest.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, VecDeque};

use ferrotrade_book::OrderBook;
use ferrotrade_model::{
    ClientOrderId, Instrument, InstrumentIndex, MarkPrice, Money, OrderEvent, OrderEventKind, OrderRequest, Price,
    Quantity, RejectReason, UnixNanos,
};
use ferrotrade_oms::{Applied, Order, OrderStore, PnlSnapshot, Portfolio, Position, contract_value};
use ferrotrade_risk::{OrderCheck, RiskEngine};
use ferrotrade_strategy::{Context, StrategyError, TimerId};

use crate::engine::records::{EquitySample, Records};
use crate::funding::FundingTracker;
use crate::latency::LatencyModel;
use crate::venue::SimVenue;

/// An order action travelling to a venue.
#[derive(Debug, Clone, Copy)]
pub(crate) enum VenueAction {
    Submit(OrderRequest),
    Cancel,
    Amend { price: Price, quantity: Quantity },
}

/// A message in flight, ordered by arrival time then by sending order.
#[derive(Debug, Clone, Copy)]
pub(crate) struct InFlight<T> {
    pub at: u64,
    pub seq: u64,
    pub payload: T,
}

impl<T> PartialEq for InFlight<T> {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl<T> Eq for InFlight<T> {}
impl<T> PartialOrd for InFlight<T> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl<T> Ord for InFlight<T> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

/// An action for the venue of `instrument` about order `client_id`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ToVenue {
    pub instrument: InstrumentIndex,
    pub client_id: ClientOrderId,
    pub action: VenueAction,
}

/// A timer due at `InFlight::at`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TimerFire {
    pub strategy: u16,
    pub timer: TimerId,
    pub interval_ns: u64,
    pub generation: u64,
}

/// A min-heap of in-flight items.
pub(crate) type Queue<T> = BinaryHeap<Reverse<InFlight<T>>>;

/// The state of a run, minus the strategies.
pub(crate) struct Core {
    pub now: UnixNanos,
    pub instruments: Vec<Instrument>,
    pub names: Vec<String>,
    pub books: Vec<OrderBook>,
    pub venues: Vec<SimVenue>,
    pub store: OrderStore,
    pub first_client_id: u64,
    /// Owner strategy of each order, indexed by `client_id - first_client_id`.
    pub owner: Vec<u16>,
    pub account: Portfolio,
    pub portfolios: Vec<Portfolio>,
    pub risk: RiskEngine,
    pub latency: LatencyModel,
    pub to_venue: Queue<ToVenue>,
    pub to_local: Queue<OrderEvent>,
    pub timers: Queue<TimerFire>,
    pub timer_generations: Vec<BTreeMap<TimerId, u64>>,
    pub outbox: VecDeque<(u16, OrderEvent)>,
    pub venue_out: Vec<OrderEvent>,
    pub seq: u64,
    /// Arrival time of the last message sent to a venue / to the strategies (connections keep order).
    pub last_to_venue: u64,
    pub last_to_local: u64,
    /// A misuse of the context by a strategy (unknown instrument, someone else's order): stops the run.
    pub fault: Option<StrategyError>,
    pub marks: Vec<Option<(Price, u8)>>,
    /// Last bar close per instrument: the mark of bar-only data.
    pub bar_close: Vec<Option<Price>>,
    /// Funding per strategy (outer) and instrument (inner): each strategy is paid on its own position.
    pub funding: Vec<Vec<FundingTracker>>,
    pub records: Records,
}

impl Core {
    fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    pub fn owner_of(&self, id: ClientOrderId) -> Option<u16> {
        let offset = id.0.checked_sub(self.first_client_id)?;
        self.owner.get(usize::try_from(offset).ok()?).copied()
    }

    fn instrument_ok(&mut self, instrument: InstrumentIndex, what: &str) -> bool {
        if instrument.get() < self.instruments.len() {
            return true;
        }
        self.fault.get_or_insert_with(|| {
            StrategyError::new(format!(
                "{what}: unknown instrument index {} (the run has {})",
                instrument.0,
                self.instruments.len()
            ))
        });
        false
    }

    /// Sends an action to a venue, arriving after the entry latency and never before an earlier one.
    fn send_to_venue(&mut self, instrument: InstrumentIndex, client_id: ClientOrderId, action: VenueAction) {
        let at = (self.now.0 + self.latency.entry()).max(self.last_to_venue);
        self.last_to_venue = at;
        let seq = self.next_seq();
        self.to_venue.push(Reverse(InFlight { at, seq, payload: ToVenue { instrument, client_id, action } }));
    }

    /// Queues the venue's answers (in `venue_out`) towards the strategies, after the response latency.
    pub fn forward_venue_events(&mut self) {
        let mut events = std::mem::take(&mut self.venue_out);
        for mut event in events.drain(..) {
            let at = (event.ts_event.0 + self.latency.response()).max(self.last_to_local);
            self.last_to_local = at;
            event.ts_recv = UnixNanos(at);
            let seq = self.next_seq();
            self.to_local.push(Reverse(InFlight { at, seq, payload: event }));
        }
        self.venue_out = events;
    }

    /// An action arrives at its venue.
    pub fn arrive_at_venue(&mut self, message: ToVenue) {
        let now = self.now;
        let mut out = std::mem::take(&mut self.venue_out);
        if let Some(venue) = self.venues.get_mut(message.instrument.get()) {
            match message.action {
                VenueAction::Submit(request) => venue.submit(now, message.client_id, &request, &mut out),
                VenueAction::Cancel => venue.cancel(now, message.client_id, &mut out),
                VenueAction::Amend { price, quantity } => {
                    venue.amend(now, message.client_id, price, quantity, &mut out);
                }
            }
        }
        self.venue_out = out;
        self.forward_venue_events();
    }

    /// A local event for `strategy` at the current time (risk denials, refusals known locally).
    fn local_event(
        &mut self,
        strategy: u16,
        client_id: ClientOrderId,
        instrument: InstrumentIndex,
        kind: OrderEventKind,
    ) {
        let event = OrderEvent { client_id, instrument, kind, ts_event: self.now, ts_recv: self.now };
        self.outbox.push_back((strategy, event));
    }

    /// The mark of an instrument: the local mid (exact, at one extra decimal), else the last bar close.
    pub fn mark(&self, index: usize) -> Option<(Price, u8)> {
        let precision = self.instruments[index].price_precision;
        match self.books[index].mid_x2() {
            Some(mid_x2) => Some((Price(mid_x2.0.saturating_mul(5)), precision + 1)),
            None => self.bar_close[index].map(|close| (close, precision)),
        }
    }

    /// Marks of every instrument, for PnL.
    pub fn refresh_marks(&mut self) {
        for index in 0..self.instruments.len() {
            self.marks[index] = self.mark(index);
        }
    }

    /// Applies the funding `mark` settles, to every strategy holding `instrument` and to the account.
    pub fn apply_funding(&mut self, instrument: InstrumentIndex, mark: &MarkPrice) {
        let index = instrument.get();
        for strategy in 0..self.portfolios.len() {
            let tracker = &mut self.funding[strategy][index];
            tracker.on_mark(mark);
            let position = self.portfolios[strategy].position(instrument).quantity;
            if let Some(amount) = tracker.due(self.now, position, &self.instruments[index]) {
                self.portfolios[strategy].apply_funding(instrument, amount);
                self.account.apply_funding(instrument, amount);
                self.records.stats.funding_payments += 1;
            }
        }
    }

    /// |position| x mark of `instrument` in the settlement currency (zero without a mark).
    fn exposure(&self, index: usize, quantity: Quantity) -> Money {
        let Some((mark, precision)) = self.mark(index) else { return Money::ZERO };
        contract_value(&self.instruments[index], mark, precision, Quantity(quantity.0.abs()))
    }

    pub fn submit(&mut self, strategy: u16, request: OrderRequest) -> ClientOrderId {
        if !self.instrument_ok(request.instrument, "submit") {
            return ClientOrderId(0);
        }
        self.records.stats.orders += 1;
        let now = self.now;
        let client_id = self.store.create(request, now);
        self.owner.push(strategy);
        let index = request.instrument.get();
        let position = self.account.position(request.instrument).quantity;
        let (open_buy, open_sell) = self.store.open_exposure(request.instrument);
        let instrument_notional = self.exposure(index, position);
        let total_notional = (0..self.instruments.len())
            .map(|other| self.exposure(other, self.account.position(InstrumentIndex(other as u32)).quantity))
            .fold(Money::ZERO, |sum, value| sum + value);
        let check = OrderCheck {
            now,
            request,
            // Bar-only data has no book: twice the last close stands in for the mid.
            mid_x2: self.books[index]
                .mid_x2()
                .or_else(|| self.bar_close[index].map(|close| Price(close.0.saturating_mul(2)))),
            position,
            open_buy,
            open_sell,
            total_notional,
            instrument_notional,
        };
        let kind = match self.risk.check(&check) {
            Err(reason) => {
                self.records.stats.denied += 1;
                OrderEventKind::Denied(reason)
            }
            Ok(()) => OrderEventKind::Submitted,
        };
        let event = OrderEvent { client_id, instrument: request.instrument, kind, ts_event: now, ts_recv: now };
        if let Err(error) = self.store.apply(&event) {
            self.fault.get_or_insert_with(|| StrategyError::new(format!("submit: {error}")));
            return client_id;
        }
        match kind {
            OrderEventKind::Denied(_) => self.outbox.push_back((strategy, event)),
            _ => self.send_to_venue(request.instrument, client_id, VenueAction::Submit(request)),
        }
        client_id
    }

    /// The order if `strategy` owns it; a fault otherwise.
    fn owned_order(&mut self, strategy: u16, id: ClientOrderId, what: &str) -> Option<Order> {
        match (self.owner_of(id), self.store.get(id)) {
            (Some(owner), Some(order)) if owner == strategy => Some(*order),
            _ => {
                self.fault
                    .get_or_insert_with(|| StrategyError::new(format!("{what}: order {id} is not this strategy's")));
                None
            }
        }
    }

    pub fn cancel(&mut self, strategy: u16, id: ClientOrderId) {
        let Some(order) = self.owned_order(strategy, id, "cancel") else { return };
        let instrument = order.request.instrument;
        if order.status.is_terminal() {
            self.local_event(strategy, id, instrument, OrderEventKind::CancelRejected(RejectReason::UnknownOrder));
            return;
        }
        if matches!(order.status, ferrotrade_model::OrderStatus::PendingCancel) {
            return;
        }
        let event = OrderEvent {
            client_id: id,
            instrument,
            kind: OrderEventKind::PendingCancel,
            ts_event: self.now,
            ts_recv: self.now,
        };
        if self.store.apply(&event).is_ok() {
            self.send_to_venue(instrument, id, VenueAction::Cancel);
        }
    }

    pub fn amend(&mut self, strategy: u16, id: ClientOrderId, price: Price, quantity: Quantity) {
        let Some(order) = self.owned_order(strategy, id, "amend") else { return };
        let instrument = order.request.instrument;
        if order.status.is_terminal() {
            self.local_event(strategy, id, instrument, OrderEventKind::ReplaceRejected(RejectReason::UnknownOrder));
            return;
        }
        let event = OrderEvent {
            client_id: id,
            instrument,
            kind: OrderEventKind::PendingReplace,
            ts_event: self.now,
            ts_recv: self.now,
        };
        match self.store.apply(&event) {
            Ok(_) => self.send_to_venue(instrument, id, VenueAction::Amend { price, quantity }),
            // An order already pending a cancel or another amend: refused locally, as a venue would.
            Err(_) => {
                self.local_event(strategy, id, instrument, OrderEventKind::ReplaceRejected(RejectReason::InvalidAmend))
            }
        }
    }

    /// A venue answer reaches the strategies: the OMS and the portfolios take it, then it is queued for
    /// delivery. Returns `Err` on an illegal transition (a bug in the venue or the OMS, never ignored).
    pub fn arrive_locally(&mut self, event: OrderEvent) -> Result<(), ferrotrade_oms::OrderStateError> {
        let Some(strategy) = self.owner_of(event.client_id) else { return Ok(()) };
        // A refusal of a cancel or amend that crossed a fill on the wire: the order is already done, the
        // answer changes nothing but the strategy still hears it.
        let terminal = self.store.get(event.client_id).is_some_and(|order| order.status.is_terminal());
        if terminal && matches!(event.kind, OrderEventKind::CancelRejected(_) | OrderEventKind::ReplaceRejected(_)) {
            self.outbox.push_back((strategy, event));
            return Ok(());
        }
        match self.store.apply(&event)? {
            Applied::DuplicateFill => {}
            Applied::Status(_) => self.outbox.push_back((strategy, event)),
            Applied::Fill { .. } => {
                if let OrderEventKind::Filled(fill) = event.kind {
                    self.account.apply_fill(&fill);
                    let portfolio = &mut self.portfolios[usize::from(strategy)];
                    let realized_pnl = portfolio.apply_fill(&fill);
                    let position = portfolio.position(fill.instrument).quantity;
                    self.records.fills.push(crate::engine::records::FillRecord {
                        ts_event: fill.ts_event,
                        ts_recv: event.ts_recv,
                        strategy,
                        instrument: fill.instrument,
                        client_id: fill.client_id,
                        venue_order_id: fill.venue_order_id,
                        trade_id: fill.trade_id,
                        side: fill.side,
                        price: fill.price,
                        quantity: fill.quantity,
                        fee: fill.fee,
                        liquidity: fill.liquidity,
                        realized_pnl,
                        position,
                    });
                    self.sample_equity();
                }
                self.outbox.push_back((strategy, event));
            }
        }
        Ok(())
    }

    /// The account's equity now, positions marked as for the equity curve.
    pub fn equity(&mut self) -> Money {
        self.refresh_marks();
        self.account.pnl(&self.marks).equity
    }

    /// Appends a point to the equity curve and lets the risk chain see the equity.
    pub fn sample_equity(&mut self) {
        self.refresh_marks();
        let pnl = self.account.pnl(&self.marks);
        self.records.equity.push(EquitySample {
            ts: self.now,
            equity: pnl.equity,
            realized: pnl.realized,
            unrealized: pnl.unrealized,
            fees: pnl.fees,
            funding: pnl.funding,
        });
        if let Some(event) = self.risk.on_equity(self.now, pnl.equity) {
            self.records.risk_events.push(event);
        }
    }

    pub fn set_timer(&mut self, strategy: u16, timer: TimerId, at: UnixNanos, interval_ns: u64) {
        let generation = self.next_seq();
        if let Some(timers) = self.timer_generations.get_mut(usize::from(strategy)) {
            timers.insert(timer, generation);
        }
        let at = at.0.max(self.now.0);
        let seq = self.next_seq();
        self.timers.push(Reverse(InFlight {
            at,
            seq,
            payload: TimerFire { strategy, timer, interval_ns, generation },
        }));
    }

    /// Whether a popped timer is still current; re-arms interval timers.
    pub fn timer_is_live(&mut self, fire: &TimerFire, at: u64) -> bool {
        let Some(timers) = self.timer_generations.get_mut(usize::from(fire.strategy)) else { return false };
        if timers.get(&fire.timer) != Some(&fire.generation) {
            return false;
        }
        if fire.interval_ns > 0 {
            let seq = self.next_seq();
            self.timers.push(Reverse(InFlight { at: at + fire.interval_ns, seq, payload: *fire }));
        } else {
            timers.remove(&fire.timer);
        }
        true
    }
}

/// The [`Context`] of one strategy during one callback.
pub(crate) struct Ctx<'a> {
    pub core: &'a mut Core,
    pub strategy: u16,
}

impl Ctx<'_> {
    /// The ids of this strategy's own open orders in `instrument`, ascending.
    fn own_open(&self, instrument: InstrumentIndex) -> impl Iterator<Item = ClientOrderId> + '_ {
        self.core.store.open(instrument).iter().copied().filter(|id| self.core.owner_of(*id) == Some(self.strategy))
    }
}

impl Context for Ctx<'_> {
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
        // The catalog holds the synced stream (ARCHITECTURE.md): a replayed book is synced unless crossed.
        self.core.books.get(instrument.get()).is_some_and(|book| !book.is_crossed())
    }

    fn position(&self, instrument: InstrumentIndex) -> Position {
        self.core.portfolios[usize::from(self.strategy)].position(instrument)
    }

    fn pnl(&self) -> PnlSnapshot {
        let marks: Vec<Option<(Price, u8)>> =
            (0..self.core.instruments.len()).map(|index| self.core.mark(index)).collect();
        self.core.portfolios[usize::from(self.strategy)].pnl(&marks)
    }

    fn order(&self, id: ClientOrderId) -> Option<Order> {
        (self.core.owner_of(id) == Some(self.strategy)).then(|| self.core.store.get(id).copied()).flatten()
    }

    fn open_order_count(&self, instrument: InstrumentIndex) -> usize {
        if self.core.strategies_share_nothing() {
            return self.core.store.open_count(instrument);
        }
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
        let mut ids = Vec::new();
        match instrument {
            Some(instrument) => self.open_orders(instrument, &mut ids),
            None => {
                for index in 0..self.core.instruments.len() {
                    self.open_orders(InstrumentIndex(index as u32), &mut ids);
                }
            }
        }
        for id in ids {
            self.core.cancel(self.strategy, id);
        }
    }

    fn set_timer(&mut self, timer: TimerId, at: UnixNanos, interval_ns: u64) {
        self.core.set_timer(self.strategy, timer, at, interval_ns);
    }

    fn cancel_timer(&mut self, timer: TimerId) {
        if let Some(timers) = self.core.timer_generations.get_mut(usize::from(self.strategy)) {
            timers.remove(&timer);
        }
    }

    fn fee_rates(&self, instrument: InstrumentIndex) -> Option<(ferrotrade_model::FeeRate, ferrotrade_model::FeeRate)> {
        self.core.venues.get(instrument.get()).map(SimVenue::fee_rates)
    }
}

impl Core {
    /// Whether only one strategy runs (then the OMS's per-instrument counts are the strategy's own).
    fn strategies_share_nothing(&self) -> bool {
        self.portfolios.len() == 1
    }
}
