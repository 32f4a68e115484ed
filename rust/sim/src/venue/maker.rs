//! Market data into the venue: recorded book rows and trades, and what they do to working orders (queue
//! advance, maker fills, stop triggers). See the module docs of [`crate::venue`] for the rules.

use ferrotrade_model::{
    AggressorSide, EventRow, Liquidity, OrderEvent, OrderEventKind, OrderSide, Price, UnixNanos, flags,
};

use super::SimVenue;

impl SimVenue {
    /// Applies one recorded book row (exchange time `row.ts_event`). When the venue holds no resting
    /// order and remembers no taken liquidity this is the book update and nothing else. Otherwise the
    /// row resets the taken-liquidity memory of its level, moves the queue of our orders at its price,
    /// and at the last row of a message (`flags & LAST`) fills our orders the book moved through.
    #[inline]
    pub fn on_book_row(&mut self, row: &EventRow, out: &mut Vec<OrderEvent>) {
        let side = row.book_side();
        if self.resting.is_empty() && self.consumed.is_empty() {
            if self.book.apply_row(side, row.price, row.size, row.flags).is_err() {
                self.bad_rows += 1;
            }
            return;
        }
        let prev = self.book.size_at(side, row.price).0;
        if self.book.apply_row(side, row.price, row.size, row.flags).is_err() {
            self.bad_rows += 1;
            return;
        }
        if row.flags & flags::CLEAR != 0 {
            self.consumed.clear();
        } else if !self.consumed.is_empty() {
            self.consumed.retain(|c| !(c.side == side && c.price == row.price));
        }
        let new = row.size.0;
        for order in &mut self.resting {
            if order.price == row.price && order.own_side() == side {
                order.queue_ahead = self.queue.on_depth_change(order.queue_ahead, prev, new, order.traded_at_level);
                order.traded_at_level = 0;
            }
        }
        if row.flags & flags::LAST != 0 {
            if row.flags & flags::SNAPSHOT != 0 {
                // A snapshot leaves out the levels that are gone: cap every queue at its level's size now.
                for order in &mut self.resting {
                    order.queue_ahead = order.queue_ahead.min(self.book.size_at(order.own_side(), order.price).0);
                }
            }
            self.fill_crossed(row.ts_event, out);
        }
    }

    /// Fills, at their own price and as maker, the resting orders the consistent book now trades through.
    fn fill_crossed(&mut self, now: UnixNanos, out: &mut Vec<OrderEvent>) {
        let best_bid = self.book.best_bid().map(|level| level.price);
        let best_ask = self.book.best_ask().map(|level| level.price);
        for index in 0..self.resting.len() {
            let order = &self.resting[index];
            let crossed = match order.side {
                OrderSide::Buy => best_ask.is_some_and(|ask| ask <= order.price),
                OrderSide::Sell => best_bid.is_some_and(|bid| bid >= order.price),
            };
            if crossed && !order.done {
                let price = order.price;
                self.fill_all(index, price, Liquidity::Maker, now, out);
            }
        }
        self.resting.retain(|order| !order.done);
    }

    /// Applies one recorded trade (exchange time `row.ts_event`): maker fills of resting orders at or
    /// through its price, then stop triggers on its price. The trade becomes the last price.
    pub fn on_trade(&mut self, row: &EventRow, out: &mut Vec<OrderEvent>) {
        let (price, size, now) = (row.price, row.size.0, row.ts_event);
        self.last_price = Some(price);
        if !self.resting.is_empty() {
            self.trade_resting(price, size, row.aggressor(), now, out);
        }
        if !self.stops.is_empty() {
            self.trigger_stops(now, out, |side, trigger| match side {
                OrderSide::Buy => price >= trigger,
                OrderSide::Sell => price <= trigger,
            });
        }
    }

    /// Maker fills from one trade; see the module docs.
    fn trade_resting(
        &mut self,
        price: Price,
        size: i64,
        aggressor: AggressorSide,
        now: UnixNanos,
        out: &mut Vec<OrderEvent>,
    ) {
        // Quantity of this trade already given to our earlier orders at the trade price, per side.
        let (mut used_bid, mut used_ask) = (0i64, 0i64);
        for index in 0..self.resting.len() {
            let order = &mut self.resting[index];
            if order.done {
                continue;
            }
            let (through, at_price, used) = match order.side {
                OrderSide::Buy => {
                    (price < order.price, price == order.price && aggressor != AggressorSide::Buyer, &mut used_bid)
                }
                OrderSide::Sell => {
                    (price > order.price, price == order.price && aggressor != AggressorSide::Seller, &mut used_ask)
                }
            };
            if through {
                let own = order.price;
                self.fill_all(index, own, Liquidity::Maker, now, out);
            } else if at_price {
                order.traded_at_level += size;
                let passing = (size - *used).max(0);
                let excess = passing - order.queue_ahead;
                order.queue_ahead = (order.queue_ahead - passing).max(0);
                if excess > 0 {
                    let own = order.price;
                    *used += self.ledger.fill(order, own, excess, Liquidity::Maker, now, out);
                }
            }
        }
        self.resting.retain(|order| !order.done);
    }

    /// Triggers the stops `hit(side, trigger)` selects, in arrival order: `Triggered`, then each executes
    /// as a market or limit order.
    pub(super) fn trigger_stops(
        &mut self,
        now: UnixNanos,
        out: &mut Vec<OrderEvent>,
        hit: impl Fn(OrderSide, Price) -> bool,
    ) {
        let mut triggered = std::mem::take(&mut self.triggered);
        triggered.clear();
        self.stops.retain(|order| {
            if hit(order.side, order.trigger) {
                triggered.push(*order);
                false
            } else {
                true
            }
        });
        for order in triggered.drain(..) {
            out.push(self.ledger.event(order.client_id, OrderEventKind::Triggered, now));
            self.execute(order, now, out);
        }
        self.triggered = triggered;
    }
}
