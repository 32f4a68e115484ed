//! What the engine tells the bus (`[bus]`): order events, fills, positions, PnL and risk events from the
//! core's order path, market summaries after each frame, and heartbeats and metrics on the control tick.
//!
//! Everything here only copies values into the bus queues (`ferrotrade_bus::BusSender`); encoding and
//! sending happen on the bus's own thread. Book summaries are conflated at the source (one per
//! `book_rate_hz` period per instrument, decided before the levels are copied), so a busy book costs one
//! comparison per frame between summaries.

use std::time::{Duration, Instant};

use ferrotrade_bus::{BookTop, BusHandle, Encoder, EngineEvent, MarketEvent, Names, PnlValues, proto};
use ferrotrade_model::{BookSide, Fill, InstrumentIndex, Level, OrderEvent, OrderEventKind, Price, Quote, UnixNanos};
use ferrotrade_oms::PnlSnapshot;
use ferrotrade_risk::{RiskEvent, TradingState};

use super::core::{LiveCore, NO_STRATEGY};
use super::event_loop::Engine;
use crate::feed::FeedEvent;

/// The engine's end of a running bus (the sender itself lives in the core, on the order path).
pub(crate) struct BusLink {
    pub handle: BusHandle,
    /// Builds reply bodies (snapshots) with the run's names.
    pub encoder: Encoder,
    pub depth: usize,
    pub trades: bool,
    /// The best bid and ask last published as a quote, per instrument.
    pub last_quote: Vec<Option<(Level, Level)>>,
    pub heartbeat_every: Duration,
    pub next_heartbeat: Instant,
    pub metrics_every: Duration,
    pub next_metrics: Instant,
    pub started: Instant,
}

/// The wire form of a trading state (the live engine's and the backtest bus tap's).
#[must_use]
pub fn wire_state(state: TradingState) -> proto::TradingState {
    match state {
        TradingState::Active => proto::TradingState::Active,
        TradingState::Reducing => proto::TradingState::Reducing,
        TradingState::Halted => proto::TradingState::Halted,
    }
}

pub(crate) fn pnl_values(pnl: &PnlSnapshot) -> PnlValues {
    PnlValues {
        equity: pnl.equity,
        realized: pnl.realized,
        unrealized: pnl.unrealized,
        fees: pnl.fees,
        funding: pnl.funding,
    }
}

/// The names the bus publishes under.
pub(crate) fn bus_names(core: &LiveCore, session: String, mode: &str) -> Names {
    Names::new(&core.instruments, core.strategy_names.clone(), session, mode)
}

impl LiveCore {
    /// Publishes an order event the OMS applied, with the order as it stands after it (and a risk
    /// rejection for a denial).
    pub(crate) fn publish_order(&mut self, event: &OrderEvent) {
        if self.bus.is_none() {
            return;
        }
        let strategy = self.owner_of(event.client_id).unwrap_or(NO_STRATEGY);
        let Some(order) = self.store.get(event.client_id).copied() else { return };
        let Some(bus) = self.bus.as_mut() else { return };
        bus.event(EngineEvent::Order {
            strategy,
            event: *event,
            request: order.request,
            status: order.status,
            filled: order.filled,
        });
        if let OrderEventKind::Denied(reason) = event.kind {
            bus.event(EngineEvent::Rejection {
                strategy,
                instrument: event.instrument,
                client_id: event.client_id,
                reason,
                ts: event.ts_recv,
            });
        }
    }

    /// Publishes a fill and what it changed: the account's and the owner's position and PnL.
    /// `account_pnl` is the account's PnL at `marks` (both just computed by the caller for the risk chain).
    pub(crate) fn publish_fill(
        &mut self,
        strategy: u16,
        fill: &Fill,
        account_pnl: &PnlSnapshot,
        marks: &[Option<(Price, u8)>],
    ) {
        if self.bus.is_none() {
            return;
        }
        let now = self.now;
        let owner_pnl = self.portfolios.get(usize::from(strategy)).map(|portfolio| portfolio.pnl(marks));
        let account_position = self.account.position(fill.instrument);
        let owner_position =
            self.portfolios.get(usize::from(strategy)).map(|portfolio| portfolio.position(fill.instrument));
        let Some(bus) = self.bus.as_mut() else { return };
        bus.event(EngineEvent::Fill { strategy, fill: *fill });
        let mut position = |owner: u16, position: ferrotrade_oms::Position| {
            bus.event(EngineEvent::Position {
                strategy: owner,
                instrument: fill.instrument,
                quantity: position.quantity,
                entry_value: position.entry_value,
                realized: position.realized_pnl,
                fees: position.fees,
                ts: now,
            });
        };
        position(ferrotrade_bus::NO_STRATEGY, account_position);
        if let Some(owned) = owner_position {
            position(strategy, owned);
        }
        bus.event(EngineEvent::Pnl { strategy: ferrotrade_bus::NO_STRATEGY, pnl: pnl_values(account_pnl), ts: now });
        if let Some(pnl) = owner_pnl {
            bus.event(EngineEvent::Pnl { strategy, pnl: pnl_values(&pnl), ts: now });
        }
    }

    /// Records a trading-state change (report and bus).
    pub(crate) fn on_risk_event(&mut self, event: RiskEvent) {
        self.counters.risk_events.push(format!("{event:?}"));
        if let Some(bus) = self.bus.as_mut() {
            bus.event(EngineEvent::StateChange {
                from: wire_state(event.from),
                to: wire_state(event.to),
                reason: event.reason,
                ts: event.ts,
            });
        }
    }

    /// Moves the trading state (operator command, kill); the change is reported and published.
    pub(crate) fn set_trading_state(&mut self, state: TradingState, reason: &'static str) {
        if let Some(event) = self.risk.set_state(self.now, state, reason) {
            self.on_risk_event(event);
        }
    }

    /// A strategy's signal, if the run has a bus and the name fits.
    pub(crate) fn publish_signal(
        &mut self,
        strategy: u16,
        name: &str,
        instrument: Option<InstrumentIndex>,
        value: f64,
    ) -> bool {
        let Some(bus) = self.bus.as_mut() else { return false };
        let Some(name) = ferrotrade_bus::SignalName::new(name) else { return false };
        bus.event(EngineEvent::Signal { strategy, name, instrument, value, ts: self.now });
        true
    }

    /// Publishes a parent order of `strategy`'s execution algorithms as it stands (accepted, or a status
    /// change); false without a bus.
    pub(crate) fn publish_parent(&mut self, strategy: u16, view: &ferrotrade_strategy::algo::AlgoView) -> bool {
        let Some(bus) = self.bus.as_mut() else { return false };
        use ferrotrade_bus::proto::ParentStatus as Wire;
        use ferrotrade_oms::ParentStatus;
        let status = match view.status {
            ParentStatus::Scheduled => Wire::Scheduled,
            ParentStatus::Working => Wire::Working,
            ParentStatus::Paused => Wire::Paused,
            ParentStatus::Canceling => Wire::Canceling,
            ParentStatus::Completed => Wire::Completed,
            ParentStatus::Canceled => Wire::Canceled,
            ParentStatus::Expired => Wire::Expired,
            ParentStatus::Failed => Wire::Failed,
        };
        bus.event(EngineEvent::Parent(Box::new(ferrotrade_bus::ParentUpdate {
            strategy,
            parent_id: view.id.0,
            algo: view.algo.as_str(),
            instrument: view.instrument,
            side: view.side,
            status,
            quantity: view.quantity,
            filled: view.filled,
            size_precision: view.size_precision,
            children: view.children,
            reason: view.reason.clone(),
            ts: self.now,
        })));
        true
    }

    /// The top `depth` levels of a book.
    pub(crate) fn book_top(
        &self,
        index: InstrumentIndex,
        depth: usize,
        ts_event: UnixNanos,
        ts_recv: UnixNanos,
    ) -> BookTop {
        let mut top = BookTop::empty(index);
        let book = &self.books[index.get()];
        top.set_side(true, book.depth(BookSide::Bid, depth));
        top.set_side(false, book.depth(BookSide::Ask, depth));
        top.ts_event = ts_event;
        top.ts_recv = ts_recv;
        top.synced = self.synced.get(index.get()).copied().unwrap_or(false);
        top
    }
}

impl Engine<'_> {
    /// Market summaries of the events one frame of feed `feed` produced.
    pub(crate) fn publish_market(&mut self, feed: usize, events: &[FeedEvent]) {
        let Some(link) = self.bus.as_mut() else { return };
        // Taken out for the loop (the books are read through the core meanwhile), put back after.
        let Some(mut bus) = self.core.bus.take() else { return };
        for event in events {
            match *event {
                FeedEvent::Book { index, ts_event, ts_recv } => {
                    if !bus.book_due(index, ts_recv) {
                        continue;
                    }
                    let mut top = self.core.book_top(index, link.depth, ts_event, ts_recv);
                    top.update_id = self.feeds.get(feed).map_or(0, |feed| feed.last_update_id(index));
                    bus.market(MarketEvent::Book(top));
                    if top.bid_count > 0 && top.ask_count > 0 {
                        let best = (top.bids[0], top.asks[0]);
                        let last = link.last_quote.get_mut(index.get());
                        if let Some(last) = last
                            && *last != Some(best)
                        {
                            *last = Some(best);
                            let quote = Quote { ts_event, ts_recv, sequence: top.update_id, bid: best.0, ask: best.1 };
                            bus.market(MarketEvent::Quote { instrument: index, quote });
                        }
                    }
                }
                FeedEvent::Trade { index, trade } if link.trades => {
                    bus.market(MarketEvent::Trade { instrument: index, trade });
                }
                _ => {}
            }
        }
        self.core.bus = Some(bus);
    }

    /// Heartbeat and metrics when due (called on the control tick), and the overflow moved on.
    pub(crate) fn publish_health(&mut self, force: bool) {
        let now = crate::clock::now_instant();
        let Some(link) = self.bus.as_mut() else { return };
        let heartbeat = force || now >= link.next_heartbeat;
        let metrics = force || now >= link.next_metrics;
        if heartbeat {
            link.next_heartbeat = now + link.heartbeat_every;
        }
        if metrics {
            link.next_metrics = now + link.metrics_every;
        }
        let state = wire_state(self.core.risk.state());
        let figures = metrics.then(|| Box::new(self.metrics_message(state)));
        let ts = self.core.now;
        let Some(bus) = self.core.bus.as_mut() else { return };
        bus.flush();
        if heartbeat {
            bus.event(EngineEvent::Heartbeat { state, ts });
        }
        if let Some(figures) = figures {
            bus.event(EngineEvent::Metrics(figures));
        }
    }

    /// The engine's figures now (the `metrics` topic and `/metrics`).
    pub(crate) fn metrics_message(&self, state: proto::TradingState) -> proto::Metrics {
        let core = &self.core;
        let pnl = core.account.pnl(&core.marks());
        let feeds = self
            .feeds
            .iter()
            .map(|feed| {
                let stats = feed.stats();
                proto::FeedHealth {
                    venue: feed.venue().as_str().to_owned(),
                    messages: stats.instruments.iter().map(|instrument| instrument.messages).sum(),
                    resyncs: stats.instruments.iter().map(|instrument| instrument.resyncs).sum(),
                    reconnects: stats.connections.iter().map(|connection| connection.reconnects).sum(),
                    rollovers: stats.connections.iter().map(|connection| connection.rollovers).sum(),
                    synced: stats.instruments.iter().filter(|instrument| instrument.synced).count() as u32,
                    instruments: stats.instruments.len() as u32,
                    trades_lost: stats.instruments.iter().map(|instrument| instrument.trades_lost).sum(),
                }
            })
            .collect();
        let labeled = |pairs: &mut dyn Iterator<Item = (&str, u64)>| -> Vec<proto::LabeledCount> {
            pairs.map(|(label, count)| proto::LabeledCount { label: label.to_owned(), count }).collect()
        };
        proto::Metrics {
            ts_ns: core.now.0,
            latency: core
                .metrics
                .summary()
                .into_iter()
                .map(|stage| proto::StageLatency {
                    stage: stage.stage.to_owned(),
                    count: stage.count,
                    p50_ns: stage.p50_ns,
                    p99_ns: stage.p99_ns,
                    p999_ns: stage.p999_ns,
                    max_ns: stage.max_ns,
                })
                .collect(),
            feeds,
            messages: core.metrics.messages,
            messages_per_second: core.metrics.messages_per_second(crate::clock::now_instant()),
            orders: core.counters.orders,
            cancels: core.counters.cancels,
            amends: core.counters.amends,
            fills: core.counters.fills,
            open_orders: self.open_orders() as u64,
            denials: labeled(
                &mut core
                    .risk
                    .counters()
                    .iter()
                    .filter(|(_, count)| *count > 0)
                    .map(|(reason, count)| (reason.code(), count)),
            ),
            rejections: labeled(&mut core.counters.rejects.iter().map(|(code, count)| (*code, *count))),
            equity: pnl.equity.to_string(),
            realized_pnl: pnl.realized.to_string(),
            fees: pnl.fees.to_string(),
            state: state as i32,
        }
    }

    /// Final heartbeat and metrics, then the bus drains and stops (bounded); its counters.
    pub(crate) fn close_bus(&mut self) -> Option<ferrotrade_bus::BusStats> {
        self.publish_health(true);
        let link = self.bus.take()?;
        let sender = self.core.bus.take()?;
        Some(link.handle.finish(sender, Duration::from_secs(2)))
    }
}
