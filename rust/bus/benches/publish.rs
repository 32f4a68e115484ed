//! The cost the engine thread pays to publish, per event (budget: <= 200 ns): pushing a fill, an order event
//! and a market summary into the bus queues while a consumer thread drains them, as the publisher does.
//! The conflation check a book update pays between summaries is measured on its own.
//!
//! ```sh
//! cargo bench -p ferrotrade-bus --bench publish
//! ```

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use criterion::{Criterion, criterion_group, criterion_main};
use ferrotrade_bus::{BookTop, EngineEvent, MarketEvent, bus_queue};
use ferrotrade_model::{
    ClientOrderId, Fill, InstrumentIndex, Level, Liquidity, Money, OrderEvent, OrderEventKind, OrderRequest, OrderSide,
    OrderStatus, Price, Quantity, UnixNanos, VenueOrderId,
};

fn fill(trade_id: u64) -> EngineEvent {
    EngineEvent::Fill {
        strategy: 0,
        fill: Fill {
            client_id: ClientOrderId(1),
            venue_order_id: VenueOrderId(2),
            trade_id,
            instrument: InstrumentIndex(0),
            side: OrderSide::Buy,
            price: Price(600_001),
            quantity: Quantity(2),
            fee: Money::ZERO,
            liquidity: Liquidity::Maker,
            ts_event: UnixNanos(trade_id),
            ts_recv: UnixNanos(trade_id),
        },
    }
}

fn order(ts: u64) -> EngineEvent {
    let request = OrderRequest::limit(InstrumentIndex(0), OrderSide::Sell, Price(600_010), Quantity(2));
    EngineEvent::Order {
        strategy: 0,
        event: OrderEvent {
            client_id: ClientOrderId(ts),
            instrument: InstrumentIndex(0),
            kind: OrderEventKind::Accepted(VenueOrderId(ts)),
            ts_event: UnixNanos(ts),
            ts_recv: UnixNanos(ts),
        },
        request,
        status: OrderStatus::Accepted,
        filled: Quantity(0),
    }
}

fn book() -> MarketEvent {
    let mut top = BookTop::empty(InstrumentIndex(0));
    let levels = |start: i64, step: i64| {
        (0..10).map(move |index| Level { price: Price(start + step * index), size: Quantity(5 + index) })
    };
    top.set_side(true, levels(600_000, -1));
    top.set_side(false, levels(600_001, 1));
    MarketEvent::Book(top)
}

fn publish(c: &mut Criterion) {
    let (mut sender, mut receiver) = bus_queue(4096, 65_536, 1, Some(100_000_000));
    let stop = Arc::new(AtomicBool::new(false));
    let consumer = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut seen = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let drained = receiver.drain(256, drop, |_| {});
                seen += drained.count as u64;
                if drained.count == 0 {
                    std::hint::spin_loop();
                }
            }
            seen
        })
    };
    let mut group = c.benchmark_group("bus publish (engine thread)");
    let mut id = 0;
    group.bench_function("fill", |b| {
        b.iter(|| {
            id += 1;
            sender.event(black_box(fill(id)));
        });
    });
    group.bench_function("order event", |b| {
        b.iter(|| {
            id += 1;
            sender.event(black_box(order(id)));
        });
    });
    let summary = book();
    group.bench_function("book summary (10 levels a side, copied)", |b| {
        b.iter(|| sender.market(black_box(summary)));
    });
    let mut ts = 0;
    group.bench_function("conflation check between summaries", |b| {
        b.iter(|| {
            ts += 1;
            black_box(sender.book_due(InstrumentIndex(0), UnixNanos(ts)))
        });
    });
    group.finish();
    stop.store(true, Ordering::Relaxed);
    let seen = consumer.join().unwrap_or(0);
    eprintln!(
        "consumer drained {seen} entries; overflow left {}, market dropped {}",
        sender.overflowing(),
        sender.dropped()
    );
}

criterion_group!(benches, publish);
criterion_main!(benches);
