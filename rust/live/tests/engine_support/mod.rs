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

/// A scripted strategy that walks orders through every life an order can have at a venue, on the first
/// synced book of `instrument`: a post-only buy of `rest_lots` 2 % under the best bid (it rests), amended
/// in place (`reprice`: 1 % lower; otherwise one lot smaller, all Binance spot can do), cancelled; then a
/// market buy of the best ask's size plus one lot, which must take from more than one level and fill in
/// several parts. `take` tells the size it bought.
pub struct Lifecycle {
    pub instrument: String,
    pub rest_lots: i64,
    pub reprice: bool,
    /// The market order sweeps past the best ask (one lot more than it shows); `false`: half of it, for
    /// books of one level (Bybit's `orderbook.1`).
    pub sweep: bool,
    pub step: std::rc::Rc<std::cell::Cell<u8>>,
    pub take: std::rc::Rc<std::cell::Cell<i64>>,
    resting: Option<ferrotrade_model::ClientOrderId>,
}

/// The steps of [`Lifecycle`], in order.
pub mod lifecycle {
    pub const RESTING: u8 = 1;
    pub const AMENDED: u8 = 2;
    pub const CANCELLED: u8 = 3;
    pub const TAKING: u8 = 4;
    pub const DONE: u8 = 5;
}

impl Strategy for Lifecycle {
    fn name(&self) -> &str {
        "lifecycle"
    }

    fn subscriptions(&self) -> Vec<ferrotrade_strategy::Subscription> {
        vec![ferrotrade_strategy::Subscription::book(&self.instrument)]
    }

    fn on_book(
        &mut self,
        ctx: &mut dyn ferrotrade_strategy::Context,
        instrument: ferrotrade_model::InstrumentIndex,
    ) -> ferrotrade_strategy::StrategyResult {
        use ferrotrade_model::{OrderRequest, OrderSide, Price, Quantity};
        if self.step.get() != 0 || !ctx.is_synced(instrument) {
            return Ok(());
        }
        let tick = ctx.instruments()[instrument.get()].tick_size.0;
        let Some(bid) = ctx.book(instrument).best_bid() else { return Ok(()) };
        let far = (bid.price.0 * 98 / 100) / tick * tick;
        let mut request = OrderRequest::limit(instrument, OrderSide::Buy, Price(far), Quantity(self.rest_lots));
        request.post_only = true;
        self.resting = Some(ctx.submit(request));
        self.step.set(lifecycle::RESTING);
        Ok(())
    }

    fn on_order(
        &mut self,
        ctx: &mut dyn ferrotrade_strategy::Context,
        event: &ferrotrade_model::OrderEvent,
    ) -> ferrotrade_strategy::StrategyResult {
        use ferrotrade_model::{OrderEventKind, OrderRequest, OrderSide, Price, Quantity};
        let ours = Some(event.client_id) == self.resting;
        match (self.step.get(), event.kind) {
            (lifecycle::RESTING, OrderEventKind::Accepted(_)) if ours => {
                let (tick, lot) = {
                    let spec = &ctx.instruments()[event.instrument.get()];
                    (spec.tick_size.0, spec.lot_size.0)
                };
                let price = ctx.order(event.client_id).map_or(0, |order| order.request.price.0);
                if self.reprice {
                    ctx.amend(event.client_id, Price((price * 99 / 100) / tick * tick), Quantity(self.rest_lots));
                } else {
                    ctx.amend(event.client_id, Price(price), Quantity(self.rest_lots - lot));
                }
                self.step.set(lifecycle::AMENDED);
            }
            (lifecycle::AMENDED, OrderEventKind::Replaced { .. }) if ours => {
                ctx.cancel(event.client_id);
                self.step.set(lifecycle::CANCELLED);
            }
            (lifecycle::CANCELLED, OrderEventKind::Canceled) if ours => {
                let lot = ctx.instruments()[event.instrument.get()].lot_size.0;
                let Some(ask) = ctx.book(event.instrument).best_ask() else {
                    return Err(ferrotrade_strategy::StrategyError::new("no ask to take"));
                };
                let size = if self.sweep { ask.size.0 + lot } else { (ask.size.0 / 2 / lot).max(1) * lot };
                self.take.set(size);
                ctx.submit(OrderRequest::market(event.instrument, OrderSide::Buy, Quantity(size)));
                self.step.set(lifecycle::TAKING);
            }
            (lifecycle::TAKING, _) if ctx.order(event.client_id).is_some_and(|order| order.status.is_terminal()) => {
                self.step.set(lifecycle::DONE);
            }
            (_, OrderEventKind::Rejected(reason) | OrderEventKind::Denied(reason)) => {
                return Err(ferrotrade_strategy::StrategyError::new(format!("lifecycle order refused: {reason:?}")));
            }
            _ => {}
        }
        Ok(())
    }
}

/// Hooks that stop once the [`Lifecycle`] strategy is done (a few ticks later, for the last events), or
/// after 20 s whatever happened.
pub struct UntilDone {
    pub step: std::rc::Rc<std::cell::Cell<u8>>,
    pub ticks: u32,
    pub after_done: u32,
}

impl LiveHooks for UntilDone {
    fn should_stop(&mut self) -> bool {
        self.after_done >= 3 || self.ticks >= 200
    }

    fn on_status(&mut self, _status: &LiveStatus) {
        self.ticks += 1;
        if self.step.get() == lifecycle::DONE {
            self.after_done += 1;
        }
    }
}

/// What the lifecycle run of one venue left: the engine's report, the venue's state, per client id the
/// kinds of the order's journaled events in order, the step reached and the size the market order bought.
pub struct LifecycleRun {
    pub report: ferrotrade_live::LiveReport,
    pub state: VenueState,
    pub events: std::collections::BTreeMap<u64, Vec<String>>,
    pub step: u8,
    pub take: i64,
    /// The market order swept past the best ask (see [`Lifecycle::sweep`]).
    pub sweep: bool,
}

/// Runs [`Lifecycle`] alone in live mode against `venue` trading `market`, with the key pair written to a
/// private key file.
pub fn run_lifecycle(
    venue: VenueThread,
    market: &LiveMarket<'_>,
    (rest_lots, reprice, sweep): (i64, bool, bool),
    key: &str,
    secret: &str,
) -> LifecycleRun {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("ft-lifecycle-{}-{}", market.venue, std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    std::fs::create_dir_all(dir.join("keys")).expect("dir");
    let keys = dir.join("keys/keys.toml");
    std::fs::write(&keys, format!("api_key = \"{key}\"\napi_secret = \"{secret}\"\n")).expect("write");
    std::fs::set_permissions(&keys, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let config = live_config_for(&venue, &dir.join("run"), &keys, market, "");
    let (step, take) = (std::rc::Rc::new(std::cell::Cell::new(0)), std::rc::Rc::new(std::cell::Cell::new(0)));
    let strategy = Lifecycle {
        instrument: format!("{}.{}", market.venue, market.symbol),
        rest_lots,
        reprice,
        sweep,
        step: std::rc::Rc::clone(&step),
        take: std::rc::Rc::clone(&take),
        resting: None,
    };
    let mut hooks = UntilDone { step: std::rc::Rc::clone(&step), ticks: 0, after_done: 0 };
    let report = ferrotrade_live::run(config, vec![Box::new(strategy)], &mut hooks).expect("run succeeds");
    let state = venue.finish();
    let journal =
        std::fs::read_to_string(dir.join("run").join(ferrotrade_live::journal::JOURNAL_FILE)).expect("journal");
    std::fs::remove_dir_all(&dir).ok();
    let mut events: std::collections::BTreeMap<u64, Vec<String>> = std::collections::BTreeMap::new();
    for line in journal.trim_end_matches('\0').lines() {
        let record: serde_json::Value = serde_json::from_str(line).expect("journal line");
        if let (Some(id), Some(kind)) = (record["id"].as_u64(), record["kind"]["k"].as_str()) {
            events.entry(id).or_default().push(kind.to_owned());
        }
    }
    LifecycleRun { report, state, events, step: step.get(), take: take.get(), sweep }
}

/// The checks every venue's lifecycle run must pass: the resting order submitted, accepted, replaced in
/// place and cancelled; the market order filled (in several parts when it swept past the best ask); the
/// venue agreeing on both and on the position.
pub fn assert_lifecycle(run: &LifecycleRun, size_precision: u8) {
    use ferrotrade_model::Decimal;
    assert_eq!(run.step, lifecycle::DONE, "{:#?}\n{:?}", run.report, run.events);
    let lives: Vec<Vec<&str>> = run.events.values().map(|life| life.iter().map(String::as_str).collect()).collect();
    assert_eq!(lives.len(), 2, "{:?}", run.events);
    assert_eq!(
        lives[0],
        ["submitted", "accepted", "pending_replace", "replaced", "pending_cancel", "canceled"],
        "the resting order's life"
    );
    let fills = lives[1].iter().filter(|kind| **kind == "filled").count();
    if run.sweep {
        assert!(fills >= 2, "the market order took from several levels, filled in parts: {:?}", lives[1]);
    } else {
        assert!(fills >= 1, "the market order filled: {:?}", lives[1]);
    }
    assert_eq!(run.report.positions[0].quantity, run.take, "{:#?}", run.report);
    let statuses: Vec<(&str, Decimal)> = run.state.orders.iter().map(|order| (order.status, order.filled)).collect();
    assert!(statuses.contains(&("CANCELED", Decimal::ZERO)), "{statuses:?}");
    assert!(statuses.contains(&("FILLED", Decimal::from_fixed(run.take, size_precision))), "{statuses:?}");
}
