//! Shared helpers: a BTCUSDT USD-M venue (price precision 1, size precision 3) and a small real-looking
//! book around 61800.
#![allow(dead_code)]

use ferrotrade_model::{
    AggressorSide, BookSide, ClientOrderId, Decimal, EventRow, Fill, Instrument, InstrumentId, InstrumentIndex,
    Liquidity, OrderEvent, OrderEventKind, OrderRequest, OrderSide, OrderType, Price, Quantity, RowKind, TimeInForce,
    UnixNanos, Venue, flags,
};
use ferrotrade_sim::{SimVenue, VenueConfig};

pub const IX: InstrumentIndex = InstrumentIndex(0);

pub fn dec(text: &str) -> Decimal {
    Decimal::parse_str(text).expect("a decimal literal")
}

pub fn btcusdt() -> Instrument {
    let mut instrument = Instrument::with_precisions(InstrumentId::new(Venue::BinanceUsdm, "BTCUSDT"), 1, 3);
    instrument.mark_precision = 8;
    instrument.min_notional = Some(dec("100"));
    instrument
}

pub fn venue_with(config: &VenueConfig) -> SimVenue {
    SimVenue::new(btcusdt(), IX, config).expect("a valid venue")
}

/// One book row; `last` ends the message.
pub fn level(side: BookSide, price: i64, size: i64, last: bool) -> EventRow {
    EventRow {
        ts_event: UnixNanos(1_000),
        ts_recv: UnixNanos(1_000),
        kind: RowKind::Book,
        side: side as u8,
        price: Price(price),
        size: Quantity(size),
        flags: if last { flags::LAST } else { 0 },
        ..EventRow::default()
    }
}

pub fn trade(aggressor: AggressorSide, price: i64, size: i64) -> EventRow {
    EventRow {
        ts_event: UnixNanos(2_000),
        ts_recv: UnixNanos(2_000),
        kind: RowKind::Trade,
        side: aggressor as u8,
        price: Price(price),
        size: Quantity(size),
        aux: 1,
        ..EventRow::default()
    }
}

/// Bids 61800.2 x 2.909, 61800.1 x 0.696, 61800.0 x 20.004; asks 61800.3 x 3.330, 61800.4 x 0.150,
/// 61800.5 x 1.200.
pub fn seed_book(venue: &mut SimVenue) {
    let mut out = Vec::new();
    let rows = [
        level(BookSide::Bid, 618_002, 2_909, false),
        level(BookSide::Bid, 618_001, 696, false),
        level(BookSide::Bid, 618_000, 20_004, false),
        level(BookSide::Ask, 618_003, 3_330, false),
        level(BookSide::Ask, 618_004, 150, false),
        level(BookSide::Ask, 618_005, 1_200, true),
    ];
    for row in &rows {
        venue.on_book_row(row, &mut out);
    }
    assert!(out.is_empty());
}

pub fn venue() -> SimVenue {
    let mut venue = venue_with(&VenueConfig::default());
    seed_book(&mut venue);
    venue
}

pub fn limit(side: OrderSide, price: i64, quantity: i64) -> OrderRequest {
    OrderRequest::limit(IX, side, Price(price), Quantity(quantity))
}

pub fn with_tif(mut request: OrderRequest, tif: TimeInForce) -> OrderRequest {
    request.time_in_force = tif;
    request
}

pub fn market(side: OrderSide, quantity: i64) -> OrderRequest {
    OrderRequest::market(IX, side, Quantity(quantity))
}

pub fn stop(side: OrderSide, trigger: i64, quantity: i64, limit_price: Option<i64>) -> OrderRequest {
    let mut request = market(side, quantity);
    request.trigger_price = Price(trigger);
    request.time_in_force = TimeInForce::Gtc;
    match limit_price {
        Some(price) => {
            request.order_type = OrderType::StopLimit;
            request.price = Price(price);
        }
        None => request.order_type = OrderType::StopMarket,
    }
    request
}

pub fn submit(venue: &mut SimVenue, id: u64, request: &OrderRequest) -> Vec<OrderEvent> {
    let mut out = Vec::new();
    venue.submit(UnixNanos(1_500), ClientOrderId(id), request, &mut out);
    out
}

pub fn fills(events: &[OrderEvent]) -> Vec<Fill> {
    events
        .iter()
        .filter_map(|event| match event.kind {
            OrderEventKind::Filled(fill) => Some(fill),
            _ => None,
        })
        .collect()
}

/// `(price, quantity, liquidity)` of each fill.
pub fn fill_summary(events: &[OrderEvent]) -> Vec<(i64, i64, Liquidity)> {
    fills(events).iter().map(|f| (f.price.0, f.quantity.0, f.liquidity)).collect()
}

/// The kinds of the events, with fills shortened to `Filled(quantity)` for readable asserts.
pub fn kinds(events: &[OrderEvent]) -> Vec<String> {
    events
        .iter()
        .map(|event| match event.kind {
            OrderEventKind::Filled(fill) => format!("Filled({})", fill.quantity.0),
            OrderEventKind::Accepted(_) => "Accepted".to_owned(),
            other => format!("{other:?}"),
        })
        .collect()
}
