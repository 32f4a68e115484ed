//! Execution algorithms in the backtester, on real data: the test catalog's six minutes of a recorded
//! Binance USD-M BTCUSDT depth and trade stream (tests/data/SOURCES.md). Children go through the same
//! OMS, risk chain, latency and matching as any order; these tests check what each algorithm promises.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::cast_precision_loss)]

use std::cell::RefCell;
use std::rc::Rc;

use ferrotrade_catalog::{Catalog, EventStream, StreamSpec, TableKind};
use ferrotrade_model::{Decimal, EventChunk, Fill, InstrumentIndex, Money, OrderType, Quantity, Trade, Venue};
use ferrotrade_oms::{ParentId, ParentStatus};
use ferrotrade_risk::RiskConfig;
use ferrotrade_sim::engine::{Backtest, BacktestOutput, ChunkSource, EngineSetup, RunControl};
use ferrotrade_sim::{LatencyConfig, VenueConfig};
use ferrotrade_strategy::algo::{AlgoEvent, AlgoOrder, AlgoRecords, ParentRecord, vwap_schedule};
use ferrotrade_strategy::builtin::{Execution, ExecutionConfig};
use ferrotrade_strategy::{Context, DataKind, Strategy, StrategyResult, Subscription, TimerId};

const CATALOG: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/catalog");
const NAME: &str = "binance-usdm.BTCUSDT";
const SECOND: u64 = 1_000_000_000;

struct Stream(EventStream);

impl ChunkSource for Stream {
    fn next_chunk(&mut self) -> Option<Result<EventChunk, String>> {
        self.0.next().map(|chunk| chunk.map_err(|error| error.to_string()))
    }
}

struct NoStop;

impl RunControl for NoStop {
    fn checkpoint(&mut self, _checkpoint: &ferrotrade_sim::engine::Checkpoint<'_>) -> bool {
        false
    }
}

fn run(strategies: Vec<Box<dyn Strategy + '_>>, min_notional: Option<&str>) -> BacktestOutput {
    let catalog = Catalog::open(CATALOG.as_ref()).expect("the test catalog");
    let mut instrument = catalog.instrument(Venue::BinanceUsdm, "BTCUSDT").expect("instrument");
    instrument.min_notional = min_notional.map(|text| Decimal::parse_str(text).unwrap());
    let setup = EngineSetup {
        instruments: vec![instrument],
        venues: vec![VenueConfig::default()],
        latency: LatencyConfig::default(),
        risk: RiskConfig::default(),
        initial_equity: Money::from_units(1_000_000),
        seed: 0,
        sample_interval_ns: SECOND,
    };
    let specs: Vec<StreamSpec> = [TableKind::Book, TableKind::Trades]
        .iter()
        .map(|kind| StreamSpec {
            kind: *kind,
            venue: Venue::BinanceUsdm,
            symbol: "BTCUSDT".into(),
            instrument: InstrumentIndex(0),
            start: None,
            end: None,
        })
        .collect();
    let mut backtest = Backtest::new(setup, strategies).expect("engine");
    let mut source = Stream(EventStream::open(&catalog, &specs, 65_536).expect("stream"));
    backtest.run(&mut source, &mut NoStop).expect("run");
    backtest.finish()
}

fn order(toml_text: &str) -> AlgoOrder {
    toml::from_str(toml_text).expect("an algo order")
}

fn execution(orders: &[&str]) -> Box<dyn Strategy> {
    let config = ExecutionConfig { orders: orders.iter().map(|text| order(text)).collect() };
    Box::new(Execution::new(config).unwrap())
}

fn records(output: &BacktestOutput) -> &AlgoRecords {
    &output.algos.first().expect("the strategy's algorithm records").1
}

fn parent(output: &BacktestOutput) -> &ParentRecord {
    records(output).parents.first().expect("one parent")
}

/// Sizes of BTCUSDT at 3 decimals.
fn btc(quantity: Quantity) -> f64 {
    quantity.0 as f64 / 1_000.0
}

#[test]
fn twap_children_are_evenly_spaced_and_fill_the_quantity() {
    let output = run(
        vec![execution(&[r#"
            algo = "twap"
            instrument = "binance-usdm.BTCUSDT"
            side = "buy"
            quantity = 0.8
            delay_s = 10
            duration_s = 240
            slices = 8
        "#])],
        None,
    );
    let parent = parent(&output);
    let children = &records(&output).children;
    assert_eq!(parent.status, ParentStatus::Completed, "{parent:?}");
    assert_eq!(parent.filled, Quantity(800));
    assert_eq!(children.len(), 8, "one market child per slice");
    let start = parent.start.0;
    for (slice, child) in children.iter().enumerate() {
        let nominal = start + slice as u64 * 30 * SECOND;
        assert!(
            child.sent_at.0.abs_diff(nominal) <= 1_000_000,
            "slice {slice} sent {} ns off",
            child.sent_at.0 - nominal
        );
        assert_eq!(child.quantity, Quantity(100));
    }
    assert!(parent.market_volume.unwrap() > 0.0 && parent.market_vwap.is_some());
    assert!(parent.average_price.is_some() && parent.arrival_price > 50_000.0);
    // Every child fill is in the run's fills, and they add up to the parent's.
    let child_ids: Vec<_> = children.iter().map(|child| child.client_id).collect();
    let filled: i64 = output
        .records
        .fills
        .iter()
        .filter(|fill| child_ids.contains(&fill.client_id))
        .map(|fill| fill.quantity.0)
        .sum();
    assert_eq!(filled, 800);
}

#[test]
fn randomized_twap_keeps_its_bounds_and_is_reproducible() {
    let text = r#"
        algo = "twap"
        instrument = "binance-usdm.BTCUSDT"
        side = "sell"
        quantity = 0.5
        duration_s = 300
        slices = 10
        randomize = 0.4
        seed = 11
    "#;
    let first = run(vec![execution(&[text])], None);
    let again = run(vec![execution(&[text])], None);
    let times = |output: &BacktestOutput| {
        records(output).children.iter().map(|child| (child.sent_at, child.quantity)).collect::<Vec<_>>()
    };
    assert_eq!(times(&first), times(&again), "a seeded schedule is reproducible");
    let parent = parent(&first);
    assert_eq!(parent.filled, Quantity(500));
    let start = parent.start.0;
    for (slice, child) in records(&first).children.iter().enumerate() {
        let nominal = start + slice as u64 * 30 * SECOND;
        assert!(child.sent_at.0.abs_diff(nominal) <= 30 * SECOND / 5 + 1_000_000, "slice {slice}");
        assert!((30..=70).contains(&child.quantity.0), "slice {slice}: {:?}", child.quantity);
    }
}

#[test]
fn vwap_children_follow_the_volume_profile() {
    // A per-minute profile: the catalog's six minutes hold the only volume of the day.
    let mut profile = vec![0.0; 1_440];
    let weights = [5.0, 1.0, 3.0, 1.0, 4.0, 2.0, 2.0];
    let output_first = run(
        vec![execution(&[r#"
        algo = "twap"
        instrument = "binance-usdm.BTCUSDT"
        side = "buy"
        quantity = 0.001
        duration_s = 1
        slices = 1
    "#])],
        None,
    );
    let first_minute = (parent(&output_first).start.0 % 86_400_000_000_000) / 60_000_000_000;
    for (offset, weight) in weights.iter().enumerate() {
        profile[(first_minute as usize + offset) % 1_440] = *weight;
    }
    let text = format!(
        r#"
        algo = "vwap"
        instrument = "binance-usdm.BTCUSDT"
        side = "buy"
        quantity = 2.0
        duration_s = 300
        interval_s = 20
        profile = {profile:?}
    "#
    );
    let output = run(vec![execution(&[&text])], None);
    let parent = parent(&output);
    assert_eq!(parent.status, ParentStatus::Completed, "{parent:?}");
    let expected =
        vwap_schedule(parent.start.0, parent.end.unwrap().0, 20 * SECOND, &profile, Quantity(2_000), 1).unwrap();
    // Market children fill at once: what was sent by each slice time is what the profile makes due.
    let mut sent = 0;
    let mut by_slice = Vec::new();
    for child in &records(&output).children {
        sent += child.quantity.0;
        by_slice.push((child.sent_at.0, sent));
    }
    for (time, cumulative) in by_slice {
        let due = expected.due_at(time);
        assert_eq!(cumulative, due.0, "at {time}");
    }
    // Independently of the schedule code: each child is the profile's share of its 20 s, integrated
    // every 10 ms, within a lot of rounding.
    let day = 86_400 * SECOND;
    let weight_at = |t: u64| profile[((t % day) / (60 * SECOND)) as usize];
    let (start, end) = (parent.start.0, parent.end.unwrap().0);
    let step = (SECOND / 100) as usize;
    let total: f64 = (start..end).step_by(step).map(weight_at).sum();
    for child in &records(&output).children {
        let share: f64 = (child.sent_at.0..(child.sent_at.0 + 20 * SECOND).min(end)).step_by(step).map(weight_at).sum();
        let expected = 2_000.0 * share / total;
        assert!(
            (child.quantity.0 as f64 - expected).abs() <= 1.5,
            "child at {}: {:?} vs {expected}",
            child.sent_at.0,
            child.quantity
        );
    }
}

/// A strategy that submits one parent, pauses and resumes it at given times, and watches the market
/// and its fills.
struct Scripted {
    order: AlgoOrder,
    parent: Option<ParentId>,
    pause_at_s: Option<(u64, u64)>,
    log: Rc<RefCell<Log>>,
}

#[derive(Default)]
struct Log {
    refusal: Option<String>,
    market_volume: i64,
    /// `(market volume so far, filled so far)` at each fill.
    at_fills: Vec<(i64, i64)>,
    filled: i64,
    events: Vec<AlgoEvent>,
    paused: Option<(u64, u64)>,
}

impl Strategy for Scripted {
    fn name(&self) -> &str {
        "scripted"
    }

    fn subscriptions(&self) -> Vec<Subscription> {
        vec![Subscription::new(NAME, &[DataKind::Book, DataKind::Trades])]
    }

    fn uses_algos(&self) -> bool {
        true
    }

    fn on_book(&mut self, ctx: &mut dyn Context, instrument: InstrumentIndex) -> StrategyResult {
        if self.parent.is_some() || self.log.borrow().refusal.is_some() || ctx.book(instrument).mid_x2().is_none() {
            return Ok(());
        }
        match ctx.submit_algo(&self.order) {
            Ok(id) => {
                self.parent = Some(id);
                if let Some((pause, resume)) = self.pause_at_s {
                    let now = ctx.now().0;
                    ctx.set_timer(1, ferrotrade_model::UnixNanos(now + pause * SECOND), 0);
                    ctx.set_timer(2, ferrotrade_model::UnixNanos(now + resume * SECOND), 0);
                }
            }
            Err(refusal) => self.log.borrow_mut().refusal = Some(refusal.to_string()),
        }
        Ok(())
    }

    fn on_trade(&mut self, ctx: &mut dyn Context, _instrument: InstrumentIndex, trade: &Trade) -> StrategyResult {
        let active = self.parent.and_then(|id| ctx.algo(id)).is_some_and(|view| view.status == ParentStatus::Working);
        if active {
            self.log.borrow_mut().market_volume += trade.size.0;
        }
        Ok(())
    }

    fn on_fill(&mut self, _ctx: &mut dyn Context, fill: &Fill) -> StrategyResult {
        let mut log = self.log.borrow_mut();
        log.filled += fill.quantity.0;
        let entry = (log.market_volume, log.filled);
        log.at_fills.push(entry);
        Ok(())
    }

    fn on_timer(&mut self, ctx: &mut dyn Context, timer: TimerId) -> StrategyResult {
        let id = self.parent.expect("a parent");
        let now = ctx.now().0;
        let mut log = self.log.borrow_mut();
        match timer {
            1 => {
                assert!(ctx.pause_algo(id));
                log.paused = Some((now, u64::MAX));
            }
            _ => {
                assert!(ctx.resume_algo(id));
                if let Some(paused) = log.paused.as_mut() {
                    paused.1 = now;
                }
            }
        }
        Ok(())
    }

    fn on_algo(&mut self, _ctx: &mut dyn Context, event: &AlgoEvent) -> StrategyResult {
        self.log.borrow_mut().events.push(event.clone());
        Ok(())
    }
}

fn scripted(text: &str, pause_at_s: Option<(u64, u64)>) -> (Box<dyn Strategy>, Rc<RefCell<Log>>) {
    let log = Rc::new(RefCell::new(Log::default()));
    (Box::new(Scripted { order: order(text), parent: None, pause_at_s, log: Rc::clone(&log) }), log)
}

#[test]
fn pov_stays_within_its_band_of_observed_volume() {
    let (strategy, log) = scripted(
        r#"
        algo = "pov"
        instrument = "binance-usdm.BTCUSDT"
        side = "buy"
        quantity = 1000
        rate = 0.05
        min_child = 0.01
        max_child = 0.5
    "#,
        None,
    );
    let output = run(vec![strategy], None);
    let log = log.borrow();
    let parent = parent(&output);
    assert!(log.at_fills.len() > 10, "only {} fills", log.at_fills.len());
    for (volume, filled) in &log.at_fills {
        // Never ahead of the target: a child is at most what the observed volume makes due.
        assert!(*filled as f64 <= 0.05 * *volume as f64 + 1.0, "filled {filled} of {volume}");
    }
    let participation = btc(parent.filled) / parent.market_volume.unwrap();
    assert!((0.04..=0.0501).contains(&participation), "participation {participation}");
}

#[test]
fn iceberg_never_shows_more_than_its_display_and_refills() {
    let output = run(
        vec![execution(&[r#"
            algo = "iceberg"
            instrument = "binance-usdm.BTCUSDT"
            side = "sell"
            quantity = 1.5
            display = 0.2
            limit_price = 1000
        "#])],
        None,
    );
    let parent = parent(&output);
    let children = &records(&output).children;
    assert_eq!(parent.status, ParentStatus::Completed, "{parent:?}");
    assert!(children.len() >= 8, "refilled: {} children", children.len());
    assert!(children.iter().all(|child| child.quantity <= Quantity(200)), "a child showed more than 0.2");
    // One child at a time: each is sent after the previous one is done.
    let open_at = |at| {
        output
            .orders
            .iter()
            .filter(|(_, order)| {
                order.ts_init.0 <= at
                    && order.ts_last.0 > at
                    && children.iter().any(|child| child.client_id == order.client_id)
            })
            .count()
    };
    assert!(children.iter().all(|child| open_at(child.sent_at.0) <= 1));
}

#[test]
fn chase_reprices_by_amend_and_crosses_after_its_timeout() {
    let output = run(
        vec![execution(&[r#"
            algo = "chase"
            instrument = "binance-usdm.BTCUSDT"
            side = "buy"
            quantity = 0.3
            peg = "touch"
            offset_ticks = -2
            cross_after_s = 120
        "#])],
        None,
    );
    let parent = parent(&output);
    assert_eq!(parent.status, ParentStatus::Completed, "{parent:?}");
    let child = &records(&output).children[0];
    let order = output.orders.iter().map(|(_, order)| order).find(|order| order.client_id == child.client_id).unwrap();
    assert_eq!(order.request.order_type, OrderType::Limit);
    assert_ne!(order.request.price, child.price, "the child was re-priced by amend");
    assert!(parent.finished_at.unwrap().0 >= parent.start.0);
}

#[test]
fn a_chase_crosses_once_the_market_runs_away_from_its_peg() {
    // Pegged 50 ticks (5 USDT) behind the touch, the chase rarely fills passively; with urgency it crosses
    // by amend once the touch has run 5 ticks away from where it started.
    let chase = |side: &str, urgency: &str| {
        let text = format!(
            r#"
            algo = "chase"
            instrument = "binance-usdm.BTCUSDT"
            side = "{side}"
            quantity = 0.3
            peg = "touch"
            offset_ticks = -50
            {urgency}
        "#
        );
        run(vec![execution(&[&text])], None)
    };
    let mut crossed = 0;
    for (side, sign) in [("buy", 1), ("sell", -1)] {
        let plain = chase(side, "");
        let urgent = chase(side, "cross_after_ticks = 5");
        let finished = |output: &BacktestOutput| parent(output).finished_at.map_or(u64::MAX, |at| at.0);
        assert!(finished(&urgent) <= finished(&plain), "{side}: urgency made it later");
        let child = &records(&urgent).children[0];
        if !child.note.contains("crossed by amend after the market ran away") {
            continue;
        }
        crossed += 1;
        // Amended from 50 ticks behind the touch to the far touch, at least 5 ticks beyond the start.
        let order =
            urgent.orders.iter().map(|(_, order)| order).find(|order| order.client_id == child.client_id).unwrap();
        assert!(
            sign * (order.request.price.0 - child.price.0) >= 56,
            "{side}: {:?} -> {:?}",
            child.price,
            order.request.price
        );
        assert_eq!(parent(&urgent).status, ParentStatus::Completed);
    }
    assert!(crossed >= 1, "the touch ran 5 ticks away on neither side in six minutes");
}

#[test]
fn a_paused_parent_sends_nothing_until_resumed() {
    let (strategy, log) = scripted(
        r#"
        algo = "twap"
        instrument = "binance-usdm.BTCUSDT"
        side = "buy"
        quantity = 1.0
        duration_s = 300
        slices = 10
    "#,
        Some((45, 150)),
    );
    let output = run(vec![strategy], None);
    let (paused, resumed) = log.borrow().paused.unwrap();
    let children = &records(&output).children;
    assert!(children.iter().any(|child| child.sent_at.0 < paused));
    assert!(children.iter().all(|child| child.sent_at.0 < paused || child.sent_at.0 >= resumed), "sent while paused");
    // The slices missed while paused are caught up after the resume, and the parent completes.
    assert_eq!(parent(&output).filled, Quantity(1_000));
    let statuses: Vec<ParentStatus> = log.borrow().events.iter().map(|event| event.status).collect();
    assert_eq!(statuses, vec![ParentStatus::Paused, ParentStatus::Working, ParentStatus::Completed]);
}

#[test]
fn orders_that_cannot_be_executed_as_asked_are_refused_up_front() {
    let refusal = |text: &str, min_notional: Option<&str>| {
        let (strategy, log) = scripted(text, None);
        let output = run(vec![strategy], min_notional);
        assert!(records(&output).children.is_empty());
        let refusal = log.borrow().refusal.clone();
        refusal.expect("a refusal")
    };
    let too_short = refusal(
        r#"
        algo = "twap"
        instrument = "binance-usdm.BTCUSDT"
        side = "buy"
        quantity = 1.0
        duration_s = 0.5
        slices = 10
    "#,
        None,
    );
    assert!(too_short.contains("too short for 10 slices"), "{too_short}");
    let small = refusal(
        r#"
        algo = "twap"
        instrument = "binance-usdm.BTCUSDT"
        side = "buy"
        quantity = 0.01
        duration_s = 60
        slices = 10
    "#,
        Some("100"),
    );
    assert!(small.contains("below the minimum notional 100"), "{small}");
    let breached = refusal(
        r#"
        algo = "pov"
        instrument = "binance-usdm.BTCUSDT"
        side = "buy"
        quantity = 1.0
        rate = 0.1
        limit_price = 1000
    "#,
        None,
    );
    assert!(breached.contains("already breached"), "{breached}");
    let foreign = refusal(
        r#"
        algo = "twap"
        instrument = "binance-usdm.BTCUSDT"
        side = "buy"
        quantity = 1.0
        duration_s = 60
        slices = 10
        display = 0.1
    "#,
        None,
    );
    assert!(foreign.contains("`display`: does not apply to twap"), "{foreign}");
}
