//! [`Backtest`]: builds the engine from an [`EngineSetup`] and the strategies, then runs the two-clock loop
//! over a stream of [`EventChunk`]s (see the module docs of [`crate::engine`]).
//!
//! # Cost per row
//! The loop touches each row twice (exchange side, local side). A venue with no order returns at once, and
//! the local side is one book update; strategies are called once per venue message, not per row. Chunks
//! are handed back to the source once both clocks are past them, so memory stays bounded by a few chunks.

use std::cmp::Reverse;
use std::collections::{BTreeMap, VecDeque};

use ferrotrade_book::OrderBook;
use ferrotrade_model::{EventChunk, EventRow, InstrumentIndex, Money, OrderEventKind, RowKind, UnixNanos, flags};
use ferrotrade_oms::{Order, OrderStore, Portfolio, Position};
use ferrotrade_risk::RiskEngine;
use ferrotrade_strategy::algo::AlgoRecords;
use ferrotrade_strategy::{Context, DataKind, Strategy, StrategyResult};

use crate::engine::config::EngineSetup;
use crate::engine::core::{Core, Ctx};
use crate::engine::records::{FillRecord, Records};
use crate::funding::FundingTracker;
use crate::latency::LatencyModel;
use crate::venue::SimVenue;

/// Why a run stopped early.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    /// A strategy callback returned an error (for Python strategies: the exception with its traceback).
    #[error("strategy {strategy:?} failed at {ts} ns: {message}")]
    Strategy {
        /// Name of the strategy.
        strategy: String,
        /// Local time of the event being handled.
        ts: UnixNanos,
        /// The strategy's error.
        message: String,
    },
    /// The OMS refused an event (an illegal transition): a bug, never silently applied.
    #[error("order state error at {ts} ns: {message}")]
    OrderState {
        /// Local time.
        ts: UnixNanos,
        /// The OMS error.
        message: String,
    },
    /// A recorded row could not be applied to a book.
    #[error("bad book row at {ts} ns for instrument {instrument}: {message}")]
    Book {
        /// Receive time of the row.
        ts: UnixNanos,
        /// Instrument index.
        instrument: u32,
        /// The book error.
        message: String,
    },
    /// The data source failed.
    #[error("data source: {0}")]
    Source(String),
    /// Setting the run up failed (an unknown instrument in a subscription, a bad venue or risk setup).
    #[error("{0}")]
    Setup(String),
    /// The run was interrupted (Ctrl-C).
    #[error("interrupted")]
    Interrupted,
}

/// Where the loop gets its rows.
pub trait ChunkSource {
    /// The next chunk in receive order, `None` at the end.
    ///
    /// # Errors
    /// A message describing why the data could not be read.
    fn next_chunk(&mut self) -> Option<Result<EventChunk, String>>;

    /// Takes back a consumed chunk for reuse.
    fn recycle(&mut self, chunk: EventChunk) {
        let _ = chunk;
    }
}

/// Where a run is at a checkpoint: what a caller needs to follow it or stop it early (an optimizer
/// pruning a hopeless trial compares trials at the same checkpoint), or to publish its progress (the
/// monitoring bus takes the fills and risk events recorded since the previous checkpoint).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checkpoint<'a> {
    /// Rows replayed so far: a multiple of [`CHECKPOINT_ROWS`], so the same data gives the same checkpoints.
    pub events: u64,
    /// Receive time of the last row replayed.
    pub ts: UnixNanos,
    /// Account equity at that moment (positions marked at the local mids or bar closes).
    pub equity: Money,
    /// Every fill of the run so far, in order (a caller remembers how many it has seen).
    pub fills: &'a [FillRecord],
    /// Every risk-state change of the run so far, in order.
    pub risk_events: &'a [ferrotrade_risk::RiskEvent],
}

/// Lets the caller stop a run and follow its progress; called every [`CHECKPOINT_ROWS`] rows, in event
/// order, so checkpoints do not depend on the machine's speed.
pub trait RunControl {
    /// Return `true` to stop (Ctrl-C, or a caller that has seen enough).
    fn checkpoint(&mut self, checkpoint: &Checkpoint<'_>) -> bool;
}

/// Rows between two [`RunControl::checkpoint`] calls.
pub const CHECKPOINT_ROWS: u64 = 1 << 16;
const NEVER: u64 = u64::MAX;

/// A backtest: the engine core and its strategies.
pub struct Backtest<'s> {
    core: Core,
    strategies: Vec<Box<dyn Strategy + 's>>,
    strategy_names: Vec<String>,
    /// Subscribers per instrument, per kind (book, trades, bars, mark).
    subscribers: Vec<[Vec<u16>; 4]>,
    sample_interval: u64,
    next_sample: u64,
    error: Option<EngineError>,
    started: bool,
}

impl std::fmt::Debug for Backtest<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Backtest").field("strategies", &self.strategy_names).finish_non_exhaustive()
    }
}

/// What a finished run hands over for the report.
#[derive(Debug)]
pub struct BacktestOutput {
    /// Fills, equity curve, risk events and counters.
    pub records: Records,
    /// Every order of the run with its owner strategy index.
    pub orders: Vec<(u16, Order)>,
    /// Final positions per strategy (outer index) and instrument (inner index).
    pub positions: Vec<Vec<Position>>,
    /// Final unrealized PnL per strategy and instrument, at the last local mid.
    pub unrealized: Vec<Vec<Money>>,
    /// Strategy names.
    pub strategy_names: Vec<String>,
    /// Deny counts by reason code.
    pub denials: Vec<(&'static str, u64)>,
    /// Parent and child orders of each strategy's execution algorithms (strategy index, records).
    pub algos: Vec<(u16, AlgoRecords)>,
}

fn kind_slot(kind: DataKind) -> usize {
    match kind {
        DataKind::Book => 0,
        DataKind::Trades => 1,
        DataKind::Bars => 2,
        DataKind::Mark => 3,
    }
}

impl<'s> Backtest<'s> {
    /// Builds the engine: one simulated venue and one local book per instrument, the OMS, the portfolios
    /// and the risk chain; resolves every strategy's subscriptions against the instrument table.
    ///
    /// # Errors
    /// [`EngineError::Setup`] for a subscription to an instrument the setup does not have, duplicate
    /// strategy names, or a venue, latency or risk configuration the instruments cannot take.
    pub fn new(setup: EngineSetup, strategies: Vec<Box<dyn Strategy + 's>>) -> Result<Backtest<'s>, EngineError> {
        // Strategies that use execution algorithms run inside the algorithms' host.
        let strategies: Vec<Box<dyn Strategy + 's>> =
            strategies.into_iter().map(ferrotrade_strategy::algo::host).collect();
        let setup_error = |message: String| EngineError::Setup(message);
        let count = setup.instruments.len();
        if setup.venues.len() != count {
            return Err(setup_error(format!("{} venue configurations for {count} instruments", setup.venues.len())));
        }
        if strategies.len() > usize::from(u16::MAX) {
            return Err(setup_error("too many strategies".into()));
        }
        let names: Vec<String> = setup.instruments.iter().map(|instrument| instrument.id.to_string()).collect();
        let mut venues = Vec::with_capacity(count);
        for (index, (instrument, config)) in setup.instruments.iter().zip(&setup.venues).enumerate() {
            let venue = SimVenue::new(instrument.clone(), InstrumentIndex(index as u32), config)
                .map_err(|error| setup_error(format!("venue for {}: {error}", names[index])))?;
            venues.push(venue);
        }
        let risk = RiskEngine::new(&setup.risk, &setup.instruments).map_err(|error| setup_error(error.to_string()))?;
        let latency = LatencyModel::new(&setup.latency, setup.seed).map_err(|error| setup_error(error.to_string()))?;
        let mut strategy_names = Vec::with_capacity(strategies.len());
        let mut subscribers: Vec<[Vec<u16>; 4]> = vec![Default::default(); count];
        for (index, strategy) in strategies.iter().enumerate() {
            let name = strategy.name().to_owned();
            if strategy_names.contains(&name) {
                return Err(setup_error(format!("two strategies are named {name:?}; names must be unique")));
            }
            for subscription in strategy.subscriptions() {
                let Some(instrument) =
                    names.iter().position(|known| known.eq_ignore_ascii_case(&subscription.instrument))
                else {
                    return Err(setup_error(format!(
                        "strategy {name:?} subscribes to {:?}, which is not in this run (instruments: {})",
                        subscription.instrument,
                        names.join(", ")
                    )));
                };
                for kind in &subscription.kinds {
                    let list = &mut subscribers[instrument][kind_slot(*kind)];
                    if !list.contains(&(index as u16)) {
                        list.push(index as u16);
                    }
                }
            }
            strategy_names.push(name);
        }
        let first_client_id = 1;
        let core = Core {
            now: UnixNanos(0),
            books: (0..count).map(|_| OrderBook::new()).collect(),
            venues,
            store: OrderStore::new(first_client_id),
            first_client_id,
            owner: Vec::new(),
            account: Portfolio::new(setup.instruments.clone(), setup.initial_equity),
            portfolios: (0..strategies.len())
                .map(|_| Portfolio::new(setup.instruments.clone(), setup.initial_equity))
                .collect(),
            risk,
            latency,
            to_venue: Default::default(),
            to_local: Default::default(),
            timers: Default::default(),
            timer_generations: vec![BTreeMap::new(); strategies.len()],
            outbox: VecDeque::new(),
            venue_out: Vec::new(),
            seq: 0,
            last_to_venue: 0,
            last_to_local: 0,
            fault: None,
            marks: vec![None; count],
            bar_close: vec![None; count],
            funding: (0..strategies.len()).map(|_| vec![FundingTracker::new(); count]).collect(),
            records: Records::default(),
            names,
            instruments: setup.instruments,
        };
        Ok(Backtest {
            core,
            strategies,
            strategy_names,
            subscribers,
            sample_interval: setup.sample_interval_ns.max(1),
            next_sample: 0,
            error: None,
            started: false,
        })
    }

    /// The `(instrument, kind)` pairs some strategy subscribed to: what the data source must deliver.
    #[must_use]
    pub fn streams(&self) -> Vec<(InstrumentIndex, DataKind)> {
        let mut streams = Vec::new();
        for (index, kinds) in self.subscribers.iter().enumerate() {
            for kind in [DataKind::Book, DataKind::Trades, DataKind::Bars, DataKind::Mark] {
                if !kinds[kind_slot(kind)].is_empty() {
                    streams.push((InstrumentIndex(index as u32), kind));
                }
            }
        }
        streams
    }

    /// Calls one strategy, then delivers every order event its actions caused. Records the first error.
    fn call(&mut self, strategy: u16, callback: impl FnOnce(&mut dyn Strategy, &mut dyn Context) -> StrategyResult) {
        self.invoke(strategy, callback);
        self.deliver_outbox();
    }

    fn invoke(&mut self, strategy: u16, callback: impl FnOnce(&mut dyn Strategy, &mut dyn Context) -> StrategyResult) {
        if self.error.is_some() {
            return;
        }
        let Backtest { core, strategies, strategy_names, .. } = self;
        core.records.stats.callbacks += 1;
        let mut ctx = Ctx { core, strategy };
        let result = callback(strategies[usize::from(strategy)].as_mut(), &mut ctx);
        let fault = core.fault.take();
        let message = match (result, fault) {
            (Err(error), _) => error.message,
            (Ok(()), Some(fault)) => fault.message,
            (Ok(()), None) => return,
        };
        self.error = Some(EngineError::Strategy {
            strategy: strategy_names[usize::from(strategy)].clone(),
            ts: core.now,
            message,
        });
    }

    /// Replays `source` to its end (or until `control` asks to stop or a strategy fails), then calls
    /// `on_stop` on every strategy.
    ///
    /// # Errors
    /// The first [`EngineError`]: a strategy error, an OMS error, a bad row, a source error or an
    /// interruption. `on_stop` has been called in every case.
    pub fn run(&mut self, source: &mut dyn ChunkSource, control: &mut dyn RunControl) -> Result<(), EngineError> {
        if !self.started {
            self.started = true;
            for index in 0..self.strategies.len() {
                self.call(index as u16, |strategy, ctx| strategy.on_start(ctx));
            }
        }
        if self.error.is_none() {
            let result = self.replay(source, control);
            if let Err(error) = result {
                self.error.get_or_insert(error);
            }
        }
        if self.error.is_none() {
            self.drain_in_flight(true);
        }
        self.core.sample_equity();
        let failed = self.error.take();
        for index in 0..self.strategies.len() {
            self.call(index as u16, |strategy, ctx| strategy.on_stop(ctx));
        }
        // What `on_stop` sent (typically cancels) still reaches the venue, so the final order states are
        // the venue's answers; the strategies are not called any more.
        if failed.is_none() && self.error.is_none() {
            self.drain_in_flight(false);
        }
        // An error in on_stop is reported only when nothing failed before.
        match failed.or_else(|| self.error.take()) {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }

    fn next_other(&self) -> u64 {
        let head = |at: Option<u64>| at.unwrap_or(NEVER);
        head(self.core.to_venue.peek().map(|entry| entry.0.at))
            .min(head(self.core.to_local.peek().map(|entry| entry.0.at)))
            .min(head(self.core.timers.peek().map(|entry| entry.0.at)))
    }

    /// The two-clock loop over the rows.
    fn replay(&mut self, source: &mut dyn ChunkSource, control: &mut dyn RunControl) -> Result<(), EngineError> {
        let mut chunks: VecDeque<EventChunk> = VecDeque::new();
        // Exchange cursor: (chunk, row) into `chunks`; the local cursor is (0, local_row): it trails.
        let (mut ex_chunk, mut ex_row) = (0usize, 0usize);
        let mut local_row = 0usize;
        let mut source_done = false;
        let mut next_checkpoint = CHECKPOINT_ROWS;
        let mut ex_clock = 0u64;
        loop {
            if self.error.is_some() {
                return Ok(());
            }
            // Retire a chunk both clocks are done with.
            if let Some(front) = chunks.front()
                && local_row >= front.rows.len()
                && ex_chunk > 0
            {
                if let Some(chunk) = chunks.pop_front() {
                    source.recycle(chunk);
                }
                ex_chunk -= 1;
                local_row = 0;
                continue;
            }
            // Make sure the exchange cursor points at a row (or the data is over).
            while !source_done && (ex_chunk >= chunks.len() || ex_row >= chunks[ex_chunk].rows.len()) {
                if ex_chunk < chunks.len() {
                    ex_chunk += 1;
                    ex_row = 0;
                    continue;
                }
                match source.next_chunk() {
                    Some(Ok(chunk)) => chunks.push_back(chunk),
                    Some(Err(message)) => return Err(EngineError::Source(message)),
                    None => source_done = true,
                }
            }
            let local_next = chunks.front().and_then(|chunk| chunk.rows.get(local_row)).map(|row| row.ts_recv.0);
            let t_local = local_next.unwrap_or(NEVER);
            let mut t_other = self.next_other();
            // 1. Exchange rows due by the next other action; and, when the next action is a local row the
            // exchange has not seen yet (a row stamped ts_event > ts_recv), that row first. A tight loop
            // over the current chunk: the horizon only moves when a venue answer is queued.
            if let Some(chunk) = chunks.get(ex_chunk) {
                let start = ex_row;
                let mut horizon = t_local.min(t_other);
                while let Some(row) = chunk.rows.get(ex_row) {
                    let local_needs_it = ex_chunk == 0 && ex_row <= local_row && t_local < t_other;
                    let t_ex = row.ts_event.0.max(ex_clock);
                    if t_ex > horizon && !local_needs_it {
                        break;
                    }
                    ex_clock = t_ex;
                    if self.exchange_row(chunk, row) {
                        t_other = self.next_other();
                        horizon = t_local.min(t_other);
                    }
                    ex_row += 1;
                }
                if ex_row > start {
                    continue;
                }
            }
            // The data is over: what is still in flight lands in `drain_in_flight`; timers stop.
            if local_next.is_none() && ex_chunk >= chunks.len() {
                return Ok(());
            }
            // 2. The earliest other action: venue arrivals, answers, local rows, timers.
            if t_other <= t_local {
                self.step_in_flight(true, true);
                continue;
            }
            // 3. Local rows, in a tight loop while each comes before the next exchange row (exchange first
            // at equal times) and before anything in flight; a strategy callback may send orders, so the
            // loop ends after one.
            let Some(chunk) = chunks.front() else { continue };
            let ex_limit = if ex_chunk == 0 { ex_row } else { chunk.rows.len() };
            let t_ex_next = chunks
                .get(ex_chunk)
                .and_then(|chunk| chunk.rows.get(ex_row))
                .map_or(NEVER, |row| row.ts_event.0.max(ex_clock));
            let limit = t_ex_next.min(t_other);
            let callbacks = self.core.records.stats.callbacks;
            while local_row < ex_limit {
                let row = &chunk.rows[local_row];
                // The first row passes by construction (phase 1 ran every exchange row up to it and phase 2
                // saw nothing in flight before it).
                if row.ts_recv.0 >= limit {
                    break;
                }
                self.core.now = row.ts_recv;
                if row.ts_recv.0 >= self.next_sample {
                    self.core.sample_equity();
                    self.next_sample = (row.ts_recv.0 / self.sample_interval + 1).saturating_mul(self.sample_interval);
                }
                self.local_row(chunk, row)?;
                local_row += 1;
                let stats = &mut self.core.records.stats;
                stats.events += 1;
                if stats.first_ts.0 == 0 {
                    stats.first_ts = row.ts_recv;
                }
                stats.last_ts = row.ts_recv;
                let events = stats.events;
                if events >= next_checkpoint {
                    next_checkpoint += CHECKPOINT_ROWS;
                    let equity = self.core.equity();
                    let records = &self.core.records;
                    let checkpoint = Checkpoint {
                        events,
                        ts: row.ts_recv,
                        equity,
                        fills: &records.fills,
                        risk_events: &records.risk_events,
                    };
                    if control.checkpoint(&checkpoint) {
                        return Err(EngineError::Interrupted);
                    }
                }
                if self.core.records.stats.callbacks != callbacks || self.error.is_some() {
                    break;
                }
            }
        }
    }

    /// Handles the earliest in-flight item: a venue arrival, a local answer or a timer (in that order at
    /// equal times). After the data ends timers no longer fire (`timers` false), and after `on_stop` the
    /// strategies no longer hear the answers (`deliver` false).
    fn step_in_flight(&mut self, timers: bool, deliver: bool) {
        let head = |at: Option<u64>| at.unwrap_or(NEVER);
        let t_venue = head(self.core.to_venue.peek().map(|entry| entry.0.at));
        let t_answer = head(self.core.to_local.peek().map(|entry| entry.0.at));
        let t_timer = if timers { head(self.core.timers.peek().map(|entry| entry.0.at)) } else { NEVER };
        if t_venue <= t_answer && t_venue <= t_timer {
            if let Some(Reverse(message)) = self.core.to_venue.pop() {
                self.core.now = UnixNanos(self.core.now.0.max(message.at));
                self.core.arrive_at_venue(message.payload);
            }
        } else if t_answer <= t_timer {
            if let Some(Reverse(message)) = self.core.to_local.pop() {
                self.core.now = UnixNanos(self.core.now.0.max(message.at));
                if let Err(error) = self.core.arrive_locally(message.payload) {
                    self.error = Some(EngineError::OrderState { ts: self.core.now, message: error.to_string() });
                    return;
                }
                if deliver {
                    self.deliver_outbox();
                } else {
                    self.core.outbox.clear();
                }
            }
        } else if let Some(Reverse(entry)) = self.core.timers.pop() {
            self.core.now = UnixNanos(self.core.now.0.max(entry.at));
            let fire = entry.payload;
            if self.core.timer_is_live(&fire, entry.at) {
                self.call(fire.strategy, |strategy, ctx| strategy.on_timer(ctx, fire.timer));
            }
        }
    }

    /// Delivers the queued order events (`on_order`, then `on_fill` for a fill), iteratively: a delivery
    /// may queue more.
    fn deliver_outbox(&mut self) {
        while self.error.is_none() {
            let Some((owner, event)) = self.core.outbox.pop_front() else { break };
            self.invoke(owner, |strategy, ctx| strategy.on_order(ctx, &event));
            if let OrderEventKind::Filled(fill) = event.kind {
                self.invoke(owner, |strategy, ctx| strategy.on_fill(ctx, &fill));
            }
        }
    }

    /// After the data ends: let the orders and answers in flight land (timers do not fire any more);
    /// `deliver` says whether the strategies still hear about them.
    fn drain_in_flight(&mut self, deliver: bool) {
        while self.error.is_none() && (!self.core.to_venue.is_empty() || !self.core.to_local.is_empty()) {
            self.step_in_flight(false, deliver);
        }
    }

    /// One row at exchange time: the venue of its instrument sees it. Returns whether the venue answered
    /// (fills, triggers), which puts new messages in flight.
    #[inline]
    fn exchange_row(&mut self, chunk: &EventChunk, row: &EventRow) -> bool {
        let core = &mut self.core;
        let Some(venue) = core.venues.get_mut(row.instrument.get()) else { return false };
        match row.kind {
            RowKind::Book => venue.on_book_row(row, &mut core.venue_out),
            RowKind::Trade => venue.on_trade(row, &mut core.venue_out),
            RowKind::Bar => {
                if let Some(bar) = usize::try_from(row.aux).ok().and_then(|index| chunk.bars.get(index)) {
                    venue.on_bar(bar, &mut core.venue_out);
                }
            }
            RowKind::Mark => {}
        }
        if core.venue_out.is_empty() {
            return false;
        }
        core.forward_venue_events();
        true
    }

    /// One row at local time: the local book, then the subscribed strategies.
    #[inline]
    fn local_row(&mut self, chunk: &EventChunk, row: &EventRow) -> Result<(), EngineError> {
        let index = row.instrument.get();
        if index >= self.subscribers.len() {
            return Err(EngineError::Source(format!("row for unknown instrument index {}", row.instrument.0)));
        }
        match row.kind {
            RowKind::Book => {
                self.core.records.stats.book_rows += 1;
                let book = &mut self.core.books[index];
                book.apply_row(row.book_side(), row.price, row.size, row.flags).map_err(|error| EngineError::Book {
                    ts: row.ts_recv,
                    instrument: row.instrument.0,
                    message: error.to_string(),
                })?;
                if row.flags & flags::LAST != 0 && !self.subscribers[index][0].is_empty() && !book.is_crossed() {
                    for slot in 0..self.subscribers[index][0].len() {
                        let strategy = self.subscribers[index][0][slot];
                        self.call(strategy, |strategy, ctx| strategy.on_book(ctx, row.instrument));
                    }
                }
            }
            RowKind::Trade => {
                self.core.records.stats.trades += 1;
                if !self.subscribers[index][1].is_empty() {
                    let trade = row.trade();
                    for slot in 0..self.subscribers[index][1].len() {
                        let strategy = self.subscribers[index][1][slot];
                        self.call(strategy, |strategy, ctx| strategy.on_trade(ctx, row.instrument, &trade));
                    }
                }
            }
            RowKind::Bar => {
                self.core.records.stats.bars += 1;
                let bar = usize::try_from(row.aux).ok().and_then(|index| chunk.bars.get(index)).copied();
                if let Some(bar) = bar {
                    // Bar-only data has no book: the bar's close is the local mark.
                    self.core.bar_close[index] = Some(bar.close);
                    for slot in 0..self.subscribers[index][2].len() {
                        let strategy = self.subscribers[index][2][slot];
                        self.call(strategy, |strategy, ctx| strategy.on_bar(ctx, row.instrument, &bar));
                    }
                }
            }
            RowKind::Mark => {
                self.core.records.stats.marks += 1;
                let mark = usize::try_from(row.aux).ok().and_then(|index| chunk.marks.get(index)).copied();
                if let Some(mark) = mark {
                    self.core.apply_funding(row.instrument, &mark);
                    for slot in 0..self.subscribers[index][3].len() {
                        let strategy = self.subscribers[index][3][slot];
                        self.call(strategy, |strategy, ctx| strategy.on_mark(ctx, row.instrument, &mark));
                    }
                }
            }
        }
        Ok(())
    }

    /// Ends the run and hands over what it recorded.
    #[must_use]
    pub fn finish(mut self) -> BacktestOutput {
        self.core.refresh_marks();
        let orders =
            self.core.store.iter().map(|order| (self.core.owner_of(order.client_id).unwrap_or(0), *order)).collect();
        let positions: Vec<Vec<Position>> =
            self.core.portfolios.iter().map(|portfolio| portfolio.positions().to_vec()).collect();
        let unrealized = positions
            .iter()
            .map(|list| {
                list.iter()
                    .enumerate()
                    .map(|(index, position)| match self.core.marks[index] {
                        Some((mark, precision)) => {
                            position.unrealized_pnl(&self.core.instruments[index], mark, precision)
                        }
                        None => Money::ZERO,
                    })
                    .collect()
            })
            .collect();
        let denials = self.core.risk.counters().iter().map(|(reason, count)| (reason.code(), count)).collect();
        let algos = self
            .strategies
            .iter_mut()
            .enumerate()
            .filter_map(|(index, strategy)| strategy.take_algo_records().map(|records| (index as u16, records)))
            .collect();
        BacktestOutput {
            algos,
            records: std::mem::take(&mut self.core.records),
            orders,
            positions,
            unrealized,
            strategy_names: self.strategy_names,
            denials,
        }
    }
}
