//! Bar-only data (klines, no book): touch fills of resting orders and stop triggers on a bar's range.
//! See the module docs of [`crate::venue`] for the optimism and pessimism of each rule.

use ferrotrade_model::{Bar, Liquidity, OrderEvent, OrderEventKind, OrderSide, OrderType, UnixNanos};

use super::SimVenue;

impl SimVenue {
    /// Applies one bar at its close time (`bar.ts_event`): resting limits the bar's range reached fill at
    /// their price as maker, then stops whose trigger the range reached trigger; the close becomes the
    /// last price (what market orders fill at until the next bar).
    pub fn on_bar(&mut self, bar: &Bar, out: &mut Vec<OrderEvent>) {
        let now = bar.ts_event;
        if !self.resting.is_empty() {
            for index in 0..self.resting.len() {
                let order = &self.resting[index];
                let touched = match order.side {
                    OrderSide::Buy => bar.low <= order.price,
                    OrderSide::Sell => bar.high >= order.price,
                };
                if touched && !order.done {
                    let price = order.price;
                    self.fill_all(index, price, Liquidity::Maker, now, out);
                }
            }
            self.resting.retain(|order| !order.done);
        }
        if !self.stops.is_empty() {
            self.trigger_bar_stops(bar, now, out);
        }
        self.last_price = Some(bar.close);
    }

    /// Stops on a bar: the trigger is reached when the high (buy) / low (sell) gets there. The order then
    /// trades at the trigger, or at the open when the bar opened through it: stop-markets in full (with
    /// the configured slippage), stop-limits if that price is within their limit, else they rest.
    fn trigger_bar_stops(&mut self, bar: &Bar, now: UnixNanos, out: &mut Vec<OrderEvent>) {
        let mut triggered = std::mem::take(&mut self.triggered);
        triggered.clear();
        self.stops.retain(|order| {
            let hit = match order.side {
                OrderSide::Buy => bar.high >= order.trigger,
                OrderSide::Sell => bar.low <= order.trigger,
            };
            if hit {
                triggered.push(*order);
            }
            !hit
        });
        let saved_last = self.last_price;
        for order in triggered.drain(..) {
            out.push(self.ledger.event(order.client_id, OrderEventKind::Triggered, now));
            let reference = match order.side {
                OrderSide::Buy => order.trigger.max(bar.open),
                OrderSide::Sell => order.trigger.min(bar.open),
            };
            // The stop trades against the price where it triggered, not the previous close.
            self.last_price = Some(reference);
            match order.order_type {
                OrderType::StopLimit | OrderType::Limit => self.execute_limit(order, now, out),
                OrderType::StopMarket | OrderType::Market => self.execute_market(order, now, out),
            }
        }
        self.last_price = saved_last;
        self.triggered = triggered;
    }
}
