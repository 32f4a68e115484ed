//! [`Encoder`]: engine values to `(topic, Envelope)` on the publisher thread, with the sequence numbers.

use std::collections::HashMap;

use ferrotrade_model::{
    AggressorSide, InstrumentIndex, Liquidity, OrderEventKind, OrderSide, OrderStatus, OrderType, UnixNanos,
};
use prost::Message;

use crate::event::{BookTop, EngineEvent, MarketEvent, NO_STRATEGY, PnlValues};
use crate::proto::{self, envelope::Body};

/// The names behind the indexes the engine uses.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Names {
    /// Every instrument of the run, by index.
    pub instruments: Vec<proto::InstrumentRef>,
    /// Every strategy of the run, by index.
    pub strategies: Vec<String>,
    /// Identifies the run (changes on every start).
    pub session: String,
    /// `live`, `paper` or `replay`.
    pub mode: String,
}

impl Names {
    /// The names of a run over `instruments` (by index) and `strategies` (by index).
    #[must_use]
    pub fn new(
        instruments: &[ferrotrade_model::Instrument],
        strategies: Vec<String>,
        session: String,
        mode: &str,
    ) -> Names {
        let instruments = instruments
            .iter()
            .map(|instrument| proto::InstrumentRef {
                venue: instrument.id.venue.as_str().to_owned(),
                symbol: instrument.id.symbol.clone(),
                price_precision: u32::from(instrument.price_precision),
                size_precision: u32::from(instrument.size_precision),
            })
            .collect();
        Names { instruments, strategies, session, mode: mode.to_owned() }
    }

    fn instrument(&self, index: InstrumentIndex) -> Option<proto::InstrumentRef> {
        self.instruments.get(index.get()).cloned()
    }

    fn strategy(&self, index: u16) -> String {
        if index == NO_STRATEGY {
            return String::new();
        }
        self.strategies.get(usize::from(index)).cloned().unwrap_or_default()
    }

    fn topic(&self, kind: &str, index: InstrumentIndex) -> String {
        match self.instruments.get(index.get()) {
            Some(instrument) => format!("{kind}.{}.{}", instrument.venue, instrument.symbol),
            None => format!("{kind}.unknown.{}", index.0),
        }
    }
}

/// Turns events into published messages, numbering them.
#[derive(Debug)]
pub struct Encoder {
    names: Names,
    seq: u64,
    topic_seq: HashMap<String, u64>,
    buffer: Vec<u8>,
}

impl Encoder {
    /// An encoder for a run with these names; numbering starts at 1.
    #[must_use]
    pub fn new(names: Names) -> Encoder {
        Encoder { names, seq: 0, topic_seq: HashMap::new(), buffer: Vec::with_capacity(1024) }
    }

    /// The run's names.
    #[must_use]
    pub fn names(&self) -> &Names {
        &self.names
    }

    /// Messages numbered so far.
    #[must_use]
    pub fn published(&self) -> u64 {
        self.seq
    }

    /// The topic and body of an engine event.
    #[must_use]
    pub fn engine_body(&self, event: EngineEvent, published: u64, dropped: u64, uptime_ns: u64) -> (String, Body) {
        let names = &self.names;
        match event {
            EngineEvent::Order { strategy, event, request, status, filled } => {
                let (kind, reason) = order_event_kind(event.kind);
                let body = proto::OrderEvent {
                    instrument: names.instrument(event.instrument),
                    strategy: names.strategy(strategy),
                    client_id: event.client_id.0,
                    kind: kind as i32,
                    reason: reason.to_owned(),
                    status: order_status(status) as i32,
                    side: side(request.side) as i32,
                    order_type: order_type(request.order_type) as i32,
                    price: if request.order_type == OrderType::Market { 0 } else { request.price.0 },
                    quantity: request.quantity.0,
                    filled: filled.0,
                    reduce_only: request.reduce_only,
                    ts_event_ns: event.ts_event.0,
                    ts_recv_ns: event.ts_recv.0,
                };
                (names.topic("order", event.instrument), Body::Order(body))
            }
            EngineEvent::Fill { strategy, fill } => {
                let body = proto::Fill {
                    instrument: names.instrument(fill.instrument),
                    strategy: names.strategy(strategy),
                    client_id: fill.client_id.0,
                    venue_order_id: fill.venue_order_id.0,
                    trade_id: fill.trade_id,
                    side: side(fill.side) as i32,
                    price: fill.price.0,
                    quantity: fill.quantity.0,
                    fee: fill.fee.to_string(),
                    liquidity: match fill.liquidity {
                        Liquidity::Maker => proto::Liquidity::Maker,
                        Liquidity::Taker => proto::Liquidity::Taker,
                    } as i32,
                    ts_event_ns: fill.ts_event.0,
                    ts_recv_ns: fill.ts_recv.0,
                };
                (names.topic("fill", fill.instrument), Body::Fill(body))
            }
            EngineEvent::Position { strategy, instrument, quantity, entry_value, realized, fees, ts } => {
                let body = proto::Position {
                    instrument: names.instrument(instrument),
                    strategy: names.strategy(strategy),
                    quantity: quantity.0,
                    entry_value: entry_value.to_string(),
                    realized_pnl: realized.to_string(),
                    fees: fees.to_string(),
                    ts_ns: ts.0,
                };
                (names.topic("position", instrument), Body::Position(body))
            }
            EngineEvent::Pnl { strategy, pnl, ts } => {
                ("pnl".into(), Body::Pnl(pnl_message(names.strategy(strategy), &pnl, ts)))
            }
            EngineEvent::Rejection { strategy, instrument, client_id, reason, ts } => {
                let body = proto::RiskEvent {
                    ts_ns: ts.0,
                    event: Some(proto::risk_event::Event::Rejection(proto::Rejection {
                        instrument: names.instrument(instrument),
                        strategy: names.strategy(strategy),
                        client_id: client_id.0,
                        reason: reason.code().to_owned(),
                    })),
                };
                ("risk.rejection".into(), Body::Risk(body))
            }
            EngineEvent::StateChange { from, to, reason, ts } => {
                let body = proto::RiskEvent {
                    ts_ns: ts.0,
                    event: Some(proto::risk_event::Event::StateChange(proto::StateChange {
                        from: from as i32,
                        to: to as i32,
                        reason: reason.to_owned(),
                    })),
                };
                ("risk.state".into(), Body::Risk(body))
            }
            EngineEvent::Signal { strategy, name, instrument, value, ts } => {
                let strategy_name = names.strategy(strategy);
                let topic = format!("signal.{strategy_name}.{}", name.as_str());
                let body = proto::Signal {
                    strategy: strategy_name,
                    name: name.as_str().to_owned(),
                    instrument: instrument.and_then(|index| names.instrument(index)),
                    value,
                    ts_ns: ts.0,
                };
                (topic, Body::Signal(body))
            }
            EngineEvent::Heartbeat { state, ts } => {
                let body = proto::Heartbeat {
                    session: names.session.clone(),
                    mode: names.mode.clone(),
                    state: state as i32,
                    uptime_ns,
                    published,
                    dropped,
                    ts_ns: ts.0,
                };
                ("heartbeat".into(), Body::Heartbeat(body))
            }
            EngineEvent::Metrics(metrics) => ("metrics".into(), Body::Metrics(*metrics)),
            EngineEvent::Parent(update) => {
                let strategy_name = names.strategy(update.strategy);
                let topic = format!("parent.{strategy_name}");
                let body = proto::ParentOrder {
                    strategy: strategy_name,
                    parent_id: update.parent_id,
                    algo: update.algo.to_owned(),
                    instrument: names.instrument(update.instrument),
                    side: side(update.side) as i32,
                    status: update.status as i32,
                    quantity: update.quantity.0,
                    filled: update.filled.0,
                    size_precision: u32::from(update.size_precision),
                    children: update.children,
                    reason: update.reason.unwrap_or_default(),
                    ts_ns: update.ts.0,
                };
                (topic, Body::Parent(body))
            }
        }
    }

    /// The topic and body of a market summary.
    #[must_use]
    pub fn market_body(&self, event: &MarketEvent) -> (String, Body) {
        let names = &self.names;
        match event {
            MarketEvent::Book(top) => (names.topic("book", top.instrument), Body::Book(self.book_summary(top))),
            MarketEvent::Quote { instrument, quote } => {
                let body = proto::Quote {
                    instrument: names.instrument(*instrument),
                    ts_event_ns: quote.ts_event.0,
                    ts_recv_ns: quote.ts_recv.0,
                    bid_price: quote.bid.price.0,
                    bid_size: quote.bid.size.0,
                    ask_price: quote.ask.price.0,
                    ask_size: quote.ask.size.0,
                };
                (names.topic("quote", *instrument), Body::Quote(body))
            }
            MarketEvent::Trade { instrument, trade } => {
                let body = proto::Trade {
                    instrument: names.instrument(*instrument),
                    ts_event_ns: trade.ts_event.0,
                    ts_recv_ns: trade.ts_recv.0,
                    trade_id: trade.trade_id.unwrap_or(0),
                    price: trade.price.0,
                    size: trade.size.0,
                    aggressor: match trade.aggressor {
                        AggressorSide::Buyer => proto::Side::Buy,
                        AggressorSide::Seller => proto::Side::Sell,
                        AggressorSide::Unknown => proto::Side::Unspecified,
                    } as i32,
                };
                (names.topic("trade", *instrument), Body::Trade(body))
            }
        }
    }

    /// A book summary message (also used by snapshots).
    #[must_use]
    pub fn book_summary(&self, top: &BookTop) -> proto::BookSummary {
        let bids = &top.bids[..usize::from(top.bid_count)];
        let asks = &top.asks[..usize::from(top.ask_count)];
        proto::BookSummary {
            instrument: self.names.instrument(top.instrument),
            ts_event_ns: top.ts_event.0,
            ts_recv_ns: top.ts_recv.0,
            update_id: top.update_id,
            synced: top.synced,
            bid_price: bids.iter().map(|level| level.price.0).collect(),
            bid_size: bids.iter().map(|level| level.size.0).collect(),
            ask_price: asks.iter().map(|level| level.price.0).collect(),
            ask_size: asks.iter().map(|level| level.size.0).collect(),
        }
    }

    /// Numbers `body` under `topic` and encodes the envelope; the returned bytes are valid until the next
    /// call.
    pub fn seal(&mut self, topic: &str, body: Body, now: UnixNanos) -> &[u8] {
        self.seq += 1;
        let topic_seq = match self.topic_seq.get_mut(topic) {
            Some(seq) => {
                *seq += 1;
                *seq
            }
            None => {
                self.topic_seq.insert(topic.to_owned(), 1);
                1
            }
        };
        let envelope = proto::Envelope { seq: self.seq, topic_seq, ts_ns: now.0, body: Some(body) };
        self.buffer.clear();
        // Encoding into a Vec cannot run out of room.
        let _ = envelope.encode(&mut self.buffer);
        &self.buffer
    }
}

/// A PnL message.
#[must_use]
pub fn pnl_message(strategy: String, pnl: &PnlValues, ts: UnixNanos) -> proto::Pnl {
    proto::Pnl {
        strategy,
        equity: pnl.equity.to_string(),
        realized: pnl.realized.to_string(),
        unrealized: pnl.unrealized.to_string(),
        fees: pnl.fees.to_string(),
        funding: pnl.funding.to_string(),
        ts_ns: ts.0,
    }
}

/// The wire side of an order side.
#[must_use]
pub fn side(side: OrderSide) -> proto::Side {
    match side {
        OrderSide::Buy => proto::Side::Buy,
        OrderSide::Sell => proto::Side::Sell,
    }
}

/// The wire order type.
#[must_use]
pub fn order_type(order_type: OrderType) -> proto::OrderType {
    match order_type {
        OrderType::Market => proto::OrderType::Market,
        OrderType::Limit => proto::OrderType::Limit,
        OrderType::StopMarket => proto::OrderType::StopMarket,
        OrderType::StopLimit => proto::OrderType::StopLimit,
    }
}

/// The wire order status.
#[must_use]
pub fn order_status(status: OrderStatus) -> proto::OrderStatus {
    use proto::OrderStatus as Wire;
    match status {
        OrderStatus::Initialized => Wire::Initialized,
        OrderStatus::Denied => Wire::Denied,
        OrderStatus::Submitted => Wire::Submitted,
        OrderStatus::Accepted => Wire::Accepted,
        OrderStatus::PartiallyFilled => Wire::PartiallyFilled,
        OrderStatus::Filled => Wire::Filled,
        OrderStatus::PendingCancel => Wire::PendingCancel,
        OrderStatus::Canceled => Wire::Canceled,
        OrderStatus::PendingReplace => Wire::PendingReplace,
        OrderStatus::Rejected => Wire::Rejected,
        OrderStatus::Expired => Wire::Expired,
        OrderStatus::Triggered => Wire::Triggered,
    }
}

/// The wire kind of an order event and its reason code (empty when it has none).
#[must_use]
pub fn order_event_kind(kind: OrderEventKind) -> (proto::OrderEventKind, &'static str) {
    use proto::OrderEventKind as Wire;
    match kind {
        OrderEventKind::Denied(reason) => (Wire::Denied, reason.code()),
        OrderEventKind::Submitted => (Wire::Submitted, ""),
        OrderEventKind::Accepted(_) => (Wire::Accepted, ""),
        OrderEventKind::Rejected(reason) => (Wire::Rejected, reason.code()),
        OrderEventKind::PendingCancel => (Wire::PendingCancel, ""),
        OrderEventKind::Canceled => (Wire::Canceled, ""),
        OrderEventKind::CancelRejected(reason) => (Wire::CancelRejected, reason.code()),
        OrderEventKind::PendingReplace => (Wire::PendingReplace, ""),
        OrderEventKind::Replaced { .. } => (Wire::Replaced, ""),
        OrderEventKind::ReplaceRejected(reason) => (Wire::ReplaceRejected, reason.code()),
        OrderEventKind::Triggered => (Wire::Triggered, ""),
        OrderEventKind::Expired => (Wire::Expired, ""),
        OrderEventKind::Filled(_) => (Wire::Filled, ""),
    }
}

#[cfg(test)]
mod tests {
    use ferrotrade_model::{ClientOrderId, Fill, Money, Price, Quantity, VenueOrderId};

    use super::*;

    fn names() -> Names {
        Names {
            instruments: vec![proto::InstrumentRef {
                venue: "binance-usdm".into(),
                symbol: "BTCUSDT".into(),
                price_precision: 1,
                size_precision: 3,
            }],
            strategies: vec!["mm".into()],
            session: "s1".into(),
            mode: "replay".into(),
        }
    }

    fn fill(trade_id: u64) -> EngineEvent {
        EngineEvent::Fill {
            strategy: 0,
            fill: Fill {
                client_id: ClientOrderId(7),
                venue_order_id: VenueOrderId(99),
                trade_id,
                instrument: InstrumentIndex(0),
                side: OrderSide::Sell,
                price: Price(612_345),
                quantity: Quantity(12),
                fee: Money::from_units(-1),
                liquidity: Liquidity::Maker,
                ts_event: UnixNanos(5),
                ts_recv: UnixNanos(6),
            },
        }
    }

    #[test]
    fn envelopes_are_numbered_overall_and_per_topic() {
        let mut encoder = Encoder::new(names());
        let mut decoded = Vec::new();
        for (index, event) in
            [fill(1), EngineEvent::Heartbeat { state: proto::TradingState::Active, ts: UnixNanos(1) }, fill(2)]
                .into_iter()
                .enumerate()
        {
            let (topic, body) = encoder.engine_body(event, index as u64, 0, 10);
            let bytes = encoder.seal(&topic, body, UnixNanos(100)).to_vec();
            decoded.push((topic, proto::Envelope::decode(bytes.as_slice()).expect("decodes")));
        }
        let numbers: Vec<(&str, u64, u64)> =
            decoded.iter().map(|(topic, envelope)| (topic.as_str(), envelope.seq, envelope.topic_seq)).collect();
        assert_eq!(
            numbers,
            [("fill.binance-usdm.BTCUSDT", 1, 1), ("heartbeat", 2, 1), ("fill.binance-usdm.BTCUSDT", 3, 2)]
        );
        let Some(Body::Fill(fill)) = &decoded[2].1.body else { panic!("a fill body") };
        assert_eq!((fill.trade_id, fill.price, fill.quantity, fill.strategy.as_str()), (2, 612_345, 12, "mm"));
        assert_eq!(fill.side, proto::Side::Sell as i32);
        assert_eq!(fill.fee, "-1");
        assert_eq!(fill.instrument.as_ref().map(|i| i.price_precision), Some(1));
    }

    #[test]
    fn books_carry_only_their_valid_levels() {
        let encoder = Encoder::new(names());
        let mut top = BookTop::empty(InstrumentIndex(0));
        top.set_side(
            true,
            [(10, 1), (9, 2)].into_iter().map(|(p, s)| ferrotrade_model::Level { price: Price(p), size: Quantity(s) }),
        );
        top.set_side(false, std::iter::once(ferrotrade_model::Level { price: Price(11), size: Quantity(3) }));
        let (topic, body) = encoder.market_body(&MarketEvent::Book(top));
        assert_eq!(topic, "book.binance-usdm.BTCUSDT");
        let Body::Book(book) = body else { panic!("a book") };
        assert_eq!(
            (book.bid_price, book.bid_size, book.ask_price, book.ask_size),
            (vec![10, 9], vec![1, 2], vec![11], vec![3])
        );
    }
}
