//! A bus at full speed, for measuring subscribers: publishes `COUNT` fills (a realistic engine event, about
//! 90 bytes on the wire) on `ENDPOINT` as fast as the publisher thread can send them, once `SUBSCRIBERS`
//! subscribers connected, then a final heartbeat, and exits.
//!
//! ```sh
//! cargo run --release -p ferrotrade-bus --example flood -- tcp://127.0.0.1:5599 1000000 [SUBSCRIBERS]
//! ```
//!
//! `benchmarks/bus_throughput.py` uses it to measure Python subscribers independently of how fast the
//! engine's market data arrives. The figures it prints are the publisher's own.

use std::time::Duration;

use ferrotrade_bus::proto::TradingState;
use ferrotrade_bus::{Bus, BusConfig, EngineEvent, Names, proto};
use ferrotrade_model::{
    ClientOrderId, Fill, InstrumentIndex, Liquidity, Money, OrderSide, Price, Quantity, UnixNanos, VenueOrderId,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (endpoint, count, subscribers) = match args.as_slice() {
        [endpoint, count] => (endpoint.clone(), count.parse::<u64>()?, 1),
        [endpoint, count, subscribers] => (endpoint.clone(), count.parse::<u64>()?, subscribers.parse()?),
        _ => return Err("usage: flood ENDPOINT COUNT [SUBSCRIBERS]".into()),
    };
    let config = BusConfig {
        publish: endpoint,
        control: String::new(),
        http: String::new(),
        wait_subscribers: subscribers,
        wait_ms: 30_000,
        event_queue: 1 << 19,
        ..BusConfig::default()
    };
    let names = Names {
        instruments: vec![proto::InstrumentRef {
            venue: "binance-usdm".into(),
            symbol: "BTCUSDT".into(),
            price_precision: 1,
            size_precision: 3,
        }],
        strategies: vec!["flood".into()],
        session: "flood".into(),
        mode: "replay".into(),
    };
    let (mut sender, handle) = Bus::start(&config, None, names)?;
    for trade_id in 1..=count {
        sender.event(EngineEvent::Fill {
            strategy: 0,
            fill: Fill {
                client_id: ClientOrderId(trade_id),
                venue_order_id: VenueOrderId(trade_id),
                trade_id,
                instrument: InstrumentIndex(0),
                side: if trade_id % 2 == 0 { OrderSide::Buy } else { OrderSide::Sell },
                price: Price(600_000 + (trade_id % 100) as i64),
                quantity: Quantity(1 + (trade_id % 7) as i64),
                fee: Money::from_units(0),
                liquidity: Liquidity::Maker,
                ts_event: UnixNanos(trade_id),
                ts_recv: UnixNanos(trade_id),
            },
        });
        // Keep the overflow list short: the queue is large, the publisher drains it meanwhile.
        if sender.overflowing() > 0 {
            std::thread::sleep(Duration::from_micros(50));
            sender.flush();
        }
    }
    sender.event(EngineEvent::Heartbeat { state: TradingState::Active, ts: UnixNanos(count + 1) });
    let stats = handle.finish(sender, Duration::from_secs(120));
    eprintln!("flood: published {} (send errors {})", stats.published, stats.send_errors);
    Ok(())
}
