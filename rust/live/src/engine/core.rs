//! [`LiveCore`]: the engine state a strategy acts on (books, OMS, portfolios, risk, gateways, journal,
//! timers), and the order path: strategy -> OMS -> risk -> journal -> gateway, and back.
//!
//! The strategies live outside the core so a callback can borrow its strategy mutably while its
//! [`LiveContext`](super::context::LiveContext) borrows the core. Events a callback causes (a risk denial)
//! are queued in `outbox` and delivered after it returns, so callbacks never nest.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, VecDeque};

use ferrotrade_book::OrderBook;
use ferrotrade_model::{
    ClientOrderId, Instrument, InstrumentIndex, Money, OrderEvent, OrderEventKind, OrderRequest, OrderStatus, Price,
    Quantity, RejectReason, UnixNanos, VenueOrderId,
};
use ferrotrade_oms::{Applied, Order, OrderStore, Portfolio, contract_value};
use ferrotrade_risk::{OrderCheck, RiskEngine};
use ferrotrade_strategy::TimerId;

use crate::LiveError;
use crate::clock::WallClock;
use crate::gateway::{Gateway, GatewayCommand};
use crate::journal::{Journal, JournalState, Replayed};
use crate::metrics::Metrics;
use crate::reconcile::VenueOrder;
use crate::report::Counters;

/// The owner of an order adopted from the venue: no strategy hears of it.
pub(crate) const NO_STRATEGY: u16 = u16::MAX;

/// A timer due at a wall time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct TimerFire {
    pub at: u64,
    pub seq: u64,
    pub strategy: u16,
    pub timer: TimerId,
    pub interval_ns: u64,
    pub generation: u64,
}

/// Everything but the strategies.
pub(crate) struct LiveCore {
    pub clock: WallClock,
    pub now: UnixNanos,
    pub instruments: Vec<Instrument>,
    /// Maker and taker fee rates per instrument, from the configuration (what routing ranks venues by).
    pub fees: Vec<(ferrotrade_model::FeeRate, ferrotrade_model::FeeRate)>,
    pub names: Vec<String>,
    pub books: Vec<OrderBook>,
    pub synced: Vec<bool>,
    pub store: OrderStore,
    pub first_client_id: u64,
    /// Owner strategy per order, indexed by `client_id - first_client_id`.
    pub owner: Vec<u16>,
    pub strategy_names: Vec<String>,
    pub account: Portfolio,
    pub portfolios: Vec<Portfolio>,
    pub risk: RiskEngine,
    pub gateways: Vec<Box<dyn Gateway>>,
    /// The gateway of each instrument.
    pub gateway_of: Vec<usize>,
    pub journal: Journal,
    pub outbox: VecDeque<(u16, OrderEvent)>,
    pub timers: BinaryHeap<Reverse<TimerFire>>,
    pub timer_generations: Vec<BTreeMap<TimerId, u64>>,
    pub seq: u64,
    pub metrics: Metrics,
    pub counters: Counters,
    /// The monitoring bus's queues (`[bus]`), fed on the order path.
    pub bus: Option<ferrotrade_bus::BusSender>,
    /// A misuse of the context by a strategy, or a journal failure: stops the run.
    pub fault: Option<LiveError>,
}

impl LiveCore {
    pub fn owner_of(&self, id: ClientOrderId) -> Option<u16> {
        let offset = id.0.checked_sub(self.first_client_id)?;
        self.owner.get(usize::try_from(offset).ok()?).copied()
    }

    fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    fn fail(&mut self, error: LiveError) {
        self.fault.get_or_insert(error);
    }

    fn instrument_ok(&mut self, instrument: InstrumentIndex, what: &str) -> bool {
        if instrument.get() < self.instruments.len() {
            return true;
        }
        let count = self.instruments.len();
        self.fail(LiveError::Setup(format!("{what}: unknown instrument index {} (the run has {count})", instrument.0)));
        false
    }

    /// Rebuilds the OMS and the portfolios from the journal; returns the first client id of this session.
    pub fn replay(&mut self, state: &JournalState) -> Result<(), LiveError> {
        for item in &state.replay {
            match item {
                Replayed::Created { client_id, strategy, request, ts } => {
                    if self.store.is_empty() && self.owner.is_empty() {
                        self.store = OrderStore::new(client_id.0);
                        self.first_client_id = client_id.0;
                    }
                    let created = self.store.create(*request, *ts);
                    if created != *client_id {
                        return Err(LiveError::Journal {
                            path: self.journal.path().display().to_string(),
                            reason: format!("replay created {created} where the journal says {client_id}"),
                        });
                    }
                    let owner = self.strategy_names.iter().position(|name| name == strategy);
                    self.owner.push(owner.map_or(NO_STRATEGY, |index| index as u16));
                }
                Replayed::Event(event) => match self.store.apply(event) {
                    Ok(Applied::Fill { .. }) => {
                        if let OrderEventKind::Filled(fill) = event.kind {
                            self.account.apply_fill(&fill);
                            if let Some(portfolio) = self
                                .owner_of(fill.client_id)
                                .and_then(|owner| self.portfolios.get_mut(usize::from(owner)))
                            {
                                portfolio.apply_fill(&fill);
                            }
                            self.counters.replayed_fills += 1;
                        }
                    }
                    Ok(_) => {}
                    Err(error) => {
                        return Err(LiveError::Journal {
                            path: self.journal.path().display().to_string(),
                            reason: format!("replaying {event:?}: {error}"),
                        });
                    }
                },
            }
        }
        Ok(())
    }

    /// |position| x mark of instrument `index` in the settlement currency (zero without a mark).
    fn exposure(&self, index: usize, quantity: Quantity) -> Money {
        let Some((mark, precision)) = self.mark(index) else { return Money::ZERO };
        contract_value(&self.instruments[index], mark, precision, Quantity(quantity.0.abs()))
    }

    /// The local mid of instrument `index` at one extra decimal (exact), if its book is synced.
    pub fn mark(&self, index: usize) -> Option<(Price, u8)> {
        if !self.synced.get(index).copied().unwrap_or(false) {
            return None;
        }
        let precision = self.instruments[index].price_precision;
        self.books[index].mid_x2().map(|mid_x2| (Price(mid_x2.0.saturating_mul(5)), precision + 1))
    }

    /// Marks of every instrument.
    pub fn marks(&self) -> Vec<Option<(Price, u8)>> {
        (0..self.instruments.len()).map(|index| self.mark(index)).collect()
    }

    /// Sends a command to the gateway of `instrument`; the time its bytes were written, when they were
    /// written at once (see [`Gateway::send`]).
    fn send(&mut self, instrument: InstrumentIndex, command: GatewayCommand) -> Option<crate::gateway::Wire> {
        let gateway = *self.gateway_of.get(instrument.get())?;
        let now = self.now;
        self.gateways.get_mut(gateway)?.send(command, now)
    }

    /// Records an order's path up to the wire when its request left at once; one that left later (no idle
    /// order link, pacing) has no wire time and is counted instead.
    fn record_path(
        &mut self,
        decided: std::time::Instant,
        passed: std::time::Instant,
        wire: Option<crate::gateway::Wire>,
    ) {
        match wire {
            Some(wire) => self.metrics.order_path(decided, passed, wire),
            None => {
                self.metrics.risk_only(decided, passed);
                self.counters.sent_later += 1;
            }
        }
    }

    /// A strategy's new order: OMS, risk, journal, gateway.
    pub fn submit(&mut self, strategy: u16, request: OrderRequest) -> ClientOrderId {
        let decided = crate::clock::now_instant();
        if !self.instrument_ok(request.instrument, "submit") {
            return ClientOrderId(0);
        }
        self.counters.orders += 1;
        let now = self.now;
        let client_id = self.store.create(request, now);
        self.owner.push(strategy);
        let index = request.instrument.get();
        let strategy_name = self.strategy_names.get(usize::from(strategy)).map_or("", String::as_str);
        if let Err(error) = self.journal.order(now, client_id, strategy_name, &self.names[index], &request) {
            self.fail(error);
        }
        let position = self.account.position(request.instrument).quantity;
        let (open_buy, open_sell) = self.store.open_exposure(request.instrument);
        let instrument_notional = self.exposure(index, position);
        let total_notional = (0..self.instruments.len())
            .map(|other| self.exposure(other, self.account.position(InstrumentIndex(other as u32)).quantity))
            .fold(Money::ZERO, |sum, value| sum + value);
        // An unsynced book offers no mid: the price band and notional checks then deny (NoMarketPrice).
        let mid_x2 = if self.synced[index] { self.books[index].mid_x2() } else { None };
        let check =
            OrderCheck { now, request, mid_x2, position, open_buy, open_sell, total_notional, instrument_notional };
        let kind = match self.risk.check(&check) {
            Err(reason) => {
                self.counters.denied += 1;
                OrderEventKind::Denied(reason)
            }
            Ok(()) => OrderEventKind::Submitted,
        };
        let passed = crate::clock::now_instant();
        let event = OrderEvent { client_id, instrument: request.instrument, kind, ts_event: now, ts_recv: now };
        self.apply_local(strategy, event, matches!(kind, OrderEventKind::Denied(_)));
        if kind == OrderEventKind::Submitted {
            // The order record reaches the file before the client id can reach the venue.
            if let Err(error) = self.journal.write_ahead() {
                self.fail(error);
            }
            let wire = self.send(request.instrument, GatewayCommand::Submit { client_id, request });
            self.record_path(decided, passed, wire);
        }
        client_id
    }

    /// Runs the parts of a new order's path that only encode (the journal's records, the gateways'
    /// signed requests) on representative orders and drops the results, so their code and data stay in
    /// the caches between orders (`[live] busy_poll`: about once a millisecond). Nothing is sent or
    /// written, and no state changes.
    pub fn warm_order_path(&mut self) {
        let strategy = self.strategy_names.first().map_or("", String::as_str);
        let instrument = self.names.first().map_or("", String::as_str);
        self.journal.warm(strategy, instrument);
        for gateway in &mut self.gateways {
            gateway.warm();
        }
    }

    /// Writes the journal records appended since the last commit (see the journal's group-commit rule);
    /// a failure is a fault that stops the run.
    pub fn commit_journal(&mut self) {
        if let Err(error) = self.journal.commit() {
            self.fail(error);
        }
    }

    /// Applies an event the engine itself produced (submitted, denied, pending) and journals it;
    /// `deliver` queues it for the strategy.
    fn apply_local(&mut self, strategy: u16, event: OrderEvent, deliver: bool) {
        match self.store.apply(&event) {
            Ok(_) => {
                let name = &self.names[event.instrument.get()];
                if let Err(error) = self.journal.event(name, &event) {
                    self.fail(error);
                }
                self.publish_order(&event);
                if deliver && strategy != NO_STRATEGY {
                    self.outbox.push_back((strategy, event));
                }
            }
            Err(error) => self.fail(LiveError::OrderState(error.to_string())),
        }
    }

    /// The order if `strategy` owns it; a fault otherwise.
    fn owned_order(&mut self, strategy: u16, id: ClientOrderId, what: &str) -> Option<Order> {
        match (self.owner_of(id), self.store.get(id)) {
            (Some(owner), Some(order)) if owner == strategy || strategy == NO_STRATEGY => Some(*order),
            _ => {
                self.fail(LiveError::Setup(format!("{what}: order {id} is not this strategy's")));
                None
            }
        }
    }

    fn refuse(&mut self, strategy: u16, id: ClientOrderId, instrument: InstrumentIndex, kind: OrderEventKind) {
        let event = OrderEvent { client_id: id, instrument, kind, ts_event: self.now, ts_recv: self.now };
        self.publish_order(&event);
        if strategy != NO_STRATEGY {
            self.outbox.push_back((strategy, event));
        }
    }

    /// Journals and publishes the pending state of an order whose cancel or amend just left. Unlike a new
    /// order's record (written ahead: the venue must not know a client id the journal does not), these
    /// come after the request: the venue knows the order already, and the record only joins the group
    /// committed at the end of the input, so writing it first would add its encoding to the wire time and
    /// change nothing a crash could lose.
    fn journal_after_send(&mut self, instrument: InstrumentIndex, event: &OrderEvent) {
        if let Err(error) = self.journal.event(&self.names[instrument.get()], event) {
            self.fail(error);
        }
        self.publish_order(event);
    }

    /// Cancels an order (`strategy` = [`NO_STRATEGY`] for the engine's own cancels: stop, halt, adopt).
    pub fn cancel(&mut self, strategy: u16, id: ClientOrderId) {
        let Some(order) = self.owned_order(strategy, id, "cancel") else { return };
        let instrument = order.request.instrument;
        if order.status.is_terminal() {
            self.refuse(strategy, id, instrument, OrderEventKind::CancelRejected(RejectReason::UnknownOrder));
            return;
        }
        if order.status == OrderStatus::PendingCancel {
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
            self.counters.cancels += 1;
            let decided = crate::clock::now_instant();
            let wire = self.send(instrument, GatewayCommand::Cancel { client_id: id, instrument });
            // Cancels skip the risk chain (they only reduce risk): risk "passes" at the decision.
            self.record_path(decided, decided, wire);
            self.journal_after_send(instrument, &event);
        }
    }

    /// Changes an order's price and total quantity.
    pub fn amend(&mut self, strategy: u16, id: ClientOrderId, price: Price, quantity: Quantity) {
        let Some(order) = self.owned_order(strategy, id, "amend") else { return };
        let instrument = order.request.instrument;
        if order.status.is_terminal() {
            self.refuse(strategy, id, instrument, OrderEventKind::ReplaceRejected(RejectReason::UnknownOrder));
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
            Ok(_) => {
                self.counters.amends += 1;
                let decided = crate::clock::now_instant();
                let wire = self.send(instrument, GatewayCommand::Amend { client_id: id, instrument, price, quantity });
                // Amends skip the risk chain, as in the backtester.
                self.record_path(decided, decided, wire);
                self.journal_after_send(instrument, &event);
            }
            // Already pending a cancel or another amend: refused locally, as a venue would.
            Err(_) => {
                self.refuse(strategy, id, instrument, OrderEventKind::ReplaceRejected(RejectReason::InvalidAmend))
            }
        }
    }

    /// Cancels every open order (of `strategy`, or of everyone with [`NO_STRATEGY`]); returns how many.
    pub fn cancel_all(&mut self, strategy: u16, instrument: Option<InstrumentIndex>) -> usize {
        let mut ids = Vec::new();
        let range = match instrument {
            Some(instrument) => instrument.get()..instrument.get() + 1,
            None => 0..self.instruments.len(),
        };
        for index in range {
            self.store.open_ids(InstrumentIndex(index as u32), &mut ids);
        }
        ids.retain(|id| strategy == NO_STRATEGY || self.owner_of(*id) == Some(strategy));
        for id in &ids {
            self.cancel(strategy, *id);
        }
        ids.len()
    }

    /// A venue event reaches the engine: OMS, journal, portfolios, then the owner's outbox.
    pub fn on_venue_event(&mut self, event: OrderEvent) {
        let Some(strategy) = self.owner_of(event.client_id) else {
            self.counters.foreign_events += 1;
            return;
        };
        let terminal = self.store.get(event.client_id).is_some_and(|order| order.status.is_terminal());
        if terminal && matches!(event.kind, OrderEventKind::CancelRejected(_) | OrderEventKind::ReplaceRejected(_)) {
            // A refusal that crossed a fill or cancel on the wire: changes nothing, the strategy still hears.
            self.refuse(strategy, event.client_id, event.instrument, event.kind);
            return;
        }
        match self.store.apply(&event) {
            Ok(Applied::DuplicateFill) => self.counters.duplicate_fills += 1,
            Ok(applied) => {
                if let Err(error) = self.journal.event(&self.names[event.instrument.get()], &event) {
                    self.fail(error);
                }
                self.publish_order(&event);
                match event.kind {
                    OrderEventKind::Filled(fill) if matches!(applied, Applied::Fill { .. }) => {
                        self.counters.fills += 1;
                        self.account.apply_fill(&fill);
                        if let Some(portfolio) = self.portfolios.get_mut(usize::from(strategy)) {
                            portfolio.apply_fill(&fill);
                        }
                        let marks = self.marks();
                        let pnl = self.account.pnl(&marks);
                        self.publish_fill(strategy, &fill, &pnl, &marks);
                        if let Some(risk_event) = self.risk.on_equity(self.now, pnl.equity) {
                            self.on_risk_event(risk_event);
                        }
                    }
                    OrderEventKind::Rejected(reason) => self.counters.reject(reason),
                    _ => {}
                }
                if strategy != NO_STRATEGY {
                    self.outbox.push_back((strategy, event));
                }
            }
            // Live venues answer on two channels (REST and the user stream) that race: an event that
            // does not advance the order (Accepted after Filled) is stale, counted, and dropped.
            Err(_) => self.counters.stale_events += 1,
        }
    }

    /// Takes an order the venue works but the OMS does not know into the OMS (owned by no strategy).
    pub fn adopt(&mut self, order: &VenueOrder) -> ClientOrderId {
        let request = OrderRequest::limit(order.instrument, order.side, order.price, order.quantity);
        let client_id = self.store.create(request, self.now);
        self.owner.push(NO_STRATEGY);
        let name = self.names[order.instrument.get()].clone();
        if let Err(error) = self.journal.order(self.now, client_id, "", &name, &request) {
            self.fail(error);
        }
        let venue_id = VenueOrderId(order.venue_order_id.parse().unwrap_or(0));
        for kind in [OrderEventKind::Submitted, OrderEventKind::Accepted(venue_id)] {
            let event =
                OrderEvent { client_id, instrument: order.instrument, kind, ts_event: self.now, ts_recv: self.now };
            self.apply_local(NO_STRATEGY, event, false);
        }
        if let Some(gateway) = self.gateway_of.get(order.instrument.get()).and_then(|g| self.gateways.get_mut(*g)) {
            gateway.adopt(client_id, order);
        }
        client_id
    }

    /// Sets (or replaces) a strategy timer.
    pub fn set_timer(&mut self, strategy: u16, timer: TimerId, at: UnixNanos, interval_ns: u64) {
        let generation = self.next_seq();
        if let Some(timers) = self.timer_generations.get_mut(usize::from(strategy)) {
            timers.insert(timer, generation);
        }
        let seq = self.next_seq();
        let at = at.0.max(self.now.0);
        self.timers.push(Reverse(TimerFire { at, seq, strategy, timer, interval_ns, generation }));
    }

    /// Whether a popped timer is still current; re-arms interval timers.
    pub fn timer_is_live(&mut self, fire: &TimerFire) -> bool {
        let Some(timers) = self.timer_generations.get_mut(usize::from(fire.strategy)) else { return false };
        if timers.get(&fire.timer) != Some(&fire.generation) {
            return false;
        }
        if fire.interval_ns > 0 {
            let seq = self.next_seq();
            // Skip missed periods after a stall rather than firing a burst.
            let mut at = fire.at + fire.interval_ns;
            if at <= self.now.0 {
                at = self.now.0 + fire.interval_ns;
            }
            self.timers.push(Reverse(TimerFire { at, seq, ..*fire }));
        } else {
            timers.remove(&fire.timer);
        }
        true
    }
}
