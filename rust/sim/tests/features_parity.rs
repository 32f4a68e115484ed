//! One feature implementation, two deliveries: the batch runner over catalog rows (what `ft.features.compute`
//! and so model training see) and a strategy fed by this engine's callbacks (what a model-signal strategy
//! sees in a backtest, and in live trading through the same callbacks) must give bit-identical samples.
//!
//! The data is the test catalog (tests/data/catalog, see tests/data/SOURCES.md): six minutes of a real Binance
//! USD-M BTCUSDT depth and trade stream, and two months of real hourly Binance spot BTCUSDT klines.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::cell::RefCell;
use std::rc::Rc;

use ferrotrade_catalog::{Catalog, EventStream, StreamSpec, TableKind};
use ferrotrade_features::{BatchRunner, Clock, FeatureConfig, FeatureSet, FeatureTable};
use ferrotrade_model::{Bar, EventChunk, InstrumentIndex, Money, Trade, Venue};
use ferrotrade_risk::RiskConfig;
use ferrotrade_sim::engine::{Backtest, ChunkSource, EngineSetup, RunControl};
use ferrotrade_sim::{LatencyConfig, VenueConfig};
use ferrotrade_strategy::{Context, DataKind, Strategy, StrategyResult, Subscription};

const CATALOG: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/catalog");

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

/// Computes the features from the engine's callbacks, as a model-signal strategy does.
struct Recorder {
    instrument: String,
    kinds: Vec<DataKind>,
    set: FeatureSet,
    out: Rc<RefCell<FeatureTable>>,
}

impl Recorder {
    fn push(out: &RefCell<FeatureTable>, sample: &ferrotrade_features::Sample<'_>) {
        let mut table = out.borrow_mut();
        table.ts.push(sample.ts.0);
        table.price.push(sample.price);
        if table.columns.is_empty() {
            table.columns = vec![Vec::new(); sample.values.len()];
        }
        for (column, value) in table.columns.iter_mut().zip(sample.values) {
            column.push(*value);
        }
    }
}

impl Strategy for Recorder {
    fn name(&self) -> &str {
        "recorder"
    }

    fn subscriptions(&self) -> Vec<Subscription> {
        vec![Subscription::new(&self.instrument, &self.kinds)]
    }

    fn on_book(&mut self, ctx: &mut dyn Context, instrument: InstrumentIndex) -> StrategyResult {
        let out = Rc::clone(&self.out);
        self.set.on_book(ctx.now(), ctx.book(instrument), &mut |sample| Recorder::push(&out, sample));
        Ok(())
    }

    fn on_trade(&mut self, _ctx: &mut dyn Context, _instrument: InstrumentIndex, trade: &Trade) -> StrategyResult {
        let out = Rc::clone(&self.out);
        self.set.on_trade(trade, &mut |sample| Recorder::push(&out, sample));
        Ok(())
    }

    fn on_bar(&mut self, _ctx: &mut dyn Context, _instrument: InstrumentIndex, bar: &Bar) -> StrategyResult {
        let out = Rc::clone(&self.out);
        self.set.on_bar(bar, &mut |sample| Recorder::push(&out, sample));
        Ok(())
    }
}

fn specs(venue: Venue, kinds: &[TableKind]) -> Vec<StreamSpec> {
    kinds
        .iter()
        .map(|kind| StreamSpec {
            kind: *kind,
            venue,
            symbol: "BTCUSDT".into(),
            instrument: InstrumentIndex(0),
            start: None,
            end: None,
        })
        .collect()
}

fn batch(config: &FeatureConfig, venue: Venue, kinds: &[TableKind]) -> FeatureTable {
    let catalog = Catalog::open(CATALOG.as_ref()).expect("the test catalog");
    let instrument = catalog.instrument(venue, "BTCUSDT").expect("instrument");
    let set = FeatureSet::new(config, instrument.price_precision, instrument.size_precision).expect("features");
    let mut runner = BatchRunner::new(set, InstrumentIndex(0));
    // Small chunks: a sample's inputs straddle chunk boundaries.
    let mut stream = EventStream::open(&catalog, &specs(venue, kinds), 777).expect("stream");
    while let Some(chunk) = stream.next() {
        let chunk = chunk.expect("chunk");
        runner.process(&chunk).expect("rows");
        stream.recycle(chunk);
    }
    runner.drain()
}

fn streaming(config: &FeatureConfig, venue: Venue, kinds: &[TableKind], subscribed: &[DataKind]) -> FeatureTable {
    let catalog = Catalog::open(CATALOG.as_ref()).expect("the test catalog");
    let instrument = catalog.instrument(venue, "BTCUSDT").expect("instrument");
    let set = FeatureSet::new(config, instrument.price_precision, instrument.size_precision).expect("features");
    let out = Rc::new(RefCell::new(FeatureTable::default()));
    let recorder =
        Recorder { instrument: format!("{venue}.BTCUSDT"), kinds: subscribed.to_vec(), set, out: Rc::clone(&out) };
    let setup = EngineSetup {
        instruments: vec![instrument],
        venues: vec![VenueConfig::default()],
        latency: LatencyConfig::default(),
        risk: RiskConfig::default(),
        initial_equity: Money::from_units(10_000),
        seed: 0,
        sample_interval_ns: 1_000_000_000,
    };
    let mut backtest = Backtest::new(setup, vec![Box::new(recorder)]).expect("engine");
    let mut source = Stream(EventStream::open(&catalog, &specs(venue, kinds), 65_536).expect("stream"));
    backtest.run(&mut source, &mut NoStop).expect("run");
    drop(backtest.finish());
    out.take()
}

fn assert_identical(batch: &FeatureTable, streaming: &FeatureTable, names: &[String], min_samples: usize) {
    assert!(batch.len() >= min_samples, "only {} samples", batch.len());
    assert_eq!(batch.ts, streaming.ts, "sample times");
    assert_eq!(batch.price, streaming.price, "reference prices");
    for (index, name) in names.iter().enumerate() {
        let (b, s) = (&batch.columns[index], &streaming.columns[index]);
        assert_eq!(b.len(), s.len());
        for (row, (x, y)) in b.iter().zip(s).enumerate() {
            assert!(x.to_bits() == y.to_bits(), "{name} at sample {row}: batch {x} vs streaming {y}");
        }
        let defined = b.iter().filter(|value| value.is_finite()).count();
        assert!(defined * 2 > b.len(), "{name}: only {defined} of {} values defined", b.len());
    }
}

fn features(names: &[&str]) -> Vec<String> {
    names.iter().map(|name| (*name).to_owned()).collect()
}

const TICK_FEATURES: [&str; 16] = [
    "return_10",
    "sma_20",
    "ema_20",
    "wma_20",
    "rsi_14",
    "macd_12_26_9",
    "stoch_d_14_3",
    "atr_14",
    "bb_pctb_20_2",
    "obv_50",
    "vwap_50",
    "realized_vol_50",
    "trade_imbalance_50",
    "book_imbalance_5",
    "microprice_bps",
    "spread_bps",
];

#[test]
fn book_clock_batch_equals_streaming_on_real_usdm_data() {
    let config = FeatureConfig { clock: Clock::Book, features: features(&TICK_FEATURES) };
    let kinds = [TableKind::Book, TableKind::Trades];
    let batch = batch(&config, Venue::BinanceUsdm, &kinds);
    let streaming = streaming(&config, Venue::BinanceUsdm, &kinds, &[DataKind::Book, DataKind::Trades]);
    assert_identical(&batch, &streaming, &config.features, 5_000);
}

#[test]
fn interval_clock_batch_equals_streaming_on_real_usdm_data() {
    let mut names = features(&TICK_FEATURES);
    names.push("hour_sin".into());
    let config = FeatureConfig { clock: Clock::Interval { interval_ms: 1_000 }, features: names };
    let kinds = [TableKind::Book, TableKind::Trades];
    let batch = batch(&config, Venue::BinanceUsdm, &kinds);
    let streaming = streaming(&config, Venue::BinanceUsdm, &kinds, &[DataKind::Book, DataKind::Trades]);
    // Samples fall on whole seconds, one per second of the capture.
    assert!(batch.ts.iter().all(|ts| ts % 1_000_000_000 == 0));
    assert!(batch.ts.windows(2).all(|pair| pair[1] - pair[0] == 1_000_000_000));
    assert_identical(&batch, &streaming, &config.features, 300);
}

#[test]
fn bar_clock_batch_equals_streaming_on_real_klines() {
    let config = FeatureConfig {
        clock: Clock::Bars,
        features: features(&[
            "return_1",
            "return_24",
            "sma_24",
            "ema_12",
            "rsi_14",
            "macd_12_26_9",
            "stoch_k_14",
            "atr_14",
            "bb_width_20_2",
            "obv_24",
            "vwap_24",
            "realized_vol_24",
            "trade_imbalance_24",
            "hour_cos",
            "dow_sin",
            "dow_cos",
        ]),
    };
    let batch = batch(&config, Venue::BinanceSpot, &[TableKind::Bars]);
    let streaming = streaming(&config, Venue::BinanceSpot, &[TableKind::Bars], &[DataKind::Bars]);
    assert_identical(&batch, &streaming, &config.features, 1_400);
}
