//! Property tests of the OMS over random event sequences: legal and illegal events, duplicate and
//! mismatched fills, on the real precisions of Binance USD-M BTCUSDT (price 1 decimal, size 3) and COIN-M
//! BTCUSD_PERP (100 USD contracts, price 1 decimal, size 0).
//!
//! Invariants checked after every step:
//! - `filled + leaves == quantity` and `0 <= filled <= quantity` for every order; `filled` is the sum of the
//!   order's distinct fills;
//! - a terminal order never changes; a refused event changes no order;
//! - a duplicate `(instrument, side, trade_id)` is reported as such and changes no order and no position;
//! - the open view (`open_ids`, `open_count`, `open_exposure`) matches the orders' statuses;
//! - a position's quantity is the signed sum of its distinct fills;
//! - realized + unrealized at the last fill price equals the cash flow of the fills plus the position's
//!   value at that price (exact for linear, within one 10^-18 unit per fill for inverse), so a flat
//!   position has zero unrealized PnL and its realized PnL is the round trips' cash flow.

use std::collections::BTreeSet;

use ferrotrade_model::{
    ClientOrderId, Decimal, Fill, Instrument, InstrumentId, InstrumentIndex, Liquidity, Money, OrderEvent,
    OrderEventKind, OrderRequest, OrderSide, OrderStatus, Price, Quantity, RejectReason, UnixNanos, Venue,
    VenueOrderId,
};
use ferrotrade_oms::{Applied, OrderStore, Portfolio, contract_value};
use proptest::prelude::*;

fn instruments() -> Vec<Instrument> {
    let btcusdt = Instrument::with_precisions(InstrumentId::new(Venue::BinanceUsdm, "BTCUSDT"), 1, 3);
    let mut perp = Instrument::with_precisions(InstrumentId::new(Venue::BinanceCoinm, "BTCUSD_PERP"), 1, 0);
    perp.contract_size = Decimal { mantissa: 100, scale: 0 };
    vec![btcusdt, perp]
}

/// A base price per instrument (61800.0 USDT, 50000.0 USD).
const BASE_PRICE: [i64; 2] = [618_000, 500_000];

#[derive(Debug, Clone)]
enum Action {
    /// A new order; `submit` also applies `Submitted` and `Accepted` to it, so that most orders work.
    Create {
        instrument: u32,
        side: OrderSide,
        quantity: i64,
        submit: bool,
    },
    Event {
        order: usize,
        kind: u8,
        quantity: i64,
    },
    Fill {
        order: usize,
        quantity: i64,
        price_offset: i64,
        reuse_trade: Option<usize>,
        wrong_side: bool,
    },
}

fn side() -> impl Strategy<Value = OrderSide> {
    prop_oneof![Just(OrderSide::Buy), Just(OrderSide::Sell)]
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        2 => (0..2u32, side(), 1..20i64, prop::bool::weighted(0.8))
            .prop_map(|(instrument, side, quantity, submit)| Action::Create { instrument, side, quantity, submit }),
        4 => (0..16usize, event_kind_code(), 1..25i64).prop_map(|(order, kind, quantity)| Action::Event { order, kind, quantity }),
        6 => (0..16usize, 1..12i64, -500..500i64, prop::option::weighted(0.25, 0..64usize), prop::bool::weighted(0.05))
            .prop_map(|(order, quantity, price_offset, reuse_trade, wrong_side)| Action::Fill {
                order, quantity, price_offset, reuse_trade, wrong_side,
            }),
    ]
}

/// A code for [`event_kind`]; terminal events are rarer so that orders live long enough to fill.
fn event_kind_code() -> impl Strategy<Value = u8> {
    prop_oneof![3 => Just(1u8), 3 => Just(3u8), 2 => Just(6u8), 2 => Just(8u8), 2 => Just(9u8), 2 => Just(10u8), 2 => Just(11u8), 5 => 0..14u8]
}

/// Non-fill event kinds by code.
fn event_kind(kind: u8, quantity: i64, price: Price) -> OrderEventKind {
    match kind {
        0 => OrderEventKind::Denied(RejectReason::MaxPosition),
        1 | 2 => OrderEventKind::Submitted,
        3 | 4 => OrderEventKind::Accepted(VenueOrderId(u64::from(kind))),
        5 => OrderEventKind::Rejected(RejectReason::PostOnlyWouldTake),
        6 => OrderEventKind::PendingCancel,
        7 => OrderEventKind::Canceled,
        8 => OrderEventKind::CancelRejected(RejectReason::UnknownOrder),
        9 => OrderEventKind::PendingReplace,
        10 => OrderEventKind::Replaced { price, quantity: Quantity(quantity) },
        11 => OrderEventKind::ReplaceRejected(RejectReason::InvalidAmend),
        12 => OrderEventKind::Triggered,
        _ => OrderEventKind::Expired,
    }
}

fn kind_status(kind: &OrderEventKind) -> OrderStatus {
    if *kind == OrderEventKind::Submitted { OrderStatus::Submitted } else { OrderStatus::Accepted }
}

/// The independent account of one instrument: what the fills alone imply.
#[derive(Debug, Default, Clone, Copy)]
struct Expected {
    /// Signed sum of fill sizes.
    quantity: i64,
    /// Linear: `-sum(signed notional)` (quote); inverse: `sum(signed value)` (base), buys positive.
    cash: Money,
    /// Sum of the fees of the distinct fills.
    fees: Money,
    fills: i128,
    last_price: Option<Price>,
}

fn run(actions: &[Action]) -> Result<(OrderStore, Portfolio), TestCaseError> {
    let instruments = instruments();
    let mut store = OrderStore::new(100);
    let mut portfolio = Portfolio::new(instruments.clone(), Money::from_units(10_000));
    let mut expected = [Expected::default(); 2];
    let mut applied_trades: BTreeSet<(u32, i64, u64)> = BTreeSet::new();
    let mut trade_ids: Vec<u64> = Vec::new();
    let mut filled_by_order: Vec<i64> = Vec::new();
    let mut next_trade = 1u64;

    for (step, action) in actions.iter().enumerate() {
        let before: Vec<_> = store.orders().to_vec();
        let positions_before = portfolio.positions().to_vec();
        let now = UnixNanos(step as u64);
        // Mostly one of the last few orders (those still working), sometimes an id never issued.
        let target = |order: usize| ClientOrderId(100 + before.len().saturating_sub(order % 5) as u64);
        let instrument_of =
            |id: ClientOrderId| store.get(id).map_or(InstrumentIndex(0), |order| order.request.instrument);
        match action {
            Action::Create { instrument, side, quantity, submit } => {
                let index = InstrumentIndex(*instrument);
                let price = Price(BASE_PRICE[index.get()]);
                let id = store.create(OrderRequest::limit(index, *side, price, Quantity(*quantity)), now);
                prop_assert_eq!(id, ClientOrderId(100 + before.len() as u64));
                filled_by_order.push(0);
                if *submit {
                    for kind in [OrderEventKind::Submitted, OrderEventKind::Accepted(VenueOrderId(id.0))] {
                        let event = OrderEvent { client_id: id, instrument: index, kind, ts_event: now, ts_recv: now };
                        prop_assert_eq!(store.apply(&event), Ok(Applied::Status(kind_status(&kind))));
                    }
                }
            }
            Action::Event { order, kind, quantity } => {
                let client_id = target(*order);
                let instrument = instrument_of(client_id);
                let kind = event_kind(*kind, *quantity, Price(BASE_PRICE[instrument.get()] + 10));
                let event = OrderEvent { client_id, instrument, kind, ts_event: now, ts_recv: now };
                match store.apply(&event) {
                    Ok(Applied::Status(status)) => {
                        prop_assert_eq!(store.get(client_id).map(|o| o.status), Some(status));
                    }
                    Ok(other) => prop_assert!(false, "non-fill event gave {:?}", other),
                    Err(_) => prop_assert_eq!(store.orders(), &before[..]),
                }
            }
            Action::Fill { order, quantity, price_offset, reuse_trade, wrong_side } => {
                let client_id = target(*order);
                let instrument = instrument_of(client_id);
                let order_side = store.get(client_id).map_or(OrderSide::Buy, |o| o.request.side);
                let trade_id = match reuse_trade {
                    Some(reuse) if !trade_ids.is_empty() => trade_ids[reuse % trade_ids.len()],
                    _ => {
                        next_trade += 1;
                        next_trade
                    }
                };
                let fill = Fill {
                    client_id,
                    venue_order_id: VenueOrderId(1),
                    trade_id,
                    instrument,
                    side: if *wrong_side { order_side.opposite() } else { order_side },
                    price: Price(BASE_PRICE[instrument.get()] + price_offset),
                    quantity: Quantity(*quantity),
                    fee: Money(i128::from(*quantity) * 1_000),
                    liquidity: Liquidity::Maker,
                    ts_event: now,
                    ts_recv: now,
                };
                let event = OrderEvent {
                    client_id,
                    instrument,
                    kind: OrderEventKind::Filled(fill),
                    ts_event: now,
                    ts_recv: now,
                };
                let key = (instrument.0, fill.side.sign(), trade_id);
                match store.apply(&event) {
                    Ok(Applied::DuplicateFill) => {
                        prop_assert!(applied_trades.contains(&key), "fresh trade reported duplicate");
                        prop_assert_eq!(store.orders(), &before[..]);
                    }
                    Ok(Applied::Fill { status }) => {
                        prop_assert!(applied_trades.insert(key), "duplicate trade applied twice");
                        prop_assert!(!wrong_side);
                        prop_assert_eq!(store.get(client_id).map(|o| o.status), Some(status));
                        trade_ids.push(trade_id);
                        filled_by_order[(client_id.0 - 100) as usize] += quantity;
                        portfolio.apply_fill(&fill);
                        let spec = &instruments[instrument.get()];
                        let value = contract_value(spec, fill.price, spec.price_precision, fill.quantity);
                        let account = &mut expected[instrument.get()];
                        account.quantity += fill.side.sign() * quantity;
                        let linear_cash = if fill.side == OrderSide::Buy { -value } else { value };
                        account.cash += if instrument.0 == 0 { linear_cash } else { -linear_cash };
                        account.fees += fill.fee;
                        account.fills += 1;
                        account.last_price = Some(fill.price);
                    }
                    Ok(other) => prop_assert!(false, "fill gave {:?}", other),
                    Err(_) => {
                        // Dedup runs before every check but the order lookup.
                        let unknown = client_id.0 >= 100 + before.len() as u64;
                        prop_assert!(!applied_trades.contains(&key) || unknown);
                        prop_assert_eq!(store.orders(), &before[..]);
                    }
                }
            }
        }
        if portfolio.positions() != &positions_before[..] {
            let is_fill = matches!(action, Action::Fill { .. });
            prop_assert!(is_fill, "a non-fill action changed a position");
        }
        check_orders(&store, &before, &filled_by_order)?;
        check_positions(&portfolio, &instruments, &expected)?;
    }
    Ok((store, portfolio))
}

fn check_orders(
    store: &OrderStore,
    before: &[ferrotrade_oms::Order],
    filled_by_order: &[i64],
) -> Result<(), TestCaseError> {
    let mut open = [Vec::new(), Vec::new()];
    let mut exposure = [(0i64, 0i64); 2];
    for (index, order) in store.iter().enumerate() {
        prop_assert!(order.filled.0 >= 0 && order.filled <= order.request.quantity, "{:?}", order);
        prop_assert_eq!(order.filled + order.leaves(), order.request.quantity);
        prop_assert_eq!(order.filled.0, filled_by_order[index]);
        if let Some(old) = before.get(index).filter(|old| old.status.is_terminal()) {
            prop_assert_eq!(old, order, "terminal order changed");
        }
        prop_assert!(order.status != OrderStatus::Filled || order.leaves().is_zero());
        if order.is_open() {
            let instrument = order.request.instrument.get();
            open[instrument].push(order.client_id);
            match order.request.side {
                OrderSide::Buy => exposure[instrument].0 += order.leaves().0,
                OrderSide::Sell => exposure[instrument].1 += order.leaves().0,
            }
        }
    }
    for instrument in 0..2 {
        let index = InstrumentIndex(instrument as u32);
        let mut ids = Vec::new();
        store.open_ids(index, &mut ids);
        prop_assert_eq!(&ids, &open[instrument]);
        prop_assert_eq!(store.open_count(index), open[instrument].len());
        let (buy, sell) = store.open_exposure(index);
        prop_assert_eq!((buy.0, sell.0), exposure[instrument]);
    }
    Ok(())
}

fn check_positions(
    portfolio: &Portfolio,
    instruments: &[Instrument],
    expected: &[Expected; 2],
) -> Result<(), TestCaseError> {
    for (index, account) in expected.iter().enumerate() {
        let position = portfolio.position(InstrumentIndex(index as u32));
        let spec = &instruments[index];
        prop_assert_eq!(position.quantity.0, account.quantity);
        prop_assert_eq!(position.fill_count as i128, account.fills);
        prop_assert_eq!(position.fees, account.fees);
        let Some(price) = account.last_price else { continue };
        let unrealized = position.unrealized_pnl(spec, price, spec.price_precision);
        let size = Quantity(account.quantity.abs());
        let value = contract_value(spec, price, spec.price_precision, size);
        let signed_value = if account.quantity >= 0 { value } else { -value };
        // Linear: realized + unrealized = cash + value of the position; inverse: cash - value (base units).
        let total = position.realized_pnl + unrealized;
        let implied = if index == 0 { account.cash + signed_value } else { account.cash - signed_value };
        if index == 0 {
            prop_assert_eq!(total, implied, "linear PnL is exact");
        } else {
            prop_assert!((total - implied).0.abs() <= account.fills, "inverse PnL off by {:?}", total - implied);
        }
        if account.quantity == 0 {
            prop_assert_eq!(unrealized, Money::ZERO);
            prop_assert_eq!(position.entry_value, Money::ZERO);
            if index == 0 {
                prop_assert_eq!(position.realized_pnl, account.cash, "flat: realized = round trips' cash flow");
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn random_event_sequences_keep_every_invariant(actions in prop::collection::vec(action(), 1..120)) {
        run(&actions)?;
    }
}

#[test]
fn a_scripted_sequence_reaches_fills_duplicates_and_flips() {
    // A fixed sequence that certainly exercises fills, a duplicate, a flip and a return to flat, so the
    // property above is not vacuous. `order: 1` is the latest order; `order: 0` an id never issued.
    let actions = vec![
        Action::Create { instrument: 0, side: OrderSide::Buy, quantity: 5, submit: false },
        Action::Event { order: 1, kind: 1, quantity: 0 },
        Action::Event { order: 1, kind: 3, quantity: 0 },
        Action::Fill { order: 1, quantity: 3, price_offset: 2, reuse_trade: None, wrong_side: false },
        Action::Fill { order: 1, quantity: 3, price_offset: 2, reuse_trade: Some(0), wrong_side: false },
        Action::Fill { order: 1, quantity: 2, price_offset: -7, reuse_trade: None, wrong_side: false },
        Action::Create { instrument: 0, side: OrderSide::Sell, quantity: 9, submit: false },
        Action::Event { order: 1, kind: 1, quantity: 0 },
        Action::Fill { order: 1, quantity: 9, price_offset: 31, reuse_trade: None, wrong_side: false },
        Action::Create { instrument: 0, side: OrderSide::Buy, quantity: 4, submit: false },
        Action::Event { order: 1, kind: 1, quantity: 0 },
        Action::Fill { order: 1, quantity: 4, price_offset: -13, reuse_trade: None, wrong_side: false },
        Action::Create { instrument: 1, side: OrderSide::Sell, quantity: 10, submit: false },
        Action::Event { order: 1, kind: 1, quantity: 0 },
        Action::Fill { order: 1, quantity: 7, price_offset: 100, reuse_trade: None, wrong_side: false },
        Action::Event { order: 1, kind: 6, quantity: 0 },
        Action::Fill { order: 1, quantity: 3, price_offset: -300, reuse_trade: None, wrong_side: false },
        Action::Create { instrument: 1, side: OrderSide::Buy, quantity: 10, submit: false },
        Action::Event { order: 1, kind: 1, quantity: 0 },
        Action::Fill { order: 1, quantity: 10, price_offset: 250, reuse_trade: None, wrong_side: false },
    ];
    let mut actions = actions;
    actions.insert(1, Action::Event { order: 0, kind: 7, quantity: 0 });
    let (store, portfolio) = run(&actions).unwrap();
    // The replayed trade was dropped: order 100 filled 3 + 2, four distinct BTCUSDT fills.
    assert_eq!(store.get(ClientOrderId(100)).map(|o| (o.filled, o.status)), Some((Quantity(5), OrderStatus::Filled)));
    assert_eq!(store.fill_count(InstrumentIndex(0)), 4);
    // BTCUSDT: buys 0.003 @ 61800.2 and 0.002 @ 61799.3, sell 0.009 @ 61803.1, buy 0.004 @ 61798.7:
    // flat, realized = -185.4006 - 123.5986 + 556.2279 - 247.1948 = 0.0339 USDT.
    let btc = portfolio.position(InstrumentIndex(0));
    assert_eq!((btc.quantity, btc.realized_pnl.to_string()), (Quantity(0), "0.0339".to_owned()));
    // BTCUSD_PERP: sells 7 @ 50010.0 and 3 @ 49970.0, buy 10 @ 50025.0: realized in BTC
    // = 1000/50025 - 700/50010 - 300/49970, each value rounded at 10^-18.
    let perp = portfolio.position(InstrumentIndex(1));
    assert_eq!((perp.quantity, perp.realized_pnl.to_string()), (Quantity(0), "-0.000010797723683551".to_owned()));
    assert_eq!(store.get(ClientOrderId(103)).map(|o| o.status), Some(OrderStatus::Filled));
}
