//! A test double of the engine: a real `OrderBook`, positions the test sets, and every order action recorded.
//!
//! Orders never reach a venue; a test plays the venue by calling [`TestContext::fill`] (which updates the
//! order and the position, as the OMS would, and returns the events to deliver) or [`TestContext::event`].
#![allow(dead_code, missing_docs)]

use std::collections::BTreeMap;

use ferrotrade_book::OrderBook;
use ferrotrade_model::{
    BookSide, ClientOrderId, Fill, Instrument, InstrumentId, InstrumentIndex, Liquidity, Money, OrderEvent,
    OrderEventKind, OrderRequest, OrderStatus, Price, Quantity, UnixNanos, Venue, VenueOrderId,
};
use ferrotrade_oms::{Order, PnlSnapshot, Position};
use ferrotrade_strategy::{Context, Strategy, TimerId};

/// One thing the strategy asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Submit(ClientOrderId, OrderRequest),
    Cancel(ClientOrderId),
    Amend(ClientOrderId, Price, Quantity),
    CancelAll(Option<InstrumentIndex>),
}

#[derive(Debug)]
pub struct TestContext {
    pub now: UnixNanos,
    pub instruments: Vec<Instrument>,
    pub books: Vec<OrderBook>,
    pub synced: bool,
    pub positions: Vec<Quantity>,
    pub orders: BTreeMap<ClientOrderId, Order>,
    pub actions: Vec<Action>,
    next_id: u64,
    next_trade_id: u64,
    empty: OrderBook,
}

impl TestContext {
    /// One instrument, `venue.SYMBOL`, with the given precisions and tick/lot mantissas.
    pub fn new(venue: Venue, symbol: &str, price_precision: u8, size_precision: u8, tick: i64, lot: i64) -> Self {
        let mut instrument =
            Instrument::with_precisions(InstrumentId::new(venue, symbol), price_precision, size_precision);
        instrument.tick_size = Price(tick);
        instrument.lot_size = Quantity(lot);
        TestContext {
            now: UnixNanos(1_700_000_000_000_000_000),
            instruments: vec![instrument],
            books: vec![OrderBook::with_window(1 << 12)],
            synced: true,
            positions: vec![Quantity::ZERO],
            orders: BTreeMap::new(),
            actions: Vec::new(),
            next_id: 1,
            next_trade_id: 1,
            empty: OrderBook::with_window(64),
        }
    }

    /// BTCUSDT on Binance USD-M: price 0.1 (precision 1), size 0.001 (precision 3).
    pub fn usdm_btcusdt() -> Self {
        TestContext::new(Venue::BinanceUsdm, "BTCUSDT", 1, 3, 1, 1)
    }

    /// Replaces the book's touch with one bid and one ask level (mantissas).
    pub fn set_touch(&mut self, bid: i64, ask: i64) {
        let book = &mut self.books[0];
        book.clear();
        book.apply_level(BookSide::Bid, Price(bid), Quantity(1_000)).unwrap();
        book.apply_level(BookSide::Ask, Price(ask), Quantity(1_000)).unwrap();
    }

    pub fn set_position(&mut self, quantity: i64) {
        self.positions[0] = Quantity(quantity);
    }

    pub fn advance_ms(&mut self, millis: u64) {
        self.now = UnixNanos(self.now.0 + millis * 1_000_000);
    }

    pub fn take_actions(&mut self) -> Vec<Action> {
        std::mem::take(&mut self.actions)
    }

    /// An event for `id` at the current time.
    pub fn event(&self, id: ClientOrderId, kind: OrderEventKind) -> OrderEvent {
        OrderEvent { client_id: id, instrument: InstrumentIndex(0), kind, ts_event: self.now, ts_recv: self.now }
    }

    /// Fills `quantity` of order `id` at its price (or `price` for a market order): updates the order and
    /// the position the way the OMS does before the strategy hears of it, and returns the `on_order` event
    /// and the `on_fill` fill to deliver.
    pub fn fill(&mut self, id: ClientOrderId, quantity: i64, price: Price) -> (OrderEvent, Fill) {
        let order = self.orders.get_mut(&id).expect("fill of an unknown order");
        order.filled = Quantity(order.filled.0 + quantity);
        order.status =
            if order.filled >= order.request.quantity { OrderStatus::Filled } else { OrderStatus::PartiallyFilled };
        let side = order.request.side;
        let index = order.request.instrument.get();
        self.positions[index] = Quantity(self.positions[index].0 + side.sign() * quantity);
        let fill = Fill {
            client_id: id,
            venue_order_id: VenueOrderId(id.0),
            trade_id: self.next_trade_id,
            instrument: InstrumentIndex(0),
            side,
            price,
            quantity: Quantity(quantity),
            fee: Money::default(),
            liquidity: Liquidity::Taker,
            ts_event: self.now,
            ts_recv: self.now,
        };
        self.next_trade_id += 1;
        (self.event(id, OrderEventKind::Filled(fill)), fill)
    }

    /// Marks order `id` terminal with `status` and returns the event of `kind` to deliver.
    pub fn finish(&mut self, id: ClientOrderId, status: OrderStatus, kind: OrderEventKind) -> OrderEvent {
        if let Some(order) = self.orders.get_mut(&id) {
            order.status = status;
        }
        self.event(id, kind)
    }

    pub fn submits(actions: &[Action]) -> Vec<(ClientOrderId, OrderRequest)> {
        actions
            .iter()
            .filter_map(|action| match action {
                Action::Submit(id, request) => Some((*id, *request)),
                _ => None,
            })
            .collect()
    }
}

impl Context for TestContext {
    fn now(&self) -> UnixNanos {
        self.now
    }

    fn instruments(&self) -> &[Instrument] {
        &self.instruments
    }

    fn instrument_index(&self, name: &str) -> Option<InstrumentIndex> {
        self.instruments
            .iter()
            .position(|instrument| instrument.id.to_string() == name)
            .map(|index| InstrumentIndex(u32::try_from(index).unwrap()))
    }

    fn book(&self, instrument: InstrumentIndex) -> &OrderBook {
        self.books.get(instrument.get()).unwrap_or(&self.empty)
    }

    fn is_synced(&self, _instrument: InstrumentIndex) -> bool {
        self.synced
    }

    fn position(&self, instrument: InstrumentIndex) -> Position {
        Position {
            instrument,
            quantity: self.positions.get(instrument.get()).copied().unwrap_or_default(),
            ..Position::default()
        }
    }

    fn pnl(&self) -> PnlSnapshot {
        PnlSnapshot::default()
    }

    fn order(&self, id: ClientOrderId) -> Option<Order> {
        self.orders.get(&id).copied()
    }

    fn open_order_count(&self, instrument: InstrumentIndex) -> usize {
        self.orders.values().filter(|o| o.request.instrument == instrument && o.status.is_open()).count()
    }

    fn open_orders(&self, instrument: InstrumentIndex, out: &mut Vec<ClientOrderId>) {
        out.extend(
            self.orders
                .values()
                .filter(|o| o.request.instrument == instrument && o.status.is_open())
                .map(|o| o.client_id),
        );
    }

    fn submit(&mut self, request: OrderRequest) -> ClientOrderId {
        let id = ClientOrderId(self.next_id);
        self.next_id += 1;
        self.orders.insert(
            id,
            Order {
                client_id: id,
                request,
                status: OrderStatus::Submitted,
                filled: Quantity::ZERO,
                fill_notional: 0,
                venue_order_id: None,
                reason: None,
                ts_init: self.now,
                ts_last: self.now,
            },
        );
        self.actions.push(Action::Submit(id, request));
        id
    }

    fn cancel(&mut self, id: ClientOrderId) {
        self.actions.push(Action::Cancel(id));
    }

    fn amend(&mut self, id: ClientOrderId, price: Price, quantity: Quantity) {
        self.actions.push(Action::Amend(id, price, quantity));
    }

    fn cancel_all(&mut self, instrument: Option<InstrumentIndex>) {
        self.actions.push(Action::CancelAll(instrument));
    }

    fn set_timer(&mut self, _timer: TimerId, _at: UnixNanos, _interval_ns: u64) {}

    fn cancel_timer(&mut self, _timer: TimerId) {}
}

/// Asks `strategy` for each `(name, value)` run-time change and checks it is refused with a message that
/// contains the case's third text.
pub fn assert_refused(strategy: &mut dyn Strategy, ctx: &mut TestContext, cases: &[(&str, &str, &str)]) {
    for &(name, value, message) in cases {
        let error = strategy.set_parameter(ctx, name, value).expect_err(name).message;
        assert!(error.contains(message), "{name} = {value}: {error}");
    }
}
