//! Requests from the strategy: submit (with validation), cancel and amend.

use ferrotrade_model::{
    ClientOrderId, ContractType, Money, OrderEvent, OrderEventKind, OrderRequest, OrderSide, OrderType, Price,
    Quantity, RejectReason, UnixNanos, VenueOrderId,
};

use super::{SimVenue, WorkingOrder};

/// Where a working order was found.
#[derive(Debug, Clone, Copy)]
enum Slot {
    Resting(usize),
    Stop(usize),
}

impl SimVenue {
    /// Receives a new order at venue time `now` and pushes its events: `Rejected(reason)`, or
    /// `Accepted` followed by whatever happens at once (fills, `Expired`). See the module docs.
    pub fn submit(
        &mut self,
        now: UnixNanos,
        client_id: ClientOrderId,
        request: &OrderRequest,
        out: &mut Vec<OrderEvent>,
    ) {
        if let Err(reason) = self.check(request) {
            out.push(self.ledger.event(client_id, OrderEventKind::Rejected(reason), now));
            return;
        }
        let venue_id = VenueOrderId(self.next_venue_id);
        self.next_venue_id += 1;
        let order = WorkingOrder::from_request(client_id, venue_id, request);
        out.push(self.ledger.event(client_id, OrderEventKind::Accepted(venue_id), now));
        match request.order_type {
            OrderType::Market | OrderType::Limit => self.execute(order, now, out),
            OrderType::StopMarket | OrderType::StopLimit => self.stops.push(order),
        }
    }

    /// Cancels a working order: `Canceled`, or `CancelRejected(UnknownOrder)`.
    pub fn cancel(&mut self, now: UnixNanos, client_id: ClientOrderId, out: &mut Vec<OrderEvent>) {
        let kind = match self.find(client_id) {
            Some(Slot::Resting(index)) => {
                self.resting.remove(index);
                OrderEventKind::Canceled
            }
            Some(Slot::Stop(index)) => {
                self.stops.remove(index);
                OrderEventKind::Canceled
            }
            None => OrderEventKind::CancelRejected(RejectReason::UnknownOrder),
        };
        out.push(self.ledger.event(client_id, kind, now));
    }

    /// Changes a working order's limit price and/or total quantity: `Replaced { price, quantity }` or
    /// `ReplaceRejected(reason)`. The price of a stop-market is ignored (it has none). A re-priced order
    /// that now crosses the book takes liquidity like a new limit order.
    pub fn amend(
        &mut self,
        now: UnixNanos,
        client_id: ClientOrderId,
        price: Price,
        quantity: Quantity,
        out: &mut Vec<OrderEvent>,
    ) {
        let Some(slot) = self.find(client_id) else {
            out.push(self.ledger.event(client_id, OrderEventKind::ReplaceRejected(RejectReason::UnknownOrder), now));
            return;
        };
        let current = match slot {
            Slot::Resting(index) => self.resting[index],
            Slot::Stop(index) => self.stops[index],
        };
        let price = if current.order_type == OrderType::StopMarket { current.price } else { price };
        let mut amended = current;
        amended.price = price;
        amended.quantity = quantity;
        let reason = if current.order_type != OrderType::StopMarket { self.check_price(price).err() } else { None }
            .or_else(|| self.check_quantity(quantity).err())
            .or_else(|| (quantity <= current.filled).then_some(RejectReason::InvalidAmend))
            .or_else(|| (price == current.price && quantity == current.quantity).then_some(RejectReason::InvalidAmend))
            .or_else(|| {
                (matches!(slot, Slot::Resting(_)) && amended.post_only && self.would_take(&amended))
                    .then_some(RejectReason::PostOnlyWouldTake)
            });
        if let Some(reason) = reason {
            out.push(self.ledger.event(client_id, OrderEventKind::ReplaceRejected(reason), now));
            return;
        }
        out.push(self.ledger.event(client_id, OrderEventKind::Replaced { price, quantity }, now));
        let loses_priority = price != current.price || quantity > current.quantity;
        match slot {
            Slot::Stop(index) => self.stops[index] = amended,
            Slot::Resting(index) if !loses_priority => self.resting[index] = amended,
            Slot::Resting(index) => {
                // Back of the queue: re-enter as a new limit order (it may now cross the book).
                self.resting.remove(index);
                self.execute_limit(amended, now, out);
            }
        }
    }

    /// The order's slot, if the venue still holds it.
    fn find(&self, client_id: ClientOrderId) -> Option<Slot> {
        if let Some(index) = self.resting.iter().position(|order| order.client_id == client_id && !order.done) {
            return Some(Slot::Resting(index));
        }
        self.stops.iter().position(|order| order.client_id == client_id && !order.done).map(Slot::Stop)
    }

    /// Venue-side validation of a new order, in the order of the module docs.
    fn check(&self, request: &OrderRequest) -> Result<(), RejectReason> {
        let has_limit = matches!(request.order_type, OrderType::Limit | OrderType::StopLimit);
        let is_stop = matches!(request.order_type, OrderType::StopMarket | OrderType::StopLimit);
        if has_limit {
            self.check_price(request.price)?;
        }
        if is_stop {
            self.check_price(request.trigger_price)?;
        }
        self.check_quantity(request.quantity)?;
        let reference = match request.order_type {
            OrderType::Limit | OrderType::StopLimit => Some(request.price),
            OrderType::StopMarket => Some(request.trigger_price),
            OrderType::Market => {
                let contra = match request.side {
                    OrderSide::Buy => self.book.best_ask(),
                    OrderSide::Sell => self.book.best_bid(),
                };
                contra.map(|level| level.price).or(self.last_price)
            }
        };
        let Some(reference) = reference else {
            return Err(RejectReason::NoLiquidity);
        };
        self.check_notional(reference, request.quantity)?;
        if request.reduce_only && self.ledger.reducible(request.side) == 0 {
            return Err(RejectReason::ReduceOnlyWouldIncrease);
        }
        if is_stop && let Some(last) = self.last_price {
            let through = match request.side {
                OrderSide::Buy => last >= request.trigger_price,
                OrderSide::Sell => last <= request.trigger_price,
            };
            if through {
                return Err(RejectReason::WouldTriggerImmediately);
            }
        }
        if request.order_type == OrderType::Limit && request.post_only {
            let probe = WorkingOrder::from_request(ClientOrderId(0), VenueOrderId(0), request);
            if self.would_take(&probe) {
                return Err(RejectReason::PostOnlyWouldTake);
            }
        }
        Ok(())
    }

    /// A limit or trigger price must be positive and a multiple of the tick.
    fn check_price(&self, price: Price) -> Result<(), RejectReason> {
        if price.0 <= 0 {
            return Err(RejectReason::InvalidPrice);
        }
        if price.0 % self.instrument.tick_size.0 != 0 {
            return Err(RejectReason::InvalidTickSize);
        }
        Ok(())
    }

    /// A quantity must be positive and a multiple of the lot.
    fn check_quantity(&self, quantity: Quantity) -> Result<(), RejectReason> {
        if quantity.0 <= 0 || quantity.0 % self.instrument.lot_size.0 != 0 {
            return Err(RejectReason::InvalidLotSize);
        }
        Ok(())
    }

    /// The order's quote value against the instrument's minimum notional, where it has one. The quote
    /// value of inverse contracts is their face value (`quantity x contract_size`).
    fn check_notional(&self, price: Price, quantity: Quantity) -> Result<(), RejectReason> {
        let Some(minimum) = self.instrument.min_notional else {
            return Ok(());
        };
        let instrument = &self.instrument;
        let value = match instrument.contract_type {
            ContractType::Spot | ContractType::Linear => Money::linear_notional(
                price,
                instrument.price_precision,
                quantity,
                instrument.size_precision,
                instrument.contract_size,
            ),
            ContractType::Inverse => {
                Money::linear_notional(Price(1), 0, quantity, instrument.size_precision, instrument.contract_size)
            }
        };
        if value < Money::from_decimal(minimum) { Err(RejectReason::MinNotional) } else { Ok(()) }
    }
}
