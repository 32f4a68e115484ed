//! The model-signal strategy against a scripted signal source: the thresholds and their hysteresis move
//! the target position, market orders trade the difference, limit orders sit `offset_bps` behind the touch
//! and are re-sent after their timeout, warm-up samples are never predicted, and bad settings are refused.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use common::{Action, TestContext};
use ferrotrade_model::{
    Bar, ClientOrderId, Decimal, InstrumentIndex, OrderEventKind, OrderSide, OrderStatus, OrderType, Price, Quantity,
    UnixNanos,
};
use ferrotrade_strategy::Strategy;
use ferrotrade_strategy::builtin::{ModelSignal, ModelSignalConfig, SignalSource};

/// Answers each request with the next scripted signal; records the feature vectors it was given.
struct Script {
    signals: VecDeque<f64>,
    ready: Option<f64>,
    seen: Arc<Mutex<Vec<Vec<f64>>>>,
}

impl SignalSource for Script {
    fn request(&mut self, _ts: UnixNanos, features: &[f64]) -> Result<(), String> {
        self.seen.lock().unwrap().push(features.to_vec());
        self.ready = self.signals.pop_front();
        Ok(())
    }

    fn poll(&mut self) -> Option<f64> {
        self.ready.take()
    }
}

fn config(extra: &str) -> ModelSignalConfig {
    let text = format!(
        "instrument = \"binance-usdm.BTCUSDT\"\nmodel = \"m.onnx\"\nclock = \"bars\"\nfeatures = [\"return_1\"]\n\
         long_entry = 0.55\nlong_exit = 0.5\nshort_entry = 0.4\nshort_exit = 0.45\norder_size = 0.01\n{extra}"
    );
    toml::from_str(&text).expect("a valid configuration")
}

fn strategy(config: ModelSignalConfig, signals: &[f64]) -> (ModelSignal, Arc<Mutex<Vec<Vec<f64>>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let source = Script { signals: signals.iter().copied().collect(), ready: None, seen: Arc::clone(&seen) };
    (ModelSignal::new(config, Box::new(source)).expect("strategy"), seen)
}

fn bar(ctx: &TestContext, close: i64) -> Bar {
    Bar {
        ts_event: ctx.now,
        ts_recv: ctx.now,
        open_time: ctx.now,
        interval_ns: 3_600_000_000_000,
        open: Price(close),
        high: Price(close),
        low: Price(close),
        close: Price(close),
        volume: Quantity(1_000),
        quote_volume: 1.0,
        trade_count: 1,
        taker_buy_volume: Quantity(500),
    }
}

/// Sends one bar and returns the orders the strategy submitted.
fn on_bar(
    strategy: &mut ModelSignal,
    ctx: &mut TestContext,
    close: i64,
) -> Vec<(ClientOrderId, ferrotrade_model::OrderRequest)> {
    ctx.advance_ms(3_600_000);
    let bar = bar(ctx, close);
    strategy.on_bar(ctx, InstrumentIndex(0), &bar).expect("on_bar");
    TestContext::submits(&ctx.take_actions())
}

fn fill_all(strategy: &mut ModelSignal, ctx: &mut TestContext, id: ClientOrderId, quantity: i64) {
    let (event, fill) = ctx.fill(id, quantity, Price(600_000));
    strategy.on_order(ctx, &event).expect("on_order");
    strategy.on_fill(ctx, &fill).expect("on_fill");
}

#[test]
fn thresholds_with_hysteresis_move_the_position() {
    let mut ctx = TestContext::usdm_btcusdt();
    let (mut strategy, seen) = strategy(config(""), &[0.6, 0.52, 0.45, 0.3, 0.42, 0.47]);
    strategy.on_start(&mut ctx).expect("start");
    // The first bar has no return yet: a warm-up sample, never predicted.
    assert!(on_bar(&mut strategy, &mut ctx, 600_000).is_empty());
    assert!(seen.lock().unwrap().is_empty());
    let expect = |orders: &[(ClientOrderId, ferrotrade_model::OrderRequest)], side, quantity| {
        assert_eq!(orders.len(), 1, "{orders:?}");
        assert_eq!(
            (orders[0].1.side, orders[0].1.quantity, orders[0].1.order_type),
            (side, Quantity(quantity), OrderType::Market)
        );
        orders[0].0
    };
    // 0.6 >= long_entry: buy 0.01.
    let id = expect(&on_bar(&mut strategy, &mut ctx, 601_000), OrderSide::Buy, 10);
    fill_all(&mut strategy, &mut ctx, id, 10);
    // 0.52: above long_exit, the long is held.
    assert!(on_bar(&mut strategy, &mut ctx, 602_000).is_empty());
    // 0.45 < long_exit: flat.
    let id = expect(&on_bar(&mut strategy, &mut ctx, 601_500), OrderSide::Sell, 10);
    fill_all(&mut strategy, &mut ctx, id, 10);
    // 0.3 <= short_entry: short 0.01.
    let id = expect(&on_bar(&mut strategy, &mut ctx, 600_500), OrderSide::Sell, 10);
    fill_all(&mut strategy, &mut ctx, id, 10);
    // 0.42: below short_exit, the short is held; 0.47 > short_exit: flat.
    assert!(on_bar(&mut strategy, &mut ctx, 600_400).is_empty());
    let id = expect(&on_bar(&mut strategy, &mut ctx, 600_300), OrderSide::Buy, 10);
    fill_all(&mut strategy, &mut ctx, id, 10);
    assert_eq!(ctx.positions[0], Quantity::ZERO);
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 6);
    // The features are the feature library's: return_1 of the second bar.
    assert!((seen[0][0] - (601_000.0_f64 / 600_000.0).ln()).abs() < 1e-12);
    let counters = strategy.counters();
    assert_eq!(
        (counters.samples, counters.warmup, counters.requests, counters.signals, counters.orders),
        (7, 1, 6, 6, 4)
    );
}

#[test]
fn limit_orders_sit_behind_the_touch_and_are_resent_after_their_timeout() {
    let mut ctx = TestContext::usdm_btcusdt();
    ctx.set_touch(600_000, 600_010);
    let (mut strategy, _) =
        strategy(config("order_type = \"limit\"\noffset_bps = 10\norder_timeout_ms = 1000"), &[0.7]);
    strategy.on_start(&mut ctx).expect("start");
    on_bar(&mut strategy, &mut ctx, 600_000);
    let orders = on_bar(&mut strategy, &mut ctx, 601_000);
    // Bid 60000.0 less 10 bps = 59940.0.
    assert_eq!(orders.len(), 1);
    let (id, request) = orders[0];
    assert_eq!((request.order_type, request.side, request.price), (OrderType::Limit, OrderSide::Buy, Price(599_400)));
    ctx.advance_ms(1_000);
    strategy.on_timer(&mut ctx, 1).expect("timer");
    assert_eq!(ctx.take_actions(), [Action::Cancel(id)]);
    // Canceled: sent again at the new touch.
    ctx.set_touch(600_100, 600_110);
    let event = ctx.finish(id, OrderStatus::Canceled, OrderEventKind::Canceled);
    strategy.on_order(&mut ctx, &event).expect("on_order");
    let again = TestContext::submits(&ctx.take_actions());
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].1.price, Price(599_499)); // 60010.0 x 0.999 = 59949.99, down to the tick
}

#[test]
fn bad_settings_name_the_key() {
    let refused = |extra: &str, key: &str| {
        let text = format!("instrument = \"binance-usdm.BTCUSDT\"\nclock = \"bars\"\norder_size = 0.01\n{extra}");
        let config: ModelSignalConfig = toml::from_str(&text).expect("parses");
        let error = config.validate().expect_err("refused");
        assert_eq!(error.key, key, "{error}");
    };
    refused("model = \"m.onnx\"\nfeatures = [\"rsi_14\"]", "long_entry");
    refused("features = [\"rsi_14\"]\nlong_entry = 0.6", "model");
    refused(
        "model = \"m.onnx\"\nbridge = { endpoint = \"tcp://127.0.0.1:1\", timeout_ms = 5 }\nfeatures = [\"rsi_14\"]\nlong_entry = 0.6",
        "bridge",
    );
    refused("model = \"m.onnx\"\nfeatures = [\"rsi_14\"]\nlong_entry = 0.6\nshort_entry = 0.7", "short_entry");
    refused("model = \"m.onnx\"\nfeatures = [\"rsi_14\"]\nlong_entry = 0.6\nlong_exit = 0.7", "long_exit");
    refused("model = \"m.onnx\"\nfeatures = [\"book_imbalance_5\"]\nlong_entry = 0.6", "features");
    refused("model = \"m.onnx\"\nfeatures = [\"rsi_14\"]\nlong_entry = 0.6\noffset_bps = 2", "offset_bps");
    let _ = Decimal::parse_str("0.01");
}

#[test]
fn parameters_set_at_run_time_resize_the_target_and_move_the_thresholds() {
    let mut ctx = TestContext::usdm_btcusdt();
    let (mut strategy, _) = strategy(config(""), &[0.6, 0.52, 0.52]);
    strategy.on_start(&mut ctx).expect("start");
    on_bar(&mut strategy, &mut ctx, 600_000);
    let orders = on_bar(&mut strategy, &mut ctx, 601_000);
    fill_all(&mut strategy, &mut ctx, orders[0].0, 10);
    // A new size resizes the long at once: buy the 0.01 more.
    strategy.set_parameter(&mut ctx, "order_size", "0.02").expect("order_size");
    let more = TestContext::submits(&ctx.take_actions());
    assert_eq!(more.len(), 1, "{more:?}");
    assert_eq!((more[0].1.side, more[0].1.quantity), (OrderSide::Buy, Quantity(10)));
    fill_all(&mut strategy, &mut ctx, more[0].0, 10);
    assert_eq!(strategy.target(), Quantity(20));
    // 0.52 holds the long at long_exit 0.5; raised to 0.53, the next 0.52 closes it.
    assert!(on_bar(&mut strategy, &mut ctx, 602_000).is_empty());
    strategy.set_parameter(&mut ctx, "long_exit", "0.53").expect("long_exit");
    assert!(ctx.take_actions().is_empty(), "thresholds act on the next signal");
    let close = on_bar(&mut strategy, &mut ctx, 602_500);
    assert_eq!((close[0].1.side, close[0].1.quantity), (OrderSide::Sell, Quantity(20)));
    // Refused: the change is not made and the message says why.
    common::assert_refused(
        &mut strategy,
        &mut ctx,
        &[
            ("long_exit", "0.6", "long_exit"),      // above long_entry 0.55
            ("short_entry", "0.56", "short_entry"), // not below long_entry
            ("long_entry", "NaN", "not a finite number"),
            ("order_size", "0.0001", "more decimals"),
            ("offset_bps", "2", "limit orders only"), // market orders
            ("features", "[\"rsi_14\"]", "features cannot change at run time"),
            ("treshold", "1", "unknown parameter \"treshold\""),
        ],
    );
    assert!(ctx.take_actions().is_empty());
    assert_eq!(strategy.target(), Quantity::ZERO);
}
