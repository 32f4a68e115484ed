//! Helpers of the engine tests: a local venue on its own thread, and hooks that stop a run once the
//! replay is over.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread;

use ferrotrade_live::config::LiveConfig;
use ferrotrade_live::{LiveHooks, LiveStatus};
use ferrotrade_localvenue::{LocalVenue, LocalVenueConfig, VenueState};
use ferrotrade_model::Venue;
use ferrotrade_sim::engine::StrategyConfig;
use ferrotrade_strategy::Strategy;
use ferrotrade_strategy::builtin::MarketMaker;

pub fn data(relative: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data")).join(relative)
}

/// A local venue on its own thread and runtime; dropped with the sender.
pub struct VenueThread {
    pub rest: String,
    pub ws: String,
    pub done: Arc<AtomicBool>,
    shutdown: mpsc::Sender<mpsc::Sender<VenueState>>,
    handle: Option<thread::JoinHandle<()>>,
}

impl VenueThread {
    pub fn start(capture: PathBuf, venue: Venue) -> VenueThread {
        VenueThread::start_with(
            LocalVenueConfig { replay: vec![capture], start_paused: true, ..LocalVenueConfig::default() },
            venue,
        )
    }

    pub fn start_with(config: LocalVenueConfig, venue: Venue) -> VenueThread {
        let (ready_tx, ready_rx) = mpsc::channel();
        let (shutdown, shutdown_rx) = mpsc::channel::<mpsc::Sender<VenueState>>();
        let done = Arc::new(AtomicBool::new(false));
        let replay_done = Arc::clone(&done);
        let handle = thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("rt");
            runtime.block_on(async move {
                let local = LocalVenue::start(config).await.expect("local venue starts");
                ready_tx.send((local.rest_base(), local.ws_base(venue))).expect("ready");
                // Shut down on request at any time; note the end of the replay when it comes first.
                let mut shutdown = tokio::task::spawn_blocking(move || shutdown_rx.recv().ok());
                let reply = tokio::select! {
                    reply = &mut shutdown => reply.ok().flatten(),
                    () = local.replay_done() => {
                        replay_done.store(true, Ordering::SeqCst);
                        shutdown.await.ok().flatten()
                    }
                };
                if let Some(reply) = reply {
                    reply.send(local.state()).ok();
                }
                local.shutdown().await;
            });
        });
        let (rest, ws) = ready_rx.recv().expect("venue address");
        VenueThread { rest, ws, done, shutdown, handle: Some(handle) }
    }
}

impl VenueThread {
    /// Waits for the end of the replay, then returns the venue's final state and stops it.
    pub fn finish(mut self) -> VenueState {
        let (reply, state) = mpsc::channel();
        self.shutdown.send(reply).expect("venue thread alive");
        let state = state.recv().expect("venue state");
        if let Some(handle) = self.handle.take() {
            handle.join().ok();
        }
        state
    }
}

impl Drop for VenueThread {
    fn drop(&mut self) {
        let (reply, _state) = mpsc::channel();
        self.shutdown.send(reply).ok();
        if let Some(handle) = self.handle.take() {
            handle.join().ok();
        }
    }
}

/// Stops once the replay is over and the engine has had no new message for a tick, or after
/// `stop_after_messages` messages.
pub struct StopWhenQuiet {
    pub done: Arc<AtomicBool>,
    pub last_messages: u64,
    pub quiet_ticks: u32,
    pub stop_after_messages: Option<u64>,
    pub stop: bool,
}

impl StopWhenQuiet {
    /// Hooks that stop once `venue` has replayed everything and the engine has gone quiet.
    pub fn after_replay(venue: &VenueThread) -> StopWhenQuiet {
        StopWhenQuiet {
            done: Arc::clone(&venue.done),
            last_messages: 0,
            quiet_ticks: 0,
            stop_after_messages: None,
            stop: false,
        }
    }
}

impl LiveHooks for StopWhenQuiet {
    fn should_stop(&mut self) -> bool {
        self.stop
    }

    fn on_status(&mut self, status: &LiveStatus) {
        if self.stop_after_messages.is_some_and(|limit| status.messages >= limit) {
            self.stop = true;
        }
        if self.done.load(Ordering::SeqCst) && status.messages == self.last_messages && !status.backfilling {
            self.quiet_ticks += 1;
            self.stop |= self.quiet_ticks >= 3;
        } else {
            self.quiet_ticks = 0;
        }
        self.last_messages = status.messages;
    }
}

/// The market a live-mode test trades: venue, instrument spec, risk limit and market-maker sizing
/// (decimal text as the TOML takes it).
pub struct LiveMarket<'a> {
    pub venue: &'a str,
    pub symbol: &'a str,
    pub tick_size: &'a str,
    pub lot_size: &'a str,
    pub risk_max_position: &'a str,
    pub order_size: &'a str,
    pub half_spread_bps: &'a str,
    pub max_position: &'a str,
    /// More keys of the `[[venue]]` table (one per line, or nothing).
    pub venue_extra: &'a str,
}

/// Binance USD-M BTCUSDT, as `live_config` trades it.
pub const BINANCE_USDM_BTCUSDT: LiveMarket<'static> = LiveMarket {
    venue: "binance-usdm",
    symbol: "BTCUSDT",
    tick_size: "0.1",
    lot_size: "0.001",
    risk_max_position: "0.05",
    order_size: "0.002",
    half_spread_bps: "0.5",
    max_position: "0.01",
    venue_extra: "",
};

/// A live-mode configuration against `venue` with the market maker; `extra` is appended to its
/// `[[strategy]]` table.
pub fn live_config(venue: &VenueThread, run_dir: &Path, keys: &Path, extra: &str) -> LiveConfig {
    live_config_for(venue, run_dir, keys, &BINANCE_USDM_BTCUSDT, extra)
}

/// A live-mode configuration against `venue` with the market maker trading `market`; `extra` is appended
/// to its `[[strategy]]` table.
pub fn live_config_for(
    venue: &VenueThread,
    run_dir: &Path,
    keys: &Path,
    market: &LiveMarket<'_>,
    extra: &str,
) -> LiveConfig {
    let text = format!(
        r#"
[live]
mode = "live"
run_dir = "{run_dir}"
initial_equity = 100000
reconcile_every_s = 1
journal_fsync = "never"

[[venue]]
name = "{name}"
network = "local"
rest = "{rest}"
ws_public = "{ws}"
credentials = {{ file = "{keys}" }}
{venue_extra}
[instruments."{name}.{symbol}"]
tick_size = {tick_size}
lot_size = {lot_size}

[risk]
max_position = {risk_max_position}

[[strategy]]
kind = "market_maker"
name = "mm"
instrument = "{name}.{symbol}"
order_size = {order_size}
half_spread_bps = {half_spread_bps}
max_position = {max_position}
{extra}"#,
        run_dir = run_dir.display(),
        name = market.venue,
        symbol = market.symbol,
        tick_size = market.tick_size,
        lot_size = market.lot_size,
        risk_max_position = market.risk_max_position,
        order_size = market.order_size,
        half_spread_bps = market.half_spread_bps,
        max_position = market.max_position,
        venue_extra = market.venue_extra,
        rest = venue.rest,
        ws = venue.ws,
        keys = keys.display(),
        extra = extra,
    );
    LiveConfig::from_toml(&text).expect("valid config")
}

/// The configured market makers.
pub fn market_makers(config: &LiveConfig) -> Vec<Box<dyn Strategy>> {
    config
        .strategies
        .iter()
        .map(|entry| match entry {
            StrategyConfig::MarketMaker { name, config } => {
                Box::new(MarketMaker::new(config.clone()).with_name(name.clone().unwrap_or_default()))
                    as Box<dyn Strategy>
            }
            other => panic!("unexpected strategy {other:?}"),
        })
        .collect()
}

/// Levels as `[price, size]` at 8 decimals, whatever precision they were held at (the engine's comes from
/// the configured tick and lot, the pipeline's from the recording's text).
pub fn at_8_decimals(levels: &[[i64; 2]], price_precision: u8, size_precision: u8) -> Vec<[i64; 2]> {
    let scale = |value: i64, precision: u8| value * 10_i64.pow(u32::from(8 - precision));
    levels.iter().map(|[price, size]| [scale(*price, price_precision), scale(*size, size_precision)]).collect()
}

/// The recording `path` rebuilt offline with the recorded-data pipeline (the reference a live book must
/// equal): instrument 0's best `depth` levels per side at 8 decimals ([`at_8_decimals`]), after every book
/// message up to update id `until` (the id the engine's book reports), and every trade id of the recording.
pub fn offline_market(path: &Path, until: u64, depth: usize) -> ([Vec<[i64; 2]>; 2], Vec<u64>) {
    use ferrotrade_book::OrderBook;
    use ferrotrade_model::{BookSide, MarketEvent};
    use ferrotrade_venues::pipeline::{EventSink, Pipeline, PipelineOptions};
    use ferrotrade_venues::source::plan_sessions;

    struct Rebuild {
        book: OrderBook,
        until: u64,
        trades: Vec<u64>,
    }
    impl EventSink for Rebuild {
        fn event(&mut self, instrument: usize, event: &MarketEvent<'_>) -> Result<(), ferrotrade_venues::VenueError> {
            match event {
                MarketEvent::Book(update) if instrument == 0 && update.header.sequence <= self.until => {
                    self.book.apply_update(update).expect("the recording applies");
                }
                MarketEvent::Trade(trade) if instrument == 0 => self.trades.extend(trade.trade_id),
                _ => {}
            }
            Ok(())
        }
    }
    let cancel = AtomicBool::new(false);
    let sessions = plan_sessions(&[path.to_path_buf()]).expect("sessions");
    let pipeline = Pipeline::scan(sessions, PipelineOptions::default(), &cancel).expect("scan");
    let mut sink = Rebuild { book: OrderBook::new(), until, trades: Vec::new() };
    pipeline.run(&mut sink, &cancel).expect("rebuild");
    let spec = &pipeline.instruments()[0];
    let levels = |side| {
        let raw: Vec<[i64; 2]> = sink.book.depth(side, depth).map(|level| [level.price.0, level.size.0]).collect();
        at_8_decimals(&raw, spec.price_precision, spec.size_precision)
    };
    ([levels(BookSide::Bid), levels(BookSide::Ask)], sink.trades)
}

/// A strategy that only records the trade ids it is given (in order), into a list the test keeps.
pub struct TradeTape {
    pub instrument: String,
    pub ids: std::rc::Rc<std::cell::RefCell<Vec<u64>>>,
}

impl Strategy for TradeTape {
    fn name(&self) -> &str {
        "trade_tape"
    }

    fn subscriptions(&self) -> Vec<ferrotrade_strategy::Subscription> {
        vec![ferrotrade_strategy::Subscription::new(&self.instrument, &[ferrotrade_strategy::DataKind::Trades])]
    }

    fn on_trade(
        &mut self,
        _ctx: &mut dyn ferrotrade_strategy::Context,
        _instrument: ferrotrade_model::InstrumentIndex,
        trade: &ferrotrade_model::Trade,
    ) -> ferrotrade_strategy::StrategyResult {
        self.ids.borrow_mut().extend(trade.trade_id);
        Ok(())
    }
}

/// The account's cash change at the venue (the wallet balance of `asset` less `initial`), exactly as the
/// engine reports its own (`LiveReport::cash_flow`).
pub fn venue_cash_flow(state: &VenueState, asset: &str, initial: &str) -> String {
    use ferrotrade_model::{Decimal, Money};
    let wallet = state.balances.iter().find(|balance| balance.asset == asset).map_or(Money::ZERO, |b| b.wallet);
    (wallet - Money::from_decimal(Decimal::parse_str(initial).expect("decimal"))).to_string()
}

/// Binance USD-M's published VIP 0 rates (maker 0.02 %, taker 0.05 %), for the local venue to charge, so
/// the engine's fee accounting is checked against the venue's balance.
pub fn standard_fees() -> ferrotrade_sim::VenueConfig {
    use ferrotrade_model::Decimal;
    let rate = |text: &str| Decimal::parse_str(text).expect("decimal");
    ferrotrade_sim::VenueConfig {
        fees: ferrotrade_sim::FeeConfig { maker: rate("0.0002"), taker: rate("0.0005") },
        ..ferrotrade_sim::VenueConfig::default()
    }
}
