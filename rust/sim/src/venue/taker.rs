//! Taking liquidity: market and marketable limit orders against the recorded book, with the memory of
//! what our earlier takers consumed (see the module docs of [`crate::venue`]).

use ferrotrade_model::{Liquidity, OrderEvent, OrderType, Price, TimeInForce, UnixNanos};

use super::{Consumed, SimVenue, WorkingOrder};

impl SimVenue {
    /// Quantity the recorded contra levels within `limit` (`None`: any price) still offer to `order`,
    /// net of what our takers consumed; stops counting at `want`.
    pub(super) fn available(&self, order: &WorkingOrder, limit: Option<Price>, want: i64) -> i64 {
        let side = order.contra_side();
        let mut total = 0;
        for level in self.book.depth(side, usize::MAX) {
            if total >= want || limit.is_some_and(|_| !order.accepts(level.price)) {
                break;
            }
            total += (level.size.0 - self.consumed_at(side, level.price)).max(0);
        }
        total
    }

    /// Whether a post-only order at its limit would take: the contra best (or, without a contra book,
    /// the last price) is at or through the limit.
    pub(super) fn would_take(&self, order: &WorkingOrder) -> bool {
        match self.book.best(order.contra_side()) {
            Some(best) => order.accepts(best.price),
            None => self.last_price.is_some_and(|last| order.accepts(last)),
        }
    }

    /// Walks the contra levels for `order` (within `limit`, when given) and fills it level by level as
    /// taker, remembering the consumed quantity per level.
    fn take(&mut self, order: &mut WorkingOrder, limit: Option<Price>, now: UnixNanos, out: &mut Vec<OrderEvent>) {
        let side = order.contra_side();
        let mut takes = std::mem::take(&mut self.takes);
        takes.clear();
        let mut want = self.ledger.executable(order);
        for level in self.book.depth(side, usize::MAX) {
            if want <= 0 || limit.is_some_and(|_| !order.accepts(level.price)) {
                break;
            }
            let free = level.size.0 - self.consumed_at(side, level.price);
            if free > 0 {
                let quantity = free.min(want);
                takes.push((level.price, quantity));
                want -= quantity;
            }
        }
        for &(price, quantity) in &takes {
            let executed = self.ledger.fill(order, price, quantity, Liquidity::Taker, now, out);
            match self.consumed.iter_mut().find(|c| c.side == side && c.price == price) {
                Some(consumed) => consumed.quantity += executed,
                None => self.consumed.push(Consumed { side, price, quantity: executed }),
            }
        }
        self.takes = takes;
    }

    /// Executes an accepted market order (or a triggered stop-market); what cannot fill expires.
    pub(super) fn execute_market(&mut self, mut order: WorkingOrder, now: UnixNanos, out: &mut Vec<OrderEvent>) {
        if self.book.best(order.contra_side()).is_some() {
            self.take(&mut order, None, now, out);
        } else if let Some(last) = self.last_price {
            let price = self.slipped(last, order.side);
            let leaves = order.leaves();
            self.ledger.fill(&mut order, price, leaves, Liquidity::Taker, now, out);
        }
        self.ledger.expire(&mut order, now, out);
    }

    /// Executes an accepted limit order (or a triggered stop-limit): takes what its limit allows, then
    /// rests (GTC) or expires (IOC, FOK). A post-only order that would take expires (only reachable by a
    /// triggered stop-limit; a plain one was rejected at submit).
    pub(super) fn execute_limit(&mut self, mut order: WorkingOrder, now: UnixNanos, out: &mut Vec<OrderEvent>) {
        if order.post_only && self.would_take(&order) {
            self.ledger.expire(&mut order, now, out);
            return;
        }
        let limit = Some(order.price);
        if self.book.best(order.contra_side()).is_some() {
            if order.time_in_force == TimeInForce::Fok {
                let want = self.ledger.executable(&order);
                if want < order.leaves() || self.available(&order, limit, want) < want {
                    self.ledger.expire(&mut order, now, out);
                    return;
                }
            }
            self.take(&mut order, limit, now, out);
        } else if let Some(last) = self.last_price
            && order.accepts(last)
        {
            // No book (bar or trade-only data): a marketable limit trades at the last price.
            let leaves = order.leaves();
            if order.time_in_force != TimeInForce::Fok || self.ledger.executable(&order) == leaves {
                self.ledger.fill(&mut order, last, leaves, Liquidity::Taker, now, out);
            }
        }
        if order.done {
            return;
        }
        match order.time_in_force {
            TimeInForce::Gtc => self.rest(order),
            TimeInForce::Ioc | TimeInForce::Fok => self.ledger.expire(&mut order, now, out),
        }
    }

    /// Executes an accepted or triggered order according to its type.
    pub(super) fn execute(&mut self, order: WorkingOrder, now: UnixNanos, out: &mut Vec<OrderEvent>) {
        match order.order_type {
            OrderType::Market | OrderType::StopMarket => self.execute_market(order, now, out),
            OrderType::Limit | OrderType::StopLimit => self.execute_limit(order, now, out),
        }
    }
}
