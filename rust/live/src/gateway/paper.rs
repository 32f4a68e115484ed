//! [`PaperGateway`]: paper trading against the live market, with the backtester's matching engine.
//!
//! Each instrument has a [`SimVenue`] whose book mirrors the live feed: rebuilt from the engine's book
//! whenever the feed reports [`FeedEvent::Synced`] (a snapshot replaced the book), then kept current
//! with every [`FeedEvent::Level`] of a message, flagged `LAST` at the message's [`FeedEvent::Book`] so
//! the venue fills resting orders the book moved through exactly as in a backtest. Trades advance queues
//! and fill resting orders. While a book is unsynced its venue receives nothing (it keeps its last good
//! book, as a real venue would keep matching while our view is blind).
//!
//! # Latency
//! A command reaches its venue `entry` ns after `send` and each answer reaches the engine `response` ns
//! after the venue produced it (`[paper.latency]`, the backtest's latency model). As on a TCP connection,
//! messages never overtake each other: arrival times are clamped to be non-decreasing. Commands due
//! are delivered before any market data received after their arrival time.
//!
//! # Open orders
//! The gateway keeps the venue-side list of working orders (from the venue's own events), which is what
//! a reconciliation snapshot reports, as a real venue's `openOrders` would.

use std::collections::{BTreeMap, VecDeque};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use ferrotrade_book::OrderBook;
use ferrotrade_model::{
    BookSide, ClientOrderId, EventRow, Instrument, InstrumentIndex, OrderEvent, OrderEventKind, OrderRequest, Quantity,
    RowKind, UnixNanos, flags,
};
use ferrotrade_sim::{LatencyModel, SimVenue, VenueConfig};
use std::future::Future;
use tokio::time::Sleep;

use super::{Gateway, GatewayCommand, GatewayEvent, VenueSnapshot, Wire};
use crate::LiveError;
use crate::clock::WallClock;
use crate::feed::FeedEvent;
use crate::reconcile::VenueOrder;

/// Simulated venues fed by the live market (see the module docs).
pub struct PaperGateway {
    clock: WallClock,
    scope: Vec<InstrumentIndex>,
    venues: Vec<SimVenue>,
    /// Whether the venue's book was rebuilt from a synced local book.
    mirrored: Vec<bool>,
    /// Level rows of the message being received, per instrument.
    pending: Vec<Vec<EventRow>>,
    latency: LatencyModel,
    to_venue: VecDeque<(Instant, GatewayCommand)>,
    to_local: VecDeque<(Instant, GatewayEvent)>,
    last_to_venue: Instant,
    last_to_local: Instant,
    out: Vec<OrderEvent>,
    requests: BTreeMap<ClientOrderId, OrderRequest>,
    open: BTreeMap<ClientOrderId, VenueOrder>,
    sleep: Pin<Box<Sleep>>,
}

impl std::fmt::Debug for PaperGateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PaperGateway").field("instruments", &self.scope.len()).finish_non_exhaustive()
    }
}

impl PaperGateway {
    /// One simulated venue per instrument (`configs[i]` for `instruments[i]`); latency from `configs[0]`.
    ///
    /// # Errors
    /// [`LiveError::Setup`] when a venue or the latency model refuses its configuration.
    pub fn new(
        instruments: &[Instrument],
        configs: &[VenueConfig],
        clock: WallClock,
    ) -> Result<PaperGateway, LiveError> {
        let mut venues = Vec::with_capacity(instruments.len());
        for (index, (instrument, config)) in instruments.iter().zip(configs).enumerate() {
            let venue = SimVenue::new(instrument.clone(), InstrumentIndex(index as u32), config)
                .map_err(|error| LiveError::Setup(format!("paper venue for {}: {error}", instrument.id)))?
                // Trade ids unique across restarts: the OMS deduplicates fills by trade id.
                .with_first_trade_id(clock.unix_ms().saturating_mul(1000))
                // Fed on the engine thread before the strategies hear of a book message: no page faults there.
                .with_resident_book();
            venues.push(venue);
        }
        let config = configs.first().cloned().unwrap_or_default();
        let latency = LatencyModel::new(&config.latency, config.seed)
            .map_err(|error| LiveError::Setup(format!("paper latency: {error}")))?;
        let now = crate::clock::now_instant();
        Ok(PaperGateway {
            clock,
            scope: (0..instruments.len()).map(|index| InstrumentIndex(index as u32)).collect(),
            mirrored: vec![false; instruments.len()],
            pending: vec![Vec::new(); instruments.len()],
            venues,
            latency,
            to_venue: VecDeque::new(),
            to_local: VecDeque::new(),
            last_to_venue: now,
            last_to_local: now,
            out: Vec::new(),
            requests: BTreeMap::new(),
            open: BTreeMap::new(),
            sleep: Box::pin(tokio::time::sleep_until(tokio::time::Instant::from_std(now))),
        })
    }

    /// The simulated venue of `instrument` (tests and reports).
    #[must_use]
    pub fn venue(&self, instrument: InstrumentIndex) -> Option<&SimVenue> {
        self.venues.get(instrument.get())
    }

    /// Delivers every command whose arrival time is not after `now`.
    fn deliver_due(&mut self, now: Instant) {
        while self.to_venue.front().is_some_and(|(at, _)| *at <= now) {
            let Some((at, command)) = self.to_venue.pop_front() else { break };
            self.execute(command, self.clock.at(at));
        }
    }

    fn execute(&mut self, command: GatewayCommand, venue_now: UnixNanos) {
        let mut out = std::mem::take(&mut self.out);
        match command {
            GatewayCommand::Submit { client_id, request } => {
                if let Some(venue) = self.venues.get_mut(request.instrument.get()) {
                    self.requests.insert(client_id, request);
                    venue.submit(venue_now, client_id, &request, &mut out);
                }
            }
            GatewayCommand::Cancel { client_id, instrument } => {
                if let Some(venue) = self.venues.get_mut(instrument.get()) {
                    venue.cancel(venue_now, client_id, &mut out);
                }
            }
            GatewayCommand::Amend { client_id, instrument, price, quantity } => {
                if let Some(venue) = self.venues.get_mut(instrument.get()) {
                    venue.amend(venue_now, client_id, price, quantity, &mut out);
                }
            }
            GatewayCommand::Query { client_id, instrument } => {
                // An order the engine holds open that this venue does not work: the simulated venue it
                // lived in ended with the previous process, so the order is gone.
                if !self.open.contains_key(&client_id) {
                    let kind = OrderEventKind::Canceled;
                    out.push(OrderEvent { client_id, instrument, kind, ts_event: venue_now, ts_recv: venue_now });
                }
            }
        }
        self.out = out;
        self.forward();
    }

    /// Tracks the venue's answers and queues them towards the engine after the response latency.
    fn forward(&mut self) {
        let mut out = std::mem::take(&mut self.out);
        for event in out.drain(..) {
            self.track(&event);
            let produced = self.clock.instant_of(event.ts_event);
            let at = (produced + Duration::from_nanos(self.latency.response())).max(self.last_to_local);
            self.last_to_local = at;
            self.to_local.push_back((at, GatewayEvent::Order(event)));
        }
        self.out = out;
    }

    /// Maintains the list of working orders from the venue's events.
    fn track(&mut self, event: &OrderEvent) {
        let id = event.client_id;
        match event.kind {
            OrderEventKind::Accepted(venue_id) => {
                if let Some(request) = self.requests.get(&id) {
                    self.open.insert(
                        id,
                        VenueOrder {
                            instrument: request.instrument,
                            client_id: Some(id),
                            venue_order_id: venue_id.0.to_string(),
                            side: request.side,
                            price: request.price,
                            quantity: request.quantity,
                            filled: Quantity(0),
                        },
                    );
                }
            }
            OrderEventKind::Replaced { price, quantity } => {
                if let Some(order) = self.open.get_mut(&id) {
                    order.price = price;
                    order.quantity = quantity;
                }
            }
            OrderEventKind::Filled(fill) => {
                let done = self.open.get_mut(&id).is_some_and(|order| {
                    order.filled = Quantity(order.filled.0 + fill.quantity.0);
                    order.filled.0 >= order.quantity.0
                });
                if done {
                    self.open.remove(&id);
                    self.requests.remove(&id);
                }
            }
            OrderEventKind::Canceled | OrderEventKind::Expired | OrderEventKind::Rejected(_) => {
                self.open.remove(&id);
                self.requests.remove(&id);
            }
            _ => {}
        }
    }

    /// Rebuilds the venue's book of `index` from the synced local book.
    fn rebuild(&mut self, index: usize, book: &OrderBook, now: UnixNanos) {
        let Some(venue) = self.venues.get_mut(index) else { return };
        let mut rows: Vec<EventRow> =
            Vec::with_capacity(book.level_count(BookSide::Bid) + book.level_count(BookSide::Ask));
        for side in [BookSide::Bid, BookSide::Ask] {
            for level in book.depth(side, book.level_count(side)) {
                rows.push(book_row(index, side, level.price, level.size, now, flags::SNAPSHOT));
            }
        }
        let Some(first) = rows.first_mut() else { return };
        first.flags |= flags::CLEAR;
        if let Some(last) = rows.last_mut() {
            last.flags |= flags::LAST;
        }
        for row in &rows {
            venue.on_book_row(row, &mut self.out);
        }
        self.mirrored[index] = true;
        self.forward();
    }
}

fn book_row(
    index: usize,
    side: BookSide,
    price: ferrotrade_model::Price,
    size: Quantity,
    now: UnixNanos,
    row_flags: u8,
) -> EventRow {
    EventRow {
        ts_event: now,
        ts_recv: now,
        price,
        size,
        instrument: InstrumentIndex(index as u32),
        kind: RowKind::Book,
        side: side as u8,
        flags: row_flags,
        ..EventRow::default()
    }
}

impl Gateway for PaperGateway {
    fn name(&self) -> &str {
        "paper"
    }

    fn scope(&self) -> &[InstrumentIndex] {
        &self.scope
    }

    fn send(&mut self, command: GatewayCommand, now: UnixNanos) -> Option<Wire> {
        let sent = self.clock.instant_of(now);
        let at = (sent + Duration::from_nanos(self.latency.entry())).max(self.last_to_venue);
        self.last_to_venue = at;
        self.to_venue.push_back((at, command));
        // Queued for the simulated venue: what a wire write is for a paper run.
        Some(Wire { write_started: None, written: crate::clock::now_instant() })
    }

    fn poll_event(&mut self, cx: &mut Context<'_>) -> Poll<GatewayEvent> {
        let now = crate::clock::now_instant();
        self.deliver_due(now);
        if self.to_local.front().is_some_and(|(at, _)| *at <= now)
            && let Some((_, event)) = self.to_local.pop_front()
        {
            return Poll::Ready(match event {
                GatewayEvent::Order(mut order) => {
                    order.ts_recv = self.clock.at(now);
                    GatewayEvent::Order(order)
                }
                other => other,
            });
        }
        let next = [self.to_venue.front().map(|(at, _)| *at), self.to_local.front().map(|(at, _)| *at)]
            .into_iter()
            .flatten()
            .min();
        if let Some(at) = next {
            self.sleep.as_mut().reset(tokio::time::Instant::from_std(at));
            if self.sleep.as_mut().poll(cx).is_ready() {
                cx.waker().wake_by_ref();
            }
        }
        Poll::Pending
    }

    fn on_market(&mut self, event: &FeedEvent, books: &[OrderBook], now: UnixNanos) {
        self.deliver_due(self.clock.instant_of(now));
        match *event {
            FeedEvent::Level { index, side, price, size, .. }
                if self.mirrored.get(index.get()).copied().unwrap_or(false) =>
            {
                self.pending[index.get()].push(book_row(index.get(), side, price, size, now, 0));
            }
            FeedEvent::Book { index, .. } => {
                let slot = index.get();
                if slot < self.venues.len() {
                    let mut rows = std::mem::take(&mut self.pending[slot]);
                    if let Some(last) = rows.last_mut() {
                        last.flags |= flags::LAST;
                    }
                    for row in &rows {
                        self.venues[slot].on_book_row(row, &mut self.out);
                    }
                    rows.clear();
                    self.pending[slot] = rows;
                    self.forward();
                }
            }
            FeedEvent::Trade { index, trade } => {
                if let Some(venue) = self.venues.get_mut(index.get()) {
                    let row = EventRow {
                        ts_event: now,
                        ts_recv: now,
                        price: trade.price,
                        size: trade.size,
                        aux: trade.trade_id.unwrap_or(EventRow::NO_TRADE_ID),
                        instrument: index,
                        kind: RowKind::Trade,
                        side: trade.aggressor as u8,
                        ..EventRow::default()
                    };
                    venue.on_trade(&row, &mut self.out);
                    self.forward();
                }
            }
            FeedEvent::Synced { index } => {
                if let Some(book) = books.get(index.get()) {
                    self.rebuild(index.get(), book, now);
                }
            }
            FeedEvent::Unsynced { index, .. } => {
                if let Some(mirrored) = self.mirrored.get_mut(index.get()) {
                    *mirrored = false;
                    self.pending[index.get()].clear();
                }
            }
            _ => {}
        }
    }

    fn request_snapshot(&mut self) {
        let snapshot = VenueSnapshot {
            scope: self.scope.clone(),
            orders: self.open.values().cloned().collect(),
            positions: self.venues.iter().map(|venue| Some(venue.position())).collect(),
        };
        let now = crate::clock::now_instant().max(self.last_to_local);
        self.last_to_local = now;
        self.to_local.push_back((now, GatewayEvent::Snapshot(snapshot)));
    }
}
