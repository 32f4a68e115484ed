//! Hot-path cost of the OMS as the backtester uses it, per call:
//! - `order_lifecycle`: create + Submitted + Accepted + two fills (one partial) + both fills into the
//!   portfolio, 1000 orders per batch on a fresh store; reported per call (7 calls per order);
//! - `position_fill`: [`Position::apply_fill`] alone, alternating increases, partial closes and flips on
//!   Binance USD-M BTCUSDT precisions.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use ferrotrade_model::{
    Fill, Instrument, InstrumentId, InstrumentIndex, Liquidity, Money, OrderEvent, OrderEventKind, OrderRequest,
    OrderSide, Price, Quantity, UnixNanos, Venue, VenueOrderId,
};
use ferrotrade_oms::{OrderStore, Portfolio, Position};

const BTC: InstrumentIndex = InstrumentIndex(0);

fn btcusdt() -> Instrument {
    Instrument::with_precisions(InstrumentId::new(Venue::BinanceUsdm, "BTCUSDT"), 1, 3)
}

fn fill(client_id: ferrotrade_model::ClientOrderId, side: OrderSide, trade_id: u64, price: i64, size: i64) -> Fill {
    Fill {
        client_id,
        venue_order_id: VenueOrderId(client_id.0),
        trade_id,
        instrument: BTC,
        side,
        price: Price(price),
        quantity: Quantity(size),
        fee: Money(i128::from(size) * 1_000_000_000_000),
        liquidity: Liquidity::Maker,
        ts_event: UnixNanos(trade_id),
        ts_recv: UnixNanos(trade_id),
    }
}

/// Orders per measured batch: each batch starts from a fresh store with room for them (allocation untimed).
const ORDERS: u64 = 1_000;

fn order_lifecycle(c: &mut Criterion) {
    let mut group = c.benchmark_group("oms");
    group.throughput(Throughput::Elements(7 * ORDERS));
    group.bench_function("order_lifecycle", |b| {
        b.iter_batched_ref(
            || {
                let store = OrderStore::with_capacity(1, ORDERS as usize);
                (store, Portfolio::new(vec![btcusdt()], Money::from_units(10_000)))
            },
            |(store, portfolio)| {
                for order in 0..ORDERS {
                    let side = if order.is_multiple_of(4) { OrderSide::Sell } else { OrderSide::Buy };
                    let price = 618_000 + (order % 13) as i64;
                    let request = OrderRequest::limit(BTC, side, Price(price), Quantity(3));
                    let id = store.create(request, UnixNanos(order));
                    let event = |kind| OrderEvent {
                        client_id: id,
                        instrument: BTC,
                        kind,
                        ts_event: UnixNanos(order),
                        ts_recv: UnixNanos(order),
                    };
                    store.apply(&event(OrderEventKind::Submitted)).unwrap();
                    store.apply(&event(OrderEventKind::Accepted(VenueOrderId(id.0)))).unwrap();
                    for size in [1, 2] {
                        let fill = fill(id, side, 2 * order + size as u64, price, size);
                        store.apply(&event(OrderEventKind::Filled(fill))).unwrap();
                        black_box(portfolio.apply_fill(&fill));
                    }
                }
            },
            BatchSize::LargeInput,
        );
    });
    group.finish();
}

fn position_fill(c: &mut Criterion) {
    let instrument = btcusdt();
    let fills: Vec<Fill> = (0..1024u64)
        .map(|i| {
            let side = if (i * 7919) % 5 < 2 { OrderSide::Sell } else { OrderSide::Buy };
            fill(ferrotrade_model::ClientOrderId(i), side, i, 618_000 + (i % 17) as i64, 1 + (i % 5) as i64)
        })
        .collect();
    let mut group = c.benchmark_group("oms");
    group.throughput(Throughput::Elements(fills.len() as u64));
    group.bench_function("position_fill", |b| {
        b.iter(|| {
            let mut position = Position::new(BTC);
            for fill in &fills {
                black_box(position.apply_fill(&instrument, fill));
            }
            position
        });
    });
    group.finish();
}

criterion_group!(benches, order_lifecycle, position_fill);
criterion_main!(benches);
