//! Cost of building one signed Binance USD-M order request (query string, HMAC-SHA256, hex), the part of
//! the live engine's risk -> wire stage that runs before the socket write.
//!
//! The market maker's two requests per decision: an amend by client id and a new post-only limit order,
//! each built from scratch as the gateway builds them (`BinanceRequests::amend_order`, `new_order`).
//! Figures are printed, never asserted.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use ferrotrade_model::{ClientOrderId, Decimal, OrderSide, OrderType, TimeInForce};
use ferrotrade_venues::auth::Credentials;
use ferrotrade_venues::trading::binance::{BinanceRequests, Market};
use ferrotrade_venues::trading::{NewOrder, OrderRef};

fn sign_order(c: &mut Criterion) {
    let requests = BinanceRequests::new(
        Market::UsdM,
        Credentials::hmac(
            "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A",
            "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j",
        ),
    );
    let price = Decimal::from_fixed(618_002, 1);
    let quantity = Decimal::from_fixed(2, 3);
    let mut group = c.benchmark_group("binance_usdm");
    group.bench_function("amend_order_signed", |b| {
        let mut id = 1_000_000u64;
        b.iter(|| {
            id += 1;
            let reference = OrderRef::Client(ClientOrderId(id));
            let request = requests.amend_order(
                black_box("BTCUSDT"),
                &reference,
                OrderSide::Buy,
                quantity,
                price,
                black_box(1_723_075_200_000),
            );
            request.query.len()
        });
    });
    group.bench_function("new_order_signed", |b| {
        let mut order = NewOrder {
            symbol: "BTCUSDT".into(),
            client_id: ClientOrderId(1_000_000),
            side: OrderSide::Sell,
            order_type: OrderType::Limit,
            time_in_force: TimeInForce::Gtc,
            price: Some(price),
            quantity,
            stop_price: None,
            post_only: true,
            reduce_only: false,
        };
        b.iter(|| {
            order.client_id.0 += 1;
            requests.new_order(black_box(&order), black_box(1_723_075_200_000)).map(|request| request.query.len())
        });
    });
    group.finish();
}

criterion_group!(benches, sign_order);
criterion_main!(benches);
