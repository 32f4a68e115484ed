//! The venue's side of an order ([`WorkingOrder`]) and the [`Ledger`] that books its fills: trade ids,
//! fees, the venue-side position and the reduce-only cap.

use ferrotrade_model::{
    BookSide, ClientOrderId, Fill, InstrumentIndex, Liquidity, OrderEvent, OrderEventKind, OrderRequest, OrderSide,
    OrderType, Price, Quantity, TimeInForce, UnixNanos, VenueOrderId,
};

use crate::fees::FeeModel;

/// An order the venue holds: a resting limit, or a stop waiting for its trigger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct WorkingOrder {
    pub client_id: ClientOrderId,
    pub venue_id: VenueOrderId,
    pub side: OrderSide,
    pub order_type: OrderType,
    pub time_in_force: TimeInForce,
    /// Limit price (limit, stop-limit).
    pub price: Price,
    /// Trigger price (stops).
    pub trigger: Price,
    /// Total quantity.
    pub quantity: Quantity,
    /// Executed so far.
    pub filled: Quantity,
    pub post_only: bool,
    pub reduce_only: bool,
    /// Recorded size ahead of the order at its price (resting limits).
    pub queue_ahead: i64,
    /// Trade quantity printed at the order's price since the level last changed (see `queue.rs`).
    pub traded_at_level: i64,
    /// Filled, expired or canceled; dropped at the end of the current step.
    pub done: bool,
}

impl WorkingOrder {
    /// A new order from a request, before it is placed anywhere.
    pub fn from_request(client_id: ClientOrderId, venue_id: VenueOrderId, request: &OrderRequest) -> WorkingOrder {
        WorkingOrder {
            client_id,
            venue_id,
            side: request.side,
            order_type: request.order_type,
            time_in_force: if request.order_type == OrderType::Market {
                TimeInForce::Ioc
            } else {
                request.time_in_force
            },
            price: request.price,
            trigger: request.trigger_price,
            quantity: request.quantity,
            filled: Quantity::ZERO,
            post_only: request.post_only,
            reduce_only: request.reduce_only,
            queue_ahead: 0,
            traded_at_level: 0,
            done: false,
        }
    }

    /// Quantity still open.
    pub fn leaves(&self) -> i64 {
        self.quantity.0 - self.filled.0
    }

    /// The book side the order rests on.
    pub fn own_side(&self) -> BookSide {
        match self.side {
            OrderSide::Buy => BookSide::Bid,
            OrderSide::Sell => BookSide::Ask,
        }
    }

    /// The book side the order takes from.
    pub fn contra_side(&self) -> BookSide {
        match self.side {
            OrderSide::Buy => BookSide::Ask,
            OrderSide::Sell => BookSide::Bid,
        }
    }

    /// Whether a price on the contra side is at or better than the order's limit.
    pub fn accepts(&self, price: Price) -> bool {
        match self.side {
            OrderSide::Buy => price <= self.price,
            OrderSide::Sell => price >= self.price,
        }
    }
}

/// Books fills: assigns venue trade ids, charges fees, keeps the venue-side position.
#[derive(Debug, Clone)]
pub(crate) struct Ledger {
    pub instrument: InstrumentIndex,
    pub fees: FeeModel,
    /// Net position from the venue's own fills, size mantissa.
    pub position: i64,
    pub next_trade_id: u64,
}

impl Ledger {
    /// How much a reduce-only order of `side` may still execute: the opposite position, or 0.
    pub fn reducible(&self, side: OrderSide) -> i64 {
        match side {
            OrderSide::Buy => (-self.position).max(0),
            OrderSide::Sell => self.position.max(0),
        }
    }

    /// The most `order` may execute now: its leaves, capped at the position for reduce-only orders.
    pub fn executable(&self, order: &WorkingOrder) -> i64 {
        let leaves = order.leaves().max(0);
        if order.reduce_only { leaves.min(self.reducible(order.side)) } else { leaves }
    }

    /// An event of `order`'s client id at venue time `now` (`ts_recv = ts_event`; the engine adds the
    /// response latency).
    pub fn event(&self, client_id: ClientOrderId, kind: OrderEventKind, now: UnixNanos) -> OrderEvent {
        OrderEvent { client_id, instrument: self.instrument, kind, ts_event: now, ts_recv: now }
    }

    /// Executes up to `quantity` of `order` at `price` and pushes the `Filled` event; returns what was
    /// executed (less than asked when the order has less open, or a reduce-only order meets the position).
    /// Marks the order done when nothing is left, and expires a reduce-only order whose position is closed.
    pub fn fill(
        &mut self,
        order: &mut WorkingOrder,
        price: Price,
        quantity: i64,
        liquidity: Liquidity,
        now: UnixNanos,
        out: &mut Vec<OrderEvent>,
    ) -> i64 {
        let executed = quantity.min(self.executable(order));
        if executed > 0 {
            let size = Quantity(executed);
            let trade_id = self.next_trade_id;
            self.next_trade_id += 1;
            order.filled.0 += executed;
            self.position += order.side.sign() * executed;
            let fill = Fill {
                client_id: order.client_id,
                venue_order_id: order.venue_id,
                trade_id,
                instrument: self.instrument,
                side: order.side,
                price,
                quantity: size,
                fee: self.fees.fee(price, size, liquidity),
                liquidity,
                ts_event: now,
                ts_recv: now,
            };
            out.push(self.event(order.client_id, OrderEventKind::Filled(fill), now));
        }
        if order.leaves() <= 0 {
            order.done = true;
        } else if order.reduce_only && self.reducible(order.side) == 0 {
            self.expire(order, now, out);
        }
        executed
    }

    /// Ends `order` by its time in force (or a closed position) and pushes `Expired`.
    pub fn expire(&self, order: &mut WorkingOrder, now: UnixNanos, out: &mut Vec<OrderEvent>) {
        if !order.done {
            order.done = true;
            out.push(self.event(order.client_id, OrderEventKind::Expired, now));
        }
    }
}
