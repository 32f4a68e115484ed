//! [`Engine`]: the state of a run and its async loop (see the module docs of [`crate::engine`]).

use std::future::poll_fn;
use std::task::Poll;
use std::time::Duration;

use ferrotrade_model::InstrumentIndex;
use ferrotrade_strategy::Strategy;
use tokio::time::MissedTickBehavior;

use super::core::{LiveCore, NO_STRATEGY};
use crate::config::UnknownOrders;
use crate::feed::{FeedEvent, FeedInput, MarketFeed};
use crate::gateway::{Gateway, GatewayEvent};
use crate::run::{LiveCommand, LiveHooks, LiveStatus};

/// How often the hooks are asked whether to stop (the pybind layer checks Python signals there).
const CONTROL_TICK: Duration = Duration::from_millis(100);
/// How long the start waits for the first reconciliation before the strategies start anyway.
const START_RECONCILE_TIMEOUT: Duration = Duration::from_secs(10);

/// A run: the core, the strategies, the feeds.
pub(crate) struct Engine<'s> {
    pub core: LiveCore,
    pub strategies: Vec<Box<dyn Strategy + 's>>,
    /// Subscribers per instrument, per kind slot (book, trades, bars, mark).
    pub subscribers: Vec<[Vec<u16>; 4]>,
    pub feeds: Vec<MarketFeed>,
    pub events: Vec<FeedEvent>,
    pub unknown_orders: UnknownOrders,
    pub reconcile_every: Option<Duration>,
    /// How often the gateways warm their order path (`[live] busy_poll`; see `Gateway::warm`).
    pub warm_every: Option<Duration>,
    pub stop_timeout: Duration,
    pub snapshots_pending: usize,
    pub stopped_by: Option<String>,
    /// The monitoring bus (`[bus]`): its command channel and publishing state.
    pub bus: Option<super::monitor::BusLink>,
    /// A kill command being carried out.
    pub kill: Option<super::control::Kill>,
}

/// What woke the loop.
enum Wake {
    Gateway(GatewayEvent),
    Feed(usize, FeedInput),
    Timer,
    Control,
    Reconcile,
    Warm,
    Command(ferrotrade_bus::ControlRequest),
}

/// The next frame of any feed (pending forever without feeds).
///
/// # Cancel safety
/// Cancel safe: `MarketFeed::next_input` is, and nothing else is awaited.
async fn next_frame(feeds: &mut [MarketFeed]) -> (usize, FeedInput) {
    match feeds {
        [] => std::future::pending().await,
        [feed] => (0, feed.next_input().await),
        _ => {
            // One boxed future per feed and wake-up: only runs with several venues, and keeps every
            // feed's socket polled without a task per feed (the books stay on this thread).
            let futures = feeds
                .iter_mut()
                .enumerate()
                .map(|(index, feed)| Box::pin(async move { (index, feed.next_input().await) }));
            futures_util::future::select_all(futures).await.0
        }
    }
}

/// The next operator command from the bus (pending forever without a bus, or once it stopped).
///
/// # Cancel safety
/// Cancel safe: `mpsc::Receiver::recv` is.
async fn next_command(bus: &mut Option<super::monitor::BusLink>) -> ferrotrade_bus::ControlRequest {
    let Some(link) = bus.as_mut() else { return std::future::pending().await };
    match link.handle.commands.recv().await {
        Some(request) => request,
        None => std::future::pending().await,
    }
}

/// The next event of any gateway.
///
/// # Cancel safety
/// Cancel safe: `Gateway::poll_event` only hands out an event when it returns `Ready`.
async fn next_gateway_event(gateways: &mut [Box<dyn Gateway>]) -> GatewayEvent {
    poll_fn(|cx| {
        for gateway in gateways.iter_mut() {
            if let Poll::Ready(event) = gateway.poll_event(cx) {
                return Poll::Ready(event);
            }
        }
        Poll::Pending
    })
    .await
}

impl Engine<'_> {
    fn tick_now(&mut self) {
        let now = self.core.clock.now();
        if now > self.core.now {
            self.core.now = now;
        }
    }

    fn status(&self) -> LiveStatus {
        LiveStatus {
            now: self.core.now,
            messages: self.core.metrics.messages,
            orders: self.core.counters.orders,
            fills: self.core.counters.fills,
            open_orders: self.open_orders(),
            synced: self.core.synced.clone(),
            backfilling: self.feeds.iter().any(MarketFeed::is_backfilling),
        }
    }

    /// Orders open now (working, or possibly working, at the venue).
    pub(crate) fn open_orders(&self) -> usize {
        self.core.store.iter().filter(|order| order.status.is_open()).count()
    }

    /// Instruments whose account position is not flat.
    pub(crate) fn open_positions(&self) -> usize {
        (0..self.core.instruments.len())
            .filter(|&index| self.core.account.position(InstrumentIndex(index as u32)).quantity.0 != 0)
            .count()
    }

    /// Asks every gateway for a snapshot to reconcile against.
    fn request_snapshots(&mut self) {
        for gateway in &mut self.core.gateways {
            gateway.request_snapshot();
        }
        self.snapshots_pending = self.core.gateways.len();
    }

    /// The start: reconcile (bounded wait), then `on_start` of every strategy.
    pub(crate) async fn start(&mut self, hooks: &mut dyn LiveHooks) {
        self.tick_now();
        self.request_snapshots();
        let deadline = tokio::time::Instant::now() + START_RECONCILE_TIMEOUT;
        while self.snapshots_pending > 0 && !self.failed() {
            tokio::select! {
                event = next_gateway_event(&mut self.core.gateways) => {
                    self.tick_now();
                    self.on_gateway_event(event);
                }
                () = tokio::time::sleep_until(deadline) => {
                    self.core.counters.notice("start: no reconciliation answer within 10 s".into());
                    break;
                }
            }
        }
        for index in 0..self.strategies.len() {
            self.tick_now();
            let index = index as u16;
            self.call_start(index);
        }
        self.core.commit_journal();
        hooks.on_ready(&self.status());
    }

    fn call_start(&mut self, index: u16) {
        if self.failed() {
            return;
        }
        let Some(strategy) = self.strategies.get_mut(usize::from(index)) else { return };
        let mut ctx = super::context::LiveContext { core: &mut self.core, strategy: index };
        if let Err(error) = strategy.on_start(&mut ctx) {
            let name = strategy.name().to_owned();
            self.core.fault.get_or_insert(crate::LiveError::Strategy { strategy: name, message: error.message });
        }
        self.deliver_outbox();
    }

    /// Runs until a stop (hooks, command, fault).
    pub(crate) async fn run(&mut self, hooks: &mut dyn LiveHooks) {
        let mut control = tokio::time::interval(CONTROL_TICK);
        control.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let period = self.reconcile_every.unwrap_or(Duration::from_secs(365 * 24 * 3600));
        let mut reconcile = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        reconcile.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let warm_period = self.warm_every.unwrap_or(period);
        let mut warm = tokio::time::interval_at(tokio::time::Instant::now() + warm_period, warm_period);
        warm.set_missed_tick_behavior(MissedTickBehavior::Skip);
        let mut events = std::mem::take(&mut self.events);
        loop {
            if self.failed() {
                self.stopped_by.get_or_insert_with(|| "fault".into());
                break;
            }
            let next_timer =
                self.core.timers.peek().map(|fire| self.core.clock.instant_of(ferrotrade_model::UnixNanos(fire.0.at)));
            let timer_at =
                tokio::time::Instant::from_std(next_timer.unwrap_or_else(|| crate::clock::now_instant() + period));
            let wake = tokio::select! {
                biased;
                event = next_gateway_event(&mut self.core.gateways) => Wake::Gateway(event),
                (feed, input) = next_frame(&mut self.feeds) => Wake::Feed(feed, input),
                () = tokio::time::sleep_until(timer_at), if next_timer.is_some() => Wake::Timer,
                _ = control.tick() => Wake::Control,
                _ = reconcile.tick(), if self.reconcile_every.is_some() => Wake::Reconcile,
                _ = warm.tick(), if self.warm_every.is_some() => Wake::Warm,
                request = next_command(&mut self.bus) => Wake::Command(request),
            };
            match wake {
                Wake::Feed(feed, input) => {
                    let received_at = input.received_at;
                    if input.is_frame() {
                        self.core.metrics.frame(received_at, crate::clock::now_instant());
                    } else {
                        self.core.metrics.other_input(received_at);
                    }
                    let now = self.core.clock.at(received_at);
                    if now > self.core.now {
                        self.core.now = now;
                    }
                    events.clear();
                    if let Some(feed) = self.feeds.get_mut(feed) {
                        feed.process(input, &mut self.core.books, &mut events);
                    }
                    if events.iter().any(|event| matches!(event, FeedEvent::Book { .. })) {
                        self.core.metrics.book(crate::clock::now_instant());
                    }
                    self.dispatch_market(&events);
                    self.core.metrics.end_message();
                    if self.bus.is_some() {
                        self.publish_market(feed, &events);
                    }
                }
                Wake::Gateway(event) => {
                    self.tick_now();
                    self.on_gateway_event(event);
                    if self.kill.is_some() {
                        self.advance_kill();
                    }
                }
                Wake::Command(request) => {
                    self.tick_now();
                    self.on_command(request);
                }
                Wake::Timer => {
                    self.tick_now();
                    self.fire_timers();
                }
                Wake::Control => {
                    self.tick_now();
                    while let Some(command) = hooks.next_command() {
                        if self.command(command) {
                            self.stopped_by.get_or_insert_with(|| "stop command".into());
                        }
                    }
                    if hooks.should_stop() {
                        self.stopped_by.get_or_insert_with(|| "stop requested".into());
                    }
                    if self.kill.is_some() {
                        self.advance_kill();
                    }
                    self.publish_health(false);
                    hooks.on_status(&self.status());
                    if self.stopped_by.is_some() {
                        break;
                    }
                }
                Wake::Reconcile => {
                    self.tick_now();
                    self.request_snapshots();
                }
                Wake::Warm => self.core.warm_order_path(),
            }
            // What handling this input journaled is written before the loop waits for the next one.
            self.core.commit_journal();
        }
        self.events = events;
    }

    /// Applies an operator command; returns `true` for a stop.
    fn command(&mut self, command: LiveCommand) -> bool {
        match command {
            LiveCommand::Stop => return true,
            LiveCommand::Halt => self.core.set_trading_state(ferrotrade_risk::TradingState::Halted, "operator halt"),
            LiveCommand::Resume => {
                self.core.set_trading_state(ferrotrade_risk::TradingState::Active, "operator resume")
            }
            LiveCommand::CancelAll => {
                self.core.cancel_all(NO_STRATEGY, None);
                self.deliver_outbox();
            }
        }
        false
    }

    /// The stop: trades still held for a backfill are delivered (their gap counted lost), `on_stop`,
    /// optional cancel of every open order with a bounded wait for the answers, journal flush.
    pub(crate) async fn shutdown(&mut self, cancel_on_stop: bool) {
        self.abort_kill();
        let mut events = std::mem::take(&mut self.events);
        for feed in 0..self.feeds.len() {
            events.clear();
            self.feeds[feed].release_held(&mut events);
            self.dispatch_market(&events);
        }
        self.events = events;
        for index in 0..self.strategies.len() {
            self.tick_now();
            let Some(strategy) = self.strategies.get_mut(index) else { continue };
            let mut ctx = super::context::LiveContext { core: &mut self.core, strategy: index as u16 };
            // on_stop runs even after a fault; its own error is reported only if nothing failed before.
            if let Err(error) = strategy.on_stop(&mut ctx) {
                let name = strategy.name().to_owned();
                self.core.fault.get_or_insert(crate::LiveError::Strategy { strategy: name, message: error.message });
            }
            self.core.outbox.clear();
        }
        if cancel_on_stop {
            self.tick_now();
            self.core.cancel_all(NO_STRATEGY, None);
            self.core.outbox.clear();
            let deadline = tokio::time::Instant::now() + self.stop_timeout;
            while self.open_orders() > 0 {
                tokio::select! {
                    event = next_gateway_event(&mut self.core.gateways) => {
                        self.tick_now();
                        match event {
                            GatewayEvent::Order(order) => {
                                self.core.on_venue_event(order);
                                // An order whose amend was in flight could not be cancelled above: now it can.
                                self.core.cancel_all(NO_STRATEGY, None);
                            }
                            GatewayEvent::Notice(text) => self.core.counters.notice(text),
                            GatewayEvent::Connection { up } => self.core.counters.gateway_disconnects += u64::from(!up),
                            // The strategies are stopped: nothing reconciles against a late snapshot.
                            GatewayEvent::Snapshot(_) => {}
                        }
                        self.core.outbox.clear();
                    }
                    // The feeds' connections run only while their inputs are awaited: they keep answering
                    // pings and reading, and what they read after the stop is not handled.
                    _ = next_frame(&mut self.feeds) => {}
                    () = tokio::time::sleep_until(deadline) => {
                        self.core.counters.notice(format!("stop: {} orders still open after the cancel timeout", self.open_orders()));
                        break;
                    }
                }
            }
        }
        if let Err(error) = self.core.journal.flush() {
            self.core.fault.get_or_insert(error);
        }
    }
}
