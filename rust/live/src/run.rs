//! [`run`]: the blocking entry point of a live, paper or replay run, and the [`LiveHooks`] a caller
//! controls it through.
//!
//! `run` builds a tokio `current_thread` runtime on the calling thread and runs the engine there, so
//! strategies need not be `Send` (the pybind layer calls it from the Python thread with Python
//! strategies). The hooks are polled every 100 ms: a Rust caller uses [`LiveControl`] (an `AtomicBool`
//! stop flag and a command channel); the pybind layer checks Python signals in `should_stop`.
//!
//! `[live] cpu` pins that thread to one CPU for the run ([`crate::affinity`]); `[live] busy_poll` keeps it
//! from sleeping between inputs (a yielding task makes the scheduler poll its drivers without blocking).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Receiver;

use ferrotrade_model::{BookSide, InstrumentIndex, UnixNanos};
use ferrotrade_strategy::Strategy;

use crate::LiveError;
use crate::clock::WallClock;
use crate::config::{LiveConfig, Mode, VenueSection};
use crate::engine::Engine;
use crate::engine::core::LiveCore;
use crate::gateway::Gateway;
use crate::report::{BusReport, LiveReport, MarketReport, PositionReport, REPORT_BOOK_DEPTH};

/// An operator command to a running engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiveCommand {
    /// Stop cleanly (as the stop flag).
    Stop,
    /// Trading state HALTED: the risk chain denies every new order; working orders stay.
    Halt,
    /// Trading state ACTIVE again.
    Resume,
    /// Cancel every open order of every strategy.
    CancelAll,
}

/// A snapshot of a running engine for status displays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveStatus {
    /// Engine time.
    pub now: UnixNanos,
    /// Market-data messages so far.
    pub messages: u64,
    /// Orders submitted so far.
    pub orders: u64,
    /// Fills so far.
    pub fills: u64,
    /// Orders open now.
    pub open_orders: usize,
    /// Book sync state per instrument.
    pub synced: Vec<bool>,
    /// Some feed holds trades after a gap, waiting for a trade list to fill it.
    pub backfilling: bool,
}

/// How a caller controls a run.
pub trait LiveHooks {
    /// Polled at least every 100 ms; `true` stops the run cleanly.
    fn should_stop(&mut self) -> bool;

    /// Commands to apply now (polled with `should_stop` until `None`).
    fn next_command(&mut self) -> Option<LiveCommand> {
        None
    }

    /// Whether to cancel every open order on stop; `None` leaves it to `[live].cancel_on_stop`.
    fn cancel_on_stop(&self) -> Option<bool> {
        None
    }

    /// Called once the engine reconciled and started the strategies.
    fn on_ready(&mut self, status: &LiveStatus) {
        let _ = status;
    }

    /// Called every 100 ms.
    fn on_status(&mut self, status: &LiveStatus) {
        let _ = status;
    }
}

/// The hooks of a Rust caller: a shared stop flag and an optional command channel.
#[derive(Debug)]
pub struct LiveControl {
    /// Set to stop the run.
    pub stop: Arc<AtomicBool>,
    /// Cancel every open order on stop.
    pub cancel_on_stop: bool,
    /// Operator commands.
    pub commands: Option<Receiver<LiveCommand>>,
}

impl LiveControl {
    /// Control through `stop`, cancelling open orders on stop when `cancel_on_stop`.
    #[must_use]
    pub fn new(stop: Arc<AtomicBool>, cancel_on_stop: bool) -> LiveControl {
        LiveControl { stop, cancel_on_stop, commands: None }
    }
}

impl LiveHooks for LiveControl {
    fn should_stop(&mut self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    fn next_command(&mut self) -> Option<LiveCommand> {
        let commands = self.commands.as_ref()?;
        commands.try_recv().ok()
    }

    fn cancel_on_stop(&self) -> Option<bool> {
        Some(self.cancel_on_stop)
    }
}

/// Runs the engine on the calling thread until the hooks stop it, a strategy fails or a fatal error
/// occurs, then shuts down cleanly (see [`crate::engine`]).
///
/// # Errors
/// [`LiveError`] for a configuration or setup problem before the start (nothing was sent), a strategy
/// error or a journal failure during the run (after the clean shutdown), or a runtime that cannot start.
pub fn run(
    config: LiveConfig,
    strategies: Vec<Box<dyn Strategy + '_>>,
    hooks: &mut dyn LiveHooks,
) -> Result<LiveReport, LiveError> {
    let cpu = config.live.cpu;
    if let Some(cpu) = cpu {
        crate::affinity::check(cpu)?;
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        // The runtime's blocking threads (name lookups) keep off the engine's CPU.
        .on_thread_start(move || {
            if let Some(cpu) = cpu {
                let _ = crate::affinity::avoid_current(cpu);
            }
        })
        .build()
        .map_err(|error| LiveError::Transport { context: "tokio runtime".into(), reason: error.to_string() })?;
    let clock = WallClock::start();
    let mut live_gateway = |section: &VenueSection, scope: &[InstrumentIndex]| -> Result<Box<dyn Gateway>, LiveError> {
        crate::gateway::live_gateway(section, scope, &config, clock)
    };
    // Feeds and gateways spawn nothing at construction; sockets open on first poll inside the runtime.
    let _guard = runtime.enter();
    let mut engine = crate::engine::setup::build(&config, strategies, clock, &mut live_gateway)?;
    let cancel_on_stop = hooks.cancel_on_stop().unwrap_or(config.live.cancel_on_stop);
    // Pinned after the setup, whose threads (the bus publisher) keep the caller's CPU set, and for the run
    // only: the guard gives the calling (possibly Python) thread its set back.
    let _pinned = cpu.map(crate::affinity::pin_current).transpose()?;
    let local = tokio::task::LocalSet::new();
    if config.live.busy_poll {
        // A task that only yields keeps the scheduler from parking: with deferred work pending it polls the
        // I/O and timer drivers with a zero timeout (`epoll_wait(.., 0)`) between turns instead of
        // sleeping in them. It ends with the LocalSet, when the run does.
        drop(local.spawn_local(async {
            loop {
                tokio::task::yield_now().await;
            }
        }));
    }
    local.block_on(&runtime, async {
        engine.start(hooks).await;
        if !engine.failed() {
            engine.run(hooks).await;
        }
        engine.shutdown(cancel_on_stop).await;
    });
    let bus = engine.close_bus().map(|stats| BusReport {
        published: stats.published,
        dropped: stats.dropped,
        auth_failures: stats.auth_failures,
        commands: stats.commands,
        send_errors: stats.send_errors,
    });
    let mut report = report(&config, &engine);
    report.bus = bus;
    match engine.core.fault.take() {
        Some(error) => Err(error),
        None => Ok(report),
    }
}

fn report(config: &LiveConfig, engine: &Engine<'_>) -> LiveReport {
    let core: &LiveCore = &engine.core;
    let counters = &core.counters;
    let (mut resyncs, mut reconnects, mut rollovers) = (0, 0, 0);
    let (mut trade_gaps, mut trades_backfilled, mut trades_lost) = (0, 0, 0);
    let mut update_ids = vec![0; core.instruments.len()];
    for feed in &engine.feeds {
        let stats = feed.stats();
        for instrument in &stats.instruments {
            if let Some(id) = update_ids.get_mut(instrument.index.get()) {
                *id = instrument.last_update_id;
            }
            resyncs += instrument.resyncs;
            trade_gaps += instrument.trade_gaps;
            trades_backfilled += instrument.trades_backfilled;
            trades_lost += instrument.trades_lost;
        }
        reconnects += stats.connections.iter().map(|connection| connection.reconnects).sum::<u64>();
        rollovers += stats.connections.iter().map(|connection| connection.rollovers).sum::<u64>();
    }
    let markets = core
        .instruments
        .iter()
        .enumerate()
        .map(|(index, instrument)| {
            let levels = |side| -> Vec<[i64; 2]> {
                core.books[index].depth(side, REPORT_BOOK_DEPTH).map(|level| [level.price.0, level.size.0]).collect()
            };
            let (trades, last_trade_id) = counters.trades.get(index).copied().unwrap_or((0, None));
            MarketReport {
                instrument: core.names[index].clone(),
                synced: core.synced.get(index).copied().unwrap_or(false),
                update_id: update_ids[index],
                bids: levels(BookSide::Bid),
                asks: levels(BookSide::Ask),
                price_precision: instrument.price_precision,
                size_precision: instrument.size_precision,
                trades,
                last_trade_id,
            }
        })
        .collect();
    let pnl = core.account.pnl(&core.marks());
    let positions = core
        .instruments
        .iter()
        .enumerate()
        .map(|(index, instrument)| {
            let quantity = core.account.position(InstrumentIndex(index as u32)).quantity;
            PositionReport {
                instrument: core.names[index].clone(),
                quantity: quantity.0,
                quantity_f64: quantity.to_f64(instrument.size_precision),
                fills: core.store.fill_count(InstrumentIndex(index as u32)),
            }
        })
        .collect();
    LiveReport {
        mode: match config.live.mode {
            Mode::Live => "live",
            Mode::Paper => "paper",
            Mode::Replay => "replay",
        },
        stopped_by: match (&core.fault, &engine.stopped_by) {
            (Some(error), _) => error.to_string(),
            (None, Some(reason)) => reason.clone(),
            (None, None) => "stopped".into(),
        },
        latency: core.metrics.summary(),
        messages: core.metrics.messages,
        messages_per_second: core.metrics.messages_per_second(crate::clock::now_instant()),
        orders: counters.orders,
        denied: counters.denied,
        cancels: counters.cancels,
        amends: counters.amends,
        sent_later: counters.sent_later,
        fills: counters.fills,
        replayed_fills: counters.replayed_fills,
        duplicate_fills: counters.duplicate_fills,
        rejects: counters.rejects.iter().map(|(code, count)| ((*code).to_owned(), *count)).collect(),
        denials: core
            .risk
            .counters()
            .iter()
            .filter(|(_, count)| *count > 0)
            .map(|(reason, count)| (reason.code().to_owned(), count))
            .collect(),
        resyncs,
        reconnects,
        rollovers,
        trade_gaps,
        trades_backfilled,
        trades_lost,
        reconciliations: counters.reconciliations,
        differences: counters.differences.iter().map(|(code, count)| ((*code).to_owned(), *count)).collect(),
        difference_log: counters.difference_log.clone(),
        stale_events: counters.stale_events,
        notices: counters.notices.clone(),
        risk_events: counters.risk_events.clone(),
        positions,
        markets,
        open_orders: core.store.iter().filter(|order| order.status.is_open()).count(),
        next_client_id: core.store.next_client_id(),
        journal_records: core.journal.records(),
        equity: pnl.equity.to_f64(),
        realized_pnl: pnl.realized.to_f64(),
        fees: pnl.fees.to_f64(),
        cash_flow: (pnl.realized - pnl.fees + pnl.funding).to_string(),
        bus: None,
    }
}
