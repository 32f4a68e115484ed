//! The backtest loop end to end on hand-built rows: the two clocks (feed latency, order entry and
//! response latency), what a strategy sees and when, risk denials, timers, errors, and the configuration's
//! error messages. Times are in nanoseconds; BTCUSDT USD-M precisions (price 1 decimal, size 3).

use std::cell::RefCell;
use std::rc::Rc;

use ferrotrade_model::{
    BookSide, EventChunk, EventRow, Instrument, InstrumentId, InstrumentIndex, Money, OrderEventKind, OrderRequest,
    OrderSide, Price, Quantity, RowKind, UnixNanos, Venue, flags,
};
use ferrotrade_risk::RiskConfig;
use ferrotrade_sim::LatencyConfig;
use ferrotrade_sim::VenueConfig;
use ferrotrade_sim::engine::{Backtest, BacktestConfig, Checkpoint, ChunkSource, EngineError, EngineSetup, RunControl};
use ferrotrade_strategy::{Context, DataKind, Strategy, StrategyError, StrategyResult, Subscription, TimerId};

const IX: InstrumentIndex = InstrumentIndex(0);

fn btcusdt() -> Instrument {
    Instrument::with_precisions(InstrumentId::new(Venue::BinanceUsdm, "BTCUSDT"), 1, 3)
}

fn book_row(ts_event: u64, ts_recv: u64, side: BookSide, price: i64, size: i64, row_flags: u8) -> EventRow {
    EventRow {
        ts_event: UnixNanos(ts_event),
        ts_recv: UnixNanos(ts_recv),
        kind: RowKind::Book,
        side: side as u8,
        price: Price(price),
        size: Quantity(size),
        flags: row_flags,
        instrument: IX,
        ..EventRow::default()
    }
}

struct Rows(Vec<EventChunk>);

impl ChunkSource for Rows {
    fn next_chunk(&mut self) -> Option<Result<EventChunk, String>> {
        (!self.0.is_empty()).then(|| Ok(self.0.remove(0)))
    }
}

/// Splits rows into chunks of `size` so the loop's chunk boundaries are exercised too.
fn rows(rows: Vec<EventRow>, size: usize) -> Rows {
    Rows(rows.chunks(size).map(|chunk| EventChunk { rows: chunk.to_vec(), ..EventChunk::default() }).collect())
}

struct NoStop;
impl RunControl for NoStop {
    fn checkpoint(&mut self, _checkpoint: &Checkpoint<'_>) -> bool {
        false
    }
}

fn setup(entry_ns: u64, response_ns: u64, risk: RiskConfig) -> EngineSetup {
    EngineSetup {
        instruments: vec![btcusdt()],
        venues: vec![VenueConfig::default()],
        latency: LatencyConfig::Constant { entry_ns, response_ns },
        risk,
        initial_equity: Money::from_units(10_000),
        seed: 0,
        sample_interval_ns: 1_000,
    }
}

type Log = Rc<RefCell<Vec<String>>>;

/// Logs every callback with the local time; on the first book update sends `order` (if any); sets a
/// 1000 ns interval timer from 2000 when `timers`; fails on the book update number `fail_on_book`.
struct Script {
    log: Log,
    order: Option<OrderRequest>,
    timers: bool,
    fail_on_book: Option<usize>,
    books: usize,
}

impl Script {
    fn new(log: &Log) -> Script {
        Script { log: Rc::clone(log), order: None, timers: false, fail_on_book: None, books: 0 }
    }
    fn note(&self, ctx: &dyn Context, what: String) {
        self.log.borrow_mut().push(format!("{} {what}", ctx.now().0));
    }
}

impl Strategy for Script {
    fn name(&self) -> &str {
        "script"
    }
    fn subscriptions(&self) -> Vec<Subscription> {
        vec![Subscription::new("binance-usdm.BTCUSDT", &[DataKind::Book])]
    }
    fn on_start(&mut self, ctx: &mut dyn Context) -> StrategyResult {
        if self.timers {
            ctx.set_timer(7, UnixNanos(2_000), 1_000);
        }
        Ok(())
    }
    fn on_book(&mut self, ctx: &mut dyn Context, instrument: InstrumentIndex) -> StrategyResult {
        self.books += 1;
        let ask = ctx.book(instrument).best_ask().map_or(0, |level| level.price.0);
        self.note(ctx, format!("book ask={ask}"));
        if self.fail_on_book == Some(self.books) {
            return Err(StrategyError::new("boom"));
        }
        if let Some(order) = self.order.take() {
            ctx.submit(order);
        }
        Ok(())
    }
    fn on_order(&mut self, ctx: &mut dyn Context, event: &ferrotrade_model::OrderEvent) -> StrategyResult {
        let what = match event.kind {
            OrderEventKind::Accepted(_) => "accepted".to_owned(),
            OrderEventKind::Denied(reason) => format!("denied {reason}"),
            OrderEventKind::Filled(fill) => format!("filled {}@{}", fill.quantity.0, fill.price.0),
            other => format!("{other:?}"),
        };
        self.note(ctx, format!("order {what} recv={}", event.ts_recv.0));
        Ok(())
    }
    fn on_fill(&mut self, ctx: &mut dyn Context, fill: &ferrotrade_model::Fill) -> StrategyResult {
        let position = ctx.position(fill.instrument).quantity.0;
        self.note(ctx, format!("fill position={position}"));
        Ok(())
    }
    fn on_timer(&mut self, ctx: &mut dyn Context, timer: TimerId) -> StrategyResult {
        self.note(ctx, format!("timer {timer}"));
        Ok(())
    }
    fn on_stop(&mut self, ctx: &mut dyn Context) -> StrategyResult {
        self.note(ctx, "stop".to_owned());
        Ok(())
    }
}

/// Snapshot at exchange time 1000 (received 1500); the ask moves to 61800.5 at exchange time 1550
/// (received 2050); a last update at 4000 (received 4500).
fn latency_rows() -> Vec<EventRow> {
    vec![
        book_row(1_000, 1_500, BookSide::Bid, 618_000, 1_000, flags::SNAPSHOT | flags::CLEAR),
        book_row(1_000, 1_500, BookSide::Ask, 618_001, 1_000, flags::SNAPSHOT | flags::LAST),
        book_row(1_550, 2_050, BookSide::Ask, 618_001, 0, 0),
        book_row(1_550, 2_050, BookSide::Ask, 618_005, 2_000, flags::LAST),
        book_row(4_000, 4_500, BookSide::Bid, 618_002, 1_000, flags::LAST),
    ]
}

#[test]
fn an_order_meets_the_exchange_book_of_its_arrival_time_and_the_answer_comes_back_late() {
    let log: Log = Rc::default();
    let mut script = Script::new(&log);
    script.order = Some(OrderRequest::market(IX, OrderSide::Buy, Quantity(1)));
    let mut backtest = Backtest::new(setup(100, 200, RiskConfig::default()), vec![Box::new(script)]).unwrap();
    backtest.run(&mut rows(latency_rows(), 2), &mut NoStop).unwrap();
    // Sent at 1500 (the strategy saw ask 61800.1), at the venue at 1600, where the exchange book already
    // has the ask at 61800.5 (exchange time 1550); the answers arrive at 1800, before the local book
    // shows the new ask at 2050.
    assert_eq!(
        *log.borrow(),
        [
            "1500 book ask=618001",
            "1800 order accepted recv=1800",
            "1800 order filled 1@618005 recv=1800",
            "1800 fill position=1",
            "2050 book ask=618005",
            "4500 book ask=618005",
            "4500 stop",
        ]
    );
    let output = backtest.finish();
    assert_eq!(output.records.fills.len(), 1);
    assert_eq!(output.records.fills[0].ts_event, UnixNanos(1_600));
    assert_eq!(output.records.fills[0].ts_recv, UnixNanos(1_800));
    assert_eq!(output.positions[0][0].quantity, Quantity(1));
    assert_eq!(output.records.stats.events, 5);
    assert_eq!(output.records.stats.orders, 1);
}

#[test]
fn without_latency_the_same_order_fills_at_the_price_the_strategy_saw() {
    let log: Log = Rc::default();
    let mut script = Script::new(&log);
    script.order = Some(OrderRequest::market(IX, OrderSide::Buy, Quantity(1)));
    let mut backtest = Backtest::new(setup(0, 0, RiskConfig::default()), vec![Box::new(script)]).unwrap();
    backtest.run(&mut rows(latency_rows(), 5), &mut NoStop).unwrap();
    assert!(log.borrow().contains(&"1500 order filled 1@618001 recv=1500".to_owned()), "{:?}", log.borrow());
}

#[test]
fn a_risk_denial_reaches_the_strategy_at_once_and_nothing_reaches_the_venue() {
    let log: Log = Rc::default();
    let mut script = Script::new(&log);
    script.order = Some(OrderRequest::market(IX, OrderSide::Buy, Quantity(2)));
    let risk: RiskConfig = toml::from_str("max_order_quantity = 0.001").unwrap();
    let mut backtest = Backtest::new(setup(100, 200, risk), vec![Box::new(script)]).unwrap();
    backtest.run(&mut rows(latency_rows(), 3), &mut NoStop).unwrap();
    assert_eq!(log.borrow()[1], "1500 order denied max_order_quantity recv=1500");
    let output = backtest.finish();
    assert!(output.records.fills.is_empty());
    assert_eq!(output.records.stats.denied, 1);
    assert_eq!(output.orders[0].1.status, ferrotrade_model::OrderStatus::Denied);
    assert!(output.denials.contains(&("max_order_quantity", 1)));
}

#[test]
fn interval_timers_fire_on_time_until_the_data_ends() {
    let log: Log = Rc::default();
    let mut script = Script::new(&log);
    script.timers = true;
    let mut backtest = Backtest::new(setup(0, 0, RiskConfig::default()), vec![Box::new(script)]).unwrap();
    backtest.run(&mut rows(latency_rows(), 1), &mut NoStop).unwrap();
    let timers: Vec<String> = log.borrow().iter().filter(|line| line.contains("timer")).cloned().collect();
    assert_eq!(timers, ["2000 timer 7", "3000 timer 7", "4000 timer 7"]);
}

#[test]
fn a_strategy_error_stops_the_run_with_its_time_and_on_stop_still_runs() {
    let log: Log = Rc::default();
    let mut script = Script::new(&log);
    script.fail_on_book = Some(2);
    let mut backtest = Backtest::new(setup(0, 0, RiskConfig::default()), vec![Box::new(script)]).unwrap();
    let error = backtest.run(&mut rows(latency_rows(), 2), &mut NoStop).unwrap_err();
    assert_eq!(
        error,
        EngineError::Strategy { strategy: "script".into(), ts: UnixNanos(2_050), message: "boom".into() }
    );
    assert_eq!(log.borrow().last().map(String::as_str), Some("2050 stop"));
    // The row after the failure was never replayed.
    assert!(!log.borrow().iter().any(|line| line.starts_with("4500")));
}

#[test]
fn a_subscription_to_an_unknown_instrument_is_refused_before_the_run() {
    struct Lost;
    impl Strategy for Lost {
        fn name(&self) -> &str {
            "lost"
        }
        fn subscriptions(&self) -> Vec<Subscription> {
            vec![Subscription::book("bybit-linear.ETHUSDT")]
        }
    }
    let error = Backtest::new(setup(0, 0, RiskConfig::default()), vec![Box::new(Lost)]).unwrap_err();
    assert!(error.to_string().contains("bybit-linear.ETHUSDT"), "{error}");
}

#[test]
fn configuration_errors_name_the_key() {
    let parse = |text: &str| BacktestConfig::from_json(text).unwrap_err().to_string();
    let base = r#""backtest": {"catalog": "c", "initial_equity": 1000}"#;
    assert!(parse(&format!(r#"{{{base}, "colour": 1}}"#)).starts_with("colour: unknown section"));
    assert!(parse(r#"{"backtest": {"catalog": "c", "initial_equity": 1000, "sed": 1}}"#).contains("sed"));
    assert!(
        parse(r#"{"backtest": {"catalog": "c", "initial_equity": "lots"}}"#).starts_with("backtest.initial_equity")
    );
    assert!(parse(r#"{"backtest": {"catalog": "c", "initial_equity": -5}}"#).starts_with("backtest.initial_equity"));
    let strategy = |body: &str| parse(&format!(r#"{{{base}, "strategy": [{body}]}}"#));
    assert!(strategy(r#"{"kind": "grid"}"#).starts_with("strategy[0].kind: unknown strategy kind"));
    let message = strategy(
        r#"{"kind": "market_maker", "instrument": "binance-usdm.BTCUSDT", "order_size": 0.001,
            "half_spread_bps": 2, "max_position": 0.01, "spread": 3}"#,
    );
    assert!(message.starts_with("strategy[0]") && message.contains("spread"), "{message}");
    let message =
        strategy(r#"{"kind": "trend", "instrument": "x", "source": "ticks", "fast": 1, "slow": 2, "order_size": 1}"#);
    assert!(message.starts_with("strategy[0].source"), "{message}");
    assert!(parse(&format!(r#"{{{base}, "risk": {{"max_position": -1}}}}"#)).contains("risk.max_position"));
    assert!(parse(&format!(r#"{{{base}, "venue": {{"queue": {{"model": "fifo"}}}}}}"#)).starts_with("venue.queue"));
    let ok = BacktestConfig::from_json(&format!(
        r#"{{{base}, "strategy": [{{"kind": "python", "class": "m:C", "params": {{"a": 1}}}}]}}"#
    ))
    .unwrap();
    assert_eq!(ok.strategies.len(), 1);
}

#[test]
fn funding_is_paid_on_the_strategy_position_when_a_funding_time_passes() {
    use ferrotrade_model::MarkPrice;
    let log: Log = Rc::default();
    let mut script = Script::new(&log);
    script.order = Some(OrderRequest::market(IX, OrderSide::Buy, Quantity(10)));
    let mark = |ts: u64, price: i64, next: u64| MarkPrice {
        ts_event: UnixNanos(ts),
        ts_recv: UnixNanos(ts),
        mark_price: Price(price),
        index_price: None,
        funding_rate: Some(0.0001),
        next_funding_time: Some(UnixNanos(next)),
    };
    let mark_row = |ts: u64, index: u64| EventRow {
        ts_event: UnixNanos(ts),
        ts_recv: UnixNanos(ts),
        kind: RowKind::Mark,
        aux: index,
        instrument: IX,
        ..EventRow::default()
    };
    let mut rows = latency_rows();
    rows.truncate(2);
    rows.push(mark_row(2_000, 0));
    rows.push(mark_row(4_000, 1));
    let chunk =
        EventChunk { rows, bars: Vec::new(), marks: vec![mark(2_000, 618_000, 3_000), mark(4_000, 619_000, 9_000)] };
    let mut backtest = Backtest::new(setup(0, 0, RiskConfig::default()), vec![Box::new(script)]).unwrap();
    backtest.run(&mut Rows(vec![chunk]), &mut NoStop).unwrap();
    let output = backtest.finish();
    assert_eq!(output.positions[0][0].quantity, Quantity(10));
    // Long 0.010 BTC, funding time 3000 settled at the mark and rate announced for it: 0.010 x 61800.0 x
    // 0.0001 = 0.0618 USDT paid by the long.
    assert_eq!(output.positions[0][0].funding.to_string(), "-0.0618");
    assert_eq!(output.records.stats.funding_payments, 1);
    assert_eq!(output.records.equity.last().unwrap().funding.to_string(), "-0.0618");
}

/// Records every checkpoint; asks to stop at checkpoint number `stop_at` (1-based).
struct Recorder {
    seen: Vec<Seen>,
    stop_at: Option<usize>,
}

/// A checkpoint's figures, and how many fills it carried.
struct Seen {
    events: u64,
    ts: UnixNanos,
    equity: ferrotrade_model::Money,
    fills: usize,
}

impl RunControl for Recorder {
    fn checkpoint(&mut self, checkpoint: &Checkpoint<'_>) -> bool {
        let Checkpoint { events, ts, equity, fills, .. } = *checkpoint;
        self.seen.push(Seen { events, ts, equity, fills: fills.len() });
        self.stop_at == Some(self.seen.len())
    }
}

/// A snapshot (bid 61800.0, ask 61800.2), then bid size changes only: the mid stays 61800.1.
fn steady_rows(count: u64) -> Vec<EventRow> {
    let mut out = vec![
        book_row(1_000, 1_000, BookSide::Bid, 618_000, 1_000, flags::SNAPSHOT | flags::CLEAR),
        book_row(1_000, 1_000, BookSide::Ask, 618_002, 1_000, flags::SNAPSHOT | flags::LAST),
    ];
    out.extend(
        (0..count - 2)
            .map(|i| book_row(2_000 + i, 2_000 + i, BookSide::Bid, 618_000, 1_000 + (i % 7) as i64, flags::LAST)),
    );
    out
}

#[test]
fn checkpoints_come_every_checkpoint_rows_rows_with_the_account_equity() {
    use ferrotrade_sim::engine::CHECKPOINT_ROWS;
    let log: Log = Rc::default();
    let mut script = Script::new(&log);
    script.order = Some(OrderRequest::market(IX, OrderSide::Buy, Quantity(1)));
    let mut backtest = Backtest::new(setup(0, 0, RiskConfig::default()), vec![Box::new(script)]).unwrap();
    let mut control = Recorder { seen: Vec::new(), stop_at: None };
    backtest.run(&mut rows(steady_rows(2 * CHECKPOINT_ROWS + 10), 4_096), &mut control).unwrap();
    let events: Vec<u64> = control.seen.iter().map(|c| c.events).collect();
    assert_eq!(events, [CHECKPOINT_ROWS, 2 * CHECKPOINT_ROWS]);
    // The checkpoint's time is the receive time of the row that completed it.
    assert_eq!(control.seen[0].ts, UnixNanos(2_000 + CHECKPOINT_ROWS - 3));
    // Long 0.001 BTC bought at 61800.2, marked at the mid 61800.1: 10000 - 0.0001.
    for checkpoint in &control.seen {
        assert!((checkpoint.equity.to_f64() - 9_999.999_9).abs() < 1e-9, "{:?}", checkpoint.equity);
        assert_eq!(checkpoint.fills, 1, "the run's fills so far ride along");
    }
}

#[test]
fn a_control_that_asks_to_stop_at_a_checkpoint_interrupts_the_run_there() {
    use ferrotrade_sim::engine::CHECKPOINT_ROWS;
    let log: Log = Rc::default();
    let mut backtest = Backtest::new(setup(0, 0, RiskConfig::default()), vec![Box::new(Script::new(&log))]).unwrap();
    let mut control = Recorder { seen: Vec::new(), stop_at: Some(1) };
    let error = backtest.run(&mut rows(steady_rows(3 * CHECKPOINT_ROWS), 4_096), &mut control).unwrap_err();
    assert_eq!(error, EngineError::Interrupted);
    assert_eq!(control.seen.len(), 1);
    assert_eq!(backtest.finish().records.stats.events, CHECKPOINT_ROWS);
}

/// Rests a buy far below the market on the first book update; on each later one, logs what the context
/// says of its open orders.
struct Resting {
    name: &'static str,
    log: Log,
    sent: Option<ferrotrade_model::ClientOrderId>,
}

impl Strategy for Resting {
    fn name(&self) -> &str {
        self.name
    }
    fn subscriptions(&self) -> Vec<Subscription> {
        vec![Subscription::new("binance-usdm.BTCUSDT", &[DataKind::Book])]
    }
    fn on_book(&mut self, ctx: &mut dyn Context, instrument: InstrumentIndex) -> StrategyResult {
        match self.sent {
            None => {
                self.sent =
                    Some(ctx.submit(OrderRequest::limit(instrument, OrderSide::Buy, Price(600_000), Quantity(1))))
            }
            Some(id) => {
                let mut open = Vec::new();
                ctx.open_orders(instrument, &mut open);
                let own = open == [id];
                self.log.borrow_mut().push(format!(
                    "{} count={} own={own}",
                    self.name,
                    ctx.open_order_count(instrument)
                ));
            }
        }
        Ok(())
    }
}

#[test]
fn each_strategy_counts_and_lists_only_its_own_open_orders() {
    let log: Log = Rc::default();
    let strategy = |name| Box::new(Resting { name, log: Rc::clone(&log), sent: None }) as Box<dyn Strategy>;
    let mut backtest = Backtest::new(setup(0, 0, RiskConfig::default()), vec![strategy("a"), strategy("b")]).unwrap();
    backtest.run(&mut rows(latency_rows(), 2), &mut NoStop).unwrap();
    // Two orders rest at the venue, one per strategy: each sees one, its own, at both later updates.
    assert_eq!(*log.borrow(), ["a count=1 own=true", "b count=1 own=true", "a count=1 own=true", "b count=1 own=true"]);
    assert_eq!(backtest.finish().records.stats.orders, 2);
}
