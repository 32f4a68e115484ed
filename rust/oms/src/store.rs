//! [`OrderStore`]: every order of a run, its client id, its state, and the per-instrument view of the open
//! ones.
//!
//! # Layout
//! Client ids are dense and increasing (`first, first + 1, ...`), so orders live in one `Vec` indexed by
//! `id - first`: a lookup is a subtraction and a bounds check. Finished orders stay there (the report lists
//! every order). Per instrument the store keeps the ids of the open orders (a small sorted `Vec`), the sum
//! of their leaves per side, and the trade ids already applied: a sorted `Vec` that a new (higher) trade id
//! is pushed onto, plus a `BTreeSet` for ids arriving out of order. No hashing, exact, 8 bytes per fill,
//! and no iteration order that could reach observable state.
//!
//! # Invariants (checked by `tests/proptest_oms.rs`)
//! - `0 <= filled <= request.quantity` for every order; `filled + leaves == quantity`.
//! - Every status change follows [`crate::transitions`]; a refused event changes nothing.
//! - A fill whose `(instrument, side, trade_id)` was applied before is [`Applied::DuplicateFill`] and changes
//!   nothing; dedup runs before the state check, so a replayed fill of a now-filled order is a duplicate,
//!   not an error.
//! - `open_ids(i)` lists exactly the orders of instrument `i` whose status is open, ascending;
//!   `open_exposure(i)` is the sum of their leaves per side.
//!
//! # Cost
//! [`OrderStore::apply`] does O(1) work plus, when an order opens or closes, a binary search and shift in
//! its instrument's open list (a handful of entries). It allocates only when a `Vec` outgrows its capacity
//! (amortized; [`OrderStore::with_capacity`] avoids even that for the order table).
//!
//! # Dedup key
//! The contract keys fills by `(instrument, trade_id)`. A self-trade (two of our orders on both sides of one
//! venue trade) shares its trade id on some venues; its second leg would be reported as a duplicate. The
//! backtester never matches our orders against each other, so this only matters live.

use ferrotrade_model::{
    ClientOrderId, InstrumentIndex, OrderEvent, OrderEventKind, OrderRequest, OrderSide, OrderStatus, Quantity,
    UnixNanos,
};

use crate::dedup::TradeIds;
use crate::error::OrderStateError;
use crate::order::Order;
use crate::transitions::next_transition;

/// What [`OrderStore::apply`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// A non-fill event was applied; the order's new status.
    Status(OrderStatus),
    /// A new fill was applied; the order's new status. The caller applies the fill to the portfolio.
    Fill {
        /// The order's status after the fill.
        status: OrderStatus,
    },
    /// The fill's `(instrument, trade_id)` was applied before; nothing changed.
    DuplicateFill,
}

/// Per-instrument view: open orders, their leaves, applied trade ids.
#[derive(Debug, Clone, Default)]
struct InstrumentOrders {
    /// Ids of open orders, ascending.
    open: Vec<ClientOrderId>,
    /// Sum of the leaves of open buy orders.
    buy_leaves: Quantity,
    /// Sum of the leaves of open sell orders.
    sell_leaves: Quantity,
    /// Trade ids of the fills applied, per side of our order (`[buy, sell]`): when two of our own orders
    /// trade with each other (self-trade prevention off) the venue reports one trade id for both sides,
    /// and each side is a fill of its own.
    trades: [TradeIds; 2],
}

/// The index of `side` in [`InstrumentOrders::trades`].
const fn side_slot(side: OrderSide) -> usize {
    match side {
        OrderSide::Buy => 0,
        OrderSide::Sell => 1,
    }
}

impl InstrumentOrders {
    /// Removes `order`'s old contribution and adds its new one.
    fn update(&mut self, before: &Order, after: &Order) {
        let (was_open, now_open) = (before.is_open(), after.is_open());
        if was_open {
            *self.leaves_mut(before.request.side) -= before.leaves();
        }
        if now_open {
            *self.leaves_mut(after.request.side) += after.leaves();
        }
        if was_open != now_open {
            match (self.open.binary_search(&after.client_id), now_open) {
                (Err(position), true) => self.open.insert(position, after.client_id),
                (Ok(position), false) => {
                    self.open.remove(position);
                }
                // Unreachable while the store is consistent: open-ness and membership change together.
                _ => {}
            }
        }
    }

    fn leaves_mut(&mut self, side: OrderSide) -> &mut Quantity {
        match side {
            OrderSide::Buy => &mut self.buy_leaves,
            OrderSide::Sell => &mut self.sell_leaves,
        }
    }
}

/// All orders of a run, addressed by their client id.
#[derive(Debug, Clone, Default)]
pub struct OrderStore {
    /// The id of `orders[0]`.
    first: u64,
    /// Every order, in id order.
    orders: Vec<Order>,
    /// Per order: the status a refused cancel or amend returns to (see [`crate::transitions`]).
    resume: Vec<OrderStatus>,
    /// Indexed by [`InstrumentIndex`].
    instruments: Vec<InstrumentOrders>,
}

impl OrderStore {
    /// An empty store whose first order gets `first_client_id` (live: above every id used before, so ids
    /// stay monotonic across restarts).
    #[must_use]
    pub fn new(first_client_id: u64) -> OrderStore {
        OrderStore { first: first_client_id, ..OrderStore::default() }
    }

    /// An empty store with room for `orders` orders before it reallocates.
    #[must_use]
    pub fn with_capacity(first_client_id: u64, orders: usize) -> OrderStore {
        OrderStore {
            first: first_client_id,
            orders: Vec::with_capacity(orders),
            resume: Vec::with_capacity(orders),
            instruments: Vec::new(),
        }
    }

    /// Records a new `Initialized` order and returns its client id (the previous one plus one).
    ///
    /// The store keeps a small per-instrument record for every index up to `request.instrument`; indices are
    /// positions in the engine's instrument table, so they are dense and small.
    pub fn create(&mut self, request: OrderRequest, now: UnixNanos) -> ClientOrderId {
        let client_id = ClientOrderId(self.next_client_id());
        let instrument = request.instrument.get();
        if self.instruments.len() <= instrument {
            self.instruments.resize_with(instrument + 1, InstrumentOrders::default);
        }
        self.orders.push(Order::new(client_id, request, now));
        self.resume.push(OrderStatus::Initialized);
        client_id
    }

    /// The id the next [`OrderStore::create`] returns.
    #[must_use]
    pub fn next_client_id(&self) -> u64 {
        self.first + self.orders.len() as u64
    }

    /// Applies one event to its order.
    ///
    /// A fill is first deduplicated by `(instrument, side, trade_id)`, then checked against the order (same
    /// instrument, side and client id, positive size and price, no overfill) and the transition table. On
    /// success the order's status, filled size, fill notional, venue id, refusal reason, price and quantity
    /// (on `Replaced`) and `ts_last` (= `event.ts_event`) are updated, and the per-instrument open view with
    /// them. The caller applies an [`Applied::Fill`] to the portfolio.
    ///
    /// # Errors
    /// [`OrderStateError::UnknownOrder`] for an id the store never issued;
    /// [`OrderStateError::MismatchedEvent`] for an event of another instrument or a fill that does not fit
    /// the order; [`OrderStateError::IllegalTransition`], [`OrderStateError::Overfill`],
    /// [`OrderStateError::InvalidReplace`] from the transition table. Nothing changes on error.
    pub fn apply(&mut self, event: &OrderEvent) -> Result<Applied, OrderStateError> {
        let client_id = event.client_id;
        let index = self.index_of(client_id).ok_or(OrderStateError::UnknownOrder(client_id))?;
        let before = self.orders[index];
        let instrument = before.request.instrument;
        let mismatch = |reason| Err(OrderStateError::MismatchedEvent { client_id, reason });
        if event.instrument != instrument {
            return mismatch("event instrument differs from the order's");
        }
        let per_instrument = &mut self.instruments[instrument.get()];
        let mut after = before;
        let resume = self.resume[index];

        let transition = if let OrderEventKind::Filled(fill) = &event.kind {
            if per_instrument.trades[side_slot(fill.side)].contains(fill.trade_id) {
                return Ok(Applied::DuplicateFill);
            }
            if fill.client_id != client_id {
                return mismatch("fill of another order");
            }
            if fill.instrument != instrument {
                return mismatch("fill instrument differs from the order's");
            }
            if fill.side != before.request.side {
                return mismatch("fill side differs from the order's");
            }
            if fill.quantity.0 <= 0 {
                return mismatch("fill of a non-positive size");
            }
            if fill.price.0 <= 0 {
                return mismatch("fill at a non-positive price");
            }
            let quantity = before.request.quantity;
            let filled = before.filled.checked_add(fill.quantity).ok_or(OrderStateError::Overfill {
                client_id,
                quantity,
                filled: Quantity(i64::MAX),
            })?;
            let transition = next_transition(before.status, resume, &event.kind, quantity, filled)
                .map_err(|error| error.for_order(client_id))?;
            after.filled = filled;
            after.fill_notional += fill.price.notional(fill.quantity);
            if after.venue_order_id.is_none() {
                after.venue_order_id = Some(fill.venue_order_id);
            }
            per_instrument.trades[side_slot(fill.side)].insert(fill.trade_id);
            transition
        } else {
            let transition =
                next_transition(before.status, resume, &event.kind, before.request.quantity, before.filled)
                    .map_err(|error| error.for_order(client_id))?;
            match event.kind {
                OrderEventKind::Accepted(venue_order_id) => after.venue_order_id = Some(venue_order_id),
                OrderEventKind::Denied(reason)
                | OrderEventKind::Rejected(reason)
                | OrderEventKind::CancelRejected(reason)
                | OrderEventKind::ReplaceRejected(reason) => after.reason = Some(reason),
                OrderEventKind::Replaced { price, quantity } => {
                    after.request.price = price;
                    after.request.quantity = quantity;
                }
                _ => {}
            }
            transition
        };
        after.status = transition.status;
        after.ts_last = event.ts_event;
        per_instrument.update(&before, &after);
        self.orders[index] = after;
        self.resume[index] = transition.resume;
        Ok(match event.kind {
            OrderEventKind::Filled(_) => Applied::Fill { status: after.status },
            _ => Applied::Status(after.status),
        })
    }

    /// The order with this client id.
    #[must_use]
    pub fn get(&self, id: ClientOrderId) -> Option<&Order> {
        self.orders.get(self.index_of(id)?)
    }

    /// Number of open orders in `instrument`.
    #[must_use]
    pub fn open_count(&self, instrument: InstrumentIndex) -> usize {
        self.instruments.get(instrument.get()).map_or(0, |orders| orders.open.len())
    }

    /// The ids of the open orders in `instrument`, ascending.
    #[must_use]
    pub fn open(&self, instrument: InstrumentIndex) -> &[ClientOrderId] {
        self.instruments.get(instrument.get()).map_or(&[], |orders| orders.open.as_slice())
    }

    /// Appends the ids of the open orders in `instrument` to `out`, ascending.
    pub fn open_ids(&self, instrument: InstrumentIndex, out: &mut Vec<ClientOrderId>) {
        out.extend_from_slice(self.open(instrument));
    }

    /// `(sum of buy leaves, sum of sell leaves)` over the open orders in `instrument`, O(1).
    #[must_use]
    pub fn open_exposure(&self, instrument: InstrumentIndex) -> (Quantity, Quantity) {
        self.instruments
            .get(instrument.get())
            .map_or((Quantity::ZERO, Quantity::ZERO), |o| (o.buy_leaves, o.sell_leaves))
    }

    /// Number of distinct fills applied in `instrument`.
    #[must_use]
    pub fn fill_count(&self, instrument: InstrumentIndex) -> usize {
        self.instruments.get(instrument.get()).map_or(0, |orders| orders.trades.iter().map(TradeIds::len).sum())
    }

    /// Number of orders ever created.
    #[must_use]
    pub fn len(&self) -> usize {
        self.orders.len()
    }

    /// Whether no order was created.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.orders.is_empty()
    }

    /// Every order, in client id order.
    pub fn iter(&self) -> std::slice::Iter<'_, Order> {
        self.orders.iter()
    }

    /// Every order, in client id order, as a slice.
    #[must_use]
    pub fn orders(&self) -> &[Order] {
        &self.orders
    }

    fn index_of(&self, id: ClientOrderId) -> Option<usize> {
        let index = usize::try_from(id.0.checked_sub(self.first)?).ok()?;
        (index < self.orders.len()).then_some(index)
    }
}

impl<'a> IntoIterator for &'a OrderStore {
    type Item = &'a Order;
    type IntoIter = std::slice::Iter<'a, Order>;

    fn into_iter(self) -> Self::IntoIter {
        self.orders.iter()
    }
}

#[cfg(test)]
#[path = "store_tests.rs"]
mod tests;
