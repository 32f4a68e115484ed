//! Unit tests of [`super::OrderStore`] with hand-checked sizes (Binance USD-M BTCUSDT: price precision 1,
//! size precision 3).

use super::*;
use ferrotrade_model::{Fill, Liquidity, Money, Price, RejectReason, VenueOrderId};

const BTC: InstrumentIndex = InstrumentIndex(0);
const ETH: InstrumentIndex = InstrumentIndex(1);

fn event(client_id: ClientOrderId, kind: OrderEventKind) -> OrderEvent {
    OrderEvent { client_id, instrument: BTC, kind, ts_event: UnixNanos(100), ts_recv: UnixNanos(101) }
}

fn fill(client_id: ClientOrderId, side: OrderSide, trade_id: u64, price: i64, quantity: i64) -> OrderEvent {
    event(
        client_id,
        OrderEventKind::Filled(Fill {
            client_id,
            venue_order_id: VenueOrderId(77),
            trade_id,
            instrument: BTC,
            side,
            price: Price(price),
            quantity: Quantity(quantity),
            fee: Money::ZERO,
            liquidity: Liquidity::Maker,
            ts_event: UnixNanos(100),
            ts_recv: UnixNanos(101),
        }),
    )
}

/// A store with one accepted BTCUSDT order: buy 0.003 @ 61800.2.
fn accepted_buy() -> (OrderStore, ClientOrderId) {
    let mut store = OrderStore::new(1000);
    let id = store.create(OrderRequest::limit(BTC, OrderSide::Buy, Price(618_002), Quantity(3)), UnixNanos(5));
    store.apply(&event(id, OrderEventKind::Submitted)).unwrap();
    store.apply(&event(id, OrderEventKind::Accepted(VenueOrderId(77)))).unwrap();
    (store, id)
}

#[test]
fn ids_are_monotonic_and_orders_start_initialized() {
    let mut store = OrderStore::new(1000);
    assert!(store.is_empty());
    let request = OrderRequest::market(ETH, OrderSide::Sell, Quantity(5));
    let ids: Vec<_> = (0..3).map(|_| store.create(request, UnixNanos(9))).collect();
    assert_eq!(ids, [ClientOrderId(1000), ClientOrderId(1001), ClientOrderId(1002)]);
    assert_eq!(store.len(), 3);
    assert_eq!(store.next_client_id(), 1003);
    let order = store.get(ClientOrderId(1001)).unwrap();
    assert_eq!((order.status, order.ts_init, order.leaves()), (OrderStatus::Initialized, UnixNanos(9), Quantity(5)));
    assert_eq!(store.get(ClientOrderId(999)), None);
    assert_eq!(store.get(ClientOrderId(1003)), None);
    assert_eq!(store.open_count(ETH), 0, "Initialized is not open");
    let listed: Vec<_> = store.iter().map(|o| o.client_id).collect();
    assert_eq!(listed, ids);
}

#[test]
fn a_full_lifecycle_updates_fills_and_the_open_view() {
    let (mut store, id) = accepted_buy();
    assert_eq!(store.get(id).unwrap().venue_order_id, Some(VenueOrderId(77)));
    assert_eq!(store.open_exposure(BTC), (Quantity(3), Quantity(0)));
    assert_eq!(
        store.apply(&fill(id, OrderSide::Buy, 5, 618_002, 1)),
        Ok(Applied::Fill { status: OrderStatus::PartiallyFilled })
    );
    assert_eq!(store.open_exposure(BTC), (Quantity(2), Quantity(0)));
    assert_eq!(
        store.apply(&fill(id, OrderSide::Buy, 6, 618_000, 2)),
        Ok(Applied::Fill { status: OrderStatus::Filled })
    );
    let order = store.get(id).unwrap();
    assert_eq!((order.filled, order.leaves(), order.ts_last), (Quantity(3), Quantity(0), UnixNanos(100)));
    // 618002 x 1 + 618000 x 2 at 4 decimals = 185.4002 USDT.
    assert_eq!(order.fill_notional, 1_854_002);
    assert_eq!(store.open_count(BTC), 0);
    assert_eq!(store.open_exposure(BTC), (Quantity(0), Quantity(0)));
    assert_eq!(store.fill_count(BTC), 2);
    // Finished orders stay queryable.
    assert_eq!(store.get(id).unwrap().status, OrderStatus::Filled);
}

#[test]
fn duplicate_fills_change_nothing_even_after_the_order_is_done() {
    let (mut store, id) = accepted_buy();
    store.apply(&fill(id, OrderSide::Buy, 42, 618_002, 1)).unwrap();
    let snapshot = *store.get(id).unwrap();
    assert_eq!(store.apply(&fill(id, OrderSide::Buy, 42, 618_002, 1)), Ok(Applied::DuplicateFill));
    assert_eq!(*store.get(id).unwrap(), snapshot);
    store.apply(&fill(id, OrderSide::Buy, 43, 618_002, 2)).unwrap();
    assert_eq!(store.apply(&fill(id, OrderSide::Buy, 42, 618_002, 1)), Ok(Applied::DuplicateFill));
    assert_eq!(store.get(id).unwrap().filled, Quantity(3));
}

#[test]
fn a_self_trade_fills_both_of_our_orders_under_one_trade_id() {
    // Self-trade prevention off: our buy meets our sell and the venue reports trade 42 on both sides.
    let (mut store, buy) = accepted_buy();
    let sell = store.create(OrderRequest::limit(BTC, OrderSide::Sell, Price(618_002), Quantity(1)), UnixNanos(6));
    store.apply(&event(sell, OrderEventKind::Submitted)).unwrap();
    store.apply(&event(sell, OrderEventKind::Accepted(VenueOrderId(78)))).unwrap();
    assert_eq!(
        store.apply(&fill(buy, OrderSide::Buy, 42, 618_002, 1)),
        Ok(Applied::Fill { status: OrderStatus::PartiallyFilled })
    );
    assert_eq!(
        store.apply(&fill(sell, OrderSide::Sell, 42, 618_002, 1)),
        Ok(Applied::Fill { status: OrderStatus::Filled })
    );
    assert_eq!(store.apply(&fill(sell, OrderSide::Sell, 42, 618_002, 1)), Ok(Applied::DuplicateFill));
    assert_eq!(store.fill_count(BTC), 2);
}

#[test]
fn overfill_is_an_error_and_leaves_the_order_alone() {
    let (mut store, id) = accepted_buy();
    store.apply(&fill(id, OrderSide::Buy, 1, 618_002, 2)).unwrap();
    let error = store.apply(&fill(id, OrderSide::Buy, 2, 618_002, 2));
    assert_eq!(error, Err(OrderStateError::Overfill { client_id: id, quantity: Quantity(3), filled: Quantity(4) }));
    let order = store.get(id).unwrap();
    assert_eq!((order.filled, order.status), (Quantity(2), OrderStatus::PartiallyFilled));
    // The refused fill's trade id was not recorded: a correct fill with that id still applies.
    assert_eq!(
        store.apply(&fill(id, OrderSide::Buy, 2, 618_002, 1)),
        Ok(Applied::Fill { status: OrderStatus::Filled })
    );
}

#[test]
fn mismatched_and_unknown_events_are_refused() {
    let (mut store, id) = accepted_buy();
    assert_eq!(
        store.apply(&event(ClientOrderId(5), OrderEventKind::Canceled)),
        Err(OrderStateError::UnknownOrder(ClientOrderId(5)))
    );
    let mut wrong_instrument = event(id, OrderEventKind::Canceled);
    wrong_instrument.instrument = ETH;
    assert!(matches!(store.apply(&wrong_instrument), Err(OrderStateError::MismatchedEvent { .. })));
    assert!(matches!(
        store.apply(&fill(id, OrderSide::Sell, 1, 618_002, 1)),
        Err(OrderStateError::MismatchedEvent { .. })
    ));
    assert!(matches!(
        store.apply(&fill(id, OrderSide::Buy, 1, 618_002, 0)),
        Err(OrderStateError::MismatchedEvent { .. })
    ));
    assert!(matches!(store.apply(&fill(id, OrderSide::Buy, 1, 0, 1)), Err(OrderStateError::MismatchedEvent { .. })));
    assert_eq!(store.get(id).unwrap().status, OrderStatus::Accepted);
    assert_eq!(store.fill_count(BTC), 0);
}

#[test]
fn illegal_events_are_errors_and_terminal_orders_stay_terminal() {
    let (mut store, id) = accepted_buy();
    let error = store.apply(&event(id, OrderEventKind::Submitted));
    assert_eq!(error, Err(OrderStateError::IllegalTransition { from: OrderStatus::Accepted, event: "submitted" }));
    store.apply(&event(id, OrderEventKind::Canceled)).unwrap();
    for kind in [OrderEventKind::Accepted(VenueOrderId(1)), OrderEventKind::Canceled, OrderEventKind::Expired] {
        assert!(store.apply(&event(id, kind)).is_err());
    }
    assert!(store.apply(&fill(id, OrderSide::Buy, 1, 618_002, 1)).is_err());
    assert_eq!(store.get(id).unwrap().status, OrderStatus::Canceled);
}

#[test]
fn cancel_refused_returns_to_the_remembered_state() {
    let mut store = OrderStore::new(1);
    let id = store.create(OrderRequest::limit(BTC, OrderSide::Sell, Price(618_500), Quantity(4)), UnixNanos(0));
    store.apply(&event(id, OrderEventKind::Submitted)).unwrap();
    store.apply(&event(id, OrderEventKind::PendingCancel)).unwrap();
    // The ack crosses the cancel, a fill arrives while pending, then the cancel is refused.
    assert_eq!(
        store.apply(&event(id, OrderEventKind::Accepted(VenueOrderId(3)))),
        Ok(Applied::Status(OrderStatus::PendingCancel))
    );
    assert_eq!(
        store.apply(&fill(id, OrderSide::Sell, 8, 618_500, 1)),
        Ok(Applied::Fill { status: OrderStatus::PendingCancel })
    );
    assert_eq!(store.open_exposure(BTC), (Quantity(0), Quantity(3)));
    let refused = OrderEventKind::CancelRejected(RejectReason::UnknownOrder);
    assert_eq!(store.apply(&event(id, refused)), Ok(Applied::Status(OrderStatus::PartiallyFilled)));
    let order = store.get(id).unwrap();
    assert_eq!((order.reason, order.venue_order_id), (Some(RejectReason::UnknownOrder), Some(VenueOrderId(3))));
}

#[test]
fn replace_updates_price_and_quantity_and_checks_the_filled_size() {
    let (mut store, id) = accepted_buy();
    store.apply(&fill(id, OrderSide::Buy, 1, 618_002, 2)).unwrap();
    store.apply(&event(id, OrderEventKind::PendingReplace)).unwrap();
    let too_small = OrderEventKind::Replaced { price: Price(617_900), quantity: Quantity(1) };
    let error = store.apply(&event(id, too_small));
    assert_eq!(
        error,
        Err(OrderStateError::InvalidReplace { client_id: id, quantity: Quantity(1), filled: Quantity(2) })
    );
    assert_eq!(store.get(id).unwrap().status, OrderStatus::PendingReplace);
    let replaced = OrderEventKind::Replaced { price: Price(617_900), quantity: Quantity(6) };
    assert_eq!(store.apply(&event(id, replaced)), Ok(Applied::Status(OrderStatus::PartiallyFilled)));
    let order = store.get(id).unwrap();
    assert_eq!(
        (order.request.price, order.request.quantity, order.leaves()),
        (Price(617_900), Quantity(6), Quantity(4))
    );
    assert_eq!(store.open_exposure(BTC), (Quantity(4), Quantity(0)));
}

#[test]
fn open_ids_are_ascending_whatever_the_submission_order() {
    let mut store = OrderStore::with_capacity(10, 8);
    let request = OrderRequest::limit(BTC, OrderSide::Sell, Price(618_100), Quantity(1));
    let ids: Vec<_> = (0..4).map(|_| store.create(request, UnixNanos(0))).collect();
    for &id in ids.iter().rev() {
        store.apply(&event(id, OrderEventKind::Submitted)).unwrap();
    }
    store.apply(&event(ids[1], OrderEventKind::Rejected(RejectReason::PostOnlyWouldTake))).unwrap();
    let mut out = vec![ClientOrderId(1)];
    store.open_ids(BTC, &mut out);
    assert_eq!(out, [ClientOrderId(1), ids[0], ids[2], ids[3]]);
    assert_eq!(store.open_count(BTC), 3);
    assert_eq!(store.open_exposure(BTC), (Quantity(0), Quantity(3)));
    store.open_ids(ETH, &mut out);
    assert_eq!(out.len(), 4);
    assert_eq!(store.open_count(InstrumentIndex(99)), 0);
}

#[test]
fn an_order_costs_at_most_113_bytes_of_store() {
    // A run keeps every order (112 bytes, plus one byte of resume status): 1 M orders take 113 MB.
    assert!(std::mem::size_of::<Order>() <= 112, "{}", std::mem::size_of::<Order>());
    assert_eq!(std::mem::size_of::<OrderStatus>(), 1);
}
